//! Explaining misses: what differs (the evidence), which phase setting makes the
//! difference, who asks for it, and what removes it, as types. Pure: the diff's facts and
//! the phases in, [`MissReport`]s out. Wording lives in `display`.

pub(crate) mod cause;
mod display;
mod edges;
mod json;
mod paths;
mod variants;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use crate::cargo::Invocation;
use crate::cargo::SelectionFlag;
use crate::cargo::invocation::selection_flags;
use crate::cargo::metadata::DependencyIndex;
use crate::diff::{DiffGraph, Miss, PhaseDiff, Reason, UnitAt, UnitId, UnitKey};
use crate::phase::{CraneFunction, Phase};

pub(crate) use cause::{
    DefaultPackages, EnvChange, Fix, FixCheck, FixStep, MissCause, ProfileChange, Request,
    RoleDifference, Side, Trigger, UnitRole, Variant,
};
pub(crate) use display::UnitNames;
pub(crate) use json::serialize_misses;
use paths::{Asked, Askers, GraphPaths};
use variants::variants;

/// One dependency unit a phase recompiles. Produced by [`explain_misses`].
#[derive(Debug, Clone, PartialEq)]
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
    pub cause: MissCause,
    /// For cascades: the (first) root miss it comes from.
    pub cascade_from: Option<UnitId>,
    /// Who asks for what differs: dependency paths from a workspace member.
    pub requests: Vec<Request>,
    /// The phase flag or setting that makes the difference.
    pub trigger: Option<Trigger>,
    pub fix: Fix,
    /// For root misses: how many cascaded misses it causes.
    pub cascaded: usize,
    /// When another miss of the phase has the same package, target and mode: what tells
    /// this one apart.
    pub variant: Option<Variant>,
    /// The unit's measured compile seconds, once the report is weighed (`--costs`).
    pub seconds: crate::costs::Cost,
    /// The unit's deep identity in the run that made the report (see [`crate::diff::Miss`]):
    /// what tells whether the same unit still misses after a change, where labels cannot
    /// (a variant's label depends on the phase's other misses). Not part of the JSON.
    pub unit_id: UnitId,
}

impl MissReport {
    pub fn is_root(&self) -> bool {
        self.cascade_from.is_none()
    }
}

/// Everything the explanations of one phase's misses draw on.
pub(crate) struct ExplainContext<'a> {
    /// The phases whose artifacts this phase inherits, nearest first.
    pub sources: Vec<&'a Phase>,
    pub phase_invocations: Vec<&'a Invocation>,
    pub source_invocations: Vec<&'a Invocation>,
    /// The graph index of each of `source_invocations` (as `Differ` numbers graphs).
    pub source_indices: &'a [usize],
    /// The phase's graphs, in the order the diff saw them (`Miss::at` indexes them).
    pub needed: Vec<&'a DiffGraph>,
    pub index: &'a DependencyIndex,
    /// The packages cargo builds when a command names none (`default-members`, or the
    /// root package, or every member).
    pub default_packages: &'a [String],
}

