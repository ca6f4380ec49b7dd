//! Reading crane phases from flakes: the fixture corpus through `cache-miss phases` and
//! `cache-miss report`, with no Nix on the machine.

use crate::common;

use common::CommandExt;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Fixture, fixtures_dir};
use predicates::prelude::*;
use serde_json::{Value, json};

const CASES: &[&str] = &[
    "quickstart",
    "quickstart-workspace",
    "common-args",
    "per-member",
    "mkpkg",
    "per-package-deps",
    "imported",
    "flake-parts",
    "unresolved",
    "toolchain",
    "nixpkgs-helpers",
    "flake-utils-self",
    "merged-conditional",
    "blueprint",
    "flake-parts-modules",
    "path-arithmetic",
    "flake-utils-variants",
    "cross-packages",
    "crane-wrapper",
    "computed-imports",
    "tool-inputs",
];

fn flake(case: &str) -> PathBuf {
    fixtures_dir().join("flakes").join(case).join("flake.nix")
}

/// `cache-miss COMMAND --format json` for a flake case, on (a copy of) the demo workspace.
fn json_of(command: &str, case: &str) -> Value {
    json_of_flake(command, &flake(case))
}

/// `cache-miss COMMAND --format json --flake FLAKE`, on (a copy of) the demo workspace,
/// for x86_64-linux whatever machine runs the tests.
fn json_of_flake(command: &str, flake: &Path) -> Value {
    json_of_flake_for(command, flake, "x86_64-linux")
}

/// As [`json_of_flake`], with `--system SYSTEM`.
fn json_of_flake_for(command: &str, flake: &Path, system: &str) -> Value {
    let demo = Fixture::new("demo");
    let output = common::cache_miss()
        .args([
            command,
            "--format",
            "json",
            "--system",
            system,
            "--manifest-path",
        ])
        .arg(demo.manifest())
        .arg("--flake")
        .arg(flake)
        .success_stdout();
    serde_json::from_slice(&output).expect("prints JSON")
}

fn phases_of(case: &str) -> Value {
    json_of("phases", case)
}

#[test]
fn every_case_yields_its_expected_phases() {
    for case in CASES {
        let found = phases_of(case);
        let actual: Vec<Value> = found["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                json!({
                    "name": p["name"], "function": p["function"], "artifacts_from": p["artifacts_from"],
                    "commands": p["commands"], "env": p["env"],
                    "approximate": !p["approximations"].as_array().unwrap().is_empty(),
                })
            })
            .collect();
        let expected_path = fixtures_dir()
            .join("flakes")
            .join(case)
            .join("expected-phases.json");
        let expected: Value =
            serde_json::from_str(&fs::read_to_string(&expected_path).unwrap()).unwrap();
        assert_eq!(
            Value::Array(actual),
            expected["phases"],
            "{case}: phases differ from {}",
            expected_path.display()
        );
        assert_eq!(found["warnings"], expected["warnings"], "{case}: warnings");
    }
}

#[test]
fn report_runs_end_to_end_on_every_case() {
    for case in CASES {
        let report = json_of("report", case);
        assert!(
            report["phase_source"]
                .as_str()
                .unwrap()
                .starts_with("flake "),
            "{case}"
        );
        assert!(!report["phases"].as_array().unwrap().is_empty(), "{case}");
    }
}

#[test]
fn quick_start_workspace_style_misses_for_a_single_member() {
    // buildDepsOnly builds the whole workspace (cli turns on shared/fancy), `-p server`
    // alone does not: crane's quick-start-workspace template pays for this.
    let report = json_of("report", "quickstart-workspace");
    let server = common::phase(&report, "server");
    assert_eq!(
        common::root_misses(server),
        common::pairs(&[
            ("leaf", "features"),
            ("mid", "features"),
            ("top", "features")
        ])
    );
    assert_eq!(server["origin"], "flake.nix:33");
    assert_eq!(common::phase(&report, "cli")["units"]["missed"], 0);
}

#[test]
fn another_toolchain_misses_every_unit() {
    let report = json_of("report", "toolchain");
    let miri = common::phase(&report, "miri");
    assert_eq!(miri["units"]["cached"], 0);
    assert!(
        miri["misses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["reason"] == "toolchain")
    );
    assert!(
        miri["misses"][0]["cause"]
            .as_str()
            .unwrap()
            .contains("overrideToolchain")
    );
}

#[test]
fn unresolved_values_are_approximate_with_file_line_and_attribute() {
    let found = phases_of("unresolved");
    let default = common::phase(&found, "default");
    let approximations: Vec<&str> = default["approximations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(approximations.contains(
        &"flake.nix:20: attribute RUSTFLAGS could not be resolved (builtins.readFile ./rustflags.txt); left unset"
    ), "{approximations:#?}");
    assert!(
        approximations
            .iter()
            .any(|a| a.starts_with("flake.nix:20: attribute doCheck could not be resolved"))
    );
    assert_eq!(
        found["warnings"][0],
        "flake.nix:17: import of ../../../../somewhere/else.nix outside the flake's directory; its value is unknown"
    );
    let table = common::cache_miss()
        .args(["phases", "--manifest-path"])
        .arg(Fixture::new("demo").manifest())
        .arg("--flake")
        .arg(flake("unresolved"))
        .success_stdout();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table
            .contains("  approximate: flake.nix:20: attribute CARGO_PROFILE could not be resolved"),
        "{table}"
    );
}

