//! TOML files of the flake as Nix reads them: `builtins.fromTOML`, `lib.importTOML`, and
//! crane's `crateNameFromCargoToml` (a package's `pname` and `version` from its
//! Cargo.toml, chosen as crane chooses them).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::files::Pos;
use super::value::{AttrSetValue, ErrorKind, Thunk, Value};
use super::{Evaluator, strict};

/// What crane names a package whose Cargo.toml gives no name, or no version.
const PLACEHOLDER_PNAME: &str = "cargo-package";
const PLACEHOLDER_VERSION: &str = "0.0.1";

impl Evaluator {
    /// `builtins.fromTOML text`: a TOML document that does not parse fails, as in Nix.
    pub(super) fn parse_toml_text(&mut self, text: &Thunk, pos: Pos, written: &str) -> Value {
        match strict!(self, text) {
            Value::Str(text) => parse_toml(&text, pos),
            _ => Value::Unknown(written.to_string()),
        }
    }

    /// `lib.importTOML path`: `fromTOML (readFile path)`.
    pub(super) fn import_toml(&mut self, path: &Thunk, pos: Pos, written: &str) -> Value {
        let Some((path, path_text)) = Evaluator::as_path(&strict!(self, path)) else {
            return Value::Unknown(written.to_string());
        };
        match self.read_file(&path, &path_text, pos) {
            Value::Str(text) => parse_toml(&text, pos),
            failed @ Value::Error(_) => failed,
            _ => Value::Unknown(written.to_string()),
        }
    }

    /// `craneLib.crateNameFromCargoToml { cargoToml = ./x/Cargo.toml; }` (or `{ src; }`,
    /// or `{ cargoTomlContents; }`): `{ pname; version; }` as crane reads them.
    pub(super) fn crate_name_from_cargo_toml(
        &mut self,
        args: &Thunk,
        pos: Pos,
        written: &str,
    ) -> Value {
        let unknown = || Value::Unknown(written.to_string());
        let Value::Attrs(args) = strict!(self, args) else {
            return unknown();
        };
        let contents = match self.cargo_toml_contents(&args, pos, written) {
            Ok(Some(contents)) => contents,
            Ok(None) => return unknown(),
            Err(failed) => return failed,
        };
        let manifest = match parse_toml(&contents, pos) {
            Value::Attrs(manifest) => manifest,
            other => return other,
        };
        let mut first_text = |paths: &[&[&str]]| {
            paths
                .iter()
                .find_map(|path| match self.select_path(&manifest, path) {
                    Some(Value::Str(text)) => Some(text),
                    _ => None,
                })
        };
        let pname = first_text(&[
            &["package", "metadata", "crane", "name"],
            &["package", "name"],
            &["workspace", "metadata", "crane", "name"],
            &["workspace", "package", "name"],
        ])
        .unwrap_or_else(|| PLACEHOLDER_PNAME.to_string());
        let version = first_text(&[
            &["package", "version"],
            &["workspace", "package", "version"],
        ])
        .unwrap_or_else(|| PLACEHOLDER_VERSION.to_string());
        Value::Attrs(Rc::new(AttrSetValue::known(BTreeMap::from([
            ("pname".to_string(), Thunk::value(Value::Str(pname))),
            ("version".to_string(), Thunk::value(Value::Str(version))),
        ]))))
    }

    /// The name crane gives a crane call that has no `pname`: `crateNameFromCargoToml`'s
    /// of its arguments (`src + "/Cargo.toml"`), unless that is crane's placeholder.
    pub(crate) fn crate_name_of(&mut self, derivation: &super::CraneDerivation) -> Option<String> {
        let args = Thunk::value(Value::Attrs(Rc::new(derivation.args.clone())));
        let name = self.speculatively(|evaluator| {
            match evaluator.crate_name_from_cargo_toml(&args, derivation.pos, &derivation.function)
            {
                Value::Attrs(set) => match set.entries.get("pname").map(|p| evaluator.force(p)) {
                    Some(Value::Str(pname)) => Some(pname),
                    _ => None,
                },
                _ => None,
            }
        });
        name.filter(|pname| pname != PLACEHOLDER_PNAME && !pname.is_empty())
    }

    /// The Cargo.toml text crane reads: `cargoTomlContents`, else the file `cargoToml`,
    /// else `src + "/Cargo.toml"`. `None` when it cannot be known (a file that is not
    /// there may be made before the build, as for `readFile`).
    fn cargo_toml_contents(
        &mut self,
        args: &AttrSetValue,
        pos: Pos,
        written: &str,
    ) -> Result<Option<String>, Value> {
        let entry = |name: &str| args.entries.get(name).cloned();
        if let Some(contents) = entry("cargoTomlContents") {
            return match self.force(&contents) {
                Value::Str(text) => Ok(Some(text)),
                failed @ Value::Error(_) => Err(failed),
                _ => Ok(None),
            };
        }
        let path = match (entry("cargoToml"), entry("src")) {
            (Some(manifest), _) => match self.force(&manifest) {
                failed @ Value::Error(_) => return Err(failed),
                value => Evaluator::as_path(&value),
            },
            (None, Some(src)) => match self.force(&src) {
                failed @ Value::Error(_) => return Err(failed),
                value => self
                    .source_dir(&value, 0)
                    .map(|dir| (dir.join("Cargo.toml"), format!("{written}: Cargo.toml"))),
            },
            // Neither: crane throws, unless an unknown part of the arguments holds one.
            (None, None) if args.is_complete() => {
                return Err(Value::error(
                    ErrorKind::Thrown,
                    "crateNameFromCargoToml: unable to infer crate name and version: none of `cargoToml`, `cargoTomlContents` and `src` is given".to_string(),
                    Some(pos),
                ));
            }
            (None, None) => None,
        };
        let Some((path, path_text)) = path else {
            return Ok(None);
        };
        match self.read_file(&path, &path_text, pos) {
            Value::Str(text) => Ok(Some(text)),
            failed @ Value::Error(_) => Err(failed),
            _ => Ok(None),
        }
    }

    /// `set.a.b.c`, when every step is there.
    fn select_path(&mut self, set: &Rc<AttrSetValue>, path: &[&str]) -> Option<Value> {
        let mut current = Value::Attrs(set.clone());
        for name in path {
            let Value::Attrs(set) = current else {
                return None;
            };
            let thunk = set.entries.get(*name)?.clone();
            current = self.force(&thunk);
        }
        Some(current)
    }
}

/// A TOML document as Nix's `fromTOML` gives it; one that does not parse fails.
fn parse_toml(text: &str, pos: Pos) -> Value {
    match text.parse::<toml::Table>() {
        Ok(table) => table_value(table),
        Err(error) => Value::error(
            ErrorKind::Other,
            format!("while parsing TOML: {}", error.message()),
            Some(pos),
        ),
    }
}

fn table_value(table: toml::Table) -> Value {
    let entries = table
        .into_iter()
        .map(|(key, value)| (key, Thunk::value(toml_value(value))))
        .collect();
    Value::Attrs(Rc::new(AttrSetValue::known(entries)))
}

fn toml_value(value: toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::Str(text),
        toml::Value::Integer(i) => Value::Int(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        // Nix reads date-times only with an experimental feature, and then as sets.
        toml::Value::Datetime(datetime) => Value::Unknown(format!("TOML date-time {datetime}")),
        toml::Value::Array(items) => Value::List(Rc::new(
            items
                .into_iter()
                .map(|item| Thunk::value(toml_value(item)))
                .collect(),
        )),
        toml::Value::Table(table) => table_value(table),
    }
}
