//! `cache-miss fix` and `report --set`: proposals that, re-analysed and rebuilt, leave no miss.

use crate::common;

use common::CommandExt;

use std::fs;

use common::Fixture;
use serde_json::Value;

fn fix_json(fixture: &Fixture) -> Value {
    let output = common::cache_miss()
        .args(["fix", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .success_stdout();
    serde_json::from_slice(&output).expect("fix prints JSON")
}

fn json_to_toml(value: &Value) -> toml::Value {
    match value {
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => toml::Value::Integer(n.as_i64().expect("integer")),
        Value::Array(items) => toml::Value::Array(items.iter().map(json_to_toml).collect()),
        Value::Object(map) => toml::Value::Table(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_toml(v)))
                .collect(),
        ),
        Value::Null => toml::Value::String(String::new()),
    }
}

/// Writes the best proposal's phases as the fixture's phases.toml.
fn apply_best(fixture: &Fixture, fix: &Value) {
    let phases = &fix["proposals"][0]["phases"];
    fs::write(
        fixture.root().join("phases.toml"),
        toml::to_string(&json_to_toml(phases)).unwrap(),
    )
    .unwrap();
}

/// The best proposal has no misses left, says so, and re-analysing its phases agrees;
/// with `compile`, a real replay of the fixed phases rebuilds no dependency either.
fn best_proposal_removes_every_miss(name: &str, compile: bool) {
    let fixture = Fixture::new(name);
    let fix = fix_json(&fixture);
    assert_eq!(fix["version"], 1);
    let best = &fix["proposals"][0];
    assert!(
        best["missed_before"].as_u64().unwrap() > 0,
        "{name}: {best}"
    );
    assert_eq!(best["missed_after"], 0, "{name}: {best}");
    assert!(
        best["nix"]
            .as_str()
            .unwrap()
            .contains("craneLib.buildDepsOnly"),
        "{name}"
    );
    apply_best(&fixture, &fix);
    let report = fixture.report_json(&[]);
    for phase in report["phases"].as_array().unwrap() {
        assert_eq!(
            phase["units"]["missed"], 0,
            "{name}/{}: {}",
            phase["name"], phase["misses"]
        );
    }
    if compile {
        let output = common::cache_miss()
            .args(["verify", "--check", "--format", "json", "--manifest-path"])
            .arg(fixture.manifest())
            .success_stdout();
        let verified: Value = serde_json::from_slice(&output).unwrap();
        for phase in verified["phases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| !p["artifacts_from"].is_null())
        {
            assert!(
                phase["measured"].as_array().unwrap().is_empty(),
                "{name}/{}: {}",
                phase["name"],
                phase["measured"]
            );
        }
    }
}

#[test]
fn select_is_fixed() {
    best_proposal_removes_every_miss("select", true);
}

#[test]
fn dev_deps_is_fixed() {
    best_proposal_removes_every_miss("dev-deps", true);
}

#[test]
fn all_features_is_fixed() {
    best_proposal_removes_every_miss("all-features", true);
}

#[test]
fn profile_is_fixed() {
    best_proposal_removes_every_miss("profile", true);
}

#[test]
fn cascade_is_fixed() {
    best_proposal_removes_every_miss("cascade", true);
}

#[test]
fn roles_is_fixed() {
    best_proposal_removes_every_miss("roles", true);
}

#[test]
fn root_package_is_fixed() {
    best_proposal_removes_every_miss("root-package", true);
}

#[test]
fn demo_is_fixed() {
    best_proposal_removes_every_miss("demo", true);
}

#[test]
fn a_split_leaves_phases_without_misses_on_their_artifact() {
    let fix = fix_json(&Fixture::new("demo"));
    let split = fix["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["summary"]
                .as_str()
                .unwrap()
                .starts_with("one buildDepsOnly per")
        })
        .expect("a split proposal");
    assert_eq!(split["missed_after"], 0);
    let phases = &split["phases"]["phases"];
    assert_eq!(phases["server"]["cargoArtifacts"], "deps", "{phases}");
    assert_eq!(phases["cli"]["cargoArtifacts"], "deps-cli", "{phases}");
    assert!(!split["nix"].as_str().unwrap().contains("for server"));
    // A workspace-hack crate pins each crate once, with every feature any build uses.
    assert_eq!(
        fix["feature_unification"],
        serde_json::json!([
            "leaf@1.0.0 [alloc, default, extra, std]",
            "mid@1.0.0 [fancy]",
            "top@1.0.0 [full]"
        ])
    );
}

#[test]
fn platform_is_fixed_in_analysis() {
    // The aarch64 phase cannot be compiled here (no aarch64 standard library).
    best_proposal_removes_every_miss("platform", false);
}

