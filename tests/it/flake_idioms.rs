//! Idioms of real crane flakes the static reader gets right (issue 20's corpus): phases
//! named by the output attribute or binding that reaches them, platforms evaluated per
//! package set, names of crane libs and environment variables computed by the flake.

use serde_json::Value;

use crate::common::{self, Fixture};

/// `cache-miss COMMAND --format json --system x86_64-linux` over (a copy of) the demo
/// workspace with the flake fixture `case` beside it, plus `args`.
fn json_of(command: &str, case: &str, args: &[&str]) -> Value {
    let fixture = common::flake_workspace(case);
    json_in(&fixture, command, args)
}

fn json_in(fixture: &Fixture, command: &str, args: &[&str]) -> Value {
    let output = common::cache_miss()
        .args([command, "--format", "json", "--system", "x86_64-linux"])
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("prints JSON")
}

/// Each phase's name with its crane function.
fn named_functions(phases: &Value) -> Vec<(String, String)> {
    phases["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["function"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Checks in a set of a `let`, reached only through `apps.*` scripts that interpolate
/// them, are named after their attribute in that set, not after the script's `text`.
#[test]
fn checks_bound_in_a_let_set_are_named_after_their_attribute() {
    let phases = json_of("phases", "let-bound-checks", &[]);
    assert_eq!(
        named_functions(&phases),
        common::pairs(&[
            ("cargoArtifacts", "buildDepsOnly"),
            ("unit", "cargoTest"),
            ("lint", "cargoClippy"),
            ("default", "buildPackage"),
        ])
    );
}

/// Phases that share a pname are named by the output attribute reaching them: through
/// `lib.recurseIntoAttrs` sets (`checks.serverClippy`) or a package's `passthru.tests`
/// (`cli-clippy`); the pname names only the deps-only phases, as crane does.
#[test]
fn phases_sharing_a_pname_are_named_by_the_output_reaching_them() {
    let phases = json_of("phases", "passthru-checks", &[]);
    let mut names = named_functions(&phases);
    names.sort();
    assert_eq!(
        names,
        common::pairs(&[
            ("cli", "buildPackage"),
            ("cli-bin-deps", "buildDepsOnly"),
            ("cli-clippy", "cargoClippy"),
            ("cli-doc", "cargoDoc"),
            ("server", "buildPackage"),
            ("server-bin-deps", "buildDepsOnly"),
            ("serverClippy", "cargoClippy"),
            ("serverDoc", "cargoDoc"),
        ])
    );
}

/// Each phase as (name, artifacts_from, the last command, env), for the cross fixture.
fn rows(phases: &Value) -> Vec<(String, String, String, Value)> {
    phases["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["artifacts_from"].as_str().unwrap_or("-").to_string(),
                p["commands"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
                p["env"].clone(),
            )
        })
        .collect()
}

/// `stdenv.targetPlatform.system == "aarch64-linux"` is false for the native set and true
/// for the `crossSystem` one; the cross rows carry the names the flake gives them
/// (`server-arm`, and `cargoArtifacts-arm` after them); `pkgsStatic.callPackage` in an
/// overlay builds for musl, with `hostPlatform.rust.rustcTarget` and `cargoEnvVarTarget`
/// answered for it. A per-phase deps-only fix for a cross row writes the suffix once.
#[test]
fn platforms_are_answered_per_package_set_and_cross_rows_named_as_the_flake_names_them() {
    let fixture = common::flake_workspace("cross-platforms");
    let phases = json_in(&fixture, "phases", &[]);
    let rows = rows(&phases);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.0 == name)
            .unwrap_or_else(|| panic!("no phase {name}: {rows:?}"))
    };
    let server = row("server");
    assert_eq!(server.1, "cargoArtifacts");
    assert_eq!(server.2, "cargo test --release -p server");
    assert_eq!(server.3, serde_json::json!({}));
    let server_arm = row("server-arm");
    assert_eq!(server_arm.1, "cargoArtifacts-arm");
    assert_eq!(
        server_arm.2,
        "cargo test --release -p server --target aarch64-unknown-linux-gnu"
    );
    assert_eq!(
        server_arm.3["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"],
        "qemu-aarch64"
    );
    for (name, triple) in [
        ("tool", "x86_64-unknown-linux-gnu"),
        ("tool-static", "x86_64-unknown-linux-musl"),
    ] {
        let env = &row(name).3;
        assert_eq!(env["CARGO_BUILD_TARGET"], triple, "{name}");
        let flags = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.replace('-', "_").to_uppercase()
        );
        assert_eq!(
            env[&flags], "-C target-feature=+crt-static",
            "{name}: {env}"
        );
    }
    assert!(
        !rows.iter().any(|r| r.0.contains("aarch64-linux")),
        "{rows:?}"
    );

    let report = common::cache_miss()
        .args([
            "report",
            "--no-cache",
            "--system",
            "x86_64-linux",
            "--manifest-path",
        ])
        .arg(fixture.manifest())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(text.contains("`cargoArtifacts-server-arm`"), "{text}");
    assert!(!text.contains("cargoArtifacts-arm-server-arm"), "{text}");
}

