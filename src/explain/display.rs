//! The wording of explained misses: what the table, markdown and the JSON's text fields
//! (`detail`, `cause`, `requested_by`, `fix`) say. Computing happens in the parent module.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Display, Formatter};

use super::MissReport;
use super::cause::{
    Edge, EdgeVariant, EnvChange, Fix, FixCheck, FixStep, MissCause, ProfileChange, Request,
    RoleDifference, Side, Trigger, UnitRole, Variant,
};
use crate::cargo::SelectionFlag;
use crate::diff::UnitId;
use crate::diff::graph::target_label;

/// How many cascade roots a detail names before summing up the rest.
const ROOTS_NAMED: usize = 3;

/// Details longer than this switch to a difference.
const DETAIL_WIDTH: usize = 100;

const DEFAULT_CRANE_LIB: &str = "the default crane lib";

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn platform_name(platform: &Option<String>) -> &str {
    platform.as_deref().unwrap_or("the host")
}

fn changes(changes: &[ProfileChange]) -> String {
    changes
        .iter()
        .map(ProfileChange::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Display for ProfileChange {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let unset = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".to_string());
        write!(
            f,
            "{} {} → {}",
            self.setting,
            unset(&self.built),
            unset(&self.needed)
        )
    }
}

impl Display for EnvChange {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.phase {
            Some(value) => write!(f, "{}={value}", self.name),
            None => write!(
                f,
                "{} unset (deps-only: {})",
                self.name,
                self.deps_only.as_deref().unwrap_or("")
            ),
        }
    }
}

fn env_list(changes: &[EnvChange]) -> String {
    changes
        .iter()
        .map(EnvChange::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The names of the units a phase's misses point at: each root miss's label and mode
/// (`leaf@1.0.0 (build)`). Made from the phase's misses where they are displayed.
pub struct UnitNames(HashMap<UnitId, String>);

impl UnitNames {
    pub fn of(misses: &[MissReport]) -> UnitNames {
        UnitNames(
            misses
                .iter()
                .filter(|m| m.is_root())
                .map(|m| (m.unit_id, format!("{} ({})", m.label(), m.mode)))
                .collect(),
        )
    }

    pub fn name(&self, unit: UnitId) -> &str {
        self.0.get(&unit).map_or("", String::as_str)
    }
}

/// A cause or fix with the names of the units it points at, for display.
pub(super) struct Named<'a, T>(pub &'a T, pub &'a UnitNames);

/// The `detail` of a miss.
impl Display for Named<'_, MissCause> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Named(cause, names) = self;
        match cause {
            MissCause::Dependency { roots } => {
                let mut named: Vec<String> = roots
                    .iter()
                    .take(ROOTS_NAMED)
                    .map(|root| names.name(*root).to_string())
                    .collect();
                if roots.len() > ROOTS_NAMED {
                    named.push(format!("{} more units", roots.len() - ROOTS_NAMED));
                }
                write!(
                    f,
                    "this unit itself is cached, but it depends on {} which {} rebuilt",
                    named.join(", "),
                    if roots.len() == 1 { "is" } else { "are" }
                )
            }
            MissCause::DependencyVariant { edges } => {
                let named: Vec<String> = edges.iter().map(edge_text).collect();
                write!(f, "{}", named.join("; "))
            }
            MissCause::NotBuilt => write!(f, "the deps-only build never built this"),
            MissCause::Features {
                built,
                needed,
                added,
                removed,
            } => {
                let built: BTreeSet<String> = built.iter().map(|b| list(b)).collect();
                let full = format!(
                    "deps-only built {} ; this phase needs {}",
                    built.into_iter().collect::<Vec<_>>().join(" or "),
                    list(needed)
                );
                if full.len() <= DETAIL_WIDTH {
                    return write!(f, "{full}");
                }
                let mut parts = Vec::new();
                if !added.is_empty() {
                    parts.push(format!("adds {}", list(added)));
                }
                if !removed.is_empty() {
                    parts.push(format!("leaves out {}", list(removed)));
                }
                // The closest build has the needed features less the added plus the removed.
                let closest = needed.len() - added.len() + removed.len();
                write!(
                    f,
                    "against the closest deps-only build ({closest} features), this phase {}",
                    parts.join(" and ")
                )
            }
            MissCause::Profile {
                built,
                needed,
                changes: list,
            } => {
                write!(
                    f,
                    "deps-only built profile `{built}`; this phase needs `{needed}`"
                )?;
                if !list.is_empty() {
                    write!(f, " ({})", changes(list))?;
                }
                Ok(())
            }
            MissCause::Mode { built, needed } => write!(
                f,
                "deps-only built it in mode {}; this phase needs {needed}",
                built.join(", ")
            ),
            MissCause::Role {
                role: RoleDifference::Mode { built, needed },
            } => write!(
                f,
                "deps-only built it only in mode {} (for the packages it selects); this phase needs {needed}",
                built.join(", ")
            ),
            MissCause::Role {
                role:
                    RoleDifference::Profile {
                        profile,
                        changes: list,
                    },
            } => write!(
                f,
                "deps-only built it only with other `{profile}` settings ({}): the build-override profile of build dependencies and proc-macros",
                changes(list)
            ),
            MissCause::Platform { built, needed } => write!(
                f,
                "deps-only built it for {}; this phase needs it for {}",
                platform_name(built),
                platform_name(needed)
            ),
            // The values are the trigger; the detail says what they do.
            MissCause::Rustflags { .. } => write!(
                f,
                "built with other rustflags: they are part of every crate's fingerprint"
            ),
            MissCause::Toolchain { phase, artifact } => write!(
                f,
                "deps-only was built with {}; this phase with {}",
                artifact.as_deref().unwrap_or(DEFAULT_CRANE_LIB),
                phase.as_deref().unwrap_or(DEFAULT_CRANE_LIB)
            ),
        }
    }
}

