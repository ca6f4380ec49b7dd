//! Turns the diff's facts into what a crane user reads: the detail of each miss, who
//! requests the difference, the phase setting that causes it, and the fix. Pure.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::cargo::Invocation;
use crate::cargo::invocation::{option_value, selection_flags};
use crate::cargo::metadata::{DependencyIndex, EdgeKind};
use crate::diff::{DiffGraph, Miss, PhaseDiff, Reason, UnitAt, UnitKey};
use crate::phase::{CraneFunction, Phase};

use super::MissReport;

/// Everything the explanations of one phase's misses draw on.
pub struct ExplainContext<'a> {
    pub phase: &'a Phase,
    /// The phases whose artifacts this phase inherits, nearest first.
    pub sources: Vec<&'a Phase>,
    pub phase_invocations: Vec<&'a Invocation>,
    pub source_invocations: Vec<&'a Invocation>,
    /// The phase's graphs, in the order the diff saw them (`Miss::at` indexes them).
    pub needed: Vec<&'a DiffGraph>,
    pub index: &'a DependencyIndex,
}

/// Explains every miss of a phase, root misses with their cascade counts.
pub fn explain_misses(ctx: &ExplainContext, diff: &PhaseDiff) -> Vec<MissReport> {
    let paths: Vec<GraphPaths> = ctx
        .needed
        .iter()
        .map(|g| GraphPaths::new(g, ctx.index))
        .collect();
    let selection = SelectionDiff::new(&ctx.phase_invocations, &ctx.source_invocations);
    let mut cascaded: HashMap<UnitAt, usize> = HashMap::new();
    for miss in &diff.misses {
        for &root in &miss.cascade_from {
            *cascaded.entry(root).or_default() += 1;
        }
    }
    diff.misses
        .iter()
        .map(|miss| {
            let package = &miss.unit.pkg_id;
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
                reason: miss.reason.as_str(),
                cascade_from: miss.cascade_keys(&ctx.needed).first().map(|k| k.label()),
                detail: detail(miss, &ctx.needed),
                requested_by: Vec::new(),
                cause: None,
                fix: String::new(),
                cascaded: cascaded.get(&miss.at).copied().unwrap_or(0),
            };
            if miss.reason == Reason::Dependency {
                report.fix = format!(
                    "goes away with the fix for {}",
                    report.cascade_from.clone().unwrap_or_default()
                );
                return report;
            }
            let askers = Askers {
                ctx,
                paths: &paths[miss.at.0],
                graph: ctx.needed[miss.at.0],
            };
            let from_selection = comes_from_selection(ctx, miss);
            let (requested_by, asked_through_dev) = askers.requested_by(miss, from_selection);
            report.requested_by = requested_by;
            let through_dev = asked_through_dev || askers.reached_through_dev(miss.at);
            if from_selection {
                report.detail = role_detail(miss);
                report.cause = selection
                    .describe()
                    .or_else(|| cause(ctx, miss, &selection));
                report.fix = selection_fix(ctx, &selection, through_dev, &deps_phase_name(ctx));
            } else {
                report.cause = cause(ctx, miss, &selection);
                report.fix = fix(ctx, miss, &selection, through_dev);
            }
            report
        })
        .collect()
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

/// The detail of a miss that [`comes_from_selection`].
fn role_detail(miss: &Miss) -> String {
    let unit = &miss.unit;
    match (miss.reason, best_candidate(miss)) {
        (Reason::Profile, Some(best)) => format!(
            "deps-only built it only with other `{}` settings ({}): the build-override profile of build dependencies and proc-macros",
            unit.profile_name(),
            profile_changes(&best.profile, &unit.profile).join(", ")
        ),
        _ => {
            let modes: BTreeSet<&str> = miss.closest.iter().map(|c| c.mode.as_str()).collect();
            format!(
                "deps-only built it only in mode {} (for the packages it selects); this phase needs {}",
                modes.into_iter().collect::<Vec<_>>().join(", "),
                unit.mode
            )
        }
    }
}

