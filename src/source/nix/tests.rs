//! The `--nix` reader on derivation JSON recorded from real Nix (`fixtures/nix-drv`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::drv::parse_derivations;
use super::phases::{Output, phases_from};
use crate::located::SourceLocation;
use crate::phase::{AttrValue, PhaseSet};

fn recorded(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/nix-drv")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn outputs() -> Vec<Output> {
    let recorded: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_str(&recorded("common-args.outputs.json")).unwrap();
    ["packages", "checks"]
        .iter()
        .flat_map(|set| {
            recorded[*set].iter().map(move |(name, drv)| Output {
                attr: format!("{set}.{name}"),
                drv: Ok(drv.clone()),
            })
        })
        .collect()
}

fn phases(file: &str) -> PhaseSet {
    let drvs = parse_derivations(&recorded(file)).unwrap();
    let reading = phases_from(&outputs(), &drvs, &SourceLocation::file("flake.nix"));
    PhaseSet::from_specs(reading.specs).unwrap()
}

fn commands(set: &PhaseSet, name: &str) -> Vec<String> {
    set.get(name)
        .unwrap_or_else(|| panic!("no phase {name}"))
        .commands
        .iter()
        .map(|c| c.display())
        .collect()
}

#[test]
fn crane_derivations_are_read_as_phases() {
    let set = phases("common-args.nix-2.8.json");
    let names: Vec<&str> = set.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cargo-package-deps",
            "server",
            "server-lto",
            "clippy",
            "dev-profile",
            "loom"
        ]
    );
    let function = |name: &str| set.get(name).unwrap().function.to_string();
    assert_eq!(function("cargo-package-deps"), "buildDepsOnly");
    assert_eq!(function("server"), "buildPackage");
    assert_eq!(function("server-lto"), "cargoBuild");
    assert_eq!(function("clippy"), "cargoClippy");
    assert_eq!(function("loom"), "cargoTest");
    assert_eq!(
        commands(&set, "cargo-package-deps"),
        [
            "cargo check --release --locked -p server",
            "cargo build --release --locked -p server"
        ]
    );
    assert_eq!(
        commands(&set, "server"),
        ["cargo build --release --message-format json-render-diagnostics --locked -p server"]
    );
    assert_eq!(
        commands(&set, "dev-profile"),
        ["cargo build --profile dev --locked"]
    );
    assert_eq!(
        commands(&set, "clippy"),
        ["cargo clippy --release --locked --all-targets --all-features -- -D warnings"]
    );
    for phase in set.phases.iter().skip(1) {
        assert_eq!(
            phase.artifacts_from.as_deref(),
            Some("cargo-package-deps"),
            "{}",
            phase.name
        );
    }
    let env = |name: &str| set.get(name).unwrap().env.clone();
    assert_eq!(
        env("loom").get("RUSTFLAGS").map(String::as_str),
        Some("--cfg loom")
    );
    assert_eq!(
        env("server-lto")
            .get("CARGO_PROFILE_RELEASE_LTO")
            .map(String::as_str),
        Some("fat")
    );
    assert!(
        env("cargo-package-deps").is_empty(),
        "{:?}",
        env("cargo-package-deps")
    );
    assert!(!set.get("cargo-package-deps").unwrap().do_check);
    assert!(set.phases.iter().all(|p| p.approximations.is_empty()));
}

#[test]
fn an_output_and_its_alias_are_one_phase() {
    let drvs = parse_derivations(&recorded("common-args.nix-2.8.json")).unwrap();
    let reading = phases_from(&outputs(), &drvs, &SourceLocation::file("flake.nix"));
    assert_eq!(reading.aliases["server"], ["default"]);
    assert!(reading.not_crane.is_empty());
}

#[test]
fn both_json_shapes_read_the_same() {
    assert_eq!(
        phases("common-args.nix-2.8.json"),
        phases("common-args.recent-shape.json")
    );
}

#[test]
fn an_output_that_fails_is_listed_and_sinks_nothing() {
    let drvs = parse_derivations(&recorded("common-args.nix-2.8.json")).unwrap();
    let mut outputs = outputs();
    outputs.push(Output {
        attr: "checks.broken".into(),
        drv: Err("error: attribute 'x' missing".into()),
    });
    let reading = phases_from(&outputs, &drvs, &SourceLocation::file("flake.nix"));
    let broken = reading.specs.iter().find(|s| s.name == "broken").unwrap();
    assert_eq!(
        broken.not_evaluable.as_ref().map(|n| n.message.as_str()),
        Some("attribute 'x' missing")
    );
    assert_eq!(reading.specs.len(), 7);
}

