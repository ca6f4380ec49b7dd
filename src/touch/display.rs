//! `touch`'s wording: the table and markdown document, and the JSON.

use std::collections::BTreeMap;

use serde_json::json;

use super::{DummyChange, PhaseTouch, RebuildCause, TouchReport};
use crate::render::document::Block;
use crate::report::display::RootRows;
use crate::text::thousands;

/// How many files, causes or units the table lists before it summarises them (the JSON
/// always has them all).
const LISTED: usize = 20;
/// How many units a phase's row names before counting the rest (all with `--all`).
const UNITS_SHOWN: usize = 5;

/// Why, in words.
pub(super) fn cause_text(cause: &RebuildCause) -> String {
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

/// The document of `cache-miss touch`; `shown`: whether each row names every unit its
/// phase recompiles or the first few.
pub fn touch_document(report: &TouchReport, shown: RootRows) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("cache-miss touch".to_string()),
        Block::Lines(vec![
            format!("workspace: {}", report.workspace_root),
            format!("compared with: {}", report.base),
            format!(
                "edited: {}",
                report.to.as_deref().unwrap_or("the work tree")
            ),
            format!(
                "files: {}",
                if report.files.is_empty() {
                    "none changed".to_string()
                } else if report.files.len() <= LISTED {
                    report.files.join(", ")
                } else {
                    format!(
                        "{} in {}",
                        count(report.files.len(), "file"),
                        by_directory(&report.files)
                    )
                }
            ),
        ]),
    ];
    let whys: Vec<Vec<String>> = report.phases.iter().map(why_text).collect();
    // A why every rebuilt phase shares is said once, above the table.
    let rebuilt: Vec<&Vec<String>> = report
        .phases
        .iter()
        .zip(&whys)
        .filter(|(phase, _)| phase.rebuilds)
        .map(|(_, why)| why)
        .collect();
    let shared = match rebuilt.as_slice() {
        [first, rest @ ..] if !rest.is_empty() && !first.is_empty() => rest
            .iter()
            .all(|why| why == first)
            .then(|| (*first).clone()),
        _ => None,
    };
    if let Some(why) = &shared {
        blocks.push(Block::Lines(
            std::iter::once("why, for every phase that rebuilds:".to_string())
                .chain(why.iter().map(|line| format!("  {line}")))
                .collect(),
        ));
    }
    let rows = report
        .phases
        .iter()
        .zip(whys)
        .map(|(phase, why)| {
            let recompiles = if !phase.rebuilds {
                "-".to_string()
            } else if let Some(function) = phase.compiles_nothing {
                format!("nothing: {function} compiles nothing")
            } else if phase.recompiles.is_empty() {
                "nothing of the workspace".to_string()
            } else {
                recompiles_text(phase, shown)
            };
            let mut row = vec![
                phase.name.clone(),
                if phase.rebuilds { "yes" } else { "no" }.to_string(),
            ];
            if shared.is_none() {
                row.push(if why.is_empty() {
                    "-".to_string()
                } else {
                    why.join("\n")
                });
            }
            row.push(recompiles);
            row
        })
        .collect();
    let headers: &[&str] = if shared.is_none() {
        &["phase", "rebuilds", "why", "cargo recompiles"]
    } else {
        &["phase", "rebuilds", "cargo recompiles"]
    };
    blocks.push(Block::Table {
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
        emphasized: Some(1),
    });
    let changes: Vec<String> = report
        .phases
        .iter()
        .filter(|p| !p.resolution_changes.is_empty())
        .map(|p| {
            let changes = at_most(p.resolution_changes.clone(), "units");
            format!("{}: {}", p.name, changes.join("; "))
        })
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

/// A phase's causes and approximations, a line each (capped).
fn why_text(phase: &PhaseTouch) -> Vec<String> {
    let mut why = why_lines(phase);
    why.extend(at_most(
        phase
            .approximations
            .iter()
            .map(|a| format!("approximate: {a}"))
            .collect(),
        "approximations",
    ));
    why
}

