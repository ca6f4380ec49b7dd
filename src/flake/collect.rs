//! Finding the crane derivations a flake's outputs hold, naming them, and turning them
//! into phase specs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use super::eval::value::{
    AttrSetValue, Closure, CraneDerivation, DerivationId, Thunk, Toolchain, Value,
};
use super::eval::{Evaluator, FrameId, is_system_name};
use crate::phase::crane::{DERIVATION_ATTRS, crane_own_attrs, is_known_attr};
use crate::phase::{AttrValue, PhaseSpec, is_env_attr};
use crate::phase::{did_you_mean, known_attrs};

/// How deep the outputs are searched for derivations.
const MAX_DEPTH: usize = 12;

/// A derivation and the names it was found under: (preference, how deep below the name
/// it was, name), lower is better.
struct Found {
    derivation: Rc<CraneDerivation>,
    names: BTreeSet<(u8, usize, String)>,
    /// Reached through the outputs without any condition the evaluator cannot decide.
    unconditional: bool,
    /// The undecidable conditions it was reached under (`file:line` and the condition).
    conditions: BTreeSet<(String, String)>,
}

impl Found {
    /// `derivation`, found under no name yet.
    fn new(derivation: Rc<CraneDerivation>) -> Found {
        Found {
            derivation,
            names: BTreeSet::new(),
            unconditional: false,
            conditions: BTreeSet::new(),
        }
    }
}

pub fn phase_specs(evaluator: &mut Evaluator, root: Value) -> Vec<PhaseSpec> {
    let mut search = Search {
        found: BTreeMap::new(),
        conditions: Vec::new(),
        frames_loop: false,
        called: Vec::new(),
        frames_visited: HashSet::new(),
        outputs: None,
    };
    let start = evaluator.flake_outputs(root);
    if let Value::Attrs(set) = &start {
        search.outputs = Some(set.clone());
    }
    // Searching forces what Nix may never force.
    evaluator.speculatively(|evaluator| {
        search.visit(evaluator, start, &mut Vec::new(), 0);
        // Values handed to frames (flake-utils, flake-parts) are searched too, until no
        // new ones. Reached this way, a derivation's conditions are not known.
        search.frames_loop = true;
        let mut seen_frames = 0;
        while let Some(frame) = evaluator.nth_frame(seen_frames) {
            seen_frames += 1;
            if !search.is_outputs(&frame) {
                search.visit(evaluator, frame, &mut Vec::new(), 0);
            }
        }
    });
    // Force every argument of every crane call, so the derivations they hold (an inline or
    // let-bound `cargoArtifacts`) exist before bindings are searched for names.
    let mut forced = 0;
    while let Some(derivation) = evaluator.derivations().get(forced).cloned() {
        forced += 1;
        for thunk in derivation.args.entries.values() {
            evaluator.force(thunk);
        }
    }
    // The same crane call reached more than once (per system, through `packages` and
    // `checks`, a function called twice with equal arguments) is one phase.
    let classes = evaluator.speculatively(same_calls);
    let class = |id: DerivationId| classes.get(id.0).copied().unwrap_or(id);
    // A let name is a phase name only when it names one call (a `deps` bound inside
    // a function called with different arguments names several: those are named after
    // their users instead).
    let mut by_name: BTreeMap<String, BTreeSet<DerivationId>> = BTreeMap::new();
    let mut bound = Vec::new();
    for (name, thunk) in evaluator.bindings() {
        if let Some(Value::Derivation(d)) = thunk.peek() {
            by_name.entry(name.clone()).or_default().insert(class(d.id));
            bound.push((name, d));
        }
    }
    for (name, d) in bound {
        if by_name.get(&name).is_some_and(|ids| ids.len() == 1) {
            search.add(&d, Some((2, 0, name)));
        }
    }
    let mut merged: BTreeMap<DerivationId, Found> = BTreeMap::new();
    for (id, found) in search.found {
        let representative = evaluator.derivation(class(id));
        let entry = merged
            .entry(class(id))
            .or_insert_with(|| Found::new(representative));
        entry.names.extend(found.names);
        entry.unconditional |= found.unconditional;
        entry.conditions.extend(found.conditions);
    }
    Specs::build(evaluator, merged, classes)
}

