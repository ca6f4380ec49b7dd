//! `cache-miss report` on every fixture scenario, through the real binary and real cargo.

use crate::common;

use serde_json::json;

use common::CommandExt;

use common::{Fixture, fix_steps, misses, pairs, phase, root_misses};

#[test]
fn package_selection_differs() {
    let report = Fixture::new("select").report_json(&[]);
    let cli = phase(&report, "cli");
    assert_eq!(
        misses(cli),
        pairs(&[
            ("clionly", "not-built"),
            ("leaf", "features"),
            ("mid", "features"),
            ("top", "features")
        ])
    );
    assert_eq!(cli["units"]["missed"], 4);
    let top = &cli["misses"][3];
    assert_eq!(
        top["detail"],
        "deps-only built [] ; this phase needs [full]"
    );
    assert_eq!(top["requested_by"][0], "cli -> top (features: full)");
    assert_eq!(top["cause"], "this phase: -p cli; deps-only: -p app");
    assert!(
        top["fix"]
            .as_str()
            .unwrap()
            .contains("cargoExtraArgs = \"--locked -p cli\""),
        "{top}"
    );
    let leaf = &cli["misses"][1];
    assert_eq!(
        leaf["requested_by"][0],
        "cli -> top -> mid -> leaf (features: extra)"
    );
    assert_eq!(phase(&report, "deps")["units"]["missed"], 0);
    assert!(phase(&report, "deps")["artifacts_from"].is_null());
}

#[test]
fn dev_dependencies_missing_when_deps_only_skips_checks() {
    let report = Fixture::new("dev-deps").report_json(&[]);
    for name in ["tests", "nextest", "doctest"] {
        let tests = phase(&report, name);
        assert_eq!(
            misses(tests),
            pairs(&[("leaf", "features"), ("testkit", "not-built")]),
            "{name}"
        );
        let leaf = &tests["misses"][0];
        assert_eq!(
            leaf["requested_by"][0],
            "lib -[dev]-> testkit -> leaf (features: alloc)"
        );
        assert_eq!(fix_steps(leaf)[0], "keep-do-check", "{leaf}");
        assert_eq!(leaf["remedy"]["deps_phase"], "deps");
        assert_eq!(leaf["evidence"]["added"], json!(["alloc"]));
    }
    assert_eq!(
        phase(&report, "nextest")["commands"][1],
        "cargo nextest run --cargo-profile release"
    );
}

