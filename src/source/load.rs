//! Finding the phases to analyse: a phases file, a flake, or crane's quick-start set.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobMatcher};

use crate::cargo::{CacheLocation, CargoRunner, ResolutionCache};
use crate::located::{LocatedError, Note, SourceLocation};
use crate::phase::{AttrValue, Phase, PhaseSet, PhaseSpec};
use crate::session::Session;
use crate::source::compare::match_phases;
use crate::source::flake::{FlakePhases, read_flake};
use crate::source::nix::{NixOptions, read_flake_with_nix};
use crate::source::phases_file::read_phases_file;
use crate::source::quickstart::quickstart_specs;
use crate::text;

/// Where the user pointed cache-miss.
#[derive(Debug, Clone, Default)]
pub struct PhaseSourceOptions {
    /// The workspace's `Cargo.toml`; `None`: the workspace around the current directory.
    pub manifest_path: Option<PathBuf>,
    pub phases_file: Option<PathBuf>,
    pub flake: Option<PathBuf>,
    /// Shell-style globs: analyse only the phases they match (all when empty).
    pub only: Vec<String>,
    /// Shell-style globs: leave the phases they match out.
    pub exclude: Vec<String>,
    /// Where cargo's answers are remembered between runs (`--cache-dir`, `--no-cache`).
    pub cache: CacheLocation,
    /// The Nix system a flake is read for (`--system`); `None`: this machine's.
    pub system: Option<String>,
    /// `--nix`: read the flake's phases with the user's Nix instead of statically.
    pub nix: Option<NixOptions>,
}

/// The phases to analyse, where they came from, and the workspace. Produced by [`load_phases`].
#[derive(Debug, Clone)]
pub struct LoadedPhases {
    pub phases: PhaseSet,
    /// The phases as their source states them (before crane's defaults).
    pub specs: Vec<PhaseSpec>,
    /// Says where the phases came from, for the report's header.
    pub description: String,
    /// The directory holding the manifest: crane's source root, where cargo runs.
    pub source_root: PathBuf,
    /// What the phase source could not resolve (file:line), for the report.
    pub warnings: Vec<Note>,
    /// Set when a flake was found but held no crane call the reader could find, so
    /// crane's quick-start set was assumed: the warning to print on stderr too.
    pub fallback: Option<String>,
    /// Phases left out on purpose (`--exclude`, `--only`).
    pub excluded: BTreeSet<String>,
    /// The flake the phases were read from, when they were.
    pub flake: Option<PathBuf>,
    /// With `--nix`: what Nix answered for the flake (`why-rebuild` compares it with a
    /// revision's instead of asking Nix again).
    pub(crate) nix_evaluation: Option<std::sync::Arc<crate::source::nix::FlakeEvaluation>>,
    /// The phases file the phases were read from, when they were.
    pub phases_file: Option<PathBuf>,
    /// Runs cargo in `source_root`; every analysis of these phases shares its answers.
    session: Arc<Session>,
}

impl LoadedPhases {
    /// The analysis session of these phases' workspace (shared with every copy of them).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The same phases with attributes changed (`--set deps.doCheck=true`).
    pub fn with_overrides(&self, overrides: &[Override]) -> Result<LoadedPhases> {
        let mut specs = self.specs.clone();
        for o in overrides {
            let Some(spec) = specs.iter_mut().find(|s| s.name == o.phase) else {
                bail!(
                    "--set {}: no phase {} (phases: {})",
                    text::echo(&o.to_string()),
                    text::echo(&o.phase),
                    few_names(self.specs.iter().map(|s| s.name.as_str()))
                );
            };
            match o.attr.strip_prefix("env.") {
                Some(variable) => {
                    let value = match &o.value {
                        AttrValue::Str(text) => text.clone(),
                        other => other.to_string(),
                    };
                    spec.env.insert(variable.to_string(), value);
                }
                None => {
                    spec.attrs.insert(o.attr.clone(), o.value.clone());
                    // The value is the command line's now: a fault in it is not at the
                    // file's line.
                    spec.attr_locations.remove(&o.attr);
                }
            }
        }
        let phases = PhaseSet::from_specs(specs.clone()).context("with the --set changes")?;
        let changes: Vec<String> = overrides.iter().map(Override::to_string).collect();
        Ok(LoadedPhases {
            phases,
            specs,
            description: format!("{}, with {}", self.description, changes.join(", ")),
            source_root: self.source_root.clone(),
            warnings: self.warnings.clone(),
            fallback: self.fallback.clone(),
            excluded: self.excluded.clone(),
            flake: self.flake.clone(),
            nix_evaluation: self.nix_evaluation.clone(),
            phases_file: self.phases_file.clone(),
            session: self.session.clone(),
        })
    }
}