/// Groups crane calls that are the same call: same place, function and crane lib, and
/// equal arguments (derivations among them equal when they are the same call). Returns
/// each derivation's representative (the first of its group).
fn same_calls(evaluator: &mut Evaluator) -> Vec<DerivationId> {
    let mut classes: Vec<DerivationId> = (0..evaluator.derivations().len())
        .map(DerivationId)
        .collect();
    loop {
        let mut first: HashMap<String, DerivationId> = HashMap::new();
        let mut next = classes.clone();
        for (index, slot) in next.iter_mut().enumerate() {
            let id = DerivationId(index);
            let d = evaluator.derivation(id);
            let mut key = format!(
                "{}:{}:{}:{:?}:",
                d.pos.file, d.pos.offset, d.function, d.toolchain.key
            );
            fingerprint_set(evaluator, &d.args, &classes, 0, &mut key);
            *slot = *first.entry(key).or_insert(id);
        }
        // Comparing forces arguments, which may make more crane calls (`passthru.tests`):
        // they join in the next round.
        let count = evaluator.derivations().len();
        if next == classes && count == classes.len() {
            return classes;
        }
        next.extend((classes.len()..count).map(DerivationId));
        classes = next;
    }
}

/// How deep arguments are compared; deeper sets and lists are equal only when they are
/// the very same value.
const FINGERPRINT_DEPTH: usize = 6;

fn fingerprint_set(
    evaluator: &mut Evaluator,
    set: &AttrSetValue,
    classes: &[DerivationId],
    depth: usize,
    out: &mut String,
) {
    out.push('{');
    for (key, thunk) in &set.entries {
        out.push_str(&format!("{key:?}="));
        let value = evaluator.force(thunk);
        fingerprint(evaluator, &value, classes, depth + 1, out);
        out.push(';');
    }
    for part in &set.partial {
        out.push_str(&format!("//?{part:?}"));
    }
    out.push('}');
}

