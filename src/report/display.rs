//! The report's wording: its document as headings, tables and lines (`crate::render`
//! draws it), and the `phases` document.

mod graph;
mod phase_misses;

use std::collections::BTreeMap;

use super::costs::PhaseCosts;
use super::{PhaseReport, PhaseStatus, PhaseSummary, Report};
use crate::cargo::run::CargoInfo;
use crate::cargo::toolchain::ToolchainOrigin;
use crate::costs::duration_text;
use crate::located::Note;

use crate::render::document::Block;
pub use graph::phase_graph;
pub use phase_misses::RootRows;
use phase_misses::{Said, phase_blocks};

/// The document of `report --findings-only`.
pub fn findings_document(report: &Report) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("cache-miss findings".to_string()),
        Block::Lines(vec![format!("workspace: {}", report.workspace_root)]),
    ];
    blocks.extend(findings_blocks(report).into_iter().skip(1));
    blocks
}

/// Where the workspace and the phases are, and what the phase source could not resolve.
pub(crate) fn header(
    workspace_root: &str,
    phase_source: &str,
    cargo: &CargoInfo,
    warnings: &[Note],
) -> Block {
    Block::Lines(
        [
            format!("workspace: {workspace_root}"),
            format!("phases: {phase_source}"),
            format!("cargo: {}", cargo_line(cargo)),
        ]
        .into_iter()
        .chain(warnings.iter().map(|w| format!("warning: {w}")))
        .collect(),
    )
}

/// `1.76.0 (pinned by /ws/rust-toolchain.toml)`, `1.95.0 (the default toolchain)`.
fn cargo_line(cargo: &CargoInfo) -> String {
    let pinned = match (&cargo.toolchain.origin, &cargo.toolchain.toolchain) {
        (ToolchainOrigin::Default, _) => "the default toolchain".to_string(),
        (origin, Some(toolchain)) => format!("toolchain {toolchain} from {origin}"),
        (origin, None) => format!("from {origin}"),
    };
    format!("{} ({pinned})", cargo.release)
}

/// Builds the document that the table and markdown renderers draw; `shown`: how many
/// root misses each phase's table shows.
pub fn document(report: &Report, shown: RootRows) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("cache-miss report".to_string()),
        header(
            &report.workspace_root,
            &report.phase_source,
            &report.cargo,
            &report.warnings,
        ),
        Block::Graph(graph::phase_graph(report)),
        summary_table(report),
    ];
    blocks.extend(unanalysed_block(report));
    blocks.extend(baseline_block(report));
    let shared = shared_approximations(report);
    if report
        .phases
        .iter()
        .any(|p| !p.phase.approximations.is_empty())
    {
        let mut lines = vec![
            "~ approximate: the phase rests on values cache-miss could not know (listed below)"
                .to_string(),
        ];
        let mut by_phases: BTreeMap<&Vec<String>, Vec<&String>> = BTreeMap::new();
        for (text, phases) in &shared {
            by_phases.entry(phases).or_default().push(text);
        }
        for (phases, texts) in by_phases {
            lines.push(format!("approximate in {}:", phases.join(", ")));
            lines.extend(texts.iter().map(|t| format!("  - {t}")));
        }
        blocks.push(Block::Lines(lines));
    }
    if report.phases.iter().any(|p| p.missed_before.is_some()) {
        blocks.push(Block::Lines(
            report
                .phases
                .iter()
                .filter(|p| p.phase.artifacts_from.is_some())
                .map(|p| {
                    let before = p.missed_before.unwrap_or(0);
                    format!(
                        "{}: missed {before} -> {} with the change",
                        p.phase.name, p.units.missed
                    )
                })
                .collect(),
        ));
    }
    let missed = report.total_missed();
    if missed == 0 {
        blocks.push(Block::Lines(vec![
            "No misses: every phase reuses all the dependency units it inherits.".to_string(),
        ]));
    } else {
        let phases = report
            .phases
            .iter()
            .filter(|p| p.status == PhaseStatus::Ok && p.units.missed > 0)
            .count();
        let weighed = report
            .phases
            .iter()
            .filter(|p| p.status == PhaseStatus::Ok)
            .filter_map(|p| p.costs)
            .reduce(|a, b| PhaseCosts {
                seconds: a.seconds + b.seconds,
                measured_misses: a.measured_misses + b.measured_misses,
            });
        blocks.push(Block::Lines(vec![format!(
            "{missed} dependency unit{} rebuilt across {phases} phase{}{}.",
            plural(missed),
            plural(phases),
            weighed
                .map(|c| format!(", {}", compile_time(c, missed)))
                .unwrap_or_default()
        )]));
    }
    let mut said = Said::default();
    for phase in &report.phases {
        blocks.extend(phase_blocks(phase, &shared, shown, &mut said));
    }
    blocks.extend(findings_blocks(report));
    blocks
}