/// Names written with `builtins.replaceStrings [ "-" ] [ "_" ] target` and
/// `lib.toUpper`/`lib.toLower` of known strings are known: the variables reach the phase
/// (also the cc crate's lower-case `CC_<target>`), and nothing is "not known statically".
#[test]
fn env_names_computed_from_a_known_target_are_known() {
    let phases = json_of("phases", "env-names", &[]);
    for phase in phases["phases"].as_array().unwrap() {
        let env = &phase["env"];
        assert_eq!(
            env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS"], "--cfg computed_name",
            "{phase}"
        );
        assert_eq!(env["CC_x86_64_unknown_linux_gnu"], "cc", "{phase}");
        assert_eq!(env["CXX_x86_64_unknown_linux_gnu"], "c++", "{phase}");
        assert_eq!(phase["approximations"], serde_json::json!([]), "{phase}");
    }
    assert_eq!(phases["warnings"], serde_json::json!([]));
}

/// A source fix names the crane lib as the flake binds it (`stableCrane`), not `craneLib`.
#[test]
fn source_fixes_name_the_crane_lib_the_flake_binds() {
    let fixture = common::flake_workspace("crane-lib-names");
    let report = json_in(&fixture, "report", &["--no-cache"]);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "src-not-filtered")
        .unwrap_or_else(|| panic!("no src-not-filtered: {}", report["findings"]));
    let fix = finding["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("src = stableCrane.cleanCargoSource ./.;"),
        "{fix}"
    );
    assert!(!fix.contains("craneLib"), "{fix}");
}

/// Crane calls in modules of a flake input, imported by a module the flake lists with
/// `readDir`: the warning names the input once, at the module's own `imports`, and is
/// printed once when stdout and stderr go to the same file.
#[test]
fn an_input_holding_the_crane_calls_is_named_once_where_a_module_imports_it() {
    let fixture = common::flake_workspace("input-module-imports");
    let log = fixture.dir.path().join("out.log");
    let file = std::fs::File::create(&log).unwrap();
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("cache-miss"))
        .args(["phases", "--system", "x86_64-linux", "--manifest-path"])
        .arg(fixture.manifest())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("no crane calls found").count(), 1, "{text}");
    let phases = json_in(&fixture, "phases", &[]);
    let warning = phases["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains(
            "`rust-flake` (`inputs.rust-flake.flakeModules.default`, nix/modules/rust.nix:3; `inputs.rust-flake.flakeModules.nixpkgs`, nix/modules/rust.nix:3)"
        ),
        "{warning}"
    );
    assert_eq!(warning.matches("`rust-flake`").count(), 1, "{warning}");
    assert!(!warning.contains("flake.nix:13"), "{warning}");
}

/// A module list folded over `builtins.readDir`, `lib.filterAttrs` and
/// `lib.mapAttrsToList` (attic's flake) is followed: the module's phases are read.
#[test]
fn a_module_list_folded_over_read_dir_is_followed() {
    let phases = json_of("phases", "modules-fold", &[]);
    assert_eq!(
        named_functions(&phases),
        common::pairs(&[
            ("cargoArtifacts", "buildDepsOnly"),
            ("server", "buildPackage"),
            ("clippy", "cargoClippy"),
        ])
    );
    assert_eq!(phases["warnings"], serde_json::json!([]));
}
