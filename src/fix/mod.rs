//! `cache-miss fix`: the smallest change to the deps-only phase(s) that leaves no
//! dependency miss, proven by re-running the analysis on the changed phases.

pub(crate) mod advice;
pub mod apply;
mod display;
pub(crate) mod nix;
mod nix_edit;
mod phases_edit;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde::Serialize;

use crate::cargo::invocation::package_selection;
use crate::cargo::{Invocation, SelectionFlag};
use crate::explain::{FixStep, MissCause};
use crate::phase::{AttrValue, CraneFunction, PhaseSet, PhaseSpec, materialize_implicit_deps};
use crate::plan::plan_phases;
use crate::progress::{Progress, Silent, Stage};
use crate::report::Report;
use crate::report::analyze::{AnalyzeOptions, Depth, analyze};
use crate::source::load::LoadedPhases;
pub use display::{fix_document, fix_json};

/// One verified change. Produced by [`propose`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Proposal {
    pub summary: String,
    /// The change as Nix to paste into the flake.
    pub nix: String,
    /// Misses of the phases the shared artifact can serve, before and after the change.
    pub missed_before: usize,
    pub missed_after: usize,
    /// Units the deps-only artifact(s) gain (negative: lose).
    pub extra_units: i64,
    /// The complete phase set after the change, in the phases-file schema.
    pub phases: serde_json::Value,
    /// The change as edits of the phases' definitions, for `fix --apply`.
    #[serde(skip)]
    pub edits: Vec<PhaseEdit>,
}

/// One change to the phases' definitions. Produced by [`propose`], applied by
/// [`apply::plan`].
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseEdit {
    /// Set these attributes on the phase's crane call (or table).
    Set {
        phase: String,
        attrs: BTreeMap<String, AttrValue>,
    },
    /// A new buildDepsOnly made like `like` with `attrs` added; `users` take their
    /// artifacts from it.
    NewDepsOnly {
        name: String,
        like: String,
        attrs: BTreeMap<String, AttrValue>,
        users: Vec<String>,
    },
}

/// A phase no shared artifact can serve (its rustflags or instrumentation differ).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NeverServed {
    pub phase: String,
    pub missed: usize,
    pub why: String,
}

/// The result of `cache-miss fix`. Produced by [`propose`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FixReport {
    /// Best first: fewest misses after, then crane's cheapest shape, then fewest extra units.
    pub proposals: Vec<Proposal>,
    pub never_served: Vec<NeverServed>,
    /// Where feature unification is the cause: what a workspace-hack crate would pin.
    pub feature_unification: Vec<String>,
    /// Candidates that could not be analysed (cargo refused them), with why.
    pub rejected: Vec<String>,
    /// Phases whose commands rest on values cache-miss could not know: the proposals are
    /// as good as those guesses.
    pub approximate_phases: Vec<String>,
}

/// A changed phase set and how to say it.
struct Candidate {
    summary: String,
    nix: String,
    specs: Vec<PhaseSpec>,
    edits: Vec<PhaseEdit>,
    /// crane's cost order: 1 = change buildDepsOnly's arguments, 2 = run every selection,
    /// 3 = one buildDepsOnly per selection.
    preference: usize,
}

