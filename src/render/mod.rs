//! Printing a report: a document model shared by the table and markdown renderers, and
//! the JSON contract.

pub mod document;
pub mod json;
pub mod markdown;
pub mod table;

/// Output format of `cache-miss report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

#[cfg(test)]
mod tests;
