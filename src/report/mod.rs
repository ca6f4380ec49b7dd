//! The report: every phase with its unit counts and explained misses. `analyze` builds
//! it (the I/O edge) from the diff and `crate::explain`; `crate::render` prints it.

pub(crate) mod analyze;
pub(crate) mod baseline;
pub(crate) mod costs;
pub(crate) mod display;
pub mod github;
pub(crate) mod json;
mod resolve;
pub(crate) mod run;
mod toolchains;

pub(crate) use resolve::Lookahead;
pub(crate) use toolchains::rust_release_in;
pub(crate) use toolchains::{PhaseCargo, PhaseToolchains};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::explain::MissReport;
use crate::findings::Finding;
use crate::located::{Note, SourceLocation, serialize_location};
use crate::phase::{CraneFunction, NotEvaluable, Phase};

/// The result of `cache-miss report`. Produced by [`analyze::analyze_loaded`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub workspace_root: String,
    /// How the phases were found (phases file, flake, or crane's quick-start set).
    pub phase_source: String,
    pub phases: Vec<PhaseReport>,
    pub findings: Vec<Finding>,
    /// What the phase source could not resolve (a flake's unknown imports, ...).
    pub warnings: Vec<Note>,
    /// The cargo that resolved the phases and the toolchain choice that selected it.
    #[serde(skip)]
    pub cargo: crate::cargo::run::CargoInfo,
    /// Where the time went; printed with `--timings`, not part of the JSON contract.
    #[serde(skip)]
    pub timings: Timings,
    /// Set when the misses are weighed by measured seconds (`--costs`).
    #[serde(skip)]
    pub costs: Option<crate::costs::CostOrigin>,
    /// What changed against a previous report (`--baseline`).
    #[serde(skip)]
    pub baseline: Option<baseline::BaselineDelta>,
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
    /// Cargo calls the fix-line check started while the report's own calls still ran.
    pub ahead: usize,
    /// Fix-line checks analysed, and skipped because their outcome followed from the
    /// answers already in hand.
    pub fix_checks: usize,
    pub fix_checks_skipped: usize,
}

/// One phase of the report. Produced by [`analyze::analyze`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseReport {
    #[serde(flatten)]
    pub phase: PhaseSummary,
    pub status: PhaseStatus,
    /// Why the phase was not analysed (`failed`, `not-evaluable`): one line.
    pub error: Option<String>,
    /// The cargo that resolved the phase, when it is not the workspace's (`cargo`): the
    /// release its crane lib builds with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cargo: Option<PhaseCargo>,
    pub units: UnitCounts,
    #[serde(serialize_with = "crate::explain::serialize_misses")]
    pub misses: Vec<MissReport>,
    /// With `--set`: the phase's missed units before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_before: Option<usize>,
    /// With `--costs`: the measured seconds of the phase's misses.
    #[serde(flatten)]
    pub costs: Option<costs::PhaseCosts>,
    /// The deep identities of the missed units (see [`crate::explain::MissReport::unit_id`]),
    /// also when the analysis was asked for no explanations. Not part of the JSON.
    #[serde(skip)]
    pub missed_units: Vec<u32>,
}

/// Whether a phase was analysed. Every phase stands alone: one that fails leaves the
/// others analysed.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseStatus {
    /// Analysed; its numbers hold.
    Ok,
    /// cargo could not resolve it (or a phase it inherits from): not analysed.
    Failed,
    /// Nix cannot evaluate it (or a phase it inherits from), so it never builds: not
    /// analysed, and no failure of the analysis.
    NotEvaluable,
    /// Left out with `--exclude`/`--only`.
    Excluded,
}

impl PhaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseStatus::Ok => "ok",
            PhaseStatus::Failed => "failed",
            PhaseStatus::NotEvaluable => "not-evaluable",
            PhaseStatus::Excluded => "excluded",
        }
    }
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
    #[serde(serialize_with = "serialize_location")]
    pub origin: Option<SourceLocation>,
    /// True for the buildDepsOnly that buildPackage makes when given no cargoArtifacts.
    pub implicit: bool,
    /// What could not be known exactly; the phase's numbers are then approximate.
    pub approximations: Vec<Note>,
    pub notes: Vec<Note>,
    /// Set when Nix can never build the phase: Nix's error and where it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_evaluable: Option<NotEvaluable>,
    /// The other flake outputs that are this same derivation (`--nix`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl PhaseSummary {
    pub fn of(phase: &Phase) -> PhaseSummary {
        PhaseSummary {
            name: phase.name.clone(),
            aliases: phase.aliases.clone(),
            function: phase.function,
            artifacts_from: phase.artifacts_from.clone(),
            commands: phase.commands.iter().map(|c| c.display()).collect(),
            env: phase.env.clone(),
            origin: phase.origin.clone(),
            implicit: phase.implicit,
            approximations: phase.approximations.clone(),
            notes: phase.notes.clone(),
            not_evaluable: phase.not_evaluable.clone(),
        }
    }
}

pub(crate) use crate::diff::Counts as UnitCounts;

impl Report {
    /// Missed units over the phases analysed (an excluded phase's count is not shown).
    pub fn total_missed(&self) -> usize {
        self.phases
            .iter()
            .filter(|p| p.status == PhaseStatus::Ok)
            .map(|p| p.units.missed)
            .sum()
    }

    /// The phases cargo could not resolve: the analysis is incomplete.
    pub fn failed(&self) -> impl Iterator<Item = &PhaseReport> {
        self.phases
            .iter()
            .filter(|p| p.status == PhaseStatus::Failed)
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
