//! The static evaluator and phase collection on small Nix texts.

use std::path::Path;

use super::*;
use crate::phase::AttrValue;

fn read(text: &str) -> FlakePhases {
    read_flake_str(text, Path::new("/flake/flake.nix"), Path::new("/flake")).expect("reads")
}

fn attr<'a>(phases: &'a FlakePhases, phase: &str, name: &str) -> &'a AttrValue {
    let spec = phases
        .specs
        .iter()
        .find(|s| s.name == phase)
        .unwrap_or_else(|| panic!("no phase {phase}"));
    spec.attrs
        .get(name)
        .unwrap_or_else(|| panic!("{phase} has no {name}: {:?}", spec.attrs))
}

fn s(text: &str) -> AttrValue {
    AttrValue::Str(text.into())
}

const FRAME: &str = "{ outputs = { crane, ... }: let craneLib = crane.mkLib null; in BODY; }";

fn flake(body: &str) -> FlakePhases {
    read(&FRAME.replace("BODY", body))
}

#[test]
fn let_rec_inherit_update_and_interpolation() {
    let phases = flake(
        r#"let
          member = "cli";
          common = rec { profile = "ci"; CARGO_PROFILE = profile; cargoExtraArgs = "--locked -p ${member}"; };
          deps = craneLib.buildDepsOnly (common // { doCheck = false; });
        in {
          packages.app = craneLib.buildPackage (builtins.removeAttrs common [ "profile" ] // {
            cargoArtifacts = deps;
            cargoExtraArgs = common.cargoExtraArgs + " --features a";
            nativeBuildInputs = [ "x" ] ++ [ "y" ];
          });
        }"#,
    );
    assert_eq!(attr(&phases, "deps", "CARGO_PROFILE"), &s("ci"));
    assert_eq!(attr(&phases, "deps", "doCheck"), &AttrValue::Bool(false));
    assert_eq!(
        attr(&phases, "app", "cargoExtraArgs"),
        &s("--locked -p cli --features a")
    );
    assert_eq!(attr(&phases, "app", "cargoArtifacts"), &s("deps"));
    assert_eq!(
        attr(&phases, "app", "nativeBuildInputs"),
        &AttrValue::List(vec![s("x"), s("y")])
    );
    assert!(
        !phases
            .specs
            .iter()
            .find(|s| s.name == "app")
            .unwrap()
            .attrs
            .contains_key("profile")
    );
}

#[test]
fn functions_with_patterns_defaults_and_at_bindings() {
    let phases = flake(
        r#"let
          mk = { name, extra ? "--all-features", ... }@args: craneLib.cargoClippy {
            cargoArtifacts = null;
            cargoClippyExtraArgs = "${extra} ${args.more or ""}";
          };
        in { checks.one = mk { name = "one"; }; checks.two = mk { name = "two"; extra = "-D x"; more = "y"; }; }"#,
    );
    assert_eq!(
        attr(&phases, "one", "cargoClippyExtraArgs"),
        &s("--all-features ")
    );
    assert_eq!(attr(&phases, "two", "cargoClippyExtraArgs"), &s("-D x y"));
}

#[test]
fn decidable_ifs_are_decided_and_others_are_unknown() {
    let phases = flake(
        r#"let dev = false; in {
          packages.a = craneLib.buildDepsOnly { CARGO_PROFILE = if dev then "dev" else "release"; doCheck = if unknownThing then true else false; };
        }"#,
    );
    assert_eq!(attr(&phases, "a", "CARGO_PROFILE"), &s("release"));
    assert!(
        matches!(attr(&phases, "a", "doCheck"), AttrValue::Unknown(text) if text.contains("unknownThing"))
    );
}

#[test]
fn names_prefer_checks_then_packages_then_let_bindings() {
    let phases = flake(
        r#"let
          deps = craneLib.buildDepsOnly { };
          pkg = craneLib.buildPackage { cargoArtifacts = deps; };
        in { packages.x86_64-linux.default = pkg; packages.x86_64-linux.tool = pkg; checks.x86_64-linux.tool-check = pkg; }"#,
    );
    let names: Vec<&str> = phases.specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["deps", "tool-check"]);
}

#[test]
fn crane_lib_overrides_and_lib_passed_as_argument() {
    let phases = read(
        r#"{ craneLib, rust }:
        let nightly = craneLib.overrideToolchain rust; scoped = craneLib.overrideScope (f: p: { }); in {
          a = craneLib.buildDepsOnly { };
          b = nightly.cargoBuild { cargoArtifacts = null; };
          c = scoped.cargoDoc { cargoArtifacts = null; };
        }"#,
    );
    let toolchain = |name: &str| {
        phases
            .specs
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .toolchain
            .clone()
            .unwrap()
    };
    assert_eq!(toolchain("a"), "craneLib");
    assert_eq!(toolchain("c"), "craneLib");
    assert!(
        toolchain("b").contains("overrideToolchain"),
        "{}",
        toolchain("b")
    );
}

#[test]
fn recursion_is_cut_without_a_panic() {
    let phases = flake(
        r#"let a = b; b = a; f = x: f x; in { packages.p = craneLib.buildDepsOnly { cargoExtraArgs = a; CARGO_PROFILE = f 1; }; }"#,
    );
    assert!(matches!(
        attr(&phases, "p", "cargoExtraArgs"),
        AttrValue::Unknown(_)
    ));
    assert!(matches!(
        attr(&phases, "p", "CARGO_PROFILE"),
        AttrValue::Unknown(_)
    ));
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let err = read_flake_str(
        "{\n  a = ;\n}\n",
        Path::new("/flake/flake.nix"),
        Path::new("/flake"),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("flake.nix:2:7: syntax error"),
        "{err}"
    );
}

#[test]
fn inputs_that_cannot_be_read_do_not_stop_the_analysis() {
    let phases = flake(r#"{ packages.p = craneLib.buildDepsOnly (import ./missing.nix); }"#);
    assert_eq!(phases.specs.len(), 1);
    assert!(
        phases.specs[0].approximations[0].contains("part of the arguments could not be resolved")
    );
    assert!(
        phases.warnings[0].contains("cannot read ./missing.nix"),
        "{:?}",
        phases.warnings
    );
}
