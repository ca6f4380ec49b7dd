//! Workspaces whose package ids take every form cargo writes: a git dependency (whose
//! unit id leaves the name and the commit out), and the old `name version (source)` form
//! of a cargo older than 1.77.

mod common;

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