#[test]
fn malformed_flake_is_a_clear_error() {
    common::cache_miss()
        .args(["report", "--manifest-path"])
        .arg(Fixture::new("demo").manifest())
        .arg("--flake")
        .arg(flake("malformed"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "flake.nix:6:61: syntax error: unexpected `;`, expected an attribute name",
        ))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn self_in_a_flake_utils_frame_passthru_checks_and_a_toolchain_named_once() {
    let report = json_of("report", "flake-utils-self");
    let doc = common::phase(&report, "server-doc");
    assert_eq!(doc["artifacts_from"], "server");
    assert!(doc["approximations"].as_array().unwrap().is_empty());
    assert_eq!(
        common::phase(&report, "server-clippy")["origin"],
        "flake.nix:23"
    );
    let miri = common::phase(&report, "miri");
    let cause = miri["misses"][0]["cause"].as_str().unwrap();
    assert!(
        cause.contains(
            "(crane.mkLib pkgs).overrideToolchain (p: p.rust-bin.nightly.latest.default)"
        ) && !cause.contains("crane.mkLib.overrideToolchain"),
        "{cause}"
    );
}

/// A file written beside the flake: name and bytes.
type ExtraFile = (&'static str, &'static [u8]);

/// Bad input in a flake (or a file it imports): `cache-miss report` exits 2 with one
/// clear error, never a panic.
#[test]
fn bad_input_is_one_clear_error_with_exit_code_2() {
    let body = |phase: &str| {
        format!(
            "{{\n  outputs = {{ crane, nixpkgs, ... }}:\n    let\n      craneLib = crane.mkLib nixpkgs;\n    in {{\n{phase}\n    }};\n}}\n"
        )
    };
    let cases: &[(&str, String, &[ExtraFile], &str)] = &[
        (
            "missing import",
            body("      packages.x86_64-linux = import ./nosuch.nix { inherit craneLib; };"),
            &[],
            "flake.nix:6:31: cannot import ./nosuch.nix: no such file",
        ),
        (
            "import that is not UTF-8",
            body("      packages.x86_64-linux = import ./latin1.nix { inherit craneLib; };"),
            &[("latin1.nix", b"{ craneLib }: { a = \"caf\xe9\"; }\n")],
            "flake.nix:6:31: cannot import ./latin1.nix: not UTF-8 text",
        ),
        (
            "a file that imports itself",
            body("      packages.x86_64-linux = import ./loop.nix;"),
            &[("loop.nix", b"import ./loop.nix\n")],
            "loop.nix:1:1: cannot import ./loop.nix: it imports itself while it is being evaluated (infinite recursion)",
        ),
        (
            "unknown crane function",
            body("      packages.x86_64-linux.server = craneLib.buildPackag { };"),
            &[],
            "flake.nix:6:47: `buildPackag` is not a function or attribute of a crane lib; did you mean `buildPackage`?",
        ),
        (
            "near miss of a crane attribute",
            body(
                "      packages.x86_64-linux.server = craneLib.buildPackage {\n        cargoExtraArg = \"--locked\";\n      };",
            ),
            &[],
            "flake.nix:7:9: phase `server`: unknown attribute `cargoExtraArg`; did you mean `cargoExtraArgs`?",
        ),
        (
            "infinite recursion",
            body(
                "      packages.x86_64-linux.server = let a = b; b = a; in craneLib.buildPackage { cargoExtraArgs = a; };",
            ),
            &[],
            "flake.nix:6:53: infinite recursion evaluating `a`",
        ),
        (
            "undefined variable",
            body(
                "      packages.x86_64-linux.server = craneLib.buildPackage { cargoExtraArgs = undefinedThing; };",
            ),
            &[],
            "flake.nix:6:79: undefined variable `undefinedThing`",
        ),
        (
            "syntax error",
            body("      packages.x86_64-linux.server = craneLib.buildPackage { src = ./.; ; };"),
            &[],
            "flake.nix:6:73: syntax error: unexpected `;`, expected an attribute name",
        ),
    ];
    for (what, flake_text, files, expected) in cases {
        let demo = Fixture::new("demo");
        let flake = demo.root().join("flake.nix");
        fs::write(&flake, flake_text).unwrap();
        for (name, content) in *files {
            fs::write(demo.root().join(name), content).unwrap();
        }
        let output = common::cache_miss()
            .args(["report", "--manifest-path"])
            .arg(demo.manifest())
            .arg("--flake")
            .arg(&flake)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(expected), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{what}: {stderr}");
    }
}

#[test]
fn flake_beside_the_manifest_is_picked_up() {
    let demo = Fixture::new("demo");
    fs::remove_file(demo.root().join("phases.toml")).unwrap();
    fs::copy(flake("quickstart"), demo.root().join("flake.nix")).unwrap();
    let report = demo.report_json(&[]);
    assert_eq!(
        report["phase_source"],
        "flake flake.nix beside the manifest (6 crane calls found, 6 placed as phases)"
    );
    let names = common::phase_names(&report);
    assert_eq!(
        names,
        [
            "cargoArtifacts",
            "server",
            "server-clippy",
            "server-doc",
            "server-fmt",
            "server-nextest"
        ]
    );
}

#[test]
fn phases_file_wins_over_the_flake() {
    let demo = Fixture::new("demo");
    fs::copy(flake("quickstart"), demo.root().join("flake.nix")).unwrap();
    let report = demo.report_json(&[]);
    assert_eq!(
        report["phase_source"],
        "phases file phases.toml beside the manifest"
    );
}

#[test]
fn flake_without_crane_calls_falls_back_to_the_quick_start_set() {
    let demo = Fixture::new("demo");
    fs::remove_file(demo.root().join("phases.toml")).unwrap();
    fs::write(
        demo.root().join("flake.nix"),
        "{ outputs = { self }: { }; }\n",
    )
    .unwrap();
    let report = demo.report(&["--format", "json"]).success();
    // Loud: on stderr, in the report's warnings and in its phase source.
    let stderr = String::from_utf8_lossy(&report.get_output().stderr).to_string();
    assert!(
        stderr.contains("flake.nix: no crane calls found") && stderr.contains("--flake path/to/"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&report.get_output().stdout).unwrap();
    assert!(
        report["phase_source"].as_str().unwrap().starts_with(
            "flake.nix has no crane calls cache-miss could find, so these are NOT your phases"
        ),
        "{}",
        report["phase_source"]
    );
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("flake.nix: no crane calls found")
            && warnings[0].as_str().unwrap().contains("--phases"),
        "{warnings:?}"
    );
}

#[test]
fn explicit_flake_without_crane_calls_is_an_error() {
    let demo = Fixture::new("demo");
    let empty = demo.root().join("nix-without-crane.nix");
    fs::write(&empty, "{ outputs = { self }: { }; }\n").unwrap();
    common::cache_miss()
        .args(["report", "--manifest-path"])
        .arg(demo.manifest())
        .arg("--flake")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("nix-without-crane.nix: no crane calls found")
                .and(predicate::str::contains("--flake")),
        );
}

