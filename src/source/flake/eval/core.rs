//! The core: forcing thunks, evaluating expressions, applying functions.

use std::collections::BTreeMap;
use std::rc::Rc;

use rnix::ast::{self, AstToken, Expr, UnaryOpKind};
use rowan::ast::AstNode;

use super::files::{FileId, Pos};
use super::value::{Closure, Env, ErrorKind, Thunk, ThunkState, Value};
use super::{Evaluator, MAX_DEPTH, strict, text_of};

impl Evaluator {
    pub(crate) fn force(&mut self, thunk: &Thunk) -> Value {
        if let Some((_, forced)) = self.forcing.last_mut() {
            forced.push(thunk.clone());
        }
        if let Some(value) = thunk.peek() {
            return value;
        }
        let state = thunk.start();
        self.forcing.push((thunk.clone(), Vec::new()));
        let value = match state {
            ThunkState::Done(value) => value,
            ThunkState::Evaluating => self.recursion(thunk),
            ThunkState::Pending(expr, env, file) => {
                let pos = Pos::of(&expr, file);
                self.evaluating.insert(thunk.id(), (pos, expr.clone()));
                let value = self.eval(&expr, &env, file);
                self.evaluating.remove(&thunk.id());
                value
            }
            ThunkState::Select(source, name, described, pos) => {
                let value = self.force(&source);
                self.select_attr(value, &name, &described, None)
                    .or_fail(pos, described)
            }
            ThunkState::Apply(function, arg, pos, text) => self.apply(function, arg, pos, &text),
        };
        if let (Some((_, forced)), Value::Unknown(what)) = (self.forcing.pop(), &value) {
            // An unknown value passed on from a thunk it forced (`default = pkgs.x;`,
            // `inherit (set) x;`) was made from that thunk's frames.
            let inherited: Vec<_> = forced
                .iter()
                .filter(|f| matches!(f.peek(), Some(Value::Unknown(w)) if w == *what))
                .flat_map(|f| self.frames_of(f))
                .collect();
            if !inherited.is_empty() {
                let own = self.frames_by_thunk.entry(thunk.id()).or_default();
                for frame in inherited {
                    if !own.contains(&frame) {
                        own.push(frame);
                    }
                }
            }
        }
        thunk.set(ThunkState::Done(value.clone()));
        value
    }

    /// A thunk forced while it is being forced: Nix's infinite recursion (an unknown value
    /// where the evaluator forces what Nix may not).
    fn recursion(&mut self, thunk: &Thunk) -> Value {
        if self.speculative > 0 {
            return Value::Unknown("infinite recursion".into());
        }
        // Where the thunk, else the innermost thunk being evaluated, is written.
        let innermost = self.evaluating.get(&thunk.id()).cloned().or_else(|| {
            self.forcing
                .iter()
                .rev()
                .find_map(|(t, _)| self.evaluating.get(&t.id()).cloned())
        });
        match innermost {
            Some((pos, expr)) => self.fail(
                pos,
                &format!("infinite recursion evaluating `{}`", text_of(&expr)),
            ),
            None => {
                self.reject("infinite recursion");
                Value::error(ErrorKind::Other, "infinite recursion".into(), None)
            }
        }
    }

    /// Forces the thunk a name or attribute `what` at `pos` refers to: an infinite
    /// recursion is reported there.
    pub(super) fn force_named(&mut self, thunk: &Thunk, pos: Pos, what: &str) -> Value {
        if self.speculative == 0 && thunk.is_evaluating() {
            return self.fail(pos, &format!("infinite recursion evaluating `{what}`"));
        }
        self.force(thunk)
    }

    pub(crate) fn eval(&mut self, expr: &Expr, env: &Env, file: FileId) -> Value {
        if self.fatal.is_some() {
            return Value::error(ErrorKind::Other, "an earlier error".into(), None);
        }
        if self.depth >= MAX_DEPTH {
            return self.fail(
                Pos::of(expr, file),
                &format!(
                    "evaluation nested too deeply (more than {MAX_DEPTH} levels) at `{}`: an endless recursion, or more than cache-miss can follow",
                    text_of(expr)
                ),
            );
        }
        if let Some(exceeded) = self.step(Pos::of(expr, file), || text_of(expr)) {
            return exceeded;
        }
        self.depth += 1;
        let value = self.eval_inner(expr, env, file);
        self.depth -= 1;
        value
    }

