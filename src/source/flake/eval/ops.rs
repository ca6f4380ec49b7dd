//! Operators (`//`, `++`, `+`, `==`, `|>`, ...) and strings with interpolations.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::path::{Path, PathBuf};
use std::rc::Rc;

use rnix::ast::{self, BinOpKind, Expr, InterpolPart};

use super::files::{FileId, Pos};
use super::value::{Env, ErrorKind, Thunk, Value};
use super::{Evaluator, text_of};
use crate::source_set::tree::normalize;

impl Evaluator {
    /// A binary operation. A chain of them down the left (`a + b + c`, thousands long) is
    /// evaluated in a loop from the innermost, not by recursion.
    pub(super) fn eval_binop(&mut self, op: &ast::BinOp, env: &Env, file: FileId) -> Value {
        let mut chain = vec![op.clone()];
        while let Some(Expr::BinOp(inner)) = chain.last().and_then(|o| o.lhs()) {
            chain.push(inner);
        }
        let innermost = chain.last().and_then(|o| o.lhs());
        let mut lhs = innermost.map_or(Value::Null, |e| self.eval(&e, env, file));
        for op in chain.iter().rev() {
            if let Some(exceeded) = self.step(Pos::of(op, file), || text_of(op)) {
                return exceeded;
            }
            lhs = self.combine(op, lhs, env, file);
        }
        lhs
    }

