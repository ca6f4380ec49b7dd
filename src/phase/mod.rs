//! Phases: what each crane derivation runs, as cargo commands, and whose artifacts it
//! inherits. Sources (`toml`, the flake reader) produce [`PhaseSpec`]s; [`PhaseSet::from_specs`]
//! applies crane's semantics to them.

mod commands;
mod implicit;
pub(crate) mod shell;
pub(crate) mod spec;

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

pub(crate) use crate::crane::CraneFunction;
use crate::located::{LocatedError, Note, SourceLocation};
use implicit::implicit_deps_spec;
pub(crate) use implicit::materialize_implicit_deps;
pub(crate) use spec::{AttrValue, NotEvaluable, PhaseSpec};

use crate::crane::attrs::{AttrType, CARGO_ATTRS, COMMON_ATTRS, DERIVATION_ATTRS, attr_type};
use crate::crane::functions::{AttrLookup, phase_texts};

/// A phase with crane's semantics applied: the cargo commands it runs and where its
/// artifacts come from. Produced by [`PhaseSet::from_specs`].
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: String,
    pub function: CraneFunction,
    /// The phase whose `target/` this one starts from (`cargoArtifacts`).
    pub artifacts_from: Option<String>,
    /// crane's `CARGO_PROFILE` (`release` unless set).
    pub profile: String,
    /// The derivation's environment as cargo sees it (attributes that are environment
    /// variables, and the `env` set), without crane's own `CARGO_PROFILE`.
    pub env: BTreeMap<String, String>,
    /// The cargo commands the phase runs, build phase first, in order.
    pub commands: Vec<PhaseCommand>,
    pub do_check: bool,
    /// Whether the phase's output carries its `target/` (`doInstallCargoArtifacts`).
    pub installs_artifacts: bool,
    /// Where the phase is defined (`file:line`), if known.
    pub origin: Option<SourceLocation>,
    /// Remarks that do not change the analysis (attributes crane ignores here, ...).
    pub notes: Vec<Note>,
    /// What could not be known or interpreted exactly; non-empty means the analysis of
    /// this phase is approximate.
    pub approximations: Vec<Note>,
    /// True for the buildDepsOnly that buildPackage makes when given no `cargoArtifacts`.
    pub implicit: bool,
    /// Which crane lib (toolchain) builds the phase, when the source says.
    pub toolchain: Option<String>,
    /// The Rust release of `toolchain`, when the source names one.
    pub toolchain_release: Option<String>,
    /// The channel `toolchain` follows when it names no release (`rust-overlay's nightly`).
    pub toolchain_channel: Option<&'static str>,
    /// The name the flake binds that crane lib to, when one name does.
    pub crane_lib: Option<String>,
    /// The attributes as the source wrote them (`src`, `nativeBuildInputs`, ...), for the
    /// findings that look past cargo.
    pub attrs: BTreeMap<String, AttrValue>,
    /// Set when Nix can never build the phase (its definition fails to evaluate).
    pub not_evaluable: Option<NotEvaluable>,
    /// Its `src` as files, when the flake reader could evaluate it.
    pub source: Option<std::sync::Arc<crate::source_set::SourceSet>>,
    /// The other flake outputs that are this same derivation.
    pub aliases: Vec<String>,
}

/// One cargo call of a phase, as crane runs it. Produced by [`PhaseSet::from_specs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseCommand {
    /// Arguments after `cargo`.
    pub args: Vec<String>,
    /// Variables assigned in front of the command in the shell text.
    pub env: BTreeMap<String, String>,
}

impl PhaseCommand {
    /// The command line, whitespace-normalized and shell-quoted where needed.
    pub fn display(&self) -> String {
        let mut words: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        words.push("cargo".into());
        words.extend(self.args.iter().map(|a| quote(a)));
        words.join(" ")
    }
}

fn quote(word: &str) -> String {
    shell_words::quote(word).into_owned()
}

