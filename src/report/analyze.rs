//! `cache-miss report`'s orchestration: plan each phase's cargo calls, resolve them in
//! parallel, diff every phase against the artifacts it inherits, explain the misses.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::diff::{DiffGraph, Differ, Reason};
use crate::findings::FindingsInput;
use crate::located::Note;
use crate::phase::{Phase, PhaseSet};
use crate::plan::{PhasePlans, plan_phases_where};
use crate::progress::{Progress, Stage};
use crate::session::{NotInHand, Session, WorkspaceFacts};
use crate::source::load::LoadedPhases;

use super::resolve::{Ahead, Lookahead, resolve};
use super::toolchains::PhaseToolchains;
use super::{PhaseReport, PhaseStatus, PhaseSummary, Report, Timings};
use crate::explain::{ExplainContext, explain_misses};

/// What an analysis is asked besides the phases.
#[derive(Clone)]
pub(crate) struct AnalyzeOptions<'a> {
    /// A previous build's target dir, whose build-script outputs the findings read.
    pub target_dir: Option<&'a Path>,
    /// Phases left out on purpose (`--exclude`, `--only`).
    pub excluded: &'a BTreeSet<String>,
    pub depth: Depth,
    /// Told each phase's explanation as soon as its graphs are in, to start the cargo
    /// calls that follow from it while the others still run (`Depth::Explained` only).
    pub lookahead: Option<&'a dyn Lookahead>,
    /// Only the answers in hand: no cargo call is made. A call of an analysed phase that
    /// is not in hand is an error; one of the phases they inherit from is left out of
    /// their cache, so they miss at least what they would with it.
    pub in_hand: bool,
}

/// How much an analysis says of each phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Every miss explained, and the findings: the report a user reads.
    Explained,
    /// Unit counts and the missed units' identities only, no explanations, no findings:
    /// what comparing one change with another needs (`fix`, the fix-line check).
    Counted,
}

