//! What git says about an edit: the files changed, a file's text at the base revision,
//! and the base revision's tree in a temp dir (`git archive`, never touching the user's
//! work tree or repository).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// A git repository's work tree and the revision edits are measured against.
#[derive(Debug, Clone)]
pub struct Repository {
    pub top: PathBuf,
    /// A commit id.
    pub base: String,
    /// As the user wrote it (`HEAD` when not given).
    pub base_name: String,
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
        .map(|out| out.trim().to_string())
        .filter(|id| !id.is_empty());
        let Some(base) = base else {
            bail!(
                "`{base_name}` is not a revision of the repository at {}",
                top.display()
            );
        };
        Ok(Repository {
            top,
            base,
            base_name,
        })
    }

    /// The files changed against the base (work tree and index), absolute.
    pub fn changed_files(&self) -> Result<Vec<PathBuf>> {
        let out = git(
            &self.top,
            &["diff", "--name-only", "--no-renames", &self.base],
        )?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| self.top.join(l))
            .collect())
    }

    /// The text of `path` (absolute) at the base; `None` when it did not exist there.
    pub fn base_text(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.top).ok()?;
        git(
            &self.top,
            &["show", &format!("{}:{}", self.base, relative.display())],
        )
        .ok()
    }

    /// Whether `path` (absolute) existed at the base, as a file or a directory.
    pub fn existed(&self, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(&self.top) else {
            return false;
        };
        git(
            &self.top,
            &[
                "cat-file",
                "-e",
                &format!("{}:{}", self.base, relative.display()),
            ],
        )
        .is_ok()
    }

    /// The base revision's files in a temp dir; the repository's top level is its root.
    pub fn checkout_base(&self) -> Result<tempfile::TempDir> {
        let dir = tempfile::Builder::new()
            .prefix("cache-miss-touch-")
            .tempdir()
            .context("cannot make a temp dir for the base revision")?;
        let archive = Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(["archive", "--format=tar", &self.base])
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot run `git archive`")?;
        let status = Command::new("tar")
            .arg("-x")
            .arg("-C")
            .arg(dir.path())
            .stdin(archive.stdout.context("no output from `git archive`")?)
            .status()
            .context("cannot run `tar` to unpack the base revision")?;
        if !status.success() {
            bail!(
                "unpacking `{}` with git archive | tar failed",
                self.base_name
            );
        }
        Ok(dir)
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .with_context(|| format!("cannot run git {}", args.join(" ")))?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