/// Explains every miss of a phase, root misses with their cascade counts.
pub(crate) fn explain_misses(ctx: &ExplainContext, diff: &PhaseDiff) -> Vec<MissReport> {
    let paths: Vec<GraphPaths> = ctx
        .needed
        .iter()
        .map(|g| GraphPaths::new(g, ctx.index))
        .collect();
    let selection = SelectionDiff::new(
        &ctx.phase_invocations,
        &ctx.source_invocations,
        ctx.default_packages,
    );
    let mut cascaded: HashMap<UnitAt, usize> = HashMap::new();
    for miss in &diff.misses {
        for &root in &miss.cascade_from {
            *cascaded.entry(root).or_default() += 1;
        }
    }
    let ids: HashMap<UnitAt, UnitId> = diff.misses.iter().map(|m| (m.at, UnitId(m.id))).collect();
    let deps_phase = deps_phase(ctx);
    let profiles = ProfileChanges::default();
    let variants = variants(ctx, diff, &profiles);
    diff.misses
        .iter()
        .zip(variants)
        .map(|(miss, variant)| {
            let package = &miss.unit.pkg_id;
            let cascade_from = miss
                .cascade_from
                .first()
                .and_then(|at| ids.get(at).copied());
            let mut report = MissReport {
                package: package.name.to_string(),
                version: package.version.to_string(),
                source: package.source.to_string(),
                target: miss.unit.target_name.clone(),
                kind: miss.unit.target_kind.clone(),
                mode: miss.unit.mode.clone(),
                platform: miss.unit.platform.clone(),
                features: miss.unit.features.clone(),
                deps_only_features: match (miss.reason, best_candidate(miss)) {
                    (Reason::Features, Some(best)) => Some(best.features.clone()),
                    _ => None,
                },
                cause: miss_cause(miss, &ids, &profiles),
                cascade_from,
                requests: Vec::new(),
                trigger: None,
                fix: Fix {
                    deps_phase: deps_phase.clone(),
                    steps: Vec::new(),
                    check: None,
                },
                cascaded: cascaded.get(&miss.at).copied().unwrap_or(0),
                variant,
                seconds: crate::costs::Cost::NotWeighed,
                unit_id: UnitId(miss.id),
            };
            if !miss.variant_edges.is_empty() {
                report.cause = edges::dependency_variant(ctx, miss);
                report.fix.steps = vec![run_phase_commands(ctx)];
                return report;
            }
            if miss.reason == Reason::Dependency {
                if let Some(root) = cascade_from {
                    report.fix.steps = vec![FixStep::FollowsRoot { root }];
                }
                return report;
            }
            let askers = Askers {
                index: ctx.index,
                paths: &paths[miss.at.0],
                graph: ctx.needed[miss.at.0],
            };
            let from_selection = comes_from_selection(ctx, miss);
            let (requests, asked_through_dev) = match asked_for(miss, from_selection) {
                Some(asked) => askers.requests(miss, asked.as_asked()),
                None => (Vec::new(), false),
            };
            report.requests = requests;
            let through_dev = asked_through_dev || askers.reached_through_dev(miss.at);
            if from_selection {
                report.cause = MissCause::Role {
                    role: role_difference(miss, &profiles),
                };
                report.trigger = selection
                    .trigger()
                    .or_else(|| trigger(ctx, miss, &selection));
                report.fix.steps = selection_fix(ctx, &selection, through_dev);
            } else {
                report.trigger = trigger(ctx, miss, &selection);
                report.fix.steps = fix_steps(ctx, miss, &selection, through_dev);
            }
            report
        })
        .collect()
}

/// The root misses a cascade comes from, in key order; `ids` holds each miss of the
/// phase by where the diff found it.
fn cascade_roots(ids: &HashMap<UnitAt, UnitId>, miss: &Miss) -> Vec<UnitId> {
    miss.cascade_from
        .iter()
        .filter_map(|at| ids.get(at).copied())
        .collect()
}

/// What the edges to a missed unit are searched for, owned.
enum AskedFor {
    Features(BTreeSet<String>),
    AnyEdge,
}

impl AskedFor {
    fn as_asked(&self) -> Asked<'_> {
        match self {
            AskedFor::Features(extra) => Asked::Features(extra),
            AskedFor::AnyEdge => Asked::AnyEdge,
        }
    }
}

/// Which edges ask for a miss: those asking for the features the deps-only build left
/// out, every edge (a crate it never built, or built in another role), or none worth
/// naming (a setting, not a dependency, makes the difference).
fn asked_for(miss: &Miss, from_selection: bool) -> Option<AskedFor> {
    match (miss.reason, best_candidate(miss)) {
        (Reason::Features, Some(best)) => Some(AskedFor::Features(
            miss.unit
                .features
                .iter()
                .filter(|f| !best.features.contains(f))
                .cloned()
                .collect(),
        )),
        (Reason::NotBuilt, _) => Some(AskedFor::AnyEdge),
        _ if from_selection => Some(AskedFor::AnyEdge),
        _ => None,
    }
}