/// At most a few names, then how many more.
fn few_names<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 10;
    let count = names.len();
    let mut shown: Vec<String> = names.take(SHOWN).map(text::echo).collect();
    if count > SHOWN {
        shown.push(format!("and {} more", count - SHOWN));
    }
    shown.join(", ")
}

/// One `--set PHASE.ATTR=VALUE`: `true`/`false` are booleans, whole numbers integers, a
/// double-quoted value (as a Nix string is written) the string inside, anything else a
/// string.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub phase: String,
    pub attr: String,
    pub value: AttrValue,
}

impl std::str::FromStr for Override {
    type Err = String;

    /// `PHASE.ATTR=VALUE`, `PHASE.env.NAME=VALUE`, or with the phase name quoted
    /// (`"my.deps".doCheck=true`) when it holds a dot.
    fn from_str(text: &str) -> Result<Override, String> {
        const EXPECTED: &str = "expected PHASE.ATTR=VALUE (quote a phase name that has a dot: '\"my.deps\".doCheck=true')";
        let (phase, rest) = split_phase(text).ok_or(EXPECTED)?;
        let (attr, value) = rest.split_once('=').ok_or(EXPECTED)?;
        if phase.is_empty() {
            return Err(format!("{EXPECTED}; the phase name is empty"));
        }
        if attr.is_empty() {
            return Err(format!("{EXPECTED}; the attribute name is empty"));
        }
        if attr == "env" {
            return Err(
                "`env` is a set of variables: set one with PHASE.env.NAME=VALUE".to_string(),
            );
        }
        if attr.strip_prefix("env.").is_some_and(str::is_empty) {
            return Err("PHASE.env.NAME=VALUE: the variable name is empty".to_string());
        }
        // A Nix string as the report prints it: `"--locked --workspace"`.
        let nix_string = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
        let value = match (value, nix_string) {
            ("true", _) => AttrValue::Bool(true),
            ("false", _) => AttrValue::Bool(false),
            (_, Some(inner)) => AttrValue::Str(inner.replace("\\\"", "\"")),
            (v, None) => v
                .parse::<i64>()
                .map_or_else(|_| AttrValue::Str(v.to_string()), AttrValue::Int),
        };
        Ok(Override {
            phase,
            attr: attr.to_string(),
            value,
        })
    }
}

/// The phase name of `PHASE.REST` (up to the first dot, or a `"quoted"` name with `\"` and
/// `\\` escapes) and the rest after the dot.
fn split_phase(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let (phase, rest) = text.split_once('.')?;
        return Some((phase.to_string(), rest));
    };
    let mut phase = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => phase.push(chars.next()?.1),
            '"' => return Some((phase, quoted.get(i + 1..)?.strip_prefix('.')?)),
            _ => phase.push(c),
        }
    }
    None
}

/// As written on the command line: the phase quoted when it holds a dot or a quote.
impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.phase.contains(['.', '"', '\\']) {
            let escaped = self.phase.replace('\\', "\\\\").replace('"', "\\\"");
            write!(f, "\"{escaped}\"")?;
        } else {
            f.write_str(&self.phase)?;
        }
        write!(f, ".{}={}", self.attr, self.value)
    }
}

/// The default phases file name, looked for beside the manifest.
pub(crate) const DEFAULT_PHASES_FILE: &str = "phases.toml";

/// The flake file name, looked for beside the manifest.
pub(crate) const DEFAULT_FLAKE: &str = "flake.nix";

