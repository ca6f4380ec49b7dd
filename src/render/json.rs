//! The JSON output contract, version 1 (see DESIGN.md): other tools rely on it.

use serde::Serialize;

use crate::report::{Finding, PhaseReport, PhaseSummary, Report};

pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    workspace_root: &'a str,
    phase_source: &'a str,
    phases: &'a [PhaseReport],
    findings: &'a [Finding],
}

pub fn render(report: &Report) -> String {
    let json = JsonReport {
        version: VERSION,
        workspace_root: &report.workspace_root,
        phase_source: &report.phase_source,
        phases: &report.phases,
        findings: &report.findings,
    };
    // Serializing plain data with string keys cannot fail.
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}

#[derive(Serialize)]
struct JsonPhases<'a> {
    version: u32,
    phase_source: &'a str,
    phases: &'a [PhaseSummary],
}

/// `cache-miss phases --format json`: the report's `phases` array without units and misses.
pub fn render_phases(phases: &[PhaseSummary], source: &str) -> String {
    let json = JsonPhases {
        version: VERSION,
        phase_source: source,
        phases,
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}
