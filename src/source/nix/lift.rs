//! A buildDepsOnly derivation's shell text read back as crane's attributes
//! (`cargoExtraArgs`, `cargoCheckExtraArgs`, `cargoBuildExtraArgs`, `cargoTestExtraArgs`),
//! so that what-ifs (`--set`) and `fix` change it as they change a phase the static reader
//! read. The attributes are kept only when crane's own text made from them runs exactly
//! the cargo calls the derivation's text runs; otherwise the text stays as it is.

use std::collections::BTreeMap;

use crate::phase::{AttrValue, PhaseSet, PhaseSpec};

/// The spec with its `buildPhase`/`checkPhase` replaced by crane's attributes, when that
/// changes none of its cargo calls.
pub(crate) fn lift_deps_only(spec: &PhaseSpec) -> Option<PhaseSpec> {
    let text = |attr: &str| match spec.attrs.get(attr) {
        Some(AttrValue::Str(text)) => Some(text.as_str()),
        _ => None,
    };
    let build = text("buildPhase")?
        .strip_prefix("runHook preBuild\n")?
        .trim_end()
        .strip_suffix("runHook postBuild")?;
    let check = text("checkPhase")?
        .strip_prefix("runHook preCheck\n")?
        .trim_end()
        .strip_suffix("runHook postCheck")?;
    let check_args = args_after(build, "cargoWithProfile check")?;
    let build_args = args_after(build, "cargoWithProfile build")?;
    let test_args = args_after(check, "cargoWithProfile test")?;
    let extra = common_prefix(&[&check_args, &build_args, &test_args]);
    let rest = |args: &[String]| args[extra.len()..].join(" ");
    let mut lifted = spec.clone();
    lifted.attrs.remove("buildPhase");
    lifted.attrs.remove("checkPhase");
    let attrs: BTreeMap<&str, String> = [
        ("cargoExtraArgs", extra.join(" ")),
        ("cargoCheckExtraArgs", rest(&check_args)),
        ("cargoBuildExtraArgs", rest(&build_args)),
        ("cargoTestExtraArgs", rest(&test_args)),
    ]
    .into_iter()
    .collect();
    for (attr, value) in attrs {
        lifted.attrs.insert(attr.into(), AttrValue::Str(value));
    }
    same_commands(spec, &lifted).then_some(lifted)
}

/// The words after `command` on the only line that starts with it.
fn args_after(text: &str, command: &str) -> Option<Vec<String>> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with(command));
    let line = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    Some(
        line.strip_prefix(command)?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    )
}

fn common_prefix(lists: &[&[String]]) -> Vec<String> {
    let Some(first) = lists.first() else {
        return Vec::new();
    };
    let length = (0..first.len())
        .take_while(|&i| lists.iter().all(|list| list.get(i) == first.get(i)))
        .count();
    first[..length].to_vec()
}

/// Whether crane runs the same cargo calls for both specs (both checked and built).
fn same_commands(a: &PhaseSpec, b: &PhaseSpec) -> bool {
    let calls = |spec: &PhaseSpec| {
        let mut spec = spec.clone();
        spec.attrs
            .insert("cargoArtifacts".into(), AttrValue::Str(String::new()));
        spec.attrs.insert("doCheck".into(), AttrValue::Bool(true));
        let set = PhaseSet::from_specs(vec![spec]).ok()?;
        let phase = set.phases.first()?;
        phase
            .approximations
            .is_empty()
            .then(|| phase.commands.clone())
    };
    let a = calls(a);
    a.is_some() && a == calls(b)
}
