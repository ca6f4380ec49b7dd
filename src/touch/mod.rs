//! `cache-miss touch`: which phase derivations an edit rebuilds, and what cargo then
//! recompiles in each. A derivation rebuilds when a file of its `src` changes; a
//! buildDepsOnly builds from crane's `mkDummySrc`, which only the lock, cargo configs,
//! the cleaned manifests and the set of targets reach; a phase inheriting a rebuilt
//! artifact rebuilds too. A manifest or lock edit is resolved for real, on the edited tree
//! and on the base revision's.

mod display;
pub(crate) mod git;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::cargo::{CargoRunner, Invocation};
use crate::crane::dummy_src::{DummyRole, cleaned_differences, role};
use crate::crane::filter::filter_cargo_sources;
use crate::diff::DiffGraph;
use crate::findings::reads::{ReadKind, Reader, all_reads};
use crate::parallel::run_parallel;
use crate::phase::{CraneFunction, Phase, PhaseSet};
use crate::plan::{PhasePlans, plan_phases_where};
use crate::report::PhaseToolchains;
use crate::source::load::LoadedPhases;
use crate::source_set::tree::normalize;
use crate::source_set::{SourceKind, SourceSet};

pub use display::{touch_document, touch_json};
use git::Repository;

/// What to measure: the files (none: the work tree's changes) against `since` (default
/// `HEAD`).
#[derive(Debug, Clone, Default)]
pub struct TouchOptions {
    pub files: Vec<PathBuf>,
    pub since: Option<String>,
    /// A previous build's target dir, whose build-script outputs say what they watch.
    pub target_dir: Option<PathBuf>,
}

/// The answer of `cache-miss touch`. Produced by [`touch`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TouchReport {
    pub workspace_root: String,
    /// The revision compared with.
    pub base: String,
    /// The new revision (`why-rebuild OLD NEW`); `None`: the work tree.
    pub to: Option<String>,
    /// Relative to the repository's top level.
    pub files: Vec<String>,
    pub phases: Vec<PhaseTouch>,
}

/// One phase's fate. Produced by [`touch`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseTouch {
    pub name: String,
    pub rebuilds: bool,
    pub causes: Vec<RebuildCause>,
    /// Units cargo compiles again in the rebuilt derivation (labels).
    pub recompiles: Vec<String>,
    /// Units that differ between the base revision's resolution and the edited one's
    /// (`+` new, `-` gone), when a manifest, lock or cargo config changed.
    pub resolution_changes: Vec<String>,
    /// What could not be known exactly.
    pub approximations: Vec<String>,
    /// A buildDepsOnly: what it recompiles is every dependency unit it builds.
    #[serde(skip)]
    pub deps_only: bool,
    /// crane's function, when it compiles nothing whatever it is given (`cargoFmt`).
    #[serde(skip)]
    pub compiles_nothing: Option<CraneFunction>,
    /// The labels of `recompiles` that are the workspace's own units.
    #[serde(skip)]
    pub workspace_units: BTreeSet<String>,
}

impl PhaseTouch {
    pub fn approximate(&self) -> bool {
        !self.approximations.is_empty()
    }
}

/// Why a phase's derivation rebuilds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RebuildCause {
    /// The file is in the phase's `src` (or was, and is deleted).
    InSource { file: String },
    /// The file is new and its filter drops it, but keeps its new directory: an empty
    /// directory appears in the source.
    NewDirectory { file: String, directory: String },
    /// The deps-only dummy source changes.
    DummySource { file: String, change: DummyChange },
    /// A phase whose artifacts it starts from rebuilds.
    Inherits { phase: String },
    /// The phase's `src` is not known as files; the file is in the workspace.
    SourceUnknown { file: String },
}

/// How a file changes crane's `mkDummySrc`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(tag = "change", content = "keys", rename_all = "kebab-case")]
pub enum DummyChange {
    Lock,
    Config,
    /// The cleaned manifest differs in these keys.
    Manifest(Vec<String>),
    TargetAdded,
    TargetRemoved,
}

/// What an edited file is, once.
struct Touched {
    path: PathBuf,
    exists: bool,
    existed: bool,
}

/// Answers `cache-miss touch` for `loaded`.
pub fn touch(loaded: &LoadedPhases, options: &TouchOptions) -> Result<TouchReport> {
    let repository = Repository::open(&loaded.source_root, options.since.as_deref())?;
    touch_in(loaded, options, &repository)
}