/// Rustflags a phase sets in its variables are a change to buildDepsOnly like any other:
/// the proposal is checked by real builds.
#[test]
fn rustflags_a_phase_sets_are_fixed_and_the_fix_compiles_as_predicted() {
    best_proposal_removes_every_miss("rustflags", true);
}

/// cargo-llvm-cov adds rustflags of its own that no buildDepsOnly argument names.
#[test]
fn an_instrumented_phase_is_named_never_served_instead_of_a_fake_fix() {
    let fixture = Fixture::with_phases(
        "rustflags",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\n\n\
         [phases.coverage]\nfunction = \"cargoLlvmCov\"\ncargoArtifacts = \"deps\"\n",
    );
    let fix = fix_json(&fixture);
    assert!(fix["proposals"].as_array().unwrap().is_empty(), "{fix}");
    assert_eq!(fix["never_served"][0]["phase"], "coverage", "{fix}");
    assert!(
        fix["never_served"][0]["why"]
            .as_str()
            .unwrap()
            .starts_with("its rustflags differ"),
        "{fix}"
    );
}

#[test]
fn clean_setup_has_nothing_to_fix() {
    let fixture = Fixture::new("clean");
    let fix = fix_json(&fixture);
    assert!(fix["proposals"].as_array().unwrap().is_empty());
    let text = common::cache_miss()
        .args(["fix", "--manifest-path"])
        .arg(fixture.manifest())
        .success_stdout();
    assert!(
        String::from_utf8(text)
            .unwrap()
            .contains("No misses: nothing to fix.")
    );
}

#[test]
fn table_output_shows_the_snippet_and_the_verdict() {
    let fixture = Fixture::new("select");
    let output = common::cache_miss()
        .args(["fix", "--manifest-path"])
        .arg(fixture.manifest())
        .success_stdout();
    let text = String::from_utf8(output).unwrap();
    assert!(
        text.contains("1. give buildDepsOnly the selection its phases share"),
        "{text}"
    );
    assert!(text.contains("0 misses after this change (re-analysed)"));
    assert!(text.contains("# buildDepsOnly `deps` (phases.toml:1)"));
    assert!(text.contains("cargoExtraArgs = \"--locked -p cli\";"));
}

#[test]
fn what_if_set_reports_before_and_after() {
    let fixture = Fixture::new("dev-deps");
    let report = fixture.report_json(&["--set", "deps.doCheck=true"]);
    let tests = common::phase(&report, "tests");
    assert_eq!(tests["missed_before"], 2);
    assert_eq!(tests["units"]["missed"], 0);
    assert!(
        report["phase_source"]
            .as_str()
            .unwrap()
            .ends_with("with deps.doCheck=true")
    );
    let text = fixture.report_text(&["--set", "deps.doCheck=true"]);
    assert!(
        text.contains("tests: missed 2 -> 0 with the change"),
        "{text}"
    );
    // The phases file itself is untouched.
    assert!(
        fs::read_to_string(fixture.root().join("phases.toml"))
            .unwrap()
            .contains("doCheck = false")
    );
}

#[test]
fn a_phase_on_another_toolchain_is_never_served() {
    let demo = Fixture::new("demo");
    let flake = common::fixtures_dir().join("flakes/toolchain/flake.nix");
    let output = common::cache_miss()
        .args(["fix", "--format", "json", "--manifest-path"])
        .arg(demo.manifest())
        .arg("--flake")
        .arg(&flake)
        .success_stdout();
    let fix: Value = serde_json::from_slice(&output).unwrap();
    assert!(fix["proposals"].as_array().unwrap().is_empty(), "{fix}");
    assert_eq!(fix["never_served"][0]["phase"], "miri");
    assert!(
        fix["never_served"][0]["why"]
            .as_str()
            .unwrap()
            .starts_with("built by another crane lib (toolchain)"),
        "{fix}"
    );
}

/// `--set` works on every command, and takes a value as the report prints it (quoted).
#[test]
fn set_applies_to_phases_and_fix_and_takes_quoted_values() {
    let fixture = Fixture::new("dev-deps");
    let output = common::cache_miss()
        .args(["phases", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .args(["--set", r#"deps.cargoExtraArgs="--locked --workspace""#])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let phases: serde_json::Value = serde_json::from_slice(&output).unwrap();
    let deps = common::phase(&phases, "deps");
    assert!(
        deps["commands"][0]
            .as_str()
            .unwrap()
            .ends_with("--locked --workspace"),
        "{deps}"
    );
    let output = common::cache_miss()
        .args(["fix", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .args(["--set", "deps.doCheck=true"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let fix: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(fix["proposals"].as_array().unwrap().len(), 0, "{fix}");
}
