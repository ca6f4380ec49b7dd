//! At home in CI: misses weighed by measured seconds, a baseline that fails only on what a
//! change made worse, GitHub annotations on the Nix line, folded markdown, completions and
//! progress lines in logs.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{CommandExt, Fixture};
use predicates::prelude::*;
use serde_json::Value;

fn costs_fixture(name: &str) -> PathBuf {
    common::fixtures_dir().join("costs").join(name)
}

/// The `seconds` of every miss of a phase, by package.
fn miss_seconds(phase: &Value) -> Vec<(String, Option<f64>)> {
    phase["misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["package"].as_str().unwrap().to_string(),
                m["seconds"].as_f64(),
            )
        })
        .collect()
}

/// `name` → `duration` of the recorded timing page's units.
fn timing_page_durations() -> Vec<(String, Vec<String>, f64)> {
    let html = fs::read_to_string(costs_fixture("select-cli.cargo-timing.html")).unwrap();
    let data = html.split("UNIT_DATA = ").nth(1).unwrap();
    let units: Vec<Value> = serde_json::Deserializer::from_str(data)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    units
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_string(),
                serde_json::from_value(u["features"].clone()).unwrap(),
                u["duration"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_recorded_cargo_timing_page_weighs_every_miss_it_measured() {
    let fixture = Fixture::new("select");
    let page = costs_fixture("select-cli.cargo-timing.html");
    let report = fixture.report_json(&["--costs", page.to_str().unwrap()]);
    assert_eq!(report["costs"], "cargo-timings");
    let cli = common::phase(&report, "cli");
    assert_eq!(cli["measured_misses"], 4);
    let durations = timing_page_durations();
    let mut total = 0.0;
    for miss in cli["misses"].as_array().unwrap() {
        let features: Vec<String> = serde_json::from_value(miss["features"].clone()).unwrap();
        let recorded = durations
            .iter()
            .find(|(name, f, _)| name == miss["package"].as_str().unwrap() && *f == features)
            .unwrap_or_else(|| panic!("{miss:#} is on the page"));
        assert_eq!(
            miss["seconds"].as_f64(),
            Some(recorded.2),
            "{}",
            miss["package"]
        );
        total += recorded.2;
    }
    assert!((cli["seconds"].as_f64().unwrap() - total).abs() < 1e-9);
    // deps builds from scratch: no misses, so nothing to weigh, but a total of 0.
    assert_eq!(common::phase(&report, "deps")["seconds"], 0.0);

    let text = fixture.report_text(&["--costs", page.to_str().unwrap()]);
    assert!(
        text.contains("cli rebuilds 4 dependency units, 0.") && text.contains("(4 of 4 measured)"),
        "{text}"
    );
}

#[test]
fn rows_are_ordered_by_seconds() {
    let fixture = Fixture::new("select");
    let page = costs_fixture("select-cli.cargo-timing.html");
    let text = fixture.report_text(&["--costs", page.to_str().unwrap(), "--format", "markdown"]);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(" (build) | "))
        .collect();
    let seconds: Vec<f64> = rows
        .iter()
        .map(|row| {
            let cell = row.trim_end_matches(" |").rsplit(" | ").next().unwrap();
            cell.trim_end_matches(" s").parse().unwrap()
        })
        .collect();
    assert_eq!(seconds.len(), 4, "{text}");
    assert!(
        seconds.windows(2).all(|w| w[0] >= w[1]),
        "{seconds:?}\n{text}"
    );
}

#[test]
fn a_miss_without_a_measurement_is_unknown_never_guessed() {
    // The page measured the `cli` phase's build units; clippy checks (another mode).
    let fixture = Fixture::new("demo");
    let page = costs_fixture("select-cli.cargo-timing.html");
    let report = fixture.report_json(&["--costs", page.to_str().unwrap()]);
    let cli = common::phase(&report, "cli");
    assert_eq!(cli["measured_misses"], 4);
    let clippy = common::phase(&report, "clippy");
    assert_eq!(clippy["measured_misses"], 0);
    assert_eq!(clippy["seconds"], 0.0);
    for (package, seconds) in miss_seconds(clippy) {
        assert_eq!(seconds, None, "{package}");
    }
    for miss in clippy["misses"].as_array().unwrap() {
        assert!(miss["seconds"].is_null(), "present and null: {miss:#}");
    }
    let text = fixture.report_text(&["--costs", page.to_str().unwrap()]);
    assert!(
        text.contains(
            "clippy rebuilds 5 dependency units, 0.00 s of compile time (0 of 5 measured)"
        ),
        "{text}"
    );
    assert!(text.contains("unknown"), "{text}");
}

#[test]
fn without_costs_the_json_has_no_seconds() {
    let report = Fixture::new("select").report_json(&[]);
    let cli = common::phase(&report, "cli");
    assert!(cli.get("seconds").is_none());
    assert!(cli["misses"][0].get("seconds").is_none());
    assert!(report.get("costs").is_none());
}

#[test]
fn a_recorded_costs_file_from_verify_weighs_the_report() {
    let fixture = Fixture::new("select");
    let file = costs_fixture("select.costs.json");
    let report = fixture.report_json(&["--costs", file.to_str().unwrap()]);
    assert_eq!(report["costs"], "verify");
    let cli = common::phase(&report, "cli");
    assert_eq!(cli["measured_misses"], 4);
    for (package, seconds) in miss_seconds(cli) {
        assert!(seconds.unwrap() > 0.0, "{package}");
    }
}

#[test]
fn verify_saves_costs_that_a_later_report_reuses() {
    let fixture = Fixture::new("select");
    let costs = fixture.dir.path().join("costs.json");
    let output = common::cache_miss()
        .args(["verify", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .arg("--save-costs")
        .arg(&costs)
        .success_stdout();
    let verified: Value = serde_json::from_slice(&output).unwrap();
    let verify_json = fixture.dir.path().join("verify.json");
    fs::write(&verify_json, &output).unwrap();
    let measured: Vec<&Value> = common::phase(&verified, "cli")["measured"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(measured.len(), 4);
    for file in [&costs, &verify_json] {
        let report = fixture.report_json(&["--costs", file.to_str().unwrap()]);
        let cli = common::phase(&report, "cli");
        assert_eq!(cli["measured_misses"], 4, "{}", file.display());
        for miss in cli["misses"].as_array().unwrap() {
            let unit = measured
                .iter()
                .find(|u| u["package"] == miss["package"] && u["features"] == miss["features"])
                .unwrap_or_else(|| panic!("{miss:#} measured"));
            assert_eq!(miss["seconds"], unit["seconds"]);
        }
    }
}

#[test]
fn a_costs_file_that_is_none_of_the_three_is_exit_2() {
    let fixture = Fixture::new("select");
    let bogus = fixture.dir.path().join("bogus.json");
    fs::write(&bogus, "{\"hello\": 1}").unwrap();
    fixture
        .report(&["--costs", bogus.to_str().unwrap()])
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("--costs"))
        .stderr(predicate::str::contains("neither a costs file"));
    fixture
        .report(&["--costs", "/nonexistent/cargo-timing.html"])
        .code(2)
        .stderr(predicate::str::contains("cannot read it"));
}

/// Writes the fixture's phases.toml with the deps-only phase's selection.
fn select_deps(fixture: &Fixture, selection: &str) {
    let text = format!(
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ncargoExtraArgs = \"{selection}\"\ndoCheck = false\n\n\
         [phases.cli]\nfunction = \"buildPackage\"\ncargoArtifacts = \"deps\"\ncargoExtraArgs = \"--locked -p cli\"\ndoCheck = false\n"
    );
    fs::write(fixture.root().join("phases.toml"), text).unwrap();
}

/// Saves the fixture's current JSON report as the baseline file `name`.
fn save_baseline(fixture: &Fixture, name: &str, extra: &[&str]) -> PathBuf {
    let path = fixture.dir.path().join(name);
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let output = fixture.report(&args).success().get_output().stdout.clone();
    fs::write(&path, output).unwrap();
    path
}

#[test]
fn a_baseline_with_the_same_misses_passes_fail_on_miss() {
    let fixture = Fixture::new("select");
    let baseline = save_baseline(&fixture, "baseline.json", &[]);
    let base = baseline.to_str().unwrap();
    // Without a baseline the known misses fail; with it, only new ones would.
    fixture.report(&["--fail-on-miss"]).code(1);
    let output = fixture
        .report(&["--baseline", base, "--fail-on-miss"])
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.contains("no phase changed"), "{text}");
    let report = fixture.report_json(&["--baseline", base]);
    let cli = report["baseline"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cli")
        .unwrap();
    assert_eq!(cli["missed_before"], 4);
    assert_eq!(cli["missed_now"], 4);
    assert_eq!(cli["new_misses"].as_array().unwrap().len(), 0);
}

#[test]
fn a_new_miss_fails_and_a_miss_gone_passes() {
    let fixture = Fixture::new("select");
    // The fixed state: deps-only selects what cli builds, so cli misses nothing.
    select_deps(&fixture, "--locked -p cli");
    let fixed = save_baseline(&fixture, "fixed.json", &[]);
    select_deps(&fixture, "--locked -p app");

    // The change brings the misses back: new misses, exit 1 with --fail-on-miss.
    let assert = fixture.report(&["--baseline", fixed.to_str().unwrap(), "--fail-on-miss"]);
    let text = String::from_utf8(assert.code(1).get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("cli: 4 new misses, 0 gone (missed 0 -> 4) GAINED"),
        "{text}"
    );
    assert!(text.contains("new: "), "{text}");
    let report = fixture.report_json(&["--baseline", fixed.to_str().unwrap()]);
    let cli = &report["baseline"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cli")
        .unwrap()
        .clone();
    let new: Vec<&str> = cli["new_misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        new.contains(&"leaf@1.0.0 (build, features extra)"),
        "{new:?}"
    );
    assert_eq!(new.len(), 4);

    // And the other way: from the broken baseline, the fix makes them gone; no failure.
    let broken = save_baseline(&fixture, "broken.json", &[]);
    select_deps(&fixture, "--locked -p cli");
    let assert = fixture.report(&["--baseline", broken.to_str().unwrap(), "--fail-on-miss"]);
    let text = String::from_utf8(assert.success().get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("cli: 0 new misses, 4 gone (missed 4 -> 0)"),
        "{text}"
    );
    assert!(!text.contains("GAINED"), "{text}");
}

#[test]
fn with_costs_a_phase_that_gained_seconds_fails() {
    let fixture = Fixture::new("select");
    let page = costs_fixture("select-cli.cargo-timing.html");
    let file = costs_fixture("select.costs.json");
    // Same misses; the verify run measured them slower than the timing page.
    let baseline = save_baseline(&fixture, "page.json", &["--costs", page.to_str().unwrap()]);
    let base = baseline.to_str().unwrap();
    let assert = fixture.report(&[
        "--baseline",
        base,
        "--costs",
        file.to_str().unwrap(),
        "--fail-on-miss",
    ]);
    let text = String::from_utf8(assert.code(1).get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("cli: 0 new misses, 0 gone (missed 4 -> 4, 0."),
        "{text}"
    );
    assert!(text.contains(" of compile time) GAINED"), "{text}");
    // The other way round, the phase got faster: no failure.
    let slower = save_baseline(
        &fixture,
        "verify.json",
        &["--costs", file.to_str().unwrap()],
    );
    fixture
        .report(&[
            "--baseline",
            slower.to_str().unwrap(),
            "--costs",
            page.to_str().unwrap(),
            "--fail-on-miss",
        ])
        .success();
}

#[test]
fn a_baseline_of_another_contract_version_is_exit_2() {
    let fixture = Fixture::new("select");
    let baseline = save_baseline(&fixture, "baseline.json", &[]);
    let mut json: Value = serde_json::from_slice(&fs::read(&baseline).unwrap()).unwrap();
    json["version"] = Value::from(2);
    fs::write(&baseline, serde_json::to_string(&json).unwrap()).unwrap();
    fixture
        .report(&["--baseline", baseline.to_str().unwrap()])
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("contract version 2"))
        .stderr(predicate::str::contains("reads version 1"));
}

#[test]
fn a_baseline_of_another_workspace_is_exit_2() {
    let demo = Fixture::new("demo");
    let baseline = save_baseline(&demo, "demo.json", &[]);
    let select = Fixture::new("select");
    select
        .report(&["--baseline", baseline.to_str().unwrap(), "--fail-on-miss"])
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("a report of another workspace"))
        .stderr(predicate::str::contains(demo.root().to_str().unwrap()));
    let findings_only = demo.dir.path().join("findings.json");
    let output = demo
        .report(&["--format", "json", "--findings-only"])
        .success()
        .get_output()
        .stdout
        .clone();
    fs::write(&findings_only, output).unwrap();
    demo.report(&["--baseline", findings_only.to_str().unwrap()])
        .code(2)
        .stderr(predicate::str::contains("without `phases`"));
}

/// The demo workspace with the common-args flake beside its manifest, in a git work tree
/// rooted one directory above the workspace.
fn demo_with_flake() -> Fixture {
    let fixture = Fixture::new("demo");
    fs::remove_file(fixture.root().join("phases.toml")).unwrap();
    fs::copy(
        common::fixtures_dir().join("flakes/common-args/flake.nix"),
        fixture.root().join("flake.nix"),
    )
    .unwrap();
    fs::create_dir(fixture.dir.path().join(".git")).unwrap();
    fixture
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} in {}", file.display()))
        + 1
}

#[test]
fn github_annotations_point_at_the_nix_line_from_the_repository_root() {
    let fixture = demo_with_flake();
    let summary = fixture.dir.path().join("step-summary.md");
    fs::write(&summary, "earlier step\n").unwrap();
    let output = common::cache_miss()
        .args(["report", "--format", "github", "--manifest-path"])
        .arg(fixture.manifest())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .success_stdout();
    let text = String::from_utf8(output).unwrap();
    let flake = fixture.root().join("flake.nix");
    let clippy_line = line_of(&flake, "clippy = craneLib.cargoClippy");
    let clippy = text
        .lines()
        .find(|l| l.contains("title=cache-miss%3A clippy rebuilds 5 units"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        clippy.starts_with(&format!(
            "::warning file=demo/flake.nix,line={clippy_line},title="
        )),
        "{clippy}"
    );
    assert!(
        clippy.contains("::clippy (cargoClippy <- deps) rebuilds 5 of 9"),
        "{clippy}"
    );
    assert!(
        clippy.contains("%0A- leaf@1.0.0 (check): features"),
        "{clippy}"
    );
    assert!(!clippy.contains('\n'));
    // A finding points at the deps-only phase's line; one in Cargo.toml at the manifest.
    let deps_line = line_of(&flake, "deps = craneLib.buildDepsOnly");
    assert!(
        text.contains(&format!(
            "::warning file=demo/flake.nix,line={deps_line},title=cache-miss%3A selection-mismatch::"
        )),
        "{text}"
    );
    assert!(
        text.contains("::notice file=demo/Cargo.toml,title=cache-miss%3A dev-build-override::"),
        "{text}"
    );
    // Phases without misses have no annotation; the plain table follows.
    assert!(
        !text.contains("title=cache-miss%3A server rebuilds"),
        "{text}"
    );
    let table_start = text.find("cache-miss report\n").expect("the table follows");
    assert!(text[..table_start].lines().all(|l| l.starts_with("::")));
    assert!(text[table_start..].contains("│ clippy"), "{text}");
    // The job summary gets the markdown report, appended.
    let summary = fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("earlier step\n## cache-miss report"),
        "{summary}"
    );
    assert!(
        summary.contains("| clippy | cargoClippy | deps |"),
        "{summary}"
    );
    assert!(
        summary.contains("<details><summary>clippy: 5 root misses</summary>"),
        "{summary}"
    );
}

#[test]
fn github_format_without_a_step_summary_prints_only() {
    let fixture = demo_with_flake();
    let output = common::cache_miss()
        .args(["report", "--format", "github", "--manifest-path"])
        .arg(fixture.manifest())
        .env_remove("GITHUB_STEP_SUMMARY")
        .success_stdout();
    let text = String::from_utf8(output).unwrap();
    assert!(
        text.starts_with("::warning file=demo/flake.nix,line="),
        "{text}"
    );
}

#[test]
fn markdown_folds_each_phase_and_keeps_summary_and_fixes_visible() {
    let fixture = Fixture::new("demo");
    let text = fixture.report_text(&["--format", "markdown"]);
    let summary_table = text.find("| phase | function |").unwrap();
    let first_fold = text.find("<details>").unwrap();
    assert!(summary_table < first_fold);
    // Every fold closes before the phase's fix lines, which stay outside.
    let clippy_fold = text.find("<details><summary>clippy: ").unwrap();
    let clippy_close = clippy_fold + text[clippy_fold..].find("</details>").unwrap();
    let fold = &text[clippy_fold..clippy_close];
    assert!(fold.contains("| unit | reason |"), "{fold}");
    assert!(!fold.contains("fix: "), "{fold}");
    assert!(
        text[clippy_close..]
            .trim_start_matches("</details>")
            .trim_start()
            .starts_with("fix: ")
    );
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count()
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = common::cache_miss()
            .args(["completions", shell])
            .success_stdout();
        let text = String::from_utf8(output).unwrap();
        assert!(text.contains("cache-miss"), "{shell}");
        assert!(text.contains("--baseline"), "{shell}: {text}");
    }
    common::cache_miss()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value"));
}

