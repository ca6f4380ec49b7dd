//! Every phase stands alone: one cargo cannot resolve is a `failed` row with its reason,
//! the others are analysed, the exit code says the analysis is incomplete; `--exclude`
//! and `--only` leave phases out on purpose.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{Fixture, phase, phase_names};

const PHASES: &str = r#"[phases.deps]
function = "buildDepsOnly"

[phases.unknown-package]
function = "cargoBuild"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked -p nope"

[phases.inherits]
function = "cargoClippy"
cargoArtifacts = "unknown-package"

[phases.clippy]
function = "cargoClippy"
cargoArtifacts = "deps"

[phases.unknown-target]
function = "cargoBuild"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked --target nonexistent-target"

[phases.bad-feature]
function = "cargoBuild"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked --features nope"
"#;

fn fixture() -> Fixture {
    Fixture::with_phases("clean", PHASES)
}

fn json(fixture: &Fixture, args: &[&str], code: i32) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let output = fixture.report(&all).code(code).get_output().stdout.clone();
    serde_json::from_slice(&output).expect("the report is printed in full")
}

#[test]
fn a_phase_cargo_cannot_resolve_fails_alone() {
    let fixture = fixture();
    let report = json(&fixture, &[], 2);
    let status = |name: &str| phase(&report, name)["status"].as_str().unwrap().to_string();
    assert_eq!(status("deps"), "ok");
    assert_eq!(status("clippy"), "ok");
    assert_eq!(phase(&report, "clippy")["units"]["cached"], 6);
    for failed in [
        "unknown-package",
        "inherits",
        "unknown-target",
        "bad-feature",
    ] {
        assert_eq!(status(failed), "failed", "{failed}");
        assert_eq!(phase(&report, failed)["units"]["needed"], 0, "{failed}");
    }
    let error = |name: &str| phase(&report, name)["error"].as_str().unwrap().to_string();
    assert_eq!(
        error("unknown-package"),
        "`cargo build --release --locked -p nope --unit-graph` failed: package ID specification `nope` did not match any packages"
    );
    assert_eq!(
        error("inherits"),
        "its artifacts come from `unknown-package`, which cargo could not resolve"
    );
    assert!(
        error("unknown-target")
            .ends_with("could not find specification for target \"nonexistent-target\""),
        "{}",
        error("unknown-target")
    );
    assert!(
        error("bad-feature").contains("nope"),
        "{}",
        error("bad-feature")
    );
    assert!(phase(&report, "clippy")["error"].is_null());
}

#[test]
fn the_table_shows_every_phase_and_names_where_the_failed_one_is_defined() {
    fixture()
        .report(&[])
        .code(2)
        .stdout(predicate::str::contains("│ clippy"))
        .stdout(predicate::str::contains("FAILED"))
        .stdout(predicate::str::contains(
            "failed: `unknown-package` (defined at phases.toml:4): `cargo build",
        ))
        .stderr(predicate::str::contains(
            "error: cargo could not resolve `unknown-package`, `inherits`, `unknown-target`, `bad-feature`",
        ))
        .stderr(predicate::str::contains("--exclude"));
}

#[test]
fn excluded_phases_are_no_failure() {
    let fixture = fixture();
    let report = json(
        &fixture,
        &["--exclude", "unknown-*", "--exclude", "bad-feature"],
        2,
    );
    // `inherits` still needs `unknown-package`, which fails: it fails, the excluded don't.
    assert_eq!(phase(&report, "inherits")["status"], "failed");
    assert_eq!(phase(&report, "unknown-package")["status"], "excluded");
    let report = json(
        &fixture,
        &[
            "--exclude",
            "unknown-*",
            "--exclude",
            "bad-feature",
            "--exclude",
            "inherits",
        ],
        0,
    );
    assert_eq!(phase(&report, "clippy")["status"], "ok");
    assert_eq!(phase(&report, "unknown-target")["status"], "excluded");
    assert_eq!(
        phase_names(&report).len(),
        6,
        "excluded phases are still listed"
    );
}

#[test]
fn only_keeps_the_phases_it_names_and_what_they_inherit() {
    let report = json(&fixture(), &["--only", "clip*"], 0);
    assert_eq!(phase(&report, "clippy")["status"], "ok");
    assert_eq!(phase(&report, "clippy")["units"]["cached"], 6);
    assert_eq!(phase(&report, "deps")["status"], "excluded");
    assert_eq!(phase(&report, "bad-feature")["status"], "excluded");
}

#[test]
fn a_pattern_that_matches_no_phase_is_an_error() {
    fixture()
        .report(&["--only", "clipy"])
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "--only clipy: no phase matches (phases: deps, unknown-package, inherits, clippy, unknown-target, bad-feature)",
        ));
}

#[test]
fn verify_and_fix_need_every_phase_resolved() {
    for command in ["verify", "fix"] {
        crate::common::cache_miss()
            .args([command, "--manifest-path"])
            .arg(fixture().manifest())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "phase `unknown-package`: `cargo build --release --locked -p nope --unit-graph` failed",
            ))
            .stderr(predicate::str::contains("--exclude NAME"));
    }
}

#[test]
fn a_phase_nix_cannot_evaluate_is_listed_not_analysed_and_no_failure() {
    let demo = Fixture::new("demo");
    let flake = crate::common::fixtures_dir().join("flakes/not-evaluable/flake.nix");
    let output = crate::common::cache_miss()
        .args(["report", "--format", "json", "--manifest-path"])
        .arg(demo.manifest())
        .arg("--flake")
        .arg(&flake)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&output).unwrap();
    let riscv = phase(&report, "riscv64gc-unknown-linux-gnu");
    assert_eq!(riscv["status"], "not-evaluable");
    assert_eq!(
        riscv["error"],
        "flake.nix:33:12: attribute 'riscv64gc-unknown-linux-gnu' missing"
    );
    assert_eq!(riscv["units"]["needed"], 0);
    for name in [
        "cargoArtifacts",
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
    ] {
        assert_eq!(phase(&report, name)["status"], "ok", "{name}");
    }
    assert_eq!(
        phase(&report, "aarch64-unknown-linux-gnu")["units"]["cached"],
        5
    );
}
