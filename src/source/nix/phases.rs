//! crane's derivations, as Nix instantiated them, read as phases: which crane function
//! made each one, the shell text it runs, its environment, the derivation whose target
//! dir it inherits, and its toolchain. Nothing is guessed: what the environment does not
//! say is not invented.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::drv::{Derivation, store_name};
use crate::located::{Note, SourceLocation};
use crate::phase::{AttrValue, NotEvaluable, PhaseSpec};

/// One flake output that was asked for: its attribute path and what Nix made of it.
/// Produced by the caller of [`phases_from`].
#[derive(Debug, Clone)]
pub(crate) struct Output {
    /// As the user names it: `checks.clippy`, `packages.default`, `hydraJobs.x`.
    pub attr: String,
    /// The `.drv` path, or Nix's message when the output fails to evaluate.
    pub drv: Result<String, String>,
}

impl Output {
    /// The output's own name: its attribute path's last part.
    fn short_name(&self) -> &str {
        self.attr.rsplit('.').next().unwrap_or(&self.attr)
    }
}

/// What the derivations say. Produced by [`phases_from`].
#[derive(Debug, Clone, Default)]
pub(crate) struct NixReading {
    pub specs: Vec<PhaseSpec>,
    /// Phase name → the other output names of the same derivation.
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Outputs that are no crane derivation (a container image, a treefmt check).
    pub not_crane: Vec<String>,
    /// Phase name → its `.drv` path.
    pub drv_of: BTreeMap<String, String>,
    pub notes: Vec<Note>,
}

/// Attributes of the environment that crane sets for itself, not the user: left out of a
/// phase's environment when they carry crane's own value.
const CRANE_OWN_ENV: &[(&str, Option<&str>)] = &[
    ("CRANE_BUILD_DEPS_ONLY", None),
    ("NEXTEST_SHOW_PROGRESS", Some("counter")),
    ("TRUNK_SKIP_VERSION_CHECK", Some("true")),
];

/// The phases of the crane derivations in `drvs` (the closure of `outputs`). `origin` is
/// where the outputs are defined (the flake file), for the report's places.
pub(crate) fn phases_from(
    outputs: &[Output],
    drvs: &BTreeMap<String, Derivation>,
    origin: &SourceLocation,
) -> NixReading {
    let produced_by: HashMap<&str, &str> = drvs
        .values()
        .flat_map(|drv| {
            drv.outputs
                .values()
                .map(move |out| (out.as_str(), drv.path.as_str()))
        })
        .collect();
    let mut reading = NixReading::default();
    let names = name_phases(outputs, drvs, &mut reading);
    let order = phase_order(outputs, drvs, &produced_by, &names);
    for path in order {
        let drv = &drvs[path];
        let name = names[path].clone();
        reading.drv_of.insert(name.clone(), path.to_string());
        let mut spec = spec_of(drv, name, &names, &produced_by, origin);
        spec.aliases = reading.aliases.get(&spec.name).cloned().unwrap_or_default();
        reading.specs.push(spec);
    }
    let mut taken: BTreeSet<String> = reading.specs.iter().map(|s| s.name.clone()).collect();
    for output in outputs {
        if let Err(message) = &output.drv {
            let name = match taken.contains(output.short_name()) {
                false => output.short_name().to_string(),
                true => output.attr.clone(),
            };
            taken.insert(name.clone());
            reading.specs.push(not_evaluable(name, message, origin));
        }
    }
    reading
}

/// Whether crane made the derivation: `mkCargoDerivation` always sets `cargoVendorDir`
/// and `cargoArtifacts` (empty for none).
fn is_crane(drv: &Derivation) -> bool {
    drv.env.contains_key("cargoVendorDir") && drv.env.contains_key("cargoArtifacts")
}

/// A name for every crane derivation: the outputs' names where they are outputs (one of
/// them; the others are aliases), else its `pname`, made unique.
fn name_phases<'d>(
    outputs: &[Output],
    drvs: &'d BTreeMap<String, Derivation>,
    reading: &mut NixReading,
) -> BTreeMap<&'d str, String> {
    let mut output_names: BTreeMap<&'d str, Vec<String>> = BTreeMap::new();
    // A short name is ambiguous when it names two derivations (`packages.x` and a
    // different `checks.x`), not when two outputs are one derivation.
    let mut by_short_name: HashMap<&str, BTreeSet<Option<&str>>> = HashMap::new();
    for output in outputs {
        by_short_name
            .entry(output.short_name())
            .or_default()
            .insert(output.drv.as_ref().ok().map(String::as_str));
    }
    for output in outputs {
        let Ok(path) = &output.drv else { continue };
        let Some((key, drv)) = drvs.get_key_value(path.as_str()) else {
            continue;
        };
        if !is_crane(drv) {
            reading.not_crane.push(output.attr.clone());
            continue;
        }
        // The short name unless two outputs share it (`packages.x` and `checks.x`).
        let name = match by_short_name[output.short_name()].len() {
            1 => output.short_name().to_string(),
            _ => output.attr.clone(),
        };
        output_names.entry(key.as_str()).or_default().push(name);
    }
    let mut names = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for (path, mut given) in output_names {
        // `default` is the alias when the derivation has another name.
        given.dedup();
        given.sort_by_key(|name| name == "default");
        let primary = given.remove(0);
        taken.insert(primary.clone());
        taken.extend(given.iter().cloned());
        if !given.is_empty() {
            reading.aliases.insert(primary.clone(), given);
        }
        names.insert(path, primary);
    }
    for (path, drv) in drvs.iter().filter(|(_, drv)| is_crane(drv)) {
        if names.contains_key(path.as_str()) {
            continue;
        }
        let base = drv
            .env("pname")
            .or(drv.env("name"))
            .unwrap_or("crane-derivation")
            .to_string();
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(name.clone());
        names.insert(path.as_str(), name);
    }
    names
}