    fn eval_inner(&mut self, expr: &Expr, env: &Env, file: FileId) -> Value {
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
                self.eval_path(p.parts(), true, p.syntax().text().to_string(), env, file)
            }
            Expr::PathAbs(p) => {
                self.eval_path(p.parts(), false, p.syntax().text().to_string(), env, file)
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
                // The common case needs no text of the call (writing it costs more than
                // the call).
                if let Value::Lambda(closure) = f {
                    return self.call(&closure, arg);
                }
                self.apply(f, arg, Pos::of(apply, file), &text_of(apply))
            }
            Expr::Select(select) => self.eval_select(select, env, file),
            Expr::HasAttr(has) => self.eval_has_attr(has, env, file),
            Expr::BinOp(op) => self.eval_binop(op, env, file),
            Expr::UnaryOp(op) => {
                let value = op.expr().map_or(Value::Null, |e| self.eval(&e, env, file));
                match (op.operator(), value) {
                    (_, failed @ Value::Error(_)) => failed,
                    (Some(UnaryOpKind::Invert), Value::Bool(b)) => Value::Bool(!b),
                    (Some(UnaryOpKind::Negate), Value::Int(i)) => match i.checked_neg() {
                        Some(negated) => Value::Int(negated),
                        // Nix negates as `0 - i`.
                        None => Value::error(
                            ErrorKind::Other,
                            format!("integer overflow in subtracting 0 - {i}"),
                            Some(Pos::of(op, file)),
                        ),
                    },
                    (Some(UnaryOpKind::Negate), Value::Float(f)) => Value::Float(-f),
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
                    failed @ Value::Error(_) => return failed,
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
            Expr::Assert(assert) => self.eval_assert(assert, env, file),
            Expr::LegacyLet(_) | Expr::Error(_) | Expr::CurPos(_) => Value::Unknown(text_of(expr)),
        }
    }

    /// `assert c; body`: fails when `c` is false; a condition it cannot decide is taken
    /// to hold.
    fn eval_assert(&mut self, assert: &ast::Assert, env: &Env, file: FileId) -> Value {
        if let Some(condition) = assert.condition() {
            match self.eval(&condition, env, file) {
                failed @ Value::Error(_) => return failed,
                Value::Bool(false) => {
                    // Nix shows an operation in parentheses: `assertion '(n == 2)' failed`.
                    let shown = match condition {
                        Expr::BinOp(_) => format!("({})", text_of(&condition)),
                        _ => text_of(&condition),
                    };
                    return Value::error(
                        ErrorKind::Assertion,
                        format!("assertion '{shown}' failed"),
                        Some(Pos::of(assert, file)),
                    );
                }
                _ => {}
            }
        }
        assert
            .body()
            .map_or(Value::Null, |b| self.eval(&b, env, file))
    }

    fn eval_ident(&mut self, ident: &ast::Ident, env: &Env, file: FileId) -> Value {
        let Some(name) = ident.ident_token().map(|t| t.text().to_string()) else {
            return Value::Unknown(text_of(ident));
        };
        if let Some(thunk) = env.lookup(&name) {
            return self.force_named(&thunk, Pos::of(ident, file), &name);
        }
        for namespace in env.namespaces() {
            match self.force(&namespace) {
                Value::Attrs(set) => {
                    if let Some(thunk) = set.entries.get(&name) {
                        let thunk = thunk.clone();
                        return self.force(&thunk);
                    }
                }
                failed @ Value::Error(_) => return failed,
                // `with lib; unique …` is `lib.unique`, when that is known.
                Value::Unknown(base) => {
                    let described = format!("{base}.{name}");
                    match self.select_from_unknown(&base, &name, &described, None) {
                        Value::Unknown(_) => {}
                        known => return known,
                    }
                }
                _ => {}
            }
        }
        Value::Unknown(name)
    }

