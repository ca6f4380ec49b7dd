//! Drawing documents: the `Block` model every command's display code builds, its
//! backends (table, markdown, GitHub, HTML, DOT), and the JSON contract.

pub(crate) mod compare;
pub(crate) mod document;
pub mod graph;
pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

/// Output format of `cache-miss report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    /// GitHub Actions annotations, then the table; the markdown report is appended to
    /// `$GITHUB_STEP_SUMMARY` when set.
    Github,
    /// The phase graph in Graphviz DOT (`report` and `fix`).
    Dot,
    /// One self-contained page: the tables, findings and fix lines, the phase graph as SVG.
    Html,
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
pub(crate) mod tests;