/// Why a phase rebuilds, a line per cause; beyond [`LISTED`] causes, the files in its src
/// are counted by directory.
fn why_lines(phase: &PhaseTouch) -> Vec<String> {
    if phase.causes.len() <= LISTED {
        return phase.causes.iter().map(cause_text).collect();
    }
    let mut in_source = Vec::new();
    let mut unknown = Vec::new();
    let mut others = Vec::new();
    for cause in &phase.causes {
        match cause {
            RebuildCause::InSource { file } => in_source.push(file.clone()),
            RebuildCause::SourceUnknown { file } => unknown.push(file.clone()),
            _ => others.push(cause_text(cause)),
        }
    }
    let mut lines = at_most(others, "causes");
    if !in_source.is_empty() {
        lines.push(format!(
            "{} in its src: {}",
            count(in_source.len(), "file"),
            by_directory(&in_source)
        ));
    }
    if !unknown.is_empty() {
        lines.push(format!(
            "{} in the workspace (src not known as files): {}",
            count(unknown.len(), "file"),
            by_directory(&unknown)
        ));
    }
    lines
}

/// The units a phase recompiles: every one with `--all`; else up to [`UNITS_SHOWN`], and
/// beyond that a deps-only phase's are all its dependency units, and another's are its
/// workspace units first, then a count.
fn recompiles_text(phase: &PhaseTouch, shown: RootRows) -> String {
    let all = &phase.recompiles;
    if shown == RootRows::All || all.len() <= UNITS_SHOWN {
        return all.join("\n");
    }
    if phase.deps_only && phase.workspace_units.is_empty() {
        return format!(
            "all {} dependency units of `{}`",
            thousands(all.len()),
            phase.name
        );
    }
    let workspace = all.iter().filter(|u| phase.workspace_units.contains(*u));
    let others = all.iter().filter(|u| !phase.workspace_units.contains(*u));
    let mut ordered: Vec<String> = workspace.chain(others).cloned().collect();
    let more = ordered.len() - UNITS_SHOWN;
    ordered.truncate(UNITS_SHOWN);
    ordered.push(format!("and {} more units (`--all`)", thousands(more)));
    ordered.join("\n")
}

/// `items` up to [`LISTED`], then `and N more WHAT`.
fn at_most(mut items: Vec<String>, what: &str) -> Vec<String> {
    if items.len() > LISTED {
        let more = items.len() - LISTED;
        items.truncate(LISTED);
        items.push(format!("and {} more {what}", thousands(more)));
    }
    items
}

