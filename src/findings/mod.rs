//! Findings: rebuild hazards that are not unit differences — how the source is filtered,
//! how the workspace is laid out, and environment that build scripts watch.

mod compiled;
mod fileset_fix;
mod hazards;
mod layout;
mod pkg_config;
pub(crate) mod reads;
pub(crate) mod source;
mod test_code;

pub(crate) use layout::outside_path_dependencies;

use std::collections::BTreeSet;
use std::path::Path;

use crate::cargo::Invocation;
use crate::diff::DiffGraph;
use crate::located::{SourceLocation, serialize_location};
use crate::phase::{Phase, PhaseSet};
use serde::Serialize;

use crate::plan::PhasePlans;

/// What the findings look at. Built by `report::analyze`.
pub(crate) struct FindingsInput<'a> {
    pub set: &'a PhaseSet,
    pub plans: &'a PhasePlans,
    /// One per entry of `plans.invocations`; `None` for one cargo could not resolve.
    pub graphs: &'a [Option<&'a DiffGraph>],
    pub metadata: &'a cargo_metadata::Metadata,
    pub source_root: &'a Path,
    /// Per phase of `set`: how many dependency units it misses.
    pub missed: &'a [usize],
    /// Per phase of `set`: how many of its root misses cargo's selection can cause (all but
    /// reason `profile`, `rustflags` and `toolchain`).
    pub selection_missed: &'a [usize],
    /// Per phase of `set`: whether it was analysed (not failed, excluded, not evaluable).
    pub analysed: &'a [bool],
    /// A previous build's target dir, whose build-script outputs say what they watch.
    pub target_dir: Option<&'a Path>,
}

impl FindingsInput<'_> {
    /// The phases that were analysed; findings speak only of them.
    fn phases(&self) -> impl Iterator<Item = &Phase> {
        self.set
            .phases
            .iter()
            .zip(self.analysed)
            .filter(|(_, analysed)| **analysed)
            .map(|(phase, _)| phase)
    }

    fn invocations(&self, phase: &Phase) -> Vec<&Invocation> {
        self.phase_index(phase)
            .map(|i| {
                self.plans.by_phase[i]
                    .iter()
                    .map(|&n| &self.plans.invocations[n])
                    .collect()
            })
            .unwrap_or_default()
    }

    fn phase_index(&self, phase: &Phase) -> Option<usize> {
        self.set.position(&phase.name)
    }

    fn missed(&self, phase: &Phase) -> usize {
        self.phase_index(phase)
            .and_then(|i| self.missed.get(i).copied())
            .unwrap_or(0)
    }

    fn selection_missed(&self, phase: &Phase) -> usize {
        self.phase_index(phase)
            .and_then(|i| self.selection_missed.get(i).copied())
            .unwrap_or(0)
    }

    /// Every graph cargo resolved.
    fn resolved_graphs(&self) -> impl Iterator<Item = &DiffGraph> {
        self.graphs.iter().flatten().copied()
    }

    /// The graphs of `phase`'s own cargo calls that cargo resolved.
    fn graphs_of(&self, phase: &Phase) -> Vec<&DiffGraph> {
        self.phase_index(phase)
            .map(|i| {
                self.plans.by_phase[i]
                    .iter()
                    .filter_map(|&n| self.graphs.get(n).copied().flatten())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Names of the non-local packages in any phase's resolved graph.
    fn packages_in_graphs(&self) -> BTreeSet<String> {
        self.resolved_graphs()
            .flat_map(|g| g.units.iter())
            .filter(|u| !u.local)
            .map(|u| u.key.pkg_id.name.clone())
            .collect()
    }

    /// `file:line` of a phase's definition, if known.
    fn location(&self, phase: &Phase) -> Option<SourceLocation> {
        phase.origin.clone()
    }
}

/// Every finding, ordered by id then location.
pub(crate) fn find(input: &FindingsInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(layout::root_package_and_workspace(input));
    findings.extend(layout::selection_mismatch(input));
    findings.extend(layout::check_runs_nothing(input));
    findings.extend(layout::path_dependencies_outside(input));
    findings.extend(hazards::environment_hazards(input));
    findings.extend(hazards::build_script_env(input));
    findings.extend(source::unfiltered_source(input));
    findings.extend(source::filter_drops_input(input));
    findings.extend(source::directory_kept_for_one_file(input));
    findings.sort();
    findings.dedup();
    findings
}

/// A rebuild hazard that is not a unit difference. Produced by [`find`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub id: FindingId,
    pub severity: Severity,
    /// Where what causes it is written (a file, or a line of it).
    #[serde(serialize_with = "serialize_location")]
    pub location: Option<SourceLocation>,
    pub message: String,
    pub fix: String,
}

/// What a finding is about: the JSON `id` values.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum FindingId {
    BindgenRandomSeed,
    BuildScriptEnv,
    CheckRunsNothing,
    DevBuildOverride,
    PathDependencyOutsideWorkspace,
    PkgConfigInputs,
    #[serde(rename = "pyo3-python")]
    Pyo3Python,
    RootPackageAndWorkspace,
    SelectionMismatch,
    SrcFilterDropsInput,
    SrcKeepsDirectory,
    SrcNotFiltered,
}

impl FindingId {
    /// The stable code, as in the JSON.
    pub fn code(self) -> &'static str {
        match self {
            FindingId::BindgenRandomSeed => "bindgen-random-seed",
            FindingId::BuildScriptEnv => "build-script-env",
            FindingId::CheckRunsNothing => "check-runs-nothing",
            FindingId::DevBuildOverride => "dev-build-override",
            FindingId::PathDependencyOutsideWorkspace => "path-dependency-outside-workspace",
            FindingId::PkgConfigInputs => "pkg-config-inputs",
            FindingId::Pyo3Python => "pyo3-python",
            FindingId::RootPackageAndWorkspace => "root-package-and-workspace",
            FindingId::SelectionMismatch => "selection-mismatch",
            FindingId::SrcFilterDropsInput => "src-filter-drops-input",
            FindingId::SrcKeepsDirectory => "src-keeps-directory",
            FindingId::SrcNotFiltered => "src-not-filtered",
        }
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Info,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

fn finding(
    id: FindingId,
    severity: Severity,
    location: Option<SourceLocation>,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        id,
        severity,
        location,
        message,
        fix,
    }
}

/// `a`, `a` and `b`, `a`, `b` and `c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
