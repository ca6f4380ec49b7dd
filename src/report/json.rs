//! The report's JSON documents: `report`, `report --findings-only` and `phases` with
//! `--format json` (the contract in `schemas/`).

use serde::Serialize;

use super::baseline::BaselineDelta;
use super::{PhaseReport, PhaseSummary, Report};
use crate::cargo::run::CargoInfo;
use crate::cargo::toolchain::ToolchainOrigin;
use crate::costs::CostOrigin;
use crate::findings::Finding;
use crate::located::Note;
use crate::render::json::{VERSION, pretty};

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    workspace_root: &'a str,
    phase_source: &'a str,
    cargo: JsonCargo<'a>,
    phases: &'a [PhaseReport],
    findings: &'a [Finding],
    warnings: &'a [Note],
    /// With `--costs`: where the seconds were measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    costs: Option<CostOrigin>,
    /// With `--baseline`: what changed against it.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a BaselineDelta>,
}

/// The cargo that resolved the report, and what pinned it.
#[derive(Serialize)]
struct JsonCargo<'a> {
    release: &'a str,
    /// The toolchain a file or `RUSTUP_TOOLCHAIN` names; `null` for the default one.
    toolchain: Option<&'a str>,
    /// The toolchain file, `RUSTUP_TOOLCHAIN`, or `null` for the default toolchain.
    pinned_by: Option<String>,
}

impl<'a> JsonCargo<'a> {
    fn of(cargo: &'a CargoInfo) -> JsonCargo<'a> {
        JsonCargo {
            release: &cargo.release,
            toolchain: cargo.toolchain.toolchain.as_deref(),
            pinned_by: match &cargo.toolchain.origin {
                ToolchainOrigin::Default => None,
                origin => Some(origin.to_string()),
            },
        }
    }
}

/// `cache-miss report --format json`.
pub fn report_json(report: &Report) -> String {
    let json = JsonReport {
        version: VERSION,
        workspace_root: &report.workspace_root,
        phase_source: &report.phase_source,
        cargo: JsonCargo::of(&report.cargo),
        phases: &report.phases,
        findings: &report.findings,
        warnings: &report.warnings,
        costs: report.costs,
        baseline: report.baseline.as_ref(),
    };
    pretty(&json)
}

#[derive(Serialize)]
struct JsonPhases<'a> {
    version: u32,
    phase_source: &'a str,
    phases: &'a [PhaseSummary],
    warnings: &'a [Note],
}

/// `cache-miss phases --format json`: the report's `phases` array without units and misses.
pub fn phases_json(phases: &[PhaseSummary], source: &str, warnings: &[Note]) -> String {
    let json = JsonPhases {
        version: VERSION,
        phase_source: source,
        phases,
        warnings,
    };
    pretty(&json)
}

#[derive(Serialize)]
struct JsonFindings<'a> {
    version: u32,
    workspace_root: &'a str,
    findings: &'a [Finding],
}

/// `report --findings-only --format json`: the contract's `findings` array alone.
pub fn findings_json(report: &Report) -> String {
    let json = JsonFindings {
        version: VERSION,
        workspace_root: &report.workspace_root,
        findings: &report.findings,
    };
    pretty(&json)
}
