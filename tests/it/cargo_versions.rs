//! Workspaces whose package ids take every form cargo writes: a git dependency (whose
//! unit id leaves the name and the commit out), and the old `name version (source)` form
//! of a cargo older than 1.77.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Fixture, copy_dir, fixtures_dir, phase};
use serde_json::Value;

/// The `git-dep` fixture with its `kit` repository made for real, its lock file generated,
/// and a cargo home of its own (so git checkouts stay in the temp dir).
struct GitFixture {
    fixture: Fixture,
    cargo_home: PathBuf,
    /// `file:///…/kit`.
    url: String,
    commit: String,
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_string()
}

fn git(repo: &Path, args: &[&str]) -> String {
    run(Command::new("git")
        .args([
            "-c",
            "user.name=cache-miss",
            "-c",
            "user.email=test@example.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(repo))
}

impl GitFixture {
    fn new() -> GitFixture {
        let fixture = Fixture::new("git-dep");
        let repo = fixture.dir.path().join("repos").join("kit");
        copy_dir(&fixtures_dir().join("git-kit"), &repo);
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "kit 0.2.0"]);
        let commit = git(&repo, &["rev-parse", "HEAD"]);
        let url = format!("file://{}", repo.display());
        let manifest = fixture.root().join("app").join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("app manifest");
        let text = text
            .replace("@KIT_URL@", &url)
            .replace("@KIT_REV@", &commit[..7]);
        std::fs::write(&manifest, text).expect("write app manifest");
        let cargo_home = fixture.dir.path().join("cargo-home");
        run(Command::new("cargo")
            .arg("generate-lockfile")
            .env("CARGO_HOME", &cargo_home)
            .current_dir(fixture.root()));
        GitFixture {
            fixture,
            cargo_home,
            url,
            commit,
        }
    }

    fn report(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        common::cache_miss()
            .env("CARGO_HOME", &self.cargo_home)
            .arg("report")
            .arg("--manifest-path")
            .arg(self.fixture.manifest())
            .args(args)
            .assert()
            .success()
    }

    fn report_json(&self) -> Value {
        let output = self
            .report(&["--format", "json"])
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&output).expect("report prints JSON")
    }
}

fn miss<'a>(phase: &'a Value, package: &str) -> &'a Value {
    phase["misses"]
        .as_array()
        .expect("misses")
        .iter()
        .find(|m| m["package"] == package)
        .unwrap_or_else(|| panic!("no miss of {package} in {phase:#}"))
}

#[test]
fn a_git_dependency_is_named_versioned_and_sourced_right() {
    let git = GitFixture::new();
    let report = git.report_json();
    let tests = phase(&report, "tests");
    let kit = miss(tests, "kit");
    assert_eq!(kit["version"], "0.2.0");
    assert_eq!(kit["reason"], "features");
    let source = format!("git+{}?rev={}#{}", git.url, &git.commit[..7], git.commit);
    assert_eq!(kit["source"], source.as_str());
    // The dependency declarations of `app` are found for the git package: who asks.
    assert_eq!(kit["requested_by"][0], "app -> kit (features: extra)");
    let leaf = miss(tests, "leaf");
    assert_eq!(leaf["reason"], "features");

    let text = String::from_utf8(git.report(&[]).get_output().stdout.clone()).expect("UTF-8");
    assert!(text.contains("kit@0.2.0"), "{text}");
    assert!(
        !text.contains("?rev="),
        "a name or label carries the query:\n{text}"
    );
}

/// The oldest cargo cache-miss supports, and one older (both installed by `.ci/run`; the
/// tests that need them skip themselves without them, except under `CI`).
pub(crate) const OLDEST: &str = "1.48";
const TOO_OLD: &str = "1.47";

/// A fixture made readable by an old cargo, in its temp copy: edition 2018 everywhere (the
/// shared registry too), no `resolver` key (cargo < 1.51), and the lock file in the format
/// without a `version` line.
fn old_cargo_fixture(name: &str) -> Fixture {
    let fixture = Fixture::new(name);
    let mut stack = vec![fixture.dir.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                stack.push(path);
            } else if file == "Cargo.toml" || file == "Cargo.lock" {
                let text = std::fs::read_to_string(&path).expect("read");
                let text: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with("resolver =") && !l.starts_with("version = 4"))
                    .collect();
                let text = text
                    .join("\n")
                    .replace("edition = \"2021\"", "edition = \"2018\"");
                std::fs::write(&path, text + "\n").expect("write");
            }
        }
    }
    fixture
}