/// A bad phase definition. Always names the phase and, where one is at fault, the attribute.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PhaseError {
    #[error(
        "phase {phase}: no `function` attribute; name the crane function, e.g. function = \"buildDepsOnly\""
    )]
    MissingFunction { phase: Box<Who> },
    #[error("phase {phase}: unknown crane function {function}{hint}")]
    UnknownFunction {
        phase: Box<Who>,
        function: String,
        hint: String,
    },
    #[error("phase {phase}: unknown attribute {attr}{hint}")]
    UnknownAttribute {
        phase: Box<Who>,
        attr: String,
        hint: String,
    },
    #[error("phase {phase}: attribute `{attr}` must be {expected}, found {found}")]
    WrongType {
        phase: Box<Who>,
        attr: String,
        expected: &'static str,
        found: String,
    },
    #[error("phase {phase}: cargoArtifacts names {target}, which is not a phase{hint}")]
    UnknownArtifacts {
        phase: Box<Who>,
        target: String,
        hint: String,
    },
    #[error(
        "phase {phase}: crane's {function} requires cargoArtifacts (the phase whose target/ it inherits; \"\" in a phases file or null in Nix for none)"
    )]
    MissingArtifacts {
        phase: Box<Who>,
        function: CraneFunction,
    },
    #[error("phases {cycle}: cargoArtifacts form a cycle")]
    ArtifactCycle { cycle: String },
    #[error("phase {phase} is defined twice")]
    Duplicate { phase: Box<Who> },
    #[error(
        "a phase has an empty name{}; name every phase",
        location.as_ref().map(|l| format!(" ({l})")).unwrap_or_default()
    )]
    EmptyName { location: Option<SourceLocation> },
    #[error("no phases defined")]
    Empty,
}

impl PhaseError {
    /// Where in its source the fault is, when known.
    pub fn location(&self) -> Option<&SourceLocation> {
        match self {
            PhaseError::MissingFunction { phase }
            | PhaseError::UnknownFunction { phase, .. }
            | PhaseError::UnknownAttribute { phase, .. }
            | PhaseError::WrongType { phase, .. }
            | PhaseError::UnknownArtifacts { phase, .. }
            | PhaseError::MissingArtifacts { phase, .. }
            | PhaseError::Duplicate { phase } => phase.location.as_ref(),
            PhaseError::EmptyName { location } => location.as_ref(),
            PhaseError::ArtifactCycle { .. } | PhaseError::Empty => None,
        }
    }
}

/// Where in a source file the fault of an error chain is, when one of its errors says.
pub fn error_location(err: &anyhow::Error) -> Option<&SourceLocation> {
    err.chain().find_map(|cause| {
        if let Some(located) = cause.downcast_ref::<LocatedError>() {
            return Some(&located.location);
        }
        cause.downcast_ref::<PhaseError>()?.location()
    })
}

/// All phases of a build, in definition order (an implicit deps-only phase right before
/// the phase that makes it). Produced by [`PhaseSet::from_specs`].
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSet {
    pub phases: Vec<Phase>,
    /// Phase name → index in `phases`.
    positions: std::collections::HashMap<String, usize>,
    /// Per phase: the index of the phase it takes its artifacts from.
    parents: Vec<Option<usize>>,
}

impl PhaseSet {
    /// Applies crane's semantics to phase specs: validates attributes, fills in defaults,
    /// builds the command lists, and adds buildPackage's implicit buildDepsOnly.
    pub fn from_specs(specs: Vec<PhaseSpec>) -> Result<PhaseSet, PhaseError> {
        if specs.is_empty() {
            return Err(PhaseError::Empty);
        }
        let mut names = BTreeSet::new();
        for spec in &specs {
            if spec.name.is_empty() {
                return Err(PhaseError::EmptyName {
                    location: spec.origin.clone(),
                });
            }
            if !names.insert(spec.name.clone()) {
                return Err(PhaseError::Duplicate { phase: who(spec) });
            }
        }
        let mut phases = Vec::new();
        for spec in &specs {
            let function = function_of(spec)?;
            validate_attrs(spec)?;
            let mut artifacts_from = artifacts_of(spec, function, &names)?;
            if function.makes_own_deps() && !spec.attrs.contains_key("cargoArtifacts") {
                let implicit = implicit_deps_spec(spec, function, &names);
                artifacts_from = Some(implicit.name.clone());
                let mut deps = build_phase(&implicit, CraneFunction::BuildDepsOnly, None)?;
                deps.implicit = true;
                phases.push(deps);
            }
            phases.push(build_phase(spec, function, artifacts_from)?);
        }
        let positions = phases
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        let mut set = PhaseSet {
            phases,
            positions,
            parents: Vec::new(),
        };
        set.parents = set.phases.iter().map(|p| set.parent(p)).collect();
        set.check_cycles()?;
        Ok(set)
    }

