//! `pkg-config-inputs`: a `-sys` crate that finds its library with pkg-config reruns its
//! build script when `PKG_CONFIG_PATH` changes. pkg-config's setup hook makes that variable
//! from the inputs, so it differs between a phase and the artifacts it inherits only when
//! one side has pkg-config and the other not, or both have it among other inputs.

use std::collections::BTreeSet;

use super::{Finding, FindingId, FindingsInput, Severity, and_list, finding};
use crate::phase::{AttrValue, Phase};

/// The finding, when some analysed phase and the phase it inherits from would see
/// different `PKG_CONFIG_PATH`s; `sys_crates` are the pkg-config `-sys` crates in the graphs.
pub(super) fn pkg_config_inputs(input: &FindingsInput, sys_crates: &[String]) -> Option<Finding> {
    let mut differences = Vec::new();
    let mut fixes = Vec::new();
    let mut location = None;
    let mut seen = BTreeSet::new();
    for phase in input.phases() {
        let Some(source) = input.set.artifact_chain(phase).into_iter().next() else {
            continue;
        };
        let (mine, theirs) = (inputs_of(phase), inputs_of(source));
        if !paths_differ(&mine, &theirs) || !seen.insert((&source.name, mine.clone())) {
            continue;
        }
        location = location.or_else(|| input.location(source));
        differences.push(format!(
            "`{}` has {}, the artifacts it inherits from `{}` were built with {}",
            phase.name,
            described(&mine),
            source.name,
            described(&theirs)
        ));
        let missing_from = |lacking: &Phase, has: &BTreeSet<String>, other: &BTreeSet<String>| {
            let missing: Vec<String> = has.difference(other).map(|i| format!("`{i}`")).collect();
            (!missing.is_empty()).then(|| {
                let at = input
                    .location(lacking)
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                format!(
                    "add {} to the nativeBuildInputs/buildInputs that {} `{}`{at} is given",
                    and_list(&missing),
                    lacking.function.name(),
                    lacking.name
                )
            })
        };
        fixes.extend(missing_from(source, &mine, &theirs));
        fixes.extend(missing_from(phase, &theirs, &mine));
    }
    if differences.is_empty() {
        return None;
    }
    fixes.dedup();
    Some(finding(
        FindingId::PkgConfigInputs,
        Severity::Warning,
        location,
        format!(
            "{} find{} native libraries with pkg-config, and PKG_CONFIG_PATH (made by pkg-config's setup hook from the inputs) differs between phases and the artifacts they inherit: {}. Their build scripts rerun and everything above them rebuilds.",
            and_list(sys_crates),
            if sys_crates.len() == 1 { "s" } else { "" },
            differences.join("; ")
        ),
        fixes.join("; "),
    ))
}

/// The items of a phase's `nativeBuildInputs` and `buildInputs`, as written (a list in a
/// list, `optional cond [ x ]`, flattened as stdenv does), but setup hooks, which hold no
/// `.pc` files.
fn inputs_of(phase: &Phase) -> BTreeSet<String> {
    let mut items = Vec::new();
    for attr in ["nativeBuildInputs", "buildInputs"] {
        if let Some(value) = phase.attrs.get(attr) {
            flatten(value, &mut items);
        }
    }
    items
        .into_iter()
        .filter(|item| !is_setup_hook(item))
        .collect()
}

fn flatten(value: &AttrValue, out: &mut Vec<String>) {
    match value {
        AttrValue::List(items) => items.iter().for_each(|item| flatten(item, out)),
        AttrValue::Null => {}
        other => out.push(plain(other)),
    }
}

/// A setup hook or wrapper maker (`autoPatchelfHook`, `rustPlatform.bindgenHook`,
/// `makeWrapper`, `installShellFiles`): it adds no `.pc` file to `PKG_CONFIG_PATH`.
fn is_setup_hook(item: &str) -> bool {
    let name = item.rsplit('.').next().unwrap_or(item);
    name.ends_with("Hook")
        || name.ends_with("-hook")
        || matches!(
            name,
            "makeWrapper" | "makeBinaryWrapper" | "installShellFiles"
        )
}

/// An input as written: a string, or the name of a package the reader knows by name only.
fn plain(value: &AttrValue) -> String {
    match value {
        AttrValue::Str(s) | AttrValue::Unknown(s) => s.clone(),
        other => other.to_string(),
    }
}

fn has_pkg_config(inputs: &BTreeSet<String>) -> bool {
    inputs
        .iter()
        .any(|i| i.contains("pkg-config") || i.contains("pkgconfig"))
}

/// Whether the two sides' `PKG_CONFIG_PATH`s differ: pkg-config on one side only, or on
/// both with other inputs (any of which may hold `.pc` files). Without pkg-config on
/// either side, no hook sets it.
fn paths_differ(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    match (has_pkg_config(a), has_pkg_config(b)) {
        (false, false) => false,
        (true, true) => a != b,
        _ => true,
    }
}

fn described(inputs: &BTreeSet<String>) -> String {
    if inputs.is_empty() {
        return "no inputs".to_string();
    }
    let items: Vec<String> = inputs.iter().map(|i| format!("`{i}`")).collect();
    items.join(", ")
}