fn pin(fixture: &Fixture, toolchain: &str) -> PathBuf {
    let file = fixture.root().join("rust-toolchain.toml");
    std::fs::write(&file, format!("[toolchain]\nchannel = \"{toolchain}\"\n")).expect("pin");
    file
}

/// `cache-miss report` in the fixture's directory (so rustup and cache-miss see the same
/// toolchain file), with no toolchain from the test's own environment.
fn report_in(fixture: &Fixture, args: &[&str]) -> assert_cmd::assert::Assert {
    run_in(fixture, "report", args)
}

/// `cache-miss COMMAND` as [`report_in`] runs `report`.
fn run_in(fixture: &Fixture, command: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    common::cache_miss()
        .env_remove("RUSTUP_TOOLCHAIN")
        .env("RUSTUP_AUTO_INSTALL", "0")
        .current_dir(fixture.root())
        .arg(command)
        .args(args)
        .assert()
}

/// Each phase's counts and misses, as `name: needed/cached/missed/local [package@version reason, ...]`.
fn summary(report: &Value) -> Vec<String> {
    report["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| {
            let units = &p["units"];
            let misses: Vec<String> = p["misses"]
                .as_array()
                .expect("misses")
                .iter()
                .map(|m| {
                    format!(
                        "{}@{} {} {}",
                        m["package"], m["version"], m["mode"], m["reason"]
                    )
                })
                .collect();
            format!(
                "{}: {}/{}/{}/{} {misses:?}",
                p["name"], units["needed"], units["cached"], units["missed"], units["local"]
            )
        })
        .collect()
}

#[test]
fn the_oldest_supported_cargo_reports_what_the_current_one_does() {
    if !common::require_toolchain(OLDEST) {
        return;
    }
    for name in ["dev-deps", "cascade", "select", "roles"] {
        let fixture = old_cargo_fixture(name);
        let json = |fixture: &Fixture| -> Value {
            let output = report_in(fixture, &["--format", "json"])
                .success()
                .get_output()
                .stdout
                .clone();
            serde_json::from_slice(&output).expect("JSON")
        };
        let current = summary(&json(&fixture));
        pin(&fixture, OLDEST);
        let oldest = summary(&json(&fixture));
        assert_eq!(oldest, current, "{name}");
        assert!(
            current.iter().any(|p| !p.contains("[]")),
            "{name} has no misses"
        );
    }
}