#[test]
fn a_flake_named_without_a_directory_imports_relative_to_the_current_one() {
    let demo = Fixture::new("demo");
    fs::remove_file(demo.root().join("phases.toml")).unwrap();
    fs::write(
        demo.root().join("default.nix"),
        "{ craneLib }: { deps = craneLib.buildDepsOnly { }; }\n",
    )
    .unwrap();
    fs::write(
        demo.root().join("crane.nix"),
        "{ outputs = { crane, ... }: { packages.x86_64-linux = import ./. { craneLib = crane.mkLib null; }; }; }\n",
    )
    .unwrap();
    let output = common::cache_miss()
        .current_dir(demo.root())
        .args(["phases", "--format", "json", "--flake", "crane.nix"])
        .success_stdout();
    let phases: Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(phases["phases"][0]["name"], "deps");
}

#[test]
fn merged_conditional_and_interpolated_crane_calls_are_phases() {
    let found = phases_of("merged-conditional");
    let phase = |name: &str| common::phase(&found, name);
    // `(craneLib.buildPackage …) // { meta… }` is named from where it is bound.
    assert_eq!(phase("default")["function"], "buildPackage");
    // Unparenthesised: its cargoArtifacts never reaches crane (implicit deps), said once.
    assert_eq!(phase("server")["artifacts_from"], "server-deps");
    let warnings = found["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("flake.nix:36: the attributes after `//`")
            && warnings[0].as_str().unwrap().contains("cargoArtifacts"),
        "{warnings:?}"
    );
    // Under an unknown condition: kept, approximate, with the condition's place.
    let notes = phase("coverage")["approximations"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("flake.nix:50:")),
        "{notes:?}"
    );
    // Under a platform predicate: decided for the system read (x86_64-linux here).
    assert_eq!(phase("static")["approximations"], json!([]));
    let on_mac = json_of_flake_for("phases", &flake("merged-conditional"), "aarch64-darwin");
    assert!(
        on_mac["phases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "static")
    );
    // Interpolated into another derivation's script: found, named from its binding.
    assert_eq!(phase("helper")["artifacts_from"], "deps");
    // Environment variable names computed with `builtins.replaceStrings` of a known
    // platform attribute are known, spelled as Nix spells them.
    assert_eq!(
        phase("checked")["env"],
        json!({
            "CARGO_TARGET_x86_64_unknown_linux_gnu_LINKER": "cc",
            "CC_x86_64_unknown_linux_gnu": "cc"
        })
    );
    assert_eq!(phase("checked")["approximations"], json!([]));
}

#[test]
fn a_file_below_the_flake_is_shown_relative_to_the_flake() {
    let parts = fixtures_dir().join("flakes/merged-conditional/nix/parts.nix");
    let found = json_of_flake("phases", &parts);
    assert_eq!(found["phases"][0]["origin"], "nix/parts.nix:6");
}

#[test]
fn a_package_nix_cannot_evaluate_is_listed_not_evaluable_and_the_others_are_intact() {
    let found = phases_of("not-evaluable");
    let phases = found["phases"].as_array().unwrap();
    let names: Vec<&str> = phases.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "cargoArtifacts",
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "x86_64-unknown-linux-musl",
            "riscv64gc-unknown-linux-gnu"
        ]
    );
    let phase = |name: &str| phases.iter().find(|p| p["name"] == name).unwrap();
    // Nix: `error: attribute 'riscv64gc-unknown-linux-gnu' missing, at flake.nix:33:12`.
    assert_eq!(
        phase("riscv64gc-unknown-linux-gnu")["not_evaluable"],
        json!({
            "message": "attribute 'riscv64gc-unknown-linux-gnu' missing",
            "location": {"file": "flake.nix", "line": 33, "column": 12}
        })
    );
    for name in &names[..4] {
        assert!(phase(name).get("not_evaluable").is_none(), "{name}");
        assert_eq!(phase(name)["approximations"], json!([]), "{name}");
    }
    assert_eq!(
        phase("x86_64-unknown-linux-musl")["artifacts_from"],
        "cargoArtifacts"
    );
    assert_eq!(
        phase("x86_64-unknown-linux-musl")["env"],
        json!({"CARGO_PROFILE_RELEASE_PANIC": "abort"})
    );
    assert_eq!(
        phase("aarch64-unknown-linux-gnu")["commands"],
        json!(["cargo build --release --message-format json-render-diagnostics --locked -p cli"])
    );
}

