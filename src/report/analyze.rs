//! `cache-miss report`'s orchestration: plan each phase's cargo calls, resolve them in
//! parallel, diff every phase against the artifacts it inherits, explain the misses.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};

use crate::cargo::metadata::DependencyIndex;
use crate::cargo::run::{CargoInfo, run_parallel};
use crate::cargo::toolchain::ToolchainOrigin;
use crate::cargo::{CargoRunner, UnitGraph};
use crate::diff::{DiffGraph, diff_phase};
use crate::findings::FindingsInput;
use crate::input::LoadedPhases;
use crate::phase::{Note, Phase, PhaseSet};
use crate::plan::{PhasePlans, plan_phases_where};
use crate::progress::{Progress, Stage};

use super::{PhaseReport, PhaseStatus, PhaseSummary, Report, Timings};
use crate::explain::{ExplainContext, explain_misses};

/// What an analysis is asked besides the phases.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions<'a> {
    /// A previous build's target dir, whose build-script outputs the findings read.
    pub target_dir: Option<&'a Path>,
    /// Phases left out on purpose (`--exclude`, `--only`).
    pub excluded: &'a BTreeSet<String>,
}

/// The report on loaded phases, with what their source could not resolve among its
/// warnings. `target_dir`: a previous build's, for the findings.
pub fn analyze_loaded(
    loaded: &LoadedPhases,
    target_dir: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Report> {
    let runner = loaded.runner();
    let options = AnalyzeOptions {
        target_dir,
        excluded: &loaded.excluded,
    };
    let mut report = analyze_with(
        &loaded.phases,
        &loaded.description,
        &runner,
        &options,
        progress,
    )?;
    report
        .warnings
        .splice(0..0, loaded.warnings.iter().cloned());
    Ok(report)
}

/// Resolves every phase of `set` and compares it with its inherited artifacts.
pub fn analyze(
    set: &PhaseSet,
    phase_source: &str,
    runner: &CargoRunner,
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Report> {
    analyze_with(set, phase_source, runner, options, progress)
}

/// [`analyze`] with the options spelled out.
pub fn analyze_with(
    set: &PhaseSet,
    phase_source: &str,
    runner: &CargoRunner,
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Report> {
    let started = Instant::now();
    let cargo = runner.check_version()?;
    let mut statuses = initial_statuses(set, options.excluded);
    let needed = needed_phases(set, &statuses);
    let plans = plan_phases_where(set, |i| needed[i]);
    let stage = Stage::begin(
        progress,
        "resolving unit graphs",
        plans.invocations.len() + 1,
    );
    let (graphs, metadata) = std::thread::scope(|scope| {
        let metadata = scope.spawn(|| runner.metadata());
        let done = |inv: &crate::cargo::Invocation| progress.step(&inv.display());
        let graphs = run_parallel(&plans.invocations, &done, |inv| runner.unit_graph(inv));
        let metadata = metadata
            .join()
            .unwrap_or_else(|_| Err(anyhow!("`cargo metadata` did not finish")));
        progress.step("cargo metadata");
        (graphs, metadata)
    });
    drop(stage);
    let metadata = metadata?;
    let resolved = Instant::now();
    let workspace = WorkspaceFacts {
        index: DependencyIndex::from_metadata(&metadata)
            .context("`cargo metadata` names a package cache-miss cannot read")?,
        default_packages: default_packages(&metadata),
    };
    let diff_graphs: Vec<Option<DiffGraph>> = graphs
        .iter()
        .zip(&plans.invocations)
        .map(|(g, inv)| {
            g.as_ref()
                .ok()
                .map(|g| DiffGraph::from_unit_graph(g, inv, &cargo.host))
        })
        .collect();
    mark_failures(set, &plans, &graphs, &mut statuses);
    let phases: Vec<PhaseReport> = set
        .phases
        .iter()
        .enumerate()
        .map(|(i, phase)| match &statuses[i] {
            (PhaseStatus::Ok | PhaseStatus::Excluded, _) if needed[i] => {
                let mut report =
                    phase_report(set, i, phase, &plans, &diff_graphs, &workspace, &runner.dir);
                report.status = statuses[i].0;
                report
            }
            (status, error) => unanalysed(phase, *status, error.clone()),
        })
        .collect();
    let resolved_graphs: Vec<DiffGraph> = diff_graphs.into_iter().flatten().collect();
    let findings = crate::findings::find(&FindingsInput {
        set,
        plans: &plans,
        graphs: &resolved_graphs,
        metadata: &metadata,
        source_root: &runner.dir,
        missed: &phases.iter().map(|p| p.units.missed).collect::<Vec<_>>(),
        analysed: &phases
            .iter()
            .map(|p| p.status == PhaseStatus::Ok)
            .collect::<Vec<_>>(),
        target_dir: options.target_dir,
    });
    Ok(Report {
        workspace_root: metadata.workspace_root.to_string(),
        phase_source: phase_source.to_string(),
        phases,
        findings,
        warnings: toolchain_mismatches(set, &cargo)
            .into_iter()
            .chain(runner.withheld_config_notes())
            .collect(),
        cargo,
        costs: None,
        baseline: None,
        timings: Timings {
            resolve: resolved - started,
            analyze: resolved.elapsed(),
            resolutions: plans.invocations.len(),
        },
    })
}

/// What the explanations need to know of the workspace, from `cargo metadata`.
struct WorkspaceFacts {
    index: DependencyIndex,
    default_packages: Vec<String>,
}

/// The packages cargo builds when a command names none: the `default-members`, else the
/// root package, else every member.
fn default_packages(metadata: &cargo_metadata::Metadata) -> Vec<String> {
    let name_of = |id: &cargo_metadata::PackageId| {
        metadata
            .packages
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.to_string())
    };
    let mut names: Vec<String> = if metadata.workspace_default_members.is_available() {
        metadata
            .workspace_default_members
            .iter()
            .filter_map(name_of)
            .collect()
    } else if let Some(root) = metadata.root_package() {
        vec![root.name.to_string()]
    } else {
        metadata
            .workspace_members
            .iter()
            .filter_map(name_of)
            .collect()
    };
    names.sort();
    names
}

/// Phases whose flake names a Rust release (`rust-bin.stable."1.82.0"`, a fenix or
/// `fromRustupToolchainFile` pin resolved elsewhere is not known) other than the cargo that
/// resolved the report: one warning per such toolchain.
fn toolchain_mismatches(set: &PhaseSet, cargo: &CargoInfo) -> Vec<Note> {
    let mut seen = BTreeSet::new();
    set.phases
        .iter()
        .filter_map(|phase| {
            let toolchain = phase.toolchain.as_deref()?;
            let Some(release) = rust_release_in(toolchain) else {
                return floating_mismatch(phase, toolchain, cargo, &mut seen);
            };
            let same = cargo.release == release
                || cargo.release.starts_with(&format!("{release}."));
            if same || !seen.insert(toolchain.to_string()) {
                return None;
            }
            let text = format!(
                "`{}` builds with Rust {release} ({toolchain}), but cargo {} resolved this report: another toolchain can resolve other units; pin {release} in rust-toolchain.toml, or run cache-miss with RUSTUP_TOOLCHAIN={release}",
                phase.name, cargo.release
            );
            Some(Note {
                location: phase.origin.clone(),
                text,
            })
        })
        .collect()
}

/// A phase whose toolchain follows a channel (`rust-bin.stable.latest`) while the cargo
/// resolving the report is pinned by a toolchain file to another one: a warning.
/// (`RUSTUP_TOOLCHAIN` is not a pin here: rustup sets it for every tool it runs.)
fn floating_mismatch(
    phase: &Phase,
    toolchain: &str,
    cargo: &CargoInfo,
    seen: &mut BTreeSet<String>,
) -> Option<Note> {
    let channel = crate::phase::crane::floating_channel(toolchain)?;
    let pinned = &cargo.toolchain.origin;
    let pinned_name = cargo.toolchain.toolchain.as_deref().unwrap_or_default();
    let same_channel = ["stable", "beta", "nightly"]
        .iter()
        .any(|c| pinned_name.starts_with(c) && channel.contains(c));
    if !matches!(pinned, ToolchainOrigin::File(_))
        || same_channel
        || !seen.insert(toolchain.to_string())
    {
        return None;
    }
    Some(Note {
        location: phase.origin.clone(),
        text: format!(
            "`{}` builds with {channel} ({toolchain}), but cargo {} (pinned by {pinned}) resolved this report: another toolchain can resolve other units, so this phase's results hold for {} only",
            phase.name, cargo.release, cargo.release
        ),
    })
}

/// The first `1.NN` or `1.NN.N` release named in a toolchain expression.
fn rust_release_in(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|start| {
        let before_ok =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'.');
        if !before_ok || !text[start..].starts_with("1.") {
            return None;
        }
        let release: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let release = release.trim_end_matches('.');
        let parts = release.split('.').count();
        (2..=3).contains(&parts).then(|| release.to_string())
    })
}

