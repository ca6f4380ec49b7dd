//! numtide's blueprint: `outputs = inputs: inputs.blueprint { inherit inputs; prefix = "nix"; }`
//! maps directories to outputs. `packages/<name>.nix` (or `packages/<name>/`),
//! `package.nix` and `formatter.nix` are called as `callPackage` calls them with `pkgs`,
//! `inputs`, `flake`, `perSystem`, `system` and `pname`; `checks/<name>.nix` are imported
//! and called with the same set; `lib/` is imported with `{ flake, inputs }`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::Evaluator;
use super::core::with_unknown_part;
use super::files::{Pos, resolved};
use super::value::{AttrSetValue, Builtin, Thunk, ThunkState, Value, builtin};
use crate::located::Note;
use crate::source_set::tree::normalize;

impl Evaluator {
    /// The flake's outputs as blueprint makes them from its directories, per-system ones
    /// under a placeholder system.
    pub(super) fn blueprint(&mut self, arg: &Thunk, pos: Pos, text: &str) -> Value {
        let config = match self.force(arg) {
            Value::Attrs(set) => set,
            failed @ Value::Error(_) => return failed,
            _ => return Value::Unknown(text.to_string()),
        };
        let inputs = config
            .entries
            .get("inputs")
            .cloned()
            .unwrap_or_else(|| Thunk::value(Value::Unknown("inputs".into())));
        let Some(src) = self.blueprint_root(&config, pos) else {
            return Value::Unknown(text.to_string());
        };
        let flake = Thunk::select(inputs.clone(), "self", "inputs.self", None);
        let own_packages = Thunk::value(Value::Unknown("perSystem.self".into()));
        let per_system = Value::Attrs(Rc::new(AttrSetValue {
            entries: BTreeMap::from([("self".to_string(), own_packages.clone())]),
            partial: vec!["the packages of the flake's inputs".into()],
        }));
        let mut scope = BTreeMap::from([
            ("inputs".to_string(), inputs.clone()),
            ("flake".to_string(), flake.clone()),
            (
                "pkgs".to_string(),
                Thunk::value(Value::Unknown("pkgs".into())),
            ),
            (
                "system".to_string(),
                Thunk::value(Value::Unknown("system".into())),
            ),
            ("perSystem".to_string(), Thunk::value(per_system)),
        ]);
        let mut package_files = nix_entries(&src.join("packages"));
        for (name, file) in [("default", "package.nix"), ("formatter", "formatter.nix")] {
            if src.join(file).is_file() {
                package_files.insert(name.to_string(), src.join(file));
            }
        }
        let packages = self.called_files(&package_files, &scope, true, pos, text);
        own_packages.set(ThunkState::Done(packages.clone()));
        let checks = self.called_files(&nix_entries(&src.join("checks")), &scope, false, pos, text);
        let mut outputs = BTreeMap::new();
        for (output, value) in [("packages", packages), ("checks", checks)] {
            let by_system = BTreeMap::from([("${system}".to_string(), Thunk::value(value))]);
            outputs.insert(
                output.to_string(),
                Thunk::value(Value::Attrs(Rc::new(AttrSetValue::known(by_system)))),
            );
        }
        if src.join("lib").is_dir() || src.join("lib.nix").is_file() {
            scope.retain(|name, _| name == "flake" || name == "inputs");
            let lib = if src.join("lib").is_dir() {
                src.join("lib")
            } else {
                src.join("lib.nix")
            };
            outputs.insert(
                "lib".to_string(),
                self.called_file(&lib, &scope, false, pos, text),
            );
        }
        Value::Attrs(Rc::new(AttrSetValue {
            entries: outputs,
            partial: vec![text.to_string()],
        }))
    }

    /// Where blueprint looks: the flake's directory, or `prefix` in it. One outside the
    /// flake or missing is said.
    fn blueprint_root(&mut self, config: &AttrSetValue, pos: Pos) -> Option<PathBuf> {
        let flake_dir = self.files.dir_of(pos.file);
        let root = match config
            .entries
            .get("prefix")
            .cloned()
            .map(|p| self.force(&p))
        {
            None | Some(Value::Null) => flake_dir,
            Some(Value::Str(prefix)) => normalize(&flake_dir.join(prefix)),
            Some(Value::Path(path, _)) => path,
            Some(other) => {
                let note = format!(
                    "blueprint's prefix is {}, not a directory the reader can know; its packages and checks are not seen",
                    other.type_name()
                );
                self.warn(Note::at(self.location(pos), note));
                return None;
            }
        };
        match resolved(&root) {
            Some(real) if real.starts_with(&self.files.base_dir) && real.is_dir() => Some(real),
            _ => {
                let note = format!(
                    "blueprint's directory {} is missing or outside the flake; its packages and checks are not seen",
                    root.display()
                );
                self.warn(Note::at(self.location(pos), note));
                None
            }
        }
    }

    /// Each file called (lazily) with `scope` and its own `pname`.
    fn called_files(
        &mut self,
        files: &BTreeMap<String, PathBuf>,
        scope: &BTreeMap<String, Thunk>,
        call_package: bool,
        pos: Pos,
        text: &str,
    ) -> Value {
        let mut entries = BTreeMap::new();
        for (name, path) in files {
            let mut args = scope.clone();
            args.insert("pname".into(), Thunk::value(Value::Str(name.clone())));
            entries.insert(
                name.clone(),
                self.called_file(path, &args, call_package, pos, text),
            );
        }
        Value::Attrs(Rc::new(AttrSetValue::known(entries)))
    }

    /// A file called with `args` when first needed.
    fn called_file(
        &mut self,
        path: &Path,
        args: &BTreeMap<String, Thunk>,
        call_package: bool,
        pos: Pos,
        text: &str,
    ) -> Thunk {
        let args = Value::Attrs(Rc::new(AttrSetValue::known(args.clone())));
        Thunk::applied(
            builtin(Builtin::CallFile(path.to_path_buf(), call_package)),
            Thunk::value(args),
            pos,
            text,
        )
    }

    /// A file of the flake called with `args` (as `callPackage` calls it: other arguments
    /// it asks for are unknown); a file that is not a function is its own value.
    pub(super) fn call_file(
        &mut self,
        path: &Path,
        call_package: bool,
        args: &Thunk,
        pos: Pos,
        text: &str,
    ) -> Value {
        let shown = path.strip_prefix(&self.files.base_dir).map_or_else(
            |_| path.display().to_string(),
            |p| format!("./{}", p.display()),
        );
        match self.import(path, &shown, pos) {
            Value::Lambda(closure) => {
                let given = self.force(args);
                let given = if call_package {
                    with_unknown_part(given, "callPackage's arguments")
                } else {
                    with_unknown_part(given, text)
                };
                self.call(&closure, Thunk::value(given))
            }
            other => other,
        }
    }
}

/// The Nix files and directories in `dir`, by the name blueprint gives them (a file's
/// name without `.nix`; a file wins over a directory of the same name). None when the
/// directory does not exist.
fn nix_entries(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let (path, name) = (
            entry.path(),
            entry.file_name().to_string_lossy().to_string(),
        );
        if path.is_dir() {
            found.insert(name, path);
        } else if let Some(stem) = name.strip_suffix(".nix") {
            files.push((stem.to_string(), path));
        }
    }
    found.extend(files);
    found
}