/// The crane derivations in the order people read them: for each output, the chain of
/// derivations it inherits from (first the one that starts from nothing), then the
/// output; then the crane derivations no output is (tools built with crane), by name.
fn phase_order<'d>(
    outputs: &[Output],
    drvs: &'d BTreeMap<String, Derivation>,
    produced_by: &HashMap<&str, &str>,
    names: &BTreeMap<&'d str, String>,
) -> Vec<&'d str> {
    let mut order: Vec<&'d str> = Vec::new();
    let mut placed = BTreeSet::new();
    for output in outputs {
        let Ok(path) = &output.drv else { continue };
        let Some((start, _)) = drvs.get_key_value(path.as_str()) else {
            continue;
        };
        let mut chain = Vec::new();
        let mut next = Some(start.as_str());
        while let Some(path) = next {
            if !names.contains_key(path) || chain.contains(&path) {
                break;
            }
            chain.push(path);
            next = artifacts_drv(&drvs[path], produced_by)
                .and_then(|p| drvs.get_key_value(p).map(|(k, _)| k.as_str()));
        }
        for path in chain.into_iter().rev() {
            if placed.insert(path) {
                order.push(path);
            }
        }
    }
    let mut rest: Vec<&'d str> = names
        .keys()
        .copied()
        .filter(|path| !placed.contains(path))
        .collect();
    rest.sort_by_key(|path| &names[path]);
    order.extend(rest);
    order
}

/// The `.drv` of the derivation whose output is this one's `cargoArtifacts`.
fn artifacts_drv<'a>(drv: &Derivation, produced_by: &HashMap<&str, &'a str>) -> Option<&'a str> {
    let artifacts = drv.env("cargoArtifacts").filter(|a| !a.is_empty())?;
    produced_by.get(artifacts).copied()
}

fn spec_of(
    drv: &Derivation,
    name: String,
    names: &BTreeMap<&str, String>,
    produced_by: &HashMap<&str, &str>,
    origin: &SourceLocation,
) -> PhaseSpec {
    let mut attrs = BTreeMap::new();
    let mut approximations = Vec::new();
    let function = function_of(drv);
    attrs.insert("function".into(), AttrValue::Str(function.into()));
    for attr in ["buildPhase", "checkPhase"] {
        if let Some(text) = drv.env(attr) {
            attrs.insert(attr.into(), AttrValue::Str(without_version_line(text)));
        }
    }
    attrs.insert(
        "doCheck".into(),
        AttrValue::Bool(drv.env("doCheck") == Some("1")),
    );
    attrs.insert(
        "doInstallCargoArtifacts".into(),
        AttrValue::Bool(drv.env("doInstallCargoArtifacts") == Some("1")),
    );
    let artifacts = match drv.env("cargoArtifacts").unwrap_or_default() {
        "" => AttrValue::Str(String::new()),
        path => match artifacts_drv(drv, produced_by).and_then(|p| names.get(p)) {
            Some(phase) => AttrValue::Str(phase.clone()),
            None => {
                approximations.push(Note::at(
                    origin.clone(),
                    format!(
                        "`{name}` inherits {}, which no crane derivation of the flake produces; analysed as if it inherited nothing",
                        store_name(path)
                    ),
                ));
                AttrValue::Unknown(store_name(path).to_string())
            }
        },
    };
    attrs.insert("cargoArtifacts".into(), artifacts);
    if let Some(profile) = drv.env("CARGO_PROFILE") {
        attrs.insert("CARGO_PROFILE".into(), AttrValue::Str(profile.into()));
    }
    let spec = PhaseSpec {
        name,
        attrs,
        env: environment(drv),
        origin: Some(origin.clone()),
        approximations,
        toolchain: toolchain_of(drv),
        ..PhaseSpec::default()
    };
    match function {
        "buildDepsOnly" => super::lift::lift_deps_only(&spec).unwrap_or(spec),
        _ => spec,
    }
}

/// crane's build phase prints `cargo --version` before the phase's own commands: not one
/// of the phase's commands (it compiles nothing), so left out of the text.
fn without_version_line(text: &str) -> String {
    match text.strip_prefix("runHook preBuild\ncargo --version\n") {
        Some(rest) => format!("runHook preBuild\n{rest}"),
        None => text.to_string(),
    }
}