/// The evidence of a miss, from the diff's closest cached units.
fn miss_cause(miss: &Miss, ids: &HashMap<UnitAt, UnitId>, profiles: &ProfileChanges) -> MissCause {
    let unit = &miss.unit;
    if miss.reason == Reason::Dependency {
        return MissCause::Dependency {
            roots: cascade_roots(ids, miss),
        };
    }
    // Every other reason but `not-built` has cached units of the same target to compare.
    let Some(best) = best_candidate(miss) else {
        return MissCause::NotBuilt;
    };
    match miss.reason {
        Reason::Dependency | Reason::NotBuilt => MissCause::NotBuilt,
        Reason::Features => MissCause::Features {
            built: miss.closest.iter().map(|c| c.features.clone()).collect(),
            needed: unit.features.clone(),
            added: difference(&unit.features, &best.features),
            removed: difference(&best.features, &unit.features),
        },
        Reason::Profile => MissCause::Profile {
            built: best.profile_name(),
            needed: unit.profile_name(),
            changes: profiles.between(&best.profile, &unit.profile),
        },
        Reason::Mode => MissCause::Mode {
            built: closest_modes(miss),
            needed: unit.mode.clone(),
        },
        Reason::Platform => MissCause::Platform {
            built: best.platform.clone(),
            needed: unit.platform.clone(),
        },
        Reason::Rustflags => MissCause::Rustflags {
            phase: unit.rustflags.clone(),
            artifact: best.rustflags.clone(),
        },
        Reason::Toolchain => MissCause::Toolchain {
            phase: unit.toolchain.clone(),
            artifact: best.toolchain.clone(),
        },
    }
}

/// The items of `a` that `b` lacks, in `a`'s order.
fn difference(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|f| !b.contains(f)).cloned().collect()
}

/// The modes the deps-only build has the unit in, sorted.
fn closest_modes(miss: &Miss) -> Vec<String> {
    let modes: BTreeSet<&str> = miss.closest.iter().map(|c| c.mode.as_str()).collect();
    modes.into_iter().map(str::to_string).collect()
}

/// Whether a mode or profile miss comes from *which* crates need the unit rather than from
/// a setting: the deps-only phase runs this mode, or sets the same profile, but for other
/// packages, which need the crate in another role (a normal dependency where this phase
/// needs a build dependency, or the other way round; cargo builds build dependencies and
/// proc-macros with the build-override profile).
fn comes_from_selection(ctx: &ExplainContext, miss: &Miss) -> bool {
    match miss.reason {
        Reason::Mode => ctx
            .source_invocations
            .iter()
            .any(|inv| compiles_deps_in_mode(inv.subcommand, &miss.unit.mode)),
        Reason::Profile => {
            best_candidate(miss).is_some_and(|b| b.profile_name() == miss.unit.profile_name())
                && env_changes(ctx, "CARGO_PROFILE_").is_empty()
        }
        _ => false,
    }
}

/// Whether `cargo <subcommand>` compiles dependencies in `mode` (`check` for check, clippy
/// and doc; `build` for build, test and bench).
fn compiles_deps_in_mode(subcommand: &str, mode: &str) -> bool {
    match mode {
        "check" => matches!(subcommand, "check" | "doc"),
        "build" => matches!(subcommand, "build" | "test" | "bench"),
        _ => false,
    }
}

/// How a miss that [`comes_from_selection`] differs from what the deps-only build has.
fn role_difference(miss: &Miss, profiles: &ProfileChanges) -> RoleDifference {
    match (miss.reason, best_candidate(miss)) {
        (Reason::Profile, Some(best)) => RoleDifference::Profile {
            profile: miss.unit.profile_name(),
            changes: profiles.between(&best.profile, &miss.unit.profile),
        },
        _ => RoleDifference::Mode {
            built: closest_modes(miss),
            needed: miss.unit.mode.clone(),
        },
    }
}