/// How an approximation reads across phases: without its location when that is the
/// phase's own (not the value's), so that the same unknown value in several phases reads
/// alike.
pub(super) fn shared_text(phase: &PhaseSummary, note: &Note) -> String {
    if note.location.is_some() && note.location == phase.origin {
        note.text.clone()
    } else {
        note.to_string()
    }
}

/// ` (file:line)` of where a phase is defined, if known.
fn defined_at(phase: &PhaseSummary, label: &str) -> String {
    phase
        .origin
        .as_ref()
        .map(|o| format!(" ({label}{o})"))
        .unwrap_or_default()
}

/// Approximations that several phases share (a value from commonArgs), each with the
/// phases (and where they are defined) it applies to: said once, not once per phase.
fn shared_approximations(report: &Report) -> BTreeMap<String, Vec<String>> {
    let mut by_text: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for phase in &report.phases {
        for note in &phase.phase.approximations {
            let origin = defined_at(&phase.phase, "");
            by_text
                .entry(shared_text(&phase.phase, note))
                .or_default()
                .push(format!("`{}`{origin}", phase.phase.name));
        }
    }
    by_text.retain(|_, phases| phases.len() > 1);
    by_text
}

/// `2 min 10 s of compile time (74 of 80 measured)`.
fn compile_time(costs: PhaseCosts, missed: usize) -> String {
    format!(
        "{} of compile time ({} of {missed} measured)",
        duration_text(costs.seconds),
        costs.measured_misses
    )
}

/// `clippy rebuilds 80 dependency units, 2 min 10 s of compile time (74 of 80 measured)`,
/// for a weighed phase with misses.
pub(crate) fn phase_cost_sentence(phase: &PhaseReport) -> Option<String> {
    let costs = phase.costs?;
    (phase.units.missed > 0).then(|| {
        format!(
            "{} rebuilds {} dependency unit{}, {}",
            phase.phase.name,
            phase.units.missed,
            plural(phase.units.missed),
            compile_time(costs, phase.units.missed)
        )
    })
}