/// `for the host`, `features [std]`, `opt_level 0`, `over leaf@1.0.0`.
impl Display for Variant {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Variant::Platform { platform } => write!(f, "for {}", platform_name(platform)),
            Variant::Features { features } => write!(f, "features {}", list(features)),
            Variant::Profile { changes, role } => {
                let settings: Vec<String> = changes
                    .iter()
                    .map(|c| format!("{} {}", c.setting, c.needed.as_deref().unwrap_or("unset")))
                    .collect();
                match role {
                    Some(UnitRole::Host) => write!(f, "for build scripts and proc-macros: ")?,
                    Some(UnitRole::Target) => write!(f, "for the target: ")?,
                    None => {}
                }
                write!(f, "{}", settings.join(", "))
            }
            Variant::Dependencies { dependencies } => {
                write!(f, "over {}", dependencies.join(", "))
            }
        }
    }
}

/// How many default members the short form (`{:#}`) of a [`Trigger`] names before it
/// gives their count instead.
pub(super) const LISTED: usize = 4;

/// The `cause` of a miss; `{:#}` gives a long list of default members as its count.
impl Display for Trigger {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Selection {
                phase,
                deps_only,
                default_packages,
            } => {
                // Naming no package builds the workspace's default members: the
                // difference that matters most, so it comes first.
                let side = |flags: &[String], side: Side| {
                    let mut items = Vec::new();
                    if let Some(defaults) = default_packages.as_ref().filter(|d| d.side == side) {
                        // `{:#}`: a long list as its count (the report names it once).
                        items.push(if f.alternate() && defaults.packages.len() > LISTED {
                            format!("the default members ({})", defaults.packages.len())
                        } else {
                            format!("the default members ({})", defaults.packages.join(", "))
                        });
                    }
                    items.extend(flags.iter().cloned());
                    items.join(", ")
                };
                let mut parts = Vec::new();
                let (phase, deps_only) =
                    (side(phase, Side::Phase), side(deps_only, Side::DepsOnly));
                if !phase.is_empty() {
                    parts.push(format!("this phase: {phase}"));
                }
                if !deps_only.is_empty() {
                    parts.push(format!("deps-only: {deps_only}"));
                }
                write!(f, "{}", parts.join("; "))
            }
            Trigger::ProfileName { phase, deps_only } => write!(
                f,
                "this phase: CARGO_PROFILE={phase}; deps-only: CARGO_PROFILE={deps_only}"
            ),
            Trigger::ProfileEnv { changes } => write!(f, "this phase: {}", env_list(changes)),
            Trigger::Rustflags { phase, deps_only } => write!(
                f,
                "this phase: {}; deps-only: {}",
                phase.as_deref().unwrap_or("no rustflags"),
                deps_only.as_deref().unwrap_or("no rustflags")
            ),
            Trigger::Toolchain { phase } => write!(
                f,
                "this phase: {}",
                phase.as_deref().unwrap_or(DEFAULT_CRANE_LIB)
            ),
            Trigger::ModeNeverRun { mode } => write!(
                f,
                "this phase runs a `{mode}` build the deps-only phase never runs"
            ),
        }
    }
}