    pub fn get(&self, name: &str) -> Option<&Phase> {
        self.position(name).map(|i| &self.phases[i])
    }

    /// The index of the phase named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }

    /// The phases whose units are in the `target/` that `phase` starts from, nearest first.
    pub fn artifact_chain(&self, phase: &Phase) -> Vec<&Phase> {
        let Some(i) = self.position(&phase.name) else {
            return Vec::new();
        };
        self.chain_positions(i).map(|p| &self.phases[p]).collect()
    }

    /// [`PhaseSet::artifact_chain`] of the phase at index `i`, as indices.
    pub fn chain_positions(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        // The set has no cycles (checked when it was made); the bound is for safety only.
        std::iter::successors(self.parents[i], |&p| self.parents[p]).take(self.phases.len())
    }

    /// The index of the phase `phase` takes its artifacts from.
    fn parent(&self, phase: &Phase) -> Option<usize> {
        self.position(phase.artifacts_from.as_deref()?)
    }

    /// Each phase is walked once: a walk stops at a phase already known to lead nowhere
    /// circular, or reports the cycle when it comes back to a phase on its own path.
    fn check_cycles(&self) -> Result<(), PhaseError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Unvisited,
            OnPath,
            Done,
        }
        let mut marks = vec![Mark::Unvisited; self.phases.len()];
        for start in 0..self.phases.len() {
            let mut path = Vec::new();
            let mut next = Some(start);
            while let Some(i) = next {
                match marks[i] {
                    Mark::Done => break,
                    Mark::OnPath => {
                        let from = path.iter().position(|&p| p == i).unwrap_or(0);
                        let mut names: Vec<&str> = path[from..]
                            .iter()
                            .map(|&p: &usize| self.phases[p].name.as_str())
                            .collect();
                        names.push(&self.phases[i].name);
                        return Err(PhaseError::ArtifactCycle {
                            cycle: names.join(" -> "),
                        });
                    }
                    Mark::Unvisited => {
                        marks[i] = Mark::OnPath;
                        path.push(i);
                        next = self.parents[i];
                    }
                }
            }
            for i in path {
                marks[i] = Mark::Done;
            }
        }
        Ok(())
    }
}

fn function_of(spec: &PhaseSpec) -> Result<CraneFunction, PhaseError> {
    let name = match spec.attrs.get("function") {
        None => {
            return Err(PhaseError::MissingFunction { phase: who(spec) });
        }
        Some(AttrValue::Str(name)) => name,
        Some(other) => return Err(wrong_type(spec, "function", "a string", other)),
    };
    CraneFunction::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = CraneFunction::ALL.iter().map(|f| f.name()).collect();
        PhaseError::UnknownFunction {
            phase: who_at(spec, "function"),
            function: crate::text::echo(name),
            hint: did_you_mean(name, &all)
                .unwrap_or_else(|| format!(" (crane functions: {})", all.join(", "))),
        }
    })
}

/// An attribute in UPPER_SNAKE_CASE is an environment variable of the derivation; so is
/// one that starts upper case and spells a target in lower case, as the cc crate reads it
/// (`CC_x86_64_unknown_linux_gnu`, `CFLAGS_aarch64-unknown-linux-gnu`). crane's and stdenv's
/// own attributes all start lower case.
pub(crate) fn is_env_attr(attr: &str) -> bool {
    attr.starts_with(|c: char| c.is_ascii_uppercase())
        && attr
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Every attribute name crane or its derivation interprets.
pub(crate) fn known_attrs() -> Vec<&'static str> {
    COMMON_ATTRS
        .iter()
        .chain(CARGO_ATTRS)
        .chain(DERIVATION_ATTRS)
        .copied()
        .collect()
}

fn validate_attrs(spec: &PhaseSpec) -> Result<(), PhaseError> {
    let known = known_attrs();
    for attr in spec.attrs.keys() {
        if is_env_attr(attr) || known.contains(&attr.as_str()) {
            continue;
        }
        return Err(PhaseError::UnknownAttribute {
            phase: who_at(spec, attr),
            attr: crate::text::echo(attr),
            hint: did_you_mean(attr, &known).unwrap_or_else(|| {
                " (not a crane attribute; environment variables are written in UPPER_CASE or under env)"
                    .to_string()
            }),
        });
    }
    Ok(())
}