#[test]
fn a_pinned_toolchain_that_is_not_installed_names_its_file_and_the_install_command() {
    let fixture = Fixture::new("clean");
    let file = pin(&fixture, "1.1.0");
    let stderr = String::from_utf8(report_in(&fixture, &[]).code(2).get_output().stderr.clone())
        .expect("UTF-8");
    assert!(
        stderr.contains(&format!(
            "{} pins toolchain 1.1.0, which is not installed",
            file.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("`rustup toolchain install 1.1.0 --profile minimal`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("cannot find the Cargo workspace"),
        "{stderr}"
    );
}

#[test]
fn a_cargo_older_than_the_oldest_supported_is_refused() {
    if !common::require_toolchain(TOO_OLD) {
        return;
    }
    let fixture = old_cargo_fixture("clean");
    let file = pin(&fixture, TOO_OLD);
    let stderr = String::from_utf8(report_in(&fixture, &[]).code(2).get_output().stderr.clone())
        .expect("UTF-8");
    assert!(
        stderr.contains(&format!(
            "cargo 1.47.0 is older than {OLDEST} (from {})",
            file.display()
        )),
        "{stderr}"
    );
}

#[test]
fn no_cargo_on_path_is_said_so() {
    let fixture = Fixture::new("clean");
    let empty = tempfile::tempdir().expect("temp dir");
    let stderr = String::from_utf8(
        common::cache_miss()
            .env("PATH", empty.path())
            .arg("report")
            .arg("--manifest-path")
            .arg(fixture.manifest())
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone(),
    )
    .expect("UTF-8");
    assert!(stderr.contains("cargo was not found on PATH"), "{stderr}");
}

/// The `demo` workspace made readable by an old cargo, with the flake fixture
/// `msrv-check` (a second crane lib on Rust 1.48.0) on the release `release`.
pub(crate) fn msrv_check_fixture(release: &str) -> Fixture {
    let fixture = old_cargo_fixture("demo");
    std::fs::remove_file(fixture.root().join("phases.toml")).expect("demo has a phases file");
    copy_dir(&fixtures_dir().join("flakes/msrv-check"), &fixture.root());
    for file in ["flake.nix", "nix/rust-bin.nix"] {
        let path = fixture.root().join(file);
        let text = std::fs::read_to_string(&path).expect("fixture file");
        std::fs::write(&path, text.replace("1.48.0", release)).expect("write");
    }
    fixture
}

fn json_of(assert: assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&assert.success().get_output().stdout).expect("report prints JSON")
}

fn warnings(report: &Value) -> Vec<&str> {
    report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("text"))
        .collect()
}

/// The phases of an MSRV lib on an installed release are resolved with that release's
/// cargo: the JSON says so per phase, cargo 1.48 answered (its unit ids have the old
/// form, cached under keys of their own beside the same commands answered by the
/// workspace's cargo), the phase on its own deps-only misses nothing, and the phase that
/// inherits the workspace's artifacts misses every unit for the toolchain.
#[test]
fn a_phase_on_an_installed_release_is_resolved_with_its_cargo() {
    if !common::require_toolchain(OLDEST) {
        return;
    }
    let fixture = msrv_check_fixture("1.48.0");
    let cache = tempfile::tempdir().expect("temp dir");
    let run = || {
        json_of(report_in(
            &fixture,
            &[
                "--format",
                "json",
                "--cache-dir",
                &cache.path().display().to_string(),
            ],
        ))
    };
    let report = run();
    assert!(
        !report["cargo"]["release"]
            .as_str()
            .unwrap()
            .starts_with("1.48")
    );
    for name in ["msrvArtifacts", "test-msrv", "clippy-msrv"] {
        let msrv = phase(&report, name);
        assert_eq!(msrv["cargo"]["release"], "1.48.0", "{name}");
        assert_eq!(msrv["cargo"]["toolchain"], "1.48", "{name}");
        assert!(
            msrv["cargo"]["pinned_by"]
                .as_str()
                .unwrap()
                .contains("rust-bin.stable.\"1.48.0\".default"),
            "{msrv:#}"
        );
        assert!(
            msrv["notes"]
                .to_string()
                .contains("resolved with cargo 1.48.0"),
            "{msrv:#}"
        );
    }
    for name in ["cargoArtifacts", "default"] {
        assert!(phase(&report, name).get("cargo").is_none(), "{name}");
    }
    assert!(
        warnings(&report).iter().all(|w| !w.contains("1.48.0")),
        "{:?}",
        warnings(&report)
    );
    let units = |name: &str| phase(&report, name)["units"].clone();
    assert_eq!(units("test-msrv")["missed"], 0);
    assert!(units("test-msrv")["cached"].as_u64().unwrap() > 0);
    let clippy = phase(&report, "clippy-msrv");
    assert!(units("clippy-msrv")["missed"].as_u64().unwrap() > 0);
    assert_eq!(units("clippy-msrv")["cached"], 0);
    assert!(
        clippy["misses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["cascade_from"].is_null())
            .all(|m| m["reason"] == "toolchain"),
        "{clippy:#}"
    );
    // The two deps-only phases run the same commands: each toolchain's answers are kept.
    let answers = cached_answers(cache.path());
    let old_form = "leaf 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)";
    let new_form = "registry+https://github.com/rust-lang/crates.io-index#leaf@1.0.0";
    assert!(
        answers.iter().any(|a| a.contains(old_form)),
        "no answer of cargo 1.48"
    );
    assert!(
        answers.iter().any(|a| a.contains(new_form)),
        "no answer of the workspace's cargo"
    );
    assert_eq!(run(), report, "a warm run reads the same answers");
}

/// Every answer kept in the cache directory `dir`, as text.
fn cached_answers(dir: &std::path::Path) -> Vec<String> {
    let mut answers = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("cache dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                answers.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
            }
        }
    }
    answers
}

/// `touch` resolves what an edit recompiles in an MSRV phase with that phase's cargo, as
/// the report does: cargo 1.48 answered (its unit ids have the old form).
#[test]
fn touch_resolves_a_phase_on_an_installed_release_with_its_cargo() {
    if !common::require_toolchain(OLDEST) {
        return;
    }
    let fixture = msrv_check_fixture("1.48.0");
    crate::touch::git(&fixture.root(), &["init", "-q"]);
    crate::touch::git(&fixture.root(), &["add", "-A"]);
    crate::touch::git(&fixture.root(), &["commit", "-qm", "base"]);
    common::append(&fixture.root().join("shared/src/lib.rs"), "\n// edited\n");
    let cache = tempfile::tempdir().expect("temp dir");
    let cache_dir = cache.path().display().to_string();
    let touch = json_of(run_in(
        &fixture,
        "touch",
        &["--format", "json", "--cache-dir", &cache_dir],
    ));
    let rebuilt = phase(&touch, "test-msrv");
    assert_eq!(rebuilt["rebuilds"], true, "{touch:#}");
    assert!(
        rebuilt["recompiles"].to_string().contains("shared"),
        "{touch:#}"
    );
    let old_form = "leaf 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)";
    assert!(
        cached_answers(cache.path())
            .iter()
            .any(|a| a.contains(old_form)),
        "no answer of cargo 1.48"
    );
}

