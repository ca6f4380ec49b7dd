//! The document of `cache-miss fix`: verified proposals, best first, and what no change
//! to a deps-only phase can serve.

use serde::Serialize;

use super::FixReport;
use crate::render::document::Block;
use crate::render::json::{VERSION, pretty};
use crate::report::Report;
use crate::report::display::UNITS_NAMED;

/// How a proposal changes the deps-only artifact's size: a narrower selection can
/// leave units out that no phase needed.
fn artifact_change(extra_units: i64) -> String {
    let units = |n: u64| format!("{n} unit{}", if n == 1 { "" } else { "s" });
    match extra_units {
        0 => "the deps-only artifact keeps its size".to_string(),
        n if n > 0 => format!("the deps-only artifact gains {}", units(n.unsigned_abs())),
        n => format!("the deps-only artifact loses {}", units(n.unsigned_abs())),
    }
}

/// How many proposals the table and markdown show (JSON has all).
const PROPOSALS_SHOWN: usize = 3;

/// The document of `cache-miss fix`: verified proposals, best first.
pub fn fix_document(report: &FixReport, before: &Report) -> Vec<Block> {
    let mut blocks = vec![Block::Heading("cache-miss fix".to_string())];
    let missed = before.total_missed();
    let never_served: usize = report.never_served.iter().map(|n| n.missed).sum();
    if report.proposals.is_empty() {
        let line = if missed == 0 {
            "No misses: nothing to fix.".to_string()
        } else if missed == never_served {
            "Every miss is in a phase no shared deps-only artifact can serve (below).".to_string()
        } else {
            "No change to the deps-only phase(s) that cache-miss tried removes misses.".to_string()
        };
        blocks.push(Block::Lines(vec![line]));
    }
    for (i, proposal) in report.proposals.iter().enumerate().take(PROPOSALS_SHOWN) {
        let verdict = if proposal.missed_after == 0 {
            "0 misses after this change (re-analysed)".to_string()
        } else {
            format!(
                "{} misses left after this change (re-analysed)",
                proposal.missed_after
            )
        };
        blocks.push(Block::Heading(format!("{}. {}", i + 1, proposal.summary)));
        blocks.push(Block::Lines(vec![format!(
            "missed {} -> {}: {verdict}; {}",
            proposal.missed_before,
            proposal.missed_after,
            artifact_change(proposal.extra_units)
        )]));
        blocks.push(Block::Code(proposal.nix.clone()));
    }
    if !report.proposals.is_empty() {
        blocks.push(Block::Lines(vec![
            "In the snippets, `commonArgs` stands for the arguments each call passes today; the attributes shown are set over them.".to_string(),
        ]));
    }
    if report.proposals.len() > PROPOSALS_SHOWN {
        blocks.push(Block::Lines(vec![format!(
            "{} more verified proposals in --format json",
            report.proposals.len() - PROPOSALS_SHOWN
        )]));
    }
    let mut lines = Vec::new();
    for phase in &report.never_served {
        lines.push(format!(
            "never served: `{}` rebuilds {} units whatever its deps-only phase selects: {}",
            phase.phase, phase.missed, phase.why
        ));
    }
    if !report.feature_unification.is_empty() {
        // Long pin lists name the crates only; `--format json` has every feature set.
        let pins: Vec<String> = if report.feature_unification.len() <= UNITS_NAMED {
            report.feature_unification.clone()
        } else {
            report
                .feature_unification
                .iter()
                .map(|pin| pin.split(' ').next().unwrap_or(pin).to_string())
                .collect()
        };
        lines.push(format!(
            "feature unification: a workspace-hack crate (`cargo hakari`) would pin the feature sets of {}, so every phase and buildDepsOnly resolve them alike{}",
            pins.join(if pins == report.feature_unification { "; " } else { ", " }),
            if pins == report.feature_unification {
                ""
            } else {
                " (`--format json` lists the features)"
            }
        ));
    }
    lines.extend(report.rejected.iter().map(|r| format!("not proposed: {r}")));
    if !report.approximate_phases.is_empty() {
        lines.push(format!(
            "approximate: {} rest on values cache-miss could not know (see `cache-miss phases`); the proposals are as good as those guesses",
            report
                .approximate_phases
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !lines.is_empty() {
        blocks.push(Block::Lines(lines));
    }
    blocks
}

#[derive(Serialize)]
struct JsonFix<'a> {
    version: u32,
    #[serde(flatten)]
    report: &'a FixReport,
}

/// `cache-miss fix --format json`: `{"version": 1, "proposals": [...], ...}`.
pub fn fix_json(report: &FixReport) -> String {
    pretty(&JsonFix {
        version: VERSION,
        report,
    })
}
