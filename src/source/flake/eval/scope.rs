//! Environments and attribute sets: `let`, `rec`, `inherit`, attribute paths, and
//! selecting attributes (`a.b`, `a.b or c`, `a ? b`).

use std::collections::BTreeMap;
use std::rc::Rc;

use rnix::ast::{self, HasEntry};

use super::core::Selected;
use super::files::{FileId, Pos};
use super::value::{AttrSetValue, Env, Thunk, Value};
use super::{Evaluator, text_of};
use crate::located::Note;

/// An attribute name as evaluated.
pub(super) enum AttrName {
    Known(String),
    /// A name the evaluator cannot know (`${system}`): its text as written.
    Unknown(String),
    /// A name whose expression fails.
    Failed(Value),
}

impl AttrName {
    /// The name, or its text when it is not known.
    fn text(self) -> Option<String> {
        match self {
            AttrName::Known(text) | AttrName::Unknown(text) => Some(text),
            AttrName::Failed(_) => None,
        }
    }
}

impl Evaluator {
    pub(super) fn attr_name(&mut self, attr: &ast::Attr, env: &Env, file: FileId) -> AttrName {
        match attr {
            ast::Attr::Ident(ident) => match ident.ident_token() {
                Some(token) => AttrName::Known(token.text().to_string()),
                None => AttrName::Unknown(text_of(ident)),
            },
            ast::Attr::Str(s) => match self.eval_string(s, env, file) {
                Value::Str(text) => AttrName::Known(text),
                failed @ Value::Error(_) => AttrName::Failed(failed),
                _ => AttrName::Unknown(text_of(s)),
            },
            // An unknown `${system}` keeps its text, so outputs keep their shape.
            ast::Attr::Dynamic(dynamic) => match dynamic.expr().map(|e| self.eval(&e, env, file)) {
                Some(Value::Str(text)) => AttrName::Known(text),
                Some(failed @ Value::Error(_)) => AttrName::Failed(failed),
                _ => AttrName::Unknown(text_of(dynamic)),
            },
        }
    }

    pub(super) fn eval_select(&mut self, select: &ast::Select, env: &Env, file: FileId) -> Value {
        let mut value = select
            .expr()
            .map_or(Value::Null, |e| self.eval(&e, env, file));
        let mut described = select.expr().map(|e| text_of(&e)).unwrap_or_default();
        let attrs: Vec<ast::Attr> = select
            .attrpath()
            .map(|p| p.attrs().collect())
            .unwrap_or_default();
        for attr in attrs {
            let (name, known) = match self.attr_name(&attr, env, file) {
                AttrName::Known(name) => (name, true),
                AttrName::Unknown(name) => (name, false),
                AttrName::Failed(failed) => return failed,
            };
            described = format!("{described}.{name}");
            let pos = Pos::of(&attr, file);
            let base = value.clone();
            value = match self.select_attr(value, &name, &described, Some(pos)) {
                Selected::Found(next) => next,
                // A name it cannot know (`.${system}`) may be any attribute the set has:
                // not known to be missing, so the default is not known to be taken.
                Selected::Missing(None) if !known && !select_base_empty(&base) => {
                    return Value::Unknown(described);
                }
                Selected::Missing(error) => {
                    return match select.default_expr() {
                        Some(default) => self.eval(&default, env, file),
                        None if known => {
                            Selected::Missing(error).or_fail(Some(Pos::of(select, file)), described)
                        }
                        // An unknown name may be any attribute.
                        None => Value::Unknown(described),
                    };
                }
            };
        }
        value
    }

