//! Nix's builtins the evaluator implements (`import`, `map`, `throw`, `builtins.elemAt`,
//! ...), and the dispatch of every function it implements.

use std::collections::BTreeMap;
use std::rc::Rc;

use rnix::ast;

use super::core::with_unknown_part;
use super::files::Pos;
use super::ops::to_text;
use super::value::{AttrSetValue, Builtin, ErrorKind, Thunk, Value, builtin};
use super::{Evaluator, strict};

/// The names every file sees without defining them.
pub(super) fn globals() -> Vec<(&'static str, Value)> {
    vec![
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
        ("import", builtin(Builtin::Import)),
        ("map", builtin(Builtin::Map)),
        ("removeAttrs", builtin(Builtin::RemoveAttrs)),
        ("toString", builtin(Builtin::ToString)),
        ("throw", builtin(Builtin::Throw)),
        ("abort", builtin(Builtin::Abort)),
        ("builtins", Value::Unknown("builtins".into())),
        ("baseNameOf", builtin(Builtin::BaseNameOf)),
        ("dirOf", builtin(Builtin::DirOf)),
    ]
}

impl Builtin {
    /// How many arguments it takes before it runs.
    pub(super) fn arity(&self) -> usize {
        match self {
            Builtin::Import
            | Builtin::ListToAttrs
            | Builtin::AttrNames
            | Builtin::ToString
            | Builtin::AttrValues
            | Builtin::Flatten
            | Builtin::MakeOverridable
            | Builtin::RecurseIntoAttrs
            | Builtin::FunctionArgs
            | Builtin::Fix
            | Builtin::MkLib
            | Builtin::Throw
            | Builtin::Abort
            | Builtin::TryEval
            | Builtin::CraneLibOverride(..)
            | Builtin::BaseNameOf
            | Builtin::DirOf
            | Builtin::ReadFile
            | Builtin::FromToml
            | Builtin::ImportToml
            | Builtin::CrateNameFromCargoToml
            | Builtin::OverrideAttrs(_)
            | Builtin::MergeDefinitions
            | Builtin::ReadDir
            | Builtin::Unique
            | Builtin::ConcatLists
            | Builtin::Head
            | Builtin::Length
            | Builtin::ToUpper
            | Builtin::ToLower
            | Builtin::CallFile(..) => 1,
            Builtin::ReplaceStrings | Builtin::FoldLeft => 3,
            Builtin::FileSet(name) => super::sources::fileset_arity(name),
            Builtin::NixFilter(name) => super::nix_filter::nix_filter_arity(name),
            Builtin::Source(name) => match name.as_str() {
                "sourceFilesBySuffices" | "sourceByRegex" | "filterSource" => 2,
                _ => 1,
            },
            _ => 2,
        }
    }
}

/// `builtins.NAME` and nixpkgs `lib.NAME` functions the evaluator implements.
pub(super) fn named_function(name: &str) -> Option<Builtin> {
    Some(match name {
        "removeAttrs" => Builtin::RemoveAttrs,
        "map" => Builtin::Map,
        "listToAttrs" => Builtin::ListToAttrs,
        "attrNames" => Builtin::AttrNames,
        "attrValues" => Builtin::AttrValues,
        "elem" => Builtin::Elem,
        "elemAt" => Builtin::ElemAt,
        "getAttr" => Builtin::GetAttr,
        "throw" => Builtin::Throw,
        "abort" => Builtin::Abort,
        "tryEval" => Builtin::TryEval,
        "functionArgs" => Builtin::FunctionArgs,
        "intersectAttrs" => Builtin::IntersectAttrs,
        "callPackage" | "callPackages" => Builtin::CallPackage,
        "toString" => Builtin::ToString,
        "concatStringsSep" => Builtin::ConcatStringsSep,
        "import" => Builtin::Import,
        "baseNameOf" => Builtin::BaseNameOf,
        "dirOf" => Builtin::DirOf,
        "match" => Builtin::Match,
        "any" => Builtin::Any,
        "all" => Builtin::All,
        "readFile" => Builtin::ReadFile,
        "fromTOML" => Builtin::FromToml,
        "replaceStrings" => Builtin::ReplaceStrings,
        "toUpper" => Builtin::ToUpper,
        "toLower" => Builtin::ToLower,
        _ => {
            return super::collections::collection_function(name)
                .or_else(|| super::nixpkgs_lib::lib_function(name));
        }
    })
}

