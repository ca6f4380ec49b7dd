//! Nix's answers remembered in the resolution cache: evaluating a flake takes Nix a
//! second or more, and in pure evaluation its answer depends only on what the key holds —
//! the flake's source as Nix copies it (a git flake: its tracked files as they are in the
//! work tree), `flake.lock`, the `--override-input`s (a local one by its files), the
//! settings and installables, the system, and the `nix` program. An override Nix would
//! fetch from elsewhere unlocked, or a flake without a `flake.lock`, can change without
//! any of that changing: then nothing is remembered.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::NixOptions;
use super::phases::Output;
use crate::cargo::cache::{CacheKey, KeyBuilder};
use crate::source_set::tree::{git, git_toplevel, path_from_bytes};

/// What Nix answered for a flake. Produced by asking Nix, or read back from the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NixAnswers {
    /// `nix --version`'s version (`2.8.0`).
    pub version: String,
    pub outputs: Vec<StoredOutput>,
    /// The derivation JSON of every output's closure.
    pub derivations: String,
}

/// An output as stored: its `.drv` path, or Nix's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredOutput {
    pub attr: String,
    pub drv: Option<String>,
    pub error: Option<String>,
}

impl NixAnswers {
    pub(super) fn outputs(&self) -> Vec<Output> {
        self.outputs
            .iter()
            .map(|output| Output {
                attr: output.attr.clone(),
                drv: match (&output.drv, &output.error) {
                    (Some(drv), _) => Ok(drv.clone()),
                    (None, error) => Err(error.clone().unwrap_or_default()),
                },
            })
            .collect()
    }

    pub(super) fn stored(outputs: &[Output]) -> Vec<StoredOutput> {
        outputs
            .iter()
            .map(|output| StoredOutput {
                attr: output.attr.clone(),
                drv: output.drv.as_ref().ok().cloned(),
                error: output.drv.as_ref().err().cloned(),
            })
            .collect()
    }

    /// Answers worth keeping: an output that failed may have failed for a passing reason
    /// (a time limit), so such answers are asked again next time.
    pub(super) fn complete(&self) -> bool {
        self.outputs.iter().all(|output| output.error.is_none())
    }
}

/// The key of the flake's answers, or `None` when they cannot be keyed exactly.
pub(crate) fn key(
    flake_dir: &Path,
    flake_ref: &str,
    system: &str,
    options: &NixOptions,
) -> Option<CacheKey> {
    let lock = std::fs::read(flake_dir.join("flake.lock")).ok()?;
    let mut key = KeyBuilder::new("nix derivations of a flake");
    key.field("flake", flake_ref.as_bytes())
        .field("system", system.as_bytes())
        .field("lock", &lock)
        .field("allow-ifd", &[u8::from(options.allow_ifd)])
        .field("nix", &program_signature("nix")?);
    for installable in &options.installables {
        key.field("installable", installable.as_bytes());
    }
    for (name, value) in &options.options {
        key.field("option", name.as_bytes())
            .field("value", value.as_bytes());
    }
    for (input, url) in &options.override_inputs {
        key.field("override", input.as_bytes())
            .field("url", url.as_bytes())
            .field("files", &local_tree_signature(&local_override(url)?)?);
    }
    key.field("source", &source_signature(flake_ref, flake_dir)?);
    Some(key.finish())
}

/// The directory of a local `--override-input` URL (`path:/x`, `/x`, `git+file:///x`);
/// `None` for one Nix fetches from elsewhere.
fn local_override(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("path:")
        .or_else(|| url.strip_prefix("git+file://"))
        .or_else(|| url.strip_prefix("file://"))
        .or_else(|| url.starts_with('/').then_some(url))?;
    let path = rest.split(['?', '#']).next()?;
    Some(PathBuf::from(path))
}

/// Which `nix` runs: where `PATH` finds it, and the file it resolves to (path, size,
/// modification time), without starting it (that alone takes Nix tens of milliseconds).
fn program_signature(program: &str) -> Option<Vec<u8>> {
    let found = std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())?;
    let resolved = found.canonicalize().ok()?;
    let meta = std::fs::metadata(&resolved).ok()?;
    Some(
        format!(
            "{}\0{}\0{}:{}.{}",
            found.display(),
            resolved.display(),
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec()
        )
        .into_bytes(),
    )
}

/// The flake's source as Nix copies it: a git flake's tracked files (the index's blob
/// ids, and the work tree's content for files changed since), any other directory's
/// files by name, size and modification time.
fn source_signature(flake_ref: &str, flake_dir: &Path) -> Option<Vec<u8>> {
    if flake_ref.starts_with("git+file:") {
        git_signature(flake_dir)
    } else {
        local_tree_signature(flake_dir)
    }
}

fn git_signature(dir: &Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let top = git_toplevel(dir)?;
    let mut signature = git(&top, &["ls-files", "-s", "-z"]).ok()?;
    let changed = git(&top, &["diff-files", "--name-only", "-z"]).ok()?;
    for name in changed.split(|&b| b == 0).filter(|name| !name.is_empty()) {
        let path = top.join(path_from_bytes(name));
        signature.extend_from_slice(name);
        signature.push(0);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => signature.extend(std::fs::read(&path).ok()?),
            Ok(meta) if meta.file_type().is_symlink() => {
                signature.extend(std::fs::read_link(&path).ok()?.as_os_str().as_bytes())
            }
            _ => signature.extend_from_slice(b"<gone>"),
        }
        signature.push(0);
    }
    Some(signature)
}

/// Every entry under `dir` (symlinks not followed) by name, type, size and modification
/// time, in a fixed order.
fn local_tree_signature(dir: &Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let mut signature = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&current).ok()?.flatten().collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let meta = entry.path().symlink_metadata().ok()?;
            let path = entry.path();
            signature.extend_from_slice(path.as_os_str().as_bytes());
            signature.extend_from_slice(
                format!(
                    "\0{:o}:{}:{}.{}\0",
                    meta.mode(),
                    meta.len(),
                    meta.mtime(),
                    meta.mtime_nsec()
                )
                .as_bytes(),
            );
            if meta.is_dir() {
                pending.push(path);
            }
        }
    }
    Some(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_overrides_are_told_from_fetched_ones() {
        assert_eq!(
            local_override("path:/k/crane"),
            Some(PathBuf::from("/k/crane"))
        );
        assert_eq!(
            local_override("git+file:///k/crane?ref=main"),
            Some(PathBuf::from("/k/crane"))
        );
        assert_eq!(local_override("github:ipetkov/crane"), None);
    }

    #[test]
    fn a_local_tree_changes_its_signature_with_any_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "1").unwrap();
        let before = local_tree_signature(dir.path()).unwrap();
        assert_eq!(local_tree_signature(dir.path()).unwrap(), before);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), "2").unwrap();
        assert_ne!(local_tree_signature(dir.path()).unwrap(), before);
    }
}
