//! `cache-miss fix --apply`: a proposal's edits made in the files that define the phases
//! (the flake and the Nix files it imports, or the phases file), written all or none,
//! then proven by reading and analysing the edited files again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::nix_edit::{NixFile, TextEdit, apply_edits};
use super::phases_edit::edit_phases_file;
use super::{PhaseEdit, Proposal, nix, nix_name};
use crate::phase::{AttrValue, PhaseSpec};
use crate::source::load::LoadedPhases;
use crate::{interrupt, text};

/// One file before and after the edit. Produced by [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: PathBuf,
    /// The path as the diff shows it (relative to the flake or as given).
    pub shown: String,
    pub before: String,
    pub after: String,
}

/// What applying a proposal takes. Produced by [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Edit(Vec<FileChange>),
    /// Some call cannot be edited: which, and why (nothing is written then).
    NotEditable(Vec<String>),
}

/// The edits `proposal` makes in the files `loaded` was read from.
pub fn plan(loaded: &LoadedPhases, proposal: &Proposal) -> Result<Plan> {
    if let Some(file) = &loaded.phases_file {
        let before = read(file)?;
        let after = edit_phases_file(&before, &proposal.edits)
            .map_err(|why| anyhow::anyhow!("{}: {why}", text::path(file)))?;
        return Ok(Plan::Edit(vec![FileChange {
            path: file.clone(),
            shown: text::path(file.strip_prefix(&loaded.source_root).unwrap_or(file)),
            before,
            after,
        }]));
    }
    let Some(flake) = &loaded.flake else {
        let why = match &loaded.fallback {
            Some(warning) => format!("the phases analysed are not read from a file: {warning}"),
            None => "the phases are not read from a file (crane's quick-start set is assumed): write them in phases.toml or flake.nix first".into(),
        };
        return Ok(Plan::NotEditable(vec![why]));
    };
    let dir = flake
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = dir.canonicalize().unwrap_or(dir.to_path_buf());
    let mut editor = FlakeEditor {
        loaded,
        root: crate::source::flake::flake_root(&dir),
        files: BTreeMap::new(),
        made: BTreeSet::new(),
        reasons: Vec::new(),
    };
    for edit in &proposal.edits {
        editor.add(edit);
    }
    if !editor.reasons.is_empty() {
        return Ok(Plan::NotEditable(editor.reasons));
    }
    let mut changes = Vec::new();
    for (path, (shown, _, edits)) in editor.files {
        let before = read(&path)?;
        let after =
            apply_edits(&before, &edits).map_err(|why| anyhow::anyhow!("{shown}: {why}"))?;
        NixFile::parse(&after).map_err(|why| {
            anyhow::anyhow!("{shown}: the edited file would not parse ({why}); nothing written")
        })?;
        changes.push(FileChange {
            path,
            shown,
            before,
            after,
        });
    }
    Ok(Plan::Edit(changes))
}

/// Collects the text edits of each Nix file, or why a call cannot be edited.
struct FlakeEditor<'a> {
    loaded: &'a LoadedPhases,
    root: PathBuf,
    files: BTreeMap<PathBuf, (String, NixFile, Vec<TextEdit>)>,
    /// The names of the bindings added so far (a second one must not take them).
    made: BTreeSet<String>,
    reasons: Vec<String>,
}

/// A phase's crane call: its file and where it starts.
struct Call {
    path: PathBuf,
    line: usize,
    function: String,
}

