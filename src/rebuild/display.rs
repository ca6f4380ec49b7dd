//! `why-rebuild` (and `touch --nix`) for people and for machines.

use serde_json::json;

use super::walk::Why;
use super::{PhaseRebuild, RebuildReport};
use crate::render::document::Block;

/// How many files or lines of one cause are named before "and N more".
const SHOWN: usize = 5;

/// One line per leaf, the path to it in front: `cargoArtifacts → cargo-package-deps →
/// nativeBuildInputs: crane's hook inheritCargoArtifactsHook changed (a crane update)`.
pub(crate) fn why_lines(causes: &[Why]) -> Vec<String> {
    let mut lines = Vec::new();
    for cause in causes {
        leaf_lines(cause, "", &mut lines);
    }
    lines.dedup();
    lines
}

fn leaf_lines(cause: &Why, path: &str, lines: &mut Vec<String>) {
    let at = |attr: &str| format!("{path}{attr}");
    match cause {
        Why::Files {
            attr,
            changed,
            added,
            removed,
        } => {
            let mut parts = Vec::new();
            for (what, files) in [("changed", changed), ("added", added), ("removed", removed)] {
                if !files.is_empty() {
                    parts.push(format!("{what} {}", few(files)));
                }
            }
            if parts.is_empty() {
                parts.push("its files are the same, its name or mode differs".to_string());
            }
            lines.push(format!("{}: files {}", at(attr), parts.join("; ")));
        }
        Why::Version {
            attr,
            name,
            old,
            new,
        } => lines.push(format!("{}: {name} {old} → {new}", at(attr))),
        Why::Hook { attr, name } => lines.push(format!(
            "{}: crane's hook `{name}` changed (a crane update)",
            at(attr)
        )),
        Why::Attribute {
            attr,
            removed,
            added,
        } => {
            let mut parts = Vec::new();
            if !removed.is_empty() {
                parts.push(format!("- {}", few(removed)));
            }
            if !added.is_empty() {
                parts.push(format!("+ {}", few(added)));
            }
            lines.push(format!("{}: {}", at(attr), parts.join(" ")));
        }
        Why::Input {
            attr,
            name,
            because,
        } => {
            let inner = format!("{path}{attr} → {name} → ");
            if because.is_empty() {
                lines.push(format!("{path}{attr}: {name} changed"));
            }
            for cause in because {
                leaf_lines(cause, &inner, lines);
            }
        }
        Why::Keys { attr, changes } => {
            let shown: Vec<String> = changes
                .iter()
                .take(SHOWN)
                .map(|change| {
                    format!(
                        "{} {} → {}",
                        crate::text::one_line(&change.key),
                        crate::text::one_line(change.old.as_deref().unwrap_or("(none)")),
                        crate::text::one_line(change.new.as_deref().unwrap_or("(none)"))
                    )
                })
                .collect();
            let more = match changes.len().saturating_sub(SHOWN) {
                0 => String::new(),
                more => format!(" and {more} more"),
            };
            lines.push(format!("{}: {}{more}", at(attr), shown.join("; ")));
        }
        Why::Unknown { name } => lines.push(format!("{path}{name}: not comparable")),
    }
}

/// `a, b, c and 4 more`, each shown on one line.
fn few(items: &[String]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(SHOWN)
        .map(|item| format!("`{}`", crate::text::one_line(item.trim())))
        .collect();
    match items.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The report as blocks for the table and markdown renderers.
pub fn rebuild_document(report: &RebuildReport) -> Vec<Block> {
    let rebuilt: Vec<&PhaseRebuild> = report.phases.iter().filter(|p| p.rebuilds).collect();
    let mut blocks = vec![
        Block::Heading(format!(
            "cache-miss why-rebuild {} → {}",
            report.from, report.to
        )),
        Block::Lines(
            [
                format!("old: {}", report.old_source),
                format!("new: {}", report.new_source),
                format!(
                    "{} of {} crane derivations rebuild",
                    rebuilt.len(),
                    report.phases.len()
                ),
            ]
            .into_iter()
            .chain(report.warnings.iter().map(|w| format!("warning: {w}")))
            .collect(),
        ),
    ];
    let rows = report
        .phases
        .iter()
        .map(|phase| {
            let mut name = phase.name.clone();
            if !phase.aliases.is_empty() {
                name.push_str(&format!(" (also {})", phase.aliases.join(", ")));
            }
            let why = match (phase.rebuilds, phase.only_in) {
                (false, _) => "-".to_string(),
                (true, Some(side)) => side.to_string(),
                (true, None) => why_lines(&phase.causes).join("\n"),
            };
            vec![
                name,
                phase.function.clone(),
                if phase.rebuilds { "yes" } else { "no" }.to_string(),
                why,
                recompiled(phase),
            ]
        })
        .collect();
    blocks.push(Block::Table {
        headers: [
            "derivation",
            "function",
            "rebuilds",
            "why",
            "cargo compiles",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        emphasized: Some(2),
    });
    blocks
}

fn recompiled(phase: &PhaseRebuild) -> String {
    let Some(r) = &phase.recompiles else {
        return if phase.rebuilds { "?" } else { "-" }.to_string();
    };
    if r.compiles_nothing {
        return format!("nothing: {} compiles nothing", phase.function);
    }
    let mut text = format!("{} workspace units", r.workspace_units);
    if r.dependency_units > 0 {
        text.push_str(&format!(", {} dependency units", r.dependency_units));
    }
    text
}

/// `why-rebuild --format json`.
pub fn rebuild_json(report: &RebuildReport) -> String {
    let phases: Vec<serde_json::Value> = report
        .phases
        .iter()
        .map(|phase| {
            json!({
                "name": phase.name,
                "aliases": phase.aliases,
                "function": phase.function,
                "rebuilds": phase.rebuilds,
                "only_in": phase.only_in,
                "why": why_lines(&phase.causes),
                "causes": phase.causes,
                "recompiles": phase.recompiles,
            })
        })
        .collect();
    let document = json!({
        "version": 1,
        "from": report.from,
        "to": report.to,
        "old_source": report.old_source,
        "new_source": report.new_source,
        "phases": phases,
        "warnings": report.warnings,
    });
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}
