//! Environment hazards known to force rebuilds, from the packages in the resolved graphs,
//! and the environment variables build scripts declare they watch.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Finding, FindingId, FindingsInput, Severity, and_list, finding};
use crate::located::SourceLocation;
use crate::phase::Phase;

/// Phases that set `var` to each distinct value (`None`: not set).
fn values_of(phases: &[&Phase], var: &str) -> BTreeMap<Option<String>, Vec<String>> {
    let mut values: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for phase in phases {
        values
            .entry(phase.env.get(var).cloned())
            .or_default()
            .push(format!("`{}`", phase.name));
    }
    values
}

fn describe_values(values: &BTreeMap<Option<String>, Vec<String>>) -> String {
    if let [(None, phases)] = values.iter().collect::<Vec<_>>().as_slice()
        && phases.len() > 2
    {
        return "no phase sets it".to_string();
    }
    let parts: Vec<String> = values
        .iter()
        .map(|(value, phases)| match value {
            Some(value) => format!("{} set it to {value:?}", and_list(phases)),
            None => format!("{} leave it unset", and_list(phases)),
        })
        .collect();
    parts.join("; ")
}

/// bindgen without a fixed random seed, pyo3 without PYO3_PYTHON, pkg-config `-sys`
/// crates under differing native inputs, dev-profile proc-macros without a pinned
/// build-override.
pub(super) fn environment_hazards(input: &FindingsInput) -> Vec<Finding> {
    let packages = input.packages_in_graphs();
    let phases: Vec<&Phase> = input.phases().collect();
    let mut findings = Vec::new();
    let first_location = phases.iter().find_map(|p| input.location(p));

    let seeds = values_of(&phases, "NIX_OUTPATH_USED_AS_RANDOM_SEED");
    if packages.contains("bindgen") && (seeds.len() > 1 || seeds.contains_key(&None)) {
        findings.push(finding(
            FindingId::BindgenRandomSeed,
            Severity::Warning,
            first_location.clone(),
            format!(
                "bindgen is in the build graph, and clang seeds its output with the derivation's output path (-frandom-seed) unless NIX_OUTPATH_USED_AS_RANDOM_SEED is set; it differs per phase, so bindgen's output and every crate above it rebuild ({}).",
                describe_values(&seeds)
            ),
            "set NIX_OUTPATH_USED_AS_RANDOM_SEED = \"aaaaaaaaaa\" (any fixed 10 characters) in commonArgs, so every phase uses the same seed".to_string(),
        ));
    }

    let pythons = values_of(&phases, "PYO3_PYTHON");
    if (packages.contains("pyo3-build-config") || packages.contains("pyo3"))
        && pythons.contains_key(&None)
    {
        findings.push(finding(
            FindingId::Pyo3Python,
            Severity::Warning,
            first_location.clone(),
            format!(
                "pyo3's build script looks for python on PATH and reruns when PATH changes; phases with different native inputs have different PATHs, so pyo3 and everything above it rebuild ({}).",
                describe_values(&pythons)
            ),
            "set PYO3_PYTHON = \"${python3}/bin/python3\" in commonArgs so pyo3 no longer depends on PATH".to_string(),
        ));
    }

    let sys_crates = pkg_config_sys_crates(input.metadata, &packages);
    if !sys_crates.is_empty() {
        findings.extend(super::pkg_config::pkg_config_inputs(input, &sys_crates));
    }

    let dev_phases: Vec<String> = phases
        .iter()
        .filter(|p| p.profile == "dev" || p.profile.is_empty())
        .map(|p| format!("`{}`", p.name))
        .collect();
    let proc_macros = proc_macros_in_graphs(input);
    if !dev_phases.is_empty()
        && !proc_macros.is_empty()
        && !build_override_pinned(input.source_root)
    {
        findings.push(finding(
            FindingId::DevBuildOverride,
            Severity::Info,
            Some(SourceLocation::file("Cargo.toml")),
            format!(
                "{} build with the dev profile, and the graph has proc-macros ({}). Without [profile.dev.build-override] settings, proc-macros and build scripts take the dev profile's debug setting, so a phase that changes it (CARGO_PROFILE_DEV_DEBUG, a profile override) rebuilds them and every crate that uses them.",
                and_list(&dev_phases),
                and_list(&proc_macros)
            ),
            "add `[profile.dev.build-override]` with `debug = false` to the workspace Cargo.toml".to_string(),
        ));
    }
    findings
}