/// The closest cached unit: for features, the one with the fewest differing features.
fn best_candidate(miss: &Miss) -> Option<&UnitKey> {
    miss.closest
        .iter()
        .min_by_key(|c| {
            let mine: BTreeSet<&String> = miss.unit.features.iter().collect();
            let theirs: BTreeSet<&String> = c.features.iter().collect();
            mine.symmetric_difference(&theirs).count()
        })
        .map(|c| &**c)
}

/// The settings that differ between two profiles (canonical JSON), `name` left out.
/// [`profile_changes`] of each pair of profiles asked, worked out once: a phase's misses
/// compare the same few profiles again and again.
#[derive(Default)]
struct ProfileChanges(RefCell<HashMap<(String, String), Vec<ProfileChange>>>);

impl ProfileChanges {
    fn between(&self, from: &str, to: &str) -> Vec<ProfileChange> {
        let mut known = self.0.borrow_mut();
        if let Some(changes) = known.get(&(from.to_string(), to.to_string())) {
            return changes.clone();
        }
        let changes = profile_changes(from, to);
        known.insert((from.to_string(), to.to_string()), changes.clone());
        changes
    }
}

fn profile_changes(from: &str, to: &str) -> Vec<ProfileChange> {
    let parse = |text: &str| {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).unwrap_or_default()
    };
    let (from, to) = (parse(from), parse(to));
    let keys: BTreeSet<&String> = from
        .keys()
        .chain(to.keys())
        .filter(|k| *k != "name")
        .collect();
    let value = |v: &serde_json::Value| v.to_string().trim_matches('"').to_string();
    keys.into_iter()
        .filter(|k| from.get(*k) != to.get(*k))
        .map(|k| ProfileChange {
            setting: k.clone(),
            // JSON null is cargo's "not set": shown as unset, like a missing field.
            built: from.get(k).filter(|v| !v.is_null()).map(value),
            needed: to.get(k).filter(|v| !v.is_null()).map(value),
        })
        .collect()
}

/// The selection flags a phase uses that its artifact source does not, and vice versa.
struct SelectionDiff {
    phase_only: Vec<SelectionFlag>,
    source_only: Vec<SelectionFlag>,
    default_packages: Option<DefaultPackages>,
    /// How each side wrote the flags it has (`--package=cli` for `-p cli`).
    phase_written: Vec<String>,
    source_written: Vec<String>,
}

impl SelectionDiff {
    fn new(phase: &[&Invocation], source: &[&Invocation], defaults: &[String]) -> SelectionDiff {
        let phase_flags = selection_flags(phase);
        let source_flags = selection_flags(source);
        let names_packages =
            |flags: &BTreeSet<SelectionFlag>| flags.iter().any(SelectionFlag::names_packages);
        let default_side = match (names_packages(&phase_flags), names_packages(&source_flags)) {
            (true, false) => Some(Side::DepsOnly),
            (false, true) => Some(Side::Phase),
            _ => None,
        };
        let phase_only: Vec<SelectionFlag> =
            phase_flags.difference(&source_flags).cloned().collect();
        let source_only: Vec<SelectionFlag> = source_flags
            .difference(&phase_flags)
            .filter(|f| !matches!(f, SelectionFlag::Subcommand(_)))
            .cloned()
            .collect();
        SelectionDiff {
            phase_written: phase_only.iter().map(|f| as_written(f, phase)).collect(),
            source_written: source_only.iter().map(|f| as_written(f, source)).collect(),
            phase_only,
            source_only,
            default_packages: default_side.map(|side| DefaultPackages {
                side,
                packages: defaults.to_vec(),
            }),
        }
    }

    /// The flags only the phase has that `pick` picks.
    fn phase_has(&self, pick: impl Fn(&SelectionFlag) -> bool) -> Vec<SelectionFlag> {
        self.phase_only
            .iter()
            .filter(|f| pick(f))
            .cloned()
            .collect()
    }

