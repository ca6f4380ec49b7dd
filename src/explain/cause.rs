//! The facts of a miss as types: why the unit misses (with the evidence), which phase
//! setting makes the difference, who asks for it, and what removes it. Produced by
//! [`super::explain_misses`]; worded by `super::display`.

use serde::Serialize;

use crate::cargo::SelectionFlag;
use crate::cargo::metadata::EdgeKind;
use crate::diff::{Reason, UnitId};

/// Why a needed unit is not among the inherited artifacts, with the evidence. Modelled on
/// cargo's own `DirtyReason`: each variant carries what differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MissCause {
    /// The deps-only build has the unit with other features.
    Features {
        /// Every feature set the deps-only build has it with.
        built: Vec<Vec<String>>,
        needed: Vec<String>,
        /// Against the closest of `built`: what this phase adds, and leaves out.
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// The deps-only build has it with other profile settings.
    Profile {
        built: String,
        needed: String,
        changes: Vec<ProfileChange>,
    },
    /// The deps-only build has it, but never in this mode.
    Mode { built: Vec<String>, needed: String },
    /// The deps-only build has it for another platform (`None`: the host).
    Platform {
        built: Option<String>,
        needed: Option<String>,
    },
    /// Other rustflags: part of every crate's fingerprint.
    Rustflags {
        phase: Option<String>,
        artifact: Option<String>,
    },
    /// Another crane lib (toolchain); `None` is the default one.
    Toolchain {
        phase: Option<String>,
        artifact: Option<String>,
    },
    /// The deps-only build never built this package and target.
    NotBuilt,
    /// The deps-only build runs the same setting, but its packages need the crate in
    /// another role (a build dependency where this phase needs a normal one, or the
    /// other way round): the selection differs, not a setting.
    Role { role: RoleDifference },
    /// The unit itself is cached, but missed units lie below it.
    Dependency {
        /// The root misses it cascades from, in key order. Named in the JSON by
        /// `super::json`, which knows the phase's misses.
        #[serde(skip)]
        roots: Vec<UnitId>,
    },
    /// The unit and each of its dependencies are cached, but never together: the deps-only
    /// build made the unit over other variants of some dependencies (another of its
    /// commands resolved them otherwise). A root miss of its own.
    DependencyVariant { edges: Vec<EdgeVariant> },
}

/// A dependency edge in which this phase's unit parts from the cached one. Produced by
/// `super::edges::dependency_variant`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeVariant {
    /// `shape-derive@0.1.0`.
    pub dependency: String,
    /// `proc-macro`, `build script` or `dependency`.
    pub role: String,
    /// The cached unit's variant of it (`host, features [extra]`); `None`: it has none.
    pub built: Option<String>,
    /// The command of the deps-only build that made the cached unit.
    pub built_by: Option<String>,
    /// This phase's variant of it; `None`: this phase's unit has none.
    pub needed: Option<String>,
    /// The deps-only command that built this phase's variant of the dependency.
    pub needed_built_by: Option<String>,
}

/// How a crate needed in another role differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "differs", rename_all = "kebab-case")]
pub enum RoleDifference {
    /// Built with other settings of the same profile: build dependencies and
    /// proc-macros take the build-override profile.
    Profile {
        profile: String,
        changes: Vec<ProfileChange>,
    },
    /// Built only in other modes for the packages the deps-only build selects.
    Mode { built: Vec<String>, needed: String },
}

/// One profile setting that differs (`opt-level 3 → 1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileChange {
    pub setting: String,
    /// `None`: not set.
    pub built: Option<String>,
    pub needed: Option<String>,
}

impl MissCause {
    /// The diff's reason this cause explains (the JSON `reason`).
    pub fn reason(&self) -> Reason {
        match self {
            MissCause::Features { .. } => Reason::Features,
            MissCause::Profile { .. }
            | MissCause::Role {
                role: RoleDifference::Profile { .. },
            } => Reason::Profile,
            MissCause::Mode { .. }
            | MissCause::Role {
                role: RoleDifference::Mode { .. },
            } => Reason::Mode,
            MissCause::Platform { .. } => Reason::Platform,
            MissCause::Rustflags { .. } => Reason::Rustflags,
            MissCause::Toolchain { .. } => Reason::Toolchain,
            MissCause::NotBuilt => Reason::NotBuilt,
            MissCause::Dependency { .. } | MissCause::DependencyVariant { .. } => {
                Reason::Dependency
            }
        }
    }
}

/// What tells apart two misses of the same package, target and mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "differs", rename_all = "kebab-case")]
pub enum Variant {
    /// Built for another platform (`None`: the host).
    Platform {
        platform: Option<String>,
    },
    Features {
        features: Vec<String>,
    },
    /// Profile settings, against the other miss, and which units the profile is for
    /// (build scripts and proc-macros get the `build-override` profile).
    Profile {
        changes: Vec<ProfileChange>,
        #[serde(skip_serializing_if = "Option::is_none")]
        role: Option<UnitRole>,
    },
    /// The same unit over other dependencies: these are its own.
    Dependencies {
        dependencies: Vec<String>,
    },
}

/// Whom a unit is built for: build scripts and proc-macros (the host), or the crates
/// the build produces (the target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitRole {
    Host,
    Target,
}