/// Reverse edges of one graph and, for every unit, the way down to it from the nearest
/// workspace member. Built once per graph.
struct GraphPaths {
    parents: Vec<Vec<usize>>,
    /// The unit one step closer to a workspace member (None for members and orphans).
    toward_member: Vec<Option<usize>>,
    /// Whether that way down passes a dev-dependency edge.
    through_dev: Vec<bool>,
}

impl GraphPaths {
    fn new(graph: &DiffGraph, index: &DependencyIndex) -> GraphPaths {
        let mut parents = vec![Vec::new(); graph.units.len()];
        for (u, unit) in graph.units.iter().enumerate() {
            for &d in &unit.deps {
                parents[d].push(u);
            }
        }
        // Breadth-first from all members at once: the first visit is a shortest path.
        let mut toward_member = vec![None; graph.units.len()];
        let mut through_dev = vec![false; graph.units.len()];
        let mut visited: Vec<bool> = graph.units.iter().map(|u| u.local).collect();
        let mut queue: VecDeque<usize> = (0..graph.units.len()).filter(|&u| visited[u]).collect();
        while let Some(u) = queue.pop_front() {
            for &d in &graph.units[u].deps {
                if !visited[d] {
                    visited[d] = true;
                    toward_member[d] = Some(u);
                    through_dev[d] =
                        through_dev[u] || edge_kind(index, graph, u, d) == Some(EdgeKind::Dev);
                    queue.push_back(d);
                }
            }
        }
        GraphPaths {
            parents,
            toward_member,
            through_dev,
        }
    }

    /// Unit indices from a workspace member down to `u` (just `[u]` if none reaches it).
    fn path_from_member(&self, u: usize) -> Vec<usize> {
        let mut path = vec![u];
        let mut node = u;
        while let Some(up) = self.toward_member[node] {
            path.push(up);
            node = up;
        }
        path.reverse();
        path
    }
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn platform_name(platform: &Option<String>) -> String {
    platform.clone().unwrap_or_else(|| "the host".to_string())
}

/// How many cascade roots a detail names before summing up the rest.
const ROOTS_NAMED: usize = 3;

fn detail(miss: &Miss, needed: &[&DiffGraph]) -> String {
    let unit = &miss.unit;
    let best = best_candidate(miss);
    match (miss.reason, best) {
        (Reason::Dependency, _) => {
            let roots = miss.cascade_keys(needed);
            let mut named: Vec<String> =
                roots.iter().take(ROOTS_NAMED).map(|k| k.label()).collect();
            if roots.len() > ROOTS_NAMED {
                named.push(format!("{} more", roots.len() - ROOTS_NAMED));
            }
            format!(
                "this unit itself is cached, but it depends on {} which {} rebuilt",
                named.join(", "),
                if roots.len() == 1 { "is" } else { "are" }
            )
        }
        (Reason::NotBuilt, _) => "the deps-only build never built this".to_string(),
        (Reason::Features, Some(best)) => features_detail(miss, best),
        (Reason::Profile, Some(best)) => {
            let changes = profile_changes(&best.profile, &unit.profile);
            format!(
                "deps-only built profile `{}`; this phase needs `{}`{}",
                best.profile_name(),
                unit.profile_name(),
                if changes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", changes.join(", "))
                }
            )
        }
        (Reason::Mode, Some(best)) => {
            let modes: BTreeSet<&str> = miss.closest.iter().map(|c| c.mode.as_str()).collect();
            let _ = best;
            format!(
                "deps-only built it in mode {}; this phase needs {}",
                modes.into_iter().collect::<Vec<_>>().join(", "),
                unit.mode
            )
        }
        (Reason::Platform, Some(best)) => format!(
            "deps-only built it for {}; this phase needs it for {}",
            platform_name(&best.platform),
            platform_name(&unit.platform)
        ),
        // The values are the cause; the detail says what they do.
        (Reason::Rustflags, Some(_)) => {
            "built with other rustflags: they are part of every crate's fingerprint".to_string()
        }
        (Reason::Toolchain, Some(best)) => format!(
            "deps-only was built with {}; this phase with {}",
            best.toolchain.as_deref().unwrap_or("the default crane lib"),
            unit.toolchain.as_deref().unwrap_or("the default crane lib")
        ),
        (_, None) => "the deps-only build never built this".to_string(),
    }
}

