//! flake-parts as its module system evaluates it: `mkFlake { inherit inputs; } module`
//! with modules reached through `imports` (files, lists, functions, sets), `perSystem`
//! defined in any of them and merged, module arguments from `_module.args` and
//! `config._module.args`, and `config`/`self'` inside `perSystem` (the merged result).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::Evaluator;
use super::files::Pos;
use super::value::{AttrSetValue, Builtin, Thunk, ThunkState, Value, builtin};
use crate::located::Note;

/// How deep `imports` are followed.
const MAX_IMPORT_DEPTH: usize = 32;

/// The per-system outputs flake-parts makes from `perSystem`'s options.
const PER_SYSTEM_OUTPUTS: &[&str] = &[
    "packages",
    "checks",
    "apps",
    "devShells",
    "formatter",
    "legacyPackages",
];

/// Module options that are the module system's own, not definitions to merge.
const MODULE_SYSTEM_KEYS: &[&str] = &["imports", "_module", "config", "options", "_file", "key"];

impl Evaluator {
    /// `mkFlake { inherit inputs; } module`: the flake's outputs, its per-system ones under
    /// a placeholder system.
    pub(super) fn mk_flake(&mut self, args: &[Thunk], pos: Pos, text: &str) -> Value {
        let inputs = Thunk::select(args[0].clone(), "inputs", "inputs", None);
        let own_outputs = Thunk::select(inputs.clone(), "self", "inputs.self", None);
        let mut base = unknown_args(&[
            "lib",
            "config",
            "options",
            "withSystem",
            "moduleWithSystem",
            "getSystem",
            "flake-parts-lib",
        ]);
        base.insert("inputs".into(), inputs);
        base.insert("self".into(), own_outputs);
        let (modules, top_args) = self.modules_with_args(&[args[1].clone()], base, pos);
        let top = merge_modules(&modules, pos, text);
        // perSystem: each definition a module of its own, seeing the merged result.
        let per_system_roots: Vec<Thunk> = modules
            .iter()
            .filter_map(|m| m.entries.get("perSystem").cloned())
            .collect();
        let config = Thunk::value(Value::Unknown("config".into()));
        let mut per_system_base = top_args;
        per_system_base.extend(unknown_args(&[
            "pkgs", "inputs'", "lib", "options", "final",
        ]));
        per_system_base.insert(
            "system".into(),
            Thunk::value(Value::Unknown("system".into())),
        );
        per_system_base.insert("config".into(), config.clone());
        per_system_base.insert("self'".into(), config.clone());
        let (per_system, _) = self.modules_with_args(&per_system_roots, per_system_base, pos);
        let per_system_config = merge_modules(&per_system, pos, text);
        config.set(ThunkState::Done(Value::Attrs(Rc::new(
            per_system_config.clone(),
        ))));
        self.flake_parts_outputs(&top, &per_system_config)
    }

    /// The flake's outputs: `flake`'s definitions, and each per-system output under the
    /// placeholder system.
    fn flake_parts_outputs(&mut self, top: &AttrSetValue, per_system: &AttrSetValue) -> Value {
        let mut outputs = match top.entries.get("flake").cloned() {
            Some(flake) => match self.force(&flake) {
                Value::Attrs(set) => (*set).clone(),
                failed @ Value::Error(_) => return failed,
                _ => AttrSetValue::default(),
            },
            None => AttrSetValue::default(),
        };
        for output in PER_SYSTEM_OUTPUTS {
            if let Some(value) = per_system.entries.get(*output) {
                let by_system = BTreeMap::from([("${system}".to_string(), value.clone())]);
                outputs.entries.insert(
                    output.to_string(),
                    Thunk::value(Value::Attrs(Rc::new(AttrSetValue::known(by_system)))),
                );
            }
        }
        Value::Attrs(Rc::new(outputs))
    }

    /// The modules reached from `roots`, called with `base` and the arguments the modules
    /// themselves give (`_module.args`): found in a first pass, then bound in the second,
    /// lazily, as the module system's fixed point does. Returns the modules and their
    /// arguments.
    fn modules_with_args(
        &mut self,
        roots: &[Thunk],
        base: BTreeMap<String, Thunk>,
        pos: Pos,
    ) -> (Vec<Rc<AttrSetValue>>, BTreeMap<String, Thunk>) {
        let first_args = Thunk::value(partial_set(base.clone()));
        let first = self.speculatively(|evaluator| {
            let mut found = Vec::new();
            for root in roots {
                evaluator.collect_modules(root, &first_args, pos, 0, &mut found, false);
            }
            found
        });
        let names: BTreeSet<String> = self
            .speculatively(|evaluator| evaluator.module_args(&first))
            .entries
            .into_keys()
            .collect();
        let given = Thunk::value(Value::Unknown("_module.args".into()));
        let mut args = base;
        for name in names {
            let described = format!("_module.args.{name}");
            args.insert(
                name.clone(),
                Thunk::select(given.clone(), &name, &described, None),
            );
        }
        let args_thunk = Thunk::value(partial_set(args.clone()));
        let mut modules = Vec::new();
        for root in roots {
            self.collect_modules(root, &args_thunk, pos, 0, &mut modules, true);
        }
        let module_args = self.speculatively(|evaluator| evaluator.module_args(&modules));
        given.set(ThunkState::Done(Value::Attrs(Rc::new(module_args))));
        (modules, args)
    }

