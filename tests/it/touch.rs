//! `cache-miss touch` on the `touch` fixture made a git repository at test time: which
//! phases an edit rebuilds, why, and what cargo recompiles.

use std::path::Path;
use std::process::Command as Process;

use serde_json::Value;

use crate::common::{Fixture, cache_miss, phase};

/// The fixture (and the registry beside it) committed in a fresh repository.
pub fn repository() -> Fixture {
    repository_of("touch")
}

/// The fixture `name` committed in a fresh repository.
pub fn repository_of(name: &str) -> Fixture {
    let fixture = Fixture::new(name);
    git(fixture.dir.path(), &["init", "-q"]);
    git(fixture.dir.path(), &["add", "-A"]);
    git(fixture.dir.path(), &["commit", "-qm", "base"]);
    fixture
}

pub fn git(dir: &Path, args: &[&str]) {
    let status = Process::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn edit(fixture: &Fixture, file: &str, change: impl FnOnce(String) -> String) {
    let path = fixture.root().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, change(text)).unwrap();
}

pub fn touch_json(fixture: &Fixture, args: &[&str]) -> Value {
    let output = cache_miss()
        .current_dir(fixture.root())
        .arg("touch")
        .args(["--format", "json"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&output).expect("JSON")
}

pub fn rebuilds(report: &Value, name: &str) -> bool {
    phase(report, name)["rebuilds"].as_bool().expect("rebuilds")
}

pub fn recompiles(report: &Value, name: &str) -> Vec<String> {
    phase(report, name)["recompiles"]
        .as_array()
        .expect("recompiles")
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

fn causes(report: &Value, name: &str) -> Vec<String> {
    phase(report, name)["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn editing_flake_nix_or_the_readme_rebuilds_only_the_unfiltered_phase() {
    let fixture = repository();
    edit(&fixture, "flake.nix", |t| format!("{t}# a comment\n"));
    edit(&fixture, "README.md", |t| format!("{t}more\n"));
    let report = touch_json(&fixture, &[]);
    assert_eq!(report["version"], 1);
    assert_eq!(
        report["files"],
        serde_json::json!(["touch/README.md", "touch/flake.nix"])
    );
    for name in ["deps", "default", "clippy"] {
        assert!(!rebuilds(&report, name), "{name}: {report:#}");
    }
    assert!(rebuilds(&report, "docs"));
    assert_eq!(causes(&report, "docs"), ["in-source", "in-source"]);
    // No crate owns them: the derivation rebuilds, cargo has nothing new to compile.
    assert!(recompiles(&report, "docs").is_empty());
    assert_eq!(phase(&report, "docs")["approximate"], false);
}

#[test]
fn editing_a_crate_rebuilds_its_users_but_not_deps_only() {
    let fixture = repository();
    edit(&fixture, "app/src/main.rs", |t| format!("{t}// edited\n"));
    let report = touch_json(&fixture, &[]);
    assert!(!rebuilds(&report, "deps"));
    assert_eq!(
        recompiles(&report, "default"),
        ["app@0.1.0 bin app (build)"]
    );
    assert_eq!(recompiles(&report, "clippy"), ["app@0.1.0 bin app (check)"]);
    // The library under it is not recompiled.
    assert!(
        !recompiles(&report, "docs")
            .iter()
            .any(|u| u.contains("core-words"))
    );
}

#[test]
fn a_file_read_with_include_str_recompiles_its_reader_and_the_units_above() {
    let fixture = repository();
    let report = touch_json(&fixture, &["core/data/words.txt"]);
    assert!(!rebuilds(&report, "deps"));
    assert_eq!(
        recompiles(&report, "default"),
        ["app@0.1.0 bin app (build)", "core-words@0.1.0 (build)"]
    );
}

#[test]
fn a_manifest_comment_is_not_a_deps_only_rebuild_a_new_dependency_is_resolved_for_real() {
    let fixture = repository();
    edit(&fixture, "core/Cargo.toml", |t| {
        t.replace("The words the app prints", "The words, printed")
    });
    let report = touch_json(&fixture, &[]);
    assert!(!rebuilds(&report, "deps"), "{report:#}");
    assert!(rebuilds(&report, "default"));

    edit(&fixture, "core/Cargo.toml", |t| {
        t.replace("leaf = \"1\"", "leaf = \"1\"\ntop = \"1\"")
    });
    let status = Process::new("cargo")
        .current_dir(fixture.root())
        .args(["update", "--offline", "-q", "-p", "core-words"])
        .status()
        .expect("cargo runs");
    assert!(status.success());
    let report = touch_json(&fixture, &[]);
    assert!(rebuilds(&report, "deps"));
    let deps = phase(&report, "deps");
    let keys: Vec<&Value> = deps["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["change"].get("keys"))
        .collect();
    assert_eq!(keys, [&serde_json::json!(["dependencies.top"])]);
    assert!(recompiles(&report, "deps").contains(&"top@1.0.0 (build)".to_string()));
    assert!(
        deps["resolution_changes"]
            .as_array()
            .unwrap()
            .contains(&Value::from("+ top@1.0.0 (build)")),
        "{deps:#}"
    );
    // The packages inherit the new artifacts.
    assert!(causes(&report, "clippy").contains(&"inherits".to_string()));
}

#[test]
fn a_new_directory_rebuilds_a_cargo_filtered_source_but_not_a_file_set() {
    let fixture = repository();
    edit(&fixture, "flake.nix", |t| {
        t.replace(
            "src = ./.; cargoArtifacts",
            "src = craneLib.cleanCargoSource ./.; cargoArtifacts",
        )
    });
    git(
        fixture.dir.path(),
        &["commit", "-qam", "docs from cleanCargoSource"],
    );
    edit(&fixture, "notes/todo.md", |_| "later\n".into());
    git(fixture.dir.path(), &["add", "touch/notes/todo.md"]);
    let report = touch_json(&fixture, &[]);
    assert_eq!(causes(&report, "docs"), ["new-directory"]);
    assert!(!rebuilds(&report, "default"));
    assert!(!rebuilds(&report, "deps"));
}

#[test]
fn since_a_revision_and_the_table() {
    let fixture = repository();
    edit(&fixture, "app/src/main.rs", |t| format!("{t}// edited\n"));
    git(fixture.dir.path(), &["commit", "-qam", "edit"]);
    let report = touch_json(&fixture, &["--since", "HEAD~1"]);
    assert_eq!(
        report["files"],
        serde_json::json!(["touch/app/src/main.rs"])
    );
    assert!(rebuilds(&report, "default"));
    let text = cache_miss()
        .current_dir(fixture.root())
        .args(["touch", "--since", "HEAD~1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("why, for every phase that rebuilds:\n  touch/app/src/main.rs is in its src"),
        "{text}"
    );
    let all = cache_miss()
        .current_dir(fixture.root())
        .args(["touch", "--since", "HEAD~1", "--all"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(all)
            .unwrap()
            .contains("app@0.1.0 bin app")
    );
    let markdown = cache_miss()
        .current_dir(fixture.root())
        .args(["touch", "--since", "HEAD~1", "--format", "markdown"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(markdown).unwrap().contains("| default |"));
}

#[test]
fn a_bad_revision_or_a_file_outside_is_exit_2() {
    let fixture = repository();
    cache_miss()
        .current_dir(fixture.root())
        .args(["touch", "--since", "no-such-rev"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("`no-such-rev` is not a revision"));
    cache_miss()
        .current_dir(fixture.root())
        .args(["touch", "/etc/hostname"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("outside the workspace"));
}

fn findings(fixture: &Fixture) -> Vec<Value> {
    let output = cache_miss()
        .current_dir(fixture.root())
        .args(["report", "--findings-only", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&output).expect("JSON");
    report["findings"].as_array().expect("findings").clone()
}

#[test]
fn source_findings_come_from_the_evaluated_sets() {
    let fixture = repository();
    let found = findings(&fixture);
    let unfiltered: Vec<&Value> = found
        .iter()
        .filter(|f| f["id"] == "src-not-filtered")
        .collect();
    assert_eq!(unfiltered.len(), 1, "{found:#?}");
    let message = unfiltered[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("2 files are in the src of `docs`")
            && message.ends_with("README.md, flake.nix"),
        "{message}"
    );
    // The file set keeps what core-words reads: nothing is dropped.
    assert!(!found.iter().any(|f| f["id"] == "src-filter-drops-input"));

    edit(&fixture, "flake.nix", |t| {
        t.replace(
            "commonArgs = { inherit src;",
            "commonArgs = { src = craneLib.cleanCargoSource ./.;",
        )
    });
    git(fixture.dir.path(), &["commit", "-qam", "cargo filter"]);
    let found = findings(&fixture);
    let dropped: Vec<&str> = found
        .iter()
        .filter(|f| f["id"] == "src-filter-drops-input")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(dropped.len(), 2, "{found:#?}");
    assert!(dropped.iter().all(|m| m.contains("core/data/words.txt")));
    assert!(dropped.iter().any(|m| m.contains("the src of `clippy`")));
    assert!(
        found
            .iter()
            .filter(|f| f["id"] == "src-filter-drops-input")
            .all(|f| f["location"] == "core/src/lib.rs:2")
    );
}

#[test]
fn a_path_a_build_script_watched_recompiles_its_package_with_a_target_dir() {
    let fixture = repository_of("touch-build-script");
    edit(&fixture, "schema/api.txt", |t| {
        format!("{t}type Mutation\n")
    });
    // Without a previous build nothing says the build script reads it.
    let report = touch_json(&fixture, &[]);
    assert!(rebuilds(&report, "default"));
    assert!(recompiles(&report, "default").is_empty(), "{report:#}");
    // The previous build's output names the file the script computed.
    let target = tempfile::tempdir().unwrap();
    let build = target.path().join("release/build/gen-0123abcd");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(
        build.join("output"),
        "cargo:rerun-if-changed=../schema/api.txt\ncargo:rustc-env=SCHEMA_LINES=1\n",
    )
    .unwrap();
    let report = touch_json(&fixture, &["--target-dir", target.path().to_str().unwrap()]);
    let units = recompiles(&report, "default");
    // The script runs again (it is not compiled again), and what is above it rebuilds.
    assert_eq!(
        units,
        [
            "app@0.1.0 bin app (build)",
            "gen@0.1.0 (build)",
            "gen@0.1.0 build-script (run-custom-build)"
        ]
    );
    assert!(!units.iter().any(|u| u.starts_with("leaf")), "{units:?}");
    // A target dir that is not a directory is bad input.
    cache_miss()
        .current_dir(fixture.root())
        .args(["touch", "--target-dir", "no/such/dir"])
        .assert()
        .code(2);
}

#[test]
fn a_file_set_keeping_a_whole_directory_for_one_read_file_is_an_info() {
    let fixture = repository();
    // The fixture's file set keeps ./core/data, of which core-words reads words.txt.
    assert!(
        !findings(&fixture)
            .iter()
            .any(|f| f["id"] == "src-keeps-directory"),
        "all of core/data is read"
    );
    edit(&fixture, "core/data/notes.md", |_| {
        "why these words\n".into()
    });
    edit(&fixture, "core/data/old/words-v1.txt", |_| "a b\n".into());
    git(fixture.dir.path(), &["add", "-A"]);
    git(fixture.dir.path(), &["commit", "-qm", "more data"]);
    let found = findings(&fixture);
    let kept: Vec<&Value> = found
        .iter()
        .filter(|f| f["id"] == "src-keeps-directory")
        .collect();
    assert_eq!(kept.len(), 1, "{found:#?}");
    assert_eq!(kept[0]["severity"], "info");
    let message = kept[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the src of `default` and `clippy` keeps all of core/data/, but the build reads only core/data/words.txt: editing any of the other 2 files there (notes.md, old/ (1 file)) rebuilds them"),
        "{message}"
    );
    assert_eq!(
        kept[0]["fix"],
        "keep only what is read: replace ./core/data with ./core/data/words.txt in the file set"
    );
}

#[test]
fn a_given_dummy_src_and_cargo_lock_are_the_deps_only_inputs() {
    let fixture = repository();
    edit(&fixture, "flake.nix", |t| {
        t.replace(
            "deps = craneLib.buildDepsOnly commonArgs;",
            "deps = craneLib.buildDepsOnly (commonArgs // { dummySrc = ./nix/dummy; cargoLock = ./nix/Cargo.lock; cargoVendorDir = craneLib.vendorCargoDeps { src = ./.; }; });",
        )
    });
    let lock = std::fs::read_to_string(fixture.root().join("Cargo.lock")).unwrap();
    edit(&fixture, "nix/Cargo.lock", |_| lock);
    edit(&fixture, "nix/dummy/src/main.rs", |_| {
        "fn main() {}\n".into()
    });
    git(fixture.dir.path(), &["add", "-A"]);
    git(fixture.dir.path(), &["commit", "-qm", "a dummy of our own"]);

    // A file of the given dummySrc rebuilds the deps-only derivation, as is.
    edit(&fixture, "nix/dummy/src/main.rs", |t| {
        format!("{t}// edited\n")
    });
    let report = touch_json(&fixture, &["nix/dummy/src/main.rs"]);
    assert_eq!(causes(&report, "deps"), ["in-source"]);
    let approximations = phase(&report, "deps")["approximations"].to_string();
    assert!(
        approximations.contains("cargoVendorDir"),
        "{approximations}"
    );

    // The lock it is given is an input; the workspace's own manifest no longer reaches it.
    let report = touch_json(&fixture, &["nix/Cargo.lock"]);
    assert!(rebuilds(&report, "deps"));
    assert!(causes(&report, "default").contains(&"inherits".to_string()));
    // A new feature changes crane's dummy of src, which this deps-only does not use.
    edit(&fixture, "core/Cargo.toml", |t| {
        format!("{t}\n[features]\nextra = []\n")
    });
    let report = touch_json(&fixture, &["core/Cargo.toml"]);
    assert!(!rebuilds(&report, "deps"), "{report:#}");
    assert!(rebuilds(&report, "default"));
}
