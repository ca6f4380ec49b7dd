//! Bad input ends in one clear message and exit code 2, never a panic or a partial write.

use crate::common;

use std::fs;

use common::{CommandExt, Fixture};
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

/// `cache-miss ARGS --manifest-path <fixture> --format json`, which must fail with exit 2:
/// the error object on stdout, and the plain `error: …` line on stderr.
fn json_error_of(fixture: &Fixture, args: &[&str]) -> (serde_json::Value, String) {
    let assert = common::cache_miss()
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(["--format", "json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("panicked").not());
    let output = assert.get_output();
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("a JSON error on stdout");
    assert_eq!(json["version"], 1, "{json}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    (json["error"].clone(), stderr)
}

/// `(file, line, column)` of a JSON error, `null` as `None`.
fn place(error: &serde_json::Value) -> (Option<&str>, Option<u64>, Option<u64>) {
    (
        error["file"].as_str(),
        error["line"].as_u64(),
        error["column"].as_u64(),
    )
}

/// The clean fixture with `flake.nix` (and no phases file, so the flake is read).
fn with_flake(text: &str) -> Fixture {
    let fixture = Fixture::new("clean");
    fs::remove_file(fixture.root().join("phases.toml")).unwrap();
    fs::write(fixture.root().join("flake.nix"), text).unwrap();
    fixture
}

/// A flake with one crane call whose arguments are `ARGS`, and `BINDINGS` in its `let`.
const FLAKE: &str = "{\n  outputs = { self, crane, ... }:\n    let\n      craneLib = crane.mkLib { };\n      BINDINGS\n    in {\n      packages.deps = craneLib.buildDepsOnly { src = ./.; ARGS };\n    };\n}\n";

fn flake_with(bindings: &str, args: &str) -> Fixture {
    with_flake(&FLAKE.replace("BINDINGS", bindings).replace("ARGS", args))
}

#[test]
fn flake_errors_carry_their_place_in_json_and_in_text() {
    let cases: &[(&str, Fixture, (u64, u64), &str)] = &[
        (
            "syntax",
            flake_with("x = 1", ""),
            (6, 5),
            "syntax error: unexpected `in`",
        ),
        (
            "undefined variable",
            flake_with("", "cargoExtraArgs = nope;"),
            (7, 76),
            "undefined variable `nope`",
        ),
        (
            "evaluation budget",
            flake_with(
                "twice = n: s: if n == 0 then s else twice (n - 1) (s + s);",
                "cargoExtraArgs = twice 40 \"ab\";",
            ),
            (5, 58),
            "evaluation budget exceeded",
        ),
        (
            "missing import",
            flake_with("args = import ./missing.nix;", "inherit (args) x;"),
            (5, 14),
            "cannot import ./missing.nix: no such file",
        ),
        (
            "attribute typo",
            flake_with("", "cargoExtraArg = \"--locked\";"),
            (7, 59),
            "phase `deps`: unknown attribute `cargoExtraArg`",
        ),
    ];
    for (family, fixture, (line, column), message) in cases {
        let (error, stderr) = json_error_of(fixture, &["report"]);
        assert_eq!(
            place(&error),
            (Some("flake.nix"), Some(*line), Some(*column)),
            "{family}: {error}"
        );
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{family}: {error}"
        );
        // The text keeps `file:line:column: message`.
        assert!(
            stderr.contains(&format!("error: flake.nix:{line}:{column}: {message}")),
            "{family}: {stderr}"
        );
    }
}

#[test]
fn a_flake_that_cannot_be_read_names_the_file() {
    let fixture = Fixture::new("clean");
    let (error, stderr) = json_error_of(&fixture, &["phases", "--flake", "/dev/zero"]);
    assert_eq!(place(&error), (Some("/dev/zero"), None, None), "{error}");
    assert!(stderr.contains("error: /dev/zero: cannot read it: not a regular file"));
    // A flake without crane calls is a fault of that file.
    let fixture = with_flake("{ outputs = { ... }: { }; }\n");
    let flake = fixture.root().join("flake.nix");
    let (error, _) = json_error_of(&fixture, &["report", "--flake", flake.to_str().unwrap()]);
    assert_eq!(place(&error).0, flake.to_str(), "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no crane calls found"),
        "{error}"
    );
}

#[test]
fn phases_file_errors_carry_their_place_in_json() {
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ndoCheck = \n",
    );
    let (error, stderr) = json_error_of(&fixture, &["report"]);
    assert_eq!(place(&error), (Some("phases.toml"), Some(3), Some(11)));
    assert!(
        stderr.contains("error: phases.toml:3:11: invalid TOML"),
        "{stderr}"
    );
    let fixture = Fixture::new("clean");
    let (error, stderr) = json_error_of(&fixture, &["phases", "--phases", "/nonexistent.toml"]);
    assert_eq!(place(&error), (Some("/nonexistent.toml"), None, None));
    assert!(
        stderr.contains("error: /nonexistent.toml: cannot read the phases file"),
        "{stderr}"
    );
}