/// A text that is equal for equal values (unknown values: equal when written alike).
fn fingerprint(
    evaluator: &mut Evaluator,
    value: &Value,
    classes: &[DerivationId],
    depth: usize,
    out: &mut String,
) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format!("{f:?}")),
        Value::Str(s) => out.push_str(&format!("{s:?}")),
        Value::PartialStr(s, missing) => {
            out.push_str(&format!("{s:?}"));
            for (pos, text) in missing.iter() {
                out.push_str(&format!("?{}:{}:{text:?}", pos.file, pos.offset));
            }
        }
        Value::Path(path, _) => out.push_str(&format!("path:{path:?}")),
        Value::List(items) if depth < FINGERPRINT_DEPTH => {
            out.push('[');
            for item in items.iter() {
                let item = evaluator.force(item);
                fingerprint(evaluator, &item, classes, depth + 1, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::List(items) => out.push_str(&format!("list@{:p}", Rc::as_ptr(items))),
        Value::Attrs(set) if depth < FINGERPRINT_DEPTH => {
            fingerprint_set(evaluator, set, classes, depth, out)
        }
        Value::Attrs(set) => out.push_str(&format!("set@{:p}", Rc::as_ptr(set))),
        Value::Lambda(closure) => out.push_str(&format!("lambda@{:p}", Rc::as_ptr(closure))),
        Value::Builtin(builtin, args) => {
            out.push_str(&format!("{builtin:?}("));
            for arg in args.iter() {
                let arg = evaluator.force(arg);
                fingerprint(evaluator, &arg, classes, depth + 1, out);
                out.push(',');
            }
            out.push(')');
        }
        Value::CraneLib(toolchain) => out.push_str(&format!("cranelib:{:?}", toolchain.key)),
        Value::CraneFunction(toolchain, name) => {
            out.push_str(&format!("crane:{:?}.{name}", toolchain.key))
        }
        Value::Derivation(d) => out.push_str(&format!(
            "drv#{}",
            classes.get(d.id.0).copied().unwrap_or(d.id).0
        )),
        Value::Unknown(what) => out.push_str(&format!("?{what:?}")),
        Value::Error(error) => out.push_str(&format!("!{:?}", error.message)),
        Value::Source(dir, what) => out.push_str(&format!("src:{dir:?}:{what:?}")),
    }
}

struct Search {
    found: BTreeMap<DerivationId, Found>,
    /// The undecidable conditions of the attributes on the current path.
    conditions: Vec<(String, String)>,
    /// Searching frames or naming by bindings: whether a derivation is conditional is not
    /// known from there.
    frames_loop: bool,
    /// The functions in the outputs already called (kept, so none is freed and another
    /// takes its place).
    called: Vec<Rc<Closure>>,
    /// Frames already searched, with the output path they were searched under.
    frames_visited: HashSet<(FrameId, Vec<String>)>,
    /// The flake's outputs: handed to an unknown function (`check self`), not searched again.
    outputs: Option<Rc<AttrSetValue>>,
}

impl Search {
    /// Whether `value` is the flake's own outputs.
    fn is_outputs(&self, value: &Value) -> bool {
        matches!(value, Value::Attrs(set) if self.is_outputs_set(set))
    }

    fn is_outputs_set(&self, set: &Rc<AttrSetValue>) -> bool {
        self.outputs
            .as_ref()
            .is_some_and(|outputs| Rc::ptr_eq(outputs, set))
    }

    /// A derivation found, with the name its place gives it (if any).
    fn add(&mut self, derivation: &Rc<CraneDerivation>, name: Option<(u8, usize, String)>) {
        let found = self
            .found
            .entry(derivation.id)
            .or_insert_with(|| Found::new(derivation.clone()));
        if !self.frames_loop {
            if self.conditions.is_empty() {
                found.unconditional = true;
            }
            found.conditions.extend(self.conditions.iter().cloned());
        }
        if let Some((preference, below, name)) = name {
            // `default` is the least telling name of its group.
            let defaultish = name == "default" || name.ends_with("-default");
            let preference = preference * 2 + u8::from(defaultish);
            found.names.insert((preference, below, name));
        }
    }

    /// An unknown value in the outputs (`pkgs.mkShell { … }`, `wrap (craneLib.… )`):
    /// the sets and functions handed to unknown functions while it was evaluated may
    /// hold crane calls; they are searched under the value's own path.
    fn visit_frames_of(
        &mut self,
        evaluator: &mut Evaluator,
        thunk: &Thunk,
        path: &mut Vec<String>,
        depth: usize,
    ) {
        for id in evaluator.frames_of(thunk) {
            let frame = evaluator.frame(id);
            if !self.is_outputs(&frame) && self.frames_visited.insert((id, path.clone())) {
                self.visit(evaluator, frame, path, depth + 1);
            }
        }
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
                let name = name_from_path(path);
                self.add(&d, name);
                // Crane calls under `passthru` (`passthru.tests.clippy`) are phases too.
                if let Some(passthru) = d.args.entries.get("passthru").cloned() {
                    let passthru = evaluator.force(&passthru);
                    path.push("passthru".to_string());
                    self.visit(evaluator, passthru, path, depth + 1);
                    path.pop();
                }
            }
            // The outputs reached again (`src = self;`) are searched once, from the top.
            Value::Attrs(ref set) if !path.is_empty() && self.is_outputs_set(set) => {}
            Value::Attrs(set) => {
                for (key, thunk) in set.entries.iter() {
                    if key == "inputs" || key == "self" {
                        continue;
                    }
                    let child = evaluator.force(thunk);
                    path.push(key.clone());
                    let condition = evaluator
                        .condition(thunk)
                        .map(|c| (evaluator.location(c.pos), c.text.clone()));
                    let conditional = condition.is_some();
                    self.conditions.extend(condition);
                    // A string may interpolate derivations (`"${drv}/lib"`): its frames.
                    if matches!(child, Value::Unknown(_) | Value::PartialStr(..)) {
                        self.visit_frames_of(evaluator, thunk, path, depth);
                    }
                    self.visit(evaluator, child, path, depth + 1);
                    if conditional {
                        self.conditions.pop();
                    }
                    path.pop();
                }
            }
            Value::List(items) => {
                for item in items.iter() {
                    let child = evaluator.force(item);
                    if matches!(child, Value::Unknown(_) | Value::PartialStr(..)) {
                        self.visit_frames_of(evaluator, item, path, depth);
                    }
                    self.visit(evaluator, child, path, depth + 1);
                }
            }
            // perSystem, outputs, overlays: call with unknown arguments and look inside.
            Value::Lambda(closure) if !self.called.iter().any(|c| Rc::ptr_eq(c, &closure)) => {
                self.called.push(closure.clone());
                let result =
                    evaluator.call(&closure, Thunk::value(Value::Unknown("argument".into())));
                self.visit(evaluator, result, path, depth + 1);
            }
            _ => {}
        }
    }
}