#[test]
fn all_features_in_clippy_only() {
    let report = Fixture::new("all-features").report_json(&[]);
    let clippy = phase(&report, "clippy");
    assert_eq!(
        misses(clippy),
        pairs(&[("leaf", "features"), ("mid", "features")])
    );
    assert!(
        clippy["misses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["mode"] == "check")
    );
    assert_eq!(clippy["misses"][1]["cause"], "this phase: --all-features");
    assert_eq!(
        clippy["misses"][1]["trigger"],
        json!({"kind": "selection", "phase": ["--all-features"], "deps_only": []})
    );
    assert_eq!(fix_steps(&clippy["misses"][1]), ["add-all-features"]);
}

#[test]
fn profile_and_profile_overrides_differ() {
    let report = Fixture::new("profile").report_json(&[]);
    let pkg = phase(&report, "pkg");
    assert_eq!(misses(pkg), pairs(&[("leaf", "profile")]));
    assert_eq!(
        pkg["misses"][0]["cause"],
        "this phase: CARGO_PROFILE=ci; deps-only: CARGO_PROFILE=release"
    );
    let evidence = &pkg["misses"][0]["evidence"];
    assert_eq!(evidence["kind"], "profile");
    assert!(
        evidence["changes"]
            .as_array()
            .unwrap()
            .contains(&json!({"setting": "opt_level", "built": "3", "needed": "1"})),
        "{evidence}"
    );
    // CARGO_PROFILE=ci on the shared buildDepsOnly would make the other phases miss: the
    // same change on a buildDepsOnly of pkg's own, which holds.
    assert_eq!(
        pkg["misses"][0]["remedy"]["steps"],
        json!([{"kind": "own-deps-only", "name": "deps-pkg", "steps": [
            {"kind": "same-profile", "profile": "ci"}
        ], "attrs": ["CARGO_PROFILE = \"ci\""]}])
    );
    assert_eq!(
        pkg["misses"][0]["remedy"]["check"],
        json!({"result": "holds"})
    );
    let lto = phase(&report, "lto");
    assert_eq!(misses(lto), pairs(&[("leaf", "profile")]));
    assert_eq!(
        lto["misses"][0]["cause"],
        "this phase: CARGO_PROFILE_RELEASE_LTO=fat"
    );
    assert_eq!(lto["env"]["CARGO_PROFILE_RELEASE_LTO"], "fat");
    let bench = phase(&report, "bench");
    assert_eq!(misses(bench), pairs(&[]));
    assert_eq!(bench["units"]["cached"], 1);
}

#[test]
fn target_platform_differs() {
    let report = Fixture::new("platform").report_json(&[]);
    for name in ["cross", "hosttriple"] {
        let p = phase(&report, name);
        assert_eq!(
            misses(p),
            pairs(&[
                ("buildy", "platform"),
                ("buildy", "platform"),
                ("leaf", "platform")
            ]),
            "{name}"
        );
        // The build script's own compilation is a host unit: still cached.
        assert_eq!(p["units"]["cached"], 1, "{name}");
    }
    let cross = phase(&report, "cross");
    assert!(
        cross["misses"][2]["detail"]
            .as_str()
            .unwrap()
            .contains("aarch64-unknown-linux-gnu")
    );
    assert!(
        cross["misses"][2]["fix"]
            .as_str()
            .unwrap()
            .contains("--target aarch64-unknown-linux-gnu")
    );
}

#[test]
fn rustflags_on_one_phase_miss_everything() {
    let report = Fixture::new("rustflags").report_json(&[]);
    let loom = phase(&report, "loom");
    assert_eq!(
        misses(loom),
        pairs(&[("leaf", "rustflags"), ("macroz", "rustflags")])
    );
    assert_eq!(loom["units"]["cached"], 0);
    assert_eq!(
        loom["misses"][0]["cause"],
        "this phase: RUSTFLAGS=--cfg loom; deps-only: no rustflags"
    );
    let host = phase(&report, "hostflags");
    assert_eq!(misses(host), misses(loom));
    assert_eq!(
        host["misses"][0]["cause"],
        "this phase: CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS=--cfg loom; deps-only: no rustflags"
    );
}

#[test]
fn a_crate_in_another_role_is_blamed_on_the_selection() {
    let report = Fixture::new("roles").report_json(&[]);
    for (name, reason) in [("clippy", "mode"), ("build", "profile")] {
        let phase = phase(&report, name);
        assert_eq!(
            root_misses(phase),
            pairs(&[("leaf", "features"), ("mid", reason)]),
            "{name}"
        );
        let mid = phase["misses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["package"] == "mid" && m["cascade_from"].is_null())
            .unwrap();
        assert_eq!(mid["cause"], "this phase: --workspace; deps-only: -p app");
        assert_eq!(mid["requested_by"][0], "gen -> mid");
        assert_eq!(
            mid["remedy"]["steps"],
            json!([{"kind": "same-package-selection", "flags": ["--workspace"]}]),
            "{mid}"
        );
    }
}

#[test]
fn a_low_crate_cascades_upward() {
    let report = Fixture::new("cascade").report_json(&[]);
    let all = phase(&report, "all");
    assert_eq!(
        misses(all),
        pairs(&[
            ("leaf", "features"),
            ("mid", "dependency"),
            ("top", "dependency")
        ])
    );
    assert_eq!(root_misses(all), pairs(&[("leaf", "features")]));
    assert_eq!(all["misses"][0]["cascaded"], 2);
    for cascade in &all["misses"].as_array().unwrap()[1..] {
        assert_eq!(cascade["cascade_from"], "leaf@1.0.0 (build)");
        assert_eq!(
            cascade["fix"],
            "goes away with the fix for leaf@1.0.0 (build)"
        );
    }
    assert_eq!(
        all["misses"][0]["requested_by"][0],
        "b -> leaf (features: extra)"
    );
}

#[test]
fn clean_setup_has_no_misses_and_says_so() {
    let fixture = Fixture::new("clean");
    let report = fixture.report_json(&[]);
    for p in report["phases"].as_array().unwrap() {
        assert_eq!(p["units"]["missed"], 0, "{}", p["name"]);
        assert!(p["misses"].as_array().unwrap().is_empty());
    }
    assert_eq!(phase(&report, "tests")["units"]["cached"], 6);
    let table = fixture.report_text(&[]);
    assert!(
        table.contains("No misses: every phase reuses all the dependency units it inherits."),
        "{table}"
    );
    fixture.report(&["--fail-on-miss"]).success();
}

#[test]
fn root_package_with_workspace_selects_only_the_root() {
    let report = Fixture::new("root-package").report_json(&[]);
    let tool = phase(&report, "tool");
    assert_eq!(
        misses(tool),
        pairs(&[
            ("leaf", "features"),
            ("mid", "not-built"),
            ("top", "not-built")
        ])
    );
    assert_eq!(tool["misses"][2]["requested_by"][0], "tool -> top");
    assert_eq!(
        tool["misses"][2]["cause"],
        "this phase: -p tool; deps-only: the default members (rootpkg)"
    );
}

#[test]
fn fail_on_miss_exits_1_with_misses() {
    Fixture::new("select").report(&["--fail-on-miss"]).code(1);
}

#[test]
fn markdown_has_tables_and_fixes() {
    let fixture = Fixture::new("select");
    let markdown = fixture.report_text(&["--format", "markdown"]);
    assert!(markdown.starts_with("## cache-miss report"), "{markdown}");
    assert!(
        markdown.contains("| phase | function | from | needed | cached | missed | local | share |")
    );
    assert!(
        markdown.contains("| cli | buildPackage | deps | 4 | 0 | 4 | 1 | 0% |"),
        "{markdown}"
    );
    assert!(markdown.contains("fix: run the same package selection in buildDepsOnly"));
}

#[test]
fn table_is_plain_and_fits_100_columns_when_piped() {
    let fixture = Fixture::new("demo");
    let table = fixture.report_text(&[]);
    assert!(
        !table.contains('\u{1b}'),
        "no colour codes when stdout is not a terminal"
    );
    for line in table.lines() {
        assert!(
            line.chars().count() <= 100,
            "line wider than 100 columns: {line}"
        );
    }
}

#[test]
fn ambient_build_environment_does_not_leak_in() {
    let fixture = Fixture::new("clean");
    let output = common::cache_miss()
        .args(["report", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .env("RUSTFLAGS", "--cfg from_the_shell")
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_BUILD_TARGET", "aarch64-unknown-linux-gnu")
        .success_stdout();
    let report: serde_json::Value = serde_json::from_slice(&output).unwrap();
    for p in report["phases"].as_array().unwrap() {
        assert_eq!(p["units"]["missed"], 0, "{}", p["name"]);
    }
}

#[test]
fn the_users_tree_is_not_modified() {
    let fixture = Fixture::new("demo");
    let before = common::snapshot_tree(&fixture.root());
    fixture.report(&[]).success();
    common::cache_miss()
        .args(["phases", "--manifest-path"])
        .arg(fixture.manifest())
        .assert()
        .success();
    assert_eq!(common::snapshot_tree(&fixture.root()), before);
}

#[test]
fn a_phases_sandbox_locations_do_not_reach_the_users_tree() {
    // CARGO_HOME and CARGO_TARGET_DIR of a phase name places in crane's sandbox.
    let fixture = Fixture::new("clean");
    let phases = fixture.root().join("phases.toml");
    let text = std::fs::read_to_string(&phases).unwrap();
    std::fs::write(
        &phases,
        text.replace(
            "function = \"buildDepsOnly\"",
            "function = \"buildDepsOnly\"\nCARGO_HOME = \"cargo-home\"\nCARGO_TARGET_DIR = \"out\"",
        ),
    )
    .unwrap();
    let before = common::snapshot_tree(&fixture.root());
    fixture.report(&[]).success();
    assert_eq!(common::snapshot_tree(&fixture.root()), before);
}

#[test]
fn a_flake_above_the_workspace_is_found_and_other_workspaces_are_left_out() {
    // A repository with two workspaces and one flake at its root.
    let root = tempfile::tempdir().unwrap();
    let fixtures = common::fixtures_dir();
    for name in ["registry", "demo", "select"] {
        common::copy_dir(&fixtures.join(name), &root.path().join(name));
    }
    std::fs::remove_file(root.path().join("demo/phases.toml")).unwrap();
    std::fs::create_dir(root.path().join(".git")).unwrap();
    std::fs::write(
        root.path().join("flake.nix"),
        r#"{
  inputs.crane.url = "github:ipetkov/crane";
  outputs = { self, nixpkgs, crane, ... }:
    let
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      craneLib = crane.mkLib pkgs;
      demoDeps = craneLib.buildDepsOnly { src = craneLib.cleanCargoSource ./demo; };
      selectDeps = craneLib.buildDepsOnly { src = craneLib.cleanCargoSource ./select; };
    in {
      packages.x86_64-linux.server = craneLib.buildPackage {
        src = craneLib.cleanCargoSource ./demo;
        cargoArtifacts = demoDeps;
        cargoExtraArgs = "--locked -p server";
      };
      checks.x86_64-linux.select-clippy = craneLib.cargoClippy {
        src = craneLib.cleanCargoSource ./select;
        cargoArtifacts = selectDeps;
      };
    };
}
"#,
    )
    .unwrap();
    let output = common::cache_miss()
        .args(["phases", "--format", "json", "--manifest-path"])
        .arg(root.path().join("demo/Cargo.toml"))
        .success_stdout();
    let phases: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(common::phase_names(&phases), ["demoDeps", "server"]);
    assert!(
        phases["phase_source"].as_str().unwrap().contains(
            "flake.nix (the nearest above the manifest) (4 crane calls found, 4 placed as phases)"
        ),
        "{phases}"
    );
    let warning = phases["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("left out: `selectDeps`, `select-clippy` build from ")
            && warning.contains("select/Cargo.toml"),
        "{warning}"
    );
}

#[test]
fn the_projects_own_flake_has_no_misses_and_no_findings() {
    // The repository itself is a fixture: its flake.nix builds cache-miss the way the tool
    // recommends. Read in place: cache-miss never writes into the tree it analyses.
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = common::cache_miss()
        .args(["report", "--format", "json", "--manifest-path"])
        .arg(&manifest)
        .success_stdout();
    let report: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(
        report["phase_source"],
        "flake flake.nix beside the manifest (5 crane calls found, 5 placed as phases)"
    );
    let names = common::phase_names(&report);
    assert_eq!(
        names,
        [
            "cargoArtifacts",
            "cache-miss",
            "cache-miss-clippy",
            "cache-miss-nextest",
            "cache-miss-doc"
        ]
    );
    for p in report["phases"].as_array().unwrap() {
        assert_eq!(p["units"]["missed"], 0, "{}: {}", p["name"], p["misses"]);
        assert!(
            p["approximations"].as_array().unwrap().is_empty(),
            "{}",
            p["name"]
        );
    }
    assert_eq!(
        report["findings"],
        serde_json::json!([]),
        "{}",
        report["findings"]
    );
    assert_eq!(report["warnings"], serde_json::json!([]));
}

#[test]
fn a_fix_names_every_difference_that_takes_part() {
    // demo's clippy needs dev-dependencies (buildDepsOnly has doCheck = false) and all
    // features (buildDepsOnly selects -p server): doCheck alone would not do.
    let report = Fixture::new("demo").report_json(&[]);
    let clippy = phase(&report, "clippy");
    let testkit = clippy["misses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["package"] == "testkit")
        .unwrap();
    // On a buildDepsOnly of clippy's own (on the shared one they would hurt `server`).
    let own = &testkit["remedy"]["steps"][0];
    assert_eq!(own["kind"], "own-deps-only", "{testkit}");
    let mut steps: Vec<&str> = own["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    steps.sort();
    assert_eq!(
        steps,
        ["add-all-features", "drop-narrowing", "keep-do-check"]
    );
    assert!(
        own["steps"]
            .as_array()
            .unwrap()
            .contains(&json!({"kind": "drop-narrowing", "flags": ["-p server"]})),
        "{testkit}"
    );
}

/// Every fix line is applied as written in another analysis before it is printed; lines
/// of a phase that do not hold alone are joined when together they hold; a line that holds
/// only by making the other phases of the shared buildDepsOnly miss more is printed as
/// the same change on a buildDepsOnly of the phase's own, checked the same way.
#[test]
fn fix_lines_are_checked_joined_and_moved_to_an_own_deps_only_when_they_worsen() {
    let report = Fixture::new("demo").report_json(&[]);
    // clippy's and nextest's lines, joined, remove all their misses, but on the shared
    // buildDepsOnly they stop it serving `server`: each gets its own.
    for (name, own) in [("clippy", "deps-clippy"), ("nextest", "deps-nextest")] {
        for miss in phase(&report, name)["misses"].as_array().unwrap() {
            if miss["cascade_from"].is_null() {
                assert_eq!(
                    miss["remedy"]["check"],
                    json!({"result": "holds"}),
                    "{name}: {miss}"
                );
                assert_eq!(fix_steps(miss), ["own-deps-only"], "{name}: {miss}");
                assert_eq!(miss["remedy"]["steps"][0]["name"], own, "{miss}");
                assert!(
                    miss["fix"].as_str().unwrap().starts_with(&format!(
                        "give this phase a buildDepsOnly of its own, `{own}`, as its cargoArtifacts: the arguments of buildDepsOnly (`deps`) with cargoExtraArgs = "
                    )),
                    "{miss}"
                );
            }
        }
    }
    assert_eq!(
        phase(&report, "cli")["misses"][0]["remedy"]["steps"],
        json!([{"kind": "own-deps-only", "name": "deps-cli", "steps": [
            {"kind": "same-package-selection", "flags": ["-p cli"]}
        ], "attrs": ["cargoExtraArgs = \"--locked -p cli\""]}])
    );
    // clippy's features misses alone would be fixed by --all-features and the selection;
    // its dev-dependencies need doCheck too, and together the three remove all five.
    let clippy = phase(&report, "clippy");
    let fixes: std::collections::BTreeSet<&str> = clippy["misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["fix"].as_str().unwrap())
        .collect();
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    // No printed line is one its check found to make other phases miss.
    let text = Fixture::new("demo").report_text(&[]);
    assert!(!text.contains("this way makes"), "{text}");
}

#[test]
fn rustflags_fix_lines_name_the_variables_and_are_checked() {
    let report = Fixture::new("rustflags").report_json(&[]);
    let loom = phase(&report, "loom");
    let remedy = &loom["misses"][0]["remedy"];
    assert_eq!(
        remedy["steps"],
        json!([{"kind": "same-rustflags", "changes": [
            {"name": "RUSTFLAGS", "phase": "--cfg loom", "deps_only": null}
        ]}])
    );
    assert_eq!(remedy["check"], json!({"result": "holds"}));
}

#[test]
fn fix_lines_that_are_not_phase_changes_are_not_checked() {
    // The nightly crane lib's misses: no attribute of buildDepsOnly changes a toolchain.
    let demo = Fixture::new("demo");
    let flake = crate::common::fixtures_dir().join("flakes/toolchain/flake.nix");
    let output = crate::common::cache_miss()
        .args(["report", "--format", "json", "--manifest-path"])
        .arg(demo.manifest())
        .arg("--flake")
        .arg(flake)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&output).unwrap();
    let miri = phase(&report, "miri");
    assert_eq!(miri["misses"][0]["reason"], "toolchain");
    assert_eq!(
        miri["misses"][0]["remedy"]["check"],
        json!({"result": "not-checkable"})
    );
}

/// A fix that serves one phase by narrowing a shared buildDepsOnly to its selection is
/// checked against the other phases that buildDepsOnly serves; it hurts them, so the
/// change is proposed on a buildDepsOnly of the phase's own.
#[test]
fn a_fix_that_would_make_another_phase_miss_says_so() {
    let fixture = Fixture::with_phases(
        "select",
        r#"[phases.deps]
function = "buildDepsOnly"
cargoExtraArgs = "--locked -p app"
doCheck = false

[phases.app]
function = "buildPackage"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked -p app"
doCheck = false

[phases.cli]
function = "buildPackage"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked -p cli"
doCheck = false
"#,
    );
    let report = fixture.report_json(&[]);
    let cli = phase(&report, "cli");
    let top = cli["misses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["package"] == "top")
        .unwrap();
    // `-p cli` on the shared buildDepsOnly makes `app` miss: checked, and printed as a
    // buildDepsOnly of cli's own, which holds.
    assert_eq!(top["remedy"]["check"], json!({"result": "holds"}), "{top}");
    let fix = top["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("give this phase a buildDepsOnly of its own, `deps-cli`"),
        "{top}"
    );
    assert!(
        fix.ends_with(
            "(checked: on buildDepsOnly (`deps`) itself this change makes other phases miss more)"
        ),
        "{top}"
    );
}

#[test]
fn fix_lines_can_be_printed_unchecked() {
    let report = Fixture::new("select").report_json(&["--no-fix-check"]);
    let cli = phase(&report, "cli");
    assert!(cli["misses"][0]["remedy"].get("check").is_none(), "{cli}");
}

#[test]
fn resolution_writes_nothing_in_the_workspace_and_leaves_no_temp_dir() {
    // cargo keeps what it asked rustc in its target dir: given the workspace's own, a
    // resolution would write `target/.rustc_info.json` there. It gets a temp dir instead,
    // removed when the report ends.
    let fixture = Fixture::new("demo");
    let target = fixture.root().join("target");
    std::fs::create_dir_all(target.join("release")).unwrap();
    std::fs::write(target.join("release/marker"), "left as it was").unwrap();
    let before = common::snapshot_tree(&fixture.root());
    let temp = tempfile::tempdir().unwrap();
    for cache in [&["--no-cache"][..], &[]] {
        common::cache_miss()
            .args(["report", "--manifest-path"])
            .arg(fixture.manifest())
            .args(cache)
            .env("TMPDIR", temp.path())
            .assert()
            .success();
    }
    assert_eq!(common::snapshot_tree(&fixture.root()), before);
    let left: Vec<_> = std::fs::read_dir(temp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A unit that misses although none of its dependencies miss: `shape`'s proc-macro
/// `shape-derive` is cached in two variants (with the dev-dependency's `extra` feature
/// from `cargo check --all-targets`, without it from `cargo build`), and `shape` was
/// checked only over the first. The doc and clippy phases (no dev-dependencies) need
/// `shape` checked over the second. It once read "depends on  which are rebuilt".
#[test]
fn a_unit_over_another_variant_of_its_proc_macro_names_the_edge() {
    let fixture = Fixture::new("dependency-variant");
    let report = fixture.report_json(&[]);
    for name in ["doc", "clippy"] {
        let phase = phase(&report, name);
        assert_eq!(
            root_misses(phase),
            pairs(&[("shape", "dependency")]),
            "{name}"
        );
        let miss = &phase["misses"][0];
        assert_eq!(miss["mode"], "check");
        assert_eq!(
            miss["detail"],
            "its proc-macro `shape-derive@0.1.0` is the variant `cargo check --release --locked --all-targets` built (host, features [extra]); this phase needs the variant `cargo build --release --locked` built (host, features [])"
        );
        assert_eq!(miss["evidence"]["kind"], "dependency-variant");
        assert_eq!(fix_steps(miss), ["run-phase-commands"]);
    }
    let text = fixture.report_text(&[]);
    assert!(!text.contains("depends on  which"), "{text}");
    assert!(
        text.contains("let buildDepsOnly (`deps`) also run"),
        "{text}"
    );
}

/// What a miss's explanation must never be: an empty or blank name where a root, a
/// label or a fix goes.
fn assert_explained(fixture: &str, report: &serde_json::Value) {
    let blank = |text: &str| text.trim().is_empty() || text.contains("  ") || text.contains("``");
    for phase in report["phases"].as_array().expect("phases") {
        for miss in phase["misses"].as_array().expect("misses") {
            let at = format!("{fixture}: {} {}", phase["name"], miss["package"]);
            for field in [
                "package", "version", "target", "kind", "mode", "reason", "detail", "fix",
            ] {
                let text = miss[field].as_str().unwrap_or_default();
                assert!(!blank(text), "{at}: {field} {:?}", miss[field]);
            }
            if let Some(root) = miss["cascade_from"].as_str() {
                assert!(!blank(root), "{at}: cascade_from {root:?}");
                assert!(
                    miss["fix"].as_str().unwrap().ends_with(root),
                    "{at}: the fix names the root: {miss:#}"
                );
            }
            assert!(!fix_steps(miss).is_empty(), "{at}: no fix step");
        }
    }
}

macro_rules! every_miss_explained {
    ($($test:ident => $fixture:literal),* $(,)?) => {
        mod every_miss_explained {
            use super::*;
            $(
                #[test]
                fn $test() {
                    let fixture = Fixture::new($fixture);
                    assert_explained($fixture, &fixture.report_json(&[]));
                    let text = fixture.report_text(&[]);
                    for empty in ["on  which", "fix for  ", "for  ["] {
                        assert!(!text.contains(empty), "{}: {empty:?} in\n{text}", $fixture);
                    }
                }
            )*
        }
    };
}

common::with_every_fixture!(every_miss_explained);

/// The fix-line check's cargo calls run in the report's own queue as soon as each is
/// known, and a check whose outcome follows from the answers in hand (a buildDepsOnly of
/// the phase's own, with the calls of the shared one changed) is not analysed again:
/// `--timings` says both, and the report is the one without the lookahead (the golden
/// snapshots hold it).
#[test]
fn the_fix_line_check_starts_early_and_skips_what_it_knows() {
    let fixture = Fixture::new("demo");
    let output = fixture.report(&["--no-cache", "--timings"]).success();
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).into_owned();
    let line = stderr
        .lines()
        .find(|line| line.starts_with("timings:"))
        .unwrap_or_else(|| panic!("no timings line: {stderr}"));
    let number_before = |label: &str| -> usize {
        let before = line.split(label).next().unwrap();
        before
            .rsplit([' ', ','])
            .find(|word| !word.is_empty())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number before {label:?}: {line}"))
    };
    assert!(number_before(" changes analysed") > 0, "{line}");
    assert!(number_before(" skipped (their outcome") > 0, "{line}");
    assert!(
        number_before(" cargo calls started while the report's own ran") > 0,
        "{line}"
    );
    let without = fixture.report(&["--no-cache", "--timings", "--no-fix-check"]);
    let said = String::from_utf8_lossy(&without.get_output().stderr).into_owned();
    assert!(!said.contains("fix-line check"), "{said}");
}
