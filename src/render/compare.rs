//! `phases --compare`: the static reading against Nix's, as a document and as JSON.

use serde::Serialize;

use super::document::Block;
use crate::source::compare::Difference;

/// The comparison as blocks for the table and markdown renderers.
pub fn compare_document(
    static_source: &str,
    nix_source: &str,
    differences: &[Difference],
) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("cache-miss phases --compare".to_string()),
        Block::Lines(vec![
            format!("static: {static_source}"),
            format!("nix: {nix_source}"),
        ]),
    ];
    if differences.is_empty() {
        blocks.push(Block::Lines(vec![
            "no difference: the static reader reads every phase as Nix does".to_string(),
        ]));
        return blocks;
    }
    let rows = differences
        .iter()
        .map(|d| {
            let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_string());
            vec![
                d.phase.clone(),
                d.what.to_string(),
                shown(&d.static_value),
                shown(&d.nix),
            ]
        })
        .collect();
    blocks.push(Block::Lines(vec![format!(
        "{} difference{}:",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" }
    )]));
    blocks.push(Block::Table {
        headers: ["phase", "differs in", "static reader", "nix"]
            .map(String::from)
            .to_vec(),
        rows,
        emphasized: Some(1),
    });
    blocks
}

#[derive(Serialize)]
struct JsonCompare<'a> {
    version: u32,
    #[serde(rename = "static")]
    static_source: &'a str,
    nix: &'a str,
    same: bool,
    differences: &'a [Difference],
}

/// `phases --compare --format json`.
pub fn render_compare(static_source: &str, nix_source: &str, differences: &[Difference]) -> String {
    let json = JsonCompare {
        version: super::json::VERSION,
        static_source,
        nix: nix_source,
        same: differences.is_empty(),
        differences,
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}
