//! `cache-miss report`'s orchestration: plan each phase's cargo calls, resolve them in
//! parallel, diff every phase against the artifacts it inherits, explain the misses.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};

use crate::cargo::metadata::DependencyIndex;
use crate::cargo::run::{progress_bar, run_parallel};
use crate::cargo::{CargoRunner, Invocation, Plan, UnitGraph, plan};
use crate::diff::{DiffGraph, diff_phase};
use crate::findings::FindingsInput;
use crate::phase::{Phase, PhaseSet};

use super::explain::{ExplainContext, explain_misses};
use super::{PhaseReport, PhaseSummary, Report, Timings, UnitCounts};

/// Each phase's cargo calls, deduplicated: calls whose unit graphs must be equal are
/// resolved once. Produced by [`plan_phases`].
#[derive(Debug, Clone, Default)]
pub struct PhasePlans {
    pub invocations: Vec<Invocation>,
    /// Per phase (same order as the set): indices into `invocations`.
    pub by_phase: Vec<Vec<usize>>,
    /// Per phase: commands that could not be resolved.
    pub unsupported: Vec<Vec<String>>,
}

pub fn plan_phases(set: &PhaseSet) -> PhasePlans {
    let mut plans = PhasePlans::default();
    let mut seen: BTreeMap<Invocation, usize> = BTreeMap::new();
    for phase in &set.phases {
        let mut indices = Vec::new();
        let mut unsupported = Vec::new();
        for command in &phase.commands {
            match plan(command, &phase.env, phase.toolchain.as_deref()) {
                Plan::Resolve(invocation) => {
                    let next = seen.len();
                    let index = *seen.entry(invocation.clone()).or_insert_with(|| {
                        plans.invocations.push(invocation);
                        next
                    });
                    if !indices.contains(&index) {
                        indices.push(index);
                    }
                }
                Plan::NoCompile => {}
                Plan::Unsupported(why) => unsupported.push(format!(
                    "{}: {why}; its units are not counted",
                    command.display()
                )),
            }
        }
        plans.by_phase.push(indices);
        plans.unsupported.push(unsupported);
    }
    plans
}

/// Resolves every phase of `set` and compares it with its inherited artifacts.
pub fn analyze(set: &PhaseSet, phase_source: &str, runner: &CargoRunner) -> Result<Report> {
    analyze_with(set, phase_source, runner, None)
}

/// [`analyze`], reading build-script outputs from a previous build's `target_dir` for the
/// findings.
pub fn analyze_with(
    set: &PhaseSet,
    phase_source: &str,
    runner: &CargoRunner,
    target_dir: Option<&Path>,
) -> Result<Report> {
    let started = Instant::now();
    let cargo = runner.check_version()?;
    let plans = plan_phases(set);
    let bar = progress_bar(plans.invocations.len() as u64 + 1, "resolving unit graphs");
    let (graphs, metadata) = std::thread::scope(|scope| {
        let metadata = scope.spawn(|| runner.metadata());
        let graphs = run_parallel(&plans.invocations, &bar, |inv| runner.unit_graph(inv));
        let metadata = metadata
            .join()
            .unwrap_or_else(|_| Err(anyhow!("`cargo metadata` did not finish")));
        bar.inc(1);
        (graphs, metadata)
    });
    bar.finish_and_clear();
    let graphs = collect_graphs(set, &plans, graphs)?;
    let metadata = metadata?;
    let resolved = Instant::now();
    let index = DependencyIndex::from_metadata(&metadata)
        .context("`cargo metadata` names a package cache-miss cannot read")?;
    let diff_graphs: Vec<DiffGraph> = graphs
        .iter()
        .zip(&plans.invocations)
        .map(|(g, inv)| DiffGraph::from_unit_graph(g, inv, &cargo.host))
        .collect();
    let phases: Vec<PhaseReport> = set
        .phases
        .iter()
        .enumerate()
        .map(|(i, phase)| phase_report(set, i, phase, &plans, &diff_graphs, &index))
        .collect();
    let findings = crate::findings::find(&FindingsInput {
        set,
        plans: &plans,
        graphs: &diff_graphs,
        metadata: &metadata,
        source_root: &runner.dir,
        reports: &phases,
        target_dir,
    });
    Ok(Report {
        workspace_root: metadata.workspace_root.to_string(),
        phase_source: phase_source.to_string(),
        phases,
        findings,
        warnings: Vec::new(),
        cargo,
        timings: Timings {
            resolve: resolved - started,
            analyze: resolved.elapsed(),
            resolutions: plans.invocations.len(),
        },
    })
}