/// Searches for changes that remove the misses of `before` (the report on `loaded`).
pub fn propose(
    loaded: &LoadedPhases,
    before: &Report,
    progress: &dyn Progress,
) -> Result<FixReport> {
    let specs = materialize_implicit_deps(&loaded.specs);
    let set = PhaseSet::from_specs(specs.clone())?;
    let plans = plan_phases(&set);
    let never_served = never_served(before);
    let skip: BTreeSet<&str> = never_served.iter().map(|n| n.phase.as_str()).collect();
    let missed_before = servable_misses(before, &skip);
    let mut report = FixReport {
        proposals: Vec::new(),
        never_served: never_served.clone(),
        feature_unification: feature_unification(before),
        rejected: Vec::new(),
        approximate_phases: before
            .phases
            .iter()
            .filter(|p| !p.phase.approximations.is_empty())
            .map(|p| p.phase.name.clone())
            .collect(),
    };
    if missed_before == 0 {
        return Ok(report);
    }
    // Only deps-only phases whose dependents miss anything are worth changing.
    let missing: BTreeSet<&str> = before
        .phases
        .iter()
        .filter(|p| p.units.missed > 0)
        .map(|p| p.phase.name.as_str())
        .collect();
    let mut groups = deps_groups(&set, &plans, &skip);
    groups.retain(|g| {
        g.dependents
            .iter()
            .any(|d| missing.contains(d.name.as_str()))
    });
    let mut candidates = Vec::new();
    candidates.extend(align_candidates(&specs, &groups));
    candidates.extend(run_every_selection(&specs, &groups));
    candidates.extend(split_per_selection(&specs, &groups, &missing));
    let artifact_units = |r: &Report| -> i64 {
        r.phases
            .iter()
            .filter(|p| p.phase.function == CraneFunction::BuildDepsOnly)
            .map(|p| p.units.needed as i64)
            .sum()
    };
    let base_units = artifact_units(before);
    let mut seen = BTreeSet::new();
    let mut ranked: Vec<(usize, Proposal)> = Vec::new();
    let stage = Stage::begin(progress, "trying fixes", candidates.len());
    for candidate in candidates {
        progress.step(&candidate.summary);
        if !seen.insert(candidate.nix.clone()) {
            continue;
        }
        let changed = PhaseSet::from_specs(candidate.specs.clone())?;
        let options = AnalyzeOptions {
            target_dir: None,
            excluded: &loaded.excluded,
            depth: Depth::Counted,
            lookahead: None,
            in_hand: false,
        };
        let after = match analyze(
            &changed,
            &loaded.description,
            loaded.session(),
            &options,
            &Silent,
        ) {
            Ok(after) => after,
            Err(err) => {
                report
                    .rejected
                    .push(format!("{}: {err:#}", candidate.summary));
                continue;
            }
        };
        let proposal = Proposal {
            summary: candidate.summary,
            nix: candidate.nix,
            missed_before,
            missed_after: servable_misses(&after, &skip),
            extra_units: artifact_units(&after) - base_units,
            phases: phases_file_json(&candidate.specs),
            edits: candidate.edits,
        };
        ranked.push((candidate.preference, proposal));
    }
    drop(stage);
    ranked.sort_by_key(|(preference, p)| (p.missed_after, *preference, p.extra_units));
    // Only changes that improve on the status quo are proposals.
    report.proposals = ranked
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| p.missed_after < p.missed_before)
        .collect();
    Ok(report)
}

/// The misses a proposal counts in `after`: those of every phase but the ones `before`
/// says no buildDepsOnly can serve.
pub fn missed_after(before: &Report, after: &Report) -> usize {
    let never = never_served(before);
    let skip: BTreeSet<&str> = never.iter().map(|n| n.phase.as_str()).collect();
    servable_misses(after, &skip)
}

fn servable_misses(report: &Report, skip: &BTreeSet<&str>) -> usize {
    report
        .phases
        .iter()
        .filter(|p| !skip.contains(p.phase.name.as_str()))
        .map(|p| p.units.missed)
        .sum()
}

