//! What fails in Nix fails here: a phase whose definition fails is listed as not
//! evaluable, with Nix's message and where; failures Nix never forces do not matter.
//! The messages and positions are those of `nix-instantiate --eval --strict` (Nix 2.8).

use super::*;
use crate::located::SourceLocation;
use crate::phase::NotEvaluable;

/// A flake whose one phase, `app`, has `cargoExtraArgs = EXPR`, after the `let` bindings
/// `LET` (each on its own line from line 3).
pub(super) fn app_with(lets: &str, expr: &str) -> FlakePhases {
    read(&format!(
        "{{ outputs = {{ crane, pkgs, ... }}:\n  let craneLib = crane.mkLib pkgs;\n{lets}\n  in {{\n    packages.app = craneLib.cargoBuild {{ cargoArtifacts = null; cargoExtraArgs = {expr}; }};\n  }};\n}}\n"
    ))
}

fn failure(phases: &FlakePhases, phase: &str) -> NotEvaluable {
    spec(phases, phase)
        .not_evaluable
        .clone()
        .unwrap_or_else(|| panic!("{phase} evaluates: {:?}", spec(phases, phase)))
}

fn at(line: usize, column: usize) -> SourceLocation {
    SourceLocation {
        column: Some(column),
        ..SourceLocation::line("flake.nix", line)
    }
}

fn evaluable(phases: &FlakePhases, phase: &str) -> bool {
    spec(phases, phase).not_evaluable.is_none()
}

#[test]
fn throw_fails_the_phase_with_its_message_where_it_is_called() {
    let phases = app_with("  msg = \"unsupported\";", "throw \"target ${msg}\"");
    let failed = failure(&phases, "app");
    assert_eq!(failed.message, "target unsupported");
    assert_eq!(failed.location, at(5, 82));
    assert_eq!(failed.location.to_string(), "flake.nix:5:82");
}

#[test]
fn abort_fails_the_phase() {
    let phases = app_with("", "abort \"no\"");
    assert_eq!(
        failure(&phases, "app").message,
        "evaluation aborted with the following error message: 'no'"
    );
}

#[test]
fn a_false_assertion_fails_where_the_assert_is() {
    let phases = app_with("  n = 1;", "assert n == 2; \"--locked\"");
    let failed = failure(&phases, "app");
    assert_eq!(failed.message, "assertion '(n == 2)' failed");
    assert_eq!(failed.location, at(5, 82));
    // A true one is no failure.
    let phases = app_with("  n = 2;", "assert n == 2; \"--locked\"");
    assert!(evaluable(&phases, "app"));
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--locked"));
}

#[test]
fn a_missing_attribute_of_a_known_set_fails_where_it_is_selected() {
    let phases = app_with("  flags = { linux = \"--locked\"; };", "flags.windows");
    let failed = failure(&phases, "app");
    assert_eq!(failed.message, "attribute 'windows' missing");
    assert_eq!(failed.location, at(5, 82));
    // Selecting from what is not a set fails too.
    let phases = app_with("  flags = \"--locked\";", "flags.windows");
    assert_eq!(
        failure(&phases, "app").message,
        "value is a string while a set was expected"
    );
}

#[test]
fn an_or_default_rescues_a_missing_attribute() {
    let phases = app_with(
        "  flags = { linux = \"--locked\"; };",
        "flags.windows or \"--offline\"",
    );
    assert!(evaluable(&phases, "app"));
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--offline"));
}

#[test]
fn elem_at_out_of_range_and_get_attr_of_a_missing_name_fail() {
    let phases = app_with("  flags = [ \"--locked\" ];", "builtins.elemAt flags 3");
    assert_eq!(
        failure(&phases, "app").message,
        "list index 3 is out of bounds"
    );
    let phases = app_with("  flags = [ \"--locked\" ];", "builtins.elemAt flags 0");
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--locked"));
    let phases = app_with("  flags = { a = \"x\"; };", "builtins.getAttr \"b\" flags");
    assert_eq!(failure(&phases, "app").message, "attribute 'b' missing");
    let phases = app_with(
        "  flags = { a = \"--locked\"; };",
        "builtins.getAttr \"a\" flags",
    );
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--locked"));
}