fn pkg_config_sys_crates(
    metadata: &cargo_metadata::Metadata,
    in_graph: &BTreeSet<String>,
) -> Vec<String> {
    let mut names: Vec<String> = metadata
        .packages
        .iter()
        .filter(|p| p.name.ends_with("-sys") && in_graph.contains(p.name.as_str()))
        .filter(|p| p.dependencies.iter().any(|d| d.name == "pkg-config"))
        .map(|p| p.name.to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn proc_macros_in_graphs(input: &FindingsInput) -> Vec<String> {
    let names: BTreeSet<String> = input
        .resolved_graphs()
        .flat_map(|g| g.units.iter())
        .filter(|u| !u.local && u.key.target_kind == "proc-macro")
        .map(|u| u.key.pkg_id.name.clone())
        .collect();
    names.into_iter().collect()
}

fn build_override_pinned(source_root: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(source_root.join("Cargo.toml")) else {
        return false;
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return false;
    };
    manifest
        .get("profile")
        .and_then(|p| p.get("dev"))
        .and_then(|d| d.get("build-override"))
        .and_then(|b| b.get("debug"))
        .is_some()
}

/// `build-script-env`: with `--target-dir`, the variables build scripts declared with
/// `cargo:rerun-if-env-changed` that the phases set differently.
pub(super) fn build_script_env(input: &FindingsInput) -> Vec<Finding> {
    let Some(target_dir) = input.target_dir else {
        return Vec::new();
    };
    let mut watched: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (package, output) in build_script_outputs(target_dir) {
        let Ok(text) = std::fs::read_to_string(&output) else {
            continue;
        };
        for line in text.lines() {
            let var = line
                .strip_prefix("cargo:rerun-if-env-changed=")
                .or_else(|| line.strip_prefix("cargo::rerun-if-env-changed="));
            if let Some(var) = var {
                watched
                    .entry(var.trim().to_string())
                    .or_default()
                    .insert(package.clone());
            }
        }
    }
    let phases: Vec<&Phase> = input.phases().collect();
    watched
        .into_iter()
        .filter_map(|(var, packages)| {
            let values = values_of(&phases, &var);
            (values.len() > 1).then(|| {
                let packages: Vec<String> = packages.into_iter().collect();
                finding(
                    FindingId::BuildScriptEnv,
                    Severity::Warning,
                    None,
                    format!(
                        "the build script of {} watches {var} (cargo:rerun-if-env-changed), and the phases set it differently: {}. The script reruns and its crate and everything above it rebuild.",
                        and_list(&packages),
                        describe_values(&values)
                    ),
                    format!("set {var} to the same value on every phase (put it in commonArgs), or on none"),
                )
            })
        })
        .collect()
}

/// `(package name, path of its build script's output file)` under a target dir
/// (`<profile>/build/<name>-<hash>/output`, also below a target triple).
pub(super) fn build_script_outputs(target_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut outputs = Vec::new();
    let mut build_dirs = Vec::new();
    for first in read_dirs(target_dir) {
        build_dirs.push(first.join("build"));
        for second in read_dirs(&first) {
            build_dirs.push(second.join("build"));
        }
    }
    for build in build_dirs {
        for script in read_dirs(&build) {
            let output = script.join("output");
            let Some(name) = script.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let package = name
                .rsplit_once('-')
                .map_or(name, |(package, _)| package)
                .to_string();
            if output.is_file() {
                outputs.push((package, output));
            }
        }
    }
    outputs.sort();
    outputs
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}
