//! Turning the crane calls found into phase specs: names, attributes, approximations.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use super::Found;
use crate::crane::attrs::{DERIVATION_ATTRS, crane_own_attrs, is_known_attr};
use crate::located::{Note, SourceLocation};
use crate::phase::{
    AttrValue, CraneFunction, NotEvaluable, PhaseSpec, did_you_mean, is_env_attr, known_attrs,
};
use crate::source::flake::eval::Evaluator;
use crate::source::flake::eval::value::{
    CraneDerivation, DerivationId, EvalError, Thunk, Toolchain, ToolchainVersion, Value,
};

/// Turns found derivations into specs, giving each a unique name.
pub(super) struct Specs<'a> {
    evaluator: &'a mut Evaluator,
    /// Each derivation's representative among the same calls.
    classes: Vec<DerivationId>,
    names: BTreeMap<DerivationId, String>,
    /// The other `checks`/`packages` outputs that are the same derivation, by id.
    aliases: BTreeMap<DerivationId, Vec<String>>,
    specs: Vec<PhaseSpec>,
    done: HashSet<DerivationId>,
    /// Each crane lib's name in the phases, by its key.
    toolchains: HashMap<String, String>,
    /// The name binding each crane lib, by its key, where one name does.
    lib_names: HashMap<String, String>,
    /// The undecidable conditions of derivations only reached under them, by id.
    conditions: HashMap<DerivationId, BTreeSet<(SourceLocation, String)>>,
}

/// The `checks.<x>` and `packages.<x>` outputs that are `found`'s derivation, besides the
/// one it is named after (`packages.default = self.packages.${system}.server`: `default`),
/// as `--nix` lists them.
fn output_aliases(found: &Found, base: &str) -> Vec<String> {
    // Ranked as `Found::names` stores them: checks 0–1, packages 2–3.
    let mut aliases: Vec<String> = found
        .names
        .iter()
        .filter(|(rank, _, name)| *rank < 4 && name != base)
        .map(|(_, _, name)| name.clone())
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases
}