/// Each phase's status before cargo runs: excluded, not evaluable (itself or a phase it
/// inherits from), else ok.
fn initial_statuses(
    set: &PhaseSet,
    excluded: &BTreeSet<String>,
) -> Vec<(PhaseStatus, Option<String>)> {
    set.phases
        .iter()
        .map(|phase| {
            if let Some(error) = not_evaluable(phase) {
                return (PhaseStatus::NotEvaluable, Some(error));
            }
            if let Some(source) = set
                .artifact_chain(phase)
                .into_iter()
                .find(|s| not_evaluable(s).is_some())
            {
                let error = format!(
                    "its artifacts come from `{}`, which Nix cannot evaluate",
                    source.name
                );
                return (PhaseStatus::NotEvaluable, Some(error));
            }
            if excluded.contains(&phase.name) {
                return (PhaseStatus::Excluded, None);
            }
            (PhaseStatus::Ok, None)
        })
        .collect()
}

/// Why Nix cannot evaluate a phase's own definition, if it cannot.
fn not_evaluable(phase: &Phase) -> Option<String> {
    phase
        .not_evaluable
        .as_ref()
        .map(|n| format!("{}: {}", n.location, n.message))
}

/// Which phases cargo must resolve: those analysed, and those whose artifacts they inherit.
fn needed_phases(set: &PhaseSet, statuses: &[(PhaseStatus, Option<String>)]) -> Vec<bool> {
    let mut needed: Vec<bool> = statuses
        .iter()
        .map(|(status, _)| *status == PhaseStatus::Ok)
        .collect();
    for (i, (status, _)) in statuses.iter().enumerate() {
        if *status == PhaseStatus::Ok {
            for s in set.chain_positions(i) {
                needed[s] = true;
            }
        }
    }
    needed
}