/// The graphs in invocation order, or the first failure named by phase (with where it is
/// defined) and command.
fn collect_graphs(
    set: &PhaseSet,
    plans: &PhasePlans,
    results: Vec<Result<UnitGraph>>,
) -> Result<Vec<UnitGraph>> {
    results
        .into_iter()
        .enumerate()
        .map(|(i, result)| {
            result.with_context(|| {
                let invocation = &plans.invocations[i];
                let users: Vec<String> = set
                    .phases
                    .iter()
                    .zip(&plans.by_phase)
                    .filter(|(_, indices)| indices.contains(&i))
                    .map(|(phase, _)| match &phase.origin {
                        Some(origin) => format!("`{}` (defined at {origin})", phase.name),
                        None => format!("`{}`", phase.name),
                    })
                    .collect();
                format!(
                    "phase {}: `{} --unit-graph` failed",
                    users.join(", "),
                    invocation.display()
                )
            })
        })
        .collect()
}

fn phase_report(
    set: &PhaseSet,
    i: usize,
    phase: &Phase,
    plans: &PhasePlans,
    graphs: &[DiffGraph],
    index: &DependencyIndex,
) -> PhaseReport {
    let mut notes = phase.notes.clone();
    let (sources, inherits_nothing) = inherited_sources(set, phase);
    if let Some(name) = &inherits_nothing {
        notes.push(format!(
            "`{name}` does not install its target/ (doInstallCargoArtifacts = false), so this phase inherits no artifacts from it"
        ));
    }
    let position = |name: &str| set.phases.iter().position(|p| p.name == name);
    let source_indices: Vec<usize> = sources
        .iter()
        .filter_map(|p| position(&p.name))
        .flat_map(|s| plans.by_phase[s].iter().copied())
        .collect();
    let needed_indices = &plans.by_phase[i];
    let needed: Vec<&DiffGraph> = needed_indices.iter().map(|&n| &graphs[n]).collect();
    let cached: Vec<&DiffGraph> = source_indices.iter().map(|&n| &graphs[n]).collect();
    let mut diff = diff_phase(&cached, &needed);
    let builds_from_scratch = sources.is_empty();
    if builds_from_scratch {
        // Nothing inherited: the phase builds its own dependencies; that is not a miss.
        diff.counts.cached = 0;
        diff.counts.missed = 0;
        diff.misses.clear();
        if phase.function != crate::phase::CraneFunction::BuildDepsOnly && diff.counts.needed > 0 {
            notes.push(format!(
                "no cargoArtifacts: this phase compiles all {} dependency units itself",
                diff.counts.needed
            ));
        }
    }
    let ctx = ExplainContext {
        phase,
        sources,
        phase_invocations: needed_indices
            .iter()
            .map(|&n| &plans.invocations[n])
            .collect(),
        source_invocations: source_indices
            .iter()
            .map(|&n| &plans.invocations[n])
            .collect(),
        needed,
        index,
    };
    let misses = explain_misses(&ctx, &diff);
    let mut summary = PhaseSummary::of(phase);
    summary
        .approximations
        .extend(plans.unsupported[i].iter().cloned());
    summary.notes = notes;
    PhaseReport {
        phase: summary,
        units: UnitCounts {
            needed: diff.counts.needed,
            cached: diff.counts.cached,
            missed: diff.counts.missed,
            local: diff.counts.local,
        },
        misses,
        missed_before: None,
    }
}

/// The phases whose `target/` reaches `phase`, nearest first, up to the first one that does
/// not install its artifacts (whose name is returned too: nothing passes through it).
fn inherited_sources<'a>(set: &'a PhaseSet, phase: &Phase) -> (Vec<&'a Phase>, Option<String>) {
    let mut sources = Vec::new();
    for source in set.artifact_chain(phase) {
        if !source.installs_artifacts {
            return (sources, Some(source.name.clone()));
        }
        sources.push(source);
    }
    (sources, None)
}