const QUICKSTART: &str = "assumed crane's quick-start set (buildDepsOnly, buildPackage, cargoClippy, cargoNextest, cargoDoc with crane's defaults)";

/// Phases, in order of preference: `--phases FILE`, `--flake FILE`, `phases.toml` beside
/// the manifest, `flake.nix` beside it, crane's quick-start set.
pub fn load_phases(options: &PhaseSourceOptions) -> Result<LoadedPhases> {
    // One cache for the run: opening it checks (and warns about) its permissions.
    let cache = ResolutionCache::open(&options.cache)?.map(Arc::new);
    let system = match &options.system {
        Some(system) => crate::source::flake::System::parse(system)?,
        None => crate::source::flake::System::host(),
    };
    let (source_root, runner) = source_root(options.manifest_path.as_deref(), cache.clone())?;
    let phases_beside = source_root.join(DEFAULT_PHASES_FILE);
    let nearest_flake = nearest_flake(&source_root);
    let mut warnings = Vec::new();
    let mut fallback = None;
    let mut read_flake_file = None;
    let mut nix_evaluation = None;
    let mut read_phases_file_path = None;
    let (specs, description, shown) = if let Some(nix) = &options.nix {
        let flake = match &options.flake {
            Some(flake) => flake.clone(),
            None => nearest_flake.clone().ok_or_else(|| {
                anyhow::anyhow!(
                    "--nix: no {DEFAULT_FLAKE} beside {} or above it in its git repository (name it with --flake path/to/flake.nix)",
                    source_root.display()
                )
            })?,
        };
        let flake_dir = nix_flake_dir(&flake)?;
        let shown = match flake_dir == source_root {
            true => DEFAULT_FLAKE.to_string(),
            false => flake.display().to_string(),
        };
        let mut read = read_flake_with_nix(&flake_dir, &shown, nix, cache.as_deref())?;
        place_by_static_reading(&mut read.specs, &flake, &system);
        warnings = read.warnings;
        read_flake_file = Some(flake.clone());
        nix_evaluation = Some(read.evaluation);
        (read.specs, read.description, shown)
    } else if let Some(file) = &options.phases_file {
        let shown = file.display().to_string();
        read_phases_file_path = Some(file.clone());
        (
            read_phases_file(file, &shown)?,
            format!("phases file {shown}"),
            shown,
        )
    } else if let Some(flake) = &options.flake {
        let found = read_flake(flake, &system)?;
        if found.specs.is_empty() {
            let what = match found.crane_calls.found {
                0 => "no crane calls found (craneLib.buildDepsOnly, craneLib.buildPackage, ...)"
                    .to_string(),
                _ => found.summary(),
            };
            return Err(no_phases_in(flake, &what, &found));
        }
        let summary = found.summary();
        warnings = found.warnings;
        let shown = flake.display().to_string();
        read_flake_file = Some(flake.clone());
        (found.specs, format!("flake {shown} ({summary})"), shown)
    } else if phases_beside.is_file() {
        let specs = read_phases_file(&phases_beside, DEFAULT_PHASES_FILE)?;
        read_phases_file_path = Some(phases_beside.clone());
        (
            specs,
            format!("phases file {DEFAULT_PHASES_FILE} beside the manifest"),
            DEFAULT_PHASES_FILE.to_string(),
        )
    } else if let Some(flake) = &nearest_flake {
        let found = read_flake(flake, &system)?;
        let summary = found.summary();
        let input_hint = found.input_hint();
        // Crane calls the reader found but could not place are not a reason to guess.
        if found.specs.is_empty() && found.crane_calls.found > 0 {
            return Err(no_phases_in(flake, &summary, &found));
        }
        warnings = found.warnings;
        let shown = match flake.parent() {
            Some(dir) if dir == source_root => format!("{DEFAULT_FLAKE} beside the manifest"),
            _ => format!("{} (the nearest above the manifest)", flake.display()),
        };
        if found.specs.is_empty() {
            let warning = no_crane_calls_warning(flake, input_hint);
            fallback = Some(warning.to_string());
            warnings.insert(0, warning);
            (
                quickstart_specs(),
                format!(
                    "{DEFAULT_FLAKE} has no crane calls cache-miss could find, so these are NOT your phases: {QUICKSTART}"
                ),
                String::new(),
            )
        } else {
            read_flake_file = Some(flake.clone());
            (
                found.specs,
                format!("flake {shown} ({summary})"),
                DEFAULT_FLAKE.to_string(),
            )
        }
    } else {
        (
            quickstart_specs(),
            format!("no phases file or flake found; {QUICKSTART}"),
            String::new(),
        )
    };
    let specs = without_other_workspaces(specs, &source_root, &mut warnings)?;
    let phases = PhaseSet::from_specs(specs.clone()).with_context(|| format!("in {shown}"))?;
    let excluded = excluded_phases(&phases, &options.only, &options.exclude)?;
    Ok(LoadedPhases {
        phases,
        specs,
        description,
        session: Arc::new(Session::new(runner)),
        source_root,
        warnings,
        fallback,
        excluded,
        flake: read_flake_file,
        phases_file: read_phases_file_path,
        nix_evaluation,
    })
}

