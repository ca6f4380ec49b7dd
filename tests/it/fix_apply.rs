//! `cache-miss fix --apply`: the best proposal written into the phases file or the flake's
//! own Nix files, only the attributes it changes, proven by analysing the edited files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{self, CommandExt, Fixture, fixtures_dir, flake_workspace};

/// The flake fixtures read over `demo` whose best proposal `--apply` writes.
const FLAKES: &[&str] = &[
    "blueprint",
    "common-args",
    "crane-wrapper",
    "flake-parts",
    "flake-parts-modules",
    "flake-utils-self",
    "flake-utils-variants",
    "imported",
    "merged-conditional",
    "nixpkgs-helpers",
    "not-evaluable",
    "path-arithmetic",
    "per-member",
    "quickstart",
    "quickstart-workspace",
    "shared-deps",
    "tool-inputs",
];

fn fix(fixture: &Fixture, args: &[&str]) -> assert_cmd::Command {
    let mut command = common::cache_miss();
    command
        .arg("fix")
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(args);
    command
}

/// The best proposal, and the phases no buildDepsOnly can serve (their misses are not
/// counted in its promise).
fn best(fixture: &Fixture) -> Option<(Value, Vec<String>)> {
    let output = common::cache_miss()
        .args(["fix", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .success_stdout();
    let fix: Value = serde_json::from_slice(&output).unwrap();
    let never: Vec<String> = fix["never_served"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phase"].as_str().unwrap().to_string())
        .collect();
    Some((
        fix["proposals"].as_array().unwrap().first().cloned()?,
        never,
    ))
}

/// Every file under `root`, relative, with its bytes.
fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = common::snapshot_tree(root)
        .into_iter()
        .map(|(path, bytes, _)| (path.strip_prefix(root).unwrap().to_path_buf(), bytes))
        .collect();
    out.sort();
    out
}

/// The unified diff of every file that differs between two trees, as `--apply` prints it.
fn tree_diff(before: &[(PathBuf, Vec<u8>)], after: &[(PathBuf, Vec<u8>)]) -> String {
    assert_eq!(
        before.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        after.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        "--apply added or removed a file"
    );
    let mut diff = String::new();
    for ((path, old), (_, new)) in before.iter().zip(after) {
        if old != new {
            let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
            let shown = path.display().to_string();
            diff.push_str(
                &similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
                    .unified_diff()
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
                    .to_string(),
            );
        }
    }
    diff
}

/// `--apply` on `fixture`: the verdict is the promise, the files on disk differ from the
/// originals by exactly the printed (golden) diff, a report afterwards agrees; returns the
/// changed files' paths.
fn apply_and_check(fixture: &Fixture, snapshot: &str) -> Vec<PathBuf> {
    let Some((best, never_served)) = best(fixture) else {
        panic!("{snapshot}: no proposal")
    };
    let before = files(&fixture.root());
    let stdout = fix(fixture, &["--apply", "--allow-no-vcs"]).success_stdout();
    let stdout = String::from_utf8(stdout).unwrap();
    let after = files(&fixture.root());
    let on_disk = tree_diff(&before, &after);
    assert!(!on_disk.is_empty(), "{snapshot}: nothing written");
    let promised = best["missed_after"].as_u64().unwrap();
    let verdict = format!(
        "missed {} → {promised}, as proposal 1 promised\n",
        best["missed_before"]
    );
    assert_eq!(stdout, format!("{on_disk}{verdict}"), "{snapshot}");
    insta::assert_snapshot!(snapshot, stdout);
    let report = fixture.report_json(&["--no-cache"]);
    let missed: u64 = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !never_served.iter().any(|n| p["name"] == n.as_str()))
        .map(|p| p["units"]["missed"].as_u64().unwrap())
        .sum();
    assert_eq!(missed, promised, "{snapshot}: report after --apply");
    before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0.clone())
        .collect()
}

#[test]
fn every_phases_file_fixture_with_misses_is_fixed_in_place() {
    let mut applied = 0;
    for entry in fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !fixtures_dir().join(&name).join("phases.toml").is_file()
            || !fixtures_dir().join(&name).join("Cargo.lock").is_file()
        {
            continue;
        }
        let fixture = Fixture::new(&name);
        if best(&fixture).is_none_or(|(b, _)| b["missed_before"] == 0) {
            continue;
        }
        let changed = apply_and_check(&fixture, &format!("apply-{name}"));
        assert_eq!(changed, [PathBuf::from("phases.toml")], "{name}");
        applied += 1;
    }
    assert!(applied >= 5, "only {applied} fixtures had misses");
}