/// `; did you mean `X`?` for a close candidate. Only short words are compared: a
/// candidate is at most a few edits away, so a word much longer than every candidate
/// has none (and comparing it would cost its length times theirs).
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    const LONGEST_WORD: usize = 64;
    let length = word.chars().take(LONGEST_WORD + 1).count();
    if length > LONGEST_WORD {
        return None;
    }
    let word = word.to_lowercase();
    candidates
        .iter()
        .filter(|c| c.len() <= LONGEST_WORD)
        .map(|c| (strsim::damerau_levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(distance, c)| *distance <= (c.len() / 4).max(2))
        .min()
        .map(|(_, c)| format!("; did you mean {}?", crate::text::echo(c)))
}

fn artifacts_of(
    spec: &PhaseSpec,
    function: CraneFunction,
    names: &BTreeSet<String>,
) -> Result<Option<String>, PhaseError> {
    let target = match spec.attrs.get("cargoArtifacts") {
        None if function.requires_artifacts() => {
            return Err(PhaseError::MissingArtifacts {
                phase: who(spec),
                function,
            });
        }
        None | Some(AttrValue::Null) | Some(AttrValue::Unknown(_)) => return Ok(None),
        Some(AttrValue::Str(s)) if s.is_empty() => return Ok(None),
        Some(AttrValue::Str(s)) => s,
        Some(other) => return Err(wrong_type(spec, "cargoArtifacts", "a phase name", other)),
    };
    if function == CraneFunction::BuildDepsOnly {
        // crane forces cargoArtifacts = null on buildDepsOnly; noted in build_phase.
        return Ok(None);
    }
    if !names.contains(target) {
        let all: Vec<&str> = names.iter().map(String::as_str).collect();
        return Err(PhaseError::UnknownArtifacts {
            phase: who_at(spec, "cargoArtifacts"),
            target: crate::text::echo(target),
            hint: did_you_mean(target, &all).unwrap_or_default(),
        });
    }
    Ok(Some(target.clone()))
}

/// How an error names a phase: `` `deps` `` and, where known, where it is defined (or
/// where the attribute at fault is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub name: String,
    pub location: Option<SourceLocation>,
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::text::echo(&self.name))?;
        match &self.location {
            Some(location) => write!(f, " ({location})"),
            None => Ok(()),
        }
    }
}

fn who(spec: &PhaseSpec) -> Box<Who> {
    Box::new(Who {
        name: spec.name.clone(),
        location: spec.origin.clone(),
    })
}

/// The phase, placed at its attribute `attr` when the source says where that is.
fn who_at(spec: &PhaseSpec, attr: &str) -> Box<Who> {
    let mut who = who(spec);
    if let Some(location) = spec.attr_locations.get(attr) {
        who.location = Some(location.clone());
    }
    who
}

fn wrong_type(
    spec: &PhaseSpec,
    attr: &str,
    expected: &'static str,
    found: &AttrValue,
) -> PhaseError {
    PhaseError::WrongType {
        phase: who_at(spec, attr),
        attr: attr.to_string(),
        expected,
        found: format!(
            "{} ({})",
            found.type_name(),
            crate::text::echo(&found.to_string())
        ),
    }
}

/// Typed access to a spec's attributes; wrong types were rejected by [`check_types`].
struct SpecAttrs<'a>(&'a PhaseSpec);

impl AttrLookup for SpecAttrs<'_> {
    fn string(&self, attr: &str) -> Option<String> {
        match self.0.attrs.get(attr) {
            Some(AttrValue::Str(s)) => Some(s.clone()),
            _ => None,
        }
    }
    fn boolean(&self, attr: &str) -> Option<bool> {
        match self.0.attrs.get(attr) {
            Some(AttrValue::Bool(b)) => Some(*b),
            _ => None,
        }
    }
    fn integer(&self, attr: &str) -> Option<i64> {
        match self.0.attrs.get(attr) {
            Some(AttrValue::Int(i)) => Some(*i),
            _ => None,
        }
    }
}

