//! Issue 21's reproducers through the real binary: untrusted names in a CI log and a step
//! summary, cleanup on SIGINT/SIGTERM, git paths read exactly, users' numbers and files
//! validated, and `touch` at scale.

use crate::common;

use std::fs;

use cache_miss::fuzzing::workflow_commands;
use common::Fixture;

/// A one-line TOML basic string holding `text`.
pub fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `select` fixture with its phase `old` (`deps` or `cli`) renamed `new`.
fn select_with_phase_named(old: &str, new: &str) -> Fixture {
    let phases = fs::read_to_string(common::fixtures_dir().join("select/phases.toml"))
        .unwrap()
        .replace(
            &format!("[phases.{old}]"),
            &format!("[phases.{}]", toml_string(new)),
        )
        .replace(&format!("\"{old}\""), &toml_string(new));
    Fixture::with_phases("select", &phases)
}

/// The commands the runner runs from `log` are the annotations (the phase `cli`'s and the
/// selection-mismatch finding's), then the tables between stop and resume.
fn assert_only_own_commands(log: &str) {
    let commands = workflow_commands(log);
    let names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{commands:?}\n{log}");
    for annotation in &commands[..2] {
        assert_eq!(annotation.name, "warning", "{log}");
        assert_eq!(annotation.properties.len(), 1, "{annotation:?}");
        assert!(
            annotation.properties[0].1.starts_with("cache-miss: "),
            "{annotation:?}"
        );
    }
    assert_eq!(names[2], "stop-commands");
    assert_eq!(names[3], commands[2].data, "resumed with the same token");
    assert!(commands[2].data.len() >= 32, "{:?}", commands[2]);
}

const INJECTION: &str = "::set-output name=pwned::owned";
const IMG: &str = "a`<img src=https://evil.example/p.png>`##[add-mask]x";

#[test]
fn a_phase_named_as_a_workflow_command_runs_none_in_the_log() {
    let fixture = select_with_phase_named("cli", INJECTION);
    let summary = fixture.dir.path().join("summary.md");
    let output = common::cache_miss()
        .args(["report", "--format", "github", "--manifest-path"])
        .arg(fixture.manifest())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let log = String::from_utf8(output).unwrap();
    assert_only_own_commands(&log);
    assert!(log.contains("\\::set-output name=pwned::owned"), "{log}");
    // Without stop-commands too, no line would run.
    let human = log.split_once("::stop-commands::").unwrap().1;
    let lines: Vec<&str> = human.lines().collect();
    let inner = lines[1..lines.len() - 1].join("\n");
    assert_eq!(workflow_commands(&inner), vec![], "{inner}");
    let markdown = fs::read_to_string(&summary).unwrap();
    assert!(
        markdown.contains("::set-output name=pwned::owned"),
        "{markdown}"
    );
}

#[test]
fn a_phase_name_with_html_puts_no_tag_in_the_step_summary() {
    let fixture = select_with_phase_named("deps", IMG);
    let summary = fixture.dir.path().join("summary.md");
    let log = common::cache_miss()
        .args(["report", "--format", "github", "--manifest-path"])
        .arg(fixture.manifest())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_only_own_commands(&String::from_utf8(log).unwrap());
    for text in [
        fs::read_to_string(&summary).unwrap(),
        fixture.report_text(&["--format", "markdown"]),
    ] {
        assert!(!text.contains("<img"), "{text}");
        assert!(
            text.contains("a&#96;&lt;img src=https://evil.example/p.png&gt;&#96;"),
            "{text}"
        );
        for line in text.lines().filter(|l| l.starts_with("| ")) {
            assert!(!line.contains('`'), "{line}");
        }
    }
}