/// The report on loaded phases, with what their source could not resolve among its
/// warnings. `target_dir`: a previous build's, for the findings.
pub fn analyze_loaded(
    loaded: &LoadedPhases,
    target_dir: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Report> {
    analyze_loaded_with(loaded, target_dir, None, progress)
}

/// [`analyze_loaded`], telling `lookahead` of each phase explained.
pub(crate) fn analyze_loaded_with(
    loaded: &LoadedPhases,
    target_dir: Option<&Path>,
    lookahead: Option<&dyn Lookahead>,
    progress: &dyn Progress,
) -> Result<Report> {
    let options = AnalyzeOptions {
        target_dir,
        excluded: &loaded.excluded,
        depth: Depth::Explained,
        lookahead,
        in_hand: false,
    };
    let mut report = analyze(
        &loaded.phases,
        &loaded.description,
        loaded.session(),
        &options,
        progress,
    )?;
    report
        .warnings
        .splice(0..0, loaded.warnings.iter().cloned());
    Ok(report)
}

/// Resolves every phase of `set` and compares it with its inherited artifacts.
pub(crate) fn analyze(
    set: &PhaseSet,
    phase_source: &str,
    session: &Session,
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Report> {
    let runner = session.runner();
    let started = Instant::now();
    let cargo = runner.check_version()?;
    let toolchains = PhaseToolchains::of(set, runner, &cargo);
    let chains = Chains::of(set);
    let mut statuses = initial_statuses(set, &chains, options.excluded);
    let needed = needed_phases(&chains, &statuses);
    let plans = plan_phases_where(set, |i| needed[i], |i| toolchains.rustup_toolchain(i));
    let inherited = Inherited::of(set, &chains, &plans);
    let ahead = options
        .lookahead
        .filter(|_| options.depth == Depth::Explained)
        .map(|lookahead| Ahead {
            lookahead,
            set,
            inherited: &inherited,
            phases: (0..set.phases.len())
                .filter(|&i| needed[i] && statuses[i].0 == PhaseStatus::Ok)
                .collect(),
        });
    let stage = Stage::begin(
        progress,
        "resolving unit graphs",
        plans.invocations.len() + 1,
    );
    let resolved = resolve(
        session,
        &plans,
        &cargo.host,
        ahead.as_ref(),
        options.in_hand,
        progress,
    );
    drop(stage);
    let graphs = resolved.graphs;
    let mut explained = resolved.explained;
    let analysed = |i: usize| needed[i] && statuses[i].0 == PhaseStatus::Ok;
    if let Some(i) = (0..set.phases.len())
        .find(|&i| analysed(i) && plans.by_phase[i].iter().any(|&n| not_in_hand(&graphs[n])))
    {
        bail!("`{}`'s calls are not all resolved yet", set.phases[i].name);
    }
    let metadata = resolved.metadata?;
    let resolved_at = Instant::now();
    let workspace = session.workspace(&metadata)?;
    mark_failures(set, &chains, &plans, &graphs, &mut statuses);
    let mut differ = Differ::new(
        graphs
            .iter()
            .map(|g| g.as_deref().ok().map(|g| (&g.graph, g.ids.as_slice())))
            .collect(),
    );
    let analysis = Analysis {
        set,
        plans: &plans,
        inherited: &inherited,
        workspace: &workspace,
        dir: &runner.dir,
        depth: options.depth,
    };
    let phases: Vec<PhaseReport> = set
        .phases
        .iter()
        .enumerate()
        .map(|(i, phase)| {
            let mut report = match &statuses[i] {
                (PhaseStatus::Ok | PhaseStatus::Excluded, _) if needed[i] => {
                    // The lookahead's report, made as soon as the phase's graphs were in.
                    let early = explained.get_mut(i).and_then(Option::take);
                    let mut report =
                        early.unwrap_or_else(|| analysis.phase_report(i, phase, &mut differ));
                    report.status = statuses[i].0;
                    report
                }
                (status, error) => unanalysed(phase, *status, error.clone()),
            };
            toolchains.describe(i, &mut report, &cargo);
            report
        })
        .collect();
    drop(differ);
    let findings = match options.depth {
        Depth::Explained => {
            let resolved_graphs: Vec<Option<&DiffGraph>> = graphs
                .iter()
                .map(|g| g.as_deref().ok().map(|g| &g.graph))
                .collect();
            crate::findings::find(&FindingsInput {
                set,
                plans: &plans,
                graphs: &resolved_graphs,
                metadata: &metadata,
                source_root: &runner.dir,
                missed: &phases.iter().map(|p| p.units.missed).collect::<Vec<_>>(),
                selection_missed: &phases.iter().map(selection_missed).collect::<Vec<_>>(),
                analysed: &phases
                    .iter()
                    .map(|p| p.status == PhaseStatus::Ok)
                    .collect::<Vec<_>>(),
                target_dir: options.target_dir,
            })
        }
        Depth::Counted => Vec::new(),
    };
    Ok(Report {
        workspace_root: metadata.workspace_root.to_string(),
        phase_source: phase_source.to_string(),
        phases,
        findings,
        warnings: toolchains
            .warnings
            .into_iter()
            .chain(runner.withheld_config_notes())
            .collect(),
        cargo,
        costs: None,
        baseline: None,
        timings: Timings {
            resolve: resolved_at - started,
            analyze: resolved_at.elapsed(),
            resolutions: plans.invocations.len(),
            ahead: resolved.ahead,
            fix_checks: 0,
            fix_checks_skipped: 0,
        },
    })
}

/// Each phase's status before cargo runs: excluded, not evaluable (itself or a phase it
/// inherits from), else ok.
fn initial_statuses(
    set: &PhaseSet,
    chains: &Chains,
    excluded: &BTreeSet<String>,
) -> Vec<(PhaseStatus, Option<String>)> {
    let nearest_unevaluable = chains.nearest(|s| set.phases[s].not_evaluable.is_some());
    set.phases
        .iter()
        .enumerate()
        .map(|(i, phase)| {
            if let Some(error) = not_evaluable(phase) {
                return (PhaseStatus::NotEvaluable, Some(error));
            }
            if let Some(source) = nearest_unevaluable[i].map(|s| &set.phases[s]) {
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
fn needed_phases(chains: &Chains, statuses: &[(PhaseStatus, Option<String>)]) -> Vec<bool> {
    let mut needed: Vec<bool> = statuses
        .iter()
        .map(|(status, _)| *status == PhaseStatus::Ok)
        .collect();
    // Children before parents: a needed phase makes its parent needed.
    for &i in chains.order.iter().rev() {
        if let (true, Some(parent)) = (needed[i], chains.parent[i]) {
            needed[parent] = true;
        }
    }
    needed
}

/// Marks the phases cargo could not resolve, and those that inherit from them, failed
/// with a one-line reason.
fn mark_failures<T>(
    set: &PhaseSet,
    chains: &Chains,
    plans: &PhasePlans,
    graphs: &[Result<T>],
    statuses: &mut [(PhaseStatus, Option<String>)],
) {
    let own_failure = |i: usize| {
        plans.by_phase[i].iter().find_map(|&n| {
            let err = graphs[n]
                .as_ref()
                .err()
                .filter(|_| !not_in_hand(&graphs[n]))?;
            Some(format!(
                "`{} --unit-graph` failed: {}",
                plans.invocations[n].display(),
                first_error_line(err)
            ))
        })
    };
    let failures: Vec<Option<String>> = (0..set.phases.len()).map(own_failure).collect();
    let nearest_failed = chains.nearest(|s| failures[s].is_some());
    for i in 0..set.phases.len() {
        // An excluded phase stays excluded, though it failed for a phase inheriting from it.
        if statuses[i].0 != PhaseStatus::Ok {
            continue;
        }
        let inherited = nearest_failed[i].map(|s| {
            format!(
                "its artifacts come from `{}`, which cargo could not resolve",
                set.phases[s].name
            )
        });
        if let Some(error) = failures[i].clone().or(inherited) {
            statuses[i] = (PhaseStatus::Failed, Some(error));
        }
    }
}

/// Whether a call was left out of an analysis of the answers in hand.
fn not_in_hand<T>(graph: &Result<T>) -> bool {
    graph.as_ref().is_err_and(|err| err.is::<NotInHand>())
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
        cargo: None,
        units: Default::default(),
        misses: Vec::new(),
        missed_before: None,
        costs: None,
        missed_units: Vec::new(),
    }
}

/// What every phase's report draws on.
pub(super) struct Analysis<'a> {
    pub(super) set: &'a PhaseSet,
    pub(super) plans: &'a PhasePlans,
    pub(super) inherited: &'a [Inherited],
    pub(super) workspace: &'a WorkspaceFacts,
    pub(super) dir: &'a Path,
    pub(super) depth: Depth,
}

impl Analysis<'_> {
    pub(super) fn phase_report(&self, i: usize, phase: &Phase, differ: &mut Differ) -> PhaseReport {
        let (set, plans) = (self.set, self.plans);
        let inherited = &self.inherited[i];
        let mut notes = phase.notes.clone();
        notes.extend(plans.withheld(i, self.dir));
        if let Some(stop) = inherited.stops_at {
            notes.push(Note::new(format!(
                "`{}` does not install its target/ (doInstallCargoArtifacts = false), so this phase inherits no artifacts from it",
                set.phases[stop].name
            )));
        }
        let source_indices = &inherited.invocations;
        let needed_indices = &plans.by_phase[i];
        // Every graph here resolved: a phase with a failed graph, or inheriting one, is failed.
        let diff = differ.diff(source_indices, needed_indices);
        let mut counts = diff.counts;
        let builds_from_scratch = inherited.sources == 0;
        if builds_from_scratch {
            // Nothing inherited: the phase builds its own dependencies; that is not a miss.
            counts.cached = 0;
            counts.missed = 0;
            if phase.function != crate::phase::CraneFunction::BuildDepsOnly && counts.needed > 0 {
                notes.push(Note::new(format!(
                    "no cargoArtifacts: this phase compiles all {} dependency units itself",
                    counts.needed
                )));
            }
        }
        let missed_units = if builds_from_scratch {
            Vec::new()
        } else {
            diff.misses.iter().map(|m| m.id).collect()
        };
        // No misses, nothing to explain: the context (the whole chain above) is not built.
        let misses =
            if builds_from_scratch || diff.misses.is_empty() || self.depth == Depth::Counted {
                Vec::new()
            } else {
                let ctx = ExplainContext {
                    sources: set
                        .chain_positions(i)
                        .take(inherited.sources)
                        .map(|s| &set.phases[s])
                        .collect(),
                    phase_invocations: needed_indices
                        .iter()
                        .map(|&n| &plans.invocations[n])
                        .collect(),
                    source_invocations: source_indices
                        .iter()
                        .map(|&n| &plans.invocations[n])
                        .collect(),
                    source_indices,
                    needed: needed_indices
                        .iter()
                        .filter_map(|&n| differ.graph(n))
                        .collect(),
                    index: &self.workspace.index,
                    default_packages: &self.workspace.default_packages,
                };
                explain_misses(&ctx, &diff)
            };
        let mut summary = PhaseSummary::of(phase);
        summary
            .approximations
            .extend(plans.unsupported[i].iter().cloned().map(Note::new));
        summary.notes = notes;
        PhaseReport {
            phase: summary,
            status: PhaseStatus::Ok,
            error: None,
            cargo: None,
            units: counts,
            misses,
            missed_before: None,
            costs: None,
            missed_units,
        }
    }
}

/// Each phase's parent and an order in which every phase comes after the one it inherits
/// from: per-phase facts about a chain are computed from the parent's in one pass, so a
/// chain of n phases costs n steps, not n².
struct Chains {
    parent: Vec<Option<usize>>,
    /// Parents before children.
    order: Vec<usize>,
}

impl Chains {
    fn of(set: &PhaseSet) -> Chains {
        let count = set.phases.len();
        let parent: Vec<Option<usize>> =
            (0..count).map(|i| set.chain_positions(i).next()).collect();
        let mut placed = vec![false; count];
        let mut order = Vec::with_capacity(count);
        for start in 0..count {
            let mut path = Vec::new();
            let mut next = Some(start);
            while let Some(i) = next.filter(|&i| !placed[i]) {
                placed[i] = true;
                path.push(i);
                next = parent[i];
            }
            order.extend(path.into_iter().rev());
        }
        Chains { parent, order }
    }

    /// For each phase, `step(i, the parent and its value)`, parents first.
    fn fold<T>(&self, mut step: impl FnMut(usize, Option<(usize, &T)>) -> T) -> Vec<T> {
        let mut values: Vec<Option<T>> = (0..self.parent.len()).map(|_| None).collect();
        for &i in &self.order {
            let parent = self.parent[i].and_then(|p| Some((p, values[p].as_ref()?)));
            values[i] = Some(step(i, parent));
        }
        values.into_iter().flatten().collect()
    }

    /// For each phase, the nearest phase up its chain for which `holds` does.
    fn nearest(&self, holds: impl Fn(usize) -> bool) -> Vec<Option<usize>> {
        self.fold(|_, parent| {
            let (p, above) = parent?;
            if holds(p) { Some(p) } else { *above }
        })
    }
}

/// What reaches a phase's `target/` from the phases up its chain.
pub(super) struct Inherited {
    /// How many phases up the chain it inherits from: up to the first that does not
    /// install its artifacts.
    sources: usize,
    /// That phase, if the chain has one.
    stops_at: Option<usize>,
    /// The cargo calls of those phases, each once, nearest phase first.
    pub(super) invocations: Arc<[usize]>,
}

impl Inherited {
    fn of(set: &PhaseSet, chains: &Chains, plans: &PhasePlans) -> Vec<Inherited> {
        chains.fold(|_, parent| {
            let nothing = |stops_at| Inherited {
                sources: 0,
                stops_at,
                invocations: Arc::from([]),
            };
            let Some((p, above)) = parent else {
                return nothing(None);
            };
            if !set.phases[p].installs_artifacts {
                return nothing(Some(p));
            }
            let own = &plans.by_phase[p];
            // A chain repeating its calls shares one list.
            let invocations = if above.invocations.starts_with(own) {
                above.invocations.clone()
            } else {
                let mut seen = HashSet::new();
                own.iter()
                    .chain(above.invocations.iter())
                    .copied()
                    .filter(|n| seen.insert(*n))
                    .collect()
            };
            Inherited {
                sources: above.sources + 1,
                stops_at: above.stops_at,
                invocations,
            }
        })
    }
}

/// How many of `phase`'s root misses cargo's selection (packages, features, targets,
/// platform) can cause: all but those of another profile, other rustflags or another
/// toolchain.
fn selection_missed(phase: &PhaseReport) -> usize {
    phase
        .misses
        .iter()
        .filter(|m| m.cascade_from.is_none())
        .filter(|m| {
            !matches!(
                m.cause.reason(),
                Reason::Profile | Reason::Rustflags | Reason::Toolchain
            )
        })
        .count()
}