    /// The `_module.args` (and `config._module.args`) the modules define, merged.
    fn module_args(&mut self, modules: &[Rc<AttrSetValue>]) -> AttrSetValue {
        let mut merged = AttrSetValue::default();
        for module in modules {
            let Some(internal) = module.entries.get("_module").cloned() else {
                continue;
            };
            let Value::Attrs(internal) = self.force(&internal) else {
                continue;
            };
            let Some(args) = internal.entries.get("args").cloned() else {
                continue;
            };
            match self.force(&args) {
                Value::Attrs(args) => merged.entries.extend(args.entries.clone()),
                Value::Unknown(what) => merged.partial.push(what),
                _ => {}
            }
        }
        merged
    }

    /// Adds the module `module` is, and those it imports, to `found` (a module's `config`
    /// is a module too). `warn`: say what cannot be followed (on the second pass only).
    fn collect_modules(
        &mut self,
        module: &Thunk,
        args: &Thunk,
        pos: Pos,
        depth: usize,
        found: &mut Vec<Rc<AttrSetValue>>,
        warn: bool,
    ) {
        if depth > MAX_IMPORT_DEPTH {
            return;
        }
        let written = self.thunk_text(module);
        let value = self.force(module);
        let value = match Evaluator::as_path(&value) {
            Some((path, shown)) => self.import(&path, &shown, pos),
            None => value,
        };
        let value = match value {
            Value::Lambda(closure) => self.call(&closure, args.clone()),
            other => other,
        };
        match value {
            Value::Attrs(set) => {
                if let Some(imports) = set.entries.get("imports").cloned() {
                    // What a module imports is said at its own `imports` (in its file).
                    let at = self.attr_position(&imports).unwrap_or(pos);
                    match self.force(&imports) {
                        Value::List(items) => {
                            for item in items.iter() {
                                self.collect_modules(item, args, at, depth + 1, found, warn);
                            }
                        }
                        Value::Unknown(what) if warn => self.module_not_read(&what, at),
                        _ => {}
                    }
                }
                if let Some(config) = set.entries.get("config").cloned() {
                    if let Value::Attrs(config) = self.force(&config) {
                        found.push(config);
                    }
                }
                found.push(set);
            }
            Value::List(items) => {
                for item in items.iter() {
                    self.collect_modules(item, args, pos, depth + 1, found, warn);
                }
            }
            Value::Unknown(what) if warn => {
                self.module_not_read(if what.is_empty() { &written } else { &what }, pos)
            }
            _ => {}
        }
    }

    /// A module the reader cannot read (a flake input's `flakeModule`, a computed path).
    fn module_not_read(&mut self, what: &str, pos: Pos) {
        self.note_input_holder(what, Some(pos));
        let warning = Note::at(
            self.location(pos),
            format!(
                "flake-parts module `{what}` is not one of the flake's files the reader can follow; what it defines (perSystem, crane calls) is not seen"
            ),
        );
        if !self.warnings.contains(&warning) {
            self.warn(warning);
        }
    }

    /// The text of a thunk's expression, before it is forced.
    fn thunk_text(&self, thunk: &Thunk) -> String {
        thunk.expression_text().unwrap_or_default()
    }

    /// The definitions of one option, merged: attribute sets are joined (a later
    /// definition of the same attribute wins), anything else is the last definition.
    pub(super) fn merge_definitions(&mut self, definitions: &Thunk, text: &str) -> Value {
        let Value::List(items) = self.force(definitions) else {
            return Value::Unknown(text.to_string());
        };
        let mut merged: Option<AttrSetValue> = None;
        let mut last = Value::Unknown(text.to_string());
        for item in items.iter() {
            match self.force(item) {
                Value::Attrs(set) => {
                    let into = merged.get_or_insert_with(AttrSetValue::default);
                    into.entries.extend(set.entries.clone());
                    into.partial.extend(set.partial.iter().cloned());
                }
                failed @ Value::Error(_) => return failed,
                other => last = other,
            }
        }
        merged.map_or(last, |set| Value::Attrs(Rc::new(set)))
    }
}

/// The modules' definitions merged, option by option, lazily.
fn merge_modules(modules: &[Rc<AttrSetValue>], pos: Pos, text: &str) -> AttrSetValue {
    let mut definitions: BTreeMap<String, Vec<Thunk>> = BTreeMap::new();
    let mut partial = Vec::new();
    for module in modules {
        for (option, thunk) in &module.entries {
            if !MODULE_SYSTEM_KEYS.contains(&option.as_str()) {
                definitions
                    .entry(option.clone())
                    .or_default()
                    .push(thunk.clone());
            }
        }
        partial.extend(module.partial.iter().cloned());
    }
    let entries = definitions
        .into_iter()
        .map(|(option, mut defined)| {
            let thunk = if defined.len() == 1 {
                defined.remove(0)
            } else {
                Thunk::applied(
                    builtin(Builtin::MergeDefinitions),
                    Thunk::value(Value::List(Rc::new(defined))),
                    pos,
                    text,
                )
            };
            (option, thunk)
        })
        .collect();
    AttrSetValue { entries, partial }
}

/// Arguments whose values are not known.
fn unknown_args(names: &[&str]) -> BTreeMap<String, Thunk> {
    names
        .iter()
        .map(|name| {
            (
                name.to_string(),
                Thunk::value(Value::Unknown(name.to_string())),
            )
        })
        .collect()
}

/// A set of arguments that may lack some a module asks for (they are unknown).
fn partial_set(entries: BTreeMap<String, Thunk>) -> Value {
    Value::Attrs(Rc::new(AttrSetValue {
        entries,
        partial: vec!["module arguments".into()],
    }))
}