#[test]
fn a_workspace_path_holding_esc_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("ws\u{1b}7");
    common::copy_dir(
        &common::fixtures_dir().join("registry"),
        &parent.join("registry"),
    );
    common::copy_dir(&common::fixtures_dir().join("clean"), &parent.join("clean"));
    let root = parent.join("clean");
    let out = common::cache_miss()
        .args(["phases", "--format", "json"])
        .current_dir(&root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(!json["phases"].as_array().unwrap().is_empty(), "{json}");
    let report = common::cache_miss()
        .args(["report", "--format", "json"])
        .current_dir(&root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    let shown = report["workspace_root"].as_str().unwrap();
    assert!(shown.ends_with("ws\u{1b}7/clean"), "{shown:?}");
}

/// The `select` fixture's recorded costs file with every unit's seconds set to `seconds`.
fn costs_with_seconds(fixture: &Fixture, seconds: &str) -> std::path::PathBuf {
    let recorded =
        fs::read_to_string(common::fixtures_dir().join("costs/select.costs.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    let text = {
        for unit in json["units"].as_array_mut().unwrap() {
            unit["seconds"] = serde_json::Value::from(0);
        }
        serde_json::to_string(&json)
            .unwrap()
            .replace("\"seconds\":0", &format!("\"seconds\":{seconds}"))
    };
    let path = fixture.dir.path().join(format!("costs{seconds}.json"));
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn negative_or_absurd_seconds_are_exit_2_with_the_reason() {
    let fixture = Fixture::new("select");
    for (seconds, shown) in [("-700", "-700.0 seconds"), ("1e300", "1e300 seconds")] {
        let file = costs_with_seconds(&fixture, seconds);
        fixture
            .report(&["--costs", file.to_str().unwrap()])
            .code(2)
            .stdout("")
            .stderr(predicates::str::contains(shown))
            .stderr(predicates::str::contains("is not a compile time"));
    }
    // In range, the phase's total is a number of seconds, never `null`.
    let file = costs_with_seconds(&fixture, "1e7");
    let report = fixture.report_json(&["--costs", file.to_str().unwrap()]);
    let cli = common::phase(&report, "cli");
    assert_eq!(cli["measured_misses"], 4);
    assert_eq!(cli["seconds"], 4e7, "{cli:#}");
}

#[test]
fn costs_and_baselines_over_64_mib_are_exit_2_unread() {
    let fixture = Fixture::new("select");
    let huge = fixture.dir.path().join("huge.json");
    fs::File::create(&huge)
        .unwrap()
        .set_len(488 * 1024 * 1024)
        .unwrap();
    for option in ["--costs", "--baseline"] {
        let started = std::time::Instant::now();
        fixture
            .report(&[option, huge.to_str().unwrap()])
            .code(2)
            .stderr(predicates::str::contains(option))
            .stderr(predicates::str::contains(
                "511,705,088 bytes, over the 64 MiB that cache-miss reads",
            ));
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}

mod touch_paths {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use crate::common::cache_miss;
    use crate::touch::{git, rebuilds, repository, touch_json};

    /// The phases a file of `core/data` rebuilds (deps-only's dummy source has none).
    fn assert_data_file_rebuilds(report: &serde_json::Value, shown: &str) {
        assert_eq!(report["files"], serde_json::json!([shown]), "{report:#}");
        for phase in ["default", "clippy", "docs"] {
            assert!(rebuilds(report, phase), "{phase}: {report:#}");
        }
        assert!(!rebuilds(report, "deps"));
    }

    #[test]
    fn a_name_git_would_quote_is_read_exactly() {
        let fixture = repository();
        let data = fixture.root().join("core/data");
        for name in ["é \"q\"\\.txt", "tab\there.txt"] {
            std::fs::write(data.join(name), "a\n").unwrap();
        }
        git(fixture.dir.path(), &["add", "-A"]);
        git(fixture.dir.path(), &["commit", "-qm", "names"]);
        std::fs::write(data.join("é \"q\"\\.txt"), "b\n").unwrap();
        let edited = touch_json(&fixture, &[]);
        assert_data_file_rebuilds(&edited, "touch/core/data/é \"q\"\\.txt");
        std::fs::write(data.join("tab\there.txt"), "b\n").unwrap();
        let named = touch_json(&fixture, &["core/data/tab\there.txt"]);
        assert_data_file_rebuilds(&named, "touch/core/data/tab\\there.txt");
    }

    #[test]
    fn a_name_that_is_not_utf8_is_matched_and_shown_escaped() {
        let fixture = repository();
        let data = fixture.root().join("core/data");
        let name = OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(data.join(name), "a\n").unwrap();
        git(fixture.dir.path(), &["add", "-A"]);
        git(fixture.dir.path(), &["commit", "-qm", "latin-1"]);
        std::fs::write(data.join(name), "b\n").unwrap();
        let report = touch_json(&fixture, &[]);
        assert_data_file_rebuilds(&report, "touch/core/data/caf\\xe9.txt");
        let table = cache_miss()
            .current_dir(fixture.root())
            .arg("touch")
            .arg(std::path::Path::new("core/data").join(name))
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let table = String::from_utf8(table).expect("UTF-8 output");
        assert!(
            table.contains("core/data/caf\\xe9.txt is in its src"),
            "{table}"
        );
    }

    #[test]
    fn a_directory_means_every_tracked_file_under_it() {
        let fixture = repository();
        let report = touch_json(&fixture, &["core/data"]);
        assert_data_file_rebuilds(&report, "touch/core/data/words.txt");
        let report = touch_json(&fixture, &["core"]);
        let files = report["files"].as_array().unwrap();
        assert!(files.len() >= 3, "{files:?}");
        assert!(
            files.iter().any(|f| f == "touch/core/src/lib.rs"),
            "{files:?}"
        );
        assert!(rebuilds(&report, "default"));
    }

    #[test]
    fn a_since_value_is_echoed_with_its_controls_escaped() {
        let fixture = repository();
        let output = cache_miss()
            .current_dir(fixture.root())
            .args(["touch", "--since", "x\u{1b}]0;pwned\u{7}\n::error::y"])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let stderr = String::from_utf8(output).unwrap();
        assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("`x\\u{1b}]0;pwned\\u{7}\\n::error::y` is not a revision"),
            "{stderr}"
        );
        cache_miss()
            .current_dir(fixture.root())
            .args(["touch", "--since=--output=/tmp/x"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("does not start with `-`"));
    }

    #[test]
    fn ten_thousand_changed_files_take_seconds_and_a_short_table() {
        let fixture = repository();
        let write = |text: &str| {
            for i in 0..10_000 {
                let path = fixture
                    .root()
                    .join(format!("core/data/gen/d{:02}/f{i}.txt", i % 100));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
        };
        write("base");
        git(fixture.dir.path(), &["add", "-A"]);
        git(fixture.dir.path(), &["commit", "-qm", "data"]);
        write("edited");
        let started = std::time::Instant::now();
        let report = touch_json(&fixture, &[]);
        // A debug build on a shared machine; the release bench's target is 2 s.
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        assert_eq!(report["files"].as_array().unwrap().len(), 10_000);
        let default = crate::common::phase(&report, "default");
        assert_eq!(default["causes"].as_array().unwrap().len(), 10_000);
        let table = cache_miss()
            .current_dir(fixture.root())
            .arg("touch")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let table = String::from_utf8(table).unwrap();
        assert!(table.lines().count() < 30, "{table}");
        assert!(
            table.contains("files: 10,000 files in touch/core/data/gen/ (10,000)"),
            "{table}"
        );
        assert!(table.contains("10,000 files in its src"), "{table}");
    }
}

mod vendor_outside {
    use crate::common::Fixture;
    use crate::touch::{git, touch_json};

    /// The `touch` fixture as a repository of its own: its vendor directory
    /// (`../registry`) is outside it.
    fn repository_without_the_registry() -> Fixture {
        let fixture = Fixture::new("touch");
        git(&fixture.root(), &["init", "-q"]);
        git(&fixture.root(), &["add", "-A"]);
        git(&fixture.root(), &["commit", "-qm", "base"]);
        fixture
    }

    #[test]
    fn a_vendor_directory_outside_the_repository_is_followed() {
        let fixture = repository_without_the_registry();
        let manifest = fixture.root().join("app/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{text}\n# a comment\n")).unwrap();
        let report = touch_json(&fixture, &[]);
        for phase in report["phases"].as_array().unwrap() {
            assert_eq!(phase["approximations"], serde_json::json!([]), "{phase:#}");
            assert_eq!(
                phase["resolution_changes"],
                serde_json::json!([]),
                "{phase:#}"
            );
        }
    }

    #[test]
    fn a_base_that_cargo_cannot_resolve_is_approximate_not_exit_2() {
        let fixture = repository_without_the_registry();
        let config = fixture.root().join(".cargo/config.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, text.replace("../registry", "../gone")).unwrap();
        git(
            &fixture.root(),
            &["commit", "-qam", "a vendor dir that is gone"],
        );
        std::fs::write(&config, text).unwrap();
        let report = touch_json(&fixture, &[]);
        let deps = crate::common::phase(&report, "deps");
        assert_eq!(deps["rebuilds"], true, "{deps:#}");
        let approximations = deps["approximations"].as_array().unwrap();
        assert!(
            approximations.iter().any(|a| a
                .as_str()
                .unwrap()
                .contains("cargo cannot resolve the workspace at HEAD")),
            "{approximations:?}"
        );
    }
}