#[test]
fn set_errors_are_json_and_never_point_at_the_replaced_line() {
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ndoCheck = false\n",
    );
    // The value comes from the command line: the fault is the phase's, not line 3's.
    let (error, _) = json_error_of(&fixture, &["report", "--set", "deps.doCheck=maybe"]);
    assert_eq!(
        place(&error),
        (Some("phases.toml"), Some(1), None),
        "{error}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("with the --set changes: phase `deps` (phases.toml:1): attribute `doCheck` must be a boolean"),
        "{error}"
    );
    // A `--set` that is no PHASE.ATTR=VALUE is refused before anything runs: JSON too.
    let (error, stderr) = json_error_of(&fixture, &["report", "--set", "deps.env=1"]);
    assert_eq!(place(&error), (None, None, None), "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("set one with PHASE.env.NAME=VALUE"),
        "{error}"
    );
    assert!(
        stderr.contains("set one with PHASE.env.NAME=VALUE"),
        "{stderr}"
    );
    let (error, _) = json_error_of(&fixture, &["report", "--no-such-flag"]);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("unexpected argument '--no-such-flag'"),
        "{error}"
    );
}

#[test]
fn an_unreadable_shell_word_is_noted_at_its_attribute() {
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\n\ncargoExtraArgs = \"--features 'a\"\n",
    );
    let output = common::cache_miss()
        .args(["phases", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .success_stdout();
    let phases: serde_json::Value = serde_json::from_slice(&output).unwrap();
    let notes = common::phase(&phases, "deps")["approximations"].clone();
    let note = notes[0].as_str().unwrap();
    assert!(
        note.starts_with("phases.toml:4:1: ")
            && note.contains("a single quote that is never closed"),
        "{notes}"
    );
}

/// A `--costs` or `--baseline` file that does not parse is named, at the line and column
/// of the fault; one that cannot be read is named as a whole.
#[test]
fn costs_and_baseline_files_are_named_with_their_fault() {
    let fixture = Fixture::new("clean");
    let broken = fixture.dir.path().join("broken.json");
    fs::write(&broken, "{\n  \"phases\": [\n    oops\n  ]\n}\n").unwrap();
    let broken_name = broken.to_str().unwrap();
    for option in ["--costs", "--baseline"] {
        let (error, stderr) = json_error_of(&fixture, &["report", option, broken_name]);
        assert_eq!(
            place(&error),
            (Some(broken_name), Some(3), Some(5)),
            "{error}"
        );
        assert!(
            stderr.contains(&format!("{broken_name}:3:5: {option}: ")),
            "{stderr}"
        );
        let missing = fixture.dir.path().join("missing.json");
        let missing_name = missing.to_str().unwrap();
        let (error, _) = json_error_of(&fixture, &["report", option, missing_name]);
        assert_eq!(place(&error), (Some(missing_name), None, None), "{error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("cannot read it"),
            "{error}"
        );
    }
}
