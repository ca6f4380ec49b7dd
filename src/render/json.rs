//! The JSON output contract, version 1 (see DESIGN.md): other tools rely on it.

use serde::Serialize;

use crate::cargo::run::CargoInfo;
use crate::cargo::toolchain::ToolchainOrigin;
use crate::costs::CostOrigin;
use crate::findings::Finding;
use crate::fix::FixReport;
use crate::located::Note;
use crate::report::baseline::BaselineDelta;
use crate::report::{PhaseReport, PhaseSummary, Report};
use crate::verify::{VerifiedPhase, VerifyReport};

pub const VERSION: u32 = crate::report::baseline::CONTRACT_VERSION;

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

pub fn render(report: &Report) -> String {
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
    // Serializing plain data with string keys cannot fail.
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}

#[derive(Serialize)]
struct JsonPhases<'a> {
    version: u32,
    phase_source: &'a str,
    phases: &'a [PhaseSummary],
    warnings: &'a [Note],
}

/// `cache-miss phases --format json`: the report's `phases` array without units and misses.
pub fn render_phases(phases: &[PhaseSummary], source: &str, warnings: &[Note]) -> String {
    let json = JsonPhases {
        version: VERSION,
        phase_source: source,
        phases,
        warnings,
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
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
pub fn render_verify(report: &VerifyReport, findings: &[Finding]) -> String {
    let json = JsonVerify {
        version: VERSION,
        workspace_root: &report.workspace_root,
        phase_source: &report.phase_source,
        phases: &report.phases,
        findings,
        warnings: &report.warnings,
        kept_at: &report.kept_at,
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}

#[derive(Serialize)]
struct JsonFix<'a> {
    version: u32,
    #[serde(flatten)]
    report: &'a FixReport,
}

/// `cache-miss fix --format json`: `{"version": 1, "proposals": [...], ...}`.
pub fn render_fix(report: &FixReport) -> String {
    serde_json::to_string_pretty(&JsonFix {
        version: VERSION,
        report,
    })
    .unwrap_or_default()
        + "\n"
}

#[derive(Serialize)]
struct JsonFindings<'a> {
    version: u32,
    workspace_root: &'a str,
    findings: &'a [Finding],
}

/// `report --findings-only --format json`: the contract's `findings` array alone.
pub fn render_findings(report: &Report) -> String {
    let json = JsonFindings {
        version: VERSION,
        workspace_root: &report.workspace_root,
        findings: &report.findings,
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}

#[derive(Serialize)]
struct JsonError<'a> {
    version: u32,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: String,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
}

/// A failed command under `--format json`: `{"version": 1, "error": {"message", "file",
/// "line", "column"}}`, the place `null` where no error of the chain names one.
pub fn render_error(err: &anyhow::Error) -> String {
    let location = crate::phase::error_location(err);
    let json = JsonError {
        version: VERSION,
        error: ErrorBody {
            message: format!("{err:#}"),
            file: location.map(|l| l.file.as_str()),
            line: location.and_then(|l| l.line),
            column: location.and_then(|l| l.column),
        },
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}
