//! What git says about an edit: the files changed, a file's text at the base revision,
//! and the base revision's tree in a temp dir (`git archive`, never touching the user's
//! work tree or repository). Paths are read with `-z` and kept as bytes: git quotes a
//! name with non-ASCII, `"`, `\` or a tab otherwise, and a name need not be UTF-8.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

use crate::interrupt;
use crate::source_set::tree::{git, git_os, path_from_bytes};
use crate::text;

/// A git repository's work tree and the revision edits are measured against.
#[derive(Debug, Clone)]
pub struct Repository {
    /// Where git runs.
    pub top: PathBuf,
    /// Where the edited files are: `top`, or a copy of the new revision's files
    /// ([`Repository::with_new_revision`]).
    pub work: PathBuf,
    /// The new revision (a commit id) whose files `work` holds; `None`: the work tree.
    new: Option<String>,
    /// A commit id.
    pub base: String,
    /// As the user wrote it (`HEAD` when not given).
    pub base_name: String,
    /// Every file and directory of the base revision, relative to `top`: one
    /// `git ls-tree` for all the questions [`Repository::existed`] is asked.
    base_paths: OnceLock<HashSet<PathBuf>>,
}

impl Repository {
    /// The repository holding `dir`, measured against `since` (default `HEAD`).
    pub fn open(dir: &Path, since: Option<&str>) -> Result<Repository> {
        let top = crate::source_set::tree::git_toplevel(dir).with_context(|| {
            format!(
                "{} is not in a git repository: `touch` compares with a git revision (name the files and keep them in git)",
                dir.display()
            )
        })?;
        let base_name = since.unwrap_or("HEAD").to_string();
        if base_name.starts_with('-') {
            bail!(
                "--since {}: a revision does not start with `-`",
                text::echo(&base_name)
            );
        }
        let base = git(
            &top,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{base_name}^{{commit}}"),
            ],
        )
        .ok()
        .and_then(|out| String::from_utf8(out).ok())
        .map(|out| out.trim().to_string())
        .filter(|id| !id.is_empty());
        let Some(base) = base else {
            bail!(
                "{} is not a revision of the repository at {}",
                text::echo(&base_name),
                text::path(&top)
            );
        };
        Ok(Repository {
            work: top.clone(),
            new: None,
            top,
            base,
            base_name,
            base_paths: OnceLock::new(),
        })
    }

    /// The same repository with `new`'s files (its base revision, checked out with
    /// [`Repository::checkout_base`] at `work`) in place of the work tree.
    pub fn with_new_revision(self, new: &Repository, work: PathBuf) -> Repository {
        Repository {
            work,
            new: Some(new.base.clone()),
            ..self
        }
    }

    /// The files changed against the base (the work tree and index, or the new
    /// revision), absolute in `work`.
    pub fn changed_files(&self) -> Result<Vec<PathBuf>> {
        let mut args = vec!["diff", "-z", "--name-only", "--no-renames", &self.base];
        args.extend(self.new.as_deref());
        let out = git(&self.top, &args)?;
        Ok(nul_separated(&out).map(|p| self.work.join(p)).collect())
    }

    /// Every tracked file under `dir` (absolute), absolute.
    pub fn tracked_under(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let relative = dir.strip_prefix(&self.top).unwrap_or(Path::new(""));
        let mut args: Vec<OsString> = ["ls-files", "-z", "--full-name", "--"]
            .map(OsString::from)
            .to_vec();
        // A name is a name, not a pattern (`*`, `[` and `:` are ordinary characters).
        let mut pathspec = OsString::from(":(literal)");
        pathspec.push(if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        });
        args.push(pathspec);
        let out = git_os(&self.top, &args)?;
        let mut files: Vec<PathBuf> = nul_separated(&out).map(|p| self.top.join(p)).collect();
        files.dedup();
        Ok(files)
    }

    /// The text of `path` (absolute) at the base; `None` when it did not exist there.
    pub fn base_text(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.work).ok()?;
        let mut object = OsString::from(format!("{}:", self.base));
        object.push(relative.as_os_str());
        let out = git_os(&self.top, &["cat-file".into(), "blob".into(), object]).ok()?;
        String::from_utf8(out).ok()
    }

    /// Whether `path` (absolute) existed at the base, as a file or a directory.
    pub fn existed(&self, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(&self.work) else {
            return false;
        };
        self.base_paths
            .get_or_init(|| self.list_base().unwrap_or_default())
            .contains(relative)
    }

    /// `git ls-tree -r -t`: the base's files and the directories holding them.
    fn list_base(&self) -> Result<HashSet<PathBuf>> {
        let out = git(
            &self.top,
            &["ls-tree", "-r", "-t", "-z", "--name-only", &self.base],
        )?;
        Ok(nul_separated(&out).collect())
    }

    /// The base revision's files in a temp dir, and where its top level is in it. The
    /// checkout sits as deep as the repository does, [`NEIGHBOUR_LEVELS`] levels down,
    /// beside links to what is beside the repository and its parent: a path that leaves
    /// the repository (a vendor directory `../vendor` in `.cargo/config.toml`, a path
    /// dependency) is followed to the user's directory, read-only and as it is now.
    pub fn checkout_base(&self) -> Result<(interrupt::TempDir, PathBuf)> {
        let dir = interrupt::temp_dir("cache-miss-touch-")
            .context("cannot make a temp dir for the base revision")?;
        let top = beside_neighbours(dir.path(), &self.top)?;
        let mut archive = interrupt::spawn(
            Command::new("git")
                .arg("-C")
                .arg(&self.top)
                .args(["archive", "--format=tar", &self.base])
                .stdin(Stdio::null())
                .stdout(Stdio::piped()),
        )
        .context("cannot run `git archive`")?;
        let stdout = archive
            .child
            .stdout
            .take()
            .context("no output from `git archive`")?;
        let mut tar = interrupt::spawn(
            Command::new("tar")
                .arg("-x")
                .arg("-C")
                .arg(&top)
                .stdin(stdout),
        )
        .context("cannot run `tar` to unpack the base revision")?;
        let unpacked = tar.child.wait();
        let archived = archive.child.wait();
        let ok =
            |status: std::io::Result<std::process::ExitStatus>| status.is_ok_and(|s| s.success());
        if !ok(unpacked) || !ok(archived) {
            bail!(
                "unpacking {} with git archive | tar failed",
                text::echo(&self.base_name)
            );
        }
        Ok((dir, top))
    }
}

