//! Golden files: every fixture's report and fix JSON, and every fixture flake's phases
//! written as a phases file. A change in behaviour shows as a snapshot diff to review
//! (`cargo insta review`), never as a silent change.

use std::path::Path;

use crate::common::{CommandExt, Fixture, cache_miss, fixtures_dir};

/// Output with the temp dir the fixture was copied to written as `[TMP]`, and the cargo
/// that resolved it (the machine's, and how the test runner picked it) as `[CARGO]`.
fn redacted(output: Vec<u8>, fixture: &Fixture) -> String {
    let text = String::from_utf8(output).expect("UTF-8 output");
    let text = text.replace(&fixture.dir.path().display().to_string(), "[TMP]");
    match text.split_once("\"cargo\": {") {
        Some((before, after)) => {
            let rest = after.split_once('}').map_or("", |(_, rest)| rest);
            format!("{before}\"cargo\": \"[CARGO]\"{rest}")
        }
        // A table's header line says the same.
        None => text
            .lines()
            .map(|l| match l.starts_with("cargo: ") {
                true => "cargo: [CARGO]",
                false => l,
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn run_on(fixture: &Fixture, args: &[&str], flake: Option<&Path>) -> String {
    let mut command = cache_miss();
    command
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest());
    if let Some(flake) = flake {
        command.arg("--flake").arg(flake);
    }
    redacted(command.success_stdout(), fixture)
}

macro_rules! fixture_goldens {
    ($($test:ident => $fixture:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let fixture = Fixture::new($fixture);
            let report = run_on(&fixture, &["report", "--format", "json"], None);
            insta::assert_snapshot!(concat!("report-", $fixture), report);
            let fix = run_on(&fixture, &["fix", "--format", "json"], None);
            insta::assert_snapshot!(concat!("fix-", $fixture), fix);
        }
    )*};
}

crate::common::with_every_fixture!(fixture_goldens);

macro_rules! flake_goldens {
    ($($test:ident => $case:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let demo = Fixture::new("demo");
            let flake = fixtures_dir().join("flakes").join($case).join("flake.nix");
            let args = ["phases", "--format", "toml", "--system", "x86_64-linux"];
            let phases = run_on(&demo, &args, Some(&flake));
            insta::assert_snapshot!(concat!("phases-flake-", $case), phases);
        }
    )*};
}

flake_goldens! {
    flake_quickstart => "quickstart",
    flake_quickstart_workspace => "quickstart-workspace",
    flake_common_args => "common-args",
    flake_per_member => "per-member",
    flake_mkpkg => "mkpkg",
    flake_per_package_deps => "per-package-deps",
    flake_imported => "imported",
    flake_flake_parts => "flake-parts",
    flake_unresolved => "unresolved",
    flake_toolchain => "toolchain",
    flake_nixpkgs_helpers => "nixpkgs-helpers",
    flake_flake_utils_self => "flake-utils-self",
    flake_merged_conditional => "merged-conditional",
    flake_not_evaluable => "not-evaluable",
    flake_blueprint => "blueprint",
    flake_flake_parts_modules => "flake-parts-modules",
    flake_path_arithmetic => "path-arithmetic",
    flake_utils_variants => "flake-utils-variants",
    flake_cross_packages => "cross-packages",
}

/// The phases file the flake reader writes reads back to the same phases.
#[test]
fn written_phases_files_read_back_to_the_same_phases() {
    let demo = Fixture::new("demo");
    for case in ["common-args", "per-package-deps", "toolchain"] {
        let flake = fixtures_dir().join("flakes").join(case).join("flake.nix");
        let toml = run_on(&demo, &["phases", "--format", "toml"], Some(&flake));
        let file = demo.dir.path().join(format!("{case}.toml"));
        std::fs::write(&file, toml).expect("write phases file");
        let from_flake = run_on(&demo, &["phases", "--format", "json"], Some(&flake));
        let mut command = cache_miss();
        command
            .args(["phases", "--format", "json", "--manifest-path"])
            .arg(demo.manifest())
            .arg("--phases")
            .arg(&file);
        let from_file = redacted(command.success_stdout(), &demo);
        let commands = |json: &str| {
            let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
            value["phases"]
                .as_array()
                .expect("phases")
                .iter()
                .map(|p| (p["name"].clone(), p["commands"].clone(), p["env"].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(commands(&from_flake), commands(&from_file), "{case}");
    }
}

/// A workspace at real size (twelve members, eleven phases, 130 misses): the table report
/// fits in 200 lines. It says each phase's shared cause once, shows at most 10 rows a
/// phase, names an earlier phase instead of repeating its fix or its whole table, and keeps
/// the long details for `--all` (which shows every row) and JSON.
#[test]
fn large_report_fits_on_a_screen() {
    let fixture = Fixture::new("large");
    let report = run_on(&fixture, &["report"], None);
    let all = run_on(&fixture, &["report", "--all"], None);
    assert!(
        report.lines().count() < 200,
        "{} lines:\n{report}",
        report.lines().count()
    );
    assert!(all.lines().count() > report.lines().count());
    assert!(report.contains("cause of every row: this phase: the default members (12)"));
    assert!(report.contains("the default members (12): member-01, member-02,"));
    assert!(report.contains("the same root misses, causes and fixes as `nextest`."));
    assert!(report.contains("fix: the same as for `clippy`"));
    assert!(
        all.contains("debug_assertions") && !report.contains("debug_assertions"),
        "the profile settings that differ are listed with --all only"
    );
    insta::assert_snapshot!("report-table-large", report);
}
