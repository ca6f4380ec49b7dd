//! Findings: rebuild hazards that are not unit differences — how the source is filtered,
//! how the workspace is laid out, and environment that build scripts watch.

mod hazards;
mod layout;
pub mod source;

use std::collections::BTreeSet;
use std::path::Path;

use crate::cargo::Invocation;
use crate::diff::DiffGraph;
use crate::phase::{Phase, PhaseSet};
use crate::report::analyze::PhasePlans;
use crate::report::{Finding, PhaseReport};

/// What the findings look at. Built by `report::analyze`.
pub struct FindingsInput<'a> {
    pub set: &'a PhaseSet,
    pub plans: &'a PhasePlans,
    /// One per entry of `plans.invocations`.
    pub graphs: &'a [DiffGraph],
    pub metadata: &'a cargo_metadata::Metadata,
    pub source_root: &'a Path,
    pub reports: &'a [PhaseReport],
    /// A previous build's target dir, whose build-script outputs say what they watch.
    pub target_dir: Option<&'a Path>,
}

impl FindingsInput<'_> {
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
        self.set.phases.iter().position(|p| p.name == phase.name)
    }

    fn missed(&self, phase: &Phase) -> usize {
        self.reports
            .iter()
            .find(|r| r.phase.name == phase.name)
            .map_or(0, |r| r.units.missed)
    }

    /// Names of the non-local packages in any phase's resolved graph.
    fn packages_in_graphs(&self) -> BTreeSet<String> {
        self.graphs
            .iter()
            .flat_map(|g| g.units.iter())
            .filter(|u| !u.local)
            .map(|u| u.key.pkg_id.name.clone())
            .collect()
    }

    /// `file:line` of a phase's definition, if known.
    fn location(&self, phase: &Phase) -> Option<String> {
        phase.origin.clone()
    }
}

/// Every finding, ordered by id then location.
pub fn find(input: &FindingsInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(layout::root_package_and_workspace(input));
    findings.extend(layout::selection_mismatch(input));
    findings.extend(hazards::environment_hazards(input));
    findings.extend(hazards::build_script_env(input));
    findings.extend(source::unfiltered_source(input));
    findings.extend(source::filter_drops_input(input));
    findings.sort();
    findings.dedup();
    findings
}

fn finding(
    id: &str,
    severity: &str,
    location: Option<String>,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        id: id.to_string(),
        severity: severity.to_string(),
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
