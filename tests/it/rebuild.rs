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
    committed("common-args", &overrides(kit)[..6], edit)
}

/// The flake fixture `name` over the demo workspace, locked with `overrides`, committed.
fn committed(name: &str, overrides: &[String], edit: impl Fn(&str) -> String) -> Fixture {
    let fixture = flake_workspace(name);
    let flake = fixture.root().join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap();
    std::fs::write(&flake, edit(&text)).unwrap();
    git(&fixture.root(), &["init", "-q"]);
    git(&fixture.root(), &["add", "-A"]);
    lock(&fixture.root(), overrides);
    git(&fixture.root(), &["add", "-A"]);
    git(&fixture.root(), &["commit", "-q", "-m", "base"]);
    fixture
}

/// The kit's nixpkgs stand-in with a `trunk` and a `cargo-tarpaulin` that have a version
/// (crane's buildTrunkPackage and cargoTarpaulin read it; real nixpkgs has them).
fn nixpkgs_with_versioned_tools(kit: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&kit.join("nixpkgs"), dir.path());
    let pkgs = dir.path().join("pkgs.nix");
    let text = std::fs::read_to_string(&pkgs).unwrap();
    let set = "  pkgs = placeholders // {\n";
    assert!(text.contains(set), "the stand-in's package set has moved");
    let tools = "    trunk = fakeDrv \"trunk-0.21.4\" // { version = \"0.21.4\"; };\n    \
                 cargo-tarpaulin = fakeDrv \"cargo-tarpaulin-0.31.2\" // { version = \"0.31.2\"; };\n";
    std::fs::write(&pkgs, text.replacen(set, &format!("{set}{tools}"), 1)).unwrap();
    dir
}

/// Every output's `.drvPath`, as `nix eval` gives it (the flake's lock pins the kit).
fn drv_paths(fixture: &Fixture) -> serde_json::Map<String, Value> {
    let mut flat = serde_json::Map::new();
    for kind in ["packages", "checks"] {
        let output = Command::new("nix")
            .args([
                "--extra-experimental-features",
                "nix-command flakes",
                "eval",
                "--json",
            ])
            .arg(format!("{}#{kind}", fixture.root().display()))
            .args([
                "--apply",
                "s: builtins.mapAttrs (_: v: v.drvPath) s.x86_64-linux",
            ])
            .current_dir(fixture.root())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        flat.extend(value.as_object().unwrap().clone());
    }
    flat
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
    // Between two revisions too, what cargo compiles comes from NEW's phases: every
    // dependency unit of the rebuilt deps-only derivation.
    let deps = &report["phases"][0]["recompiles"];
    assert!(deps["dependency_units"].as_u64().unwrap() > 0, "{report:#}");
}

#[test]
fn two_commits_say_what_cargo_recompiles_with_nix() {
    let Some(kit) = kit() else { return };
    let fixture = committed_flake(&kit, str::to_string);
    crate::common::append(&fixture.root().join("server/src/main.rs"), "\n// edited\n");
    git(&fixture.root(), &["commit", "-q", "-am", "edit server"]);
    // An edit of the work tree is not between the two commits.
    crate::common::append(&fixture.root().join("shared/src/lib.rs"), "\n// later\n");
    let report = json(&fixture, &["why-rebuild", "--nix", "HEAD~1", "HEAD"]);
    assert_eq!(
        rebuilt(&report),
        ["server", "server-lto", "clippy", "dev-profile", "loom"]
    );
    assert_eq!(
        why(&report, "server"),
        ["src: files changed `server/src/main.rs`"]
    );
    assert_eq!(report["phases"][1]["recompiles"]["workspace_units"], 2);
    assert_eq!(report["phases"][0]["recompiles"], Value::Null);
}