/// Marks the phases cargo could not resolve, and those that inherit from them, failed
/// with a one-line reason.
fn mark_failures(
    set: &PhaseSet,
    plans: &PhasePlans,
    graphs: &[Result<UnitGraph>],
    statuses: &mut [(PhaseStatus, Option<String>)],
) {
    let own_failure = |i: usize| {
        plans.by_phase[i].iter().find_map(|&n| {
            let err = graphs[n].as_ref().err()?;
            Some(format!(
                "`{} --unit-graph` failed: {}",
                plans.invocations[n].display(),
                first_error_line(err)
            ))
        })
    };
    let failures: Vec<Option<String>> = (0..set.phases.len()).map(own_failure).collect();
    for i in 0..set.phases.len() {
        // An excluded phase stays excluded, though it failed for a phase inheriting from it.
        if statuses[i].0 != PhaseStatus::Ok {
            continue;
        }
        let inherited = set.chain_positions(i).find_map(|s| {
            failures[s].as_ref().map(|_| {
                format!(
                    "its artifacts come from `{}`, which cargo could not resolve",
                    set.phases[s].name
                )
            })
        });
        if let Some(error) = failures[i].clone().or(inherited) {
            statuses[i] = (PhaseStatus::Failed, Some(error));
        }
    }
}

