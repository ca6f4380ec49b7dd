//! nixpkgs `lib` functions the evaluator implements (`genAttrs`, `mapAttrs`,
//! `optionalAttrs`, `recursiveUpdate`, `fix`, ...), and attributes that exist only under a
//! condition it cannot decide.

use std::collections::BTreeMap;
use std::rc::Rc;

use rnix::ast::{self, Expr, HasEntry};

use super::files::{FileId, Pos};
use super::value::{AttrSetValue, Builtin, Env, Thunk, Value};
use super::{Condition, Evaluator, strict, text_of};

/// The nixpkgs `lib` functions it implements, by name (those that are builtins too are
/// in `builtins::named_function`).
pub(super) fn lib_function(name: &str) -> Option<Builtin> {
    Some(match name {
        "genAttrs" => Builtin::GenAttrs,
        "mapAttrs" => Builtin::MapAttrs,
        "optionalString" => Builtin::OptionalString,
        "optional" => Builtin::Optional,
        "optionals" => Builtin::Optionals,
        "mapAttrs'" => Builtin::MapAttrsRenamed,
        "concatMapAttrs" => Builtin::ConcatMapAttrs,
        "flatten" => Builtin::Flatten,
        "makeOverridable" => Builtin::MakeOverridable,
        "recurseIntoAttrs" => Builtin::RecurseIntoAttrs,
        "fix" => Builtin::Fix,
        "recursiveUpdate" => Builtin::RecursiveUpdate,
        "optionalAttrs" => Builtin::OptionalAttrs,
        "nameValuePair" => Builtin::NameValuePair,
        "hasSuffix" => Builtin::HasSuffix,
        "hasPrefix" => Builtin::HasPrefix,
        "hasInfix" => Builtin::HasInfix,
        "removePrefix" => Builtin::RemovePrefix,
        "removeSuffix" => Builtin::RemoveSuffix,
        "importTOML" => Builtin::ImportToml,
        "cleanSourceFilter" => Builtin::PathFilter("cleanSourceFilter".into()),
        _ => return None,
    })
}