/// Nix says which derivations a flake makes, not on which line nor what its `src` holds
/// file by file (a store path): a phase the static reader also finds (matched as
/// `phases --compare` matches them) takes its place (`flake.nix:21`) and its evaluated
/// source from there, so the source findings speak of it as without `--nix`.
fn place_by_static_reading(
    specs: &mut [PhaseSpec],
    flake: &Path,
    system: &crate::source::flake::System,
) {
    let Ok(read) = read_flake(flake, system) else {
        return;
    };
    let (Ok(static_set), Ok(nix_set)) = (
        PhaseSet::from_specs(read.specs),
        PhaseSet::from_specs(specs.to_vec()),
    ) else {
        return;
    };
    let matched: HashMap<&str, &Phase> = match_phases(&static_set, &nix_set)
        .into_iter()
        .map(|(s, n)| (n.name.as_str(), s))
        .collect();
    for spec in specs {
        let Some(statically) = matched.get(spec.name.as_str()) else {
            continue;
        };
        if let Some(place) = &statically.origin {
            spec.origin = Some(place.clone());
        }
        if spec.source.is_none() {
            spec.source = statically.source.clone();
        }
    }
}

/// The directory of a flake for `--nix`: Nix evaluates a directory's `flake.nix`, not
/// another file.
fn nix_flake_dir(flake: &Path) -> Result<PathBuf> {
    if flake.file_name().is_none_or(|name| name != DEFAULT_FLAKE) {
        bail!(
            "--nix evaluates a flake, and {} is not a {DEFAULT_FLAKE}: name the flake with --flake path/to/{DEFAULT_FLAKE}, or leave --nix out to read this file statically",
            flake.display()
        );
    }
    if !flake.is_file() {
        bail!("--nix: no flake at {}", flake.display());
    }
    let dir = flake.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    dir.canonicalize()
        .with_context(|| format!("--nix: cannot resolve {}", dir.display()))
}

/// A flake the reader found no phase in: `what` it found instead, and what it could not
/// resolve.
fn no_phases_in(flake: &Path, what: &str, found: &FlakePhases) -> anyhow::Error {
    let hint = found.input_hint().unwrap_or_else(|| {
        "pass --flake with the file that has the crane calls, or describe the phases in a file for --phases".to_string()
    });
    LocatedError {
        location: SourceLocation::file(flake.display().to_string()),
        message: format!("{what}{}; {hint}", unresolved_note(&found.warnings)),
    }
    .into()
}

