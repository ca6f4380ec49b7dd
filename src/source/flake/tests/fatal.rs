//! Bad input Nix rejects before any output exists: errors that end the reading (exit 2).

use std::path::Path;

use super::*;

/// The error reading flake text (as `/flake/flake.nix`).
fn error(text: &str) -> String {
    match read_flake_str(text, Path::new("/flake/flake.nix"), Path::new("/flake")) {
        Ok(phases) => panic!("reads, with phases {:?}", names(&phases)),
        Err(err) => err.to_string(),
    }
}

fn flake_error(body: &str) -> String {
    error(&FRAME.replace("BODY", body))
}

#[test]
fn a_local_import_that_does_not_exist_is_an_error() {
    assert_eq!(
        flake_error("{\n packages.p = import ./missing.nix { inherit craneLib; }; }"),
        "flake.nix:2:15: cannot import ./missing.nix: no such file"
    );
    assert_eq!(
        flake_error("{ packages.p = craneLib.buildDepsOnly (import ./nix); }"),
        "flake.nix:1:119: cannot import ./nix: no such file"
    );
}

#[test]
fn imports_the_evaluator_cannot_know_stay_approximations() {
    let phases = flake(
        r#"{ packages.p = craneLib.buildDepsOnly (import "${pkgs.path}/args.nix" // import ../elsewhere.nix); }"#,
    );
    assert_eq!(names(&phases), ["p"]);
    assert!(!approximations(&phases, "p").is_empty());
    assert!(
        phases.warnings[0]
            .text
            .contains("import of ../elsewhere.nix outside the flake's directory"),
        "{:?}",
        phases.warnings
    );
}

#[test]
fn a_crane_function_crane_does_not_have_is_an_error_with_a_suggestion() {
    assert_eq!(
        flake_error("{\n  packages.p = craneLib.buildPackag { };\n}"),
        "flake.nix:2:25: `buildPackag` is not a function or attribute of a crane lib; did you mean `buildPackage`?"
    );
    // A lib known only by its name (a function argument): a near miss is reported too.
    let err = error("{ craneLib }: { p = craneLib.cargoClipy { }; }");
    assert_contains(
        &err,
        "`cargoClipy` is not a function or attribute of a crane lib; did you mean `cargoClippy`?",
    );
}

/// crane's checks that compile nothing (fmt, audit, deny, taplo) are phases that say so,
/// and buildTrunkPackage is one (with its implicit deps-only phase for wasm32); helpers
/// that make no derivation of crane's phases (vendoring, the dummy source, a name) are not.
#[test]
fn crane_checks_that_compile_nothing_are_phases_and_helpers_are_not() {
    let phases = flake(
        r#"let src = craneLib.cleanCargoSource ./.; in {
          checks = {
            fmt = craneLib.cargoFmt { inherit src; };
            audit = craneLib.cargoAudit { inherit src; advisory-db = null; };
            deny = craneLib.cargoDeny { inherit src; };
            toml = craneLib.taploFmt { src = craneLib.path ./.; };
            vendored = craneLib.vendorCargoDeps { inherit src; };
            dummy = craneLib.mkDummySrc { inherit src; };
            name = (craneLib.crateNameFromCargoToml { inherit src; }).pname;
            web = craneLib.buildTrunkPackage { inherit src; trunkIndexPath = "web/index.html"; };
            deps = craneLib.buildDepsOnly { inherit src; };
          };
          legacy = crane.lib.x86_64-linux.cargoFmt { };
        }"#,
    );
    assert_eq!(
        names(&phases),
        ["fmt", "audit", "deny", "toml", "web", "deps", "legacy"]
    );
    let set = crate::phase::PhaseSet::from_specs(phases.specs.clone()).unwrap();
    for name in ["fmt", "audit", "deny", "toml", "legacy"] {
        let phase = set.get(name).unwrap();
        assert!(phase.function.compiles_nothing(), "{name}");
        assert_eq!(phase.artifacts_from, None, "{name}");
    }
    let commands = |name: &str| -> Vec<String> {
        set.get(name)
            .unwrap()
            .commands
            .iter()
            .map(|c| c.display())
            .collect()
    };
    assert_eq!(commands("fmt"), ["cargo fmt -- --check"]);
    assert_eq!(
        commands("deny"),
        ["cargo --offline deny check bans licenses sources"]
    );
    assert!(commands("toml").is_empty());
    // trunk's cargo call, for the package beside the index; its deps for wasm32.
    assert_eq!(
        commands("web"),
        ["cargo build --target wasm32-unknown-unknown --release --manifest-path web/Cargo.toml"]
    );
    assert_eq!(
        set.get("web").unwrap().artifacts_from.as_deref(),
        Some("web-deps")
    );
    let deps = set.get("web-deps").unwrap();
    assert!(deps.implicit);
    assert_eq!(
        deps.env.get("CARGO_BUILD_TARGET").map(String::as_str),
        Some("wasm32-unknown-unknown")
    );
    assert_eq!(
        commands("web-deps"),
        [
            "cargo check --release --locked",
            "cargo build --release --locked"
        ]
    );
}