impl FlakeEditor<'_> {
    fn add(&mut self, edit: &PhaseEdit) {
        if let Err(why) = self.try_add(edit) {
            self.reasons.push(why);
        }
    }

    fn try_add(&mut self, edit: &PhaseEdit) -> Result<(), String> {
        match edit {
            PhaseEdit::Set { phase, attrs } => {
                let call = self.call(phase)?;
                let attrs = nix_attrs(attrs);
                self.edit(phase, &call, |file, apply| file.set_attrs(apply, &attrs))
            }
            PhaseEdit::NewDepsOnly {
                name,
                like,
                attrs,
                users,
            } => {
                let call = self.call(like)?;
                let attrs = nix_attrs(attrs);
                let mut made = None;
                let taken = self.made.clone();
                self.edit(like, &call, |file, apply| {
                    let (ident, edit, scope) =
                        file.add_binding_after(apply, &nix_name(name), &attrs, &taken)?;
                    made = Some((ident, scope));
                    Ok(vec![edit])
                })?;
                let Some((ident, scope)) = made else {
                    return Ok(());
                };
                self.made.insert(ident.clone());
                for user in users {
                    let user_call = self.call(user)?;
                    let value = [("cargoArtifacts".to_string(), ident.clone())];
                    self.edit(user, &user_call, |file, apply| {
                        if user_call.path != call.path
                            || !scope
                                .contains_range(rowan::ast::AstNode::syntax(apply).text_range())
                        {
                            return Err(format!(
                                "its call is outside the scope of the new binding `{ident}`"
                            ));
                        }
                        file.set_attrs(apply, &value)
                    })?;
                }
                Ok(())
            }
        }
    }

    /// Where `phase`'s crane call is, if it is in the flake's own files and makes no
    /// other phase.
    fn call(&self, phase: &str) -> Result<Call, String> {
        let shown_phase = format!("phase {}", text::echo(phase));
        let spec = self
            .loaded
            .specs
            .iter()
            .find(|s| s.name == phase)
            .ok_or_else(|| format!("{shown_phase}: crane makes it inside another call; no crane call of it is written"))?;
        let origin = spec.origin.as_ref().ok_or_else(|| {
            format!("{shown_phase}: where its crane call is written is not known")
        })?;
        let at = format!("{shown_phase} ({origin})");
        let line = origin
            .line
            .ok_or_else(|| format!("{at}: the line of its crane call is not known"))?;
        let path = self.root.join(&origin.file);
        let inside = path
            .canonicalize()
            .is_ok_and(|p| p.starts_with(&self.root) && p.is_file());
        if !inside {
            return Err(format!(
                "{at}: its crane call is not in the flake's own files (a flake input's, or a computed import)"
            ));
        }
        let sharing: Vec<&PhaseSpec> = self
            .loaded
            .specs
            .iter()
            .filter(|s| s.origin.as_ref() == Some(origin))
            .collect();
        if sharing.len() > 1 {
            let names: Vec<String> = sharing.iter().map(|s| text::echo(&s.name)).collect();
            return Err(format!(
                "{at}: the same call makes the phases {}; editing it would change them all",
                names.join(", ")
            ));
        }
        let function = match spec.attrs.get("function") {
            Some(AttrValue::Str(f)) => f.clone(),
            _ => return Err(format!("{at}: its crane function is not known")),
        };
        Ok(Call {
            path,
            line,
            function,
        })
    }

    /// Runs `make` on the call's syntax node and keeps its edits; its error names the call.
    fn edit(
        &mut self,
        phase: &str,
        call: &Call,
        make: impl FnOnce(&NixFile, &rnix::ast::Apply) -> Result<Vec<TextEdit>, String>,
    ) -> Result<(), String> {
        let at = || {
            let shown = call.path.strip_prefix(&self.root).unwrap_or(&call.path);
            format!(
                "phase {} ({}:{})",
                text::echo(phase),
                text::path(shown),
                call.line
            )
        };
        if !self.files.contains_key(&call.path) {
            let source = std::fs::read_to_string(&call.path)
                .map_err(|err| format!("{}: cannot read it: {err}", at()))?;
            let file = NixFile::parse(&source).map_err(|why| format!("{}: {why}", at()))?;
            let shown = call.path.strip_prefix(&self.root).unwrap_or(&call.path);
            self.files
                .insert(call.path.clone(), (text::path(shown), file, Vec::new()));
        }
        let (_, file, edits) = self.files.get_mut(&call.path).expect("inserted above");
        let apply = file
            .call_on_line(call.line, &call.function)
            .map_err(|why| format!("{}: {why}", at()))?;
        let made = make(file, &apply).map_err(|why| format!("{}: {why}", at()))?;
        edits.extend(made);
        Ok(())
    }
}

/// The attributes as Nix expressions.
fn nix_attrs(attrs: &BTreeMap<String, AttrValue>) -> Vec<(String, String)> {
    attrs
        .iter()
        .map(|(name, value)| (name.clone(), nix::value(value)))
        .collect()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", text::path(path)))
}

/// The unified diff of the changes, file by file.
pub fn diff(changes: &[FileChange]) -> String {
    changes
        .iter()
        .map(|c| {
            similar::TextDiff::from_lines(&c.before, &c.after)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", c.shown), &format!("b/{}", c.shown))
                .to_string()
        })
        .collect()
}

/// What `--apply` may edit, cargo's way: only files git has committed as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Safety {
    pub allow_dirty: bool,
    pub allow_no_vcs: bool,
}