/// Phases whose every unit misses for a reason no change to buildDepsOnly's arguments
/// removes: another crane lib / toolchain, instrumentation's own rustflags, or rustflags
/// that come from somewhere other than a phase's variables (a config file). Rustflags a
/// phase sets in its variables are a change to buildDepsOnly like any other.
fn never_served(report: &Report) -> Vec<NeverServed> {
    report
        .phases
        .iter()
        .filter_map(|p| {
            let miss = p.misses.iter().find(|m| match m.cause {
                MissCause::Toolchain { .. } => true,
                MissCause::Rustflags { .. } => !m.fix.steps.iter().any(
                    |step| matches!(step, FixStep::SameRustflags { changes } if !changes.is_empty()),
                ),
                _ => false,
            })?;
            let cause = miss.trigger_text().unwrap_or_default();
            let why = if matches!(miss.cause, MissCause::Toolchain { .. }) {
                format!("built by another crane lib (toolchain) than its artifact ({cause}): only a buildDepsOnly from the same crane lib can serve it")
            } else {
                format!("its rustflags differ ({cause}): only a buildDepsOnly with the same rustflags can serve it")
            };
            Some(NeverServed {
                phase: p.phase.name.clone(),
                missed: p.units.missed,
                why,
            })
        })
        .collect()
}

/// Each package whose root misses are feature differences, with every feature set the
/// phases and the deps-only builds use merged: what a workspace-hack crate would pin.
fn feature_unification(report: &Report) -> Vec<String> {
    let mut pins: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for miss in report
        .phases
        .iter()
        .flat_map(|p| &p.misses)
        .filter(|m| matches!(m.cause, MissCause::Features { .. }) && m.is_root())
    {
        pins.entry(format!("{}@{}", miss.package, miss.version))
            .or_default()
            .extend(
                miss.features
                    .iter()
                    .chain(miss.deps_only_features.iter().flatten())
                    .map(String::as_str),
            );
    }
    pins.into_iter()
        .map(|(package, features)| {
            let features: Vec<&str> = features.into_iter().collect();
            format!("{package} [{}]", features.join(", "))
        })
        .collect()
}

/// A deps-only phase and the phases that take their artifacts from it.
struct DepsGroup {
    deps: String,
    /// The deps-only phase's current profile and doCheck.
    profile: String,
    do_check: bool,
    /// Served dependents: name, invocations, profile, env.
    dependents: Vec<Dependent>,
    own: Vec<Invocation>,
}

struct Dependent {
    name: String,
    invocations: Vec<Invocation>,
    profile: String,
}

fn deps_groups(
    set: &PhaseSet,
    plans: &crate::plan::PhasePlans,
    skip: &BTreeSet<&str>,
) -> Vec<DepsGroup> {
    let invocations = |name: &str| -> Vec<Invocation> {
        let i = set.position(name).unwrap_or(0);
        plans.by_phase[i]
            .iter()
            .map(|&n| plans.invocations[n].clone())
            .collect()
    };
    set.phases
        .iter()
        .filter(|p| p.function == CraneFunction::BuildDepsOnly)
        .map(|deps| DepsGroup {
            deps: deps.name.clone(),
            profile: deps.profile.clone(),
            do_check: deps.do_check,
            own: invocations(&deps.name),
            dependents: set
                .phases
                .iter()
                .filter(|p| !skip.contains(p.name.as_str()))
                .filter(|p| set.artifact_chain(p).iter().any(|s| s.name == deps.name))
                .map(|p| Dependent {
                    name: p.name.clone(),
                    invocations: invocations(&p.name),
                    profile: p.profile.clone(),
                })
                .collect(),
        })
        .filter(|g| !g.dependents.is_empty())
        .collect()
}

fn package_flags(invocations: &[Invocation]) -> BTreeSet<SelectionFlag> {
    package_selection(&invocations.iter().collect::<Vec<_>>())
}

fn needs_dev_dependencies(invocations: &[Invocation]) -> bool {
    invocations.iter().any(|i| {
        matches!(i.subcommand, "test" | "bench")
            || i.selection
                .flags
                .iter()
                .any(SelectionFlag::needs_dev_dependencies)
    })
}

/// The value all dependents agree on, if they do.
fn shared<T: Clone + PartialEq>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let mut values = values.into_iter();
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