/// Rejects values of the wrong type; returns notes for values that are not known.
fn check_types(spec: &PhaseSpec) -> Result<Vec<Note>, PhaseError> {
    let mut notes = Vec::new();
    for (attr, value) in &spec.attrs {
        let expected = match attr_type(attr) {
            Some(expected) => expected,
            None if is_env_attr(attr) => AttrType::Str,
            None => continue,
        };
        let ok = matches!(
            (expected, value),
            (AttrType::Bool, AttrValue::Bool(_))
                | (AttrType::Int, AttrValue::Int(_))
                | (AttrType::Str, AttrValue::Str(_))
        );
        match value {
            _ if ok => {}
            AttrValue::Unknown(what) => notes.push(Note {
                location: spec.origin.clone(),
                text: format!(
                    "attribute {attr} could not be resolved ({what}); {}",
                    if is_env_attr(attr) && attr != "CARGO_PROFILE" {
                        "left unset"
                    } else {
                        "crane's default was assumed"
                    }
                ),
            }),
            // An environment variable given as a number or boolean is its text.
            AttrValue::Int(_) | AttrValue::Bool(_) if is_env_attr(attr) => {}
            other => return Err(wrong_type(spec, attr, expected.described(), other)),
        }
    }
    Ok(notes)
}

fn env_of(spec: &PhaseSpec) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (attr, value) in &spec.attrs {
        if is_env_attr(attr) && attr != "CARGO_PROFILE" {
            let text = match value {
                AttrValue::Str(s) => s.clone(),
                AttrValue::Int(i) => i.to_string(),
                AttrValue::Bool(true) => "1".into(),
                AttrValue::Bool(false) => String::new(),
                _ => continue,
            };
            env.insert(attr.clone(), text);
        }
    }
    for (name, value) in &spec.env {
        if name != "CARGO_PROFILE" {
            env.insert(name.clone(), value.clone());
        }
    }
    env
}

fn installs_artifacts(function: CraneFunction, attrs: &SpecAttrs, notes: &mut Vec<Note>) -> bool {
    let given = attrs.boolean("doInstallCargoArtifacts");
    match function.forced_installs_artifacts() {
        Some(forced) => {
            if given.is_some_and(|given| given != forced) {
                notes.push(Note::new(format!(
                    "crane's {function} sets doInstallCargoArtifacts = {forced} over the given value"
                )));
            }
            forced
        }
        None => given.unwrap_or(function.default_installs_artifacts()),
    }
}

fn build_phase(
    spec: &PhaseSpec,
    function: CraneFunction,
    artifacts_from: Option<String>,
) -> Result<Phase, PhaseError> {
    let mut approximations = spec.approximations.clone();
    approximations.extend(check_types(spec)?);
    let mut notes = Vec::new();
    let attrs = SpecAttrs(spec);
    let profile = attrs
        .string("CARGO_PROFILE")
        .or_else(|| spec.env.get("CARGO_PROFILE").cloned())
        .unwrap_or_else(|| "release".to_string());
    let env = env_of(spec);
    for attr in spec.attrs.keys() {
        if CARGO_ATTRS.contains(&attr.as_str())
            && attr.starts_with("cargo")
            && !function.reads_attr(attr)
        {
            notes.push(Note::new(format!(
                "{attr} is not read by crane's {function}; ignored"
            )));
        }
    }
    if function == CraneFunction::BuildDepsOnly
        && matches!(spec.attrs.get("cargoArtifacts"), Some(AttrValue::Str(s)) if !s.is_empty())
    {
        notes.push(Note::new(
            "crane's buildDepsOnly ignores cargoArtifacts (it always starts from nothing)",
        ));
    }
    let texts = phase_texts(function, &attrs, &profile);
    let lookup = |name: &str| match name {
        "CARGO_PROFILE" => Some(profile.clone()),
        "out" => Some("$out".to_string()),
        _ => env.get(name).cloned(),
    };
    let commands = commands::scan(
        spec,
        function,
        &texts,
        &profile,
        &lookup,
        &mut approximations,
    );
    let installs_artifacts = installs_artifacts(function, &attrs, &mut notes);
    Ok(Phase {
        name: spec.name.clone(),
        function,
        artifacts_from,
        profile,
        env,
        commands,
        do_check: attrs
            .boolean("doCheck")
            .unwrap_or(function.default_do_check()),
        installs_artifacts,
        origin: spec.origin.clone(),
        notes,
        approximations,
        implicit: false,
        attrs: spec.attrs.clone(),
        toolchain: spec.toolchain.clone(),
        toolchain_release: spec.toolchain_release.clone(),
        toolchain_channel: spec.toolchain_channel,
        crane_lib: spec.crane_lib.clone(),
        not_evaluable: spec.not_evaluable.clone(),
        source: spec.source.clone(),
        aliases: spec.aliases.clone(),
    })
}

#[cfg(test)]
mod tests;