    /// `lhs OP rhs`, with `lhs` evaluated.
    fn combine(&mut self, op: &ast::BinOp, lhs: Value, env: &Env, file: FileId) -> Value {
        let Some(kind) = op.operator() else {
            return Value::Unknown(text_of(op));
        };
        // `&&` and `||` short-circuit.
        match (kind, &lhs) {
            (_, Value::Error(_)) => return lhs,
            (BinOpKind::And, Value::Bool(false)) => return Value::Bool(false),
            (BinOpKind::Or, Value::Bool(true)) => return Value::Bool(true),
            (BinOpKind::Implication, Value::Bool(false)) => return Value::Bool(true),
            _ => {}
        }
        let rhs = op.rhs().map_or(Value::Null, |e| self.eval(&e, env, file));
        let unknown = || Value::Unknown(text_of(op));
        match (kind, lhs, rhs) {
            (_, _, failed @ Value::Error(_)) => failed,
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
                if let Some(exceeded) = self.charge_list(a.len() + b.len(), Pos::of(op, file)) {
                    return exceeded;
                }
                Value::List(Rc::new(a.iter().chain(b.iter()).cloned().collect()))
            }
            // A list joined to one that is not known (`[ xtask ] ++ lib.optionals …`)
            // is not known either, but what it holds may be a crane derivation (a tool
            // built with crane): searched for crane calls.
            (BinOpKind::Concat, known @ Value::List(_), Value::Unknown(_))
            | (BinOpKind::Concat, Value::Unknown(_), known @ Value::List(_)) => {
                self.push_frame(known);
                unknown()
            }
            (BinOpKind::Add, Value::Str(a), Value::Str(b)) => {
                if let Some(exceeded) = self.charge_string(a.len() + b.len(), Pos::of(op, file)) {
                    return exceeded;
                }
                Value::Str(a + &b)
            }
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
                let joined = join_pieces(pieces).unwrap_or_else(unknown);
                if let Value::Str(text) | Value::PartialStr(text, _) = &joined {
                    if let Some(exceeded) = self.charge_string(text.len(), Pos::of(op, file)) {
                        return exceeded;
                    }
                }
                joined
            }
            (
                kind @ (BinOpKind::Add | BinOpKind::Sub | BinOpKind::Mul | BinOpKind::Div),
                Value::Int(a),
                Value::Int(b),
            ) => integer_arithmetic(kind, a, b, Pos::of(op, file)),
            (
                kind @ (BinOpKind::Add | BinOpKind::Sub | BinOpKind::Mul | BinOpKind::Div),
                a @ (Value::Int(_) | Value::Float(_)),
                b @ (Value::Int(_) | Value::Float(_)),
            ) => float_arithmetic(kind, &a, &b, Pos::of(op, file)),
            (BinOpKind::Add, Value::Path(p, text), Value::Str(b)) => {
                append_to_path(&p, &b, &format!("{text} + {b:?}"))
            }
            // `root + /sub/package.nix`: the second path's text appended to the first.
            (BinOpKind::Add, Value::Path(p, text), Value::Path(_, b)) => {
                append_to_path(&p, &b, &format!("{text} + {b}"))
            }
            (BinOpKind::Add, Value::Source(dir, text, _), Value::Str(b)) => {
                append_to_path(&dir, &b, &format!("{text} + {b:?}"))
            }
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
                self.apply(
                    function,
                    Thunk::value(value),
                    Pos::of(op, file),
                    &text_of(op),
                )
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
    pub(super) fn equal(&mut self, a: &Value, b: &Value, depth: usize) -> Option<bool> {
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

    /// A string; interpolations it cannot know are left out (with the flag before them
    /// when it takes a value) and listed, unless nothing but them is known. One that
    /// fails makes the string fail.
    pub(super) fn eval_string(&mut self, s: &ast::Str, env: &Env, file: FileId) -> Value {
        let mut pieces = Vec::new();
        for part in s.normalized_parts() {
            match part {
                InterpolPart::Literal(text) => pieces.push(Piece::Known(text)),
                InterpolPart::Interpolation(interpol) => {
                    let value = interpol
                        .expr()
                        .map_or(Value::Null, |e| self.eval(&e, env, file));
                    match value {
                        failed @ Value::Error(_) => return failed,
                        Value::PartialStr(text, missing) => {
                            pieces.push(Piece::Known(text));
                            pieces.extend(missing.iter().map(|m| Piece::Missing(m.clone())));
                        }
                        // A derivation in another derivation's script is built for it:
                        // searched for crane calls like a frame.
                        derivation @ Value::Derivation(_) => {
                            self.push_frame(derivation);
                            pieces.push(Piece::Missing((
                                Pos::of(&interpol, file),
                                text_of(&interpol),
                            )));
                        }
                        other => match self.path_text(&other).or_else(|| to_text(&other)) {
                            Some(text) => pieces.push(Piece::Known(text)),
                            None => pieces.push(Piece::Missing((
                                Pos::of(&interpol, file),
                                text_of(&interpol),
                            ))),
                        },
                    }
                }
            }
        }
        join_pieces(pieces).unwrap_or_else(|| Value::Unknown(text_of(s)))
    }
}

/// Nix's integer `+ - * /`: an overflow or a division by zero fails, as in Nix.
fn integer_arithmetic(kind: BinOpKind, a: i64, b: i64, pos: Pos) -> Value {
    let (result, verb, sign) = match kind {
        BinOpKind::Add => (a.checked_add(b), "adding", "+"),
        BinOpKind::Sub => (a.checked_sub(b), "subtracting", "-"),
        BinOpKind::Mul => (a.checked_mul(b), "multiplying", "*"),
        _ if b == 0 => {
            return Value::error(ErrorKind::Other, "division by zero".into(), Some(pos));
        }
        _ => (a.checked_div(b), "dividing", "/"),
    };
    result.map_or_else(
        || {
            Value::error(
                ErrorKind::Other,
                format!("integer overflow in {verb} {a} {sign} {b}"),
                Some(pos),
            )
        },
        Value::Int,
    )
}

/// `+ - * /` where one side is a float: a float, as in Nix.
fn float_arithmetic(kind: BinOpKind, a: &Value, b: &Value, pos: Pos) -> Value {
    let as_float = |v: &Value| match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    };
    let (a, b) = (as_float(a), as_float(b));
    Value::Float(match kind {
        BinOpKind::Add => a + b,
        BinOpKind::Sub => a - b,
        BinOpKind::Mul => a * b,
        _ if b == 0.0 => {
            return Value::error(ErrorKind::Other, "division by zero".into(), Some(pos));
        }
        _ => a / b,
    })
}

/// `path + "/x.nix"` (or `+ /x.nix`): the path with the text appended, `.` and `..` taken
/// out as Nix does.
fn append_to_path(path: &Path, appended: &str, written: &str) -> Value {
    Value::Path(
        normalize(&PathBuf::from(format!("{}{appended}", path.display()))),
        written.to_string(),
    )
}

/// Text of a value inside a string (`"${x}"`), when known.
pub(super) fn to_text(value: &Value) -> Option<String> {
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
                    let rest = text.trim_start_matches(|c: char| !c.is_whitespace());
                    skipping_word = rest.is_empty();
                    rest
                } else {
                    &text
                };
                out.push_str(text);
            }
            Piece::Missing(m) => {
                // The word the piece is glued to, then a flag that takes it as a value.
                let glued = !out.is_empty() && !out.ends_with(char::is_whitespace);
                out.truncate(out.trim_end_matches(|c: char| !c.is_whitespace()).len());
                if !glued {
                    let kept = out.trim_end();
                    let last_word = kept.rsplit(char::is_whitespace).next().unwrap_or_default();
                    if crate::cargo_options::takes_value(last_word) {
                        out.truncate(kept.len() - last_word.len());
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