impl Evaluator {
    pub(super) fn run_lib_function(
        &mut self,
        builtin: &Builtin,
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Value {
        let unknown = || Value::Unknown(text.to_string());
        match builtin {
            Builtin::GenAttrs => self.gen_attrs(args, pos, text),
            Builtin::MapAttrsRenamed => self.map_attrs_renamed(args, pos, text),
            Builtin::Flatten => {
                let mut flat = Vec::new();
                match self.flatten_into(args[0].clone(), &mut flat, 0) {
                    Ok(true) => Value::List(Rc::new(flat)),
                    Ok(false) => unknown(),
                    Err(failed) => failed,
                }
            }
            Builtin::MakeOverridable => self.force(&args[0]),
            Builtin::RecurseIntoAttrs => match strict!(self, &args[0]) {
                Value::Attrs(set) => {
                    let mut marked = (*set).clone();
                    marked.entries.insert(
                        "recurseForDerivations".to_string(),
                        Thunk::value(Value::Bool(true)),
                    );
                    Value::Attrs(Rc::new(marked))
                }
                _ => unknown(),
            },
            Builtin::Fix => {
                let f = strict!(self, &args[0]);
                let fixed = Thunk::fix(f, pos, text);
                self.force(&fixed)
            }
            Builtin::RecursiveUpdate => {
                let (a, b) = (strict!(self, &args[0]), strict!(self, &args[1]));
                self.recursive_update(a, b, text, 0)
            }
            Builtin::MapAttrs => {
                let f = self.force(&args[0]);
                match strict!(self, &args[1]) {
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
            Builtin::ConcatMapAttrs => self.concat_map_attrs(args, pos, text),
            Builtin::OptionalString
            | Builtin::Optional
            | Builtin::Optionals
            | Builtin::OptionalAttrs => self.optional(builtin, args, pos, text),
            Builtin::NameValuePair => Value::Attrs(Rc::new(AttrSetValue::known(BTreeMap::from([
                ("name".to_string(), args[0].clone()),
                ("value".to_string(), args[1].clone()),
            ])))),
            _ => unknown(),
        }
    }

    /// `lib.concatMapAttrs f set`: the sets `f name value` gives, merged (later wins).
    fn concat_map_attrs(&mut self, args: &[Thunk], pos: Pos, text: &str) -> Value {
        let f = self.force(&args[0]);
        let Value::Attrs(set) = strict!(self, &args[1]) else {
            return Value::Unknown(text.to_string());
        };
        let mut merged = AttrSetValue {
            entries: BTreeMap::new(),
            partial: set.partial.clone(),
        };
        for (key, value) in set.entries.iter() {
            match self.apply_to_attr(&f, key, value, pos, text) {
                Value::Attrs(made) => {
                    merged.entries.extend(made.entries.clone());
                    merged.partial.extend(made.partial.iter().cloned());
                }
                failed @ Value::Error(_) => return failed,
                _ => merged.partial.push(text.to_string()),
            }
        }
        Value::Attrs(Rc::new(merged))
    }

    /// `lib.genAttrs names f`.
    fn gen_attrs(&mut self, args: &[Thunk], pos: Pos, text: &str) -> Value {
        let f = self.force(&args[1]);
        match strict!(self, &args[0]) {
            // Per-system copies (`genAttrs [ "x86_64-linux" … ]`): one evaluation for the
            // placeholder system, as flake-utils' frames get, shared by every system (a
            // build runs on one system; its copies are the same crane calls).
            Value::List(names) if !names.is_empty() && self.all_system_names(&names) => {
                let system = Thunk::value(Value::Unknown("system".into()));
                let value = Thunk::applied(f, system, pos, text);
                let mut set = AttrSetValue::default();
                for name in names.iter() {
                    if let Value::Str(key) = self.force(name) {
                        set.entries.insert(key, value.clone());
                    }
                }
                Value::Attrs(Rc::new(set))
            }
            Value::List(names) => {
                let mut set = AttrSetValue::default();
                for name in names.iter() {
                    match strict!(self, name) {
                        Value::Str(key) => {
                            let value = self.apply(f.clone(), name.clone(), pos, text);
                            set.entries.insert(key, Thunk::value(value));
                        }
                        _ => set.partial.push(text.to_string()),
                    }
                }
                Value::Attrs(Rc::new(set))
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
            _ => Value::Unknown(text.to_string()),
        }
    }

    /// Whether every item is a string naming a system (`x86_64-linux`, ...).
    fn all_system_names(&mut self, names: &[Thunk]) -> bool {
        names
            .iter()
            .all(|name| matches!(self.force(name), Value::Str(key) if super::is_system_name(&key)))
    }

    /// `lib.mapAttrs' f set`: `f name value` gives `{ name; value; }`.
    fn map_attrs_renamed(&mut self, args: &[Thunk], pos: Pos, text: &str) -> Value {
        let f = self.force(&args[0]);
        let Value::Attrs(set) = strict!(self, &args[1]) else {
            return Value::Unknown(text.to_string());
        };
        let mut entries = BTreeMap::new();
        let mut partial = set.partial.clone();
        for (key, value) in set.entries.iter() {
            match self.apply_to_attr(&f, key, value, pos, text) {
                Value::Attrs(pair) => {
                    let name = pair.entries.get("name").cloned().map(|n| self.force(&n));
                    match (name, pair.entries.get("value")) {
                        (Some(Value::Str(name)), Some(value)) => {
                            entries.insert(name, value.clone());
                        }
                        (Some(failed @ Value::Error(_)), _) => return failed,
                        _ => partial.push(text.to_string()),
                    }
                }
                failed @ Value::Error(_) => return failed,
                _ => partial.push(text.to_string()),
            }
        }
        Value::Attrs(Rc::new(AttrSetValue { entries, partial }))
    }

    /// `lib.optionalString`, `lib.optional`, `lib.optionals`, `lib.optionalAttrs`.
    fn optional(&mut self, builtin: &Builtin, args: &[Thunk], pos: Pos, text: &str) -> Value {
        match strict!(self, &args[0]) {
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
                    _ => Value::Unknown(text.to_string()),
                }
            }
            // Words added under a condition it cannot decide (`" --target x"`): what is
            // written before them stays known; they are left out, and listed.
            Value::Unknown(_) if *builtin == Builtin::OptionalString => {
                match self.force(&args[1]) {
                    Value::Str(words) if words.starts_with(char::is_whitespace) => {
                        Value::PartialStr(" ".to_string(), Rc::new(vec![(pos, text.to_string())]))
                    }
                    _ => Value::Unknown(text.to_string()),
                }
            }
            // What is added on some systems may be a crane derivation (a tool built
            // with crane): searched for crane calls.
            Value::Unknown(_) if matches!(builtin, Builtin::Optional | Builtin::Optionals) => {
                let added = self.force(&args[1]);
                self.push_frame(added);
                Value::Unknown(text.to_string())
            }
            _ => Value::Unknown(text.to_string()),
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
    fn flatten_into(
        &mut self,
        thunk: Thunk,
        out: &mut Vec<Thunk>,
        depth: usize,
    ) -> Result<bool, Value> {
        if depth > 32 {
            return Ok(false);
        }
        match self.force(&thunk) {
            failed @ Value::Error(_) => Err(failed),
            Value::List(items) => {
                for item in items.iter() {
                    if !self.flatten_into(item.clone(), out, depth + 1)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Value::Unknown(_) if depth == 0 => Ok(false),
            _ => {
                out.push(thunk);
                Ok(true)
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
    pub(super) fn unknown_if(&mut self, if_else: &ast::IfElse, env: &Env, file: FileId) -> Value {
        let unknown = Value::Unknown(text_of(if_else));
        let condition = if_else.condition().map(|c| text_of(&c)).unwrap_or_default();
        let (Some(body), Some(else_body)) = (if_else.body(), if_else.else_body()) else {
            return unknown;
        };
        let is_empty = |e: &Expr| matches!(e, Expr::AttrSet(set) if set.rec_token().is_none() && set.entries().next().is_none());
        let pos = Pos::of(if_else, file);
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
            let thunk = Thunk::select(source.clone(), name, name, None);
            if let Some(at) = self.attr_position(original) {
                self.attr_pos.insert(thunk.id(), at);
            }
            self.conditional.insert(
                thunk.id(),
                Condition {
                    pos,
                    text: condition.to_string(),
                },
            );
            entries.insert(name.clone(), thunk);
        }
        Value::Attrs(Rc::new(AttrSetValue {
            entries,
            partial: set.partial.clone(),
        }))
    }
}
