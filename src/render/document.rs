//! The document model: headings, tables and lines, independent of how they are drawn.
//! Each command words its own document (`report/display.rs`, `fix/display.rs`, ...);
//! the backends beside this file draw it.

/// A piece of a rendered document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(String),
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
        /// The column whose cells a colour terminal shows emphasized (a miss's reason).
        emphasized: Option<usize>,
    },
    Lines(Vec<String>),
    /// Text shown verbatim (a Nix snippet).
    Code(String),
    /// Detail that markdown folds away under `summary` (`<details>`); tables show it.
    Fold {
        summary: String,
        blocks: Vec<Block>,
    },
    /// The phase graph: a picture in markdown (Mermaid) and DOT; a terminal leaves it out
    /// (the summary table says the same).
    Graph(super::graph::PhaseGraph),
    /// Detail only a page shows, folded under `summary` (markdown's `<details>`, HTML); a
    /// terminal leaves it out (a phase's cascade).
    Detail {
        summary: String,
        blocks: Vec<Block>,
    },
}