#[test]
fn every_flake_fixture_with_misses_is_fixed_in_its_own_files() {
    let nix_instantiate = common::require_tool(
        "nix-instantiate",
        "apt-get install nix-bin (checks that every edited .nix file parses)",
    );
    for flake in FLAKES {
        let fixture = flake_workspace(flake);
        let changed = apply_and_check(&fixture, &format!("apply-flake-{flake}"));
        for path in changed
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "nix"))
        {
            let Some(nix_instantiate) = &nix_instantiate else {
                continue;
            };
            let output = Command::new(nix_instantiate)
                .arg("--parse")
                .arg(fixture.root().join(path))
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{flake}: {} does not parse: {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// The split proposal: a new buildDepsOnly binding beside the old one, phases pointed at
/// it, `inherit cargoArtifacts;` turned into a binding.
#[test]
fn a_split_becomes_new_bindings_and_the_phases_point_to_them() {
    for (flake, n) in [("common-args", "2"), ("quickstart", "2")] {
        let fixture = flake_workspace(flake);
        let stdout = fix(&fixture, &["--apply", n, "--allow-no-vcs"]).success_stdout();
        let stdout = String::from_utf8(stdout).unwrap();
        assert!(
            stdout.ends_with("→ 0, as proposal 2 promised\n"),
            "{stdout}"
        );
        insta::assert_snapshot!(format!("apply-split-{flake}"), stdout);
    }
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let fixture = flake_workspace("common-args");
    let before = files(&fixture.root());
    let stdout = fix(&fixture, &["--apply", "--dry-run"]).success_stdout();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(
        stdout.starts_with("--- a/flake.nix\n+++ b/flake.nix\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("missed"), "{stdout}");
    assert_eq!(files(&fixture.root()), before);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn files_outside_git_or_with_uncommitted_changes_are_refused() {
    let fixture = flake_workspace("common-args");
    let before = files(&fixture.root());
    fix(&fixture, &["--apply"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not in a git repository"))
        .stderr(predicates::str::contains("--allow-no-vcs"));
    assert_eq!(files(&fixture.root()), before);
    git(&fixture.root(), &["init", "-q"]);
    git(&fixture.root(), &["add", "-A"]);
    git(&fixture.root(), &["commit", "-qm", "x"]);
    common::append(&fixture.root().join("flake.nix"), "# local change\n");
    fix(&fixture, &["--apply"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "flake.nix has uncommitted changes",
        ));
    let stdout = fix(&fixture, &["--apply", "--allow-dirty"]).success_stdout();
    assert!(String::from_utf8(stdout).unwrap().contains("missed 29 → 0"));
    // A clean work tree needs no flag.
    let clean = flake_workspace("imported");
    git(&clean.root(), &["init", "-q"]);
    git(&clean.root(), &["add", "-A"]);
    git(&clean.root(), &["commit", "-qm", "x"]);
    fix(&clean, &["--apply"]).assert().success();
}

/// A call that makes several phases cannot be edited for one of them: said, with the
/// snippet, and nothing written.
#[test]
fn a_call_it_cannot_edit_is_named_with_the_snippet_and_nothing_is_written() {
    let fixture = flake_workspace("cross-packages");
    let before = files(&fixture.root());
    let stdout = fix(&fixture, &["--apply", "--allow-no-vcs"]).success_stdout();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(stdout.starts_with("cannot edit the files"), "{stdout}");
    assert!(
        stdout.contains("nix/crates.nix:13): the same call makes the phases"),
        "{stdout}"
    );
    assert!(
        stdout.contains("craneLib.buildDepsOnly (commonArgs // {"),
        "{stdout}"
    );
    assert_eq!(files(&fixture.root()), before);
}

/// A flake whose crane calls are made by a flake input's function: nothing of it can be
/// edited; the reason names the input, the snippet is printed, nothing is written.
#[test]
fn calls_made_by_a_flake_input_are_not_edited() {
    let fixture = flake_workspace("input-function");
    let before = files(&fixture.root());
    let stdout = fix(&fixture, &["--apply", "--allow-no-vcs"]).success_stdout();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(stdout.starts_with("cannot edit the files"), "{stdout}");
    assert!(
        stdout.contains("the flake input `crane-wrapper`"),
        "{stdout}"
    );
    assert!(stdout.contains("make the change by hand:"), "{stdout}");
    assert_eq!(files(&fixture.root()), before);
}