impl Specs<'_> {
    pub(super) fn build(
        evaluator: &mut Evaluator,
        found: BTreeMap<DerivationId, Found>,
        classes: Vec<DerivationId>,
    ) -> (Vec<PhaseSpec>, HashSet<DerivationId>) {
        let toolchains =
            toolchain_names(evaluator, found.values().map(|f| &f.derivation.toolchain));
        let conditions = found
            .values()
            .filter(|f| !f.unconditional && !f.conditions.is_empty())
            .map(|f| (f.derivation.id, f.conditions.clone()))
            .collect();
        let lib_names = lib_names(evaluator);
        let mut specs = Specs {
            evaluator,
            classes,
            names: BTreeMap::new(),
            aliases: BTreeMap::new(),
            specs: Vec::new(),
            done: HashSet::new(),
            toolchains,
            lib_names,
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
                specs
                    .aliases
                    .insert(found.derivation.id, output_aliases(found, base));
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
        (specs.specs, specs.done)
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
            toolchain_release: match derivation.toolchain.version.as_deref() {
                Some(ToolchainVersion::Release(release)) => Some(release.clone()),
                _ => None,
            },
            toolchain_channel: match derivation.toolchain.version.as_deref() {
                Some(ToolchainVersion::Channel(channel)) => Some(channel),
                _ => None,
            },
            crane_lib: self.lib_names.get(&derivation.toolchain.key).cloned(),
            aliases: self
                .aliases
                .get(&derivation.id)
                .cloned()
                .unwrap_or_default(),
            ..PhaseSpec::default()
        };
        spec.attrs.insert(
            "function".into(),
            AttrValue::Str(derivation.function.clone()),
        );
        if let Some(error) = &derivation.failure {
            spec.not_evaluable = Some(self.not_evaluable(error, derivation));
            // What it inherits is not known either: no deps-only phase is made up for it.
            spec.attrs.insert(
                "cargoArtifacts".into(),
                AttrValue::Unknown(error.message.clone()),
            );
        }
        for what in &derivation.args.partial {
            spec.approximations.push(Note::at(
                location.clone(),
                format!("part of the arguments could not be resolved ({what})"),
            ));
        }
        for (at, condition) in self.conditions.get(&derivation.id).into_iter().flatten() {
            spec.approximations.push(Note::at(
                at.clone(),
                format!("only when `{condition}`, which cannot be known statically: the phase exists on some systems"),
            ));
        }
        let mut dynamic = Vec::new();
        for (attr, thunk) in derivation.args.entries.clone() {
            let value = self.evaluator.force(&thunk);
            if spec.not_evaluable.is_none() && !LAZY_ATTRS.contains(&attr.as_str()) {
                if let Some(error) = self.failure_in(&attr, &value, 0) {
                    spec.not_evaluable = Some(self.not_evaluable(&error, derivation));
                }
            }
            // A value that is not known either gets one note, from the phase model
            // ("could not be resolved"), naming the condition too.
            let condition = self.evaluator.condition(&thunk).cloned();
            if let Some(condition) = condition.as_ref().filter(|_| is_known(&value)) {
                spec.approximations.push(Note::at(
                    self.evaluator.location(condition.pos),
                    format!(
                        "attribute {attr} only when `{}`, which cannot be known statically; used",
                        condition.text
                    ),
                ));
            }
            if attr.contains("${") {
                dynamic.push((attr, thunk));
                continue;
            }
            if attr == "src" {
                spec.src_dir = self.src_dir(&value);
                spec.source = self.evaluator.source_set(&value).map(std::sync::Arc::new);
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
                            .map_or(location.clone(), |pos| self.evaluator.place(pos));
                        self.evaluator.reject_at(
                            at,
                            format!("phase `{name}`: unknown attribute `{attr}`{hint}"),
                        );
                        continue;
                    }
                    let hint = did_you_mean(&attr, &known_attrs()).unwrap_or_default();
                    self.evaluator.warn(Note::at(
                        location.clone(),
                        format!(
                            "phase `{name}`: attribute `{attr}` is not one crane reads; ignored (crane passes it on as an environment variable){hint}"
                        ),
                    ));
                }
                _ => {
                    // Only attributes that change what cargo does are worth a note.
                    if !DERIVATION_ATTRS.contains(&attr.as_str()) {
                        note_left_out(&mut spec, self.evaluator, &attr, &value);
                    }
                    let converted = match (self.convert(&value), &condition) {
                        (Some(AttrValue::Unknown(what)), Some(condition)) => {
                            Some(AttrValue::Unknown(format!(
                                "{what}, set only when `{}`",
                                condition.text
                            )))
                        }
                        (converted, _) => converted,
                    };
                    if let Some(converted) = converted {
                        spec.attrs.insert(attr, converted);
                    }
                }
            }
        }
        if spec.not_evaluable.is_none() && lacks_required_artifacts(derivation) {
            // Nix fails on this phase alone, where it is called; the other phases stand.
            spec.not_evaluable = Some(NotEvaluable {
                message: format!(
                    "crane's {} called without required argument 'cargoArtifacts'",
                    derivation.function
                ),
                location: self.evaluator.place(derivation.pos),
            });
            spec.attrs.insert(
                "cargoArtifacts".into(),
                AttrValue::Unknown("not given".into()),
            );
        }
        let given = |key: &str| derivation.args.entries.get(key).cloned();
        let inputs = crate::source::flake::eval::GivenInputs {
            deps_only: derivation.function == "buildDepsOnly",
            dummy_src: given("dummySrc"),
            cargo_lock: given("cargoLock"),
            cargo_vendor_dir: given("cargoVendorDir"),
        };
        spec.source = self
            .evaluator
            .with_given_inputs(spec.source.take(), &inputs)
            .map(std::sync::Arc::new);
        self.dynamic_names(&mut spec, &dynamic, &location);
        self.specs.push(spec);
    }

    /// A phase's name when nothing in the outputs names it: its `pname` (with its
    /// `pnameSuffix`) when known, else its crane function.
    fn own_name(&mut self, derivation: &CraneDerivation) -> String {
        self.pname_name(derivation)
            .unwrap_or_else(|| derivation.function.clone())
    }

    /// A deps-only phase's name as crane makes it: `${pname}-deps`, with `pname` given or
    /// `crateNameFromCargoToml`'s (`None`: neither is known).
    fn deps_name(&mut self, derivation: &CraneDerivation) -> Option<String> {
        if derivation.function != "buildDepsOnly" {
            return None;
        }
        self.pname_name(derivation).or_else(|| {
            let pname = self.evaluator.crate_name_of(derivation)?;
            Some(format!("{pname}-deps"))
        })
    }

    /// `own_name` when the call has a known `pname`.
    fn pname_name(&mut self, derivation: &CraneDerivation) -> Option<String> {
        let mut text = |key: &str| match derivation.args.entries.get(key) {
            Some(thunk) => match self.evaluator.force(thunk) {
                Value::Str(s) => Some(s),
                _ => None,
            },
            None => None,
        };
        let pname = text("pname").filter(|p| !p.is_empty())?;
        let suffix = text("pnameSuffix").unwrap_or_default();
        let base = format!("{pname}{suffix}");
        // buildDepsOnly adds `-deps` to the pname, as crane does.
        Some(
            if derivation.function == "buildDepsOnly" && !base.ends_with("-deps") {
                format!("{base}-deps")
            } else {
                base
            },
        )
    }

    /// Attributes whose names are not known (`"CC_${target}" = …;`): environment variables
    /// when they look like one (noted once for the phase), else unknown attributes.
    fn dynamic_names(
        &mut self,
        spec: &mut PhaseSpec,
        attrs: &[(String, Thunk)],
        location: &SourceLocation,
    ) {
        let mut variables = Vec::new();
        for (attr, thunk) in attrs {
            let at = self
                .evaluator
                .attr_position(thunk)
                .map_or(location.clone(), |pos| self.evaluator.location(pos));
            if looks_like_env_name(attr) {
                variables.push(format!("{at}: {attr}"));
            } else {
                spec.approximations.push(Note::at(
                    at,
                    format!("attribute {attr}: its name cannot be known statically; ignored"),
                ));
            }
        }
        if !variables.is_empty() {
            spec.approximations.push(Note::new(format!(
                "environment variables whose names cannot be known statically, left unset: {}",
                variables.join(", ")
            )));
        }
    }

    /// The local directory `src` is made from, when known.
    fn src_dir(&mut self, value: &Value) -> Option<std::path::PathBuf> {
        match value {
            Value::Path(dir, _) | Value::Source(dir, _, _) => Some(dir.clone()),
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
        location: &SourceLocation,
        spec: &mut PhaseSpec,
        taken: &mut BTreeSet<String>,
    ) -> AttrValue {
        match value {
            Value::Derivation(d) => {
                let d = self.evaluator.derivation(self.class(d.id));
                let name = match self.names.get(&d.id) {
                    Some(name) => name.clone(),
                    None => {
                        // As crane names it; after the first phase using it, if unknown.
                        let base = self
                            .deps_name(&d)
                            .unwrap_or_else(|| format!("{phase}-deps"));
                        let name = unique(&base, taken);
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
                spec.approximations.push(Note::at(
                    location.clone(),
                    format!("attribute cargoArtifacts could not be resolved ({what})"),
                ));
                AttrValue::Unknown(what)
            }
        }
    }

    /// Why Nix fails on a derivation with the attribute `attr` = `value`: the value fails,
    /// an item of a list (or a variable of `env`) fails, or it is a derivation that fails
    /// (`cargoArtifacts = deps;` where `deps` fails).
    fn failure_in(&mut self, attr: &str, value: &Value, depth: usize) -> Option<Rc<EvalError>> {
        match value {
            Value::Error(error) => Some(error.clone()),
            Value::List(items) => items
                .iter()
                .find_map(|item| match self.evaluator.force(item) {
                    Value::Error(error) => Some(error),
                    _ => None,
                }),
            Value::Attrs(set) if attr == "env" => set.entries.values().find_map(|thunk| match self
                .evaluator
                .force(thunk)
            {
                Value::Error(error) => Some(error),
                _ => None,
            }),
            Value::Derivation(d) if depth < MAX_INPUT_DEPTH => {
                if let Some(error) = &d.failure {
                    return Some(error.clone());
                }
                d.args
                    .entries
                    .iter()
                    .filter(|(attr, _)| !LAZY_ATTRS.contains(&attr.as_str()))
                    .find_map(|(attr, thunk)| {
                        let value = self.evaluator.force(thunk);
                        self.failure_in(attr, &value, depth + 1)
                    })
            }
            _ => None,
        }
    }

    /// A failure as the phase spec says it: Nix's message, and where it fails (else
    /// where the crane call is).
    fn not_evaluable(&self, error: &EvalError, derivation: &CraneDerivation) -> NotEvaluable {
        NotEvaluable {
            message: error.message.clone(),
            location: self.evaluator.place(error.pos.unwrap_or(derivation.pos)),
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

    fn env(&mut self, spec: &mut PhaseSpec, value: &Value, location: &SourceLocation) {
        let Value::Attrs(set) = value else {
            spec.approximations.push(Note::at(
                location.clone(),
                format!("attribute env could not be resolved ({})", describe(value)),
            ));
            return;
        };
        for (name, thunk) in set.entries.clone() {
            let value = self.evaluator.force(&thunk);
            if let Some(condition) = self.evaluator.condition(&thunk).cloned() {
                let (what, outcome) = if is_known(&value) {
                    (String::new(), "used".to_string())
                } else {
                    (
                        ", and its value could not be resolved".to_string(),
                        format!("left unset ({})", describe(&value)),
                    )
                };
                spec.approximations.push(Note::at(
                    self.evaluator.location(condition.pos),
                    format!(
                        "attribute env.{name} only when `{}`, which cannot be known statically{what}; {outcome}",
                        condition.text
                    ),
                ));
                if !is_known(&value) {
                    continue;
                }
            }
            match value {
                Value::Str(s) => {
                    spec.env.insert(name, s);
                }
                value @ Value::PartialStr(..) if !is_blank(&value) => {
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
                other => spec.approximations.push(Note::at(
                    location.clone(),
                    format!(
                        "attribute env.{name} could not be resolved ({})",
                        describe(&other)
                    ),
                )),
            }
        }
    }

    fn convert(&mut self, value: &Value) -> Option<AttrValue> {
        Some(match value {
            // Only words under an undecidable condition: nothing of it is known.
            Value::PartialStr(s, _) if s.trim().is_empty() => AttrValue::Unknown(describe(value)),
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
                        Value::PartialStr(ref s, _) if s.trim().is_empty() => {
                            AttrValue::Unknown(describe(&item))
                        }
                        Value::Str(s) | Value::PartialStr(s, _) => AttrValue::Str(s),
                        Value::Path(_, text) => AttrValue::Str(text),
                        // `[ a ] ++ optional cond [ b ]`: a list in the list.
                        ref inner @ Value::List(_) => self
                            .convert(inner)
                            .unwrap_or_else(|| AttrValue::Unknown(describe(inner))),
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
            Value::Source(_, what, _) => AttrValue::Unknown(what.clone()),
            Value::Error(error) => AttrValue::Unknown(error.message.clone()),
        })
    }
}

/// Attributes of a crane call that Nix does not force to build it.
const LAZY_ATTRS: &[&str] = &["passthru", "meta"];

/// How deep through input derivations (`cargoArtifacts`) a failure is looked for.
const MAX_INPUT_DEPTH: usize = 8;

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
            let base = match lib.origin.as_deref() {
                Some(&pos) => format!("{text} ({})", evaluator.location(pos)),
                None => text.clone(),
            };
            names.insert(lib.key.clone(), unique(&base, &mut taken));
        }
    }
    names
}

/// The names `let` and `rec` bindings give crane libs (`stableCrane = (crane.mkLib pkgs)
/// .overrideToolchain …;`), by the lib's key: only where one name binds it.
fn lib_names(evaluator: &Evaluator) -> HashMap<String, String> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, thunk) in evaluator.bindings() {
        if let Some(Value::CraneLib(toolchain)) = thunk.peek() {
            names.entry(toolchain.key).or_default().insert(name);
        }
    }
    super::only_one(names).collect()
}

