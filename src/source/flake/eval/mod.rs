//! A static evaluator for the subset of Nix that crane flakes are written in. Anything it
//! cannot know (nixpkgs, builtins.readFile, flake inputs) becomes `Value::Unknown` with the
//! expression's text, so the analysis goes on with what is known; what fails in Nix
//! (`throw`, a missing attribute of a known set) becomes `Value::Error`.
//!
//! The rooms: `core` (forcing, applying, evaluating expressions), `scope` (attribute
//! sets, `let`, selection), `ops` (operators and strings), `builtins` and `nixpkgs_lib`
//! (the functions it implements), `crane` and `frames` (what it knows of crane and of the
//! flake frameworks), `toml_files` (TOML files and crane's `crateNameFromCargoToml`),
//! `files` (reading files and positions) and `value`.

mod blueprint;
mod budget;
mod builtins;
mod collections;
mod core;
mod crane;
pub(super) mod files;
mod flake_parts;
mod frames;
mod inputs;
mod nix_filter;
mod nixpkgs_lib;
mod ops;
mod overrides;
mod paths;
mod platform;
mod scope;
mod sources;
mod strings;
mod toml_files;
mod toolchains;
pub(super) mod value;
mod wrappers;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Result, anyhow};
use rowan::ast::AstNode;

use crate::located::{LocatedError, Note, SourceLocation};
use files::{Files, Pos, Unreadable};
use value::{AttrSetValue, CraneDerivation, DerivationId, Env, ErrorKind, Thunk, ThunkId, Value};

pub(super) use frames::{FrameId, is_system_name};
pub(crate) use inputs::InputHolder;
pub(crate) use platform::System;
pub(super) use sources::GivenInputs;

/// How deep evaluation may nest: deeper is an endless recursion, or more than the
/// evaluator can follow (its stack is sized for this).
pub(super) const MAX_DEPTH: usize = 4000;

/// An attribute that exists only under a condition the evaluator cannot decide
/// (`lib.optionalAttrs isLinux { … }`): where the condition is and its text.
#[derive(Debug, Clone)]
pub(super) struct Condition {
    pub pos: Pos,
    pub text: String,
}

/// Forces a thunk; a value that fails is returned from the calling function at once
/// (where Nix needs the value, its failure is the failure of what needs it).
macro_rules! strict {
    ($evaluator:expr, $thunk:expr) => {
        match $evaluator.force($thunk) {
            failed @ Value::Error(_) => return failed,
            value => value,
        }
    };
}
pub(crate) use strict;

/// Evaluates flake files. Produced by [`Evaluator::new`]; the collector forces what it
/// searches through it, and [`Evaluator::finish`] gives the result.
pub(super) struct Evaluator {
    files: Files,
    imported: HashMap<PathBuf, Thunk>,
    depth: usize,
    derivations: Vec<Rc<CraneDerivation>>,
    /// Every `let` and `rec` binding, for naming derivations.
    bindings: Vec<(String, Thunk)>,
    /// Values handed to functions the evaluator does not know (flake-parts' `mkFlake`
    /// arguments): they may hold crane calls too.
    frames: Vec<Value>,
    /// Which frames are sets handed to unknown functions as their argument.
    argument_frames: std::collections::HashSet<usize>,
    /// The frames pushed by a thunk's own evaluation (not by thunks it forced): an
    /// unknown value found in the outputs is searched through the frames it was made from.
    frames_by_thunk: HashMap<ThunkId, Vec<FrameId>>,
    /// The thunks being forced, innermost last, each with the thunks it forced.
    forcing: Vec<(Thunk, Vec<Thunk>)>,
    warnings: Vec<Note>,
    /// Bad input Nix itself would reject before any output exists (a syntax error in an
    /// imported file, a missing import, an infinite recursion, ...): the first one is the
    /// evaluation's error, and once there is one nothing more is evaluated.
    fatal: Option<anyhow::Error>,
    /// Above zero while forcing what Nix may never force (the argument of a function the
    /// evaluator does not know, outputs searched for crane calls): an infinite recursion
    /// found there is an unknown value, not an error.
    speculative: usize,
    /// Where each attribute of a set was written, by its thunk.
    attr_pos: HashMap<ThunkId, Pos>,
    /// The expressions of the thunks being forced: where an infinite recursion is.
    evaluating: HashMap<ThunkId, (Pos, rnix::ast::Expr)>,
    /// Attributes that exist only under a condition the evaluator cannot decide, by their
    /// thunk. They are kept (they exist on some systems).
    conditional: HashMap<ThunkId, Condition>,
    /// The flake's own outputs (`self`) and the flake's directory: a `src = self` names
    /// that directory.
    self_dir: Option<(Rc<AttrSetValue>, PathBuf)>,
    /// The file trees sources are made from, read once each.
    source_trees: Vec<Rc<crate::source_set::SourceTree>>,
    /// The names of the flake's inputs (`nixpkgs`, `crane`, ...).
    input_names: std::collections::BTreeSet<String>,
    /// Steps and bytes spent so far, against the evaluation's budget.
    spent: budget::Spent,
    /// The system platform predicates are answered for (`stdenv.isDarwin`).
    system: System,
    /// Flake inputs whose functions or modules make the outputs (their crane calls are
    /// never read).
    input_holders: Vec<InputHolder>,
    /// Functions of flake inputs applied anywhere (`made = wrapper.lib.mkOutputs { … }`):
    /// where the outputs may come from when nothing else says.
    applied_input_functions: Vec<InputHolder>,
}