/// What changed against `--baseline`, phase by phase (unchanged phases left out).
fn baseline_block(report: &Report) -> Option<Block> {
    let delta = report.baseline.as_ref()?;
    let mut lines = vec![format!("against the baseline {}:", delta.file)];
    let changed: Vec<_> = delta.phases.iter().filter(|p| p.changed()).collect();
    if changed.is_empty() {
        lines.push("  no phase changed: the same misses as the baseline.".to_string());
    }
    for phase in changed {
        let count = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
        let seconds = match (phase.seconds_before, phase.seconds_now) {
            (Some(before), Some(now)) => format!(
                ", {} -> {} of compile time",
                duration_text(before),
                duration_text(now)
            ),
            _ => String::new(),
        };
        lines.push(format!(
            "  {}: {} new miss{}, {} gone (missed {} -> {}{seconds}){}",
            phase.name,
            phase.new_misses.len(),
            if phase.new_misses.len() == 1 {
                ""
            } else {
                "es"
            },
            phase.gone_misses.len(),
            count(phase.missed_before),
            count(phase.missed_now),
            if phase.gained() { " GAINED" } else { "" }
        ));
        if !phase.new_misses.is_empty() {
            lines.push(format!(
                "    new: {}",
                named_few(&phase.new_misses, "units")
            ));
        }
        if !phase.gone_misses.is_empty() {
            lines.push(format!(
                "    gone: {}",
                named_few(&phase.gone_misses, "units")
            ));
        }
    }
    Some(Block::Lines(lines))
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn summary_table(report: &Report) -> Block {
    let headers = [
        "phase", "function", "from", "needed", "cached", "missed", "local", "share",
    ];
    let mut table = summary_rows(report, headers.map(String::from).to_vec());
    if report.costs.is_some() {
        if let Block::Table { headers, rows, .. } = &mut table {
            headers.push("seconds".to_string());
            for (row, phase) in rows.iter_mut().zip(&report.phases) {
                row.push(match phase.costs {
                    Some(c) if phase.units.missed > 0 => format!(
                        "{} ({}/{})",
                        duration_text(c.seconds),
                        c.measured_misses,
                        phase.units.missed
                    ),
                    _ => "-".to_string(),
                });
            }
        }
    }
    table
}

fn summary_rows(report: &Report, headers: Vec<String>) -> Block {
    let rows = report
        .phases
        .iter()
        .map(|p| {
            if p.status != PhaseStatus::Ok {
                let dash = || "-".to_string();
                return vec![
                    p.phase.name.clone(),
                    p.phase.function.to_string(),
                    p.phase.artifacts_from.clone().unwrap_or_else(dash),
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    status_text(p.status).to_string(),
                ];
            }
            let share = match (&p.phase.artifacts_from, p.units.needed) {
                (None, _) => "builds".to_string(),
                (_, 0) => "-".to_string(),
                // Rounded down: a phase that misses anything never reads 100%.
                (_, needed) => format!("{}%", 100 * p.units.cached / needed),
            };
            vec![
                format!(
                    "{}{}",
                    p.phase.name,
                    if p.phase.approximations.is_empty() {
                        ""
                    } else {
                        " ~"
                    }
                ),
                p.phase.function.to_string(),
                p.phase
                    .artifacts_from
                    .clone()
                    .unwrap_or_else(|| "-".to_string()),
                p.units.needed.to_string(),
                p.units.cached.to_string(),
                p.units.missed.to_string(),
                p.units.local.to_string(),
                share,
            ]
        })
        .collect();
    Block::Table {
        headers,
        rows,
        emphasized: None,
    }
}

/// How a phase that was not analysed reads in the summary table.
fn status_text(status: PhaseStatus) -> &'static str {
    match status {
        PhaseStatus::Ok => "",
        PhaseStatus::Failed => "FAILED",
        PhaseStatus::NotEvaluable => "not evaluable",
        PhaseStatus::Excluded => "excluded",
    }
}

/// Why phases were not analysed: cargo failures first, then what Nix cannot evaluate.
fn unanalysed_block(report: &Report) -> Option<Block> {
    let lines: Vec<String> = [PhaseStatus::Failed, PhaseStatus::NotEvaluable]
        .into_iter()
        .flat_map(|status| report.phases.iter().filter(move |p| p.status == status))
        .map(|p| {
            let origin = defined_at(&p.phase, "defined at ");
            let label = match p.status {
                PhaseStatus::Failed => "failed",
                _ => "not evaluable by Nix, so never built",
            };
            format!(
                "{label}: `{}`{origin}: {}",
                p.phase.name,
                p.error.as_deref().unwrap_or("")
            )
        })
        .collect();
    (!lines.is_empty()).then_some(Block::Lines(lines))
}