/// The line of cargo's error that says what is wrong (the innermost `error: ...`), without
/// the prefix.
fn first_error_line(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|line| line.starts_with("error"))
        .or_else(|| text.lines().map(str::trim).find(|line| !line.is_empty()))
        .unwrap_or("cargo failed");
    line.trim_start_matches("error:").trim().to_string()
}

/// A phase that was not analysed: its summary and why.
fn unanalysed(phase: &Phase, status: PhaseStatus, error: Option<String>) -> PhaseReport {
    PhaseReport {
        phase: PhaseSummary::of(phase),
        status,
        error,
        units: Default::default(),
        misses: Vec::new(),
        missed_before: None,
        costs: None,
    }
}

fn phase_report(
    set: &PhaseSet,
    i: usize,
    phase: &Phase,
    plans: &PhasePlans,
    graphs: &[Option<DiffGraph>],
    workspace: &WorkspaceFacts,
    dir: &Path,
) -> PhaseReport {
    let mut notes = phase.notes.clone();
    notes.extend(plans.withheld(i, dir));
    let (sources, inherits_nothing) = inherited_sources(set, phase);
    if let Some(name) = &inherits_nothing {
        notes.push(Note::new(format!(
            "`{name}` does not install its target/ (doInstallCargoArtifacts = false), so this phase inherits no artifacts from it"
        )));
    }
    // Each distinct cargo call once: a chain of phases running the same command leaves
    // the same units, and diffing them once per phase would cost the chain's length squared.
    let mut seen = std::collections::HashSet::new();
    let source_indices: Vec<usize> = set
        .chain_positions(i)
        .take(sources.len())
        .flat_map(|s| plans.by_phase[s].iter().copied())
        .filter(|n| seen.insert(*n))
        .collect();
    let needed_indices = &plans.by_phase[i];
    // Every graph here resolved: a phase with a failed graph, or inheriting one, is failed.
    let resolved = |n: &usize| graphs[*n].as_ref();
    let needed: Vec<&DiffGraph> = needed_indices.iter().filter_map(resolved).collect();
    let cached: Vec<&DiffGraph> = source_indices.iter().filter_map(resolved).collect();
    let mut diff = diff_phase(&cached, &needed);
    let builds_from_scratch = sources.is_empty();
    if builds_from_scratch {
        // Nothing inherited: the phase builds its own dependencies; that is not a miss.
        diff.counts.cached = 0;
        diff.counts.missed = 0;
        diff.misses.clear();
        if phase.function != crate::phase::CraneFunction::BuildDepsOnly && diff.counts.needed > 0 {
            notes.push(Note::new(format!(
                "no cargoArtifacts: this phase compiles all {} dependency units itself",
                diff.counts.needed
            )));
        }
    }
    let ctx = ExplainContext {
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
        index: &workspace.index,
        default_packages: &workspace.default_packages,
    };
    let misses = explain_misses(&ctx, &diff);
    let mut summary = PhaseSummary::of(phase);
    summary
        .approximations
        .extend(plans.unsupported[i].iter().cloned().map(Note::new));
    summary.notes = notes;
    PhaseReport {
        phase: summary,
        status: PhaseStatus::Ok,
        error: None,
        units: diff.counts,
        misses,
        missed_before: None,
        costs: None,
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

#[cfg(test)]
mod tests {
    use super::rust_release_in;

    #[test]
    fn rust_releases_are_found_in_toolchain_expressions() {
        let found = |text: &str| rust_release_in(text);
        assert_eq!(
            found(
                r#"(crane.mkLib pkgs).overrideToolchain (p: p.rust-bin.stable."1.82.0".default)"#
            ),
            Some("1.82.0".into())
        );
        assert_eq!(
            found("craneLib.overrideToolchain fenix.packages.toolchainOf { channel = \"1.76\"; }"),
            Some("1.76".into())
        );
        assert_eq!(found("p.rust-bin.nightly.latest.default"), None);
        assert_eq!(found("pkgs.python311"), None);
        assert_eq!(found("v21.1.5"), None);
    }
}