#[test]
fn in_ci_each_finished_step_is_one_line_with_its_time() {
    let fixture = Fixture::new("select");
    let assert = common::cache_miss()
        .args(["report", "--manifest-path"])
        .arg(fixture.manifest())
        .env("CI", "true")
        .assert()
        .success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let steps: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("resolving unit graphs "))
        .collect();
    assert!(steps.len() >= 3, "{stderr}");
    assert!(
        steps
            .iter()
            .any(|l| l.contains("cargo build --release --locked -p cli")),
        "{stderr}"
    );
    assert!(steps.iter().all(|l| l.ends_with(" s)")), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("resolving unit graphs: ") && l.contains(" steps in ")),
        "{stderr}"
    );
    // Outside CI, a pipe gets no progress at all.
    let quiet = common::cache_miss()
        .args(["report", "--manifest-path"])
        .arg(fixture.manifest())
        .env_remove("CI")
        .assert()
        .success();
    assert!(quiet.get_output().stderr.is_empty());
}

#[test]
fn github_findings_only_annotates_the_findings_alone() {
    let fixture = demo_with_flake();
    let output = common::cache_miss()
        .args([
            "report",
            "--format",
            "github",
            "--findings-only",
            "--manifest-path",
        ])
        .arg(fixture.manifest())
        .success_stdout();
    let text = String::from_utf8(output).unwrap();
    assert!(
        text.contains("title=cache-miss%3A selection-mismatch::"),
        "{text}"
    );
    // Only the findings: no phase's "NAME rebuilds N units" title.
    assert!(
        text.lines()
            .filter(|l| l.starts_with("::"))
            .all(|l| !l.contains(" units::")),
        "{text}"
    );
    assert!(text.contains("cache-miss findings\n"), "{text}");
}
