//! Advice that holds: every fix line of a report is applied as written to its deps-only
//! phase and the phase analysed again; a line that would leave its units missing says so.
//! The session remembers cargo's answers, so only the changed deps-only calls are
//! resolved, and [`CheckAhead`] starts those while the report's own calls still run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use anyhow::Result;

use crate::cargo::Invocation;
use crate::cargo::SelectionFlag;
use crate::explain::{Fix, FixCheck, FixStep};
use crate::parallel::{lock, run_parallel};
use crate::phase::{AttrValue, CraneFunction, PhaseSet, PhaseSpec, materialize_implicit_deps};
use crate::plan::plan_phases_where;
use crate::progress::{Progress, Silent, Stage};
use crate::report::analyze::{AnalyzeOptions, Depth, analyze};
use crate::report::{Lookahead, PhaseReport, PhaseStatus, Report};
use crate::source::load::LoadedPhases;

/// How many changes a round of checks analysed, and how many it did not need to.
#[derive(Default, Clone, Copy)]
struct Tally {
    analysed: usize,
    skipped: usize,
}

/// One fix line of one phase, and the units it is printed for (their deep identities).
#[derive(Clone)]
struct Advice {
    phase: String,
    fix: Fix,
    units: BTreeSet<u32>,
}

/// Checks every distinct fix line of `report` (the report on `loaded`) and records the
/// result on each miss that carries it. A phase with a line that does not hold alone gets
/// one line with all its steps, when together they remove its misses.
pub(crate) fn check_advice(
    loaded: &LoadedPhases,
    ahead: &CheckAhead,
    report: &mut Report,
    progress: &dyn Progress,
) {
    let advice = distinct_advice(report);
    if advice.is_empty() {
        return;
    }
    let checker = Checker {
        missed_before: report
            .phases
            .iter()
            .map(|p| (p.phase.name.clone(), p.units.missed))
            .collect(),
        ..Checker::new(loaded)
    };
    let (checks, mut tally) = checker.check_all(&advice, ahead, progress);
    for (advice, check) in advice.iter().zip(&checks) {
        record(report, advice, &advice.fix.steps, check.clone());
    }
    let failing: Vec<&Advice> = advice
        .iter()
        .zip(&checks)
        .filter(|(_, check)| matches!(check, FixCheck::LeavesMisses { .. }))
        .map(|(advice, _)| advice)
        .collect();
    let joined = joined_advice(&advice, &failing);
    let (checks, joined_tally) = checker.check_all(&joined, ahead, &Silent);
    tally.analysed += joined_tally.analysed;
    tally.skipped += joined_tally.skipped;
    for (joined, check) in joined.iter().zip(checks) {
        if !matches!(check, FixCheck::Holds | FixCheck::Worsens { .. }) {
            continue;
        }
        // Together they remove every miss of the phase: one line says it (and whether it
        // hurts the other phases that share the buildDepsOnly).
        for line in advice.iter().filter(|a| a.phase == joined.phase) {
            record(report, line, &joined.fix.steps, check.clone());
        }
    }
    // A line that holds only by hurting the other phases of a shared buildDepsOnly: the
    // same change on a buildDepsOnly of the phase's own is printed instead when it holds.
    // That outcome follows from the check just made: the own copy's cargo calls are the
    // changed shared one's, and it serves the phase and the phases inheriting from it,
    // which miss as they did then. It holds when none of those got worse.
    for line in distinct_advice(report) {
        let Some(FixCheck::Worsens { phases: worse }) = &line.fix.check else {
            continue;
        };
        let Some(own) = checker.own_deps(&line) else {
            continue;
        };
        tally.skipped += 1;
        if !worse
            .iter()
            .any(|w| inherits_from(&loaded.phases, w, &line.phase))
        {
            record(report, &line, &own.fix.steps, FixCheck::Holds);
        }
    }
    report.timings.fix_checks = tally.analysed;
    report.timings.fix_checks_skipped = tally.skipped;
}

