//! A revision other than the work tree, read as the work tree is read: its files in a temp
//! dir (`git archive`, as `touch` copies its base; removed when dropped and on a signal)
//! and its phases read there, so that `why-rebuild OLD NEW` says what cargo recompiles in
//! NEW as it does for the work tree.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::interrupt::TempDir;
use crate::source::load::{
    LoadedPhases, Override, PhaseSourceOptions, load_phases, nearest_flake, source_root,
};
use crate::touch::git::Repository;
use crate::touch::{TouchOptions, TouchReport, touch_in};

/// The phases of a revision, read from its files. Produced by [`load_revision`].
pub struct RevisionPhases {
    /// The revision's files; removed when this is dropped.
    _checkout: TempDir,
    pub loaded: LoadedPhases,
    /// The repository measured against the old revision, its work tree replaced by the
    /// new revision's files.
    pub repository: Repository,
    /// The workspace's root in the user's work tree (what the report shows).
    pub workspace_root: PathBuf,
}

impl RevisionPhases {
    /// The directory of the flake the phases were read from, in the user's work tree.
    pub fn flake_dir(&self) -> Option<PathBuf> {
        let dir = self.loaded.flake.as_deref()?.parent()?;
        let relative = dir.strip_prefix(&self.repository.work).ok()?;
        Some(self.repository.top.join(relative))
    }
}

/// Reads revision `to`'s phases as `options` reads the work tree's (the same manifest,
/// phases file or flake, at the same place in the repository), for comparing with `from`.
/// With `options.nix`, Nix evaluates the revision's flake there (one evaluation).
pub fn load_revision(options: &PhaseSourceOptions, from: &str, to: &str) -> Result<RevisionPhases> {
    let (root, _) = source_root(options.manifest_path.as_deref(), None)?;
    let old = Repository::open(&root, Some(from))?;
    let new = Repository::open(&root, Some(to))?;
    let (checkout, copy_top) = new.checkout_base()?;
    let at_revision = |path: &Path| -> PathBuf {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let absolute = absolute.canonicalize().unwrap_or(absolute);
        match absolute.strip_prefix(&old.top) {
            Ok(relative) => copy_top.join(relative),
            Err(_) => absolute,
        }
    };
    let phases_beside = at_revision(&root.join(crate::source::load::DEFAULT_PHASES_FILE));
    // The flake found above the workspace in the work tree's repository (the copy is in
    // none); `--nix` reads it even beside a phases file.
    let reads_flake =
        options.nix.is_some() || (options.phases_file.is_none() && !phases_beside.is_file());
    let flake = match &options.flake {
        Some(flake) => Some(at_revision(flake)),
        None if reads_flake => nearest_flake(&root).map(|f| at_revision(&f)),
        None => None,
    };
    let read_there = PhaseSourceOptions {
        manifest_path: Some(at_revision(&root.join("Cargo.toml"))),
        phases_file: options.phases_file.as_deref().map(at_revision),
        flake,
        ..options.clone()
    };
    let loaded = load_phases(&read_there)?;
    Ok(RevisionPhases {
        _checkout: checkout,
        loaded,
        repository: old.with_new_revision(&new, copy_top),
        workspace_root: root,
    })
}

/// `why-rebuild OLD NEW` without `--nix`: `touch`'s answer for the files that differ
/// between the two revisions, on NEW's phases (`overrides` applied to them).
pub fn touch_between(
    options: &PhaseSourceOptions,
    overrides: &[Override],
    from: &str,
    to: &str,
) -> Result<TouchReport> {
    let revision = load_revision(options, from, to)?;
    let loaded = revision.loaded.with_overrides(overrides)?;
    let touch_options = TouchOptions {
        since: Some(from.to_string()),
        ..TouchOptions::default()
    };
    let mut report = touch_in(&loaded, &touch_options, &revision.repository)?;
    report.workspace_root = revision.workspace_root.display().to_string();
    report.to = Some(to.to_string());
    Ok(report)
}
