//! A static evaluator for the subset of Nix that crane flakes are written in. Anything it
//! cannot know (nixpkgs, builtins.readFile, flake inputs) becomes `Value::Unknown` with the
//! expression's text, so the analysis goes on with what is known.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Result, anyhow};
use rnix::ast::{self, AstToken, BinOpKind, Expr, HasEntry, InterpolPart, UnaryOpKind};
use rowan::ast::AstNode;

use super::check;
use super::value::{
    AttrSetValue, Builtin, Closure, CraneDerivation, Env, Pos, Thunk, ThunkState, Toolchain, Value,
};
use crate::phase::{CraneFunction, did_you_mean};

/// How deep evaluation may nest: deeper is an endless recursion, or more than the
/// evaluator can follow (its stack is sized for this).
pub const MAX_DEPTH: usize = 4000;

/// Every attribute a crane lib has had (crane's `lib/default.nix` over its history), and
/// those of the scope it is made with: the ones that are not crane functions compile
/// nothing (`cargoFmt`, `cleanCargoSource`, `vendorCargoDeps`, ...).
pub const CRANE_LIB_ATTRS: &[&str] = &[
    "appendCrateRegistries",
    "buildDepsOnly",
    "buildPackage",
    "buildTrunkPackage",
    "buildWithCargo",
    "buildWithDummySrc",
    "callPackage",
    "cargo",
    "cargoAudit",
    "cargoBuild",
    "cargoClippy",
    "cargoDeny",
    "cargoDoc",
    "cargoDocTest",
    "cargoFmt",
    "cargoHelperFunctionsHook",
    "cargoLlvmCov",
    "cargoNextest",
    "cargoTarpaulin",
    "cargoTest",
    "cleanCargoSource",
    "cleanCargoToml",
    "clippy",
    "configureCargoCommonVarsHook",
    "configureCargoVendoredDepsHook",
    "craneLib",
    "craneUtils",
    "crateNameFromCargoToml",
    "crateRegistries",
    "devShell",
    "downloadCargoPackage",
    "downloadCargoPackageFromGit",
    "fileset",
    "filterCargoSources",
    "filters",
    "findCargoFiles",
    "inheritCargoArtifactsHook",
    "installCargoArtifactsHook",
    "installFromCargoBuildLogHook",
    "mkCargoDerivation",
    "mkCrossToolchainEnv",
    "mkDummySrc",
    "newScope",
    "overrideScope",
    "overrideScope'",
    "overrideToolchain",
    "packages",
    "path",
    "registryFromDownloadUrl",
    "registryFromGitIndex",
    "registryFromSparse",
    "remapPathPrefixHook",
    "removeReferencesToRustToolchainHook",
    "removeReferencesToVendoredSourcesHook",
    "replaceCargoLockHook",
    "rustc",
    "rustfmt",
    "stdenvSelector",
    "taploFmt",
    "urlForCargoPackage",
    "vendorCargoDeps",
    "vendorCargoDepsFromArgs",
    "vendorCargoRegistries",
    "vendorGitDeps",
    "vendorMultipleCargoDeps",
    "writeTOML",
    "writeTOMLViaCraneUtils",
    "writeTOMLViaRemarshal",
];

/// A parsed file of the flake.
pub struct SourceFile {
    pub path: PathBuf,
    /// The path as shown to users, relative to the flake's directory.
    pub shown: String,
    pub text: String,
}

/// Evaluates flake files. Produced by [`Evaluator::new`]; read its `derivations`,
/// `bindings`, `frames` and `warnings` after evaluation.
pub struct Evaluator {
    pub files: Vec<SourceFile>,
    base_dir: PathBuf,
    imported: HashMap<PathBuf, Thunk>,
    depth: usize,
    pub derivations: Vec<Rc<CraneDerivation>>,
    /// Every `let` and `rec` binding, for naming derivations.
    pub bindings: Vec<(String, Thunk)>,
    /// Values handed to functions the evaluator does not know (flake-parts' `mkFlake`
    /// arguments): they may hold crane calls too.
    pub frames: Vec<Value>,
    /// The frames pushed by a thunk's own evaluation (not by thunks it forced), by the
    /// thunk's key: an unknown value found in the outputs is searched through the frames
    /// it was made from.
    frames_by_thunk: HashMap<usize, (Thunk, Vec<usize>)>,
    /// The thunks being forced, innermost last, each with the thunks it forced.
    forcing: Vec<(Thunk, Vec<Thunk>)>,
    pub warnings: Vec<String>,
    /// Bad input Nix itself would reject (a syntax error in an imported file, a missing
    /// import, an infinite recursion, ...): the first one is the evaluation's error, and
    /// once there is one nothing more is evaluated.
    pub fatal: Option<anyhow::Error>,
    /// Above zero while forcing what Nix may never force (the argument of a function the
    /// evaluator does not know, outputs searched for crane calls): an infinite recursion
    /// found there is an unknown value, not an error.
    pub speculative: usize,
    /// Where each attribute of a set was written, by its thunk (kept alive here).
    attr_pos: HashMap<usize, (Thunk, Pos)>,
    /// The expressions of the thunks being forced, by thunk: where an infinite recursion is.
    evaluating: HashMap<usize, (Pos, String)>,
    /// Attributes that exist only under a condition the evaluator cannot decide
    /// (`lib.optionalAttrs isLinux { … }`, `if c then { … } else { }`), by their thunk: where
    /// the condition is and its text. They are kept (they exist on some systems).
    pub conditional: HashMap<usize, (Thunk, Pos, String)>,
    /// The flake's own outputs (`self`), by set identity, and the flake's directory: a
    /// `src = self` names that directory.
    pub self_dir: Option<(usize, PathBuf)>,
}

