//! Bad input ends in one clear message and exit code 2, never a panic or a partial write.

use crate::common;

use std::fs;

use common::Fixture;
use predicates::prelude::*;

/// `cache-miss report --manifest-path MANIFEST`.
fn report_at(manifest: &std::path::Path) -> assert_cmd::assert::Assert {
    common::cache_miss()
        .args(["report", "--manifest-path"])
        .arg(manifest)
        .assert()
}

fn fails_with(fixture: &Fixture, args: &[&str], message: &str) {
    fixture
        .report(args)
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ndoCheck = \n",
    );
    fails_with(&fixture, &[], "error: phases.toml:3:11: invalid TOML");
}

#[test]
fn unknown_function_names_the_phase() {
    let fixture = Fixture::with_phases("clean", "[phases.deps]\nfunction = \"buildDepOnly\"\n");
    fails_with(
        &fixture,
        &[],
        "phase `deps` (phases.toml:2:1): unknown crane function `buildDepOnly`; did you mean `buildDepsOnly`?",
    );
}

#[test]
fn attribute_typo_gets_did_you_mean() {
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ncargoExtraArg = \"-p app\"\n",
    );
    fails_with(
        &fixture,
        &[],
        "phase `deps` (phases.toml:3:1): unknown attribute `cargoExtraArg`; did you mean `cargoExtraArgs`?",
    );
}

#[test]
fn wrong_attribute_type() {
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ndoCheck = \"no\"\n",
    );
    fails_with(&fixture, &[], "attribute `doCheck` must be a boolean");
}

#[test]
fn unknown_artifact_source() {
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\n[phases.c]\nfunction = \"cargoClippy\"\ncargoArtifacts = \"dep\"\n",
    );
    fails_with(
        &fixture,
        &[],
        "phase `c` (phases.toml:5:1): cargoArtifacts names `dep`, which is not a phase; did you mean `deps`?",
    );
}

#[test]
fn missing_cargo_lock() {
    let fixture = Fixture::new("clean");
    fs::remove_file(fixture.root().join("Cargo.lock")).unwrap();
    fails_with(&fixture, &[], "no Cargo.lock beside");
    assert!(
        !fixture.root().join("Cargo.lock").exists(),
        "cache-miss must not create a lock file"
    );
}

#[test]
fn missing_manifest() {
    report_at(std::path::Path::new("/nonexistent/Cargo.toml"))
        .code(2)
        .stderr(predicate::str::contains(
            "no Cargo.toml at /nonexistent/Cargo.toml",
        ));
}

#[test]
fn cargo_missing_from_path() {
    let fixture = Fixture::new("clean");
    common::cache_miss()
        .args(["report", "--manifest-path"])
        .arg(fixture.manifest())
        .env("PATH", "/nonexistent")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cargo was not found on PATH"));
}

#[test]
fn quick_start_set_is_assumed_without_phases() {
    let fixture = Fixture::new("clean");
    fs::remove_file(fixture.root().join("phases.toml")).unwrap();
    let report = fixture.report_json(&[]);
    assert!(
        report["phase_source"]
            .as_str()
            .unwrap()
            .contains("assumed crane's quick-start set")
    );
    let names = common::phase_names(&report);
    assert_eq!(names, ["deps", "package", "clippy", "nextest", "doc"]);
    for name in ["package", "clippy", "nextest"] {
        assert_eq!(common::phase(&report, name)["units"]["missed"], 0, "{name}");
    }
    // crane's quick start really misses here (verify measures it): buildDepsOnly checks
    // with --all-targets, so its only check-mode `leaf` has the dev-dependency's `alloc`.
    let doc = common::phase(&report, "doc");
    assert_eq!(common::misses(doc), common::pairs(&[("leaf", "features")]));
    assert_eq!(doc["misses"][0]["cause"], "deps-only: --all-targets");
}

#[test]
fn set_on_an_unknown_phase() {
    let fixture = Fixture::new("select");
    fails_with(
        &fixture,
        &["--set", "dep.doCheck=true"],
        "--set `dep.doCheck=true`: no phase `dep`",
    );
}

#[test]
fn a_members_manifest_names_the_workspace_root() {
    let fixture = Fixture::new("select");
    report_at(&fixture.root().join("cli/Cargo.toml"))
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("is a member of the workspace at"))
        .stderr(predicate::str::contains(format!(
            "pass --manifest-path {}",
            fixture.manifest().canonicalize().unwrap().display()
        )));
}

#[test]
fn a_manifest_path_that_is_not_a_cargo_toml() {
    let fixture = Fixture::new("select");
    report_at(&fixture.root().join("phases.toml"))
        .code(2)
        .stderr(predicate::str::contains("phases.toml is not a Cargo.toml"));
}

#[test]
fn without_a_manifest_path_the_workspace_around_the_directory_is_found() {
    let fixture = Fixture::new("select");
    let output = common::cache_miss()
        .args(["phases", "--format", "json"])
        .current_dir(fixture.root().join("cli/src"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let phases: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(common::phase_names(&phases), ["deps", "cli"]);
}

#[test]
fn a_target_dir_that_is_not_a_directory() {
    fails_with(
        &Fixture::new("select"),
        &["--target-dir", "/nonexistent/target"],
        "--target-dir /nonexistent/target: not a directory",
    );
}

#[test]
fn phases_and_flake_together_are_refused() {
    fails_with(
        &Fixture::new("select"),
        &["--phases", "phases.toml", "--flake", "flake.nix"],
        "'--phases <PHASES>' cannot be used with '--flake <FLAKE>'",
    );
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    let fixture = Fixture::new("select");
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("cache-miss"))
        .args(["report", "--manifest-path"])
        .arg(fixture.manifest())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write the output"), "{stderr}");
}

#[test]
fn set_reaches_a_phases_env() {
    let report = Fixture::new("select").report_json(&["--set", "cli.env.RUSTFLAGS=--cfg x"]);
    let cli = common::phase(&report, "cli");
    assert_eq!(cli["env"]["RUSTFLAGS"], "--cfg x");
    assert!(
        cli["misses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["reason"] == "rustflags")
    );
}