/// `verify` builds an MSRV phase with the cargo the report resolved it with: the phase
/// inheriting the workspace toolchain's artifacts rebuilds every unit, as predicted, and the
/// one on its own deps-only rebuilds none.
#[test]
fn verify_builds_a_phase_on_an_installed_release_with_its_cargo() {
    if !common::require_toolchain(OLDEST) {
        return;
    }
    let fixture = msrv_check_fixture("1.48.0");
    let report = json_of(run_in(&fixture, "verify", &["--check", "--format", "json"]));
    for phase in report["phases"].as_array().expect("phases") {
        let agreement = &phase["agreement"];
        for side in ["predicted_only", "measured_only"] {
            assert_eq!(agreement[side], serde_json::json!([]), "{phase:#}");
        }
    }
    let measured = |name: &str| phase(&report, name)["measured"].as_array().unwrap().len();
    assert!(measured("clippy-msrv") > 0, "{report:#}");
    assert_eq!(measured("test-msrv"), 0, "{report:#}");
}

/// A release whose cargo cannot resolve (installed but older than 1.48), or that rustup
/// lacks: its phases are resolved with the workspace's cargo, and a warning names them,
/// the release and why.
#[test]
fn a_phase_on_a_release_that_cannot_resolve_is_warned_about() {
    if !common::require_toolchain(TOO_OLD) {
        return;
    }
    for (release, why) in [
        (
            "1.47.0",
            "whose rustup toolchain `1.47` is installed, but its cargo 1.47.0 is older than 1.48",
        ),
        (
            "1.1.0",
            "which rustup has not installed, so they were resolved with cargo ",
        ),
    ] {
        let report = json_of(report_in(
            &msrv_check_fixture(release),
            &["--format", "json"],
        ));
        let named =
            format!("`msrvArtifacts`, `test-msrv` and `clippy-msrv` build with Rust {release} (");
        let all = warnings(&report);
        let warning = all
            .iter()
            .find(|w| w.contains(&named))
            .unwrap_or_else(|| panic!("no warning for {release}: {all:?}"));
        assert!(warning.contains(why), "{warning}");
        assert!(phase(&report, "test-msrv").get("cargo").is_none());
    }
}

/// A lib that follows a channel (`nightlyToolchain = pkgs.rust-bin.nightly.latest.default`,
/// the binding followed) while the workspace pins a stable release: its phases are
/// resolved with the pinned cargo, and a warning says so, and that no toolchain matches
/// a channel's newest release exactly.
#[test]
fn a_phase_on_another_channel_than_the_pinned_cargo_is_warned_about() {
    if !common::require_toolchain(OLDEST) {
        return;
    }
    let fixture = msrv_check_fixture("1.48.0");
    let flake = fixture.root().join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap().replace(
        "craneLibMsrv = (crane.mkLib pkgs).overrideToolchain (p: rust-bin.stable.\"1.48.0\".default);",
        "nightlyToolchain = pkgs.rust-bin.nightly.latest.default;\n      craneLibMsrv = (crane.mkLib pkgs).overrideToolchain nightlyToolchain;",
    );
    assert!(text.contains("nightlyToolchain"));
    std::fs::write(&flake, text).unwrap();
    let file = pin(&fixture, OLDEST);
    let report = json_of(report_in(&fixture, &["--format", "json"]));
    let all = warnings(&report);
    let warning = all
        .iter()
        .find(|w| w.contains("build with rust-overlay's nightly ("))
        .unwrap_or_else(|| panic!("no warning: {all:?}"));
    assert!(
        warning.contains(&format!(
            "were resolved with cargo 1.48.0 (pinned by {}) instead",
            file.display()
        )),
        "{warning}"
    );
    assert!(
        warning.contains("no toolchain can be installed to match it exactly"),
        "{warning}"
    );
    assert!(all.iter().all(|w| !w.contains("`default`")), "{all:?}");
}