fn text_of(node: &impl AstNode) -> String {
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
    pub fn new(base_dir: &Path) -> Evaluator {
        Evaluator {
            files: Vec::new(),
            base_dir: base_dir.to_path_buf(),
            imported: HashMap::new(),
            depth: 0,
            derivations: Vec::new(),
            bindings: Vec::new(),
            frames: Vec::new(),
            frames_by_thunk: HashMap::new(),
            forcing: Vec::new(),
            warnings: Vec::new(),
            fatal: None,
            speculative: 0,
            attr_pos: HashMap::new(),
            evaluating: HashMap::new(),
            conditional: HashMap::new(),
            self_dir: None,
        }
    }

    /// Records bad input (the first one wins) at `file:line:column`; the value is unknown.
    pub fn fail(&mut self, pos: Pos, message: &str) -> Value {
        let location = self.location_column(pos);
        self.fail_with(format!("{location}: {message}"))
    }

    /// Records bad input with its own wording (the first one wins); the value is unknown.
    pub fn fail_with(&mut self, error: String) -> Value {
        if self.fatal.is_none() {
            self.fatal = Some(anyhow!("{error}"));
        }
        Value::Unknown("an error".into())
    }

    /// `file:line:column` of a position.
    pub fn location_column(&self, pos: Pos) -> String {
        let file = &self.files[pos.file];
        let (line, column) = line_column(&file.text, pos.offset);
        format!("{}:{line}:{column}", file.shown)
    }

    /// Where the attribute held by `thunk` was written, when it was.
    pub fn attr_position(&self, thunk: &Thunk) -> Option<Pos> {
        self.attr_pos.get(&thunk.key()).map(|(_, pos)| *pos)
    }

    /// Parses a file; a syntax error is `file:line:column: message`.
    pub fn parse(&mut self, text: &str, path: &Path) -> Result<(usize, Expr)> {
        let shown = path
            .strip_prefix(&self.base_dir)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.display().to_string());
        let parsed = rnix::Root::parse(text);
        if !parsed.errors().is_empty() {
            let (offset, message) = check::syntax_error(text, &parsed.syntax(), parsed.errors());
            return Err(match offset {
                Some(offset) => {
                    let (line, column) = line_column(text, offset);
                    anyhow!("{shown}:{line}:{column}: syntax error: {message}")
                }
                None => anyhow!("{shown}: syntax error: {message}"),
            });
        }
        if let Some((offset, name)) = check::undefined_variable(&parsed.syntax()) {
            let (line, column) = line_column(text, offset);
            return Err(anyhow!(
                "{shown}:{line}:{column}: undefined variable `{name}`"
            ));
        }
        let expr = parsed
            .tree()
            .expr()
            .ok_or_else(|| anyhow!("{shown}: the file has no expression"))?;
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            shown,
            text: text.to_string(),
        });
        Ok((self.files.len() - 1, expr))
    }

    /// `file:line` of a position.
    pub fn location(&self, pos: Pos) -> String {
        let file = &self.files[pos.file];
        format!("{}:{}", file.shown, line_column(&file.text, pos.offset).0)
    }

    fn pos(&self, node: &impl AstNode, file: usize) -> Pos {
        Pos {
            file,
            offset: usize::from(node.syntax().text_range().start()),
        }
    }

    pub fn root_env(&self) -> Env {
        let mut names = BTreeMap::new();
        for (name, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
            ("import", builtin(Builtin::Import)),
            ("map", builtin(Builtin::Map)),
            ("removeAttrs", builtin(Builtin::RemoveAttrs)),
            ("toString", builtin(Builtin::ToString)),
        ] {
            names.insert(name.to_string(), Thunk::value(value));
        }
        names.insert(
            "builtins".to_string(),
            Thunk::value(Value::Unknown("builtins".into())),
        );
        Env::default().child(names)
    }

    pub fn force(&mut self, thunk: &Thunk) -> Value {
        if let Some((_, forced)) = self.forcing.last_mut() {
            forced.push(thunk.clone());
        }
        let state = std::mem::replace(&mut *thunk.0.borrow_mut(), ThunkState::Evaluating);
        if let ThunkState::Done(value) = state {
            *thunk.0.borrow_mut() = ThunkState::Done(value.clone());
            return value;
        }
        self.forcing.push((thunk.clone(), Vec::new()));
        let value = match state {
            ThunkState::Done(value) => value,
            ThunkState::Evaluating => self.recursion(thunk),
            ThunkState::Pending(expr, env, file) => {
                let pos = self.pos(&expr, file);
                self.evaluating.insert(thunk.key(), (pos, text_of(&expr)));
                let value = self.eval(&expr, &env, file);
                self.evaluating.remove(&thunk.key());
                value
            }
            ThunkState::Select(source, name, described) => {
                let value = self.force(&source);
                self.select_attr(value, &name, &described, None)
                    .unwrap_or(Value::Unknown(described))
            }
            ThunkState::Apply(function, arg, pos, text) => self.apply(function, arg, pos, &text),
        };
        if let (Some((_, forced)), Value::Unknown(what)) = (self.forcing.pop(), &value) {
            // An unknown value passed on from a thunk it forced (`default = pkgs.x;`,
            // `inherit (set) x;`) was made from that thunk's frames.
            let inherited: Vec<usize> = forced
                .iter()
                .filter(|f| matches!(f.peek(), Some(Value::Unknown(w)) if w == *what))
                .flat_map(|f| self.frames_of(f))
                .collect();
            if !inherited.is_empty() {
                let own = &mut self
                    .frames_by_thunk
                    .entry(thunk.key())
                    .or_insert_with(|| (thunk.clone(), Vec::new()))
                    .1;
                for index in inherited {
                    if !own.contains(&index) {
                        own.push(index);
                    }
                }
            }
        }
        *thunk.0.borrow_mut() = ThunkState::Done(value.clone());
        value
    }

    /// A thunk forced while it is being forced: Nix's infinite recursion (an unknown value
    /// where the evaluator forces what Nix may not).
    fn recursion(&mut self, thunk: &Thunk) -> Value {
        if self.speculative > 0 {
            return Value::Unknown("infinite recursion".into());
        }
        match self.evaluating.get(&thunk.key()).cloned() {
            Some((pos, text)) => self.fail(pos, &format!("infinite recursion evaluating `{text}`")),
            None => {
                // Where the innermost thunk being evaluated is written.
                let innermost = self
                    .forcing
                    .iter()
                    .rev()
                    .find_map(|(t, _)| self.evaluating.get(&t.key()).cloned());
                match innermost {
                    Some((pos, text)) => {
                        self.fail(pos, &format!("infinite recursion evaluating `{text}`"))
                    }
                    None => self.fail_with("infinite recursion".into()),
                }
            }
        }
    }

    /// Forces the thunk a name or attribute `what` at `pos` refers to: an infinite
    /// recursion is reported there.
    fn force_named(&mut self, thunk: &Thunk, pos: Pos, what: &str) -> Value {
        if self.speculative == 0 && matches!(*thunk.0.borrow(), ThunkState::Evaluating) {
            return self.fail(pos, &format!("infinite recursion evaluating `{what}`"));
        }
        self.force(thunk)
    }

    /// A value handed to a function the evaluator does not know, noted for the search
    /// (with the thunk whose evaluation made it).
    fn push_frame(&mut self, frame: Value) {
        if let Some((thunk, _)) = self.forcing.last() {
            self.frames_by_thunk
                .entry(thunk.key())
                .or_insert_with(|| (thunk.clone(), Vec::new()))
                .1
                .push(self.frames.len());
        }
        self.frames.push(frame);
    }

    /// The indices of the frames `thunk`'s own evaluation pushed.
    pub fn frames_of(&self, thunk: &Thunk) -> Vec<usize> {
        self.frames_by_thunk
            .get(&thunk.key())
            .map_or_else(Vec::new, |(_, frames)| frames.clone())
    }

    pub fn eval(&mut self, expr: &Expr, env: &Env, file: usize) -> Value {
        if self.fatal.is_some() {
            return Value::Unknown("an error".into());
        }
        if self.depth >= MAX_DEPTH {
            let pos = self.pos(expr, file);
            return self.fail(
                pos,
                &format!(
                    "evaluation nested too deeply (more than {MAX_DEPTH} levels) at `{}`: an endless recursion, or more than cache-miss can follow",
                    text_of(expr)
                ),
            );
        }
        self.depth += 1;
        let value = self.eval_inner(expr, env, file);
        self.depth -= 1;
        value
    }

    fn eval_inner(&mut self, expr: &Expr, env: &Env, file: usize) -> Value {
        match expr {
            Expr::Paren(p) => p.expr().map_or(Value::Null, |e| self.eval(&e, env, file)),
            Expr::Root(r) => r.expr().map_or(Value::Null, |e| self.eval(&e, env, file)),
            Expr::Literal(literal) => match literal.kind() {
                ast::LiteralKind::Integer(i) => i
                    .value()
                    .map_or(Value::Unknown(text_of(literal)), Value::Int),
                ast::LiteralKind::Float(f) => f
                    .value()
                    .map_or(Value::Unknown(text_of(literal)), Value::Float),
                ast::LiteralKind::Uri(u) => Value::Str(u.syntax().text().to_string()),
            },
            Expr::Str(s) => self.eval_string(s, env, file),
            Expr::PathRel(p) => {
                let text = p.syntax().text().to_string();
                let dir = self.files[file]
                    .path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                Value::Path(normalize(&dir.join(&text)), text)
            }
            Expr::PathAbs(p) => {
                let text = p.syntax().text().to_string();
                Value::Path(PathBuf::from(&text), text)
            }
            Expr::PathHome(_) | Expr::PathSearch(_) => Value::Unknown(text_of(expr)),
            Expr::Ident(ident) => self.eval_ident(ident, env, file),
            Expr::List(list) => Value::List(Rc::new(
                list.items()
                    .map(|item| Thunk::pending(item, env.clone(), file))
                    .collect(),
            )),
            Expr::AttrSet(set) => self.eval_attrset(set, env, file),
            Expr::LetIn(let_in) => {
                let scope = self.bind_entries(let_in, env, file, true);
                let_in
                    .body()
                    .map_or(Value::Null, |body| self.eval(&body, &scope, file))
            }
            Expr::Lambda(lambda) => Value::Lambda(Rc::new(Closure {
                lambda: lambda.clone(),
                env: env.clone(),
                file,
            })),
            Expr::Apply(apply) => {
                let (Some(function), Some(argument)) = (apply.lambda(), apply.argument()) else {
                    return Value::Unknown(text_of(apply));
                };
                let f = self.eval(&function, env, file);
                let arg = Thunk::pending(argument, env.clone(), file);
                let pos = self.pos(apply, file);
                self.apply(f, arg, pos, &text_of(apply))
            }
            Expr::Select(select) => self.eval_select(select, env, file),
            Expr::HasAttr(has) => {
                let base = has.expr().map_or(Value::Null, |e| self.eval(&e, env, file));
                match (base, has.attrpath().and_then(|p| p.attrs().next())) {
                    (Value::Attrs(set), Some(attr)) => match self.attr_name(&attr, env, file) {
                        Some(name) => Value::Bool(set.entries.contains_key(&name)),
                        None => Value::Unknown(text_of(has)),
                    },
                    _ => Value::Unknown(text_of(has)),
                }
            }
            Expr::BinOp(op) => self.eval_binop(op, env, file),
            Expr::UnaryOp(op) => {
                let value = op.expr().map_or(Value::Null, |e| self.eval(&e, env, file));
                match (op.operator(), value) {
                    (Some(UnaryOpKind::Invert), Value::Bool(b)) => Value::Bool(!b),
                    (Some(UnaryOpKind::Negate), Value::Int(i)) => Value::Int(-i),
                    _ => Value::Unknown(text_of(op)),
                }
            }
            Expr::IfElse(if_else) => {
                let condition = if_else
                    .condition()
                    .map_or(Value::Null, |c| self.eval(&c, env, file));
                let branch = match condition {
                    Value::Bool(true) => if_else.body(),
                    Value::Bool(false) => if_else.else_body(),
                    _ => return self.unknown_if(if_else, env, file),
                };
                branch.map_or(Value::Null, |b| self.eval(&b, env, file))
            }
            Expr::With(with) => {
                let namespace = with
                    .namespace()
                    .map(|n| Thunk::pending(n, env.clone(), file));
                let scope = match namespace {
                    Some(namespace) => env.with_namespace(namespace),
                    None => env.clone(),
                };
                with.body()
                    .map_or(Value::Null, |b| self.eval(&b, &scope, file))
            }
            Expr::Assert(assert) => assert
                .body()
                .map_or(Value::Null, |b| self.eval(&b, env, file)),
            Expr::LegacyLet(_) | Expr::Error(_) | Expr::CurPos(_) => Value::Unknown(text_of(expr)),
        }
    }

    fn eval_ident(&mut self, ident: &ast::Ident, env: &Env, file: usize) -> Value {
        let Some(name) = ident.ident_token().map(|t| t.text().to_string()) else {
            return Value::Unknown(text_of(ident));
        };
        if let Some(thunk) = env.lookup(&name) {
            let pos = self.pos(ident, file);
            return self.force_named(&thunk, pos, &name);
        }
        for namespace in env.namespaces() {
            if let Value::Attrs(set) = self.force(&namespace) {
                if let Some(thunk) = set.entries.get(&name) {
                    let thunk = thunk.clone();
                    return self.force(&thunk);
                }
            }
        }
        Value::Unknown(name)
    }

    /// A string; interpolations it cannot know are left out (with the flag before them
    /// when it takes a value) and listed, unless nothing but them is known.
    fn eval_string(&mut self, s: &ast::Str, env: &Env, file: usize) -> Value {
        let mut pieces = Vec::new();
        for part in s.normalized_parts() {
            match part {
                InterpolPart::Literal(text) => pieces.push(Piece::Known(text)),
                InterpolPart::Interpolation(interpol) => {
                    let value = interpol
                        .expr()
                        .map_or(Value::Null, |e| self.eval(&e, env, file));
                    match value {
                        Value::PartialStr(text, missing) => {
                            pieces.push(Piece::Known(text));
                            pieces.extend(missing.iter().map(|m| Piece::Missing(m.clone())));
                        }
                        // A derivation in another derivation's script is built for it:
                        // searched for crane calls like a frame.
                        derivation @ Value::Derivation(_) => {
                            self.push_frame(derivation);
                            pieces.push(Piece::Missing((
                                self.pos(&interpol, file),
                                text_of(&interpol),
                            )));
                        }
                        other => match to_text(&other) {
                            Some(text) => pieces.push(Piece::Known(text)),
                            None => pieces.push(Piece::Missing((
                                self.pos(&interpol, file),
                                text_of(&interpol),
                            ))),
                        },
                    }
                }
            }
        }
        join_pieces(pieces).unwrap_or_else(|| Value::Unknown(text_of(s)))
    }

    fn attr_name(&mut self, attr: &ast::Attr, env: &Env, file: usize) -> Option<String> {
        match attr {
            ast::Attr::Ident(ident) => ident.ident_token().map(|t| t.text().to_string()),
            ast::Attr::Str(s) => match self.eval_string(s, env, file) {
                Value::Str(text) => Some(text),
                _ => Some(text_of(s)),
            },
            // An unknown `${system}` keeps its text, so outputs keep their shape.
            ast::Attr::Dynamic(dynamic) => match dynamic.expr().map(|e| self.eval(&e, env, file)) {
                Some(Value::Str(text)) => Some(text),
                _ => Some(text_of(dynamic)),
            },
        }
    }

    fn eval_select(&mut self, select: &ast::Select, env: &Env, file: usize) -> Value {
        let mut value = select
            .expr()
            .map_or(Value::Null, |e| self.eval(&e, env, file));
        let mut described = select.expr().map(|e| text_of(&e)).unwrap_or_default();
        let attrs: Vec<ast::Attr> = select
            .attrpath()
            .map(|p| p.attrs().collect())
            .unwrap_or_default();
        for attr in attrs {
            let Some(name) = self.attr_name(&attr, env, file) else {
                return Value::Unknown(text_of(select));
            };
            described = format!("{described}.{name}");
            let pos = self.pos(&attr, file);
            value = match self.select_attr(value, &name, &described, Some(pos)) {
                Some(next) => next,
                None => {
                    return match select.default_expr() {
                        Some(default) => self.eval(&default, env, file),
                        None => Value::Unknown(described),
                    };
                }
            };
        }
        value
    }

    /// `value.name` (`at`: where it is selected); `None` when a known attribute set lacks
    /// it.
    fn select_attr(
        &mut self,
        value: Value,
        name: &str,
        described: &str,
        at: Option<Pos>,
    ) -> Option<Value> {
        Some(match value {
            Value::Attrs(set) => {
                // A system the evaluator cannot know (`${system}`, `${pkgs.system}`) selects
                // what was evaluated for its placeholder system.
                let entry = set.entries.get(name).or_else(|| {
                    let mut placeholders = set.entries.iter().filter(|(k, _)| k.starts_with("${"));
                    match (
                        name.starts_with("${"),
                        placeholders.next(),
                        placeholders.next(),
                    ) {
                        (true, Some((_, thunk)), None) => Some(thunk),
                        _ => None,
                    }
                });
                match entry {
                    Some(thunk) => {
                        let thunk = thunk.clone();
                        match at {
                            Some(pos) => self.force_named(&thunk, pos, described),
                            None => self.force(&thunk),
                        }
                    }
                    None if set.partial.is_empty() => return None,
                    None => Value::Unknown(described.to_string()),
                }
            }
            Value::CraneLib(toolchain) => {
                if let Some(pos) = at {
                    self.check_crane_attr(name, pos, true);
                }
                crane_lib_attr(&toolchain, name, described)
            }
            // A crane lib the evaluator cannot see (`{ craneLib, ... }:` not supplied).
            Value::Unknown(base) if looks_like_crane_lib(&base) => {
                if let Some(pos) = at {
                    self.check_crane_attr(name, pos, false);
                }
                crane_lib_attr(&Toolchain::named(&base), name, described)
            }
            Value::Unknown(base) => match name {
                "mkLib" => builtin(Builtin::MkLib),
                "callPackage" | "callPackages" => builtin(Builtin::CallPackage),
                "lib" if base.rsplit('.').next().is_some_and(|last| last == "crane") => {
                    Value::CraneLib(Toolchain::named("crane"))
                }
                _ if CraneFunction::from_name(name).is_some() => {
                    Value::CraneFunction(Toolchain::named(&base), name.to_string())
                }
                _ if source_function(&base, name) => builtin(Builtin::Source(name.to_string())),
                _ => lib_function(name)
                    .map_or_else(|| Value::Unknown(described.to_string()), builtin),
            },
            _ => Value::Unknown(described.to_string()),
        })
    }

    /// `craneLib.NAME`: a name crane's libs never had is bad input, with the crane
    /// function it is most likely a typo of. `sure`: the value is known to be a crane lib
    /// (else only its name says so, and only a near miss is reported).
    fn check_crane_attr(&mut self, name: &str, pos: Pos, sure: bool) {
        // `crane.lib.${system}` (crane's old interface) is a crane lib per system.
        if CRANE_LIB_ATTRS.contains(&name) || name.starts_with("__") || is_system_name(name) {
            return;
        }
        let functions: Vec<&str> = CRANE_LIB_ATTRS
            .iter()
            .copied()
            .filter(|n| n.starts_with(char::is_lowercase))
            .collect();
        let hint = did_you_mean(name, &functions);
        if hint.is_none() && !sure {
            return;
        }
        self.fail(
            pos,
            &format!(
                "`{name}` is not a function or attribute of a crane lib{}",
                hint.unwrap_or_default()
            ),
        );
    }

    fn eval_attrset(&mut self, set: &ast::AttrSet, env: &Env, file: usize) -> Value {
        if set.rec_token().is_some() {
            let scope = self.bind_entries(set, env, file, true);
            let Env(Some(inner)) = &scope else {
                return Value::Null;
            };
            let entries = inner.names.borrow().clone();
            Value::Attrs(Rc::new(AttrSetValue {
                entries,
                partial: Vec::new(),
            }))
        } else {
            let entries = self.entries(set, env, env, file);
            Value::Attrs(Rc::new(AttrSetValue {
                entries,
                partial: Vec::new(),
            }))
        }
    }

    /// A new scope holding `node`'s bindings, which (for `let` and `rec`) see each other.
    fn bind_entries(&mut self, node: &impl HasEntry, env: &Env, file: usize, record: bool) -> Env {
        let scope = env.child(BTreeMap::new());
        let entries = self.entries(node, &scope, env, file);
        if let Env(Some(inner)) = &scope {
            if record {
                self.bindings
                    .extend(entries.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            *inner.names.borrow_mut() = entries;
        }
        scope
    }

    /// The bindings of a set or `let`: values see `scope`; `inherit x;` looks in `outer`.
    fn entries(
        &mut self,
        node: &impl HasEntry,
        scope: &Env,
        outer: &Env,
        file: usize,
    ) -> BTreeMap<String, Thunk> {
        let mut tree: BTreeMap<String, Pending> = BTreeMap::new();
        for entry in node.entries() {
            match entry {
                ast::Entry::AttrpathValue(binding) => {
                    let (Some(path), Some(value)) = (binding.attrpath(), binding.value()) else {
                        continue;
                    };
                    let names: Option<Vec<String>> = path
                        .attrs()
                        .map(|a| self.attr_name(&a, scope, file))
                        .collect();
                    match names {
                        Some(names) if !names.is_empty() => {
                            let thunk = Thunk::pending(value, scope.clone(), file);
                            let pos = self.pos(&path, file);
                            self.attr_pos.insert(thunk.key(), (thunk.clone(), pos));
                            insert_path(&mut tree, &names, thunk);
                        }
                        _ => self.warnings.push(format!(
                            "{}: attribute name `{}` could not be resolved; ignored",
                            self.location(self.pos(&binding, file)),
                            text_of(&path)
                        )),
                    }
                }
                ast::Entry::Inherit(inherit) => {
                    // `inherit (x) a;` sees the bindings of its own `let` or `rec` (scope);
                    // it is selected when needed, as Nix does.
                    let from = inherit
                        .from()
                        .and_then(|f| f.expr())
                        .map(|e| (text_of(&e), Thunk::pending(e, scope.clone(), file)));
                    for attr in inherit.attrs() {
                        let Some(name) = self.attr_name(&attr, outer, file) else {
                            continue;
                        };
                        let thunk = match &from {
                            Some((text, source)) => {
                                Thunk::select(source.clone(), &name, &format!("{text}.{name}"))
                            }
                            None => outer
                                .lookup(&name)
                                .unwrap_or_else(|| Thunk::value(Value::Unknown(name.clone()))),
                        };
                        tree.insert(name, Pending::Thunk(thunk));
                    }
                }
            }
        }
        tree.into_iter().map(|(k, v)| (k, v.into_thunk())).collect()
    }

    fn eval_binop(&mut self, op: &ast::BinOp, env: &Env, file: usize) -> Value {
        let lhs = op.lhs().map_or(Value::Null, |e| self.eval(&e, env, file));
        let Some(kind) = op.operator() else {
            return Value::Unknown(text_of(op));
        };
        // `&&` and `||` short-circuit.
        match (kind, &lhs) {
            (BinOpKind::And, Value::Bool(false)) => return Value::Bool(false),
            (BinOpKind::Or, Value::Bool(true)) => return Value::Bool(true),
            _ => {}
        }
        let rhs = op.rhs().map_or(Value::Null, |e| self.eval(&e, env, file));
        let unknown = || Value::Unknown(text_of(op));
        match (kind, lhs, rhs) {
            // A derivation is an attribute set: `drv // { … }` is still that derivation,
            // and what is merged in never reaches crane.
            (BinOpKind::Update, Value::Derivation(d), rhs) => {
                self.merged_into_derivation(op, &d, &rhs, file);
                Value::Derivation(d)
            }
            (BinOpKind::Update, Value::Attrs(_) | Value::Unknown(_), Value::Derivation(d)) => {
                Value::Derivation(d)
            }
            (BinOpKind::Update, Value::Attrs(a), Value::Attrs(b)) => {
                let mut merged = (*a).clone();
                merged.entries.extend(b.entries.clone());
                merged.partial.extend(b.partial.clone());
                Value::Attrs(Rc::new(merged))
            }
            (BinOpKind::Update, Value::Attrs(a), Value::Unknown(what)) => {
                // Known keys may be overridden by the unknown part: keep them, say so.
                let mut merged = (*a).clone();
                merged.partial.push(what);
                Value::Attrs(Rc::new(merged))
            }
            (BinOpKind::Update, Value::Unknown(what), Value::Attrs(b)) => {
                let mut merged = (*b).clone();
                merged.partial.push(what);
                Value::Attrs(Rc::new(merged))
            }
            (BinOpKind::Concat, Value::List(a), Value::List(b)) => {
                Value::List(Rc::new(a.iter().chain(b.iter()).cloned().collect()))
            }
            (BinOpKind::Add, Value::Str(a), Value::Str(b)) => Value::Str(a + &b),
            (BinOpKind::Add, a @ (Value::Str(_) | Value::PartialStr(..)), b)
                if matches!(b, Value::Str(_) | Value::PartialStr(..)) =>
            {
                let pieces = [a, b]
                    .into_iter()
                    .flat_map(|v| match v {
                        Value::Str(text) => vec![Piece::Known(text)],
                        Value::PartialStr(text, missing) => std::iter::once(Piece::Known(text))
                            .chain(missing.iter().map(|m| Piece::Missing(m.clone())))
                            .collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                join_pieces(pieces).unwrap_or_else(unknown)
            }
            (BinOpKind::Add, Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_add(b)),
            (BinOpKind::Add, Value::Path(p, text), Value::Str(b)) => Value::Path(
                PathBuf::from(format!("{}{b}", p.display())),
                format!("{text} + {b:?}"),
            ),
            (BinOpKind::Sub, Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_sub(b)),
            (BinOpKind::Mul, Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_mul(b)),
            (BinOpKind::And | BinOpKind::Or, Value::Bool(_), Value::Bool(b)) => Value::Bool(b),
            (BinOpKind::Implication, Value::Bool(a), Value::Bool(b)) => Value::Bool(!a || b),
            (BinOpKind::Equal, a, b) => self.equal(&a, &b, 0).map_or_else(unknown, Value::Bool),
            (BinOpKind::NotEqual, a, b) => self
                .equal(&a, &b, 0)
                .map_or_else(unknown, |eq| Value::Bool(!eq)),
            (BinOpKind::Less, Value::Int(a), Value::Int(b)) => Value::Bool(a < b),
            (BinOpKind::LessOrEq, Value::Int(a), Value::Int(b)) => Value::Bool(a <= b),
            (BinOpKind::More, Value::Int(a), Value::Int(b)) => Value::Bool(a > b),
            (BinOpKind::MoreOrEq, Value::Int(a), Value::Int(b)) => Value::Bool(a >= b),
            (BinOpKind::PipeRight, value, function) | (BinOpKind::PipeLeft, function, value) => {
                let pos = self.pos(op, file);
                self.apply(function, Thunk::value(value), pos, &text_of(op))
            }
            _ => unknown(),
        }
    }

    /// Whether every pair is equal: `Some(false)` at the first that is not, `None` when
    /// some pair cannot be decided.
    fn all_equal<'t>(
        &mut self,
        pairs: impl Iterator<Item = (&'t Thunk, &'t Thunk)>,
        depth: usize,
    ) -> Option<bool> {
        let mut all = Some(true);
        for (x, y) in pairs {
            let (x, y) = (self.force(x), self.force(y));
            match self.equal(&x, &y, depth + 1) {
                Some(false) => return Some(false),
                None => all = None,
                Some(true) => {}
            }
        }
        all
    }

    /// Nix's `==`, when it can be decided: lists and sets element by element.
    fn equal(&mut self, a: &Value, b: &Value, depth: usize) -> Option<bool> {
        if depth > 8 {
            return None;
        }
        match (a, b) {
            (Value::List(x), Value::List(y)) => {
                if x.len() != y.len() {
                    return Some(false);
                }
                self.all_equal(x.iter().zip(y.iter()), depth)
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                let keys_differ = x.entries.keys().ne(y.entries.keys());
                if !x.partial.is_empty() || !y.partial.is_empty() {
                    return None;
                }
                if keys_differ {
                    return Some(false);
                }
                self.all_equal(x.entries.values().zip(y.entries.values()), depth)
            }
            (Value::Path(x, _), Value::Path(y, _)) => Some(x == y),
            (Value::Float(x), Value::Float(y)) => Some(x == y),
            (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
                Some(*x as f64 == *y)
            }
            (Value::List(_), Value::Attrs(_)) | (Value::Attrs(_), Value::List(_)) => Some(false),
            (Value::List(_) | Value::Attrs(_), other)
            | (other, Value::List(_) | Value::Attrs(_))
                if matches!(
                    other,
                    Value::Null | Value::Bool(_) | Value::Int(_) | Value::Str(_)
                ) =>
            {
                Some(false)
            }
            _ => simple_eq(a, b),
        }
    }

    /// Applies a function value to an argument.
    pub fn apply(&mut self, function: Value, arg: Thunk, pos: Pos, text: &str) -> Value {
        match function {
            Value::Lambda(closure) => self.call(&closure, arg),
            Value::Builtin(builtin, args) => {
                let mut args = (*args).clone();
                args.push(arg);
                if args.len() < arity(&builtin) {
                    return Value::Builtin(builtin, Rc::new(args));
                }
                self.run_builtin(&builtin, &args, pos, text)
            }
            Value::CraneFunction(toolchain, name) => {
                self.crane_call(&toolchain, &name, arg, pos, text)
            }
            Value::Unknown(function) => {
                // An unknown function applied to a function or a set: a flake frame
                // (eachDefaultSystem, mkFlake, ...). Look inside; the result stays unknown,
                // except for flake-utils' frames, whose shape is known. Nix may never
                // force any of this.
                self.speculative += 1;
                let mut known = None;
                match self.force(&arg) {
                    Value::Lambda(closure) => {
                        let result =
                            self.call(&closure, Thunk::value(Value::Unknown(text.to_string())));
                        known = flake_utils_frame(&function, &closure, &result, text);
                        self.push_frame(result);
                    }
                    set @ Value::Attrs(_) => self.push_frame(set),
                    _ => {}
                }
                self.speculative -= 1;
                known.unwrap_or_else(|| Value::Unknown(text.to_string()))
            }
            _ => Value::Unknown(text.to_string()),
        }
    }

    /// Calls a closure, binding its parameter (a name or a `{ a, b ? 1, ... }@args` pattern).
    pub fn call(&mut self, closure: &Closure, arg: Thunk) -> Value {
        let Some(param) = closure.lambda.param() else {
            return Value::Unknown(text_of(&closure.lambda));
        };
        let scope = match param {
            ast::Param::IdentParam(ident) => {
                let mut names = BTreeMap::new();
                if let Some(name) = ident
                    .ident()
                    .and_then(|i| i.ident_token())
                    .map(|t| t.text().to_string())
                {
                    names.insert(name, arg);
                }
                closure.env.child(names)
            }
            ast::Param::Pattern(pattern) => {
                let given = self.force(&arg);
                let scope = closure.env.child(BTreeMap::new());
                let mut names = BTreeMap::new();
                for entry in pattern.pat_entries() {
                    let Some(name) = entry
                        .ident()
                        .and_then(|i| i.ident_token())
                        .map(|t| t.text().to_string())
                    else {
                        continue;
                    };
                    let provided = match &given {
                        Value::Attrs(set) => set.entries.get(&name).cloned(),
                        _ => None,
                    };
                    let thunk = provided.unwrap_or_else(|| match entry.default() {
                        Some(default) => Thunk::pending(default, scope.clone(), closure.file),
                        None => Thunk::value(Value::Unknown(name.clone())),
                    });
                    names.insert(name, thunk);
                }
                if let Some(bind) = pattern
                    .pat_bind()
                    .and_then(|b| b.ident())
                    .and_then(|i| i.ident_token())
                {
                    names.insert(bind.text().to_string(), arg);
                }
                if let Env(Some(inner)) = &scope {
                    *inner.names.borrow_mut() = names;
                }
                scope
            }
        };
        closure
            .lambda
            .body()
            .map_or(Value::Null, |body| self.eval(&body, &scope, closure.file))
    }

    fn crane_call(
        &mut self,
        toolchain: &Toolchain,
        name: &str,
        arg: Thunk,
        pos: Pos,
        text: &str,
    ) -> Value {
        let args = match self.force(&arg) {
            Value::Attrs(set) => (*set).clone(),
            Value::Unknown(what) => AttrSetValue {
                entries: BTreeMap::new(),
                partial: vec![what],
            },
            other => {
                self.warnings.push(format!(
                    "{}: {text}: crane called with {}",
                    self.location(pos),
                    other.type_name()
                ));
                AttrSetValue::default()
            }
        };
        let derivation = Rc::new(CraneDerivation {
            id: self.derivations.len(),
            function: name.to_string(),
            args,
            pos,
            toolchain: toolchain.clone(),
        });
        self.derivations.push(derivation.clone());
        Value::Derivation(derivation)
    }

    fn run_builtin(&mut self, builtin: &Builtin, args: &[Thunk], pos: Pos, text: &str) -> Value {
        let unknown = || Value::Unknown(text.to_string());
        match builtin {
            Builtin::Import => match self.force(&args[0]) {
                Value::Path(path, written) => self.import(&path, &written, pos),
                _ => unknown(),
            },
            Builtin::CallPackage => match self.force(&args[0]) {
                Value::Path(path, written) => match self.import(&path, &written, pos) {
                    Value::Lambda(closure) => self.call(&closure, args[1].clone()),
                    other => other,
                },
                Value::Lambda(closure) => self.call(&closure, args[1].clone()),
                _ => unknown(),
            },
            Builtin::MkLib => Value::CraneLib(Toolchain::named("crane.mkLib")),
            Builtin::CraneLibOverride(base, changes) => {
                if *changes {
                    // Shown as written; the same text elsewhere, or here with another
                    // toolchain, is another lib.
                    let toolchain = match self.force(&args[0]) {
                        Value::Lambda(closure) => format!(
                            "function@{}:{}",
                            closure.file,
                            usize::from(closure.lambda.syntax().text_range().start())
                        ),
                        Value::Unknown(what) => {
                            // Unknown toolchains written alike may still differ in the
                            // (known) arguments they were made with.
                            let mut shape = format!("?{what}");
                            self.speculative += 1;
                            for index in self.frames_of(&args[0]) {
                                let frame = self.frames[index].clone();
                                shape.push('|');
                                self.shape(&frame, 0, &mut shape);
                            }
                            self.speculative -= 1;
                            shape
                        }
                        Value::Str(s) => format!("{s:?}"),
                        other => other.type_name().to_string(),
                    };
                    Value::CraneLib(Toolchain {
                        text: text.to_string(),
                        key: format!(
                            "{}|{}:{}|{text}|{toolchain}",
                            base.key, pos.file, pos.offset
                        ),
                        origin: Some(pos),
                    })
                } else {
                    Value::CraneLib(base.clone())
                }
            }
            Builtin::RemoveAttrs => match (self.force(&args[0]), self.force(&args[1])) {
                (Value::Attrs(set), Value::List(names)) => {
                    let mut kept = (*set).clone();
                    for name in names.iter() {
                        if let Value::Str(name) = self.force(name) {
                            kept.entries.remove(&name);
                        }
                    }
                    Value::Attrs(Rc::new(kept))
                }
                _ => unknown(),
            },
            Builtin::Map => {
                let f = self.force(&args[0]);
                match self.force(&args[1]) {
                    Value::List(items) => Value::List(Rc::new(
                        items
                            .iter()
                            .map(|item| {
                                Thunk::value(self.apply(f.clone(), item.clone(), pos, text))
                            })
                            .collect(),
                    )),
                    _ => unknown(),
                }
            }
            Builtin::ListToAttrs => match self.force(&args[0]) {
                Value::List(items) => {
                    let mut entries = BTreeMap::new();
                    for item in items.iter() {
                        if let Value::Attrs(pair) = self.force(item) {
                            let name = pair.entries.get("name").cloned().map(|n| self.force(&n));
                            if let (Some(Value::Str(name)), Some(value)) =
                                (name, pair.entries.get("value"))
                            {
                                entries.insert(name, value.clone());
                            }
                        }
                    }
                    Value::Attrs(Rc::new(AttrSetValue {
                        entries,
                        partial: Vec::new(),
                    }))
                }
                _ => unknown(),
            },
            Builtin::AttrNames => match self.force(&args[0]) {
                Value::Attrs(set) => Value::List(Rc::new(
                    set.entries
                        .keys()
                        .map(|k| Thunk::value(Value::Str(k.clone())))
                        .collect(),
                )),
                _ => unknown(),
            },
            Builtin::GenAttrs => {
                let f = self.force(&args[1]);
                match self.force(&args[0]) {
                    Value::List(names) => {
                        let mut entries = BTreeMap::new();
                        for name in names.iter() {
                            if let Value::Str(key) = self.force(name) {
                                let value = self.apply(f.clone(), name.clone(), pos, text);
                                entries.insert(key, Thunk::value(value));
                            }
                        }
                        Value::Attrs(Rc::new(AttrSetValue {
                            entries,
                            partial: Vec::new(),
                        }))
                    }
                    // Systems it cannot list (`lib.systems.flakeExposed`): one placeholder
                    // system, as flake-utils' frames get, so the crane calls are found.
                    Value::Unknown(list) => {
                        let system = Thunk::value(Value::Unknown("system".into()));
                        let value = self.apply(f, system, pos, text);
                        let mut entries = BTreeMap::new();
                        entries.insert("${system}".to_string(), Thunk::value(value));
                        Value::Attrs(Rc::new(AttrSetValue {
                            entries,
                            partial: vec![list],
                        }))
                    }
                    _ => unknown(),
                }
            }
            Builtin::MapAttrsRenamed => {
                let f = self.force(&args[0]);
                match self.force(&args[1]) {
                    Value::Attrs(set) => {
                        let mut entries = BTreeMap::new();
                        let mut partial = set.partial.clone();
                        for (key, value) in set.entries.iter() {
                            match self.apply_to_attr(&f, key, value, pos, text) {
                                Value::Attrs(pair) => {
                                    let name =
                                        pair.entries.get("name").cloned().map(|n| self.force(&n));
                                    match (name, pair.entries.get("value")) {
                                        (Some(Value::Str(name)), Some(value)) => {
                                            entries.insert(name, value.clone());
                                        }
                                        _ => partial.push(text.to_string()),
                                    }
                                }
                                _ => partial.push(text.to_string()),
                            }
                        }
                        Value::Attrs(Rc::new(AttrSetValue { entries, partial }))
                    }
                    _ => unknown(),
                }
            }
            Builtin::AttrValues => match self.force(&args[0]) {
                Value::Attrs(set) if set.partial.is_empty() => {
                    Value::List(Rc::new(set.entries.values().cloned().collect()))
                }
                _ => unknown(),
            },
            Builtin::Flatten => {
                let mut flat = Vec::new();
                if self.flatten_into(args[0].clone(), &mut flat, 0) {
                    Value::List(Rc::new(flat))
                } else {
                    unknown()
                }
            }
            Builtin::Elem => {
                let needle = self.force(&args[0]);
                match self.force(&args[1]) {
                    Value::List(items) => {
                        let mut found = Some(false);
                        for item in items.iter() {
                            let item = self.force(item);
                            match self.equal(&needle, &item, 0) {
                                Some(true) => return Value::Bool(true),
                                Some(false) => {}
                                None => found = None,
                            }
                        }
                        found.map_or_else(unknown, Value::Bool)
                    }
                    _ => unknown(),
                }
            }
            Builtin::MakeOverridable => self.force(&args[0]),
            Builtin::FunctionArgs => match self.force(&args[0]) {
                Value::Lambda(closure) => match closure.lambda.param() {
                    Some(ast::Param::Pattern(pattern)) => {
                        let entries = pattern
                            .pat_entries()
                            .filter_map(|entry| {
                                let name = entry.ident()?.ident_token()?.text().to_string();
                                let value = Value::Bool(entry.default().is_some());
                                Some((name, Thunk::value(value)))
                            })
                            .collect();
                        Value::Attrs(Rc::new(AttrSetValue {
                            entries,
                            partial: Vec::new(),
                        }))
                    }
                    _ => Value::Attrs(Rc::new(AttrSetValue::default())),
                },
                _ => unknown(),
            },
            Builtin::IntersectAttrs => match (self.force(&args[0]), self.force(&args[1])) {
                (Value::Attrs(names), Value::Attrs(set)) if set.partial.is_empty() => {
                    let entries = set
                        .entries
                        .iter()
                        .filter(|(k, _)| names.entries.contains_key(*k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    Value::Attrs(Rc::new(AttrSetValue {
                        entries,
                        partial: Vec::new(),
                    }))
                }
                _ => unknown(),
            },
            Builtin::Fix => {
                let f = self.force(&args[0]);
                let fixed = Thunk::fix(f, pos, text);
                self.force(&fixed)
            }
            Builtin::RecursiveUpdate => {
                let (a, b) = (self.force(&args[0]), self.force(&args[1]));
                self.recursive_update(a, b, text, 0)
            }
            Builtin::MapAttrs => {
                let f = self.force(&args[0]);
                match self.force(&args[1]) {
                    Value::Attrs(set) => {
                        let mut entries = BTreeMap::new();
                        for (key, value) in set.entries.iter() {
                            let mapped = self.apply_to_attr(&f, key, value, pos, text);
                            entries.insert(key.clone(), Thunk::value(mapped));
                        }
                        Value::Attrs(Rc::new(AttrSetValue {
                            entries,
                            partial: set.partial.clone(),
                        }))
                    }
                    _ => unknown(),
                }
            }
            Builtin::OptionalString
            | Builtin::Optional
            | Builtin::Optionals
            | Builtin::OptionalAttrs => match self.force(&args[0]) {
                Value::Bool(true) if *builtin == Builtin::Optional => {
                    Value::List(Rc::new(vec![args[1].clone()]))
                }
                Value::Bool(true) => self.force(&args[1]),
                Value::Bool(false) => match builtin {
                    Builtin::OptionalString => Value::Str(String::new()),
                    Builtin::Optional | Builtin::Optionals => Value::List(Rc::new(Vec::new())),
                    _ => Value::Attrs(Rc::new(AttrSetValue::default())),
                },
                // Attributes that exist on some systems: kept, each marked conditional.
                Value::Unknown(condition) if *builtin == Builtin::OptionalAttrs => {
                    match self.force(&args[1]) {
                        Value::Attrs(set) => self.conditional_set(&set, pos, &condition),
                        _ => unknown(),
                    }
                }
                _ => unknown(),
            },
            Builtin::Source(name) => {
                // `lib.filterSource filter src` takes the source second.
                let source = if name == "filterSource" {
                    &args[1]
                } else {
                    &args[0]
                };
                let source = self.force(source);
                match self.source_dir(&source, 0) {
                    Some(dir) => Value::Source(dir, text.to_string()),
                    None => unknown(),
                }
            }
            Builtin::NameValuePair => {
                let mut entries = BTreeMap::new();
                entries.insert("name".to_string(), args[0].clone());
                entries.insert("value".to_string(), args[1].clone());
                Value::Attrs(Rc::new(AttrSetValue {
                    entries,
                    partial: Vec::new(),
                }))
            }
            Builtin::ToString => to_text(&self.force(&args[0])).map_or_else(unknown, Value::Str),
            Builtin::ConcatStringsSep => match (self.force(&args[0]), self.force(&args[1])) {
                (Value::Str(sep), Value::List(items)) => {
                    let mut parts = Vec::new();
                    for item in items.iter() {
                        match to_text(&self.force(item)) {
                            Some(text) => parts.push(text),
                            None => return unknown(),
                        }
                    }
                    Value::Str(parts.join(&sep))
                }
                _ => unknown(),
            },
        }
    }

    /// `f name value`, as `mapAttrs` and `mapAttrs'` call it for each attribute.
    fn apply_to_attr(
        &mut self,
        f: &Value,
        name: &str,
        value: &Thunk,
        pos: Pos,
        text: &str,
    ) -> Value {
        let named = self.apply(
            f.clone(),
            Thunk::value(Value::Str(name.to_string())),
            pos,
            text,
        );
        self.apply(named, value.clone(), pos, text)
    }

    /// `lib.flatten`: false when a part is not a known list or value.
    fn flatten_into(&mut self, thunk: Thunk, out: &mut Vec<Thunk>, depth: usize) -> bool {
        if depth > 32 {
            return false;
        }
        match self.force(&thunk) {
            Value::List(items) => items
                .iter()
                .all(|item| self.flatten_into(item.clone(), out, depth + 1)),
            Value::Unknown(_) if depth == 0 => false,
            _ => {
                out.push(thunk);
                true
            }
        }
    }

    /// `lib.recursiveUpdate a b`: `b` wins, except where both hold sets (merged).
    fn recursive_update(&mut self, a: Value, b: Value, text: &str, depth: usize) -> Value {
        match (a, b) {
            (Value::Attrs(a), Value::Attrs(b)) if depth < 32 => {
                let mut merged = (*a).clone();
                merged.partial.extend(b.partial.iter().cloned());
                for (key, theirs) in b.entries.iter() {
                    let value = match a.entries.get(key) {
                        Some(ours) => {
                            let (ours, theirs_value) = (self.force(ours), self.force(theirs));
                            if matches!((&ours, &theirs_value), (Value::Attrs(_), Value::Attrs(_)))
                            {
                                Thunk::value(self.recursive_update(
                                    ours,
                                    theirs_value,
                                    text,
                                    depth + 1,
                                ))
                            } else {
                                theirs.clone()
                            }
                        }
                        None => theirs.clone(),
                    };
                    merged.entries.insert(key.clone(), value);
                }
                Value::Attrs(Rc::new(merged))
            }
            (Value::Attrs(a), Value::Unknown(what)) | (Value::Unknown(what), Value::Attrs(a)) => {
                let mut merged = (*a).clone();
                merged.partial.push(what);
                Value::Attrs(Rc::new(merged))
            }
            _ => Value::Unknown(text.to_string()),
        }
    }

    /// `if` with a condition it cannot decide: when one branch is `{ }` and the other an
    /// attribute set, that set with each attribute conditional (`// (if c then { … } else
    /// { })`); otherwise unknown.
    fn unknown_if(&mut self, if_else: &ast::IfElse, env: &Env, file: usize) -> Value {
        let unknown = Value::Unknown(text_of(if_else));
        let condition = if_else.condition().map(|c| text_of(&c)).unwrap_or_default();
        let (Some(body), Some(else_body)) = (if_else.body(), if_else.else_body()) else {
            return unknown;
        };
        let is_empty = |e: &Expr| matches!(e, Expr::AttrSet(set) if set.rec_token().is_none() && set.entries().next().is_none());
        let pos = self.pos(if_else, file);
        let (branch, condition) = match (is_empty(&body), is_empty(&else_body)) {
            (false, true) => (body, condition),
            (true, false) => (else_body, format!("!({condition})")),
            _ => return unknown,
        };
        match self.eval(&branch, env, file) {
            Value::Attrs(set) => self.conditional_set(&set, pos, &condition),
            _ => unknown,
        }
    }

    /// `set` with each attribute marked as existing only when `condition` (unknown) holds.
    fn conditional_set(&mut self, set: &AttrSetValue, pos: Pos, condition: &str) -> Value {
        let source = Thunk::value(Value::Attrs(Rc::new(set.clone())));
        let mut entries = BTreeMap::new();
        for (name, original) in &set.entries {
            let thunk = Thunk::select(source.clone(), name, name);
            if let Some(at) = self.attr_position(original) {
                self.attr_pos.insert(thunk.key(), (thunk.clone(), at));
            }
            self.conditional
                .insert(thunk.key(), (thunk.clone(), pos, condition.to_string()));
            entries.insert(name.clone(), thunk);
        }
        Value::Attrs(Rc::new(AttrSetValue {
            entries,
            partial: set.partial.clone(),
        }))
    }

    /// `drv // { … }`: the attributes are merged into the derivation's result, never passed
    /// to crane. Said when that looks like a mistake: the call is not parenthesised
    /// (`craneLib.buildPackage args // { … }`) or what is merged in is crane's own.
    fn merged_into_derivation(
        &mut self,
        op: &ast::BinOp,
        derivation: &CraneDerivation,
        merged: &Value,
        file: usize,
    ) {
        let crane_attrs = super::collect::crane_own_attrs();
        let names: Vec<String> = match merged {
            Value::Attrs(set) => set.entries.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let crane_names: Vec<&String> = names
            .iter()
            .filter(|name| crane_attrs.contains(&name.as_str()) || *name == "env")
            .collect();
        let unparenthesised = matches!(op.lhs(), Some(Expr::Apply(_)));
        if !unparenthesised && crane_names.is_empty() {
            return;
        }
        let shown = if crane_names.is_empty() {
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>()
        } else {
            crane_names.iter().map(|n| format!("`{n}`")).collect()
        };
        let ignored = if crane_names.is_empty() {
            String::new()
        } else {
            format!(
                " (crane never sees its {}, so it is ignored)",
                crane_names
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let location = self.location(self.pos(op, file));
        let warning = format!(
            "{location}: the attributes after `//` ({}) are merged into the result of craneLib.{}, not passed to crane{ignored}; write `craneLib.{} (args // {{ … }})` to pass them",
            shown.join(", "),
            derivation.function,
            derivation.function
        );
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The local directory a source is made from: a path, a source made from one, a set
    /// naming one (`{ src = ./x; }`, `{ root = ./x; }`, `{ path = ./x; }`), the flake itself.
    fn source_dir(&mut self, value: &Value, depth: usize) -> Option<PathBuf> {
        match value {
            Value::Path(path, _) | Value::Source(path, _) => Some(path.clone()),
            Value::Attrs(set) if depth < 4 => {
                if let Some((outputs, dir)) = &self.self_dir {
                    if Rc::as_ptr(set) as usize == *outputs {
                        return Some(dir.clone());
                    }
                }
                let inner = ["src", "root", "path"]
                    .iter()
                    .find_map(|key| set.entries.get(*key).cloned())?;
                let inner = self.force(&inner);
                self.source_dir(&inner, depth + 1)
            }
            _ => None,
        }
    }

    /// A text equal for values that are alike (unknown ones: written alike), for telling
    /// apart toolchains made from unknown values.
    fn shape(&mut self, value: &Value, depth: usize, out: &mut String) {
        match value {
            Value::Attrs(set) if depth < 4 => {
                out.push('{');
                for (key, thunk) in set.entries.iter() {
                    out.push_str(&format!("{key:?}="));
                    let value = self.force(thunk);
                    self.shape(&value, depth + 1, out);
                    out.push(';');
                }
                out.push('}');
            }
            Value::List(items) if depth < 4 => {
                out.push('[');
                for item in items.iter() {
                    let value = self.force(item);
                    self.shape(&value, depth + 1, out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Str(s) | Value::PartialStr(s, _) => out.push_str(&format!("{s:?}")),
            Value::Unknown(what) | Value::Source(_, what) => out.push_str(&format!("?{what:?}")),
            Value::Path(path, _) => out.push_str(&format!("{path:?}")),
            Value::Bool(b) => out.push_str(&b.to_string()),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Derivation(d) => out.push_str(&format!("drv#{}", d.id)),
            other => out.push_str(other.type_name()),
        }
    }

    /// Evaluates the flake's own file (which it may import, too).
    pub fn eval_file(&mut self, text: &str, path: &Path) -> Result<Value> {
        let (file, expr) = self.parse(text, path)?;
        let thunk = Thunk::pending(expr, self.root_env(), file);
        self.imported.insert(path.to_path_buf(), thunk.clone());
        Ok(self.force(&thunk))
    }

    /// Evaluates another Nix file of the flake (cached by path). One that does not exist
    /// or cannot be read is bad input; one outside the flake's directory is unknown.
    pub fn import(&mut self, path: &Path, written: &str, pos: Pos) -> Value {
        let path = if path.is_dir() {
            path.join("default.nix")
        } else {
            path.to_path_buf()
        };
        if let Some(thunk) = self.imported.get(&path) {
            let thunk = thunk.clone();
            // Whenever the file is needed, it fails: Nix would too.
            if matches!(*thunk.0.borrow(), ThunkState::Evaluating) {
                let location = self.location(pos);
                return self.fail_with(format!(
                    "{location}: cannot import {written}: it imports itself while it is being evaluated (infinite recursion)"
                ));
            }
            return self.force(&thunk);
        }
        if !path.starts_with(&self.base_dir) {
            self.warnings.push(format!(
                "{}: import of {written} outside the flake's directory; its value is unknown",
                self.location(pos)
            ));
            return Value::Unknown(format!("import {written}"));
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                let why = match err.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    std::io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
                    _ => err.to_string(),
                };
                let location = self.location(pos);
                return self.fail_with(format!("{location}: cannot import {written}: {why}"));
            }
        };
        match self.parse(&text, &path) {
            Ok((file, expr)) => {
                let env = self.root_env();
                let thunk = Thunk::pending(expr, env, file);
                self.imported.insert(path, thunk.clone());
                self.force(&thunk)
            }
            Err(err) => {
                self.fatal.get_or_insert(err);
                Value::Unknown(format!("import {written}"))
            }
        }
    }
}

fn builtin(b: Builtin) -> Value {
    Value::Builtin(b, Rc::new(Vec::new()))
}

fn arity(builtin: &Builtin) -> usize {
    match builtin {
        Builtin::Import
        | Builtin::ListToAttrs
        | Builtin::AttrNames
        | Builtin::ToString
        | Builtin::AttrValues
        | Builtin::Flatten
        | Builtin::MakeOverridable
        | Builtin::FunctionArgs
        | Builtin::Fix
        | Builtin::MkLib
        | Builtin::CraneLibOverride(..) => 1,
        Builtin::Source(name) => match name.as_str() {
            "sourceFilesBySuffices" | "sourceByRegex" | "filterSource" => 2,
            _ => 1,
        },
        _ => 2,
    }
}

/// nixpkgs `lib` / `builtins` functions the evaluator implements.
fn lib_function(name: &str) -> Option<Builtin> {
    Some(match name {
        "removeAttrs" => Builtin::RemoveAttrs,
        "map" => Builtin::Map,
        "listToAttrs" => Builtin::ListToAttrs,
        "attrNames" => Builtin::AttrNames,
        "genAttrs" => Builtin::GenAttrs,
        "mapAttrs" => Builtin::MapAttrs,
        "optionalString" => Builtin::OptionalString,
        "optional" => Builtin::Optional,
        "optionals" => Builtin::Optionals,
        "mapAttrs'" => Builtin::MapAttrsRenamed,
        "attrValues" => Builtin::AttrValues,
        "flatten" => Builtin::Flatten,
        "elem" => Builtin::Elem,
        "makeOverridable" => Builtin::MakeOverridable,
        "functionArgs" => Builtin::FunctionArgs,
        "intersectAttrs" => Builtin::IntersectAttrs,
        "fix" => Builtin::Fix,
        "recursiveUpdate" => Builtin::RecursiveUpdate,
        "callPackage" | "callPackages" => Builtin::CallPackage,
        "optionalAttrs" => Builtin::OptionalAttrs,
        "nameValuePair" => Builtin::NameValuePair,
        "toString" => Builtin::ToString,
        "concatStringsSep" => Builtin::ConcatStringsSep,
        "import" => Builtin::Import,
        _ => return None,
    })
}

/// `BASE.NAME` is a function making a source from a local directory: nixpkgs' source
/// filters (any `lib`), `lib.fileset.toSource`, `builtins.path`.
fn source_function(base: &str, name: &str) -> bool {
    let last = base.rsplit('.').next().unwrap_or(base);
    match name {
        "cleanSource"
        | "cleanSourceWith"
        | "sourceFilesBySuffices"
        | "sourceByRegex"
        | "filterSource" => true,
        "toSource" => last == "fileset",
        "path" => last == "builtins",
        _ => false,
    }
}

/// An attribute of a crane lib: one of crane's functions, an override, or something
/// else (`cleanCargoSource`, `path`, ...) whose result is unknown.
fn crane_lib_attr(toolchain: &Toolchain, name: &str, described: &str) -> Value {
    match name {
        "overrideToolchain" => builtin(Builtin::CraneLibOverride(toolchain.clone(), true)),
        "overrideScope" | "overrideScope'" => {
            builtin(Builtin::CraneLibOverride(toolchain.clone(), false))
        }
        "craneLib" => Value::CraneLib(toolchain.clone()),
        "callPackage" => builtin(Builtin::CallPackage),
        "cleanCargoSource" | "path" | "mkDummySrc" => builtin(Builtin::Source(name.to_string())),
        _ if is_system_name(name) => Value::CraneLib(toolchain.clone()),
        _ if CraneFunction::from_name(name).is_some() => {
            Value::CraneFunction(toolchain.clone(), name.to_string())
        }
        _ => Value::Unknown(described.to_string()),
    }
}

/// A system in an output path: `x86_64-linux`, or one the evaluator cannot know
/// (`${system}`).
pub fn is_system_name(segment: &str) -> bool {
    segment.starts_with("${")
        || [
            "-linux", "-darwin", "-windows", "-freebsd", "-netbsd", "-openbsd", "-none",
        ]
        .iter()
        .any(|os| segment.ends_with(os))
}

/// What flake-utils' `eachDefaultSystem f` / `eachSystem systems f` make of `f`'s result
/// for the placeholder system (its outputs, each under the system: `packages.${system}`);
/// `each*SystemPassThrough` gives the result as is, `each*SystemMap` puts it under the
/// system. `None` for any other function.
fn flake_utils_frame(
    function: &str,
    closure: &Closure,
    result: &Value,
    text: &str,
) -> Option<Value> {
    let name = function
        .split_whitespace()
        .next()
        .and_then(|f| f.rsplit('.').next())
        .unwrap_or_default();
    let system = match closure.lambda.param() {
        Some(ast::Param::IdentParam(param)) => param
            .ident()
            .and_then(|i| i.ident_token())
            .map_or("system".to_string(), |t| t.text().to_string()),
        _ => "system".to_string(),
    };
    let key = format!("${{{system}}}");
    let per_system = |value: Thunk| {
        Value::Attrs(Rc::new(AttrSetValue {
            entries: BTreeMap::from([(key.clone(), value)]),
            partial: vec![text.to_string()],
        }))
    };
    match (name, result) {
        ("eachDefaultSystem" | "eachSystem", Value::Attrs(set)) => {
            let entries = set
                .entries
                .iter()
                .map(|(output, value)| (output.clone(), Thunk::value(per_system(value.clone()))))
                .collect();
            Some(Value::Attrs(Rc::new(AttrSetValue {
                entries,
                partial: vec![text.to_string()],
            })))
        }
        ("eachDefaultSystemPassThrough" | "eachSystemPassThrough", Value::Attrs(_)) => {
            Some(result.clone())
        }
        ("eachDefaultSystemMap" | "eachSystemMap", _) => {
            Some(per_system(Thunk::value(result.clone())))
        }
        _ => None,
    }
}

/// `craneLib`, `args.craneLib`, `myCraneLib`: a name that says it is a crane lib.
fn looks_like_crane_lib(text: &str) -> bool {
    let last = text.rsplit('.').next().unwrap_or(text);
    last.to_ascii_lowercase().contains("cranelib")
}

/// Text of a value inside a string (`"${x}"`), when known.
fn to_text(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Path(_, text) => Some(text.clone()),
        Value::Bool(true) => Some("1".into()),
        Value::Bool(false) | Value::Null => Some(String::new()),
        _ => None,
    }
}

fn simple_eq(a: &Value, b: &Value) -> Option<bool> {
    Some(match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Unknown(_), _) | (_, Value::Unknown(_)) => return None,
        (Value::PartialStr(..), _) | (_, Value::PartialStr(..)) => return None,
        (Value::Null | Value::Bool(_) | Value::Int(_) | Value::Str(_), _) => false,
        _ => return None,
    })
}

/// Parts of a string: known text, or an interpolation that could not be known.
enum Piece {
    Known(String),
    Missing((Pos, String)),
}

/// cargo options that take a value: left out with an unknown value after them.
const VALUE_FLAGS: &[&str] = &[
    "-p",
    "--package",
    "-F",
    "--features",
    "--target",
    "--profile",
    "--bin",
    "--example",
    "--test",
    "--bench",
    "--exclude",
    "--manifest-path",
    "--target-dir",
    "-j",
    "--jobs",
    "--config",
    "-Z",
];

/// Joins string pieces, leaving out the unknown ones: with them the rest of a word they
/// are glued to (`--features=${x}`) and a cargo flag that takes them as its value
/// (`-p ${x}`). `None` when nothing but whitespace is known.
fn join_pieces(pieces: Vec<Piece>) -> Option<Value> {
    let mut out = String::new();
    let mut missing = Vec::new();
    // After an unknown piece, the rest of the word it was glued to is dropped too.
    let mut skipping_word = false;
    for piece in pieces {
        match piece {
            Piece::Known(text) => {
                let text = if skipping_word {
                    let start = text.find(char::is_whitespace).unwrap_or(text.len());
                    skipping_word = start == text.len();
                    &text[start..]
                } else {
                    &text[..]
                };
                out.push_str(text);
            }
            Piece::Missing(m) => {
                // The word the piece is glued to, then a flag that takes it as a value.
                let glued = !out.is_empty() && !out.ends_with(char::is_whitespace);
                out.truncate(out.trim_end_matches(|c: char| !c.is_whitespace()).len());
                if !glued {
                    let kept = out.trim_end();
                    let word_start = kept.trim_end_matches(|c: char| !c.is_whitespace()).len();
                    if VALUE_FLAGS.contains(&&kept[word_start..]) {
                        out.truncate(word_start);
                    }
                }
                skipping_word = true;
                missing.push(m);
            }
        }
    }
    if missing.is_empty() {
        return Some(Value::Str(out));
    }
    if out.trim().is_empty() {
        return None;
    }
    Some(Value::PartialStr(out, Rc::new(missing)))
}

/// Attribute paths being assembled: `a.b = 1; a.c = 2;` builds one nested set.
enum Pending {
    Thunk(Thunk),
    Nested(BTreeMap<String, Pending>),
}

impl Pending {
    fn into_thunk(self) -> Thunk {
        match self {
            Pending::Thunk(thunk) => thunk,
            Pending::Nested(entries) => Thunk::value(Value::Attrs(Rc::new(AttrSetValue {
                entries: entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_thunk()))
                    .collect(),
                partial: Vec::new(),
            }))),
        }
    }
}

fn insert_path(tree: &mut BTreeMap<String, Pending>, names: &[String], thunk: Thunk) {
    let Some((first, rest)) = names.split_first() else {
        return;
    };
    if rest.is_empty() {
        tree.insert(first.clone(), Pending::Thunk(thunk));
        return;
    }
    let entry = tree
        .entry(first.clone())
        .or_insert_with(|| Pending::Nested(BTreeMap::new()));
    if let Pending::Nested(inner) = entry {
        insert_path(inner, rest, thunk);
    }
}

fn normalize(path: &Path) -> PathBuf {
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

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}