/// How many levels above the repository's top level a checkout mirrors.
const NEIGHBOUR_LEVELS: usize = 2;

/// Makes `temp/…/NAME` for the repository's `top`, its parents named as the real ones,
/// each beside a link to every entry of the real parent; returns the (empty) top.
fn beside_neighbours(temp: &Path, top: &Path) -> Result<PathBuf> {
    let ancestors: Vec<&Path> = top.ancestors().take(NEIGHBOUR_LEVELS + 1).collect();
    let mut here = temp.to_path_buf();
    for level in (0..ancestors.len()).rev() {
        let dir = ancestors[level];
        let Some(name) = dir.file_name() else {
            continue;
        };
        let parent = dir.parent().unwrap_or(dir);
        if level + 1 < ancestors.len() {
            // Below the first mirrored level: the real parent's other entries, linked.
            for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
                if entry.file_name() != name {
                    let _ = std::os::unix::fs::symlink(entry.path(), here.join(entry.file_name()));
                }
            }
        }
        here.push(name);
        std::fs::create_dir(&here).with_context(|| format!("cannot make {}", text::path(&here)))?;
    }
    Ok(here)
}

/// The paths of git's `-z` output, as they are.
fn nul_separated(out: &[u8]) -> impl Iterator<Item = PathBuf> + '_ {
    out.split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(path_from_bytes)
}
