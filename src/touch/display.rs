//! `touch`'s wording: the table and markdown document, and the JSON.

use serde_json::json;

use super::{DummyChange, RebuildCause, TouchReport};
use crate::render::document::Block;

/// Why, in words.
pub fn cause_text(cause: &RebuildCause) -> String {
    match cause {
        RebuildCause::InSource { file } => format!("{file} is in its src"),
        RebuildCause::NewDirectory { file, directory } => format!(
            "{file} is new: its filter drops it but keeps every directory, so the new directory {directory}/ appears in its src (empty)"
        ),
        RebuildCause::DummySource { file, change } => {
            let what = match change {
                DummyChange::Lock => "the lock file is copied into it as is".to_string(),
                DummyChange::Config => "cargo configs are copied into it as is".to_string(),
                DummyChange::Manifest(keys) => {
                    format!("the cleaned manifest changes ({})", keys.join(", "))
                }
                DummyChange::TargetAdded => "a new target gets a dummy file".to_string(),
                DummyChange::TargetRemoved => "a target's dummy file goes".to_string(),
            };
            format!("{file} changes its dummy source (mkDummySrc): {what}")
        }
        RebuildCause::Inherits { phase } => {
            format!("it starts from `{phase}`'s artifacts, which rebuild")
        }
        RebuildCause::SourceUnknown { file } => {
            format!("{file} is in the workspace (src not known as files)")
        }
    }
}

/// The document of `cache-miss touch`.
pub fn touch_document(report: &TouchReport) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("cache-miss touch".to_string()),
        Block::Lines(vec![
            format!("workspace: {}", report.workspace_root),
            format!("compared with: {}", report.base),
            format!(
                "files: {}",
                if report.files.is_empty() {
                    "none changed".to_string()
                } else {
                    report.files.join(", ")
                }
            ),
        ]),
    ];
    let rows = report
        .phases
        .iter()
        .map(|phase| {
            let mut why: Vec<String> = phase.causes.iter().map(cause_text).collect();
            why.extend(
                phase
                    .approximations
                    .iter()
                    .map(|a| format!("approximate: {a}")),
            );
            let recompiles = if !phase.rebuilds {
                "-".to_string()
            } else if phase.recompiles.is_empty() {
                "nothing of the workspace".to_string()
            } else {
                phase.recompiles.join("\n")
            };
            vec![
                phase.name.clone(),
                if phase.rebuilds { "yes" } else { "no" }.to_string(),
                if why.is_empty() {
                    "-".to_string()
                } else {
                    why.join("\n")
                },
                recompiles,
            ]
        })
        .collect();
    blocks.push(Block::Table {
        headers: ["phase", "rebuilds", "why", "cargo recompiles"]
            .map(String::from)
            .to_vec(),
        rows,
        emphasized: Some(1),
    });
    let changes: Vec<String> = report
        .phases
        .iter()
        .filter(|p| !p.resolution_changes.is_empty())
        .map(|p| format!("{}: {}", p.name, p.resolution_changes.join("; ")))
        .collect();
    if !changes.is_empty() {
        blocks.push(Block::Heading(format!(
            "resolved units that differ from {}",
            report.base
        )));
        blocks.push(Block::Lines(changes));
    }
    blocks
}

/// `{"version":1,"files":[…],"phases":[{"name","rebuilds","why","recompiles","approximate"}]}`.
pub fn touch_json(report: &TouchReport) -> String {
    let phases: Vec<serde_json::Value> = report
        .phases
        .iter()
        .map(|phase| {
            json!({
                "name": phase.name,
                "rebuilds": phase.rebuilds,
                "why": phase.causes.iter().map(cause_text).collect::<Vec<_>>(),
                "causes": phase.causes,
                "recompiles": phase.recompiles,
                "resolution_changes": phase.resolution_changes,
                "approximate": phase.approximate(),
                "approximations": phase.approximations,
            })
        })
        .collect();
    let document = json!({
        "version": 1,
        "workspace_root": report.workspace_root,
        "base": report.base,
        "files": report.files,
        "phases": phases,
    });
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}
