//! crane's quick-start phase set, analysed when no phases file or flake is found.

use crate::phase::{AttrValue, PhaseSpec};

/// buildDepsOnly, buildPackage, cargoClippy, cargoNextest and cargoDoc with crane's
/// defaults, as crane's quick-start template defines them.
pub(crate) fn quickstart_specs() -> Vec<PhaseSpec> {
    let phase = |name: &str, function: &str, extra: &[(&str, &str)]| {
        let mut spec = PhaseSpec {
            name: name.to_string(),
            ..PhaseSpec::default()
        };
        spec.attrs
            .insert("function".into(), AttrValue::Str(function.into()));
        if function != "buildDepsOnly" {
            spec.attrs
                .insert("cargoArtifacts".into(), AttrValue::Str("deps".into()));
        }
        for (attr, value) in extra {
            spec.attrs
                .insert(attr.to_string(), AttrValue::Str(value.to_string()));
        }
        spec
    };
    vec![
        phase("deps", "buildDepsOnly", &[]),
        phase("package", "buildPackage", &[]),
        phase(
            "clippy",
            "cargoClippy",
            &[("cargoClippyExtraArgs", "--all-targets -- --deny warnings")],
        ),
        phase("nextest", "cargoNextest", &[]),
        phase("doc", "cargoDoc", &[]),
    ]
}