/// Feature sets side by side when short, else what differs from the closest cached unit.
fn features_detail(miss: &Miss, best: &UnitKey) -> String {
    let built: BTreeSet<String> = miss.closest.iter().map(|c| list(&c.features)).collect();
    let full = format!(
        "deps-only built {} ; this phase needs {}",
        built.into_iter().collect::<Vec<_>>().join(" or "),
        list(&miss.unit.features)
    );
    if full.len() <= DETAIL_WIDTH {
        return full;
    }
    let added: Vec<String> = miss
        .unit
        .features
        .iter()
        .filter(|f| !best.features.contains(f))
        .cloned()
        .collect();
    let dropped: Vec<String> = best
        .features
        .iter()
        .filter(|f| !miss.unit.features.contains(f))
        .cloned()
        .collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("adds {}", list(&added)));
    }
    if !dropped.is_empty() {
        parts.push(format!("leaves out {}", list(&dropped)));
    }
    format!(
        "against the closest deps-only build ({} features), this phase {}",
        best.features.len(),
        parts.join(" and ")
    )
}

/// Details longer than this switch to a difference.
const DETAIL_WIDTH: usize = 100;

/// The closest cached unit: for features, the one with the fewest differing features.
fn best_candidate(miss: &Miss) -> Option<&UnitKey> {
    miss.closest.iter().min_by_key(|c| {
        let mine: BTreeSet<&String> = miss.unit.features.iter().collect();
        let theirs: BTreeSet<&String> = c.features.iter().collect();
        mine.symmetric_difference(&theirs).count()
    })
}

/// `opt_level 3 → 1`-style differences between two profiles, `name` left out.
fn profile_changes(from: &str, to: &str) -> Vec<String> {
    let parse = |text: &str| {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).unwrap_or_default()
    };
    let (from, to) = (parse(from), parse(to));
    let keys: BTreeSet<&String> = from
        .keys()
        .chain(to.keys())
        .filter(|k| *k != "name")
        .collect();
    keys.into_iter()
        .filter(|k| from.get(*k) != to.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| {
                v.map_or("unset".to_string(), |v| {
                    v.to_string().trim_matches('"').to_string()
                })
            };
            format!("{k} {} → {}", show(from.get(k)), show(to.get(k)))
        })
        .collect()
}

/// Names who asks for a unit, walking one graph's paths.
struct Askers<'a> {
    ctx: &'a ExplainContext<'a>,
    paths: &'a GraphPaths,
    graph: &'a DiffGraph,
}

