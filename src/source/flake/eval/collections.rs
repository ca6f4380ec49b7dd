//! List and attribute-set functions computed imports and arguments are written with
//! (`builtins.readDir`, `filter`, `filterAttrs`, `unique`, `concatMap`, `head`, `length`),
//! so names listed from a directory or a TOML file are known statically.

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use super::files::{self, Pos};
use super::value::{AttrSetValue, Builtin, Thunk, Value};
use super::{Evaluator, strict};

/// The functions of this room, by name (builtins and nixpkgs `lib` alike).
pub(super) fn collection_function(name: &str) -> Option<Builtin> {
    Some(match name {
        "readDir" => Builtin::ReadDir,
        "filter" => Builtin::Filter,
        "filterAttrs" => Builtin::FilterAttrs,
        "unique" => Builtin::Unique,
        "concatMap" => Builtin::ConcatMap,
        "concatLists" => Builtin::ConcatLists,
        "head" => Builtin::Head,
        "length" => Builtin::Length,
        "foldl'" => Builtin::FoldLeft,
        "mapAttrsToList" => Builtin::MapAttrsToList,
        _ => return None,
    })
}

impl Evaluator {
    pub(super) fn run_collection_function(
        &mut self,
        builtin: &Builtin,
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Value {
        let unknown = || Value::Unknown(text.to_string());
        match builtin {
            Builtin::ReadDir => match Evaluator::as_path(&strict!(self, &args[0])) {
                Some((path, written)) => self.read_dir(&path, &written, pos),
                None => unknown(),
            },
            Builtin::Filter => {
                let keep = self.force(&args[0]);
                let Value::List(items) = strict!(self, &args[1]) else {
                    return unknown();
                };
                let mut kept = Vec::new();
                for item in items.iter() {
                    match self.apply(keep.clone(), item.clone(), pos, text) {
                        Value::Bool(true) => kept.push(item.clone()),
                        Value::Bool(false) => {}
                        failed @ Value::Error(_) => return failed,
                        _ => return unknown(),
                    }
                }
                Value::List(Rc::new(kept))
            }
            // `builtins.foldl' op start list` (attic: `foldl' (acc: f: f acc) ./flake [ … ]`).
            Builtin::FoldLeft => {
                let op = self.force(&args[0]);
                let Value::List(items) = strict!(self, &args[2]) else {
                    return unknown();
                };
                let mut acc = args[1].clone();
                for item in items.iter() {
                    let applied = self.apply(op.clone(), acc, pos, text);
                    match self.apply(applied, item.clone(), pos, text) {
                        failed @ Value::Error(_) => return failed,
                        next => acc = Thunk::value(next),
                    }
                }
                self.force(&acc)
            }
            Builtin::MapAttrsToList => {
                let f = self.force(&args[0]);
                let Value::Attrs(set) = strict!(self, &args[1]) else {
                    return unknown();
                };
                if !set.partial.is_empty() {
                    return unknown();
                }
                let mut items = Vec::new();
                for (name, value) in set.entries.iter() {
                    let named = Thunk::value(Value::Str(name.clone()));
                    let applied = self.apply(f.clone(), named, pos, text);
                    items.push(Thunk::value(self.apply(applied, value.clone(), pos, text)));
                }
                Value::List(Rc::new(items))
            }
            Builtin::FilterAttrs => {
                let keep = self.force(&args[0]);
                let Value::Attrs(set) = strict!(self, &args[1]) else {
                    return unknown();
                };
                let mut kept = BTreeMap::new();
                for (name, value) in set.entries.iter() {
                    let named = Thunk::value(Value::Str(name.clone()));
                    let applied = self.apply(keep.clone(), named, pos, text);
                    match self.apply(applied, value.clone(), pos, text) {
                        Value::Bool(true) => {
                            kept.insert(name.clone(), value.clone());
                        }
                        Value::Bool(false) => {}
                        failed @ Value::Error(_) => return failed,
                        _ => return unknown(),
                    }
                }
                Value::Attrs(Rc::new(AttrSetValue {
                    entries: kept,
                    partial: set.partial.clone(),
                }))
            }
            Builtin::Unique => {
                let Value::List(items) = strict!(self, &args[0]) else {
                    return unknown();
                };
                let mut kept: Vec<(Thunk, Value)> = Vec::new();
                for item in items.iter() {
                    let value = strict!(self, item);
                    let mut seen = false;
                    for (_, earlier) in &kept {
                        match self.equal(earlier, &value, 0) {
                            Some(true) => seen = true,
                            Some(false) => {}
                            None => return unknown(),
                        }
                    }
                    if !seen {
                        kept.push((item.clone(), value));
                    }
                }
                Value::List(Rc::new(kept.into_iter().map(|(item, _)| item).collect()))
            }
            Builtin::ConcatMap => {
                let f = self.force(&args[0]);
                let Value::List(items) = strict!(self, &args[1]) else {
                    return unknown();
                };
                let lists: Vec<Thunk> = items
                    .iter()
                    .map(|item| Thunk::value(self.apply(f.clone(), item.clone(), pos, text)))
                    .collect();
                self.concat_lists(&lists, pos, text)
            }
            Builtin::ConcatLists => match strict!(self, &args[0]) {
                Value::List(lists) => self.concat_lists(&lists, pos, text),
                _ => unknown(),
            },
            Builtin::Head => match strict!(self, &args[0]) {
                Value::List(items) => match items.first() {
                    Some(first) => {
                        let first = first.clone();
                        self.force(&first)
                    }
                    None => Value::error(
                        super::value::ErrorKind::Other,
                        "list index 0 is out of bounds".into(),
                        Some(pos),
                    ),
                },
                _ => unknown(),
            },
            Builtin::Length => match strict!(self, &args[0]) {
                Value::List(items) => Value::Int(items.len() as i64),
                _ => unknown(),
            },
            _ => unknown(),
        }
    }

    fn concat_lists(&mut self, lists: &[Thunk], pos: Pos, text: &str) -> Value {
        let mut all = Vec::new();
        for list in lists {
            match strict!(self, list) {
                Value::List(items) => all.extend(items.iter().cloned()),
                _ => return Value::Unknown(text.to_string()),
            }
        }
        if let Some(exceeded) = self.charge_list(all.len(), pos) {
            return exceeded;
        }
        Value::List(Rc::new(all))
    }

    /// `builtins.readDir`: each entry of a directory inside the flake, with its type
    /// (`regular`, `directory`, `symlink`, `unknown`). One outside it is never read
    /// (unknown, with a warning); one that is not there is unknown (it may be made before
    /// the build, as for `readFile`).
    fn read_dir(&mut self, path: &Path, written: &str, pos: Pos) -> Value {
        let unknown = || Value::Unknown(format!("builtins.readDir {written}"));
        let Some(real) = files::resolved(path) else {
            return unknown();
        };
        if !real.starts_with(&self.files.readable) {
            self.outside_flake(pos, "read", written);
            return unknown();
        }
        let Ok(entries) = std::fs::read_dir(&real) else {
            return unknown();
        };
        let mut listed = BTreeMap::new();
        for entry in entries.flatten() {
            let kind = match entry.file_type() {
                Ok(t) if t.is_symlink() => "symlink",
                Ok(t) if t.is_dir() => "directory",
                Ok(t) if t.is_file() => "regular",
                _ => "unknown",
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            listed.insert(name, Thunk::value(Value::Str(kind.to_string())));
        }
        if let Some(exceeded) = self.charge_list(listed.len(), pos) {
            return exceeded;
        }
        Value::Attrs(Rc::new(AttrSetValue::known(listed)))
    }
}