    fn trigger(&self) -> Option<Trigger> {
        (!self.phase_only.is_empty() || !self.source_only.is_empty()).then(|| Trigger::Selection {
            phase: self.phase_written.clone(),
            deps_only: self.source_written.clone(),
            default_packages: self.default_packages.clone(),
        })
    }
}

/// A flag as the first of the commands that has it wrote it (`--package=cli`).
fn as_written(flag: &SelectionFlag, invocations: &[&Invocation]) -> String {
    invocations
        .iter()
        .find_map(|i| i.selection.as_written(flag))
        .unwrap_or_else(|| flag.to_string())
}

fn trigger(ctx: &ExplainContext, miss: &Miss, selection: &SelectionDiff) -> Option<Trigger> {
    let best = best_candidate(miss);
    match miss.reason {
        Reason::Features | Reason::NotBuilt | Reason::Platform => selection.trigger(),
        Reason::Toolchain => Some(Trigger::Toolchain {
            phase: miss.unit.toolchain.clone(),
        }),
        Reason::Mode => Some(Trigger::ModeNeverRun {
            mode: miss.unit.mode.clone(),
        }),
        Reason::Profile => {
            let changes = env_changes(ctx, "CARGO_PROFILE_");
            let (mine, theirs) = (
                miss.unit.profile_name(),
                best.map(UnitKey::profile_name).unwrap_or_default(),
            );
            if mine != theirs {
                Some(Trigger::ProfileName {
                    phase: mine,
                    deps_only: theirs,
                })
            } else if !changes.is_empty() {
                Some(Trigger::ProfileEnv { changes })
            } else {
                None
            }
        }
        Reason::Rustflags => Some(Trigger::Rustflags {
            phase: miss.unit.rustflags.clone(),
            deps_only: best.and_then(|b| b.rustflags.clone()),
        }),
        Reason::Dependency => None,
    }
}

/// The rustflags variables (`RUSTFLAGS`, `CARGO_BUILD_RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS`,
/// `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`) the phase sets differently from its source.
fn rustflags_changes(ctx: &ExplainContext) -> Vec<EnvChange> {
    [
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_",
    ]
    .iter()
    .flat_map(|prefix| env_changes(ctx, prefix))
    .filter(|c| c.name.ends_with("RUSTFLAGS"))
    .collect()
}

/// Variables with `prefix` that the phase sets differently from its source.
fn env_changes(ctx: &ExplainContext, prefix: &str) -> Vec<EnvChange> {
    let source_env = ctx.source_invocations.first().map(|i| &i.env);
    let phase_env = ctx.phase_invocations.first().map(|i| &i.env);
    let (Some(source_env), Some(phase_env)) = (source_env, phase_env) else {
        return Vec::new();
    };
    let names: BTreeSet<&String> = source_env
        .keys()
        .chain(phase_env.keys())
        .filter(|k| k.starts_with(prefix))
        .collect();
    names
        .into_iter()
        .filter(|name| source_env.get(*name) != phase_env.get(*name))
        .map(|name| EnvChange {
            name: name.clone(),
            phase: phase_env.get(name).cloned(),
            deps_only: source_env.get(name).cloned(),
        })
        .collect()
}

/// The deps-only phase a fix changes: the nearest buildDepsOnly among the sources, else
/// the nearest source.
fn deps_phase(ctx: &ExplainContext) -> Option<String> {
    ctx.sources
        .iter()
        .find(|p| p.function == CraneFunction::BuildDepsOnly)
        .or(ctx.sources.first())
        .map(|p| p.name.clone())
}

