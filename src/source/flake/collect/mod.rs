//! Finding the crane derivations a flake's outputs hold, naming them, and turning them
//! into phase specs.

mod same;
mod sites;
mod specs;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::rc::Rc;

use super::eval::value::{AttrSetValue, Closure, CraneDerivation, DerivationId, Thunk, Value};
use super::eval::{Evaluator, FrameId, is_system_name};
use crate::crane::attrs::is_known_attr;
use crate::located::SourceLocation;
use crate::phase::{PhaseSpec, is_env_attr};
use same::same_calls;
pub(crate) use sites::CraneCalls;
use specs::Specs;

/// How deep the outputs are searched for derivations.
const MAX_DEPTH: usize = 12;

/// A derivation and the names it was found under: (preference, how deep below the name
/// it was, name), lower is better.
pub(super) struct Found {
    derivation: Rc<CraneDerivation>,
    names: BTreeSet<(u8, usize, String)>,
    /// Reached through the outputs without any condition the evaluator cannot decide.
    unconditional: bool,
    /// The undecidable conditions it was reached under (`file:line` and the condition).
    conditions: BTreeSet<(SourceLocation, String)>,
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

/// The phases a flake's outputs hold, and how many of the crane calls written in its files
/// they account for.
pub(super) fn phase_specs(evaluator: &mut Evaluator, root: Value) -> (Vec<PhaseSpec>, CraneCalls) {
    let mut search = Search {
        found: BTreeMap::new(),
        conditions: Vec::new(),
        frames_loop: false,
        called: Vec::new(),
        frames_visited: HashSet::new(),
        outputs: None,
        in_arguments: false,
    };
    let start = evaluator.flake_outputs(root);
    if let Value::Attrs(set) = &start {
        search.outputs = Some(set.clone());
    }
    // Searching forces what Nix may never force.
    evaluator.speculatively(|evaluator| search.visit(evaluator, start.clone(), &mut Vec::new(), 0));
    evaluator.note_outputs_from_inputs(&start, 0);
    // Values handed to frames (flake-utils, flake-parts) are searched too, until no new
    // ones. Reached this way, a derivation's conditions are not known.
    search.frames_loop = true;
    let mut seen_frames = 0;
    let mut forced = 0;
    loop {
        evaluator.speculatively(|evaluator| {
            while let Some(frame) = evaluator.nth_frame(seen_frames) {
                search.in_arguments = evaluator.is_argument_frame(seen_frames);
                seen_frames += 1;
                if !search.is_outputs(&frame) {
                    search.visit(evaluator, frame, &mut Vec::new(), 0);
                }
            }
            search.in_arguments = false;
        });
        // Force every argument of every crane call, so the derivations they hold (an
        // inline or let-bound `cargoArtifacts`) exist before bindings are searched for
        // names; the frames that makes (a tool built with crane in `[ xtask ] ++ …`) are
        // searched in turn.
        while let Some(derivation) = evaluator.derivations().get(forced).cloned() {
            forced += 1;
            for thunk in derivation.args.entries.values() {
                evaluator.force(thunk);
            }
        }
        if evaluator.nth_frame(seen_frames).is_none() {
            break;
        }
    }
    // The same crane call reached more than once (per system, through `packages` and
    // `checks`, a function called twice with equal arguments) is one phase.
    let classes = evaluator.speculatively(same_calls);
    let class = |id: DerivationId| classes.get(id.0).copied().unwrap_or(id);
    // A let name is a phase name only when it names one call (a `deps` bound inside
    // a function called with different arguments names several: those are named after
    // their users instead). A binding evaluated natively and for a cross or static set (a
    // file called by both callPackages) names the native call, and `<name>-<set>` the
    // other.
    let mut by_name: BTreeMap<String, BTreeSet<DerivationId>> = BTreeMap::new();
    let mut bound = Vec::new();
    let suffixes = output_suffixes(&search.found);
    for (name, d) in bound_derivations(evaluator) {
        let name = match &d.toolchain.target {
            Some(target) => {
                let suffix = suffixes.get(&target.name).unwrap_or(&target.name);
                format!("{name}-{suffix}")
            }
            None => name,
        };
        by_name.entry(name.clone()).or_default().insert(class(d.id));
        bound.push((name, d));
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
    let (specs, placed) = Specs::build(evaluator, merged, classes.clone());
    let calls = evaluator.speculatively(|evaluator| sites::account(evaluator, &placed, &classes));
    (specs, calls)
}

/// The suffix the flake's outputs give the phases of a cross or static set, by the set's
/// name, when they all agree: `packages.agent-aarch64` beside `packages.agent` for the same
/// call gives `aarch64-linux` the suffix `aarch64`, so that set's other phases are named
/// alike (`cargoArtifacts-aarch64`).
fn output_suffixes(found: &BTreeMap<DerivationId, Found>) -> BTreeMap<String, String> {
    let best = |f: &Found| f.names.iter().next().map(|(_, _, name)| name.clone());
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for cross in found.values() {
        let (Some(target), Some(cross_name)) = (&cross.derivation.toolchain.target, best(cross))
        else {
            continue;
        };
        let natives = found.values().filter(|native| {
            native.derivation.toolchain.target.is_none()
                && native.derivation.pos == cross.derivation.pos
        });
        for native in natives {
            let suffix = best(native).and_then(|name| {
                let rest = cross_name.strip_prefix(&name)?.strip_prefix('-')?;
                (!rest.is_empty()).then(|| rest.to_string())
            });
            if let Some(suffix) = suffix {
                seen.entry(target.name.clone()).or_default().insert(suffix);
            }
        }
    }
    only_one(seen).collect()
}

/// The keys with exactly one value, with it.
pub(super) fn only_one<K>(map: BTreeMap<K, BTreeSet<String>>) -> impl Iterator<Item = (K, String)> {
    map.into_iter().filter_map(|(key, values)| {
        let mut values = values.into_iter();
        match (values.next(), values.next()) {
            (Some(only), None) => Some((key, only)),
            _ => None,
        }
    })
}

/// The derivations `let` and `rec` bindings hold, by the name that binds them: the
/// binding's own, or for a bound set of derivations (`checks = { test = …; }` used only
/// through `apps`), the attribute's.
fn bound_derivations(evaluator: &Evaluator) -> Vec<(String, Rc<CraneDerivation>)> {
    let mut bound = Vec::new();
    for (name, thunk) in evaluator.bindings() {
        match thunk.peek() {
            Some(Value::Derivation(d)) => bound.push((name, d)),
            Some(Value::Attrs(set)) => {
                for (key, thunk) in set.entries.iter() {
                    if let Some(Value::Derivation(d)) = thunk.peek() {
                        if !is_derivation_attr(key) && !is_system_name(key) {
                            bound.push((key.clone(), d));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    bound
}

struct Search {
    found: BTreeMap<DerivationId, Found>,
    /// The undecidable conditions of the attributes on the current path.
    conditions: Vec<(SourceLocation, String)>,
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
    /// Searching a set handed to an unknown function: only `packages.x`/`checks.x` in it
    /// name a derivation, not its argument names (`contents`, `extraDerivations`).
    in_arguments: bool,
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
        let name = name.filter(|(preference, _, _)| !self.in_arguments || *preference < 2);
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
            // Deeper inside an output (a NixOS test's `systemPackages`, a wrapper's
            // arguments): used by that output, which does not name it.
            if names.len() > i + 2 {
                return None;
            }
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