#[test]
fn a_flake_toolchain_other_than_the_resolving_cargo_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let flake = dir.path().join("flake.nix");
    let text = fs::read_to_string(fixtures_dir().join("flakes/toolchain/flake.nix"))
        .unwrap()
        .replace(
            "p.rust-bin.nightly.latest.default",
            "p.rust-bin.stable.\"1.70.0\".default",
        );
    fs::write(&flake, text).unwrap();
    let report = json_of_flake("report", &flake);
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("flake.nix:18: `miri` builds with Rust 1.70.0 ("),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains("which rustup has not installed, so it was resolved with cargo "),
        "{warnings:?}"
    );
}

/// The panic found on a real flake: the toolchain expression held a `…`, and the release
/// was searched by byte offsets.
#[test]
fn a_toolchain_expression_with_multi_byte_characters_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let flake = dir.path().join("flake.nix");
    let text = fs::read_to_string(fixtures_dir().join("flakes/toolchain/flake.nix"))
        .unwrap()
        .replace(
            "p.rust-bin.nightly.latest.default",
            "(p.rust-bin.fromRustupToolchain { targets = [ \"…\" ]; channel = \"1.70.0\"; })",
        );
    fs::write(&flake, text).unwrap();
    let report = json_of_flake("report", &flake);
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("builds with Rust 1.70.0 ("),
        "{warnings:?}"
    );
}

#[test]
fn a_flake_toolchain_following_another_channel_than_the_resolving_cargo_is_a_warning() {
    // `rust-bin.nightly.latest` names no release; rust-toolchain.toml pins stable.
    let demo = Fixture::new("demo");
    let report = |pinned: bool| -> Value {
        let pin = demo.manifest().with_file_name("rust-toolchain.toml");
        if pinned {
            fs::write(&pin, "[toolchain]\nchannel = \"stable\"\n").unwrap();
        } else {
            fs::remove_file(&pin).ok();
        }
        let output = common::cache_miss()
            .args(["report", "--format", "json", "--manifest-path"])
            .arg(demo.manifest())
            .arg("--flake")
            .arg(flake("toolchain"))
            .env_remove("RUSTUP_TOOLCHAIN")
            .success_stdout();
        serde_json::from_slice(&output).unwrap()
    };
    let pinned = report(true);
    let warnings: Vec<&str> = pinned["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("flake.nix:18: `miri` builds with rust-overlay's nightly ((crane.mkLib pkgs).overrideToolchain (p: p.rust-bin.nightly.latest.default)), but was resolved with cargo "),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains("rust-toolchain.toml) instead"),
        "{warnings:?}"
    );
    // Nothing pins the cargo: the default toolchain's, warned about unless it is a nightly.
    let unpinned = report(false);
    let nightly = unpinned["cargo"]["release"]
        .as_str()
        .unwrap()
        .contains("nightly");
    let warned = unpinned["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .contains("(the default toolchain) instead")
    });
    assert_eq!(warned, !nightly, "{unpinned:#}");
}

#[test]
fn blueprint_directories_are_phases_with_blueprints_arguments() {
    let found = phases_of("blueprint");
    let phase = |name: &str| common::phase(&found, name);
    // `perSystem.self.deps` is the package `packages/deps.nix`; `pname` is the file's name.
    assert_eq!(phase("server")["artifacts_from"], "deps");
    assert_eq!(phase("server")["origin"], "nix/packages/server.nix:2");
    assert_eq!(
        phase("server")["commands"][0],
        "cargo build --release --message-format json-render-diagnostics --locked -p server"
    );
    // A package directory is its default.nix; a check is named by its file.
    assert_eq!(phase("cli")["origin"], "nix/packages/cli/default.nix:2");
    assert_eq!(phase("clippy")["artifacts_from"], "deps");
    // Artifacts from another flake: approximate, never "none".
    let coverage = phase("coverage");
    assert!(
        coverage["approximations"][0]
            .as_str()
            .unwrap()
            .contains("cargoArtifacts could not be resolved (perSystem.shared-deps.default)"),
        "{coverage}"
    );
    assert_eq!(
        found["phase_source"].as_str().unwrap(),
        format!(
            "flake {} (5 crane calls found, 5 placed as phases)",
            flake("blueprint").display()
        )
    );
}

