//! `cache-miss verify`: real builds measure exactly the misses `report` predicts.

use crate::common;

use common::CommandExt;

use std::fs;

use common::Fixture;
use predicates::prelude::*;
use serde_json::Value;

fn verify_json(fixture: &Fixture, extra: &[&str]) -> Value {
    let output = common::cache_miss()
        .args(["verify", "--check", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .args(extra)
        .success_stdout();
    serde_json::from_slice(&output).expect("verify prints JSON")
}

fn assert_agrees(name: &str) -> Value {
    let fixture = Fixture::new(name);
    let report = verify_json(&fixture, &[]);
    for phase in report["phases"].as_array().unwrap() {
        let agreement = &phase["agreement"];
        assert!(
            agreement["predicted_only"].as_array().unwrap().is_empty(),
            "{name}/{}: {agreement}",
            phase["name"]
        );
        assert!(
            agreement["measured_only"].as_array().unwrap().is_empty(),
            "{name}/{}: {agreement}",
            phase["name"]
        );
        if phase["artifacts_from"].is_null() {
            continue;
        }
        let predicted = phase["misses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["mode"] != "run-custom-build")
            .count();
        assert_eq!(
            agreement["both"].as_u64().unwrap() as usize,
            predicted,
            "{name}/{}",
            phase["name"]
        );
        let measured = phase["measured"].as_array().unwrap();
        assert_eq!(measured.len(), predicted, "{name}/{}", phase["name"]);
        if !measured.is_empty() {
            assert!(
                phase["rebuild_seconds"].as_f64().unwrap() > 0.0,
                "{name}/{}",
                phase["name"]
            );
        }
    }
    report
}

#[test]
fn select_scenario_is_measured_as_predicted() {
    let report = assert_agrees("select");
    let cli = common::phase(&report, "cli");
    assert_eq!(cli["measured"].as_array().unwrap().len(), 4);
    for unit in cli["measured"].as_array().unwrap() {
        for field in ["package", "version", "target", "mode", "seconds"] {
            assert!(unit.get(field).is_some(), "{field}");
        }
    }
}

#[test]
fn dev_deps_scenario_is_measured_as_predicted() {
    assert_agrees("dev-deps");
}

#[test]
fn all_features_scenario_is_measured_as_predicted() {
    assert_agrees("all-features");
}

#[test]
fn profile_scenario_is_measured_as_predicted() {
    assert_agrees("profile");
}

#[test]
fn rustflags_scenario_is_measured_as_predicted() {
    assert_agrees("rustflags");
}

#[test]
fn roles_scenario_is_measured_as_predicted() {
    assert_agrees("roles");
}

#[test]
fn a_crate_whose_bench_calls_its_library_is_rebuilt_from_its_real_source() {
    let report = assert_agrees("solo");
    for name in ["package", "bench"] {
        assert_eq!(common::phase(&report, name)["units"]["missed"], 0, "{name}");
    }
}

#[test]
fn cascade_scenario_is_measured_as_predicted() {
    assert_agrees("cascade");
}

#[test]
fn clean_scenario_rebuilds_nothing() {
    let report = assert_agrees("clean");
    for phase in report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["artifacts_from"].is_null())
    {
        assert!(
            phase["measured"].as_array().unwrap().is_empty(),
            "{}",
            phase["name"]
        );
    }
}

#[test]
fn root_package_scenario_is_measured_as_predicted() {
    assert_agrees("root-package");
}

#[test]
fn demo_scenario_is_measured_as_predicted() {
    assert_agrees("demo");
}

#[test]
fn platform_scenario_replays_what_the_machine_can_compile() {
    // No aarch64 standard library on this machine: the cross phase is not replayed (and
    // says why); the host-triple phase is, and agrees.
    let fixture = Fixture::new("platform");
    let report = verify_json(&fixture, &[]);
    let cross = common::phase(&report, "cross");
    assert_eq!(
        cross["skipped"],
        "not replayed: the aarch64-unknown-linux-gnu standard library is not installed here (`rustup target add aarch64-unknown-linux-gnu`)"
    );
    assert!(cross["measured"].as_array().unwrap().is_empty());
    let host = common::phase(&report, "hosttriple");
    assert!(host["skipped"].is_null());
    assert_eq!(host["agreement"]["both"], 2);
    assert!(
        host["agreement"]["measured_only"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_users_tree_is_unchanged_after_verify() {
    let fixture = Fixture::new("select");
    let before = common::snapshot_tree(&fixture.root());
    verify_json(&fixture, &[]);
    assert_eq!(common::snapshot_tree(&fixture.root()), before);
}

#[test]
fn a_failing_build_names_phase_and_command_and_leaves_no_temp_dir() {
    let fixture = Fixture::new("select");
    fs::write(
        fixture.root().join("cli/src/main.rs"),
        "fn main() { let x: u32 = \"not a number\"; }\n",
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    common::cache_miss()
        .args(["verify", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "phase `cli`: replaying `cargo build --release --locked -p cli` failed",
        ))
        .stderr(predicate::str::contains("mismatched types"));
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the replay's temp dir was left behind"
    );
}

#[test]
fn keep_leaves_the_replay_and_says_where() {
    let fixture = Fixture::new("clean");
    let tmp = tempfile::tempdir().unwrap();
    let output = common::cache_miss()
        .args(["verify", "--keep", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .success_stdout();
    let report: Value = serde_json::from_slice(&output).unwrap();
    let kept = report["kept_at"].as_str().expect("kept_at");
    assert!(std::path::Path::new(kept).join("src/Cargo.toml").is_file());
}

#[test]
fn what_the_flake_reader_could_not_resolve_is_in_verify_output_too() {
    let fixture = Fixture::new("clean");
    let flake = common::fixtures_dir().join("flakes/unresolved/flake.nix");
    let flake = flake.to_str().unwrap();
    let report = verify_json(&fixture, &["--flake", flake]);
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("outside the flake's directory"),
        "{}",
        report["warnings"]
    );
}