/// One dependency edge of a `DependencyVariant` cause: which variant the cached unit was
/// built over, by which command, and which one this phase needs.
fn edge_text(edge: &EdgeVariant) -> String {
    let by = |command: &Option<String>| {
        command
            .as_ref()
            .map_or("another command".to_string(), |c| format!("`{c}`"))
    };
    let EdgeVariant {
        dependency, role, ..
    } = edge;
    match (&edge.built, &edge.needed) {
        (Some(built), Some(needed)) => format!(
            "its {role} `{dependency}` is the variant {} built ({built}); this phase needs the variant {} built ({needed})",
            by(&edge.built_by),
            by(&edge.needed_built_by)
        ),
        (None, Some(needed)) => format!(
            "here it has the {role} `{dependency}` ({needed}), which the unit {} built lacks",
            by(&edge.built_by)
        ),
        (Some(built), None) => format!(
            "the unit {} built also has the {role} `{dependency}` ({built}), which this phase's lacks",
            by(&edge.built_by)
        ),
        (None, None) => format!("its {role} `{dependency}` differs"),
    }
}

fn arrow(edge: Option<Edge>) -> &'static str {
    match edge {
        Some(Edge::Dev) => " -[dev]-> ",
        Some(Edge::Build) => " -[build]-> ",
        _ => " -> ",
    }
}

/// `cli -> top -[dev]-> leaf (features: std)`.
impl Display for Request {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, link) in self.chain.iter().enumerate() {
            if i > 0 {
                f.write_str(arrow(link.edge))?;
            }
            f.write_str(link.package.as_deref().unwrap_or("…"))?;
        }
        if !self.features.is_empty() {
            write!(f, " (features: {})", self.features.join(", "))?;
        }
        Ok(())
    }
}

/// The `fix` of a miss: its steps joined, each naming the deps-only phase.
impl Display for Named<'_, Fix> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Named(fix, names) = self;
        let deps = match &fix.deps_phase {
            Some(name) => format!("buildDepsOnly (`{name}`)"),
            None => "buildDepsOnly".to_string(),
        };
        let steps: Vec<String> = fix
            .steps
            .iter()
            .map(|s| step_text(s, &deps, names))
            .collect();
        write!(f, "{}", steps.join("; and "))?;
        match &fix.check {
            Some(FixCheck::LeavesMisses { remaining, of }) => write!(
                f,
                " — but applied alone, this leaves {remaining} of these {of} units missing: `cache-miss fix` searches for a change that removes them"
            )?,
            Some(FixCheck::Worsens { phases }) => {
                let phases: Vec<String> = phases.iter().map(|p| format!("`{p}`")).collect();
                write!(
                    f,
                    " — checked: changing the shared buildDepsOnly this way makes {} miss more; give this phase a buildDepsOnly of its own, or make every phase it serves ask for the same (for a package selection: --workspace in every phase); `cache-miss fix` proves which",
                    phases.join(", ")
                )?
            }
            _ => {}
        }
        Ok(())
    }
}

fn step_text(step: &FixStep, deps: &str, names: &UnitNames) -> String {
    match step {
        FixStep::FollowsRoot { root } => {
            format!("goes away with the fix for {}", names.name(*root))
        }
        FixStep::KeepDoCheck => format!(
            "keep doCheck = true on {deps} (crane's default) so dev-dependencies are built into the artifact"
        ),
        FixStep::AddAllFeatures => format!(
            "add --all-features to {deps}'s cargoExtraArgs as well (or drop it from this phase)"
        ),
        FixStep::SamePackageSelection { flags } => format!(
            "run the same package selection in {deps} (not in commonArgs: the other phases would change too): cargoExtraArgs = \"--locked {}\", or build every phase with --workspace",
            flag_list(flags)
        ),
        FixStep::DropNarrowing { flags } => format!(
            "{deps} selects only {} while this phase builds cargo's default packages: drop that from its cargoExtraArgs, or build every phase with --workspace",
            flag_list(flags)
        ),
        FixStep::SameFeatureFlags { flags } => format!(
            "pass the same {} to {deps} (its cargoExtraArgs)",
            flag_list(flags)
        ),
        FixStep::BuildTestTargets => format!(
            "let {deps} build the test targets too: keep doCheck = true and crane's default `cargo test --no-run`"
        ),
        FixStep::SameTargetSelection { flags } => format!(
            "give {deps} the same target selection ({})",
            flag_list(flags)
        ),
        FixStep::RunPhaseCommands { commands } => format!(
            "let {deps} also run this phase's commands (add `{}` to its buildPhaseCargoCommand; `cache-miss fix` writes the snippet)",
            commands.join("; ")
        ),
        FixStep::SameToolchain => format!(
            "build {deps} with the same crane lib as this phase (one craneLib, one toolchain): another rustc invalidates every crate"
        ),
        FixStep::SameProfile { profile } => format!(
            "set CARGO_PROFILE = \"{profile}\" on {deps} as well (put it in commonArgs) so both build the `{profile}` profile"
        ),
        FixStep::SameProfileSettings { changes } => format!(
            "set {} on {deps} as well (put it in commonArgs): profile settings are part of every crate's identity",
            if changes.is_empty() {
                "the same profile overrides".to_string()
            } else {
                env_list(changes)
            }
        ),
        FixStep::RunMode { subcommand } => format!(
            "let {deps} run a `cargo {subcommand}` too: keep crane's default cargoCheckCommand and buildPhaseCargoCommand, or add the command"
        ),
        FixStep::SameTarget {
            target: Some(target),
        } => format!(
            "build {deps} for the same target: add `--target {target}` to its cargoExtraArgs or set CARGO_BUILD_TARGET = \"{target}\" in commonArgs"
        ),
        FixStep::SameTarget { target: None } => format!(
            "give {deps} and this phase the same --target / CARGO_BUILD_TARGET (put it in commonArgs)"
        ),
        FixStep::Instrumented { tool } => format!(
            "{tool} adds its own rustflags to every crate, so this phase can never reuse a plain artifact: only a buildDepsOnly built with exactly those flags can serve it (cache-miss does not know them exactly; `cache-miss verify` measures the result), or accept the rebuild"
        ),
        FixStep::OwnDepsOnly { name, attrs, .. } => format!(
            "give this phase a buildDepsOnly of its own, `{name}`, as its cargoArtifacts: the arguments of {deps} with {} (checked: on {deps} itself this change makes other phases miss more)",
            attrs.join(", ")
        ),
        FixStep::SameRustflags { changes } => format!(
            "set {} on {deps} as well (in the attributes both phases share): rustflags are part of every crate's fingerprint",
            if changes.is_empty() {
                "the same rustflags".to_string()
            } else {
                env_list(changes)
            }
        ),
    }
}