/// Candidate 1: change buildDepsOnly's own arguments (selection, doCheck, profile, env).
fn align_candidates(specs: &[PhaseSpec], groups: &[DepsGroup]) -> Vec<Candidate> {
    type Selector = (
        &'static str,
        fn(&DepsGroup) -> Option<BTreeSet<SelectionFlag>>,
    );
    let selectors: [Selector; 4] = [
        ("the selection its phases share", |g| {
            shared(g.dependents.iter().map(|d| package_flags(&d.invocations)))
        }),
        ("the union of its phases' selections", |g| {
            Some(
                g.dependents
                    .iter()
                    .flat_map(|d| package_flags(&d.invocations))
                    .collect(),
            )
        }),
        ("--workspace", |_| Some([SelectionFlag::Workspace].into())),
        ("--workspace --all-features", |_| {
            Some([SelectionFlag::Workspace, SelectionFlag::AllFeatures].into())
        }),
    ];
    selectors
        .iter()
        .filter_map(|(label, select)| {
            let (changed, nix, edits) = change_deps(specs, groups, |group| {
                Some(aligned_attrs(group, &select(group)?))
            })?;
            Some(Candidate {
                summary: format!("give buildDepsOnly {label}"),
                nix,
                specs: changed,
                edits,
                preference: 1,
            })
        })
        .collect()
}

/// Sets `attrs_for(group)` on every deps-only phase; the changed specs and the Nix
/// snippet saying so. `None` when a group has no such change.
fn change_deps(
    specs: &[PhaseSpec],
    groups: &[DepsGroup],
    attrs_for: impl Fn(&DepsGroup) -> Option<BTreeMap<String, AttrValue>>,
) -> Option<(Vec<PhaseSpec>, String, Vec<PhaseEdit>)> {
    let mut changed = specs.to_vec();
    let mut nix = Vec::new();
    let mut edits = Vec::new();
    for group in groups {
        let attrs = attrs_for(group)?;
        let spec = changed.iter_mut().find(|s| s.name == group.deps)?;
        nix.push(format!(
            "{}\n{}",
            nix::comment(&format!("buildDepsOnly `{}`{}", group.deps, origin(spec))),
            nix::crane_call("buildDepsOnly", &attrs)
        ));
        spec.attrs.extend(attrs.clone());
        edits.push(PhaseEdit::Set {
            phase: group.deps.clone(),
            attrs,
        });
    }
    Some((changed, nix.join("\n\n"), edits))
}

fn aligned_attrs(
    group: &DepsGroup,
    flags: &BTreeSet<SelectionFlag>,
) -> BTreeMap<String, AttrValue> {
    let mut attrs = BTreeMap::new();
    let mut args = vec!["--locked".to_string()];
    args.extend(flags.iter().map(ToString::to_string));
    attrs.insert("cargoExtraArgs".to_string(), AttrValue::Str(args.join(" ")));
    if !group.do_check
        && group
            .dependents
            .iter()
            .any(|d| needs_dev_dependencies(&d.invocations))
    {
        attrs.insert("doCheck".to_string(), AttrValue::Bool(true));
    }
    if let Some(profile) = shared(group.dependents.iter().map(|d| d.profile.clone())) {
        if profile != group.profile {
            attrs.insert("CARGO_PROFILE".to_string(), AttrValue::Str(profile));
        }
    }
    let own_env = group.own.first().map(|i| i.env.clone()).unwrap_or_default();
    for var in unit_env_vars(group) {
        let values = group
            .dependents
            .iter()
            .map(|d| d.invocations.first().and_then(|i| i.env.get(&var).cloned()));
        if let Some(Some(value)) = shared(values) {
            if own_env.get(&var) != Some(&value) {
                attrs.insert(var, AttrValue::Str(value));
            }
        }
    }
    attrs
}

