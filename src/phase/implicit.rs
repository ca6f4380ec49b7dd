//! The buildDepsOnly that buildPackage and buildTrunkPackage make for themselves when
//! they are given no `cargoArtifacts`.

use std::collections::BTreeSet;

use super::{AttrValue, CraneFunction, PhaseSpec};

/// The specs with every buildPackage's (and buildTrunkPackage's) implicit buildDepsOnly
/// written out as a phase of its own (and the phase pointed at it), so it can be changed
/// on its own.
pub(crate) fn materialize_implicit_deps(specs: &[PhaseSpec]) -> Vec<PhaseSpec> {
    let mut names: BTreeSet<String> = specs.iter().map(|s| s.name.clone()).collect();
    let mut out = Vec::new();
    for spec in specs {
        let function = match spec.attrs.get("function") {
            Some(AttrValue::Str(f)) => CraneFunction::from_name(f),
            _ => None,
        };
        let function = function.filter(|f| f.makes_own_deps());
        if let Some(function) = function.filter(|_| !spec.attrs.contains_key("cargoArtifacts")) {
            let mut deps = implicit_deps_spec(spec, function, &names);
            deps.attrs
                .insert("function".into(), AttrValue::Str("buildDepsOnly".into()));
            names.insert(deps.name.clone());
            let mut package = spec.clone();
            package
                .attrs
                .insert("cargoArtifacts".into(), AttrValue::Str(deps.name.clone()));
            out.push(deps);
            out.push(package);
        } else {
            out.push(spec.clone());
        }
    }
    out
}

/// buildPackage without `cargoArtifacts` calls buildDepsOnly with its own arguments;
/// buildTrunkPackage too, for `wasm32-unknown-unknown` and without checks unless told
/// otherwise, and without trunk's own arguments.
pub(super) fn implicit_deps_spec(
    spec: &PhaseSpec,
    function: CraneFunction,
    names: &BTreeSet<String>,
) -> PhaseSpec {
    let mut name = format!("{}-deps", spec.name);
    while names.contains(&name) {
        name.push('_');
    }
    let mut implicit = spec.clone();
    implicit.name = name;
    implicit.attrs.remove("function");
    implicit.attrs.remove("doInstallCargoArtifacts");
    if function == CraneFunction::BuildTrunkPackage {
        for trunk_only in [
            "trunkExtraArgs",
            "trunkExtraBuildArgs",
            "trunkIndexPath",
            "wasm-bindgen-cli",
        ] {
            implicit.attrs.remove(trunk_only);
        }
        let build_target = implicit.attrs.contains_key("CARGO_BUILD_TARGET")
            || implicit.env.contains_key("CARGO_BUILD_TARGET");
        if !build_target {
            implicit
                .env
                .insert("CARGO_BUILD_TARGET".into(), "wasm32-unknown-unknown".into());
        }
        implicit
            .attrs
            .entry("doCheck".into())
            .or_insert(AttrValue::Bool(false));
    }
    implicit
}