/// Whether phase `name` takes its artifacts from `ancestor`, directly or through others.
fn inherits_from(set: &PhaseSet, name: &str, ancestor: &str) -> bool {
    let Some(i) = set.phases.iter().position(|p| p.name == name) else {
        return false;
    };
    set.chain_positions(i)
        .any(|p| set.phases[p].name == ancestor)
}

/// The fix-line check's lookahead: as soon as a phase is explained, the deps-only phases
/// its fix lines change are planned. Once every phase such a change serves is explained,
/// the change is analysed on the answers in hand; when its lines hold there, they hold
/// with all of its calls (a larger cache misses no more), and none is made. Otherwise its
/// calls are queued, while the report's own calls still run.
pub(crate) struct CheckAhead<'a> {
    checker: Checker<'a>,
    state: Mutex<AheadState>,
}

#[derive(Default)]
struct AheadState {
    /// Each explained phase's missed units.
    missed: BTreeMap<String, usize>,
    /// Changes whose calls are queued.
    queued: BTreeSet<String>,
    /// Changes waiting for the phases they serve to be explained, with their lines.
    waiting: Vec<(String, Change, Vec<Advice>)>,
    /// Changes all of whose lines held on the answers in hand: that analysis.
    held: BTreeMap<String, Report>,
}

impl<'a> CheckAhead<'a> {
    pub(crate) fn new(loaded: &'a LoadedPhases) -> CheckAhead<'a> {
        CheckAhead {
            checker: Checker::new(loaded),
            state: Mutex::default(),
        }
    }

    /// Whether `advice` (whose change has `key`) held on the answers in hand.
    fn held(&self, key: &str, advice: &Advice, missed_before: &BTreeMap<String, usize>) -> bool {
        let state = lock(&self.state);
        state
            .held
            .get(key)
            .is_some_and(|report| judge(advice, Ok(report), missed_before) == FixCheck::Holds)
    }
}

impl Lookahead for CheckAhead<'_> {
    fn explained(&self, phase: &PhaseReport) -> Vec<Invocation> {
        let mut state = lock(&self.state);
        let state = &mut *state;
        state
            .missed
            .insert(phase.phase.name.clone(), phase.units.missed);
        let mut calls = Vec::new();
        for advice in advice_of(std::slice::from_ref(phase)) {
            let Some((key, change)) = self.checker.change(&advice) else {
                continue;
            };
            if state.queued.contains(&key) {
                continue;
            }
            if let Some(report) = state.held.get(&key) {
                if judge(&advice, Ok(report), &state.missed) != FixCheck::Holds {
                    state.held.remove(&key);
                    calls.extend(self.queue(state, key, &change));
                }
                continue;
            }
            match state.waiting.iter_mut().find(|(k, ..)| *k == key) {
                Some((.., lines)) => lines.push(advice),
                None => state.waiting.push((key, change, vec![advice])),
            }
        }
        for (key, change, lines) in std::mem::take(&mut state.waiting) {
            let Ok(set) = PhaseSet::from_specs(change.specs.clone()) else {
                continue;
            };
            let served = served_by(&set, &change.deps);
            let ready = set
                .phases
                .iter()
                .zip(&served)
                .all(|(p, &served)| !served || state.missed.contains_key(&p.name));
            if !ready {
                state.waiting.push((key, change, lines));
                continue;
            }
            let in_hand = self.checker.analyze_on(&set, &change.deps, true);
            match in_hand {
                Ok(report)
                    if lines
                        .iter()
                        .all(|l| judge(l, Ok(&report), &state.missed) == FixCheck::Holds) =>
                {
                    state.held.insert(key, report);
                }
                _ => calls.extend(self.queue(state, key, &change)),
            }
        }
        calls
    }
}

impl CheckAhead<'_> {
    /// `change`'s cargo calls, to be queued now.
    fn queue(&self, state: &mut AheadState, key: String, change: &Change) -> Vec<Invocation> {
        state.queued.insert(key);
        let Ok(set) = PhaseSet::from_specs(change.specs.clone()) else {
            return Vec::new();
        };
        plan_phases_where(&set, |i| set.phases[i].name == change.deps, |_| None).invocations
    }
}