fn fix_steps(
    ctx: &ExplainContext,
    miss: &Miss,
    selection: &SelectionDiff,
    through_dev: bool,
) -> Vec<FixStep> {
    let step = match miss.reason {
        Reason::Features | Reason::NotBuilt => {
            return selection_fix(ctx, selection, through_dev);
        }
        Reason::Toolchain => FixStep::SameToolchain,
        Reason::Profile => {
            let mine = miss.unit.profile_name();
            if best_candidate(miss).is_some_and(|b| b.profile_name() != mine) {
                FixStep::SameProfile { profile: mine }
            } else {
                FixStep::SameProfileSettings {
                    changes: env_changes(ctx, "CARGO_PROFILE_"),
                }
            }
        }
        Reason::Mode => FixStep::RunMode {
            subcommand: if miss.unit.mode == "check" {
                "check"
            } else {
                "build"
            }
            .to_string(),
        },
        Reason::Platform => FixStep::SameTarget {
            target: option_target(ctx),
        },
        Reason::Rustflags => match ctx.phase_invocations.iter().find_map(|i| i.instrumented_by) {
            Some(tool) => FixStep::Instrumented {
                tool: tool.to_string(),
            },
            None => FixStep::SameRustflags {
                changes: rustflags_changes(ctx),
            },
        },
        Reason::Dependency => return Vec::new(),
    };
    vec![step]
}

fn option_target(ctx: &ExplainContext) -> Option<String> {
    ctx.phase_invocations.iter().find_map(|i| i.target())
}

/// Whether a flag selects targets, and where a fix names it among them.
fn target_rank(flag: &SelectionFlag) -> Option<usize> {
    use SelectionFlag as F;
    let rank = match flag {
        F::Tests => 0,
        F::AllTargets => 1,
        F::Benches => 2,
        F::Examples => 3,
        F::Bins => 4,
        F::Lib => 5,
        F::Bin(_) => 6,
        F::Test(_) => 7,
        F::Example(_) => 8,
        _ => return None,
    };
    Some(rank)
}

/// Every selection difference that takes part, so that following the fix is enough.
fn selection_fix(
    ctx: &ExplainContext,
    selection: &SelectionDiff,
    through_dev: bool,
) -> Vec<FixStep> {
    let mut steps = Vec::new();
    let deps_skips_checks = ctx
        .sources
        .iter()
        .any(|p| p.function == CraneFunction::BuildDepsOnly && !p.do_check);
    if through_dev && deps_skips_checks {
        steps.push(FixStep::KeepDoCheck);
    }
    use SelectionFlag as F;
    if !selection.phase_has(|f| *f == F::AllFeatures).is_empty() {
        steps.push(FixStep::AddAllFeatures);
    }
    let packages = [
        selection.phase_has(|f| matches!(f, F::Package(_))),
        selection.phase_has(|f| *f == F::Workspace),
        selection.phase_has(|f| matches!(f, F::Exclude(_))),
    ]
    .concat();
    let narrowed: Vec<SelectionFlag> = selection
        .source_only
        .iter()
        .filter(|f| matches!(f, F::Package(_) | F::Exclude(_)))
        .cloned()
        .collect();
    if !packages.is_empty() {
        steps.push(FixStep::SamePackageSelection { flags: packages });
    } else if !narrowed.is_empty() {
        steps.push(FixStep::DropNarrowing { flags: narrowed });
    }
    let features = [
        selection.phase_has(|f| matches!(f, F::Feature(_))),
        selection.phase_has(|f| *f == F::NoDefaultFeatures),
    ]
    .concat();
    if !features.is_empty() {
        steps.push(FixStep::SameFeatureFlags { flags: features });
    }
    if !steps.is_empty() {
        return steps;
    }
    if through_dev
        || !selection
            .phase_has(|f| *f == F::Subcommand("test"))
            .is_empty()
    {
        return vec![FixStep::BuildTestTargets];
    }
    let mut targets = selection.phase_has(|f| target_rank(f).is_some());
    targets.sort_by_key(target_rank);
    if !targets.is_empty() {
        return vec![FixStep::SameTargetSelection { flags: targets }];
    }
    vec![run_phase_commands(ctx)]
}

fn run_phase_commands(ctx: &ExplainContext) -> FixStep {
    FixStep::RunPhaseCommands {
        commands: ctx.phase_invocations.iter().map(|i| i.display()).collect(),
    }
}

#[cfg(test)]
mod tests;