/// [`touch`] against `repository`'s base, for the files its work tree (or new revision)
/// holds; `loaded` are the phases read from those files.
pub(crate) fn touch_in(
    loaded: &LoadedPhases,
    options: &TouchOptions,
    repository: &Repository,
) -> Result<TouchReport> {
    let root = &loaded.source_root;
    let paths = if options.files.is_empty() {
        repository.changed_files()?
    } else {
        named_files(&options.files, root, repository)?
    };
    let touched: Vec<Touched> = paths
        .into_iter()
        .map(|path| Touched {
            exists: path.exists(),
            existed: repository.existed(&path),
            path,
        })
        .collect();
    let set = &loaded.phases;
    let mut phases: Vec<PhaseTouch> = set
        .phases
        .iter()
        .map(|phase| own_causes(phase, &touched, repository, root))
        .collect();
    inherit_rebuilds(set, &mut phases);
    if phases.iter().any(|p| p.rebuilds) {
        recompiles(loaded, options, &touched, repository, &mut phases)?;
    }
    Ok(TouchReport {
        workspace_root: root.display().to_string(),
        base: repository.base_name.clone(),
        to: None,
        files: touched
            .iter()
            .map(|t| shown(&t.path, &repository.work))
            .collect(),
        phases,
    })
}

/// The files named on the command line, absolute; each must be in the workspace or the
/// repository holding it. A directory stands for every tracked file under it.
fn named_files(files: &[PathBuf], root: &Path, repository: &Repository) -> Result<Vec<PathBuf>> {
    let top = &repository.top;
    let cwd = std::env::current_dir()?;
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    let named = files
        .iter()
        .map(|file| {
            let absolute = normalize(&cwd.join(file));
            // Resolve symlinked parents (a temp dir under /tmp) as the workspace root is.
            let absolute = match (absolute.parent(), absolute.file_name()) {
                (Some(parent), Some(name)) => parent
                    .canonicalize()
                    .map_or(absolute.clone(), |p| p.join(name)),
                _ => absolute,
            };
            if !absolute.starts_with(root) && !absolute.starts_with(top) {
                bail!(
                    "{} is outside the workspace ({}) and its repository",
                    crate::text::path(file),
                    crate::text::path(root)
                );
            }
            Ok(absolute)
        })
        .collect::<Result<Vec<PathBuf>>>()?;
    let mut out = Vec::new();
    for path in named {
        if path.is_dir() {
            out.extend(repository.tracked_under(&path)?);
        } else {
            out.push(path);
        }
    }
    out.dedup();
    Ok(out)
}

/// A path as the report shows it: from the repository's top, its bytes escaped.
fn shown(path: &Path, top: &Path) -> String {
    crate::text::path(path.strip_prefix(top).unwrap_or(path))
}

/// The causes a phase's own source gives it (not what it inherits).
fn own_causes(
    phase: &Phase,
    touched: &[Touched],
    repository: &Repository,
    root: &Path,
) -> PhaseTouch {
    let mut touch = PhaseTouch {
        name: phase.name.clone(),
        rebuilds: false,
        causes: Vec::new(),
        recompiles: Vec::new(),
        resolution_changes: Vec::new(),
        approximations: Vec::new(),
        deps_only: phase.function == CraneFunction::BuildDepsOnly,
        compiles_nothing: Some(phase.function).filter(|f| f.compiles_nothing()),
        workspace_units: BTreeSet::new(),
    };
    let deps_only = touch.deps_only;
    match phase.source.as_deref() {
        Some(source) => {
            for undecided in &source.undecided {
                touch.approximations.push(if undecided.paths == 0 {
                    format!("`{}`: {}", undecided.filter, undecided.why)
                } else {
                    format!(
                        "the source filter `{}` could not be decided for {} path(s) ({}); they are taken as kept",
                        undecided.filter, undecided.paths, undecided.why
                    )
                });
            }
            let dummy = source.kind == SourceKind::Dummy
                || (deps_only && source.kind != SourceKind::DummyGiven);
            for file in touched {
                let cause = if source.extra_inputs.contains(&file.path) {
                    Some(RebuildCause::InSource {
                        file: shown(&file.path, &repository.work),
                    })
                } else if dummy {
                    dummy_cause(source, file, repository)
                } else {
                    source_cause(source, file, repository, &mut touch.approximations)
                };
                touch.causes.extend(cause);
            }
        }
        None => {
            let in_workspace: Vec<&Touched> = touched
                .iter()
                .filter(|t| t.path.starts_with(root))
                .collect();
            if !in_workspace.is_empty() {
                touch.approximations.push(
                    "its src is not known as files (not read from a flake, or not made from a local directory): every file of the workspace is taken as in it".to_string(),
                );
            }
            if !deps_only {
                touch
                    .causes
                    .extend(in_workspace.iter().map(|t| RebuildCause::SourceUnknown {
                        file: shown(&t.path, &repository.work),
                    }));
            }
        }
    }
    touch.causes.sort();
    touch.causes.dedup();
    touch.rebuilds = !touch.causes.is_empty();
    touch
}