#[test]
fn a_near_miss_of_a_crane_attribute_is_an_error() {
    assert_eq!(
        flake_error(
            "{ packages.server = craneLib.buildPackage {\n  cargoArtifacts = null;\n  cargoExtraArg = \"--locked\";\n}; }"
        ),
        "flake.nix:3:3: phase `server`: unknown attribute `cargoExtraArg`; did you mean `cargoExtraArgs`?"
    );
    // Other attributes are derivation attributes, as in Nix: a warning.
    let phases = flake(
        r#"{ packages.server = craneLib.buildPackage { cargoArtifacts = null; myOwnThing = "x"; buildInput = [ ]; }; }"#,
    );
    assert_eq!(names(&phases), ["server"]);
    assert!(
        phases
            .warnings
            .iter()
            .any(|w| w.text.contains("myOwnThing"))
    );
}

#[test]
fn infinite_recursion_is_an_error_where_it_happens() {
    assert_eq!(
        flake_error(
            "let\n  a = b;\n  b = a;\nin { packages.p = craneLib.buildDepsOnly { cargoExtraArgs = a; }; }"
        ),
        "flake.nix:3:7: infinite recursion evaluating `a`"
    );
    assert_eq!(
        flake_error(
            "let args = rec { cargoExtraArgs = cargoExtraArgs; }; in { packages.p = craneLib.buildDepsOnly args; }"
        ),
        "flake.nix:1:114: infinite recursion evaluating `cargoExtraArgs`"
    );
}

#[test]
fn recursion_nix_may_never_force_stays_unknown() {
    // The argument of a function the evaluator does not know: Nix may never force it.
    let phases = flake(
        r#"let x = pkgs.fix x; in { packages.p = craneLib.buildDepsOnly { cargoExtraArgs = "--locked"; passthru.x = x; }; }"#,
    );
    assert_eq!(names(&phases), ["p"]);
}

#[test]
fn undefined_variables_are_errors_unless_under_an_unknown_with() {
    assert_eq!(
        flake_error(
            "{\n packages.p = craneLib.buildDepsOnly { cargoExtraArgs = undefinedThing; }; }"
        ),
        "flake.nix:2:57: undefined variable `undefinedThing`"
    );
    // Nix checks the whole file, evaluated or not.
    assert_eq!(
        flake_error("{ packages.p = craneLib.buildDepsOnly { }; unused = x: y; }"),
        "flake.nix:1:135: undefined variable `y`"
    );
    let phases = flake(
        r#"with pkgs; { packages.p = craneLib.buildDepsOnly { cargoExtraArgs = somethingFromPkgs; }; }"#,
    );
    assert!(matches!(
        attr(&phases, "p", "cargoExtraArgs"),
        AttrValue::Unknown(text) if text == "somethingFromPkgs"
    ));
    // Builtins, `__` names and everything a `let`, `rec`, pattern or `inherit` defines.
    flake(
        r#"let inherit (pkgs) lib; f = { a, b ? a, ... }@args: args; in rec {
          x = __length [ ];
          y = throw "no";
          z = x;
          packages.p = craneLib.buildDepsOnly (f { a = lib; } // { inherit (lib) c; });
        }"#,
    );
}

#[test]
fn endless_and_too_deep_evaluations_are_errors_naming_where() {
    let err = flake_error(
        "let f = x: f x; in { packages.p = craneLib.buildDepsOnly { CARGO_PROFILE = f 1; }; }",
    );
    assert!(
        err.starts_with("flake.nix:1:") && err.contains("evaluation nested too deeply"),
        "{err}"
    );
    // Finite, but deeper than the evaluator follows.
    let err = flake_error(
        "let count = n: if n == 0 then \"release\" else count (n - 1); in { packages.p = craneLib.buildDepsOnly { CARGO_PROFILE = count 100000; }; }",
    );
    assert!(
        err.contains("evaluation nested too deeply")
            && err.contains("an endless recursion, or more than cache-miss can follow"),
        "{err}"
    );
    // Within the limit: evaluated.
    let phases = flake(
        "let count = n: if n == 0 then \"release\" else count (n - 1); in { packages.p = craneLib.buildDepsOnly { CARGO_PROFILE = count 100; }; }",
    );
    assert_eq!(attr(&phases, "p", "CARGO_PROFILE"), &s("release"));
}

#[test]
fn syntax_errors_are_said_in_plain_words() {
    assert_eq!(
        error("{\n  a = 1;\n  packages.default = { src = ./.; ;\n}\n"),
        "flake.nix:3:35: syntax error: unexpected `;`, expected an attribute name"
    );
    assert_eq!(
        error("{\n  a = ;\n}\n"),
        "flake.nix:2:7: syntax error: unexpected `;`, expected an expression"
    );
    let deep = format!("{{\n  a = {}1{};\n}}\n", "(".repeat(1000), ")".repeat(1000));
    let err = error(&deep);
    assert!(
        err.starts_with("flake.nix:2:") && err.ends_with("syntax error: nesting too deep"),
        "{err}"
    );
}