    /// Applies a function value to an argument.
    pub(crate) fn apply(&mut self, function: Value, arg: Thunk, pos: Pos, text: &str) -> Value {
        match function {
            Value::Lambda(closure) => self.call(&closure, arg),
            Value::Builtin(builtin, args) => {
                let mut args = (*args).clone();
                args.push(arg);
                if args.len() < builtin.arity() {
                    return Value::Builtin(builtin, Rc::new(args));
                }
                self.run_builtin(&builtin, &args, pos, text)
            }
            Value::CraneFunction(toolchain, name) => {
                self.crane_call(&toolchain, &name, arg, pos, text)
            }
            Value::Unknown(function) if super::nix_filter::is_nix_filter(&function) => {
                self.run_nix_filter("filter", &[arg], pos, text)
            }
            Value::Unknown(function) => self.apply_unknown(&function, arg, pos, text),
            // A set with `__functor` is called as `set.__functor set arg`.
            Value::Attrs(set) if set.entries.contains_key("__functor") => {
                let functor = self.force(&set.entries["__functor"]);
                let applied = self.apply(functor, Thunk::value(Value::Attrs(set)), pos, text);
                self.apply(applied, arg, pos, text)
            }
            failed @ Value::Error(_) => failed,
            other if other.is_known_non_set() => Value::error(
                ErrorKind::Other,
                format!(
                    "attempt to call something which is not a function but {}",
                    other.type_name()
                ),
                Some(pos),
            ),
            _ => Value::Unknown(text.to_string()),
        }
    }

    /// Calls a closure, binding its parameter (a name or a `{ a, b ? 1, ... }@args` pattern).
    pub(crate) fn call(&mut self, closure: &Closure, arg: Thunk) -> Value {
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
                let given = strict!(self, &arg);
                let scope = closure.env.child(BTreeMap::new());
                let names = match self.pattern_names(&pattern, &given, &scope, closure) {
                    Ok(mut names) => {
                        if let Some(bind) = pattern
                            .pat_bind()
                            .and_then(|b| b.ident())
                            .and_then(|i| i.ident_token())
                        {
                            names.insert(bind.text().to_string(), arg);
                        }
                        names
                    }
                    Err(failed) => return failed,
                };
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

    /// The names a `{ a, b ? 1, ... }` pattern binds for the argument `given`; a required
    /// name a known set lacks fails, as in Nix.
    fn pattern_names(
        &mut self,
        pattern: &ast::Pattern,
        given: &Value,
        scope: &Env,
        closure: &Closure,
    ) -> Result<BTreeMap<String, Thunk>, Value> {
        let mut names = BTreeMap::new();
        for entry in pattern.pat_entries() {
            let Some(name) = entry
                .ident()
                .and_then(|i| i.ident_token())
                .map(|t| t.text().to_string())
            else {
                continue;
            };
            let provided = match given {
                Value::Attrs(set) => set.entries.get(&name).cloned(),
                _ => None,
            };
            let thunk = match (provided, entry.default()) {
                (Some(thunk), _) => thunk,
                (None, Some(default)) => Thunk::pending(default, scope.clone(), closure.file),
                (None, None) => match given {
                    Value::Attrs(set) if set.is_complete() => {
                        return Err(Value::error(
                            ErrorKind::Other,
                            format!("function called without required argument '{name}'"),
                            Some(Pos::of(&closure.lambda, closure.file)),
                        ));
                    }
                    _ => Thunk::value(Value::Unknown(name.clone())),
                },
            };
            names.insert(name, thunk);
        }
        Ok(names)
    }
}

/// What selecting an attribute found.
pub(super) enum Selected {
    Found(Value),
    /// Not there: with the Nix error when it is certainly missing (`None`: as far as the
    /// evaluator knows, e.g. an unknown `${system}`).
    Missing(Option<String>),
}

impl Selected {
    /// The value; a missing attribute fails at `pos` (when certain), else is unknown.
    pub(super) fn or_fail(self, pos: Option<Pos>, described: String) -> Value {
        match self {
            Selected::Found(value) => value,
            Selected::Missing(Some(message)) => Value::error(ErrorKind::Other, message, pos),
            Selected::Missing(None) => Value::Unknown(described),
        }
    }
}

/// The attributes a pattern function sees when called with an attribute set built here
/// (`callPackage`'s automatic arguments): some may be missing from what is known.
pub(super) fn with_unknown_part(value: Value, what: &str) -> Value {
    match value {
        Value::Attrs(set) => {
            let mut set = (*set).clone();
            set.partial.push(what.to_string());
            Value::Attrs(Rc::new(set))
        }
        other => other,
    }
}
