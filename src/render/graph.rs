//! The phase graph: a node per phase (name, crane function, how much of it is served), an
//! edge per inherited artifact; drawn as a Mermaid flowchart (markdown) or Graphviz DOT.
//! Node ids are the renderer's own (`p0`, `p1`); every text from the user's files reaches
//! a diagram only through [`mermaid_text`] or [`dot_text`].

use std::fmt::Write;

use crate::text;

/// Above this many phases, the graph shows deps-only phases and phases with misses only.
pub(crate) const PHASES_DRAWN: usize = 40;

/// How a phase stands, told apart by class and by the node's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeClass {
    /// A deps-only phase: it builds the artifact.
    DepsOnly,
    /// Every unit it inherits is served.
    Served,
    /// Some units miss.
    Misses,
    /// Not analysed (failed, not evaluable, excluded).
    NotAnalysed,
}

impl NodeClass {
    fn name(self) -> &'static str {
        match self {
            NodeClass::DepsOnly => "depsonly",
            NodeClass::Served => "served",
            NodeClass::Misses => "misses",
            NodeClass::NotAnalysed => "notanalysed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GraphNode {
    pub name: String,
    pub function: String,
    /// `served 3/20, 17 missing`, `builds the artifact`, `all 12 served`.
    pub status: String,
    pub class: NodeClass,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhaseGraph {
    pub nodes: Vec<GraphNode>,
    /// (from, to) as indices into `nodes`: `to` inherits `from`'s artifact.
    pub edges: Vec<(usize, usize)>,
    /// How many fully served phases were left out (above [`PHASES_DRAWN`] phases).
    pub left_out: usize,
}

/// A Mermaid flowchart (without the code fence).
pub fn mermaid(graph: &PhaseGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, node) in graph.nodes.iter().enumerate() {
        let _ = writeln!(
            out,
            "  p{i}[\"{}<br/>{}<br/>{}\"]:::{}",
            mermaid_text(&node.name),
            mermaid_text(&node.function),
            mermaid_text(&node.status),
            node.class.name()
        );
    }
    for (from, to) in &graph.edges {
        let _ = writeln!(out, "  p{from} --> p{to}");
    }
    out.push_str(
        "  classDef depsonly fill:#dbeafe,stroke:#1e40af\n  classDef served fill:#dcfce7,stroke:#166534\n  classDef misses fill:#fee2e2,stroke:#991b1b,stroke-width:3px,stroke-dasharray:6 3\n  classDef notanalysed fill:#f3f4f6,stroke:#6b7280\n",
    );
    out
}

/// Text for inside a quoted Mermaid label: one line, every character other than letters,
/// digits, spaces and `@._/(),` written as Mermaid's entity code (`#35;`), so no quote,
/// bracket, arrow, comment, backtick or markup can end the label or reach the page.
pub fn mermaid_text(raw: &str) -> String {
    let line = text::one_line(raw);
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_ascii_alphanumeric() || " @._/(),".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

/// A Graphviz digraph.
pub fn dot(graph: &PhaseGraph, title: &str) -> String {
    let mut out = String::from(
        "digraph phases {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n",
    );
    let _ = writeln!(out, "  label=\"{}\";\n  labelloc=t;", dot_text(title));
    for (i, node) in graph.nodes.iter().enumerate() {
        let (fill, extra) = match node.class {
            NodeClass::DepsOnly => ("#dbeafe", ""),
            NodeClass::Served => ("#dcfce7", ""),
            NodeClass::Misses => ("#fee2e2", ", penwidth=3, style=\"rounded,filled,dashed\""),
            NodeClass::NotAnalysed => ("#f3f4f6", ""),
        };
        let _ = writeln!(
            out,
            "  p{i} [label=\"{}\\n{}\\n{}\", class=\"{}\", fillcolor=\"{fill}\"{extra}];",
            dot_text(&node.name),
            dot_text(&node.function),
            dot_text(&node.status),
            node.class.name()
        );
    }
    for (from, to) in &graph.edges {
        let _ = writeln!(out, "  p{from} -> p{to};");
    }
    out.push_str("}\n");
    out
}

/// Text for inside a double-quoted DOT string: one line, with `\` and `"` escaped (a DOT
/// label reads `\n`, `\l`, `\N` as escapes, so a backslash must not reach it bare).
pub fn dot_text(raw: &str) -> String {
    text::one_line(raw)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// The line under a graph that left phases out.
pub fn left_out_line(graph: &PhaseGraph) -> Option<String> {
    (graph.left_out > 0).then(|| {
        format!(
            "{} fully served phase{} left out of the graph (more than {PHASES_DRAWN} phases).",
            graph.left_out,
            if graph.left_out == 1 { "" } else { "s" }
        )
    })
}