thread_local! {
    /// `text_of` by node (its green node and range): a source filter evaluates the same
    /// expressions for every path, and writing them costs more than evaluating them.
    /// Emptied by each new evaluator, so a node is never taken for a freed one's.
    static TEXTS: std::cell::RefCell<HashMap<(usize, u32, u32), Rc<str>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// An expression as written, on one line and cut at 120 characters.
fn text_of(node: &impl AstNode) -> String {
    let syntax = node.syntax();
    let range = syntax.text_range();
    let key = (
        std::ptr::from_ref(syntax.green()) as usize,
        u32::from(range.start()),
        u32::from(range.end()),
    );
    if let Some(text) = TEXTS.with(|texts| texts.borrow().get(&key).cloned()) {
        return text.to_string();
    }
    let text = written_text(node);
    TEXTS.with(|texts| texts.borrow_mut().insert(key, Rc::from(text.as_str())));
    text
}

fn written_text(node: &impl AstNode) -> String {
    let text: String = node
        .syntax()
        .text()
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}

impl Evaluator {
    pub(super) fn new(base_dir: &Path, system: System) -> Evaluator {
        TEXTS.with(|texts| texts.borrow_mut().clear());
        Evaluator {
            files: Files::new(base_dir),
            imported: HashMap::new(),
            depth: 0,
            derivations: Vec::new(),
            bindings: Vec::new(),
            frames: Vec::new(),
            argument_frames: std::collections::HashSet::new(),
            frames_by_thunk: HashMap::new(),
            forcing: Vec::new(),
            warnings: Vec::new(),
            fatal: None,
            speculative: 0,
            attr_pos: HashMap::new(),
            evaluating: HashMap::new(),
            conditional: HashMap::new(),
            self_dir: None,
            source_trees: Vec::new(),
            input_names: std::collections::BTreeSet::new(),
            spent: budget::Spent::default(),
            system,
            input_holders: Vec::new(),
            applied_input_functions: Vec::new(),
        }
    }

    /// What the evaluation leaves: its warnings, or the error Nix would stop with.
    pub(super) fn finish(self) -> Result<Vec<Note>> {
        match self.fatal {
            Some(fatal) => Err(fatal),
            None => Ok(self.warnings),
        }
    }

    /// Records bad input that stops the evaluation (the first one wins) at
    /// `file:line:column`; the value fails.
    fn fail(&mut self, pos: Pos, message: &str) -> Value {
        self.reject_at(self.files.place(pos), message.to_string());
        Value::error(ErrorKind::Other, message.to_string(), Some(pos))
    }

    /// Records bad input at a place in the flake's files that stops the evaluation (the
    /// first one wins).
    pub(super) fn reject_at(&mut self, location: SourceLocation, message: String) {
        self.stop(anyhow::Error::new(LocatedError { location, message }));
    }

    /// Records bad input that stops the evaluation, with no place of its own (the first
    /// one wins).
    fn reject(&mut self, message: &str) {
        self.stop(anyhow!("{message}"));
    }

    fn stop(&mut self, error: anyhow::Error) {
        if self.fatal.is_none() {
            self.fatal = Some(error);
        }
    }

    pub(super) fn warn(&mut self, warning: Note) {
        self.warnings.push(warning);
    }

    /// Runs `f` forcing what Nix may never force: an infinite recursion found there is
    /// an unknown value.
    pub(super) fn speculatively<T>(&mut self, f: impl FnOnce(&mut Evaluator) -> T) -> T {
        self.speculative += 1;
        let result = f(self);
        self.speculative -= 1;
        result
    }

    /// `file:line` of a position.
    pub(super) fn location(&self, pos: Pos) -> SourceLocation {
        self.files.location(pos)
    }

    /// The file, line and column of a position.
    pub(super) fn place(&self, pos: Pos) -> SourceLocation {
        self.files.place(pos)
    }

    /// Where the attribute held by `thunk` was written, when it was.
    pub(super) fn attr_position(&self, thunk: &Thunk) -> Option<Pos> {
        self.attr_pos.get(&thunk.id()).copied()
    }

    /// The undecidable condition the attribute held by `thunk` exists under, if any.
    pub(super) fn condition(&self, thunk: &Thunk) -> Option<&Condition> {
        self.conditional.get(&thunk.id())
    }

    /// Every crane call made so far, by id.
    pub(super) fn derivations(&self) -> &[Rc<CraneDerivation>] {
        &self.derivations
    }

    pub(super) fn derivation(&self, id: DerivationId) -> Rc<CraneDerivation> {
        self.derivations[id.0].clone()
    }

    /// Every file the evaluation read, with its id.
    pub(super) fn files(&self) -> impl Iterator<Item = (files::FileId, &files::SourceFile)> {
        self.files.all()
    }

    /// Every `let` and `rec` binding evaluated.
    pub(super) fn bindings(&self) -> Vec<(String, Thunk)> {
        self.bindings.clone()
    }

    /// The local directory of the flake, when `set` is the flake's own outputs (`self`).
    pub(super) fn self_dir_of(&self, set: &Rc<AttrSetValue>) -> Option<PathBuf> {
        match &self.self_dir {
            Some((outputs, dir)) if Rc::ptr_eq(outputs, set) => Some(dir.clone()),
            _ => None,
        }
    }

    fn root_env(&self) -> Env {
        let mut names = BTreeMap::new();
        for (name, value) in builtins::globals() {
            names.insert(name.to_string(), Thunk::value(value));
        }
        Env::default().child(names)
    }

    /// Evaluates the flake's own file (which it may import, too).
    pub(super) fn eval_file(&mut self, text: &str, path: &Path) -> Result<Value> {
        let (file, expr) = self.files.parse(text, path)?;
        let thunk = Thunk::pending(expr, self.root_env(), file);
        self.imported.insert(path.to_path_buf(), thunk.clone());
        Ok(self.force(&thunk))
    }

    /// Evaluates another Nix file of the flake (cached by where it really is). One that
    /// does not exist or cannot be read is bad input; one outside the flake's directory
    /// (written so, or reached through `..` or a symbolic link) is never read: unknown,
    /// with a warning.
    fn import(&mut self, path: &Path, written: &str, pos: Pos) -> Value {
        let path = if path.is_dir() {
            path.join("default.nix")
        } else {
            path.to_path_buf()
        };
        if !crate::source_set::tree::normalize(&path).starts_with(&self.files.readable) {
            return self.outside_flake(pos, "import", written);
        }
        let Some(real) = files::resolved(&path) else {
            return self.fail_import(pos, written, &Unreadable::Missing.to_string());
        };
        if let Some(thunk) = self.imported.get(&real) {
            let thunk = thunk.clone();
            // Whenever the file is needed, it fails: Nix would too.
            if thunk.is_evaluating() {
                return self.fail_import(
                    pos,
                    written,
                    "it imports itself while it is being evaluated (infinite recursion)",
                );
            }
            return self.force(&thunk);
        }
        if !real.starts_with(&self.files.readable) {
            return self.outside_flake(pos, "import", written);
        }
        let text = match files::read_regular(&real) {
            Ok(text) => text,
            Err(why) => return self.fail_import(pos, written, &why.to_string()),
        };
        match self.files.parse(&text, &real) {
            Ok((file, expr)) => {
                let thunk = Thunk::pending(expr, self.root_env(), file);
                self.imported.insert(real, thunk.clone());
                self.force(&thunk)
            }
            Err(err) => {
                let message = err.to_string();
                self.stop(err);
                Value::error(ErrorKind::Other, message, Some(pos))
            }
        }
    }

    /// `builtins.readFile`: the text of a regular file inside the flake. A file outside
    /// it is never read (unknown, with a warning); one that is missing is unknown too (it
    /// may be made before the build); one that cannot be read is bad input.
    fn read_file(&mut self, path: &Path, written: &str, pos: Pos) -> Value {
        let unknown = || Value::Unknown(format!("builtins.readFile {written}"));
        if !crate::source_set::tree::normalize(path).starts_with(&self.files.readable) {
            self.outside_flake(pos, "read", written);
            return unknown();
        }
        let Some(real) = files::resolved(path) else {
            return unknown();
        };
        if !real.starts_with(&self.files.readable) {
            self.outside_flake(pos, "read", written);
            return unknown();
        }
        match files::read_regular(&real) {
            Ok(text) => match self.charge_string(text.len(), pos) {
                Some(exceeded) => exceeded,
                None => Value::Str(text),
            },
            Err(why) => {
                let message = format!("cannot read {written}: {why}");
                self.fail(pos, &message)
            }
        }
    }

    /// A file outside the flake's directory (and its repository): never read, whether
    /// imported or read (`readFile`, `importTOML`, `crateNameFromCargoToml`); its value
    /// is unknown.
    fn outside_flake(&mut self, pos: Pos, what: &str, written: &str) -> Value {
        let warning = Note::at(
            self.location(pos),
            format!("{what} of {written} outside the flake's directory; its value is unknown"),
        );
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
        Value::Unknown(format!("import {written}"))
    }

    /// An import Nix fails on before any output exists: `file:line:column: cannot import …`.
    fn fail_import(&mut self, pos: Pos, written: &str, why: &str) -> Value {
        self.fail(pos, &format!("cannot import {written}: {why}"))
    }
}