/// `checks.<name>` is preferred, then `packages.<name>`, then any other output path;
/// system segments (`x86_64-linux`, `${system}`) are skipped, and so are trailing
/// attributes of a derivation (`src`, `inputsFrom`, `cargoArtifacts`, ...), which hold a
/// derivation but do not name it. With the name, how many segments were below it. `None`
/// when nothing is left.
fn name_from_path(path: &[String]) -> Option<(u8, usize, String)> {
    // Under a derivation's `passthru`: named after the derivation and the attribute
    // (`lzbt` + `passthru.tests.clippy`: `lzbt-clippy`).
    if let Some(i) = path.iter().rposition(|p| p == "passthru") {
        let (preference, below, owner) = name_from_path(&path[..i])?;
        let rest: Vec<&str> = path[i + 1..]
            .iter()
            .map(String::as_str)
            .filter(|p| !is_system_name(p) && *p != "tests")
            .collect();
        // What a passthru derivation holds (`cargoArtifacts`, `src`) is named elsewhere.
        if rest.iter().any(|p| is_derivation_attr(p)) {
            return None;
        }
        // Below a `let` name: `passthru.deps = deps;` is named `deps`.
        let preference = preference.max(3);
        return Some(match rest.last() {
            Some(last) => (preference, below, format!("{owner}-{last}")),
            None => (preference, below + 1, owner),
        });
    }
    let mut names: Vec<&String> = path.iter().filter(|p| !is_system_name(p)).collect();
    let all = names.len();
    while let Some(last) = names.last() {
        let output_name =
            names.len() >= 2 && matches!(names[names.len() - 2].as_str(), "checks" | "packages");
        if output_name || !is_derivation_attr(last) {
            break;
        }
        names.pop();
    }
    // Held by another derivation as an input (`nativeBuildInputs`, `inputsFrom`, a build
    // script): that derivation's name is not this one's; its own binding, pname or function
    // names it. A wrapper's `src` (or an app's `program`) is the package itself.
    let kept = names.len();
    if path
        .iter()
        .filter(|p| !is_system_name(p))
        .skip(kept)
        .any(|p| p != "src" && p != "program")
    {
        return None;
    }
    for (preference, group) in [(0, "checks"), (1, "packages")] {
        if let Some(i) = names.iter().position(|p| *p == group) {
            if let Some(name) = names.get(i + 1) {
                return Some((preference, all - (i + 2), name.to_string()));
            }
        }
    }
    let last = names.last()?;
    // `devShells.default` says more than `default`.
    let name = match names.len().checked_sub(2).map(|i| names[i]) {
        Some(parent) if *last == "default" => format!("{parent}-default"),
        _ => last.to_string(),
    };
    Some((3, all - names.len(), name))
}