impl Evaluator {
    pub(super) fn run_builtin(
        &mut self,
        builtin: &Builtin,
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Value {
        let unknown = || Value::Unknown(text.to_string());
        match builtin {
            Builtin::Import => {
                let target = strict!(self, &args[0]);
                match Evaluator::as_path(&target) {
                    Some((path, written)) => self.import(&path, &written, pos),
                    None => {
                        self.unfollowed_import(&target, pos, text);
                        unknown()
                    }
                }
            }
            Builtin::ReadFile => match Evaluator::as_path(&strict!(self, &args[0])) {
                Some((path, written)) => self.read_file(&path, &written, pos),
                None => unknown(),
            },
            Builtin::FromToml => self.parse_toml_text(&args[0], pos, text),
            Builtin::ImportToml => self.import_toml(&args[0], pos, text),
            Builtin::CrateNameFromCargoToml => self.crate_name_from_cargo_toml(&args[0], pos, text),
            Builtin::OverrideAttrs(id) => self.override_attrs(*id, &args[0], pos, text),
            Builtin::MkFlake => self.mk_flake(args, pos, text),
            Builtin::MergeDefinitions => self.merge_definitions(&args[0], text),
            Builtin::CallFile(path, extra_args) => {
                self.call_file(path, *extra_args, &args[0], pos, text)
            }
            Builtin::PathAppend => {
                let (base, sub) = (strict!(self, &args[0]), strict!(self, &args[1]));
                self.path_append(&base, &sub, text)
            }
            Builtin::CallPackage => self.call_package(args, pos, text),
            Builtin::CrossCallPackage(set) => {
                self.cross_call_package((&set.0, &set.1), args, pos, text)
            }
            Builtin::RemoveAttrs => match (strict!(self, &args[0]), strict!(self, &args[1])) {
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
                match strict!(self, &args[1]) {
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
            Builtin::ListToAttrs => self.list_to_attrs(&args[0], text),
            Builtin::AttrNames => match strict!(self, &args[0]) {
                Value::Attrs(set) => Value::List(Rc::new(
                    set.entries
                        .keys()
                        .map(|k| Thunk::value(Value::Str(k.clone())))
                        .collect(),
                )),
                _ => unknown(),
            },
            Builtin::AttrValues => match strict!(self, &args[0]) {
                Value::Attrs(set) if set.partial.is_empty() => {
                    Value::List(Rc::new(set.entries.values().cloned().collect()))
                }
                _ => unknown(),
            },
            Builtin::Elem => self.elem(args, text),
            Builtin::ElemAt => match (strict!(self, &args[0]), strict!(self, &args[1])) {
                (Value::List(items), Value::Int(index)) => {
                    match usize::try_from(index).ok().and_then(|i| items.get(i)) {
                        Some(item) => {
                            let item = item.clone();
                            self.force(&item)
                        }
                        None => Value::error(
                            ErrorKind::Other,
                            format!("list index {index} is out of bounds"),
                            Some(pos),
                        ),
                    }
                }
                _ => unknown(),
            },
            Builtin::GetAttr => match (strict!(self, &args[0]), strict!(self, &args[1])) {
                (Value::Str(name), set @ Value::Attrs(_)) => self
                    .select_attr(set, &name, text, Some(pos))
                    .or_fail(Some(pos), text.to_string()),
                _ => unknown(),
            },
            Builtin::Throw => {
                let message = match self.force(&args[0]) {
                    failed @ Value::Error(_) => return failed,
                    Value::Str(s) | Value::PartialStr(s, _) => s,
                    _ => text.to_string(),
                };
                Value::error(ErrorKind::Thrown, message, Some(pos))
            }
            Builtin::Abort => {
                let message = match self.force(&args[0]) {
                    failed @ Value::Error(_) => return failed,
                    Value::Str(s) | Value::PartialStr(s, _) => s,
                    _ => text.to_string(),
                };
                Value::error(
                    ErrorKind::Other,
                    format!("evaluation aborted with the following error message: '{message}'"),
                    Some(pos),
                )
            }
            Builtin::TryEval => self.try_eval(&args[0]),
            Builtin::FunctionArgs => match strict!(self, &args[0]) {
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
                        Value::Attrs(Rc::new(AttrSetValue::known(entries)))
                    }
                    _ => Value::Attrs(Rc::new(AttrSetValue::default())),
                },
                _ => unknown(),
            },
            Builtin::IntersectAttrs => match (strict!(self, &args[0]), strict!(self, &args[1])) {
                (Value::Attrs(names), Value::Attrs(set)) if set.partial.is_empty() => {
                    let entries = set
                        .entries
                        .iter()
                        .filter(|(k, _)| names.entries.contains_key(*k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    Value::Attrs(Rc::new(AttrSetValue {
                        entries,
                        partial: names.partial.clone(),
                    }))
                }
                _ => unknown(),
            },
            // `toString ./.` is the absolute path.
            Builtin::ToString => {
                let value = strict!(self, &args[0]);
                self.path_text(&value)
                    .or_else(|| to_text(&value))
                    .map_or_else(unknown, Value::Str)
            }
            Builtin::ConcatStringsSep => match (strict!(self, &args[0]), strict!(self, &args[1])) {
                (Value::Str(sep), Value::List(items)) => {
                    let mut parts = Vec::new();
                    for item in items.iter() {
                        match to_text(&strict!(self, item)) {
                            Some(text) => parts.push(text),
                            None => return unknown(),
                        }
                    }
                    Value::Str(parts.join(&sep))
                }
                _ => unknown(),
            },
            Builtin::MkLib | Builtin::CraneLibOverride(..) | Builtin::Source(_) => {
                self.run_crane_builtin(builtin, args, pos, text)
            }
            Builtin::FileSet(name) => self.run_fileset(name, args, text),
            Builtin::NixFilter(name) => self.run_nix_filter(name, args, pos, text),
            Builtin::PathFilter(_)
            | Builtin::BaseNameOf
            | Builtin::DirOf
            | Builtin::HasSuffix
            | Builtin::HasPrefix
            | Builtin::HasInfix
            | Builtin::RemovePrefix
            | Builtin::RemoveSuffix
            | Builtin::Match
            | Builtin::ReplaceStrings
            | Builtin::ToUpper
            | Builtin::ToLower
            | Builtin::Any
            | Builtin::All
            | Builtin::HasExt => self.run_string_builtin(builtin, args, pos, text),
            Builtin::ReadDir
            | Builtin::Filter
            | Builtin::FilterAttrs
            | Builtin::Unique
            | Builtin::ConcatMap
            | Builtin::ConcatLists
            | Builtin::Head
            | Builtin::FoldLeft
            | Builtin::MapAttrsToList
            | Builtin::Length => self.run_collection_function(builtin, args, pos, text),
            _ => self.run_lib_function(builtin, args, pos, text),
        }
    }

    /// `callPackage fn-or-file overrides`: the function called with the overrides, and
    /// with the packages callPackage adds (unknown).
    pub(super) fn call_package(&mut self, args: &[Thunk], pos: Pos, text: &str) -> Value {
        let function = strict!(self, &args[0]);
        let closure = match (&function, Evaluator::as_path(&function)) {
            (Value::Lambda(closure), _) => closure.clone(),
            (_, Some((path, written))) => match self.import(&path, &written, pos) {
                Value::Lambda(closure) => closure,
                other => return other,
            },
            (other, None) => {
                self.unfollowed_import(other, pos, text);
                return Value::Unknown(text.to_string());
            }
        };
        let overrides = with_unknown_part(self.force(&args[1]), "callPackage's arguments");
        self.call(&closure, Thunk::value(overrides))
    }

    /// `builtins.listToAttrs [ { name = …; value = …; } … ]`.
    fn list_to_attrs(&mut self, list: &Thunk, text: &str) -> Value {
        let Value::List(items) = strict!(self, list) else {
            return Value::Unknown(text.to_string());
        };
        let mut set = AttrSetValue::default();
        for item in items.iter() {
            let pair = match strict!(self, item) {
                Value::Attrs(pair) => pair,
                _ => {
                    set.partial.push(text.to_string());
                    continue;
                }
            };
            let name = match pair.entries.get("name").cloned() {
                Some(name) => strict!(self, &name),
                None => Value::Null,
            };
            match (name, pair.entries.get("value")) {
                (Value::Str(name), Some(value)) => {
                    set.entries.insert(name, value.clone());
                }
                _ => set.partial.push(text.to_string()),
            }
        }
        Value::Attrs(Rc::new(set))
    }

    /// `builtins.elem x list`, when it can be decided.
    fn elem(&mut self, args: &[Thunk], text: &str) -> Value {
        let needle = strict!(self, &args[0]);
        let Value::List(items) = strict!(self, &args[1]) else {
            return Value::Unknown(text.to_string());
        };
        let mut found = Some(false);
        for item in items.iter() {
            let item = strict!(self, item);
            match self.equal(&needle, &item, 0) {
                Some(true) => return Value::Bool(true),
                Some(false) => {}
                None => found = None,
            }
        }
        found.map_or_else(|| Value::Unknown(text.to_string()), Value::Bool)
    }

    /// `builtins.tryEval e`: `{ success = false; value = false; }` when `e` throws or an
    /// assertion fails (other failures are not caught, as in Nix).
    fn try_eval(&mut self, arg: &Thunk) -> Value {
        let (success, value) = match self.force(arg) {
            Value::Error(error) if error.kind != ErrorKind::Other => {
                (false, Thunk::value(Value::Bool(false)))
            }
            failed @ Value::Error(_) => return failed,
            Value::Unknown(what) => return Value::Unknown(format!("builtins.tryEval {what}")),
            _ => (true, arg.clone()),
        };
        Value::Attrs(Rc::new(AttrSetValue::known(BTreeMap::from([
            ("success".to_string(), Thunk::value(Value::Bool(success))),
            ("value".to_string(), value),
        ]))))
    }
}