#[test]
fn flake_parts_modules_merge_per_system_and_module_arguments() {
    let found = phases_of("flake-parts-modules");
    let phase = |name: &str| common::phase(&found, name);
    // `craneLib`/`commonArgs` from `_module.args`, `config.packages.deps` and `self'`.
    assert_eq!(phase("server")["artifacts_from"], "deps");
    assert_eq!(phase("clippy")["artifacts_from"], "deps");
    // `.overrideAttrs { CARGO_PROFILE = "dev"; }` reaches the build: another profile.
    assert_eq!(
        phase("server-dev")["commands"][0],
        "cargo build --profile dev --message-format json-render-diagnostics --locked -p server"
    );
    // cargoExtraArgs through overrideAttrs never reaches crane's commands: said.
    assert_eq!(phase("clippy-all")["commands"], phase("clippy")["commands"]);
    let warnings: Vec<&str> = found["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings[0]
            .starts_with("flake.nix:15: flake-parts module `inputs.treefmt-nix.flakeModule`"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with("nix/checks.nix:13: ") && warnings[1].contains("`cargoExtraArgs`"),
        "{warnings:?}"
    );
}

#[test]
fn computed_paths_are_followed_and_a_package_used_in_a_test_keeps_its_name() {
    let found = phases_of("path-arithmetic");
    let names = common::phase_names(&found);
    assert_eq!(
        names,
        [
            "cargoArtifacts",
            "doc",
            "test",
            "audit",
            "fmt",
            "server",
            "cli"
        ]
    );
    let phase = |name: &str| common::phase(&found, name);
    assert_eq!(phase("server")["origin"], "crates/server/package.nix:2");
    assert_eq!(phase("doc")["origin"], "nix/parts/doc.nix:2");
    assert_eq!(phase("fmt")["origin"], "nix/parts/default.nix:2");
    assert_eq!(phase("audit")["origin"], "nix/audit.nix:2");
    // `overrideAttrs (old: …)`: the environment it adds reaches the build.
    assert_eq!(
        phase("cli")["env"],
        json!({"CARGO_PROFILE_RELEASE_LTO": "thin"})
    );
    assert_eq!(found["warnings"], json!([]));
}

#[test]
fn per_system_copies_cross_sets_and_cargo_toml_names_are_read_as_nix_would() {
    let found = phases_of("cross-packages");
    // genAttrs over three systems: one set; the cross and static callPackages of the same
    // file: their own phases, for their targets, named as the flake names their outputs
    // (`server-arm` beside `server`: the arm set's deps-only phase is `cargoArtifacts-arm`).
    assert_eq!(
        common::phase_names(&found),
        [
            "static-deps",
            "static",
            "cargoArtifacts",
            "cargoArtifacts-static",
            "cargoArtifacts-arm",
            "cli",
            "cli-static",
            "server",
            "server-arm"
        ]
    );
    let phase = |name: &str| common::phase(&found, name);
    let approximations = |name: &str| -> Vec<String> {
        phase(name)["approximations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    // `--package=${pname}` with pname from crateNameFromCargoToml is kept; `isArm`
    // (`stdenv.targetPlatform.system == "aarch64-linux"`) is false natively and true for the
    // cross set, so only its phases get the `--target` suffix and the runner.
    assert_eq!(
        phase("server")["commands"][1],
        "cargo test --release '--package=server'"
    );
    assert_eq!(approximations("server"), Vec::<String>::new());
    assert_eq!(phase("server")["env"], json!({}));
    assert_eq!(
        phase("server-arm")["commands"][1],
        "cargo test --release '--package=server' --target aarch64-unknown-linux-gnu"
    );
    assert_eq!(
        phase("server-arm")["env"]["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"],
        "qemu-aarch64"
    );
    // A value that is not known is left unset, and said once.
    let linker: Vec<String> = approximations("server-arm")
        .into_iter()
        .filter(|a| a.contains("_LINKER"))
        .collect();
    assert_eq!(linker.len(), 1, "{linker:?}");
    assert!(
        linker[0].ends_with("(\"${stdenv.cc.targetPrefix}cc\"); left unset"),
        "{linker:?}"
    );
    // A per-system table selected by a system that cannot be known is unknown, not null.
    assert_eq!(phase("static")["env"], json!({}));
    assert!(
        approximations("static")[0]
            .starts_with("flake.nix:36: attribute env.CARGO_BUILD_TARGET only when `target != null`, which cannot be known statically, and its value could not be resolved; left unset"),
        "{:?}",
        approximations("static")
    );
    for (name, target) in [
        ("server-arm", "aarch64-unknown-linux-gnu"),
        ("cargoArtifacts-arm", "aarch64-unknown-linux-gnu"),
        ("cli-static", "x86_64-unknown-linux-musl"),
    ] {
        assert_eq!(phase(name)["env"]["CARGO_BUILD_TARGET"], target, "{name}");
    }
    assert_eq!(phase("server-arm")["artifacts_from"], "cargoArtifacts-arm");
    assert_eq!(phase("server")["env"].get("CARGO_BUILD_TARGET"), None);
    assert_eq!(found["warnings"], json!([]));
    // Names and versions as crane reads them: package.metadata.crane.name, a version
    // inherited from the workspace is crane's placeholder, importTOML's is the file's.
    let toml = common::cache_miss()
        .args(["phases", "--format", "toml", "--manifest-path"])
        .arg(Fixture::new("demo").manifest())
        .arg("--flake")
        .arg(flake("cross-packages"))
        .success_stdout();
    let toml: toml::Table = String::from_utf8(toml).unwrap().parse().unwrap();
    let attr = |phase: &str, name: &str| toml["phases"][phase][name].as_str().map(str::to_string);
    assert_eq!(attr("cli", "pname").as_deref(), Some("cli"));
    assert_eq!(attr("cli", "version").as_deref(), Some("0.0.1"));
    assert_eq!(attr("server", "version").as_deref(), Some("0.1.0"));
    assert_eq!(attr("static", "version").as_deref(), Some("2.3.4"));
}

/// A flake written into a copy of the demo workspace, with more files beside it.
fn phases_in_demo(flake_text: &str, files: &[(&str, &str)]) -> (Fixture, std::process::Output) {
    let demo = Fixture::new("demo");
    let flake = demo.root().join("flake.nix");
    fs::write(&flake, flake_text).unwrap();
    for (name, content) in files {
        let path = demo.root().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    let output = common::cache_miss()
        .args(["phases", "--format", "json", "--manifest-path"])
        .arg(demo.manifest())
        .arg("--flake")
        .arg(&flake)
        .output()
        .unwrap();
    (demo, output)
}

#[test]
fn a_crane_call_the_reader_cannot_place_is_said_and_never_replaced_by_the_quick_start_set() {
    let demo = Fixture::new("demo");
    fs::remove_file(demo.root().join("phases.toml")).unwrap();
    // The crane call is only in a function nothing calls (and not in the outputs).
    fs::write(
        demo.root().join("flake.nix"),
        "{ outputs = { crane, ... }: let unused = pkgs: (crane.mkLib pkgs).buildPackage { }; in { }; }\n",
    )
    .unwrap();
    let output = demo.report(&["--format", "json"]).get_output().clone();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 crane call found, 0 placed as phases")
            && stderr.contains(
                "flake.nix:1: (crane.mkLib pkgs).buildPackage: this crane call is not a phase"
            ),
        "{stderr}"
    );
}

/// What a case writes into its copy of the workspace before the run.
type Preparation = Box<dyn Fn(&Fixture)>;

#[test]
fn imports_never_escape_the_flake() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("x.nix"),
        "{ craneLib }: craneLib.buildPackage { cargoExtraArgs = \"--locked -p secret\"; }\n",
    )
    .unwrap();
    let body = |import: &str| {
        format!(
            "{{ outputs = {{ crane, ... }}: let craneLib = crane.mkLib null; in {{\n  packages.x86_64-linux.a = craneLib.buildPackage {{ }};\n  packages.x86_64-linux.b = {import};\n}}; }}\n"
        )
    };
    let link = |demo: &Fixture, name: &str, target: &Path| {
        std::os::unix::fs::symlink(target, demo.root().join(name)).unwrap();
    };
    let cases: Vec<(&str, String, Preparation)> = vec![
        (
            "dot-dot",
            body("import (./. + \"/../outside/x.nix\") { inherit craneLib; }"),
            Box::new(|_| {}),
        ),
        (
            "symlinked file",
            body("import ./linked.nix { inherit craneLib; }"),
            {
                let target = outside.path().join("x.nix");
                Box::new(move |demo| link(demo, "linked.nix", &target))
            },
        ),
        (
            "symlinked directory",
            body("import ./linked-dir/x.nix { inherit craneLib; }"),
            {
                let target = outside.path().to_path_buf();
                Box::new(move |demo| link(demo, "linked-dir", &target))
            },
        ),
        (
            "link to /etc/passwd",
            body("builtins.readFile ./passwd"),
            Box::new(move |demo| link(demo, "passwd", Path::new("/etc/passwd"))),
        ),
    ];
    for (what, text, prepare) in cases {
        let demo = Fixture::new("demo");
        fs::create_dir_all(demo.root().join("../outside")).ok();
        fs::copy(
            outside.path().join("x.nix"),
            demo.root().join("../outside/x.nix"),
        )
        .unwrap();
        fs::write(demo.root().join("flake.nix"), &text).unwrap();
        prepare(&demo);
        let output = common::cache_miss()
            .args(["phases", "--format", "json", "--manifest-path"])
            .arg(demo.manifest())
            .arg("--flake")
            .arg(demo.root().join("flake.nix"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{what}: {output:?}");
        assert!(
            !stdout.contains("secret") && !stdout.contains("root:"),
            "{what}: {stdout}"
        );
        assert!(
            stdout.contains("outside the flake's directory; its value is unknown"),
            "{what}: {stdout}"
        );
    }
}

/// Runs the real binary on hostile flake text: it must end with exit 2, the expected
/// error, within the time and memory bounds.
#[test]
fn hostile_flakes_end_quickly_with_a_clear_error() {
    let let_flake = |bindings: &str, value: &str| {
        format!(
            "{{ outputs = {{ crane, ... }}: let craneLib = crane.mkLib null; {bindings} in {{ packages.x86_64-linux.a = craneLib.buildPackage {{ pname = {value}; }}; }}; }}\n"
        )
    };
    let doublings: String = (1..=40)
        .map(|i| format!("s{i} = s{} + s{};", i - 1, i - 1))
        .collect();
    let list: String = (1..=24)
        .map(|i| format!("l{i} = l{} ++ l{};", i - 1, i - 1))
        .collect();
    let cases = [
        (
            "40 string doublings",
            let_flake(&format!("s0 = \"ab\"; {doublings}"), "s40"),
            "evaluation budget exceeded: a string of 32 MiB (more than 16 MiB allowed)",
        ),
        (
            "a 2^24-element list",
            let_flake(&format!("l0 = [ 1 ]; {list}"), "builtins.elemAt l24 0"),
            "evaluation budget exceeded: a list of 2097152 elements",
        ),
        (
            "exponential recursion",
            let_flake(
                "f = n: if n == 0 then 1 else (f (n - 1)) + (f (n - 1));",
                "toString (f 40)",
            ),
            "evaluation budget exceeded: more than 5000000 evaluation steps",
        ),
        (
            "100k unary operators",
            let_flake("", &format!("{}true", "!".repeat(100_000))),
            "syntax error: nesting too deep: more than 4000 unary operators in a row",
        ),
        (
            "integer overflow",
            let_flake("", "toString (9223372036854775807 + 1)"),
            "integer overflow in adding 9223372036854775807 + 1",
        ),
    ];
    for (what, text, expected) in cases {
        let started = std::time::Instant::now();
        let (_demo, output) = phases_in_demo(&text, &[]);
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stderr.contains(expected) || stdout.contains(expected),
            "{what}: {stderr}{stdout}"
        );
        if !what.starts_with("integer") {
            assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
            assert!(stderr.contains("flake.nix:1:"), "{what}: {stderr}");
        }
        // Release builds take under 4 s each (README); a debug build on a busy machine
        // is far slower, so this only catches runaways.
        assert!(elapsed.as_secs() < 120, "{what}: {elapsed:?}");
    }
    // A 10,000-long `+ ""` chain is evaluated, not refused.
    let chain = format!("\"a\"{}", " + \"\"".repeat(10_000));
    let (_demo, output) = phases_in_demo(&let_flake("", &chain), &[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn only_regular_files_are_read() {
    common::cache_miss()
        .args(["phases", "--manifest-path"])
        .arg(Fixture::new("demo").manifest())
        .args(["--flake", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/dev/zero: cannot read it: not a regular file (a character device)",
        ));
    let demo = Fixture::new("demo");
    let fifo = demo.root().join("fifo.nix");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    fs::write(
        demo.root().join("flake.nix"),
        "{ outputs = { crane, ... }: { packages.x86_64-linux = import ./fifo.nix; }; }\n",
    )
    .unwrap();
    common::cache_miss()
        .args(["phases", "--manifest-path"])
        .arg(demo.manifest())
        .arg("--flake")
        .arg(demo.root().join("flake.nix"))
        .timeout(std::time::Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "flake.nix:1:55: cannot import ./fifo.nix: not a regular file (a FIFO)",
        ));
}

/// `cache-miss phases --format json` for a flake of the `reads` fixture copied to a temp
/// dir (marked a git repository or not), on the fixture's own workspace.
fn phases_of_reads(flake: &str, git: bool) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reads");
    common::copy_dir(&fixtures_dir().join("flakes/reads"), &root);
    if git {
        fs::create_dir(root.join(".git")).unwrap();
    }
    let output = common::cache_miss()
        .args(["phases", "--format", "json", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .arg("--flake")
        .arg(root.join(flake))
        .success_stdout();
    serde_json::from_slice(&output).expect("prints JSON")
}

#[test]
fn reads_of_the_flakes_own_files_are_not_imports_and_warn_about_nothing() {
    // crateNameFromCargoToml of `cleanSourceWith {…} + "/…/Cargo.toml"`, readFile, fromTOML
    // and importTOML, in flake.nix and in a file one directory down (`src = ../.`).
    let found = phases_of_reads("flake.nix", false);
    assert_eq!(found["warnings"], json!([]));
    let commands = |found: &Value, phase: &str| {
        common::phase(found, phase)["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        commands(&found, "server")[0],
        "cargo build --release --message-format json-render-diagnostics --locked -p server --features default,metrics"
    );
    assert_eq!(
        commands(&found, "nested"),
        ["cargo clippy --release --locked -p server --all-targets"]
    );
    // A flake in a subdirectory of a git repository is copied with the repository: `../`
    // is inside, and its Cargo.toml is read.
    let nested = phases_of_reads("nested/flake.nix", true);
    assert_eq!(nested["warnings"], json!([]));
    assert!(commands(&nested, "default")[0].ends_with("--locked -p server"));
    // Not in a repository, `../` is outside the flake: never read, and said to be a read.
    let outside = phases_of_reads("nested/flake.nix", false);
    let warning = outside["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("flake.nix:13: read of lib.cleanSourceWith")
            && warning.ends_with("outside the flake's directory; its value is unknown"),
        "{warning}"
    );
}

#[test]
fn crane_functions_redefined_in_an_overlay_are_wrappers_and_an_incomplete_call_fails_alone() {
    // `overrideScope (final: prev: { mkCargoDerivation = args: prev.mkCargoDerivation (…); })`
    // is a definition: every call of the lib goes through it (RUSTFLAGS on each phase, the
    // cargoArtifacts it defaults); a call it cannot complete fails as its own phase.
    let report = json_of("report", "crane-wrapper");
    let status = |name: &str| common::phase(&report, name)["status"].clone();
    for name in ["cargoArtifacts", "default", "raw", "lint", "server"] {
        assert_eq!(status(name), "ok", "{name}");
    }
    assert_eq!(status("incomplete"), "not-evaluable");
    assert_eq!(
        common::phase(&report, "incomplete")["not_evaluable"]["message"],
        "crane's cargoBuild called without required argument 'cargoArtifacts'"
    );
}

#[test]
fn imports_and_packages_computed_from_directory_and_toml_names_are_followed() {
    // flake-parts `imports = map (fn: ./nix/modules/flake/${fn}) (attrNames (readDir …))`,
    // `mapAttrs (target: _: import ./pkg/nix/drv/binary.nix { … }) util.platforms` over the
    // `.toml` files of spec/, and `--features` from `with lib; lists.unique (flatten (map …))`
    // over the `[features]` of a Cargo.toml.
    let found = phases_of("computed-imports");
    assert_eq!(found["warnings"], json!([]));
    for target in ["aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu"] {
        assert_eq!(
            common::phase(&found, target)["env"]["CARGO_BUILD_TARGET"],
            target
        );
    }
    assert_eq!(found["phases"].as_array().unwrap().len(), 4, "{found:#}");
    assert_eq!(
        common::phase(&found, "clippy")["commands"][0],
        "cargo clippy --release --locked -p shared --features fancy,top/full --all-targets"
    );
}

#[test]
fn crane_derivations_used_as_tools_by_another_phase_are_phases() {
    // `nativeBuildInputs = [ xtask ] ++ lib.optionals unknown [ … ]`, `buildInputs =
    // lib.optionals unknown [ codegen ]`, `"${packer}/bin/server pack"`.
    let found = phases_of("tool-inputs");
    assert_eq!(
        found["phase_source"],
        format!(
            "flake {} (5 crane calls found, 5 placed as phases)",
            flake("tool-inputs").display()
        )
    );
    for tool in ["xtask", "codegen", "packer"] {
        assert_eq!(
            common::phase(&found, tool)["artifacts_from"],
            "cargoArtifacts"
        );
    }
    assert_eq!(found["warnings"], json!([]));
}

#[test]
fn outputs_made_by_a_flake_input_name_the_input_and_suggest_nix_never_a_flake_path() {
    for (case, input, what) in [
        (
            "input-function",
            "`crane-wrapper`",
            "`crane-wrapper.lib.mkRustFlake`, flake.nix",
        ),
        (
            "input-module",
            "`rust-flake`",
            "`inputs.rust-flake.flakeModules.default`, flake.nix:13",
        ),
    ] {
        let demo = Fixture::new("demo");
        let output = common::cache_miss()
            .args(["phases", "--manifest-path"])
            .arg(demo.manifest())
            .arg("--flake")
            .arg(flake(case))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{case}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "the outputs come from the flake input {input} ({what}), whose crane calls the static reader does not read; run with --nix"
            )),
            "{case}: {stderr}"
        );
        assert!(!stderr.contains("pass --flake"), "{case}: {stderr}");
    }
    // Beside the manifest (no --flake): the quick-start fallback says the same.
    let demo = Fixture::new("demo");
    fs::remove_file(demo.root().join("phases.toml")).unwrap();
    fs::copy(flake("input-function"), demo.root().join("flake.nix")).unwrap();
    let report = demo
        .report(&["--format", "json"])
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&report).unwrap();
    let warning = report["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("not this flake's: the outputs come from the flake input `crane-wrapper`")
            && !warning.contains("Pass --flake"),
        "{warning}"
    );
}

/// Releases bound to names: an MSRV from `fromTOML` of the workspace's `Cargo.toml`
/// (`rust-bin.stable.${msrv}`), fenix's `toolchainOf { channel = v; }` with `v` from a
/// `let`, `fromRustupToolchainFile` (the file read), and a release's `.override { … }`
/// (topiary's wasm toolchain). Each that rustup lacks is named
/// in a warning, with the command that installs it (an installed one resolves its phase:
/// `tests/it/cargo_versions.rs`).
#[test]
fn toolchain_releases_bound_to_names_are_followed_and_warned_about() {
    let demo = Fixture::new("demo");
    fs::remove_file(demo.root().join("phases.toml")).unwrap();
    common::append(
        &demo.manifest(),
        "\n[workspace.package]\nrust-version = \"1.70.0\"\n",
    );
    common::copy_dir(&fixtures_dir().join("flakes/msrv"), &demo.root());
    let report = demo.report_json(&[]);
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    for (phase, release) in [
        ("msrv", "1.70.0"),
        ("fenix", "1.76.0"),
        ("pinned", "1.72.0"),
        ("wasm", "1.77.2"),
    ] {
        if common::toolchain_installed(release) {
            continue;
        }
        let warning = warnings
            .iter()
            .find(|w| w.contains(&format!("`{phase}` builds with Rust {release} (")))
            .unwrap_or_else(|| panic!("no warning for {phase}: {warnings:?}"));
        assert!(
            warning.contains("which rustup has not installed, so it was resolved with cargo "),
            "{warning}"
        );
        let install = format!("`rustup toolchain install {release} --profile minimal`");
        assert!(warning.contains(&install), "{warning}");
    }
}

/// One buildDepsOnly written inline in the function making every package, bound to no
/// name: named as crane names it, `${pname}-deps`, not after the first package using it;
/// without a pname, after `crateNameFromCargoToml`'s.
#[test]
fn an_unbound_deps_only_phase_is_named_as_crane_names_it() {
    let report = json_of("phases", "shared-deps");
    let names: Vec<(&str, &str)> = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["artifacts_from"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("workspace-deps", "-"),
            ("cli", "workspace-deps"),
            ("server", "workspace-deps"),
            ("shared", "workspace-deps")
        ]
    );

    let demo = Fixture::new("demo");
    fs::remove_file(demo.root().join("phases.toml")).unwrap();
    common::append(
        &demo.manifest(),
        "\n[workspace.metadata.crane]\nname = \"demo\"\n",
    );
    let text = fs::read_to_string(flake("shared-deps"))
        .unwrap()
        .replace("pname = \"workspace\";", "");
    fs::write(demo.root().join("flake.nix"), text).unwrap();
    let output = common::cache_miss()
        .args(["phases", "--format", "json", "--manifest-path"])
        .arg(demo.manifest())
        .success_stdout();
    let report: Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(report["phases"][0]["name"], "demo-deps", "{report:#}");
    assert_eq!(report["phases"][1]["artifacts_from"], "demo-deps");
}