/// Whether an edit of `file` changes a source that is the files `source` holds.
fn source_cause(
    source: &SourceSet,
    file: &Touched,
    repository: &Repository,
    approximations: &mut Vec<String>,
) -> Option<RebuildCause> {
    let relative = source.relative(&file.path)?;
    let shown_file = shown(&file.path, &repository.work);
    if source.files.contains(relative) {
        return Some(RebuildCause::InSource { file: shown_file });
    }
    if !file.exists && file.existed {
        // Deleted and gone from the listing: was it in the source?
        let kept = match source.kind {
            SourceKind::Unfiltered => true,
            SourceKind::CargoOnly => filter_cargo_sources(relative, false),
            _ => {
                approximations.push(format!(
                    "{shown_file} is deleted: whether the filter kept it is not known; taken as kept when its directory is in the source"
                ));
                relative
                    .parent()
                    .is_some_and(|d| source.contains_dir(&source.root.join(d)))
            }
        };
        return kept.then_some(RebuildCause::InSource { file: shown_file });
    }
    if file.exists && !file.existed {
        // A filter keeping every directory shows a new one, even empty.
        let new_dir = relative
            .ancestors()
            .skip(1)
            .filter(|d| !d.as_os_str().is_empty())
            .filter(|d| source.dirs.contains(*d))
            .filter(|d| !repository.existed(&source.root.join(d)))
            .last()?;
        return Some(RebuildCause::NewDirectory {
            file: shown_file,
            directory: shown(&source.root.join(new_dir), &repository.work),
        });
    }
    None
}

/// Whether an edit of `file` changes crane's `mkDummySrc` of `source`.
fn dummy_cause(
    source: &SourceSet,
    file: &Touched,
    repository: &Repository,
) -> Option<RebuildCause> {
    let relative = source.relative(&file.path)?;
    let in_source = source.files.contains(relative) || (!file.exists && file.existed);
    if !in_source {
        return None;
    }
    let is_manifest_dir = |dir: &Path| source.files.contains(&dir.join("Cargo.toml"));
    let now = || std::fs::read_to_string(&file.path).ok();
    let change = match role(relative, is_manifest_dir) {
        DummyRole::Lock | DummyRole::Config => {
            let differs = now() != repository.base_text(&file.path);
            let lock = role(relative, is_manifest_dir) == DummyRole::Lock;
            differs.then_some(if lock {
                DummyChange::Lock
            } else {
                DummyChange::Config
            })
        }
        DummyRole::Manifest => {
            let before = repository.base_text(&file.path);
            match cleaned_differences(before.as_deref(), now().as_deref()) {
                Ok(keys) if keys.is_empty() => None,
                Ok(keys) => Some(DummyChange::Manifest(keys)),
                // Nix fails on it; whatever it becomes, it changes.
                Err(_) => Some(DummyChange::Manifest(vec!["(unreadable manifest)".into()])),
            }
        }
        DummyRole::DiscoveredTarget if file.exists && !file.existed => {
            Some(DummyChange::TargetAdded)
        }
        DummyRole::DiscoveredTarget if !file.exists && file.existed => {
            Some(DummyChange::TargetRemoved)
        }
        _ => None,
    }?;
    Some(RebuildCause::DummySource {
        file: shown(&file.path, &repository.work),
        change,
    })
}