/// The variables of the derivation that cargo and the programs it starts read: every
/// UPPER_CASE attribute but crane's `CARGO_PROFILE` and crane's own markers, and what
/// crane's cross-compilation support exports: `__CRANE_EXPORT_X = v` becomes `X = v` unless
/// `X` is set and not empty (crane's `configureCargoCommonVars` hook does the same; its
/// `mkCrossToolchainEnv` sets `CARGO_BUILD_TARGET` and the target's linker so).
fn environment(drv: &Derivation) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = drv
        .env
        .iter()
        .filter(|(name, value)| {
            crate::phase::is_env_attr(name)
                && name.as_str() != "CARGO_PROFILE"
                && !CRANE_OWN_ENV.iter().any(|(own, default)| {
                    own == name && default.is_none_or(|default| default == value.as_str())
                })
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    for (name, value) in &drv.env {
        let Some(exported) = name.strip_prefix(CRANE_EXPORT_PREFIX) else {
            continue;
        };
        if env.get(exported).is_none_or(String::is_empty) {
            env.insert(exported.to_string(), value.clone());
        }
    }
    env
}

/// The prefix of the attributes crane exports under another name at build time.
const CRANE_EXPORT_PREFIX: &str = "__CRANE_EXPORT_";

/// The crane function that made the derivation: crane names its derivations
/// `${pname}${pnameSuffix}`, one suffix per function; buildPackage has none and installs
/// from cargo's build log.
fn function_of(drv: &Derivation) -> &'static str {
    let pname = drv.env("pname").unwrap_or_default();
    if drv.env("CRANE_BUILD_DEPS_ONLY") == Some("1") || pname.ends_with("-deps") {
        return "buildDepsOnly";
    }
    const SUFFIXES: &[(&str, &str)] = &[
        ("-clippy", "cargoClippy"),
        ("-doctest", "cargoDocTest"),
        ("-doc", "cargoDoc"),
        ("-test", "cargoTest"),
        ("-build", "cargoBuild"),
        ("-llvm-cov", "cargoLlvmCov"),
        ("-tarpaulin", "cargoTarpaulin"),
        ("-fmt", "cargoFmt"),
        ("-audit", "cargoAudit"),
        ("-deny", "cargoDeny"),
        ("-tomlfmt", "taploFmt"),
        ("-trunk", "buildTrunkPackage"),
    ];
    if let Some((_, function)) = SUFFIXES.iter().find(|(suffix, _)| pname.ends_with(suffix)) {
        return function;
    }
    if pname.contains("-nextest") {
        return "cargoNextest";
    }
    let build = drv.env("buildPhase").unwrap_or_default();
    let install = drv.env("installPhase").unwrap_or_default();
    if build.contains("json-render-diagnostics") && install.contains("installFromCargoBuildLog") {
        return "buildPackage";
    }
    "mkCargoDerivation"
}

/// The Rust toolchain in `nativeBuildInputs`, by its store name (`cargo-1.85.0`,
/// `rust-default-1.85.0`), when the name carries a version.
fn toolchain_of(drv: &Derivation) -> Option<String> {
    let inputs = drv.env("nativeBuildInputs")?;
    inputs
        .split_whitespace()
        .map(store_name)
        .find(|name| {
            (name.starts_with("cargo-") || name.starts_with("rust-") || name.starts_with("rustc-"))
                && name.split('-').any(|part| {
                    part.split('.').count() >= 2
                        && part.split('.').all(|n| n.parse::<u32>().is_ok())
                })
        })
        .map(|name| format!("{name} (in nativeBuildInputs)"))
}

/// Nix's message on one line: the error, and the first place it names.
fn condensed(message: &str) -> String {
    let lines: Vec<&str> = message.lines().map(str::trim).collect();
    let error = lines
        .iter()
        .find(|line| line.starts_with("error:"))
        .or(lines.first())
        .copied()
        .unwrap_or_default();
    let error = error.strip_prefix("error: ").unwrap_or(error);
    match lines.iter().find(|line| line.starts_with("at /")) {
        Some(place) => format!("{error} ({})", place.trim_end_matches(':')),
        None => error.to_string(),
    }
}

/// An output Nix cannot evaluate: listed with Nix's message, never analysed.
fn not_evaluable(name: String, message: &str, origin: &SourceLocation) -> PhaseSpec {
    let mut attrs = BTreeMap::new();
    attrs.insert(
        "function".into(),
        AttrValue::Str("mkCargoDerivation".into()),
    );
    attrs.insert("cargoArtifacts".into(), AttrValue::Str(String::new()));
    PhaseSpec {
        name,
        attrs,
        origin: Some(origin.clone()),
        not_evaluable: Some(NotEvaluable {
            message: condensed(message),
            location: origin.clone(),
        }),
        ..PhaseSpec::default()
    }
}
