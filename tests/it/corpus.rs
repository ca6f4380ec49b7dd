//! `corpus/rerun`: re-runs cache-miss on the clones in a directory and prints what changed
//! against a list (here a list written for a fixture, the way corpus/projects.json is for the
//! real workspaces).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{Fixture, require_tool};

fn rerun() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/rerun")
}

/// `corpus/rerun --bin <the test binary> --list LIST --only NAME DIR ARGS`.
fn run(list: &Path, fixture: &Fixture, args: &[&str]) -> std::process::Output {
    std::process::Command::new(rerun())
        .arg("--bin")
        .arg(assert_cmd::cargo::cargo_bin("cache-miss"))
        .arg("--list")
        .arg(list)
        .args(["--only", &fixture.name])
        .args(args)
        .arg(fixture.dir.path())
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
        )
        .env_remove("CI")
        .output()
        .expect("run corpus/rerun")
}

fn write_list(path: &Path, name: &str, expected: Value) {
    let list = json!({"version": 1, "projects": [{
        "name": name, "repo": null, "commit": null, "manifest": "Cargo.toml", "args": [],
        "expected": expected
    }]});
    std::fs::write(path, list.to_string()).expect("write list");
}

#[test]
fn rerun_prints_what_changed_and_records_what_it_measured() {
    if require_tool("jq", "apt-get install jq").is_none() {
        return;
    }
    let fixture = Fixture::new("select");
    let list = fixture.dir.path().join("list.json");
    write_list(
        &list,
        &fixture.name,
        json!({"exit": 0, "phases": 99, "misses": {"gone": 3}, "not_ok": {}, "listed": {"exit": 0}}),
    );

    let changed = run(&list, &fixture, &[]);
    let text = String::from_utf8_lossy(&changed.stdout);
    assert_eq!(changed.status.code(), Some(1), "{text}");
    assert!(text.contains("select: changed"), "{text}");
    assert!(text.contains("phases 99 -> "), "{text}");
    assert!(text.contains("- phase gone (was 3 misses)"), "{text}");
    assert!(text.contains("+ phase "), "{text}");

    let recorded = run(&list, &fixture, &["--record"]);
    let line = String::from_utf8_lossy(&recorded.stdout);
    let entry: Value = serde_json::from_str(line.trim()).expect("--record prints one JSON entry");
    let expected = entry["expected"].clone();
    assert_eq!(expected["exit"], 0, "{entry}");
    let report = fixture.report_json(&["--no-cache"]);
    let phases = report["phases"].as_array().expect("phases");
    assert_eq!(expected["phases"], phases.len(), "{entry}");
    for phase in phases {
        let name = phase["name"].as_str().expect("name");
        assert_eq!(
            expected["misses"][name], phase["units"]["missed"],
            "{entry}"
        );
    }

    write_list(&list, &fixture.name, expected);
    let same = run(&list, &fixture, &[]);
    let text = String::from_utf8_lossy(&same.stdout);
    assert_eq!(same.status.code(), Some(0), "{text}");
    assert!(text.contains("select: as listed"), "{text}");
}