impl Askers<'_> {
    /// The dependency edges that ask for what this phase needs and the source never built,
    /// each from a workspace member down, and whether any of them passes a dev-dependency.
    /// With `any_parent`, every edge to the unit counts, not only those that ask for extra
    /// features.
    fn requested_by(&self, miss: &Miss, any_parent: bool) -> (Vec<String>, bool) {
        let (_, u) = miss.at;
        let unit = &miss.unit;
        let child = &unit.pkg_id;
        let extra: BTreeSet<String> = match (miss.reason, best_candidate(miss)) {
            (Reason::Features, Some(best)) => unit
                .features
                .iter()
                .filter(|f| !best.features.contains(f))
                .cloned()
                .collect(),
            (Reason::NotBuilt, _) => BTreeSet::new(),
            _ if any_parent => BTreeSet::new(),
            _ => return (Vec::new(), false),
        };
        let mut askers = BTreeSet::new();
        let mut through_dev = false;
        for &p in &self.paths.parents[u] {
            let parent = &self.graph.units[p].key;
            let asked: Vec<String> = if miss.reason == Reason::NotBuilt || any_parent {
                Vec::new()
            } else {
                let requested = self.ctx.index.requested_features(
                    &parent.pkg_id,
                    &parent.features,
                    &unit.pkg_id,
                    &child.name,
                );
                let asked: Vec<String> = requested.intersection(&extra).cloned().collect();
                if asked.is_empty() {
                    continue;
                }
                asked
            };
            let kind = edge_kind(self.ctx.index, self.graph, p, u);
            through_dev |= self.paths.through_dev[p] || kind == Some(EdgeKind::Dev);
            let features = if asked.is_empty() {
                String::new()
            } else {
                format!(" (features: {})", asked.join(", "))
            };
            let parent_is_child = self.graph.units[p].key.pkg_id.name == child.name;
            let chain = self.chain_to(p);
            askers.insert(if parent_is_child {
                // A build script's run, asked for by its own crate.
                format!("{chain}{features}")
            } else {
                format!("{chain}{}{}{features}", arrow(kind), child.name)
            });
        }
        (askers.into_iter().collect(), through_dev)
    }

    /// `app -> top -> mid`: the shortest path from a workspace member down to unit `u`,
    /// its middle elided when long.
    fn chain_to(&self, u: usize) -> String {
        let mut path = self.paths.path_from_member(u);
        // A crate, its build script and the script's run are one step of the way.
        path.dedup_by_key(|&mut unit| self.graph.units[unit].key.pkg_id.name.as_str());
        let shown: Vec<Option<usize>> = if path.len() > CHAIN_SHOWN {
            let mut shown: Vec<Option<usize>> =
                path[..CHAIN_SHOWN - 1].iter().copied().map(Some).collect();
            shown.push(None);
            shown.push(path.last().copied());
            shown
        } else {
            path.iter().copied().map(Some).collect()
        };
        let mut text = String::new();
        for (i, node) in shown.iter().enumerate() {
            if i > 0 {
                let kind = match (shown[i - 1], *node) {
                    (Some(parent), Some(child)) => {
                        edge_kind(self.ctx.index, self.graph, parent, child)
                    }
                    _ => None,
                };
                text.push_str(arrow(kind));
            }
            match node {
                Some(node) => text.push_str(&self.graph.units[*node].key.pkg_id.name),
                None => text.push('…'),
            }
        }
        text
    }

    fn reached_through_dev(&self, at: UnitAt) -> bool {
        self.paths.through_dev[at.1]
    }
}

fn arrow(kind: Option<EdgeKind>) -> &'static str {
    match kind {
        Some(EdgeKind::Dev) => " -[dev]-> ",
        Some(EdgeKind::Build) => " -[build]-> ",
        _ => " -> ",
    }
}

/// How many units of a long chain `requested_by` shows (the last one always).
const CHAIN_SHOWN: usize = 4;

fn edge_kind(
    index: &DependencyIndex,
    graph: &DiffGraph,
    parent: usize,
    child: usize,
) -> Option<EdgeKind> {
    let parent = &graph.units[parent].key;
    let child = &graph.units[child].key.pkg_id;
    index
        .edges(&parent.pkg_id, &child.name)
        .map(|d| d.kind)
        .min()
}

/// The selection flags a phase uses that its artifact source does not, and vice versa.
struct SelectionDiff {
    phase_only: Vec<String>,
    source_only: Vec<String>,
}

impl SelectionDiff {
    fn new(phase: &[&Invocation], source: &[&Invocation]) -> SelectionDiff {
        let phase_flags = selection_flags(phase);
        let source_flags = selection_flags(source);
        SelectionDiff {
            phase_only: phase_flags.difference(&source_flags).cloned().collect(),
            source_only: source_flags
                .difference(&phase_flags)
                .filter(|f| !f.starts_with("cargo "))
                .cloned()
                .collect(),
        }
    }