/// The names of the phases `--only`/`--exclude` leave out. A pattern that matches no
/// phase is an error: it is a typo, or the phase is not where the user thinks.
fn excluded_phases(
    set: &PhaseSet,
    only: &[String],
    exclude: &[String],
) -> Result<BTreeSet<String>> {
    let names: Vec<&str> = set.phases.iter().map(|p| p.name.as_str()).collect();
    let matcher = |flag: &str, patterns: &[String]| -> Result<Vec<GlobMatcher>> {
        patterns
            .iter()
            .map(|pattern| {
                let glob = Glob::new(pattern)
                    .with_context(|| format!("{flag} {pattern}: not a glob"))?
                    .compile_matcher();
                if !names.iter().any(|name| glob.is_match(name)) {
                    bail!(
                        "{flag} {pattern}: no phase matches (phases: {})",
                        names.join(", ")
                    );
                }
                Ok(glob)
            })
            .collect()
    };
    let only = matcher("--only", only)?;
    let exclude = matcher("--exclude", exclude)?;
    Ok(names
        .iter()
        .filter(|name| {
            (!only.is_empty() && !only.iter().any(|g| g.is_match(name)))
                || exclude.iter().any(|g| g.is_match(name))
        })
        .map(|name| name.to_string())
        .collect())
}

/// `flake.nix` beside the manifest or, when the workspace sits in a subdirectory of a git
/// repository, the nearest one above it within that repository.
pub(crate) fn nearest_flake(source_root: &Path) -> Option<PathBuf> {
    let beside = source_root.join(DEFAULT_FLAKE);
    if beside.is_file() {
        return Some(beside);
    }
    let repository = source_root
        .ancestors()
        .find(|dir| dir.join(".git").exists())?;
    source_root
        .ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(repository))
        .map(|dir| dir.join(DEFAULT_FLAKE))
        .find(|flake| flake.is_file())
}

/// The specs without the phases that build another workspace than the one at
/// `source_root` (their `src` is a directory with a Cargo.toml that neither is nor contains
/// it), nor those that inherit from them; each left out is said in `warnings`. An error when none is left.
fn without_other_workspaces(
    specs: Vec<PhaseSpec>,
    source_root: &Path,
    warnings: &mut Vec<Note>,
) -> Result<Vec<PhaseSpec>> {
    let elsewhere = |spec: &PhaseSpec| {
        let dir = spec.src_dir.as_ref()?;
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        let other_workspace = !source_root.starts_with(&dir) && dir.join("Cargo.toml").is_file();
        other_workspace.then_some(dir)
    };
    let mut left_out: HashMap<&str, String> = specs
        .iter()
        .filter_map(|spec| Some((spec.name.as_str(), elsewhere(spec)?.display().to_string())))
        .collect();
    // Phases that inherit from a phase left out go with it.
    let mut inheritors: HashMap<&str, Vec<&str>> = HashMap::new();
    for spec in &specs {
        if let Some(AttrValue::Str(source)) = spec.attrs.get("cargoArtifacts") {
            inheritors.entry(source).or_default().push(&spec.name);
        }
    }
    let mut pending: Vec<&str> = left_out.keys().copied().collect();
    while let Some(source) = pending.pop() {
        let Some(dir) = left_out.get(source).cloned() else {
            continue;
        };
        for &inheritor in inheritors.get(source).into_iter().flatten() {
            if !left_out.contains_key(inheritor) {
                left_out.insert(inheritor, dir.clone());
                pending.push(inheritor);
            }
        }
    }
    let left_out: Vec<(String, String)> = specs
        .iter()
        .filter_map(|spec| Some((spec.name.clone(), left_out.get(spec.name.as_str())?.clone())))
        .collect();
    if left_out.is_empty() {
        return Ok(specs);
    }
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, dir) in &left_out {
        by_dir.entry(dir).or_default().push(name.as_str());
    }
    let said: Vec<String> = by_dir
        .iter()
        .map(|(dir, names)| {
            format!(
                "{} build from {dir} (--manifest-path {dir}/Cargo.toml)",
                few_names(names.iter().copied())
            )
        })
        .collect();
    let gone: HashSet<&str> = left_out.iter().map(|(name, _)| name.as_str()).collect();
    let kept: Vec<PhaseSpec> = specs
        .iter()
        .filter(|spec| !gone.contains(spec.name.as_str()))
        .cloned()
        .collect();
    let advice = format!(
        "{}, not from the workspace at {}",
        said.join("; "),
        source_root.display()
    );
    if kept.is_empty() {
        bail!("every phase builds another workspace: {advice}");
    }
    warnings.push(Note::new(format!("left out: {advice}")));
    Ok(kept)
}