    /// `value.name` (`at`: where it is selected).
    pub(super) fn select_attr(
        &mut self,
        value: Value,
        name: &str,
        described: &str,
        at: Option<Pos>,
    ) -> Selected {
        Selected::Found(match value {
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
                        // Per-system values of listed systems (`lib.genAttrs systems f`),
                        // one value for every system: that value. A table with a value of
                        // its own per system (`{ x86_64-linux = "x86_64-…-musl"; }`) is not.
                        (true, None, None)
                            if set.entries.keys().all(|k| super::is_system_name(k)) =>
                        {
                            let mut values = set.entries.values();
                            let first = values.next();
                            first.filter(|first| values.all(|v| v.id() == first.id()))
                        }
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
                    None if set.is_complete() && !name.starts_with("${") => {
                        return Selected::Missing(Some(format!("attribute '{name}' missing")));
                    }
                    None if set.partial.is_empty() => return Selected::Missing(None),
                    None => Value::Unknown(described.to_string()),
                }
            }
            Value::CraneLib(toolchain) => match self.overlay_attr(&toolchain, name) {
                Some(defined) => defined,
                None => {
                    if let Some(pos) = at {
                        self.check_crane_attr(name, pos, true);
                    }
                    super::crane::crane_lib_attr(&toolchain, name, described)
                }
            },
            Value::Unknown(base) => self.select_from_unknown(&base, name, described, at),
            Value::Derivation(derivation) => {
                return self.derivation_attr(&derivation, name, described);
            }
            failed @ Value::Error(_) => failed,
            other if other.is_known_non_set() => {
                return Selected::Missing(Some(format!(
                    "value is {} while a set was expected",
                    other.type_name()
                )));
            }
            _ => Value::Unknown(described.to_string()),
        })
    }

    /// `e ? a`: whether a known set has the attribute.
    pub(super) fn eval_has_attr(&mut self, has: &ast::HasAttr, env: &Env, file: FileId) -> Value {
        let base = has.expr().map_or(Value::Null, |e| self.eval(&e, env, file));
        match (base, has.attrpath().and_then(|p| p.attrs().next())) {
            (failed @ Value::Error(_), _) => failed,
            (Value::Attrs(set), Some(attr)) => match self.attr_name(&attr, env, file) {
                AttrName::Failed(failed) => failed,
                name => match name.text() {
                    Some(name) => Value::Bool(set.entries.contains_key(&name)),
                    None => Value::Unknown(text_of(has)),
                },
            },
            _ => Value::Unknown(text_of(has)),
        }
    }

    pub(super) fn eval_attrset(&mut self, set: &ast::AttrSet, env: &Env, file: FileId) -> Value {
        if set.rec_token().is_some() {
            let scope = self.bind_entries(set, env, file, true);
            let Env(Some(inner)) = &scope else {
                return Value::Null;
            };
            let entries = inner.names.borrow().clone();
            Value::Attrs(Rc::new(AttrSetValue::known(entries)))
        } else {
            let entries = self.entries(set, env, env, file);
            Value::Attrs(Rc::new(AttrSetValue::known(entries)))
        }
    }

    /// A new scope holding `node`'s bindings, which (for `let` and `rec`) see each other.
    pub(super) fn bind_entries(
        &mut self,
        node: &impl HasEntry,
        env: &Env,
        file: FileId,
        record: bool,
    ) -> Env {
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
        file: FileId,
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
                        .map(|a| self.attr_name(&a, scope, file).text())
                        .collect();
                    match names {
                        Some(names) if !names.is_empty() => {
                            let thunk = Thunk::pending(value, scope.clone(), file);
                            self.attr_pos.insert(thunk.id(), Pos::of(&path, file));
                            insert_path(&mut tree, &names, thunk);
                        }
                        _ => self.warnings.push(Note::at(
                            self.location(Pos::of(&binding, file)),
                            format!(
                                "attribute name `{}` could not be resolved; ignored",
                                text_of(&path)
                            ),
                        )),
                    }
                }
                ast::Entry::Inherit(inherit) => {
                    self.inherit(&inherit, scope, outer, file, &mut tree)
                }
            }
        }
        tree.into_iter().map(|(k, v)| (k, v.into_thunk())).collect()
    }

    /// `inherit a;` (from `outer`) and `inherit (x) a;`, which sees the bindings of its
    /// own `let` or `rec` (`scope`) and is selected when needed, as Nix does.
    fn inherit(
        &mut self,
        inherit: &ast::Inherit,
        scope: &Env,
        outer: &Env,
        file: FileId,
        tree: &mut BTreeMap<String, Pending>,
    ) {
        let from = inherit
            .from()
            .and_then(|f| f.expr())
            .map(|e| (text_of(&e), Thunk::pending(e, scope.clone(), file)));
        for attr in inherit.attrs() {
            let Some(name) = self.attr_name(&attr, outer, file).text() else {
                continue;
            };
            let thunk = match &from {
                Some((text, source)) => Thunk::select(
                    source.clone(),
                    &name,
                    &format!("{text}.{name}"),
                    Some(Pos::of(&attr, file)),
                ),
                None => outer
                    .lookup(&name)
                    .unwrap_or_else(|| Thunk::value(Value::Unknown(name.clone()))),
            };
            tree.insert(name, Pending::Thunk(thunk));
        }
    }
}

/// A known attribute set with no attributes at all: any name is missing from it.
fn select_base_empty(base: &Value) -> bool {
    matches!(base, Value::Attrs(set) if set.entries.is_empty() && set.partial.is_empty())
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
            Pending::Nested(entries) => Thunk::value(Value::Attrs(Rc::new(AttrSetValue::known(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_thunk()))
                    .collect(),
            )))),
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