/// How many units a grouped row or a fix line names before counting the rest.
pub(crate) const UNITS_NAMED: usize = 4;

/// `a, b, c, d and 12 more units`: what is counted is named (`units`, `packages`).
pub(super) fn named_few(labels: &[String], counted: &str) -> String {
    named_at_most(labels, UNITS_NAMED, counted)
}

/// All of `labels` when there are at most `most`, else the first `most - 1` and how many
/// more.
pub(super) fn named_at_most(labels: &[String], most: usize, counted: &str) -> String {
    if labels.len() <= most {
        return labels.join(", ");
    }
    let named: Vec<&str> = labels.iter().take(most - 1).map(String::as_str).collect();
    format!(
        "{} and {} more {counted}",
        named.join(", "),
        labels.len() - named.len()
    )
}

/// The findings section; says plainly when there are none.
pub(crate) fn findings_blocks(report: &Report) -> Vec<Block> {
    let mut lines = Vec::new();
    if report.findings.is_empty() {
        lines.push(
            "No findings: source filtering, workspace layout and environment look fine."
                .to_string(),
        );
    }
    lines.extend(default_members_line(report));
    for finding in &report.findings {
        let location = finding
            .location
            .as_ref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        lines.push(format!(
            "{} {}{location}: {}",
            finding.severity.as_str(),
            finding.id.code(),
            finding.message
        ));
        lines.push(format!("  fix: {}", finding.fix));
    }
    vec![Block::Heading("findings".to_string()), Block::Lines(lines)]
}

/// The default members, named once when the phases' tables count them.
fn default_members_line(report: &Report) -> Option<String> {
    let members = report
        .phases
        .iter()
        .flat_map(|p| &p.misses)
        .find_map(|m| m.default_members_counted())?;
    Some(format!(
        "the default members ({}): {}",
        members.len(),
        members.join(", ")
    ))
}

/// The document of `cache-miss phases`: each phase, what it runs, where it comes from.
pub fn phases_document(phases: &[PhaseSummary], source: &str, warnings: &[Note]) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("cache-miss phases".to_string()),
        Block::Lines(
            std::iter::once(format!("phases: {source}"))
                .chain(warnings.iter().map(|w| format!("warning: {w}")))
                .collect(),
        ),
    ];
    let rows = phases
        .iter()
        .map(|p| {
            vec![
                format!(
                    "{}{}{}",
                    p.name,
                    if p.implicit { " (implicit)" } else { "" },
                    match p.aliases.is_empty() {
                        true => String::new(),
                        false => format!(" (also {})", p.aliases.join(", ")),
                    }
                ),
                match p.not_evaluable {
                    Some(_) => "not evaluable".to_string(),
                    None => p.function.to_string(),
                },
                p.artifacts_from.clone().unwrap_or_else(|| "-".to_string()),
                p.origin
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    blocks.push(Block::Table {
        headers: ["phase", "function", "from", "defined at"]
            .map(String::from)
            .to_vec(),
        rows,
        emphasized: None,
    });
    // What each phase runs, one line per command: long command lines stay readable.
    for phase in phases {
        let mut lines = vec![format!("{}:", phase.name)];
        lines.extend(phase.commands.iter().map(|c| format!("  $ {c}")));
        match &phase.not_evaluable {
            Some(failure) => lines.push(format!("  not evaluable: {}", failure.message)),
            None if phase.commands.is_empty() => lines.push("  (no cargo command)".to_string()),
            None => {}
        }
        if !phase.env.is_empty() {
            let env: Vec<String> = phase.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
            lines.push(format!("  env: {}", env.join(" ")));
        }
        lines.extend(
            phase
                .approximations
                .iter()
                .map(|a| format!("  approximate: {a}")),
        );
        lines.extend(phase.notes.iter().map(|n| format!("  note: {n}")));
        blocks.push(Block::Lines(lines));
    }
    blocks
}