/// `1 file`, `9,000 files`.
fn count(n: usize, what: &str) -> String {
    format!("{} {what}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// Files counted by directory, at the deepest level with at most [`LISTED`] directories:
/// `core/data/a/ (5,000), core/data/b/ (5,000)`.
fn by_directory(files: &[String]) -> String {
    let parent = |file: &str| file.rsplit_once('/').map_or("", |(dir, _)| dir).to_string();
    let prefix = |dir: &str, depth: usize| -> String {
        dir.split('/').take(depth).collect::<Vec<_>>().join("/")
    };
    let deepest = files
        .iter()
        .map(|f| parent(f).split('/').count())
        .max()
        .unwrap_or(1);
    let groups = |depth: usize| {
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        for file in files {
            *groups.entry(prefix(&parent(file), depth)).or_default() += 1;
        }
        groups
    };
    let mut chosen = groups(1);
    for depth in 2..=deepest {
        let deeper = groups(depth);
        if deeper.len() > LISTED {
            break;
        }
        chosen = deeper;
    }
    let shown: Vec<String> = chosen
        .iter()
        .map(|(dir, n)| {
            let dir = if dir.is_empty() { "." } else { dir.as_str() };
            format!("{dir}/ ({})", thousands(*n))
        })
        .collect();
    at_most(shown, "directories").join(", ")
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
                "compiles_nothing": phase.compiles_nothing.is_some(),
                "resolution_changes": phase.resolution_changes,
                "approximate": phase.approximate(),
                "approximations": phase.approximations,
            })
        })
        .collect();
    let mut document = json!({
        "version": 1,
        "workspace_root": report.workspace_root,
        "base": report.base,
        "files": report.files,
        "phases": phases,
    });
    if let Some(to) = &report.to {
        document["to"] = json!(to);
    }
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(
        name: &str,
        deps_only: bool,
        recompiles: Vec<String>,
        workspace: &[&str],
    ) -> PhaseTouch {
        PhaseTouch {
            name: name.into(),
            rebuilds: true,
            causes: Vec::new(),
            recompiles,
            resolution_changes: Vec::new(),
            approximations: Vec::new(),
            deps_only,
            compiles_nothing: None,
            workspace_units: workspace.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn many_files_are_counted_by_directory() {
        let files: Vec<String> = (0..10_000)
            .map(|i| format!("core/data/d{:02}/f{i}.txt", i % 50))
            .chain(["app/src/main.rs".to_string()])
            .collect();
        // 51 directories at the deepest level: one level up.
        assert_eq!(by_directory(&files), "app/src/ (1), core/data/ (10,000)");
        let few: Vec<String> = (0..40).map(|i| format!("a/d{}/f", i % 3)).collect();
        assert_eq!(by_directory(&few), "a/d0/ (14), a/d1/ (13), a/d2/ (13)");
        assert_eq!(by_directory(&["top.txt".to_string()]), "./ (1)");
    }

    #[test]
    fn many_units_are_summarised() {
        let deps: Vec<String> = (0..671)
            .map(|i| format!("dep{i:03}@1.0.0 (build)"))
            .collect();
        assert_eq!(
            recompiles_text(&phase("x-deps", true, deps.clone(), &[]), RootRows::Capped),
            "all 671 dependency units of `x-deps`"
        );
        let mut all = deps;
        all.push("zz-app@0.1.0 bin app (build)".into());
        all.sort();
        let app = phase("app", false, all, &["zz-app@0.1.0 bin app (build)"]);
        let text = recompiles_text(&app, RootRows::Capped);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "zz-app@0.1.0 bin app (build)");
        assert_eq!(lines.len(), UNITS_SHOWN + 1);
        assert_eq!(lines[UNITS_SHOWN], "and 667 more units (`--all`)");
        assert_eq!(recompiles_text(&app, RootRows::All).lines().count(), 672);
    }

    fn report(phases: Vec<PhaseTouch>) -> TouchReport {
        TouchReport {
            workspace_root: "/w".into(),
            base: "HEAD".into(),
            to: None,
            files: vec!["src/lib.rs".into()],
            phases,
        }
    }

    fn table(document: &[Block]) -> (Vec<String>, Vec<String>) {
        let lines = document
            .iter()
            .filter_map(|b| match b {
                Block::Lines(lines) => Some(lines.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let headers = document
            .iter()
            .find_map(|b| match b {
                Block::Table { headers, .. } => Some(headers.clone()),
                _ => None,
            })
            .unwrap_or_default();
        (lines, headers)
    }

    /// A why every rebuilt phase shares is said once above the table, without a why
    /// column; phases that differ keep theirs.
    #[test]
    fn a_shared_why_is_said_once() {
        let in_src = RebuildCause::InSource {
            file: "src/lib.rs".into(),
        };
        let mut a = phase("a", false, vec!["app@0.1.0 (build)".into()], &[]);
        let mut b = phase("b", false, vec!["app@0.1.0 (check)".into()], &[]);
        let mut idle = phase("idle", false, Vec::new(), &[]);
        idle.rebuilds = false;
        a.causes = vec![in_src.clone()];
        b.causes = vec![in_src];
        let (lines, headers) = table(&touch_document(
            &report(vec![a.clone(), b.clone(), idle]),
            RootRows::Capped,
        ));
        assert!(lines.contains(&"why, for every phase that rebuilds:".to_string()));
        assert!(lines.contains(&"  src/lib.rs is in its src".to_string()));
        assert_eq!(headers, ["phase", "rebuilds", "cargo recompiles"]);

        b.causes.push(RebuildCause::Inherits { phase: "a".into() });
        let (lines, headers) = table(&touch_document(&report(vec![a, b]), RootRows::Capped));
        assert!(!lines.iter().any(|l| l.starts_with("why, for every")));
        assert_eq!(headers, ["phase", "rebuilds", "why", "cargo recompiles"]);
    }
}