/// What every check starts from.
struct Checker<'a> {
    loaded: &'a LoadedPhases,
    /// The phases as their source states them, implicit deps-only phases made explicit.
    specs: Vec<PhaseSpec>,
    missed_before: BTreeMap<String, usize>,
}

/// The phases with one deps-only phase changed; lines whose changes come out the same
/// share one analysis.
struct Change {
    deps: String,
    specs: Vec<PhaseSpec>,
}

impl<'a> Checker<'a> {
    fn new(loaded: &'a LoadedPhases) -> Checker<'a> {
        Checker {
            loaded,
            specs: materialize_implicit_deps(&loaded.specs),
            missed_before: BTreeMap::new(),
        }
    }

    /// Checks each line: one analysis per distinct change, in parallel, but none for a
    /// change all of whose lines held on the answers in hand (see [`CheckAhead`]).
    /// Also says how many changes were analysed, and how many skipped.
    fn check_all(
        &self,
        advice: &[Advice],
        ahead: &CheckAhead,
        progress: &dyn Progress,
    ) -> (Vec<FixCheck>, Tally) {
        let mut keys: BTreeMap<String, usize> = BTreeMap::new();
        let mut changes: Vec<(Change, bool)> = Vec::new();
        let change_of: Vec<Option<usize>> = advice
            .iter()
            .map(|a| {
                let (key, change) = self.change(a)?;
                let held = ahead.held(&key, a, &self.missed_before);
                let next = changes.len();
                let index = *keys.entry(key).or_insert(next);
                if index == next {
                    changes.push((change, held));
                } else {
                    changes[index].1 &= held;
                }
                Some(index)
            })
            .collect();
        let skipped = changes.iter().filter(|(_, held)| *held).count();
        let tally = Tally {
            analysed: changes.len() - skipped,
            skipped,
        };
        let stage = Stage::begin(progress, "checking fix lines", tally.analysed);
        let done = |(c, held): &(Change, bool)| {
            if !held {
                progress.step(&c.deps)
            }
        };
        let afters = run_parallel(&changes, &done, |(c, held)| {
            (!held).then(|| self.analyze(c))
        });
        drop(stage);
        let checks = advice
            .iter()
            .zip(change_of)
            .map(|(a, change)| match change.map(|i| &afters[i]) {
                Some(None) => FixCheck::Holds,
                Some(Some(after)) => judge(a, after.as_ref(), &self.missed_before),
                None => FixCheck::NotCheckable,
            })
            .collect();
        (checks, tally)
    }

    /// `advice` (a line that worsens the other phases of its shared deps-only phase) as
    /// the same steps on a deps-only phase of the phase's own: `None` when the phase takes
    /// its artifacts through another phase, or the steps are no change to attributes.
    fn own_deps(&self, advice: &Advice) -> Option<Advice> {
        let deps = advice.fix.deps_phase.as_deref()?;
        let phase = self.specs.iter().find(|s| s.name == advice.phase)?;
        if phase.attrs.get("cargoArtifacts") != Some(&AttrValue::Str(deps.to_string())) {
            return None;
        }
        let mut name = own_deps_name(deps, &advice.phase);
        while self.specs.iter().any(|s| s.name == name) {
            name.push('_');
        }
        let shared = self.specs.iter().find(|s| s.name == deps)?;
        let mut own = shared.clone();
        if !apply(&mut own, &advice.fix.steps) {
            return None;
        }
        Some(Advice {
            phase: advice.phase.clone(),
            fix: crate::explain::Fix {
                deps_phase: Some(deps.to_string()),
                steps: vec![FixStep::OwnDepsOnly {
                    name,
                    steps: advice.fix.steps.clone(),
                    attrs: changed_attributes(shared, &own),
                }],
                check: None,
            },
            units: advice.units.clone(),
        })
    }

    /// The phases with the line applied to its deps-only phase, and a key saying what
    /// that phase then is.
    fn change(&self, advice: &Advice) -> Option<(String, Change)> {
        let deps = advice.fix.deps_phase.as_deref()?;
        let mut specs = self.specs.clone();
        if let [FixStep::OwnDepsOnly { name, steps, .. }] = advice.fix.steps.as_slice() {
            // A copy of the deps-only phase, changed, serving this phase alone.
            let mut own = specs.iter().find(|s| s.name == deps)?.clone();
            own.name = name.clone();
            if !apply(&mut own, steps) {
                return None;
            }
            let phase = specs.iter_mut().find(|s| s.name == advice.phase)?;
            phase
                .attrs
                .insert("cargoArtifacts".into(), AttrValue::Str(name.clone()));
            let key = format!("{name}\n{:?}\n{:?}", own.attrs, own.env);
            specs.push(own);
            let deps = name.clone();
            return Some((key, Change { deps, specs }));
        }
        let spec = specs.iter_mut().find(|s| s.name == deps)?;
        if !apply(spec, &advice.fix.steps) {
            return None;
        }
        let key = format!("{deps}\n{:?}\n{:?}", spec.attrs, spec.env);
        Some((
            key,
            Change {
                deps: deps.to_string(),
                specs,
            },
        ))
    }

    /// The changed phases analysed again: the deps-only phase and every phase it serves.
    fn analyze(&self, change: &Change) -> Result<Report> {
        let set = PhaseSet::from_specs(change.specs.clone())?;
        self.analyze_on(&set, &change.deps, false)
    }

    /// The phases of `set` that `deps` serves, analysed (`in_hand`: on the answers in
    /// hand only).
    fn analyze_on(&self, set: &PhaseSet, deps: &str, in_hand: bool) -> Result<Report> {
        let served = served_by(set, deps);
        let excluded: BTreeSet<String> = set
            .phases
            .iter()
            .zip(served)
            .filter(|(_, served)| !served)
            .map(|(p, _)| p.name.clone())
            .collect();
        let options = AnalyzeOptions {
            target_dir: None,
            excluded: &excluded,
            depth: Depth::Counted,
            lookahead: None,
            in_hand,
        };
        analyze(set, "", self.loaded.session(), &options, &Silent)
    }
}

/// What the analysis after the change says of one line, given each phase's missed units
/// before it.
fn judge(
    advice: &Advice,
    after: Result<&Report, &anyhow::Error>,
    missed_before: &BTreeMap<String, usize>,
) -> FixCheck {
    {
        let all = advice.units.len();
        let phase = after.ok().and_then(|after| {
            after
                .phases
                .iter()
                .find(|p| p.phase.name == advice.phase && p.status == PhaseStatus::Ok)
        });
        // The change itself does not resolve (a flag cargo rejects): it does not hold.
        let (Ok(after), Some(phase)) = (after, phase) else {
            return FixCheck::LeavesMisses {
                remaining: all,
                of: all,
            };
        };
        let missed: BTreeSet<u32> = phase.missed_units.iter().copied().collect();
        let remaining = advice.units.intersection(&missed).count();
        let worse: Vec<String> = after
            .phases
            .iter()
            .filter(|p| p.status == PhaseStatus::Ok && p.phase.name != advice.phase)
            .filter(|p| p.units.missed > missed_before.get(&p.phase.name).copied().unwrap_or(0))
            .map(|p| p.phase.name.clone())
            .collect();
        match (remaining, worse.is_empty()) {
            (0, true) => FixCheck::Holds,
            (0, false) => FixCheck::Worsens { phases: worse },
            (remaining, _) => FixCheck::LeavesMisses { remaining, of: all },
        }
    }
}

/// Per phase of `set`: whether `deps` is up its artifact chain. Each phase is walked up
/// only to the first phase already known, so a long chain costs its length once.
fn served_by(set: &PhaseSet, deps: &str) -> Vec<bool> {
    let mut served: Vec<Option<bool>> = vec![None; set.phases.len()];
    for start in 0..set.phases.len() {
        let mut path = vec![start];
        let mut answer = false;
        let mut above = set.chain_positions(start).next();
        while let Some(p) = above {
            if set.phases[p].name == deps {
                answer = true;
                break;
            }
            if let Some(known) = served[p] {
                answer = known;
                break;
            }
            path.push(p);
            above = set.chain_positions(p).next();
        }
        for i in path {
            served[i].get_or_insert(answer);
        }
    }
    served.into_iter().map(|s| s.unwrap_or(false)).collect()
}

/// Per phase with a failing line: every step of the phase's lines, in order, once.
fn joined_advice(all: &[Advice], failing: &[&Advice]) -> Vec<Advice> {
    let phases: BTreeSet<&str> = failing.iter().map(|a| a.phase.as_str()).collect();
    phases
        .into_iter()
        .filter_map(|phase| {
            let lines: Vec<&Advice> = all.iter().filter(|a| a.phase == phase).collect();
            let deps_phase = lines[0].fix.deps_phase.clone();
            if lines.iter().any(|a| a.fix.deps_phase != deps_phase) || lines.len() < 2 {
                return None;
            }
            let mut steps: Vec<FixStep> = Vec::new();
            for step in lines.iter().flat_map(|a| &a.fix.steps) {
                if !steps.contains(step) {
                    steps.push(step.clone());
                }
            }
            Some(Advice {
                phase: phase.to_string(),
                fix: Fix {
                    deps_phase,
                    steps,
                    check: None,
                },
                units: lines.iter().flat_map(|a| a.units.iter().cloned()).collect(),
            })
        })
        .collect()
}

/// Sets the fix of every miss that carries `advice`'s line to `steps`, checked.
fn record(report: &mut Report, advice: &Advice, steps: &[FixStep], check: FixCheck) {
    let phase = report
        .phases
        .iter_mut()
        .filter(|p| p.phase.name == advice.phase);
    for miss in phase.flat_map(|p| p.misses.iter_mut()) {
        if miss.fix.steps == advice.fix.steps && miss.fix.deps_phase == advice.fix.deps_phase {
            miss.fix.steps = steps.to_vec();
            miss.fix.check = Some(check.clone());
        }
    }
}

/// The fix lines of the analysed phases' root misses, each with the units it covers.
fn distinct_advice(report: &Report) -> Vec<Advice> {
    advice_of(&report.phases)
}

/// [`distinct_advice`] of some phases.
fn advice_of(phases: &[PhaseReport]) -> Vec<Advice> {
    let mut advice: Vec<Advice> = Vec::new();
    for phase in phases.iter().filter(|p| p.status == PhaseStatus::Ok) {
        for miss in phase.misses.iter().filter(|m| m.is_root()) {
            let same = advice.iter_mut().find(|a| {
                a.phase == phase.phase.name
                    && a.fix.steps == miss.fix.steps
                    && a.fix.deps_phase == miss.fix.deps_phase
            });
            match same {
                Some(a) => {
                    a.units.insert(miss.unit_id.0);
                }
                None => advice.push(Advice {
                    phase: phase.phase.name.clone(),
                    fix: miss.fix.clone(),
                    units: BTreeSet::from([miss.unit_id.0]),
                }),
            }
        }
    }
    advice
}

/// Writes the steps into the deps-only phase's attributes, as the fix line says them;
/// `false` when a step is not such a change.
fn apply(spec: &mut PhaseSpec, steps: &[FixStep]) -> bool {
    let function = match spec.attrs.get("function") {
        Some(AttrValue::Str(name)) => CraneFunction::from_name(name),
        _ => None,
    };
    let default_args = function.map_or("--locked", CraneFunction::default_cargo_extra_args);
    let mut args: Vec<String> = match spec.attrs.get("cargoExtraArgs") {
        Some(AttrValue::Str(text)) => shell_words::split(text).unwrap_or_default(),
        _ => shell_words::split(default_args).unwrap_or_default(),
    };
    let mut attrs: BTreeMap<String, AttrValue> = BTreeMap::new();
    for step in steps {
        match step {
            FixStep::KeepDoCheck | FixStep::BuildTestTargets => {
                attrs.insert("doCheck".into(), AttrValue::Bool(true));
            }
            FixStep::AddAllFeatures => args.push("--all-features".into()),
            FixStep::SamePackageSelection { flags } => {
                args = vec!["--locked".into()];
                args.extend(flags.iter().flat_map(SelectionFlag::args));
            }
            FixStep::DropNarrowing { flags } => {
                for flag in flags {
                    args = without(&args, &flag.args());
                }
            }
            FixStep::SameFeatureFlags { flags } | FixStep::SameTargetSelection { flags } => {
                args.extend(flags.iter().flat_map(SelectionFlag::args));
            }
            FixStep::SameTarget {
                target: Some(target),
            } => args.extend(["--target".to_string(), target.clone()]),
            FixStep::SameProfile { profile } => {
                attrs.insert("CARGO_PROFILE".into(), AttrValue::Str(profile.clone()));
            }
            FixStep::SameProfileSettings { changes } | FixStep::SameRustflags { changes }
                if !changes.is_empty() =>
            {
                for change in changes {
                    match &change.phase {
                        Some(value) => spec.env.insert(change.name.clone(), value.clone()),
                        None => spec.env.remove(&change.name),
                    };
                }
            }
            _ => return false,
        }
    }
    let args = args
        .iter()
        .map(|a| shell_words::quote(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    attrs.insert("cargoExtraArgs".into(), AttrValue::Str(args));
    spec.attrs.extend(attrs);
    true
}

/// What `after` sets that `before` does not, as Nix attributes (`doCheck = true`,
/// `RUSTFLAGS = "--cfg loom"`); an environment variable removed is `null`. A
/// `cargoExtraArgs` equal to crane's default is no change.
fn changed_attributes(before: &PhaseSpec, after: &PhaseSpec) -> Vec<String> {
    let default_args = match before.attrs.get("function") {
        Some(AttrValue::Str(name)) => CraneFunction::from_name(name),
        _ => None,
    }
    .map_or("--locked", CraneFunction::default_cargo_extra_args);
    let before_value = |name: &str| match before.attrs.get(name) {
        None if name == "cargoExtraArgs" => Some(AttrValue::Str(default_args.to_string())),
        value => value.cloned(),
    };
    let attrs = after
        .attrs
        .iter()
        .filter(|(name, value)| before_value(name).as_ref() != Some(*value))
        .map(|(name, value)| format!("{name} = {value}"));
    let set = after
        .env
        .iter()
        .filter(|(name, value)| before.env.get(*name) != Some(value))
        .map(|(name, value)| format!("{name} = {value:?}"));
    let removed = before
        .env
        .keys()
        .filter(|name| !after.env.contains_key(*name))
        .map(|name| format!("{name} = null"));
    attrs.chain(set).chain(removed).collect()
}

/// `args` without the words of `dropped` (a flag and its value drop together).
fn without(args: &[String], dropped: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let window = &args[i..(i + dropped.len()).min(args.len())];
        if !dropped.is_empty() && window == dropped {
            i += dropped.len();
        } else {
            kept.push(args[i].clone());
            i += 1;
        }
    }
    kept
}

/// The name of a deps-only phase of `phase`'s own, made from the shared one (`deps`):
/// `cargoArtifacts-agent`; a suffix both names end in is written once
/// (`cargoArtifacts-aarch64` for `agent-aarch64`: `cargoArtifacts-agent-aarch64`).
pub(crate) fn own_deps_name(deps: &str, phase: &str) -> String {
    let mut base = deps;
    for (at, _) in deps.match_indices('-') {
        let (head, suffix) = deps.split_at(at);
        if !head.is_empty() && phase.len() > suffix.len() && phase.ends_with(suffix) {
            base = head;
            break;
        }
    }
    format!("{base}-{phase}")
}

#[cfg(test)]
mod tests {
    use super::own_deps_name;

    #[test]
    fn an_own_deps_name_writes_a_shared_suffix_once() {
        assert_eq!(
            own_deps_name("cargoArtifacts", "agent"),
            "cargoArtifacts-agent"
        );
        assert_eq!(
            own_deps_name("cargoArtifacts-aarch64", "agent-aarch64"),
            "cargoArtifacts-agent-aarch64"
        );
        assert_eq!(own_deps_name("app-deps", "app"), "app-deps-app");
        assert_eq!(own_deps_name("x-static", "-static"), "x-static--static");
    }
}
