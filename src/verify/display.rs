//! `verify`'s wording: predicted against measured, per phase, as a document.

use serde::Serialize;

use super::{VerifiedPhase, VerifyReport};
use crate::findings::Finding;
use crate::located::Note;
use crate::render::document::Block;
use crate::render::json::{VERSION, pretty};
use crate::report::display::header;

/// The document of `cache-miss verify`: predicted against measured, per phase.
pub fn verify_document(report: &VerifyReport) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("cache-miss verify".to_string()),
        header(
            &report.workspace_root,
            &report.phase_source,
            &report.cargo,
            &report.warnings,
        ),
    ];
    let rows = report
        .phases
        .iter()
        .map(|p| {
            let inherits = p.report.phase.artifacts_from.is_some() && p.skipped.is_none();
            let dash = || "-".to_string();
            vec![
                p.report.phase.name.clone(),
                if inherits {
                    p.report.units.missed.to_string()
                } else {
                    dash()
                },
                if p.skipped.is_some() {
                    "not replayed".to_string()
                } else if inherits {
                    p.measured.len().to_string()
                } else {
                    format!("built {}", p.measured.len())
                },
                if inherits {
                    p.agreement.both.to_string()
                } else {
                    dash()
                },
                if inherits {
                    p.agreement.predicted_only.len().to_string()
                } else {
                    dash()
                },
                if inherits {
                    p.agreement.measured_only.len().to_string()
                } else {
                    dash()
                },
                if inherits {
                    format!("{:.2}", p.rebuild_seconds)
                } else {
                    dash()
                },
            ]
        })
        .collect();
    blocks.push(Block::Table {
        headers: [
            "phase",
            "predicted",
            "measured",
            "both",
            "predicted only",
            "measured only",
            "seconds",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        emphasized: None,
    });
    let replayed_all = report.phases.iter().all(|p| p.skipped.is_none());
    let mut lines = vec![if report.agrees() && replayed_all {
        "Prediction and measurement agree on every phase.".to_string()
    } else if report.agrees() {
        "Prediction and measurement agree on every phase replayed.".to_string()
    } else {
        "Prediction and measurement disagree:".to_string()
    }];
    for phase in &report.phases {
        for unit in &phase.agreement.predicted_only {
            lines.push(format!(
                "  {}: predicted but not rebuilt: {unit}",
                phase.report.phase.name
            ));
        }
        for unit in &phase.agreement.measured_only {
            lines.push(format!(
                "  {}: rebuilt but not predicted: {unit}",
                phase.report.phase.name
            ));
        }
    }
    for phase in &report.phases {
        if let Some(why) = &phase.skipped {
            lines.push(format!("  {}: {why}", phase.report.phase.name));
        }
        for note in &phase.substituted {
            lines.push(format!(
                "  {}: {note} ({})",
                phase.report.phase.name,
                phase.replayed.join("; ")
            ));
        }
    }
    let total = report
        .phases
        .iter()
        .fold(0.0, |total, p| total + p.rebuild_seconds);
    lines.push(format!(
        "{total:.2} s spent rebuilding dependencies across all phases (rustc wall time)."
    ));
    if let Some(dir) = &report.kept_at {
        lines.push(format!("replay kept at {dir}"));
    }
    blocks.push(Block::Lines(lines));
    blocks
}

#[derive(Serialize)]
struct JsonVerify<'a> {
    version: u32,
    workspace_root: &'a str,
    phase_source: &'a str,
    phases: &'a [VerifiedPhase],
    findings: &'a [Finding],
    warnings: &'a [Note],
    kept_at: &'a Option<String>,
}

/// `cache-miss verify --format json`: the report contract with, per phase, `measured`,
/// `rebuild_seconds` and `agreement`.
pub fn verify_json(report: &VerifyReport, findings: &[Finding]) -> String {
    let json = JsonVerify {
        version: VERSION,
        workspace_root: &report.workspace_root,
        phase_source: &report.phase_source,
        phases: &report.phases,
        findings,
        warnings: &report.warnings,
        kept_at: &report.kept_at,
    };
    pretty(&json)
}