/// `"CC_${target}"`: what is known of the name is upper case, digits and `_`.
fn looks_like_env_name(attr: &str) -> bool {
    let mut known = String::new();
    let mut rest = attr.trim_matches('"');
    while let Some((before, interpolated)) = rest.split_once("${") {
        known.push_str(before);
        rest = interpolated.split_once('}').map_or("", |(_, after)| after);
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
            spec.approximations.push(Note::at(
                evaluator.location(*pos),
                format!("{attr}: `{text}` unknown, left out"),
            ));
        }
    }
}

/// A value whose text is known (all of it, or the part kept).
fn is_known(value: &Value) -> bool {
    !matches!(
        value,
        Value::Unknown(_) | Value::Source(..) | Value::Error(_)
    ) && !is_blank(value)
}

/// A string of which nothing is known but whitespace.
fn is_blank(value: &Value) -> bool {
    matches!(value, Value::PartialStr(known, _) if known.trim().is_empty())
}

fn describe(value: &Value) -> String {
    match value {
        Value::Unknown(what) | Value::Source(_, what, _) => what.clone(),
        Value::PartialStr(_, missing) => missing
            .iter()
            .map(|(_, text)| text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
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

/// A crane call whose arguments are all known and lack the `cargoArtifacts` its function
/// requires.
fn lacks_required_artifacts(derivation: &CraneDerivation) -> bool {
    derivation.args.is_complete()
        && !derivation.args.entries.contains_key("cargoArtifacts")
        && CraneFunction::from_name(&derivation.function).is_some_and(|f| f.requires_artifacts())
}