/// Every crane derivation, buildTrunkPackage's and its implicit deps-only one included, is
/// a phase with `--nix` as statically; after an edit, `touch --nix`, the static `touch`
/// and the `.drvPath`s `nix eval` gives agree on what rebuilds.
#[test]
fn every_crane_derivation_is_counted_and_touch_agrees_with_nix() {
    let Some(kit) = kit() else { return };
    let nixpkgs = nixpkgs_with_versioned_tools(&kit);
    let overrides = [
        "--override-input".to_string(),
        "nixpkgs".to_string(),
        format!("path:{}", nixpkgs.path().display()),
        "--override-input".to_string(),
        "crane".to_string(),
        format!("path:{}", kit.join("crane").display()),
    ];
    let fixture = committed("every-function", &overrides, str::to_string);
    let phases = |nix: bool| -> Value {
        let mut command = cache_miss();
        command.args([
            "phases",
            "--format",
            "json",
            "--no-cache",
            "--manifest-path",
        ]);
        command.arg(fixture.manifest());
        if nix {
            command.arg("--nix");
        }
        serde_json::from_slice(&command.success_stdout()).unwrap()
    };
    let (statically, with_nix) = (phases(false), phases(true));
    let function_of = |reading: &Value, name: &str| -> (String, Vec<String>) {
        let phase = reading["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {reading:#}"));
        let commands = phase["commands"].as_array().unwrap();
        (
            phase["function"].as_str().unwrap().to_string(),
            commands.iter().map(|c| c.to_string()).collect(),
        )
    };
    for name in [
        "server",
        "web",
        "clippy",
        "doc",
        "doctest",
        "nextest",
        "cov",
        "tarpaulin",
        "fmt",
        "toml",
    ] {
        assert_eq!(
            function_of(&statically, name),
            function_of(&with_nix, name),
            "{name}"
        );
    }
    assert_eq!(function_of(&with_nix, "web").0, "buildTrunkPackage");
    assert_eq!(
        function_of(&with_nix, "web").1,
        ["\"cargo build --target wasm32-unknown-unknown --release\""]
    );
    let deps_only = |reading: &Value| {
        reading["phases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["function"] == "buildDepsOnly")
            .count()
    };
    assert_eq!((deps_only(&statically), deps_only(&with_nix)), (2, 2));

    let before = drv_paths(&fixture);
    crate::common::append(&fixture.root().join("server/src/main.rs"), "\n// edited\n");
    let after = drv_paths(&fixture);
    let mut changed: Vec<&str> = after
        .iter()
        .filter(|(name, path)| before.get(*name) != Some(*path))
        .map(|(name, _)| name.as_str())
        .collect();
    changed.sort();
    let with_nix = json(&fixture, &["touch", "--nix"]);
    let mut nix_rebuilt: Vec<&str> = rebuilt(&with_nix);
    for phase in with_nix["phases"].as_array().unwrap() {
        if phase["rebuilds"] == true {
            assert!(!phase["why"].as_array().unwrap().is_empty(), "{phase:#}");
            for alias in phase["aliases"].as_array().unwrap() {
                nix_rebuilt.push(alias.as_str().unwrap());
            }
        }
    }
    nix_rebuilt.sort();
    assert_eq!(nix_rebuilt, changed);
    let statically = json(&fixture, &["touch"]);
    let mut static_rebuilt = rebuilt(&statically);
    static_rebuilt.push("default");
    static_rebuilt.sort();
    assert_eq!(static_rebuilt, changed);
    let fmt = statically["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fmt")
        .unwrap();
    assert_eq!(fmt["compiles_nothing"], true);
}

#[test]
fn a_flake_edit_behind_a_filter_rebuilds_nothing_and_a_source_edit_names_the_file() {
    let Some(kit) = kit() else { return };
    let fixture = committed_flake(&kit, str::to_string);
    crate::common::append(&fixture.root().join("flake.nix"), "\n# a comment\n");
    let report = json(&fixture, &["touch", "--nix"]);
    assert_eq!(rebuilt(&report), Vec::<&str>::new());
    assert_eq!(report["phases"].as_array().unwrap().len(), 6);
    assert_eq!(rebuilt(&json(&fixture, &["touch"])), Vec::<&str>::new());
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
    // The static reader agrees (its deps-only phase is named `deps`; it does not rebuild).
    let static_report = json(&fixture, &["touch"]);
    let mut statically = rebuilt(&static_report);
    let mut with_nix = rebuilt(&report);
    statically.sort();
    with_nix.sort();
    assert_eq!(statically, with_nix);
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
    let static_report = json(&fixture, &["why-rebuild", "HEAD"]);
    let mut statically = rebuilt(&static_report);
    let mut with_nix = rebuilt(&report);
    statically.sort();
    with_nix.sort();
    assert_eq!(statically, with_nix);
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
        .args(["why-rebuild", "HEAD", "no-such-rev", "--manifest-path"])
        .arg(fixture.manifest())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("is not a revision"), "{stderr}");
}

#[test]
fn without_nix_two_commits_are_read_from_a_copy_of_the_new_one() {
    let fixture = flake_workspace("common-args");
    git(&fixture.root(), &["init", "-q"]);
    git(&fixture.root(), &["add", "-A"]);
    git(&fixture.root(), &["commit", "-q", "-m", "base"]);
    crate::common::append(&fixture.root().join("server/src/main.rs"), "\n// edited\n");
    git(&fixture.root(), &["commit", "-q", "-am", "edit server"]);
    // The work tree is neither revision: its edits are not counted.
    crate::common::append(&fixture.root().join("shared/src/lib.rs"), "\n// later\n");
    // NEW's copy (and the base's) go to the temp dir, and are gone afterwards.
    let temp = tempfile::tempdir().unwrap();
    let output = cache_miss()
        .args([
            "why-rebuild",
            "HEAD~1",
            "HEAD",
            "--format",
            "json",
            "--no-cache",
        ])
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .env("TMPDIR", temp.path())
        .success_stdout();
    let left: Vec<_> = std::fs::read_dir(temp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let report: Value = serde_json::from_slice(&output).unwrap();
    crate::schema::assert_valid("touch", &report);
    assert_eq!(
        (&report["base"], &report["to"]),
        (&"HEAD~1".into(), &"HEAD".into())
    );
    assert_eq!(report["files"], serde_json::json!(["server/src/main.rs"]));
    let workspace = fixture.root().canonicalize().unwrap();
    assert_eq!(report["workspace_root"], workspace.display().to_string());
    let server = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "server")
        .unwrap();
    assert_eq!(server["rebuilds"], true);
    assert!(
        server["recompiles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "server@0.1.0 bin server (build)"),
        "{server:#}"
    );
    assert!(!rebuilt(&report).contains(&"deps"), "{report:#}");
}
