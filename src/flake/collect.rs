//! Finding the crane derivations a flake's outputs hold, naming them, and turning them
//! into phase specs.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::rc::Rc;

use super::eval::Evaluator;
use super::value::{AttrSetValue, CraneDerivation, Thunk, ThunkState, Value};
use crate::phase::crane::is_known_attr;
use crate::phase::{AttrValue, PhaseSpec, is_env_attr};
use crate::phase::{did_you_mean, known_attrs};

/// How deep the outputs are searched for derivations.
const MAX_DEPTH: usize = 12;

/// A derivation and the names it was found under: (preference, name), lower is better.
struct Found {
    derivation: Rc<CraneDerivation>,
    names: BTreeSet<(u8, String)>,
}

pub fn phase_specs(evaluator: &mut Evaluator, root: Value) -> Vec<PhaseSpec> {
    let mut search = Search {
        found: BTreeMap::new(),
        called: HashSet::new(),
    };
    let outputs = match &root {
        Value::Attrs(set) => set
            .entries
            .get("outputs")
            .cloned()
            .map(|t| evaluator.force(&t)),
        _ => None,
    };
    let start = match outputs {
        Some(Value::Lambda(closure)) => call_outputs(evaluator, &closure),
        Some(other) => other,
        None => root,
    };
    search.visit(evaluator, start, &mut Vec::new(), 0);
    // Values handed to frames (flake-utils, flake-parts) are searched too, until no new ones.
    let mut seen_frames = 0;
    while seen_frames < evaluator.frames.len() {
        let frame = evaluator.frames[seen_frames].clone();
        seen_frames += 1;
        search.visit(evaluator, frame, &mut Vec::new(), 0);
    }
    // Force every argument of every crane call, so the derivations they hold (an inline or
    // let-bound `cargoArtifacts`) exist before bindings are searched for names.
    let mut forced = 0;
    while forced < evaluator.derivations.len() {
        let derivation = evaluator.derivations[forced].clone();
        forced += 1;
        for thunk in derivation.args.entries.values() {
            evaluator.force(thunk);
        }
    }
    // A let name is a phase name only when it names one derivation (a `deps` bound inside
    // a function called twice names two: those are named after their users instead).
    let mut by_name: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    let mut bound = Vec::new();
    for (name, thunk) in evaluator.bindings.clone() {
        if let Some(Value::Derivation(d)) = thunk.peek() {
            by_name.entry(name.clone()).or_default().insert(d.id);
            bound.push((name, d));
        }
    }
    for (name, d) in bound {
        if by_name.get(&name).is_some_and(|ids| ids.len() == 1) {
            search.add(&d, 2, name);
        }
    }
    Specs::build(evaluator, search.found)
}

/// Calls a flake's `outputs` with `self` bound to its own result (flake inputs unknown).
fn call_outputs(evaluator: &mut Evaluator, closure: &super::value::Closure) -> Value {
    let self_thunk = Thunk::value(Value::Unknown("self".into()));
    let mut inputs = BTreeMap::new();
    inputs.insert("self".to_string(), self_thunk.clone());
    let arg = Value::Attrs(Rc::new(AttrSetValue {
        entries: inputs,
        partial: vec!["flake inputs".into()],
    }));
    let result = evaluator.call(closure, Thunk::value(arg));
    *self_thunk.0.borrow_mut() = ThunkState::Done(result.clone());
    result
}

struct Search {
    found: BTreeMap<usize, Found>,
    called: HashSet<usize>,
}

impl Search {
    fn add(&mut self, derivation: &Rc<CraneDerivation>, preference: u8, name: String) {
        // `default` is the least telling name of its group.
        let preference = preference * 2 + u8::from(name == "default");
        self.found
            .entry(derivation.id)
            .or_insert_with(|| Found {
                derivation: derivation.clone(),
                names: BTreeSet::new(),
            })
            .names
            .insert((preference, name));
    }

