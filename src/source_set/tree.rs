//! What Nix would copy before any filter: for a flake in a git repository, the files git
//! knows (tracked and staged; untracked files are not in a git flake's source); otherwise
//! every file of the directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{interrupt, text};

/// What a path is, in the words Nix's filters get (`type` of `path: type: …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum EntryType {
    Regular,
    Symlink,
    Directory,
}

impl EntryType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EntryType::Regular => "regular",
            EntryType::Symlink => "symlink",
            EntryType::Directory => "directory",
        }
    }
}

/// Where the listing of a tree comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `git ls-files`: tracked and staged files of the repository.
    Git,
    /// Every file of the directory (a flake outside git).
    Directory,
}

/// The files Nix would copy from a directory and everything below it. Produced by
/// [`SourceTree::read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceTree {
    /// The directory listed (a git repository's top level, or the directory asked for).
    pub root: PathBuf,
    pub listing: Listing,
    /// Relative to `root`, sorted; files and symlinks only (directories are implied).
    pub files: Vec<(PathBuf, EntryType)>,
}

impl SourceTree {
    /// The tree `dir` belongs to: its git repository's files when it is in one, else the
    /// directory's own files.
    pub(crate) fn read(dir: &Path) -> Result<SourceTree> {
        match git_toplevel(dir) {
            Some(top) => SourceTree::from_git(&top),
            None => SourceTree::from_directory(dir),
        }
    }

    fn from_git(top: &Path) -> Result<SourceTree> {
        let output = crate::interrupt::output(Command::new("git").arg("-C").arg(top).args([
            "ls-files",
            "-z",
            "--cached",
            "--stage",
            "--full-name",
        ]))
        .with_context(|| format!("cannot run `git ls-files` in {}", top.display()))?;
        if !output.status.success() {
            bail!(
                "`git ls-files` failed in {}: {}",
                top.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let mut files: Vec<(PathBuf, EntryType)> = output
            .stdout
            .split(|b| *b == 0)
            .filter_map(staged_entry)
            .collect();
        // Sorted as paths (git sorts bytes); a file in conflict is listed once per stage.
        files.sort();
        files.dedup_by(|a, b| a.0 == b.0);
        Ok(SourceTree {
            root: top.to_path_buf(),
            listing: Listing::Git,
            files,
        })
    }

    fn from_directory(dir: &Path) -> Result<SourceTree> {
        let mut files = Vec::new();
        for entry in walk(dir) {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let Some(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                continue;
            }
            let Ok(relative) = entry.path().strip_prefix(dir) else {
                continue;
            };
            let kind = if kind.is_symlink() {
                EntryType::Symlink
            } else {
                EntryType::Regular
            };
            files.push((relative.to_path_buf(), kind));
        }
        files.sort();
        Ok(SourceTree {
            root: dir.to_path_buf(),
            listing: Listing::Directory,
            files,
        })
    }

    /// The files under `dir` (absolute), relative to `dir`; none when `dir` is not
    /// inside the tree.
    pub(crate) fn files_under(&self, dir: &Path) -> Vec<(PathBuf, EntryType)> {
        let Ok(prefix) = dir.strip_prefix(&self.root) else {
            return Vec::new();
        };
        if prefix.as_os_str().is_empty() {
            return self.files.clone();
        }
        let start = self.files.partition_point(|(f, _)| f.as_path() < prefix);
        self.files[start..]
            .iter()
            .take_while(|(f, _)| f.starts_with(prefix))
            .filter_map(|(f, kind)| Some((f.strip_prefix(prefix).ok()?.to_path_buf(), *kind)))
            .collect()
    }
}

/// `MODE OBJECT STAGE\tPATH` of `git ls-files --stage`: the path and what the mode says
/// it is. A submodule (mode 160000) is left out: Nix leaves it empty without `submodules`.
fn staged_entry(line: &[u8]) -> Option<(PathBuf, EntryType)> {
    let tab = line.iter().position(|b| *b == b'\t')?;
    let (info, path) = (&line[..tab], &line[tab + 1..]);
    let kind = match info.split(|b| *b == b' ').next()? {
        b"160000" => return None,
        b"120000" => EntryType::Symlink,
        _ => EntryType::Regular,
    };
    Some((path_from_bytes(path), kind))
}

/// A path as git prints it with `-z`: its bytes, exactly (a name need not be UTF-8).
pub(crate) fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

/// Every entry below `dir`, without following symlinks.
fn walk(dir: &Path) -> impl Iterator<Item = std::io::Result<ignore::DirEntry>> {
    ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        .build()
        .filter(|e| e.as_ref().map_or(true, |e| e.depth() > 0))
        .map(|e| e.map_err(std::io::Error::other))
}

/// `a/b/../c` → `a/c`, `a/./b/` → `a/b`, without touching the file system (Nix's
/// canonical paths).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The top level of the git work tree holding `dir`, if any.
pub(crate) fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    let output = crate::interrupt::output(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--show-toplevel"]),
    )
    .ok()?;
    if !output.status.success() {
        return None;
    }
    let top = path_from_bytes(output.stdout.strip_suffix(b"\n")?);
    Some(top.canonicalize().unwrap_or(top))
}

/// git's stdout in `dir`, as bytes; a git that fails is an error with its message.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    git_os(dir, &args)
}

/// [`git`] with arguments that need not be UTF-8.
pub(crate) fn git_os(dir: &Path, args: &[OsString]) -> Result<Vec<u8>> {
    let shown = || {
        let words: Vec<String> = args
            .iter()
            .map(|a| text::one_line(&a.to_string_lossy()).into_owned())
            .collect();
        words.join(" ")
    };
    let output = interrupt::output(Command::new("git").arg("-C").arg(dir).args(args))
        .with_context(|| format!("cannot run git {}", shown()))?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            shown(),
            text::one_line(String::from_utf8_lossy(&output.stderr).trim())
        );
    }
    Ok(output.stdout)
}