/// Flags as a command line writes them: `-p cli --workspace`.
fn flag_list(flags: &[SelectionFlag]) -> String {
    let words: Vec<String> = flags.iter().map(ToString::to_string).collect();
    words.join(" ")
}

impl MissReport {
    /// `name@version`, with the target when it is not the library.
    pub fn label(&self) -> String {
        target_label(&self.package, &self.version, &self.kind, &self.target)
    }

    /// `leaf@1.0.0 (build)`, with what tells it apart from a miss that reads alike:
    /// `heck@0.5.0 (check, for the host)`.
    pub fn label_with_mode(&self) -> String {
        match &self.variant {
            Some(variant) => format!("{} ({}, {variant})", self.label(), self.mode),
            None => format!("{} ({})", self.label(), self.mode),
        }
    }

    /// The JSON `reason`.
    pub fn reason(&self) -> &'static str {
        self.cause.reason().as_str()
    }

    /// The JSON `detail`: what differs; `names` are the phase's (see [`UnitNames`]).
    pub fn detail(&self, names: &UnitNames) -> String {
        Named(&self.cause, names).to_string()
    }

    /// The detail as a capped table shows it, beside the reason and the cause (JSON and
    /// `--all` carry the whole): a profile difference as the two profiles, so that units
    /// whose settings differ in other ways share a row; a feature difference as what this
    /// phase adds to and leaves out of the closest deps-only build.
    pub fn detail_brief(&self, names: &UnitNames) -> String {
        match &self.cause {
            MissCause::Profile { built, needed, .. } => format!("`{built}` → `{needed}`"),
            MissCause::Features { added, removed, .. }
                if !added.is_empty() || !removed.is_empty() =>
            {
                let mut parts = Vec::new();
                if !added.is_empty() {
                    parts.push(format!("adds {}", list(added)));
                }
                if !removed.is_empty() {
                    parts.push(format!("leaves out {}", list(removed)));
                }
                parts.join(" and ")
            }
            MissCause::NotBuilt => "deps-only never built".to_string(),
            _ => self.detail(names),
        }
    }

    /// The JSON `cause`: the phase setting that makes the difference.
    pub fn trigger_text(&self) -> Option<String> {
        self.trigger.as_ref().map(Trigger::to_string)
    }

    /// The cause as a report's table shows it: long lists counted, not named.
    pub fn trigger_short_text(&self) -> Option<String> {
        self.trigger.as_ref().map(|t| format!("{t:#}"))
    }

    /// The default members a cause names, when its short form counts them instead.
    pub fn default_members_counted(&self) -> Option<&[String]> {
        match &self.trigger {
            Some(Trigger::Selection {
                default_packages: Some(defaults),
                ..
            }) if defaults.packages.len() > LISTED => Some(&defaults.packages),
            _ => None,
        }
    }

    /// The JSON `requested_by`.
    pub fn requested_by(&self) -> Vec<String> {
        self.requests.iter().map(Request::to_string).collect()
    }

    /// The JSON `fix`; `names` are the phase's (see [`UnitNames`]).
    pub fn fix_text(&self, names: &UnitNames) -> String {
        Named(&self.fix, names).to_string()
    }
}