    fn visit(
        &mut self,
        evaluator: &mut Evaluator,
        value: Value,
        path: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Derivation(d) => {
                let (preference, name) = name_from_path(path);
                self.add(&d, preference, name);
            }
            Value::Attrs(set) => {
                for (key, thunk) in set.entries.iter() {
                    if key == "inputs" || key == "self" {
                        continue;
                    }
                    let child = evaluator.force(thunk);
                    path.push(key.clone());
                    self.visit(evaluator, child, path, depth + 1);
                    path.pop();
                }
            }
            Value::List(items) => {
                for item in items.iter() {
                    let child = evaluator.force(item);
                    self.visit(evaluator, child, path, depth + 1);
                }
            }
            Value::Lambda(closure) => {
                // perSystem, outputs, overlays: call with unknown arguments and look inside.
                let key = Rc::as_ptr(&closure) as usize;
                if self.called.insert(key) {
                    let result =
                        evaluator.call(&closure, Thunk::value(Value::Unknown("argument".into())));
                    self.visit(evaluator, result, path, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// `checks.<name>` is preferred, then `packages.<name>`, then any other output path;
/// system segments (`x86_64-linux`, `${system}`) are skipped.
fn name_from_path(path: &[String]) -> (u8, String) {
    let names: Vec<&String> = path.iter().filter(|p| !is_system(p)).collect();
    for (preference, group) in [(0, "checks"), (1, "packages")] {
        if let Some(i) = names.iter().position(|p| *p == group) {
            if let Some(name) = names.get(i + 1) {
                return (preference, name.to_string());
            }
        }
    }
    (
        3,
        names
            .last()
            .map_or_else(|| "phase".into(), |n| n.to_string()),
    )
}

fn is_system(segment: &str) -> bool {
    segment.starts_with("${")
        || [
            "-linux", "-darwin", "-windows", "-freebsd", "-netbsd", "-openbsd", "-none",
        ]
        .iter()
        .any(|os| segment.ends_with(os))
}

/// Turns found derivations into specs, giving each a unique name.
struct Specs<'a> {
    evaluator: &'a mut Evaluator,
    names: BTreeMap<usize, String>,
    specs: Vec<PhaseSpec>,
    done: HashSet<usize>,
}

impl Specs<'_> {
    fn build(evaluator: &mut Evaluator, found: BTreeMap<usize, Found>) -> Vec<PhaseSpec> {
        let mut specs = Specs {
            evaluator,
            names: BTreeMap::new(),
            specs: Vec::new(),
            done: HashSet::new(),
        };
        let mut taken = BTreeSet::new();
        for found in found.values() {
            let base = found
                .names
                .iter()
                .next()
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| "phase".into());
            specs
                .names
                .insert(found.derivation.id, unique(&base, &mut taken));
        }
        let mut ordered: Vec<&Found> = found.values().collect();
        ordered.sort_by_key(|f| {
            (
                f.derivation.pos.file,
                f.derivation.pos.offset,
                f.derivation.id,
            )
        });
        let mut taken_all = taken;
        for found in ordered {
            specs.add(&found.derivation, &mut taken_all);
        }
        dedupe(specs.specs)
    }

    fn add(&mut self, derivation: &Rc<CraneDerivation>, taken: &mut BTreeSet<String>) {
        if !self.done.insert(derivation.id) {
            return;
        }
        let name = self
            .names
            .get(&derivation.id)
            .cloned()
            .unwrap_or_else(|| unique("phase", taken));
        let location = self.evaluator.location(derivation.pos);
        let mut spec = PhaseSpec {
            name: name.clone(),
            origin: Some(location.clone()),
            toolchain: Some(derivation.toolchain.clone()),
            ..PhaseSpec::default()
        };
        spec.attrs.insert(
            "function".into(),
            AttrValue::Str(derivation.function.clone()),
        );
        for what in &derivation.args.partial {
            spec.approximations.push(format!(
                "{location}: part of the arguments could not be resolved ({what})"
            ));
        }
        for (attr, thunk) in derivation.args.entries.clone() {
            let value = self.evaluator.force(&thunk);
            match attr.as_str() {
                "env" => self.env(&mut spec, &value, &location),
                "cargoArtifacts" => {
                    let artifacts = self.artifacts(&name, value, &location, &mut spec, taken);
                    spec.attrs.insert(attr, artifacts);
                }
                _ if !is_env_attr(&attr) && !is_known_attr(&attr) => {
                    let hint = did_you_mean(&attr, &known_attrs()).unwrap_or_default();
                    self.evaluator.warnings.push(format!(
                        "{location}: phase `{name}`: attribute `{attr}` is not one crane reads; ignored (crane passes it on as an environment variable){hint}"
                    ));
                }
                _ => {
                    if let Some(converted) = self.convert(&value) {
                        spec.attrs.insert(attr, converted);
                    }
                }
            }
        }
        self.specs.push(spec);
    }

    /// `cargoArtifacts`: the name of the phase whose derivation it is; an inline
    /// derivation becomes a phase of its own (`<phase>-deps`).
    fn artifacts(
        &mut self,
        phase: &str,
        value: Value,
        location: &str,
        spec: &mut PhaseSpec,
        taken: &mut BTreeSet<String>,
    ) -> AttrValue {
        match value {
            Value::Derivation(d) => {
                let name = match self.names.get(&d.id) {
                    Some(name) => name.clone(),
                    None => {
                        let name = unique(&format!("{phase}-deps"), taken);
                        self.names.insert(d.id, name.clone());
                        name
                    }
                };
                self.add(&d, taken);
                AttrValue::Str(name)
            }
            Value::Null => AttrValue::Null,
            other => {
                let what = describe(&other);
                spec.approximations.push(format!(
                    "{location}: attribute cargoArtifacts could not be resolved ({what})"
                ));
                AttrValue::Unknown(what)
            }
        }
    }

    fn env(&mut self, spec: &mut PhaseSpec, value: &Value, location: &str) {
        let Value::Attrs(set) = value else {
            spec.approximations.push(format!(
                "{location}: attribute env could not be resolved ({})",
                describe(value)
            ));
            return;
        };
        for (name, thunk) in set.entries.clone() {
            match self.evaluator.force(&thunk) {
                Value::Str(s) => {
                    spec.env.insert(name, s);
                }
                Value::Int(i) => {
                    spec.env.insert(name, i.to_string());
                }
                Value::Bool(b) => {
                    spec.env
                        .insert(name, if b { "1".into() } else { String::new() });
                }
                other => spec.approximations.push(format!(
                    "{location}: attribute env.{name} could not be resolved ({})",
                    describe(&other)
                )),
            }
        }
    }

    fn convert(&mut self, value: &Value) -> Option<AttrValue> {
        Some(match value {
            Value::Str(s) => AttrValue::Str(s.clone()),
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Int(i) => AttrValue::Int(*i),
            Value::Null => AttrValue::Null,
            Value::Path(_, text) => AttrValue::Str(text.clone()),
            Value::List(items) => {
                let mut converted = Vec::new();
                for item in items.iter() {
                    let item = self.evaluator.force(item);
                    converted.push(match item {
                        Value::Str(s) => AttrValue::Str(s),
                        Value::Path(_, text) => AttrValue::Str(text),
                        other => AttrValue::Unknown(describe(&other)),
                    });
                }
                AttrValue::List(converted)
            }
            // Unknown values of attributes that matter are noted by the phase model (with
            // the call's location); derivation attributes (`src`, inputs) keep their text.
            Value::Unknown(what) => AttrValue::Unknown(what.clone()),
            Value::Float(f) => AttrValue::Str(f.to_string()),
            Value::Attrs(_)
            | Value::Lambda(_)
            | Value::Builtin(..)
            | Value::CraneFunction(..)
            | Value::CraneLib(_) => {
                return None;
            }
            Value::Derivation(d) => {
                AttrValue::Unknown(format!("crane derivation ({})", d.function))
            }
        })
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Unknown(what) => what.clone(),
        other => other.type_name().to_string(),
    }
}

fn unique(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// The same crane call evaluated twice (a function called from two places with equal
/// arguments) is one phase: specs equal but for their name merge into the first.
fn dedupe(specs: Vec<PhaseSpec>) -> Vec<PhaseSpec> {
    let mut kept: Vec<PhaseSpec> = Vec::new();
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for spec in specs {
        let same = kept
            .iter()
            .find(|k| k.origin == spec.origin && k.attrs == spec.attrs && k.env == spec.env);
        match same {
            Some(existing) => {
                renamed.insert(spec.name.clone(), existing.name.clone());
            }
            None => kept.push(spec),
        }
    }
    for spec in &mut kept {
        if let Some(AttrValue::Str(source)) = spec.attrs.get_mut("cargoArtifacts") {
            if let Some(new) = renamed.get(source) {
                *source = new.clone();
            }
        }
    }
    kept
}