/// Environment variables that change units (profile overrides, build target, rustflags)
/// set by any dependent.
fn unit_env_vars(group: &DepsGroup) -> BTreeSet<String> {
    group
        .dependents
        .iter()
        .flat_map(|d| d.invocations.iter().flat_map(|i| i.env.keys()))
        .filter(|k| {
            k.starts_with("CARGO_PROFILE_")
                || k.as_str() == "CARGO_BUILD_TARGET"
                || k.ends_with("RUSTFLAGS")
        })
        .cloned()
        .collect()
}

/// A shell line that builds what `invocation` compiles, with the environment it needs
/// beyond `base_env` written in front.
fn shell_line(invocation: &Invocation, base_env: &BTreeMap<String, String>) -> String {
    let mut words: Vec<String> = invocation
        .env
        .iter()
        .filter(|(k, v)| base_env.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}={}", shell_words::quote(v)))
        .collect();
    words.push("cargo".into());
    words.push(invocation.subcommand.into());
    // `cargo test --doc` cannot be told `--no-run`; `cargo test --no-run` with the same
    // selection builds every dependency the doctests need (dev-dependencies included).
    let mut args: Vec<&str> = invocation
        .args
        .iter()
        .map(String::as_str)
        .filter(|a| !matches!(*a, "--doc" | "--locked"))
        .collect();
    // `--locked` right after the profile, as crane writes it: commands that differ only in
    // `--locked` compile the same units and become one line.
    let after_profile = match args.first() {
        Some(&"--release") => 1,
        Some(&"--profile") => 2.min(args.len()),
        _ => 0,
    };
    args.insert(after_profile, "--locked");
    words.extend(args.iter().map(|a| shell_words::quote(a).into_owned()));
    if matches!(invocation.subcommand, "test" | "bench") {
        words.push("--no-run".into());
    }
    words.join(" ")
}