#[test]
fn inherited_artifacts_no_derivation_makes_are_said() {
    let mut drvs = parse_derivations(&recorded("common-args.nix-2.8.json")).unwrap();
    for drv in drvs.values_mut() {
        if drv.env("pname") == Some("cargo-package-clippy") {
            drv.env.insert(
                "cargoArtifacts".into(),
                "/nix/store/00000000000000000000000000000000-elsewhere".into(),
            );
        }
    }
    let reading = phases_from(&outputs(), &drvs, &SourceLocation::file("flake.nix"));
    let clippy = reading.specs.iter().find(|s| s.name == "clippy").unwrap();
    assert_eq!(
        clippy.attrs["cargoArtifacts"],
        AttrValue::Unknown("elsewhere".into())
    );
    assert!(clippy.approximations[0].text.contains("elsewhere"));
}

#[test]
fn a_deps_only_derivation_is_read_back_as_crane_attributes() {
    let drvs = parse_derivations(&recorded("common-args.nix-2.8.json")).unwrap();
    let reading = phases_from(&outputs(), &drvs, &SourceLocation::file("flake.nix"));
    let deps = &reading.specs[0];
    assert_eq!(deps.name, "cargo-package-deps");
    assert_eq!(
        deps.attrs["cargoExtraArgs"],
        AttrValue::Str("--locked -p server".into())
    );
    assert_eq!(
        deps.attrs["cargoTestExtraArgs"],
        AttrValue::Str("--no-run".into())
    );
    assert!(!deps.attrs.contains_key("buildPhase"));
    // What a what-if changes then changes the commands, as on a phase read statically.
    let mut changed = deps.clone();
    changed.attrs.insert(
        "cargoExtraArgs".into(),
        AttrValue::Str("--locked --workspace".into()),
    );
    let set = PhaseSet::from_specs(vec![changed]).unwrap();
    assert_eq!(
        set.phases[0].commands[0].display(),
        "cargo check --release --locked --workspace"
    );
}

#[test]
fn the_toolchain_is_the_cargo_in_native_build_inputs() {
    let mut drvs = parse_derivations(&recorded("common-args.nix-2.8.json")).unwrap();
    for drv in drvs.values_mut() {
        if let Some(inputs) = drv.env.get_mut("nativeBuildInputs") {
            *inputs = inputs.replace("-cargo ", "-cargo-1.70.0 ");
        }
    }
    let reading = phases_from(&outputs(), &drvs, &SourceLocation::file("flake.nix"));
    assert_eq!(
        reading.specs[1].toolchain.as_deref(),
        Some("cargo-1.70.0 (in nativeBuildInputs)")
    );
}

/// crane's cross support (`mkCrossToolchainEnv`) sets `__CRANE_EXPORT_X`, which its setup
/// hook exports as `X` unless `X` is set: the phase's environment holds `X`.
#[test]
fn crane_exports_are_the_variables_they_name_unless_set() {
    let mut drvs = parse_derivations(&recorded("common-args.nix-2.8.json")).unwrap();
    for drv in drvs.values_mut() {
        let pname = drv.env.get("pname").cloned().unwrap_or_default();
        drv.env.insert(
            "__CRANE_EXPORT_CARGO_BUILD_TARGET".into(),
            "aarch64-unknown-linux-musl".into(),
        );
        if pname == "cargo-package-clippy" {
            drv.env.insert(
                "CARGO_BUILD_TARGET".into(),
                "x86_64-unknown-linux-musl".into(),
            );
        }
    }
    let reading = phases_from(&outputs(), &drvs, &SourceLocation::file("flake.nix"));
    let target = |name: &str| {
        let spec = reading.specs.iter().find(|s| s.name == name).unwrap();
        spec.env.get("CARGO_BUILD_TARGET").cloned()
    };
    assert_eq!(
        target("clippy").as_deref(),
        Some("x86_64-unknown-linux-musl")
    );
    assert_eq!(
        target("loom").as_deref(),
        Some("aarch64-unknown-linux-musl")
    );
    assert!(
        reading
            .specs
            .iter()
            .all(|s| !s.env.keys().any(|k| k.starts_with("__CRANE_EXPORT_")))
    );
}
