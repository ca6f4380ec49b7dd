//! `why-rebuild` and `touch --nix`: what real Nix says rebuilds between two revisions of a
//! crane flake, and why (offline, on the kit of `CACHE_MISS_TEST_NIX_KIT`; see nix.rs).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::flake_workspace;
use crate::common::{CommandExt, Fixture, cache_miss};
use crate::nix::{kit, overrides};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.email=t@t", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// `nix flake lock` with these overrides: the lock pins them, as a user's lock pins crane.
fn lock(dir: &Path, overrides: &[String]) {
    let output = Command::new("nix")
        .args([
            "--extra-experimental-features",
            "nix-command flakes",
            "flake",
            "lock",
        ])
        .args(overrides)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `common-args` flake over the demo workspace, its inputs locked to the kit, in a git
/// repository with one commit.
fn committed_flake(kit: &Path, edit: impl Fn(&str) -> String) -> Fixture {
    let fixture = flake_workspace("common-args");
    let flake = fixture.root().join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap();
    std::fs::write(&flake, edit(&text)).unwrap();
    git(&fixture.root(), &["init", "-q"]);
    git(&fixture.root(), &["add", "-A"]);
    lock(&fixture.root(), &overrides(kit)[..6]);
    git(&fixture.root(), &["add", "-A"]);
    git(&fixture.root(), &["commit", "-q", "-m", "base"]);
    fixture
}

fn json(fixture: &Fixture, args: &[&str]) -> Value {
    let output = cache_miss()
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(["--format", "json", "--no-cache"])
        .success_stdout();
    let document: Value = serde_json::from_slice(&output).unwrap();
    if args.contains(&"--nix") {
        crate::schema::assert_valid("why-rebuild", &document);
    }
    document
}

fn rebuilt(report: &Value) -> Vec<&str> {
    report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["rebuilds"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

fn why(report: &Value, name: &str) -> Vec<String> {
    let phase = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report:#}"));
    phase["why"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_crane_update_rebuilds_every_phase_and_names_the_hook() {
    let Some(kit) = kit() else { return };
    let fixture = committed_flake(&kit, str::to_string);
    // The "update": crane with one hook's text changed, locked in a second commit.
    let updated = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&kit.join("crane"), updated.path());
    crate::common::append(
        &updated
            .path()
            .join("lib/setupHooks/inheritCargoArtifactsHook.sh"),
        "\n# a newer crane\n",
    );
    lock(
        &fixture.root(),
        &[
            "--override-input".to_string(),
            "crane".to_string(),
            format!("path:{}", updated.path().display()),
        ],
    );
    git(&fixture.root(), &["commit", "-q", "-am", "update crane"]);
    let report = json(&fixture, &["why-rebuild", "--nix", "HEAD~1", "HEAD"]);
    assert_eq!(report["from"], "HEAD~1");
    assert_eq!(report["to"], "HEAD");
    assert_eq!(
        rebuilt(&report),
        [
            "cargo-package-deps",
            "server",
            "server-lto",
            "clippy",
            "dev-profile",
            "loom"
        ]
    );
    let deps = why(&report, "cargo-package-deps");
    assert!(
        deps.iter()
            .any(|w| w == "nativeBuildInputs: crane's hook `inheritCargoArtifactsHook` changed (a crane update)"),
        "{deps:?}"
    );
    let server = why(&report, "server");
    assert!(
        server
            .iter()
            .any(|w| w.starts_with("cargoArtifacts → cargo-package-deps")),
        "{server:?}"
    );
    // Between two revisions nothing says what cargo compiles (the work tree is not them).
    assert!(report["phases"][0]["recompiles"].is_null());
}

#[test]
fn a_flake_edit_behind_a_filter_rebuilds_nothing_and_a_source_edit_names_the_file() {
    let Some(kit) = kit() else { return };
    let fixture = committed_flake(&kit, str::to_string);
    crate::common::append(&fixture.root().join("flake.nix"), "\n# a comment\n");
    let report = json(&fixture, &["touch", "--nix"]);
    assert_eq!(rebuilt(&report), Vec::<&str>::new());
    assert_eq!(report["phases"].as_array().unwrap().len(), 6);
    crate::common::append(&fixture.root().join("server/src/main.rs"), "\n// edited\n");
    let report = json(&fixture, &["touch", "--nix"]);
    assert_eq!(
        rebuilt(&report),
        ["server", "server-lto", "clippy", "dev-profile", "loom"]
    );
    assert_eq!(
        why(&report, "server"),
        ["src: files changed `server/src/main.rs`"]
    );
    let recompiles = &report["phases"][1]["recompiles"];
    assert_eq!(recompiles["workspace_units"], 2, "{report:#}");
}

#[test]
fn an_unfiltered_src_rebuilds_everything_but_the_deps_only_derivation() {
    let Some(kit) = kit() else { return };
    let fixture = committed_flake(&kit, |text| {
        text.replace("craneLib.cleanCargoSource ./.", "./.")
    });
    crate::common::append(&fixture.root().join("README.md"), "\nmore words\n");
    let report = json(&fixture, &["why-rebuild", "--nix", "HEAD"]);
    assert_eq!(report["to"], "work tree");
    assert_eq!(
        rebuilt(&report),
        ["server", "server-lto", "clippy", "dev-profile", "loom"]
    );
    assert_eq!(why(&report, "clippy"), ["src: files changed `README.md`"]);
}

#[test]
fn a_revision_that_is_not_one_is_exit_2() {
    let Some(kit) = kit() else { return };
    let fixture = committed_flake(&kit, str::to_string);
    let assert = cache_miss()
        .args(["why-rebuild", "--nix", "no-such-rev", "--manifest-path"])
        .arg(fixture.manifest())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("is not a revision"), "{stderr}");
}

#[test]
fn without_nix_the_static_reader_answers_for_the_work_tree() {
    let fixture = flake_workspace("common-args");
    git(&fixture.root(), &["init", "-q"]);
    git(&fixture.root(), &["add", "-A"]);
    git(&fixture.root(), &["commit", "-q", "-m", "base"]);
    crate::common::append(&fixture.root().join("server/src/main.rs"), "\n// edited\n");
    let report = json(&fixture, &["why-rebuild", "HEAD"]);
    crate::schema::assert_valid("touch", &report);
    assert_eq!(report["base"], "HEAD");
    assert!(rebuilt(&report).contains(&"server"), "{report:#}");
    let assert = cache_miss()
        .args(["why-rebuild", "HEAD", "HEAD", "--manifest-path"])
        .arg(fixture.manifest())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("needs --nix"), "{stderr}");
}