#[test]
fn a_failure_nix_never_forces_does_not_matter() {
    // An unused attribute of a set, and a phase's passthru, are never forced.
    let phases = app_with(
        "  common = { broken = throw \"unused\"; flags = \"--locked\"; };",
        "common.flags",
    );
    assert!(evaluable(&phases, "app"));
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--locked"));
    let phases = flake(
        r#"{ packages.app = craneLib.cargoBuild { cargoArtifacts = null; passthru.broken = throw "x"; }; }"#,
    );
    assert!(evaluable(&phases, "app"));
}

#[test]
fn failures_propagate_through_operations() {
    for expr in [
        "\"--locked \" + (throw \"a\")",
        "\"--locked ${throw \"a\"}\"",
        "(if throw \"a\" then \"x\" else \"y\")",
        "(builtins.concatStringsSep \" \" [ \"x\" (throw \"a\") ])",
        "(({ f }: f) (throw \"a\"))",
        "(with (throw \"a\"); flags)",
    ] {
        let phases = app_with("", expr);
        assert_eq!(failure(&phases, "app").message, "a", "{expr}");
    }
    // The whole argument set failing: the phase is still listed.
    let phases = flake(
        r#"{ packages.app = craneLib.cargoBuild ({ cargoArtifacts = null; } // (throw "args")); }"#,
    );
    assert_eq!(failure(&phases, "app").message, "args");
}

#[test]
fn try_eval_catches_throw_and_assert_only() {
    let phases = app_with(
        "",
        "if (builtins.tryEval (throw \"x\")).success then \"--a\" else \"--locked\"",
    );
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--locked"));
    let phases = app_with("", "(builtins.tryEval (assert false; \"--a\")).value");
    assert_eq!(
        attr(&phases, "app", "cargoExtraArgs"),
        &AttrValue::Bool(false)
    );
    // A missing attribute is not caught, as in Nix.
    let phases = app_with("", "(builtins.tryEval { }.a).value");
    assert_eq!(failure(&phases, "app").message, "attribute 'a' missing");
}

#[test]
fn what_cannot_be_known_stays_approximate() {
    // Attributes of unknown sets (nixpkgs), a system the evaluator cannot know, and sets
    // with an unknown part do not fail.
    let phases = app_with(
        "  bySystem = { x86_64-linux = \"--locked\"; };\n  merged = { a = \"x\"; } // pkgs.extra;",
        "\"${pkgs.flags.release} ${bySystem.${pkgs.system}} ${merged.b}\"",
    );
    assert!(evaluable(&phases, "app"));
}

#[test]
fn one_target_missing_from_a_lookup_table_fails_alone() {
    let phases = flake(
        r#"let
          targetEnv = { x86_64-unknown-linux-gnu = { CC = "gcc"; }; aarch64-unknown-linux-gnu = { CC = "aarch64-gcc"; }; };
          mk = target: craneLib.buildPackage ({ pname = target; cargoArtifacts = null; CARGO_BUILD_TARGET = target; } // targetEnv.${target});
        in {
          packages = builtins.listToAttrs (map (t: { name = t; value = mk t; })
            [ "x86_64-unknown-linux-gnu" "aarch64-unknown-linux-gnu" "x86_64-pc-windows-gnu" ]);
        }"#,
    );
    assert!(evaluable(&phases, "x86_64-unknown-linux-gnu"));
    assert!(evaluable(&phases, "aarch64-unknown-linux-gnu"));
    assert_eq!(
        attr(&phases, "aarch64-unknown-linux-gnu", "CC"),
        &s("aarch64-gcc")
    );
    let failed = failure(&phases, "x86_64-pc-windows-gnu");
    assert_eq!(failed.message, "attribute 'x86_64-pc-windows-gnu' missing");
    assert_eq!(failed.location.line, Some(3));
}

#[test]
fn a_phase_inheriting_from_a_failing_one_fails_too() {
    let phases = flake(
        r#"let
          deps = craneLib.buildDepsOnly { cargoExtraArgs = { }.missing; };
        in { packages.app = craneLib.buildPackage { cargoArtifacts = deps; }; }"#,
    );
    assert_eq!(
        failure(&phases, "deps").message,
        "attribute 'missing' missing"
    );
    assert_eq!(
        failure(&phases, "app").message,
        "attribute 'missing' missing"
    );
}