/// An attribute of a derivation (crane's, stdenv's, mkShell's) or of an app rather than an
/// output name.
fn is_derivation_attr(name: &str) -> bool {
    is_known_attr(name)
        || is_env_attr(name)
        || matches!(
            name,
            "inputsFrom"
                | "packages"
                | "checks"
                | "depsBuildTarget"
                | "depsHostHost"
                | "depsTargetTarget"
                | "propagatedUserEnvPkgs"
                | "drvAttrs"
                | "args"
                | "program"
        )
}

/// Turns found derivations into specs, giving each a unique name.
struct Specs<'a> {
    evaluator: &'a mut Evaluator,
    /// Each derivation's representative among the same calls.
    classes: Vec<DerivationId>,
    names: BTreeMap<DerivationId, String>,
    specs: Vec<PhaseSpec>,
    done: HashSet<DerivationId>,
    /// Each crane lib's name in the phases, by its key.
    toolchains: HashMap<String, String>,
    /// The undecidable conditions of derivations only reached under them, by id.
    conditions: HashMap<DerivationId, BTreeSet<(String, String)>>,
}

impl Specs<'_> {
    fn build(
        evaluator: &mut Evaluator,
        found: BTreeMap<DerivationId, Found>,
        classes: Vec<DerivationId>,
    ) -> Vec<PhaseSpec> {
        let toolchains =
            toolchain_names(evaluator, found.values().map(|f| &f.derivation.toolchain));
        let conditions = found
            .values()
            .filter(|f| !f.unconditional && !f.conditions.is_empty())
            .map(|f| (f.derivation.id, f.conditions.clone()))
            .collect();
        let mut specs = Specs {
            evaluator,
            classes,
            names: BTreeMap::new(),
            specs: Vec::new(),
            done: HashSet::new(),
            toolchains,
            conditions,
        };
        let mut taken = BTreeSet::new();
        // The best-placed derivation gets the plain name (`checks.x` before `packages.x`).
        let mut by_name: Vec<&Found> = found.values().collect();
        by_name.sort_by_key(|f| f.names.iter().next().cloned());
        for found in by_name {
            if let Some((_, _, base)) = found.names.iter().next() {
                specs
                    .names
                    .insert(found.derivation.id, unique(base, &mut taken));
            }
        }
        // Named ones first: a nameless one may be named after the phase using it
        // (`<phase>-deps`); the rest are named after their crane function.
        let mut ordered: Vec<&Found> = found.values().collect();
        ordered.sort_by_key(|f| {
            (
                f.names.is_empty(),
                f.derivation.pos.file,
                f.derivation.pos.offset,
                f.derivation.id,
            )
        });
        for found in ordered {
            specs.add(&found.derivation, &mut taken);
        }
        specs.specs
    }

    fn add(&mut self, derivation: &Rc<CraneDerivation>, taken: &mut BTreeSet<String>) {
        let derivation = &self.evaluator.derivation(self.class(derivation.id));
        if !self.done.insert(derivation.id) {
            return;
        }
        let name = match self.names.get(&derivation.id) {
            Some(name) => name.clone(),
            None => {
                let base = self.own_name(derivation);
                let name = unique(&base, taken);
                self.names.insert(derivation.id, name.clone());
                name
            }
        };
        let location = self.evaluator.location(derivation.pos);
        let mut spec = PhaseSpec {
            name: name.clone(),
            origin: Some(location.clone()),
            toolchain: Some(self.toolchain_name(&derivation.toolchain)),
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
        for (at, condition) in self.conditions.get(&derivation.id).into_iter().flatten() {
            spec.approximations.push(format!(
                "{at}: only when `{condition}`, which cannot be known statically: the phase exists on some systems"
            ));
        }
        let mut dynamic = Vec::new();
        for (attr, thunk) in derivation.args.entries.clone() {
            let value = self.evaluator.force(&thunk);
            if let Some(condition) = self.evaluator.condition(&thunk) {
                spec.approximations.push(format!(
                    "{}: attribute {attr} only when `{}`, which cannot be known statically; used",
                    self.evaluator.location(condition.pos),
                    condition.text
                ));
            }
            if attr.contains("${") {
                dynamic.push((attr, thunk));
                continue;
            }
            if attr == "src" {
                spec.src_dir = self.src_dir(&value);
            }
            match attr.as_str() {
                "env" => self.env(&mut spec, &value, &location),
                // buildDepsOnly ignores cargoArtifacts: a value that is not a phase is none.
                "cargoArtifacts"
                    if derivation.function == "buildDepsOnly"
                        && !matches!(value, Value::Derivation(_)) =>
                {
                    spec.attrs.insert(attr, AttrValue::Null);
                }
                "cargoArtifacts" => {
                    let artifacts = self.artifacts(&name, value, &location, &mut spec, taken);
                    spec.attrs.insert(attr, artifacts);
                }
                _ if !is_env_attr(&attr) && !is_known_attr(&attr) => {
                    // A near miss of crane's own attribute is a typo: crane would
                    // silently use its default.
                    if let Some(hint) = did_you_mean(&attr, &crane_own_attrs()) {
                        let at = self
                            .evaluator
                            .attr_position(&thunk)
                            .map_or(location.clone(), |pos| self.evaluator.location(pos));
                        self.evaluator.reject(format!(
                            "{at}: phase `{name}`: unknown attribute `{attr}`{hint}"
                        ));
                        continue;
                    }
                    let hint = did_you_mean(&attr, &known_attrs()).unwrap_or_default();
                    self.evaluator.warn(format!(
                        "{location}: phase `{name}`: attribute `{attr}` is not one crane reads; ignored (crane passes it on as an environment variable){hint}"
                    ));
                }
                _ => {
                    // Only attributes that change what cargo does are worth a note.
                    if !DERIVATION_ATTRS.contains(&attr.as_str()) {
                        note_left_out(&mut spec, self.evaluator, &attr, &value);
                    }
                    if let Some(converted) = self.convert(&value) {
                        spec.attrs.insert(attr, converted);
                    }
                }
            }
        }
        self.dynamic_names(&mut spec, &dynamic, &location);
        self.specs.push(spec);
    }

    /// A phase's name when nothing in the outputs names it: its `pname` (with its
    /// `pnameSuffix`) when known, else its crane function.
    fn own_name(&mut self, derivation: &CraneDerivation) -> String {
        let mut text = |key: &str| match derivation.args.entries.get(key) {
            Some(thunk) => match self.evaluator.force(thunk) {
                Value::Str(s) => Some(s),
                _ => None,
            },
            None => None,
        };
        let Some(pname) = text("pname").filter(|p| !p.is_empty()) else {
            return derivation.function.clone();
        };
        let suffix = text("pnameSuffix").unwrap_or_default();
        let base = format!("{pname}{suffix}");
        // buildDepsOnly adds `-deps` to the pname, as crane does.
        if derivation.function == "buildDepsOnly" && !base.ends_with("-deps") {
            format!("{base}-deps")
        } else {
            base
        }
    }

    /// Attributes whose names are not known (`"CC_${target}" = …;`): environment variables
    /// when they look like one (noted once for the phase), else unknown attributes.
    fn dynamic_names(&mut self, spec: &mut PhaseSpec, attrs: &[(String, Thunk)], location: &str) {
        let mut variables = Vec::new();
        for (attr, thunk) in attrs {
            let at = self
                .evaluator
                .attr_position(thunk)
                .map_or(location.to_string(), |pos| self.evaluator.location(pos));
            if looks_like_env_name(attr) {
                variables.push(format!("{at}: {attr}"));
            } else {
                spec.approximations.push(format!(
                    "{at}: attribute {attr}: its name cannot be known statically; ignored"
                ));
            }
        }
        if !variables.is_empty() {
            spec.approximations.push(format!(
                "environment variables whose names cannot be known statically, left unset: {}",
                variables.join(", ")
            ));
        }
    }

    /// The local directory `src` is made from, when known.
    fn src_dir(&mut self, value: &Value) -> Option<std::path::PathBuf> {
        match value {
            Value::Path(dir, _) | Value::Source(dir, _) => Some(dir.clone()),
            Value::Attrs(set) => self.evaluator.self_dir_of(set),
            _ => None,
        }
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
                let d = self.evaluator.derivation(self.class(d.id));
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

    /// A crane lib as the phases name it: as written, or, when libs written alike differ,
    /// with where it was written.
    fn toolchain_name(&self, toolchain: &Toolchain) -> String {
        self.toolchains
            .get(&toolchain.key)
            .cloned()
            .unwrap_or_else(|| toolchain.text.clone())
    }

    fn class(&self, id: DerivationId) -> DerivationId {
        self.classes.get(id.0).copied().unwrap_or(id)
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
            if let Some(condition) = self.evaluator.condition(&thunk) {
                spec.approximations.push(format!(
                    "{}: attribute env.{name} only when `{}`, which cannot be known statically; used",
                    self.evaluator.location(condition.pos),
                    condition.text
                ));
            }
            match self.evaluator.force(&thunk) {
                Value::Str(s) => {
                    spec.env.insert(name, s);
                }
                value @ Value::PartialStr(..) => {
                    note_left_out(spec, self.evaluator, &format!("env.{name}"), &value);
                    if let Value::PartialStr(s, _) = value {
                        spec.env.insert(name, s);
                    }
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
            Value::Str(s) | Value::PartialStr(s, _) => AttrValue::Str(s.clone()),
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Int(i) => AttrValue::Int(*i),
            Value::Null => AttrValue::Null,
            Value::Path(_, text) => AttrValue::Str(text.clone()),
            Value::List(items) => {
                let mut converted = Vec::new();
                for item in items.iter() {
                    let item = self.evaluator.force(item);
                    converted.push(match item {
                        Value::Str(s) | Value::PartialStr(s, _) => AttrValue::Str(s),
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
            Value::Source(_, what) => AttrValue::Unknown(what.clone()),
            Value::Error(error) => AttrValue::Unknown(error.message.clone()),
        })
    }
}

/// Names for crane libs: their text, unless different libs share it; then with the place
/// they were made (and a number where that is shared too).
fn toolchain_names<'a>(
    evaluator: &Evaluator,
    toolchains: impl Iterator<Item = &'a Toolchain>,
) -> HashMap<String, String> {
    let mut by_text: BTreeMap<String, Vec<&Toolchain>> = BTreeMap::new();
    for toolchain in toolchains {
        let same = by_text.entry(toolchain.text.clone()).or_default();
        if !same.iter().any(|t| t.key == toolchain.key) {
            same.push(toolchain);
        }
    }
    let mut names = HashMap::new();
    for (text, libs) in by_text {
        if let [only] = libs.as_slice() {
            names.insert(only.key.clone(), text);
            continue;
        }
        let mut taken = BTreeSet::new();
        for lib in libs {
            let base = match lib.origin {
                Some(pos) => format!("{text} ({})", evaluator.location(pos)),
                None => text.clone(),
            };
            names.insert(lib.key.clone(), unique(&base, &mut taken));
        }
    }
    names
}

/// `"CC_${target}"`: what is known of the name is upper case, digits and `_`.
fn looks_like_env_name(attr: &str) -> bool {
    let mut known = String::new();
    let mut rest = attr.trim_matches('"');
    while let Some(start) = rest.find("${") {
        known.push_str(&rest[..start]);
        rest = rest[start..]
            .find('}')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    known.push_str(rest);
    known
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A string with unknown interpolations left out: one approximation per piece, at the
/// piece's own file:line.
fn note_left_out(spec: &mut PhaseSpec, evaluator: &Evaluator, attr: &str, value: &Value) {
    if let Value::PartialStr(_, missing) = value {
        for (pos, text) in missing.iter() {
            spec.approximations.push(format!(
                "{}: {attr}: `{text}` unknown, left out",
                evaluator.location(*pos)
            ));
        }
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Unknown(what) | Value::Source(_, what) => what.clone(),
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