fn command_text(invocations: &[&Invocation], base_env: &BTreeMap<String, String>) -> String {
    let mut lines: Vec<String> = Vec::new();
    for invocation in invocations {
        let line = shell_line(invocation, base_env);
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines.join("\n") + "\n"
}

/// Candidate 2: buildDepsOnly runs every distinct cargo command its phases run; cargo keeps
/// the artifacts of each side by side in one target dir.
fn run_every_selection(specs: &[PhaseSpec], groups: &[DepsGroup]) -> Option<Candidate> {
    let (changed, nix, edits) = change_deps(specs, groups, |group| {
        let base_env = group.own.first().map(|i| i.env.clone()).unwrap_or_default();
        let all: Vec<&Invocation> = group
            .own
            .iter()
            .chain(group.dependents.iter().flat_map(|d| d.invocations.iter()))
            .collect();
        Some(command_attrs(&command_text(&all, &base_env)))
    })?;
    Some(Candidate {
        summary:
            "let buildDepsOnly run every cargo command its phases run (one artifact holds them all)"
                .into(),
        nix,
        specs: changed,
        edits,
        preference: 2,
    })
}

fn command_attrs(text: &str) -> BTreeMap<String, AttrValue> {
    let mut attrs = BTreeMap::new();
    attrs.insert(
        "buildPhaseCargoCommand".to_string(),
        AttrValue::Str(text.to_string()),
    );
    attrs.insert(
        "checkPhaseCargoCommand".to_string(),
        AttrValue::Str(String::new()),
    );
    attrs
}

/// Candidate 3: one buildDepsOnly per distinct selection, each phase that misses pointed
/// at its own (the others keep theirs).
fn split_per_selection(
    specs: &[PhaseSpec],
    groups: &[DepsGroup],
    missing: &BTreeSet<&str>,
) -> Option<Candidate> {
    let mut changed = specs.to_vec();
    let mut nix = Vec::new();
    let mut edits = Vec::new();
    let mut any_split = false;
    for group in groups {
        let deps_spec = changed.iter().find(|s| s.name == group.deps)?.clone();
        let mut by_selection: BTreeMap<Vec<String>, Vec<&Dependent>> = BTreeMap::new();
        let base_env = group.own.first().map(|i| i.env.clone()).unwrap_or_default();
        for dependent in group
            .dependents
            .iter()
            .filter(|d| missing.contains(d.name.as_str()))
        {
            let refs: Vec<&Invocation> = dependent.invocations.iter().collect();
            let key: Vec<String> = command_text(&refs, &base_env)
                .lines()
                .map(String::from)
                .collect();
            by_selection.entry(key).or_default().push(dependent);
        }
        let all_miss = by_selection.values().map(Vec::len).sum::<usize>() == group.dependents.len();
        if by_selection.is_empty() || (all_miss && by_selection.len() < 2) {
            continue;
        }
        any_split = true;
        for (lines, dependents) in by_selection {
            let name = advice::own_deps_name(&group.deps, &dependents[0].name);
            let mut spec = deps_spec.clone();
            spec.name = name.clone();
            spec.origin = None;
            let attrs = command_attrs(&(lines.join("\n") + "\n"));
            spec.attrs.extend(attrs.clone());
            let users: Vec<&str> = dependents.iter().map(|d| d.name.as_str()).collect();
            edits.push(PhaseEdit::NewDepsOnly {
                name: name.clone(),
                like: group.deps.clone(),
                attrs: attrs.clone(),
                users: users.iter().map(|u| u.to_string()).collect(),
            });
            nix.push(format!(
                "{}\n{} = {};",
                nix::comment(&format!(
                    "for {}: cargoArtifacts = {};",
                    users.join(", "),
                    nix_name(&name)
                )),
                nix_name(&name),
                nix::crane_call("buildDepsOnly", &attrs)
            ));
            for dependent in &dependents {
                if let Some(user) = changed.iter_mut().find(|s| s.name == dependent.name) {
                    user.attrs
                        .insert("cargoArtifacts".into(), AttrValue::Str(name.clone()));
                }
            }
            let at = changed
                .iter()
                .position(|s| s.name == group.deps)
                .map_or(0, |i| i + 1);
            changed.insert(at, spec);
        }
    }
    any_split.then(|| Candidate {
        summary: "one buildDepsOnly per distinct cargo selection, each phase on its own artifact"
            .into(),
        nix: nix.join("\n\n"),
        specs: changed,
        edits,
        preference: 3,
    })
}

/// A Nix identifier for a phase name (`deps-cli` → `depsCli`).
pub(crate) fn nix_name(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    // An identifier starts with a letter.
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "deps");
    }
    out
}

fn origin(spec: &PhaseSpec) -> String {
    spec.origin
        .as_ref()
        .map(|o| format!(" ({o})"))
        .unwrap_or_default()
}

fn attr_json(value: &AttrValue) -> serde_json::Value {
    match value {
        AttrValue::Str(s) => s.clone().into(),
        AttrValue::Bool(b) => (*b).into(),
        AttrValue::Int(i) => (*i).into(),
        AttrValue::List(items) => items.iter().map(attr_json).collect::<Vec<_>>().into(),
        AttrValue::Null => "".into(),
        AttrValue::Unknown(what) => format!("<{what}>").into(),
    }
}

/// The phases-file schema as JSON: `{"phases": {NAME: {attr: value, "env": {...}}}}`.
pub(crate) fn phases_file_json(specs: &[PhaseSpec]) -> serde_json::Value {
    let mut phases = serde_json::Map::new();
    for spec in specs {
        let mut table: serde_json::Map<String, serde_json::Value> = spec
            .attrs
            .iter()
            .map(|(k, v)| (k.clone(), attr_json(v)))
            .collect();
        if !spec.env.is_empty() {
            table.insert(
                "env".into(),
                serde_json::to_value(&spec.env).unwrap_or_default(),
            );
        }
        phases.insert(spec.name.clone(), table.into());
    }
    serde_json::json!({ "phases": phases })
}
