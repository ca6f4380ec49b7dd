//! Finding the phases to analyse: `--phases FILE`, a `phases.toml` beside the manifest,
//! or crane's quick-start set.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cargo::CargoRunner;
use crate::phase::PhaseSet;
use crate::phase::quickstart::quickstart_specs;
use crate::phase::toml::read_phases_file;

/// Where the user pointed cache-miss.
#[derive(Debug, Clone)]
pub struct PhaseSourceOptions {
    pub manifest_path: PathBuf,
    pub phases_file: Option<PathBuf>,
}

/// The phases to analyse, where they came from, and the workspace. Produced by [`load_phases`].
#[derive(Debug, Clone)]
pub struct LoadedPhases {
    pub phases: PhaseSet,
    /// Says where the phases came from, for the report's header.
    pub description: String,
    /// The directory holding the manifest: crane's source root, where cargo runs.
    pub source_root: PathBuf,
}

impl LoadedPhases {
    pub fn runner(&self) -> CargoRunner {
        CargoRunner::new(&self.source_root)
    }
}

/// The default phases file name, looked for beside the manifest.
pub const DEFAULT_PHASES_FILE: &str = "phases.toml";

pub fn load_phases(options: &PhaseSourceOptions) -> Result<LoadedPhases> {
    let source_root = source_root(&options.manifest_path)?;
    let beside = source_root.join(DEFAULT_PHASES_FILE);
    let (specs, description) = match &options.phases_file {
        Some(file) => {
            let shown = file.display().to_string();
            (read_phases_file(file, &shown)?, format!("phases file {shown}"))
        }
        None if beside.is_file() => (
            read_phases_file(&beside, DEFAULT_PHASES_FILE)?,
            format!("phases file {DEFAULT_PHASES_FILE} beside the manifest"),
        ),
        None => (
            quickstart_specs(),
            "no phases file or flake found; assumed crane's quick-start set (buildDepsOnly, buildPackage, cargoClippy, cargoNextest, cargoDoc with crane's defaults)".to_string(),
        ),
    };
    let phases = PhaseSet::from_specs(specs).with_context(|| match &options.phases_file {
        Some(file) => format!("in {}", file.display()),
        None => format!("in {DEFAULT_PHASES_FILE}"),
    })?;
    Ok(LoadedPhases {
        phases,
        description,
        source_root,
    })
}

fn source_root(manifest_path: &Path) -> Result<PathBuf> {
    if !manifest_path.is_file() {
        bail!(
            "no Cargo.toml at {} (pass --manifest-path path/to/Cargo.toml)",
            manifest_path.display()
        );
    }
    let manifest = manifest_path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", manifest_path.display()))?;
    let root = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    if !root.join("Cargo.lock").is_file() {
        bail!(
            "no Cargo.lock beside {}: crane builds from the lock file, so cache-miss needs it too (run `cargo generate-lockfile` and commit it)",
            manifest.display()
        );
    }
    Ok(root)
}