/// The warning for a flake without crane calls the reader could find.
fn no_crane_calls_warning(flake: &Path, input_hint: Option<String>) -> Note {
    let hint = input_hint.map_or_else(
        || ". Pass --flake path/to/the/file/with/crane/calls (a Nix file that calls crane, e.g. nix/packages.nix), or describe the phases for --phases phases.toml".to_string(),
        |hint| format!(": {hint}"),
    );
    Note::at(
        SourceLocation::file(flake.display().to_string()),
        format!(
            "no crane calls found (craneLib.buildDepsOnly, craneLib.buildPackage, ...); the phases analysed are crane's quick-start set, not this flake's{hint}"
        ),
    )
}

/// ` (what could not be resolved: ...)` when the reader noted anything.
fn unresolved_note(warnings: &[Note]) -> String {
    if warnings.is_empty() {
        String::new()
    } else {
        format!(
            " (what could not be resolved: {})",
            warnings
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    }
}

/// The directory of the workspace's root manifest (crane's source root), and a runner
/// there whose cargo is checked: missing, not installed or too old is an error before
/// anything else asks cargo.
pub(crate) fn source_root(
    manifest_path: Option<&Path>,
    cache: Option<Arc<ResolutionCache>>,
) -> Result<(PathBuf, CargoRunner)> {
    let (manifest, runner) = match manifest_path {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|d| d.is_dir())
                .unwrap_or(Path::new("."));
            let runner = CargoRunner::new(dir).with_cache(cache);
            runner.check_version()?;
            (given_manifest(path, &runner)?, runner)
        }
        None => {
            let here = std::env::current_dir().context("cannot read the current directory")?;
            let runner = CargoRunner::new(&here).with_cache(cache);
            runner.check_version()?;
            let manifest = runner.workspace_manifest(None).with_context(|| {
                format!(
                    "cannot find the Cargo workspace around {} (pass --manifest-path path/to/Cargo.toml)",
                    here.display()
                )
            })?;
            (manifest, runner)
        }
    };
    let root = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    if !root.join("Cargo.lock").is_file() {
        bail!(
            "no Cargo.lock beside {}: crane builds from the lock file, so cache-miss needs it too (run `cargo generate-lockfile` and commit it)",
            manifest.display()
        );
    }
    let runner = runner.moved_to(&root);
    Ok((root, runner))
}

/// A `--manifest-path` that names a workspace's root `Cargo.toml`, canonical.
fn given_manifest(path: &Path, runner: &CargoRunner) -> Result<PathBuf> {
    if !path.is_file() {
        bail!(
            "no Cargo.toml at {} (pass --manifest-path path/to/Cargo.toml)",
            path.display()
        );
    }
    if path.file_name().is_none_or(|name| name != "Cargo.toml") {
        bail!(
            "{} is not a Cargo.toml (--manifest-path names the workspace's Cargo.toml)",
            path.display()
        );
    }
    let manifest = path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let dir = manifest.parent().unwrap_or(Path::new("/"));
    // A member's manifest: crane builds the workspace from its root. (A manifest cargo
    // cannot read is reported when cargo resolves it.)
    if let Ok(root) = runner.moved_to(dir).workspace_manifest(Some(&manifest)) {
        if root != manifest {
            bail!(
                "{} is a member of the workspace at {}: pass --manifest-path {}",
                path.display(),
                root.parent().unwrap_or(dir).display(),
                root.display()
            );
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_read_as_the_report_writes_them() {
        let value = |text: &str| text.parse::<Override>().unwrap().value;
        assert_eq!(value("d.doCheck=true"), AttrValue::Bool(true));
        assert_eq!(value("d.partitions=3"), AttrValue::Int(3));
        assert_eq!(
            value(r#"d.cargoExtraArgs="--locked --workspace""#),
            AttrValue::Str("--locked --workspace".into())
        );
        assert_eq!(
            value(r#"d.env.RUSTFLAGS="--cfg \"x\"""#),
            AttrValue::Str(r#"--cfg "x""#.into())
        );
        assert_eq!(
            value("d.cargoExtraArgs=--locked"),
            AttrValue::Str("--locked".into())
        );
    }
}