    fn phase_has(&self, prefix: &str) -> Vec<&str> {
        self.phase_only
            .iter()
            .filter(|f| f.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }

    fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.phase_only.is_empty() {
            parts.push(format!("this phase: {}", self.phase_only.join(", ")));
        }
        if !self.source_only.is_empty() {
            parts.push(format!("deps-only: {}", self.source_only.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

fn cause(ctx: &ExplainContext, miss: &Miss, selection: &SelectionDiff) -> Option<String> {
    let best = best_candidate(miss);
    match miss.reason {
        Reason::Features | Reason::NotBuilt | Reason::Platform => selection.describe(),
        Reason::Toolchain => Some(format!(
            "this phase: {}",
            miss.unit
                .toolchain
                .as_deref()
                .unwrap_or("the default crane lib")
        )),
        Reason::Mode => Some(format!(
            "this phase runs a `{}` build the deps-only phase never runs",
            miss.unit.mode
        )),
        Reason::Profile => {
            let changed = env_changes(ctx, "CARGO_PROFILE_");
            let (mine, theirs) = (
                miss.unit.profile_name(),
                best.map(UnitKey::profile_name).unwrap_or_default(),
            );
            if mine != theirs {
                Some(format!(
                    "this phase: CARGO_PROFILE={mine}; deps-only: CARGO_PROFILE={theirs}"
                ))
            } else if !changed.is_empty() {
                Some(format!("this phase: {}", changed.join(" ")))
            } else {
                None
            }
        }
        Reason::Rustflags => Some(format!(
            "this phase: {}; deps-only: {}",
            miss.unit.rustflags.as_deref().unwrap_or("no rustflags"),
            best.and_then(|b| b.rustflags.as_deref())
                .unwrap_or("no rustflags")
        )),
        Reason::Dependency => None,
    }
}

/// `VAR=value` for variables with `prefix` that the phase sets differently from its source.
fn env_changes(ctx: &ExplainContext, prefix: &str) -> Vec<String> {
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
        .map(|name| match phase_env.get(name) {
            Some(value) => format!("{name}={value}"),
            None => format!(
                "{name} unset (deps-only: {})",
                source_env.get(name).map_or("", String::as_str)
            ),
        })
        .collect()
}

fn deps_phase_name(ctx: &ExplainContext) -> String {
    ctx.sources
        .iter()
        .find(|p| p.function == CraneFunction::BuildDepsOnly)
        .or(ctx.sources.first())
        .map_or_else(
            || "buildDepsOnly".to_string(),
            |p| format!("buildDepsOnly (`{}`)", p.name),
        )
}

fn fix(ctx: &ExplainContext, miss: &Miss, selection: &SelectionDiff, through_dev: bool) -> String {
    let deps = deps_phase_name(ctx);
    match miss.reason {
        Reason::Features | Reason::NotBuilt => selection_fix(ctx, selection, through_dev, &deps),
        Reason::Toolchain => format!(
            "build {deps} with the same crane lib as this phase (one craneLib, one toolchain): another rustc invalidates every crate"
        ),
        Reason::Profile => {
            let best = best_candidate(miss);
            let mine = miss.unit.profile_name();
            if best.is_some_and(|b| b.profile_name() != mine) {
                format!(
                    "set CARGO_PROFILE = \"{mine}\" on {deps} as well (put it in commonArgs) so both build the `{mine}` profile"
                )
            } else {
                let vars = env_changes(ctx, "CARGO_PROFILE_");
                format!(
                    "set {} on {deps} as well (put it in commonArgs): profile settings are part of every crate's identity",
                    if vars.is_empty() {
                        "the same profile overrides".to_string()
                    } else {
                        vars.join(" ")
                    }
                )
            }
        }
        Reason::Mode => format!(
            "let {deps} run a `cargo {}` too: keep crane's default cargoCheckCommand and buildPhaseCargoCommand, or add the command",
            if miss.unit.mode == "check" {
                "check"
            } else {
                "build"
            }
        ),
        Reason::Platform => match option_target(ctx) {
            Some(target) => format!(
                "build {deps} for the same target: add `--target {target}` to its cargoExtraArgs or set CARGO_BUILD_TARGET = \"{target}\" in commonArgs"
            ),
            None => format!(
                "give {deps} and this phase the same --target / CARGO_BUILD_TARGET (put it in commonArgs)"
            ),
        },
        Reason::Rustflags => match ctx.phase_invocations.iter().find_map(|i| i.instrumented_by) {
            Some(tool) => format!(
                "{tool} adds its own rustflags to every crate, so this phase can never reuse a plain artifact: only a buildDepsOnly built with exactly those flags can serve it (cache-miss does not know them exactly; `cache-miss verify` measures the result), or accept the rebuild"
            ),
            None => format!(
                "set the same rustflags on {deps} (put RUSTFLAGS in commonArgs): rustflags are part of every crate's fingerprint"
            ),
        },
        Reason::Dependency => String::new(),
    }
}

fn option_target(ctx: &ExplainContext) -> Option<String> {
    ctx.phase_invocations
        .iter()
        .find_map(|i| i.target())
        .or_else(|| {
            ctx.phase_invocations
                .iter()
                .find_map(|i| option_value(&i.args, "--target"))
        })
}

fn selection_fix(
    ctx: &ExplainContext,
    selection: &SelectionDiff,
    through_dev: bool,
    deps: &str,
) -> String {
    // Every difference that takes part, so that following the fix is enough.
    let mut changes = Vec::new();
    let deps_skips_checks = ctx
        .sources
        .iter()
        .any(|p| p.function == CraneFunction::BuildDepsOnly && !p.do_check);
    if through_dev && deps_skips_checks {
        changes.push(format!(
            "keep doCheck = true on {deps} (crane's default) so dev-dependencies are built into the artifact"
        ));
    }
    if !selection.phase_has("--all-features").is_empty() {
        changes.push(format!(
            "add --all-features to {deps}'s cargoExtraArgs as well (or drop it from this phase)"
        ));
    }
    let packages = [
        selection.phase_has("-p "),
        selection.phase_has("--workspace"),
        selection.phase_has("--exclude"),
    ]
    .concat();
    let narrowed: Vec<&str> = selection
        .source_only
        .iter()
        .filter(|f| f.starts_with("-p ") || f.starts_with("--exclude "))
        .map(String::as_str)
        .collect();
    if !packages.is_empty() {
        changes.push(format!(
            "run the same package selection in {deps}: cargoExtraArgs = \"--locked {}\" (put it in commonArgs), or build with --workspace in every phase so one artifact serves all",
            packages.join(" ")
        ));
    } else if !narrowed.is_empty() {
        changes.push(format!(
            "{deps} selects only {} while this phase builds cargo's default packages: drop that from its cargoExtraArgs, or build with --workspace in every phase",
            narrowed.join(" ")
        ));
    }
    let features = [
        selection.phase_has("--features"),
        selection.phase_has("--no-default-features"),
    ]
    .concat();
    if !features.is_empty() {
        changes.push(format!(
            "pass the same {} to {deps} (cargoExtraArgs in commonArgs)",
            features.join(" ")
        ));
    }
    if !changes.is_empty() {
        return changes.join("; and ");
    }
    if through_dev || !selection.phase_has("cargo test").is_empty() {
        return format!(
            "let {deps} build the test targets too: keep doCheck = true and crane's default `cargo test --no-run`"
        );
    }
    let targets = [
        "--tests",
        "--all-targets",
        "--benches",
        "--examples",
        "--bins",
        "--lib",
        "--bin",
        "--test",
        "--example",
    ]
    .iter()
    .flat_map(|t| selection.phase_has(t))
    .collect::<Vec<_>>();
    if !targets.is_empty() {
        return format!(
            "give {deps} the same target selection ({})",
            targets.join(" ")
        );
    }
    format!(
        "let {deps} also run this phase's commands (add `{}` to its buildPhaseCargoCommand; `cache-miss fix` writes the snippet)",
        ctx.phase_invocations
            .iter()
            .map(|i| i.display())
            .collect::<Vec<_>>()
            .join("; ")
    )
}
