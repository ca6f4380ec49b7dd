//! The report: every phase with its unit counts and explained misses. `analyze` builds
//! it (the I/O edge); `explain` turns diff facts into words; `crate::render` prints it.

pub mod analyze;
pub mod explain;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::phase::Phase;

/// The result of `cache-miss report`. Produced by [`analyze::analyze`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub workspace_root: String,
    /// How the phases were found (phases file, flake, or crane's quick-start set).
    pub phase_source: String,
    pub phases: Vec<PhaseReport>,
    pub findings: Vec<Finding>,
    /// What the phase source could not resolve (a flake's unknown imports, ...).
    pub warnings: Vec<String>,
    /// The cargo that resolved the phases and the toolchain choice that selected it.
    #[serde(skip)]
    pub cargo: crate::cargo::run::CargoInfo,
    /// Where the time went; printed with `--timings`, not part of the JSON contract.
    #[serde(skip)]
    pub timings: Timings,
}

/// Wall time of the report's stages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Running cargo: unit graphs and metadata, in parallel.
    pub resolve: std::time::Duration,
    /// Diffing and explaining every phase.
    pub analyze: std::time::Duration,
    /// Distinct cargo resolutions made.
    pub resolutions: usize,
}

/// One phase of the report. Produced by [`analyze::analyze`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseReport {
    #[serde(flatten)]
    pub phase: PhaseSummary,
    pub units: UnitCounts,
    pub misses: Vec<MissReport>,
    /// With `--set`: the phase's missed units before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_before: Option<usize>,
}

/// What a phase is and runs, without analysis: shared by `report` and `phases`.
/// Produced by [`PhaseSummary::of`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseSummary {
    pub name: String,
    pub function: String,
    pub artifacts_from: Option<String>,
    /// The exact cargo command lines the phase runs.
    pub commands: Vec<String>,
    /// The environment the phase gives cargo.
    pub env: BTreeMap<String, String>,
    /// Where the phase is defined (`file:line`).
    pub origin: Option<String>,
    /// True for the buildDepsOnly that buildPackage makes when given no cargoArtifacts.
    pub implicit: bool,
    /// What could not be known exactly; the phase's numbers are then approximate.
    pub approximations: Vec<String>,
    pub notes: Vec<String>,
}

impl PhaseSummary {
    pub fn of(phase: &Phase) -> PhaseSummary {
        PhaseSummary {
            name: phase.name.clone(),
            function: phase.function.name().to_string(),
            artifacts_from: phase.artifacts_from.clone(),
            commands: phase.commands.iter().map(|c| c.display()).collect(),
            env: phase.env.clone(),
            origin: phase.origin.clone(),
            implicit: phase.implicit,
            approximations: phase.approximations.clone(),
            notes: phase.notes.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct UnitCounts {
    pub needed: usize,
    pub cached: usize,
    pub missed: usize,
    pub local: usize,
}

/// One dependency unit a phase recompiles. Produced by [`explain::explain_misses`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MissReport {
    pub package: String,
    pub version: String,
    pub source: String,
    pub target: String,
    pub kind: String,
    pub mode: String,
    pub platform: Option<String>,
    /// The features this phase needs the unit with (sorted).
    pub features: Vec<String>,
    /// For `features` misses: the features of the closest unit the deps-only build has.
    pub deps_only_features: Option<Vec<String>>,
    pub reason: &'static str,
    /// For cascades: the root miss it comes from (`leaf@1.0.0 (build)`).
    pub cascade_from: Option<String>,
    pub detail: String,
    /// Who asks for what differs: dependency edges from a workspace member.
    pub requested_by: Vec<String>,
    /// The phase flag or setting that makes the difference.
    pub cause: Option<String>,
    pub fix: String,
    /// For root misses: how many cascaded misses it causes.
    pub cascaded: usize,
}

impl MissReport {
    pub fn is_root(&self) -> bool {
        self.cascade_from.is_none()
    }

    /// `name@version`, with the target when it is not the library.
    pub fn label(&self) -> String {
        let target = match self.kind.as_str() {
            "lib" | "proc-macro" | "rlib" => String::new(),
            "custom-build" => " build-script".to_string(),
            kind => format!(" {kind} {}", self.target),
        };
        format!("{}@{}{target}", self.package, self.version)
    }
}

/// A rebuild hazard that is not a unit difference.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub id: String,
    pub severity: String,
    pub location: Option<String>,
    pub message: String,
    pub fix: String,
}

impl Report {
    pub fn total_missed(&self) -> usize {
        self.phases.iter().map(|p| p.units.missed).sum()
    }

    /// Records, per phase, how many units `before` (the same phases before a `--set`
    /// change) missed.
    pub fn compare_with(&mut self, before: &Report) {
        for phase in &mut self.phases {
            phase.missed_before = Some(
                before
                    .phases
                    .iter()
                    .find(|b| b.phase.name == phase.phase.name)
                    .map_or(0, |b| b.units.missed),
            );
        }
    }
}