/// Refuses files outside a git work tree or with uncommitted changes, unless allowed.
pub fn check_safety(changes: &[FileChange], safety: Safety) -> Result<()> {
    for change in changes {
        let dir = change.path.parent().unwrap_or(Path::new("."));
        let status = git(dir, &["status", "--porcelain", "--"], &change.path);
        match status {
            None if safety.allow_no_vcs => {}
            None => bail!(
                "{} is not in a git repository (or git cannot tell its state): pass --allow-no-vcs to edit it anyway",
                change.shown
            ),
            Some(out) if !out.trim().is_empty() && !safety.allow_dirty => bail!(
                "{} has uncommitted changes: commit or stash them, or pass --allow-dirty",
                change.shown
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

/// git's stdout, `None` when git fails (not a repository, no git).
fn git(dir: &Path, args: &[&str], path: &Path) -> Option<String> {
    let output =
        interrupt::output(Command::new("git").arg("-C").arg(dir).args(args).arg(path)).ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Writes every change (each through a temp file renamed over it), then asks `reanalyze`
/// for the misses the edited files leave. When writing fails, the files cannot be read
/// again, or the misses are not `promised`, every file gets its old text back and the
/// error says why.
pub fn write_and_prove(
    changes: &[FileChange],
    promised: usize,
    reanalyze: impl FnOnce() -> Result<usize>,
) -> Result<usize> {
    let mut written = Vec::new();
    for change in changes {
        if let Err(err) = replace(&change.path, &change.after) {
            let undone = match restore(&written) {
                Ok(()) => "no file was changed".to_string(),
                Err(restore_err) => format!("restoring the others failed: {restore_err:#}"),
            };
            return Err(err.context(format!("{}: not written; {undone}", change.shown)));
        }
        written.push(change);
    }
    let outcome = reanalyze().and_then(|missed| {
        if missed == promised {
            Ok(missed)
        } else {
            bail!(
                "the edited files leave {missed} misses, not the {promised} the proposal promised"
            )
        }
    });
    outcome.map_err(|err| match restore(&written) {
        Ok(()) => err.context("the edit did not hold, so every file has its old text back"),
        Err(restore_err) => err.context(format!(
            "the edit did not hold, and restoring failed: {restore_err:#}"
        )),
    })
}

fn restore(written: &[&FileChange]) -> Result<()> {
    for change in written {
        replace(&change.path, &change.before)?;
    }
    Ok(())
}

/// `path` gets `text` atomically: a temp file beside it, with its permissions, renamed over it.
fn replace(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let shown = text::path(path);
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot make a temp file beside {shown}"))?;
    temp.write_all(text.as_bytes())
        .with_context(|| format!("cannot write a temp file beside {shown}"))?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(temp.path(), meta.permissions())
            .with_context(|| format!("cannot copy the permissions of {shown}"))?;
    }
    temp.persist(path)
        .map_err(|err| anyhow::anyhow!("cannot replace {shown}: {}", err.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(dir: &Path, name: &str) -> FileChange {
        let path = dir.join(name);
        std::fs::write(&path, "old\n").unwrap();
        FileChange {
            path,
            shown: name.into(),
            before: "old\n".into(),
            after: "new\n".into(),
        }
    }

    #[test]
    fn a_broken_promise_restores_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let changes = [change(dir.path(), "a.nix"), change(dir.path(), "b.nix")];
        let err = write_and_prove(&changes, 0, || {
            assert_eq!(
                std::fs::read_to_string(dir.path().join("b.nix")).unwrap(),
                "new\n"
            );
            Ok(3)
        })
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("leave 3 misses, not the 0"),
            "{err:#}"
        );
        for c in &changes {
            assert_eq!(std::fs::read_to_string(&c.path).unwrap(), "old\n");
        }
    }

    #[test]
    fn a_failed_reading_restores_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let changes = [change(dir.path(), "flake.nix")];
        let err = write_and_prove(&changes, 0, || bail!("flake.nix:3: syntax error")).unwrap_err();
        assert!(format!("{err:#}").contains("old text back"), "{err:#}");
        assert_eq!(std::fs::read_to_string(&changes[0].path).unwrap(), "old\n");
    }

    #[test]
    fn the_proven_count_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let changes = [change(dir.path(), "phases.toml")];
        assert_eq!(write_and_prove(&changes, 0, || Ok(0)).unwrap(), 0);
        assert_eq!(std::fs::read_to_string(&changes[0].path).unwrap(), "new\n");
    }
}