/// A phase whose inherited artifacts are rebuilt rebuilds too.
fn inherit_rebuilds(set: &PhaseSet, phases: &mut [PhaseTouch]) {
    loop {
        let mut changed = false;
        for (i, phase) in set.phases.iter().enumerate() {
            let Some(from) = phase.artifacts_from.as_deref() else {
                continue;
            };
            let Some(j) = set.position(from) else {
                continue;
            };
            let cause = RebuildCause::Inherits {
                phase: from.to_string(),
            };
            if phases[j].rebuilds && !phases[i].causes.contains(&cause) {
                phases[i].causes.push(cause);
                phases[i].rebuilds = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Fills in what cargo recompiles in each rebuilt phase.
fn recompiles(
    loaded: &LoadedPhases,
    options: &TouchOptions,
    touched: &[Touched],
    repository: &Repository,
    phases: &mut [PhaseTouch],
) -> Result<()> {
    let runner = loaded.session().runner();
    let set = &loaded.phases;
    // A phase whose crane lib builds with another installed release is resolved with that
    // release's cargo, as in the report.
    let toolchains = PhaseToolchains::of(set, runner, &runner.check_version()?);
    let plans = plan_phases_where(set, |_| true, |i| toolchains.rustup_toolchain(i));
    let (graphs, metadata) = resolve(runner, &plans.invocations)?;
    let owners = owning_packages(
        &metadata,
        &loaded.source_root,
        options.target_dir.as_deref(),
        touched,
    );
    for (i, touch) in phases.iter_mut().enumerate() {
        if !touch.rebuilds {
            continue;
        }
        let phase_graphs: Vec<&DiffGraph> = plans.by_phase[i]
            .iter()
            .filter_map(|&n| graphs[n].as_ref())
            .collect();
        let deps_only = set.phases[i].function == CraneFunction::BuildDepsOnly;
        touch.recompiles = if deps_only {
            unit_labels(&phase_graphs, |unit| !unit.local)
        } else {
            above_owners(&phase_graphs, &owners)
        };
        touch.workspace_units = unit_labels(&phase_graphs, |unit| unit.local)
            .into_iter()
            .filter(|label| touch.recompiles.binary_search(label).is_ok())
            .collect();
    }
    let resolution_changed = touched.iter().any(|t| {
        let base = t
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        matches!(base, "Cargo.toml" | "Cargo.lock" | "config" | "config.toml")
    });
    if resolution_changed {
        compare_with_base(loaded, repository, &plans, &graphs, phases)?;
    }
    Ok(())
}

/// Unit graphs of every invocation (`None` for one cargo cannot resolve) and the
/// workspace's metadata.
fn resolve(
    runner: &CargoRunner,
    invocations: &[Invocation],
) -> Result<(Vec<Option<DiffGraph>>, cargo_metadata::Metadata)> {
    let cargo = runner.check_version()?;
    let (graphs, metadata) = std::thread::scope(|scope| {
        let metadata = scope.spawn(|| runner.metadata());
        let graphs = run_parallel(invocations, &|_| {}, |inv| runner.unit_graph(inv));
        (graphs, metadata.join())
    });
    let metadata = metadata.map_err(|_| anyhow::anyhow!("`cargo metadata` did not finish"))??;
    let graphs = graphs
        .iter()
        .zip(invocations)
        .map(|(g, inv)| {
            g.as_ref()
                .ok()
                .map(|g| DiffGraph::from_unit_graph(g, inv, &cargo.host))
        })
        .collect();
    Ok((graphs, metadata))
}

/// Which units of a local package an edit reaches first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reached {
    /// Every unit of the package: the file is in its directory, or rustc includes it.
    Package,
    /// Its build script's run: the script watches the file (`rerun-if-changed`).
    BuildScriptRun,
}

/// `(name, version, reached)` of the local packages that own a touched file (by manifest
/// directory), include it (`include_str!`, `include_bytes!`, `#[path]`) or whose build
/// script watches it (a literal `rerun-if-changed`, or a previous build's output).
fn owning_packages(
    metadata: &cargo_metadata::Metadata,
    root: &Path,
    target_dir: Option<&Path>,
    touched: &[Touched],
) -> BTreeSet<(String, String, Reached)> {
    let local: Vec<(PathBuf, (String, String))> = metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .filter_map(|p| {
            let dir = p.manifest_path.parent()?.as_std_path().to_path_buf();
            Some((dir, (p.name.to_string(), p.version.to_string())))
        })
        .collect();
    let owner = |path: &Path, reached: Reached| {
        local
            .iter()
            .filter(|(dir, _)| path.starts_with(dir))
            .max_by_key(|(dir, _)| dir.components().count())
            .map(|(_, (name, version))| (name.clone(), version.clone(), reached))
    };
    let readers: Vec<(PathBuf, Reader)> = all_reads(metadata, root, target_dir, false)
        .into_iter()
        .filter(|(_, reader)| reader.kind.is_compile_time())
        .collect();
    let mut owners = BTreeSet::new();
    for file in touched {
        owners.extend(owner(&file.path, Reached::Package));
        let Ok(relative) = file.path.strip_prefix(root) else {
            continue;
        };
        for (_, reader) in readers.iter().filter(|(read, _)| read == relative) {
            let reached = match reader.kind {
                ReadKind::BuildScript => Reached::BuildScriptRun,
                _ => Reached::Package,
            };
            owners.extend(owner(&root.join(&reader.location.file), reached));
        }
    }
    owners
}

/// The units the owners reach and every unit above them, as labels.
fn above_owners(
    graphs: &[&DiffGraph],
    owners: &BTreeSet<(String, String, Reached)>,
) -> Vec<String> {
    let mut labels = BTreeSet::new();
    for graph in graphs {
        let mut marked: Vec<bool> = graph
            .units
            .iter()
            .map(|u| {
                let (name, version) = (u.key.pkg_id.name.clone(), u.key.pkg_id.version.clone());
                let package = owners.contains(&(name.clone(), version.clone(), Reached::Package));
                let script = owners.contains(&(name, version, Reached::BuildScriptRun))
                    && u.key.mode == "run-custom-build";
                u.local && (package || script)
            })
            .collect();
        loop {
            let mut changed = false;
            for (i, unit) in graph.units.iter().enumerate() {
                if !marked[i] && unit.deps.iter().any(|&d| marked[d]) {
                    marked[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        labels.extend(
            graph
                .units
                .iter()
                .zip(&marked)
                .filter(|(_, m)| **m)
                .map(|(u, _)| u.key.label()),
        );
    }
    labels.into_iter().collect()
}

fn unit_labels(
    graphs: &[&DiffGraph],
    wanted: impl Fn(&crate::diff::graph::DiffUnit) -> bool,
) -> Vec<String> {
    let labels: BTreeSet<String> = graphs
        .iter()
        .flat_map(|g| g.units.iter())
        .filter(|u| wanted(u))
        .map(|u| u.key.label())
        .collect();
    labels.into_iter().collect()
}

/// The units of each phase as resolved on the base revision's tree, compared with the
/// edited tree's: what a manifest, lock or config edit changes for real.
fn compare_with_base(
    loaded: &LoadedPhases,
    repository: &Repository,
    plans: &PhasePlans,
    graphs: &[Option<DiffGraph>],
    phases: &mut [PhaseTouch],
) -> Result<()> {
    let (_checkout, base_top) = repository.checkout_base()?;
    let relative = loaded
        .source_root
        .strip_prefix(&repository.work)
        .unwrap_or(Path::new(""));
    let base_root = base_top.join(relative);
    if !base_root.join("Cargo.toml").is_file() {
        for touch in phases.iter_mut() {
            touch.approximations.push(format!(
                "the workspace does not exist at {}: nothing to compare with",
                repository.base_name
            ));
        }
        return Ok(());
    }
    let runner = loaded.session().runner().moved_to(&base_root);
    let base_graphs = match resolve(&runner, &plans.invocations) {
        Ok((graphs, _)) => graphs,
        Err(err) => {
            let why = crate::text::one_line(&format!("{err:#}")).into_owned();
            for touch in phases.iter_mut() {
                touch.approximations.push(format!(
                    "cargo cannot resolve the workspace at {} ({why}): what the edit changes in the resolution is not known",
                    repository.base_name
                ));
            }
            return Ok(());
        }
    };
    for (i, touch) in phases.iter_mut().enumerate() {
        let identities = |all: &[Option<DiffGraph>]| -> BTreeMap<String, ()> {
            plans.by_phase[i]
                .iter()
                .filter_map(|&n| all[n].as_ref())
                .flat_map(|g| g.units.iter())
                .filter(|u| !u.local)
                .map(|u| (identity(u), ()))
                .collect()
        };
        let (now, before) = (identities(graphs), identities(&base_graphs));
        let added: Vec<String> = now
            .keys()
            .filter(|k| !before.contains_key(*k))
            .cloned()
            .collect();
        let gone = before
            .keys()
            .filter(|k| !now.contains_key(*k))
            .map(|k| format!("- {k}"));
        touch.resolution_changes = added.iter().map(|k| format!("+ {k}")).chain(gone).collect();
        if touch.rebuilds {
            for unit in added {
                if !touch.recompiles.contains(&unit) {
                    touch.recompiles.push(unit);
                }
            }
            touch.recompiles.sort();
        }
    }
    Ok(())
}

/// A unit's label with its features, which a resolution change may alter alone.
fn identity(unit: &crate::diff::graph::DiffUnit) -> String {
    if unit.key.features.is_empty() {
        unit.key.label()
    } else {
        format!("{} [{}]", unit.key.label(), unit.key.features.join(", "))
    }
}
