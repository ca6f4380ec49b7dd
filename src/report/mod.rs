//! The report: every phase with its unit counts and explained misses. `analyze` builds
//! it (the I/O edge) from the diff and `crate::explain`; `crate::render` prints it.

pub mod analyze;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::explain::MissReport;
use crate::findings::Finding;
use crate::phase::{CraneFunction, Phase};

/// The result of `cache-miss report`. Produced by [`analyze::analyze_loaded`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub workspace_root: String,
    /// How the phases were found (phases file, flake, or crane's quick-start set).
    pub phase_source: String,
    pub phases: Vec<PhaseReport>,
    pub findings: Vec<Finding>,
    /// What the phase source could not resolve (a flake's unknown imports, ...).
    pub warnings: Vec<String>,
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
    pub function: CraneFunction,
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
            function: phase.function,
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

pub use crate::diff::Counts as UnitCounts;

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