/// The phase setting that makes the difference, as the phase and its deps-only source
/// state it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Trigger {
    /// Selection flags (packages, features, targets, the cargo subcommand) one side has.
    Selection {
        phase: Vec<String>,
        deps_only: Vec<String>,
        /// When one side names packages and the other does not, the packages cargo picks
        /// for the other by default (`default-members`, or the root package).
        #[serde(skip_serializing_if = "Option::is_none")]
        default_packages: Option<DefaultPackages>,
    },
    /// Another `CARGO_PROFILE`.
    ProfileName { phase: String, deps_only: String },
    /// `CARGO_PROFILE_*` variables set differently.
    ProfileEnv { changes: Vec<EnvChange> },
    Rustflags {
        phase: Option<String>,
        deps_only: Option<String>,
    },
    /// The phase's crane lib (`None`: the default one).
    Toolchain { phase: Option<String> },
    /// The phase compiles in a mode the deps-only phase never runs.
    ModeNeverRun { mode: String },
}

/// The packages cargo builds for a side that names none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultPackages {
    /// Which side builds cargo's default packages.
    pub side: Side,
    pub packages: Vec<String>,
}

/// One side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Phase,
    DepsOnly,
}

/// A variable the phase sets differently from its deps-only source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvChange {
    pub name: String,
    /// `None`: unset on that side.
    pub phase: Option<String>,
    pub deps_only: Option<String>,
}

/// A dependency path from a workspace member down to the unit that asks for the miss.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub chain: Vec<Link>,
    /// The features this edge asks for that the deps-only build left out.
    pub features: Vec<String>,
}

/// One step of a [`Request`] chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// `None` for the elided middle of a long chain.
    pub package: Option<String>,
    /// The kind of the edge from the previous step (`None` for the first step, or where
    /// the edge is not known).
    pub edge: Option<Edge>,
}

/// How a package depends on the next one in a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Edge {
    Normal,
    Dev,
    Build,
}

impl From<EdgeKind> for Edge {
    fn from(kind: EdgeKind) -> Edge {
        match kind {
            EdgeKind::Normal => Edge::Normal,
            EdgeKind::Dev => Edge::Dev,
            EdgeKind::Build => Edge::Build,
        }
    }
}

/// What removes a miss: changes to the deps-only phase, all of them together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    /// The deps-only phase to change (`None`: none is known by name).
    pub deps_phase: Option<String>,
    pub steps: Vec<FixStep>,
    /// Whether applying the steps as written was checked to remove the misses that
    /// carry this fix (set by `fix::advice`; `None` before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<FixCheck>,
}

/// What applying a [`Fix`] as written did, in another analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum FixCheck {
    /// No unit that carried this fix misses any more.
    Holds,
    /// It removes these misses, but other phases served by the same deps-only phase then
    /// miss more.
    Worsens { phases: Vec<String> },
    /// `remaining` of the `of` units that carried this fix still miss.
    LeavesMisses { remaining: usize, of: usize },
    /// The steps are not changes to a phase's attributes (another toolchain, a command
    /// to add by hand): not applied.
    NotCheckable,
}

/// One change of a [`Fix`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FixStep {
    /// A cascade: fixing its root fixes it.
    FollowsRoot {
        /// Named in the JSON by `super::json`, which knows the phase's misses.
        #[serde(skip)]
        root: UnitId,
    },
    /// Keep `doCheck = true` so dev-dependencies are built into the artifact.
    KeepDoCheck,
    AddAllFeatures,
    /// Run the phase's package selection in the deps-only phase too.
    SamePackageSelection {
        flags: Vec<SelectionFlag>,
    },
    /// The deps-only phase selects fewer packages than cargo's default.
    DropNarrowing {
        flags: Vec<SelectionFlag>,
    },
    SameFeatureFlags {
        flags: Vec<SelectionFlag>,
    },
    /// Build the test targets too (crane's default `cargo test --no-run`).
    BuildTestTargets,
    SameTargetSelection {
        flags: Vec<SelectionFlag>,
    },
    /// Run this phase's commands in the deps-only phase as well.
    RunPhaseCommands {
        commands: Vec<String>,
    },
    SameToolchain,
    SameProfile {
        profile: String,
    },
    SameProfileSettings {
        changes: Vec<EnvChange>,
    },
    /// Run a `cargo check` or `cargo build` in the deps-only phase.
    RunMode {
        subcommand: String,
    },
    /// Build for the same target (`None`: the target is not known by name).
    SameTarget {
        target: Option<String>,
    },
    /// Instrumentation adds its own rustflags: no plain artifact serves the phase.
    Instrumented {
        tool: String,
    },
    /// The rustflags variables the phase sets differently (empty when they come from
    /// elsewhere, a config file).
    SameRustflags {
        changes: Vec<EnvChange>,
    },
    /// `steps` on a buildDepsOnly of the phase's own (`name`, made as the shared one is),
    /// because on the shared one they make the other phases it serves miss more.
    OwnDepsOnly {
        name: String,
        steps: Vec<FixStep>,
        /// The attributes it sets over the shared one's (`CARGO_PROFILE = "ci"`).
        attrs: Vec<String>,
    },
}
