//! Findings beyond the unit graph: one fixture per finding, and a clean one with none.

use crate::common;

use common::Fixture;
use serde_json::Value;

fn findings(fixture: &Fixture, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["--findings-only"];
    args.extend_from_slice(extra);
    let report = fixture.report_json(&args);
    assert_eq!(report["version"], 1);
    report["findings"].as_array().expect("findings").clone()
}

/// The single finding with `id`; its message and fix contain the given texts.
fn assert_finding(found: &[Value], id: &str, location: Option<&str>, message: &[&str], fix: &str) {
    let matching: Vec<&Value> = found.iter().filter(|f| f["id"] == id).collect();
    assert_eq!(matching.len(), 1, "one {id} expected in {found:#?}");
    let finding = matching[0];
    if let Some(location) = location {
        assert_eq!(finding["location"], location, "{finding}");
    }
    for text in message {
        assert!(
            finding["message"].as_str().unwrap().contains(text),
            "{text:?} not in {finding}"
        );
    }
    assert!(
        finding["fix"].as_str().unwrap().contains(fix),
        "{fix:?} not in {finding}"
    );
}

#[test]
fn unfiltered_source_lists_the_files_no_build_reads() {
    let found = findings(&Fixture::new("finding-unfiltered-src"), &[]);
    assert_finding(
        &found,
        "src-not-filtered",
        Some("phases.toml:1"),
        &[
            "(src = ./.)",
            "6 files",
            "flake.nix",
            "flake.lock",
            "README.md",
            ".github/ (1 file)",
            "docs/ (1 file)",
        ],
        "craneLib.cleanCargoSource",
    );
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        !message.contains("result"),
        "a .gitignored file is not a flake input: {message}"
    );
}

#[test]
fn cargo_only_filter_dropping_read_files() {
    let found = findings(&Fixture::new("finding-filter-drops"), &[]);
    let drops: Vec<&Value> = found
        .iter()
        .filter(|f| f["id"] == "src-filter-drops-input")
        .collect();
    assert_eq!(drops.len(), 2, "{found:#?}");
    assert_eq!(drops[0]["location"], "app/build.rs:2");
    assert!(
        drops[0]["message"]
            .as_str()
            .unwrap()
            .contains("reads app/proto/api.proto")
    );
    assert_eq!(drops[1]["location"], "app/src/main.rs:1");
    assert!(
        drops[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("`include_str!(\"../data/schema.json\")` reads app/data/schema.json")
    );
    assert!(
        drops[1]["fix"]
            .as_str()
            .unwrap()
            .contains("./app/data/schema.json")
    );
}

#[test]
fn root_package_beside_workspace() {
    let found = findings(&Fixture::new("root-package"), &[]);
    assert_finding(
        &found,
        "root-package-and-workspace",
        Some("Cargo.toml:1"),
        &["defines both [package] (rootpkg) and [workspace]", "`tool`"],
        "add --workspace to buildDepsOnly's cargoExtraArgs",
    );
}

#[test]
fn selection_mismatch_groups_phases_and_says_what_serves_each() {
    let found = findings(&Fixture::new("demo"), &[]);
    assert_finding(
        &found,
        "selection-mismatch",
        Some("phases.toml:3"),
        &[
            "buildDepsOnly `deps` uses -p server",
            "`cli` uses -p cli",
            "`clippy` uses --all-features",
        ],
        "give buildDepsOnly `deps` the selection of `cli`: cargoExtraArgs = \"--locked -p cli\"",
    );
}

/// The advice names the attribute that carries the difference, as the user wrote it, and
/// sets it where buildDepsOnly reads it.
#[test]
fn selection_mismatch_advice_keeps_the_attribute_and_its_spelling() {
    let fixture = Fixture::with_phases(
        "all-features",
        r#"[phases.deps]
function = "buildDepsOnly"

[phases.tests]
function = "cargoTest"
cargoArtifacts = "deps"
cargoTestExtraArgs = "-p lib --features lib/full,lib/full"

[phases.clippy]
function = "cargoClippy"
cargoArtifacts = "deps"
cargoClippyExtraArgs = "--all-targets --features=lib/full -- -D warnings"
"#,
    );
    let found = findings(&fixture, &[]);
    let mismatch = found
        .iter()
        .find(|f| f["id"] == "selection-mismatch")
        .expect("a selection-mismatch finding");
    let fix = mismatch["fix"].as_str().unwrap();
    assert!(
        fix.contains(
            "the selection of `tests`: cargoTestExtraArgs = \"-p lib --features lib/full,lib/full\""
        ),
        "{fix}"
    );
    assert!(
        fix.contains(
            "the selection of `clippy`: cargoExtraArgs = \"--locked --features=lib/full\""
        ),
        "{fix}"
    );
    assert!(!fix.contains("commonArgs"), "{fix}");
}

#[test]
fn bindgen_without_a_fixed_seed() {
    let found = findings(&Fixture::new("finding-bindgen"), &[]);
    assert_finding(
        &found,
        "bindgen-random-seed",
        None,
        &["bindgen is in the build graph"],
        "NIX_OUTPATH_USED_AS_RANDOM_SEED",
    );
}

#[test]
fn pyo3_without_pyo3_python() {
    let found = findings(&Fixture::new("finding-pyo3"), &[]);
    assert_finding(
        &found,
        "pyo3-python",
        None,
        &["`deps` and `package` leave it unset"],
        "PYO3_PYTHON",
    );
}

#[test]
fn pkg_config_sys_crate_under_different_native_inputs() {
    let found = findings(&Fixture::new("finding-pkg-config"), &[]);
    assert_finding(
        &found,
        "pkg-config-inputs",
        None,
        &[
            "foo-sys",
            "`package` has `openssl`, `pkg-config`, the artifacts it inherits from `deps` were built with `pkg-config`",
        ],
        "add `openssl` to the nativeBuildInputs/buildInputs that buildDepsOnly `deps` (phases.toml:1) is given",
    );
    assert_eq!(
        found
            .iter()
            .find(|f| f["id"] == "pkg-config-inputs")
            .unwrap()["severity"],
        "warning"
    );
}

/// PKG_CONFIG_PATH is made by pkg-config's setup hook: without pkg-config on either side
/// it is the same (unset) whatever else differs, so there is nothing to say; with
/// pkg-config on one side only it differs, and the fix names the call lacking inputs; setup
/// hooks change nothing.
#[test]
fn pkg_config_inputs_only_when_pkg_config_path_differs() {
    let phases = |deps: &str, package: &str| {
        format!(
            "[phases.deps]\nfunction = \"buildDepsOnly\"\ndoCheck = false\nnativeBuildInputs = {deps}\n\n[phases.package]\nfunction = \"buildPackage\"\ncargoArtifacts = \"deps\"\ndoCheck = false\nnativeBuildInputs = {package}\n"
        )
    };
    let neither = Fixture::with_phases(
        "finding-pkg-config",
        &phases("[\"openssl\"]", "[\"openssl\", \"sqlite\"]"),
    );
    let found = findings(&neither, &[]);
    assert!(
        !found.iter().any(|f| f["id"] == "pkg-config-inputs"),
        "{found:#?}"
    );

    let phase_lacks = Fixture::with_phases(
        "finding-pkg-config",
        &phases("[\"pkg-config\", \"openssl\"]", "[\"openssl\"]"),
    );
    let found = findings(&phase_lacks, &[]);
    assert_finding(
        &found,
        "pkg-config-inputs",
        Some("phases.toml:1"),
        &[
            "`package` has `openssl`, the artifacts it inherits from `deps` were built with `openssl`, `pkg-config`",
        ],
        "add `pkg-config` to the nativeBuildInputs/buildInputs that buildPackage `package` (phases.toml:6) is given",
    );

    // A setup hook, in a list of its own (`optional isLinux [ autoPatchelfHook ]`), adds
    // no `.pc` file: the same PKG_CONFIG_PATH.
    let hook_only = Fixture::with_phases(
        "finding-pkg-config",
        &phases(
            "[\"pkg-config\", \"openssl\"]",
            "[\"pkg-config\", \"openssl\", [\"autoPatchelfHook\"], \"makeWrapper\"]",
        ),
    );
    let found = findings(&hook_only, &[]);
    assert!(
        !found.iter().any(|f| f["id"] == "pkg-config-inputs"),
        "{found:#?}"
    );
}

#[test]
fn dev_profile_proc_macros_without_build_override() {
    let found = findings(&Fixture::new("finding-dev-profile"), &[]);
    assert_finding(
        &found,
        "dev-build-override",
        Some("Cargo.toml"),
        &["macroz"],
        "[profile.dev.build-override]",
    );
}

#[test]
fn build_script_env_from_a_previous_build() {
    let fixture = Fixture::new("finding-build-script-env");
    // Without a target dir there is nothing to read.
    assert!(
        findings(&fixture, &[])
            .iter()
            .all(|f| f["id"] != "build-script-env")
    );
    let target = fixture.dir.path().join("previous-target");
    let status = std::process::Command::new("cargo")
        .args(["build", "--offline", "--locked", "--quiet"])
        .current_dir(fixture.root())
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(status.success());
    let found = findings(&fixture, &["--target-dir", target.to_str().unwrap()]);
    assert_finding(
        &found,
        "build-script-env",
        None,
        &[
            "envwatch",
            "ENVWATCH_MODE",
            "`package` set it to \"fast\"",
            "`deps` leave it unset",
        ],
        "set ENVWATCH_MODE to the same value on every phase",
    );
}

#[test]
fn clean_fixture_has_no_findings() {
    let fixture = Fixture::new("clean");
    assert!(findings(&fixture, &[]).is_empty());
    let text = fixture.report_text(&["--findings-only"]);
    assert!(text.contains("No findings"), "{text}");
}

#[test]
fn findings_appear_in_the_full_report_table() {
    let fixture = Fixture::new("finding-bindgen");
    let text = fixture.report_text(&[]);
    assert!(
        text.contains("warning bindgen-random-seed at phases.toml:1:"),
        "{text}"
    );
    assert!(
        text.contains("  fix: set NIX_OUTPATH_USED_AS_RANDOM_SEED"),
        "{text}"
    );
}

#[test]
fn build_script_outputs_show_computed_paths_the_filter_drops() {
    let fixture = Fixture::new("finding-filter-drops");
    let target = fixture.dir.path().join("previous-target");
    let status = std::process::Command::new("cargo")
        .args(["build", "--offline", "--locked", "--quiet"])
        .current_dir(fixture.root())
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(status.success());
    let found = findings(&fixture, &["--target-dir", target.to_str().unwrap()]);
    let drops: Vec<&Value> = found
        .iter()
        .filter(|f| f["id"] == "src-filter-drops-input")
        .collect();
    assert_eq!(drops.len(), 3, "{found:#?}");
    assert!(drops.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .starts_with("`cargo:rerun-if-changed=templates/page.html (in the build script's output)` reads app/templates/page.html")));
}

#[test]
fn default_selection_of_a_virtual_workspace_is_the_workspace() {
    // roles: a virtual manifest without default-members, so `cargo build` and
    // `cargo build --workspace` select the same packages; a phase that runs no cargo build
    // selects nothing.
    let fixture = Fixture::with_phases(
        "roles",
        r#"
[phases.deps]
function = "buildDepsOnly"

[phases.clippy]
function = "cargoClippy"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked --workspace"

[phases.wasm]
function = "mkCargoDerivation"
cargoArtifacts = "deps"
buildPhaseCargoCommand = "wasm-pack build app"
"#,
    );
    let found = findings(&fixture, &[]);
    assert!(
        found.iter().all(|f| f["id"] != "selection-mismatch"),
        "{found:#?}"
    );
}

#[test]
fn a_test_phase_without_do_check_runs_nothing() {
    let fixture = Fixture::with_phases(
        "clean",
        r#"[phases.deps]
function = "buildDepsOnly"

[phases.tests]
function = "cargoTest"
cargoArtifacts = "deps"
doCheck = false

[phases.nextest]
function = "cargoNextest"
cargoArtifacts = "deps"
"#,
    );
    let found = findings(&fixture, &[]);
    assert_finding(
        &found,
        "check-runs-nothing",
        Some("phases.toml:4"),
        &["`tests` (cargoTest) has doCheck = false, so crane runs no test in it"],
        "set doCheck = true on `tests`",
    );
    assert_eq!(
        found
            .iter()
            .filter(|f| f["id"] == "check-runs-nothing")
            .count(),
        1,
        "nextest keeps crane's doCheck = true: {found:?}"
    );
}

#[test]
fn files_read_through_the_manifest_dir_and_by_tests_are_not_unread() {
    let found = findings(&Fixture::new("finding-manifest-dir-reads"), &[]);
    assert_finding(
        &found,
        "src-not-filtered",
        Some("flake.nix:13"),
        &["3 files", "README.md", "docs/ (1 file)", "flake.nix"],
        "(craneLib.fileset.commonCargoSources ./.) ./checker/src/snapshots ./checker/src/templates/summary.md.hbs ./checker/tests ]",
    );
    let message = found[0]["message"].as_str().unwrap();
    for read in ["templates", "tests", "snapshots", "expected.txt"] {
        assert!(!message.contains(read), "{read} is read: {message}");
    }
    assert!(
        !found[0]["fix"]
            .as_str()
            .unwrap()
            .contains("cleanCargoSource ./."),
        "cleanCargoSource alone drops the templates: {}",
        found[0]
    );
}

/// `git init` and commit everything in the fixture but `untracked`.
fn commit_all_but(fixture: &Fixture, untracked: &[&str]) {
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.email=t@t", "-c", "user.name=t"])
            .args(args)
            .current_dir(fixture.root())
            .status()
            .expect("runs git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    for path in untracked {
        git(&["rm", "-q", "--cached", path]);
    }
    git(&["commit", "-q", "-m", "fixture"]);
}

#[test]
fn source_fixes_name_only_what_the_build_reads_and_is_in_the_flake_written_for_their_file() {
    // String literals (".git", ".envrc", "flake.nix", "docs") are names the tool uses at
    // run time, not reads; `include_str!` of an untracked file cannot be added to a git
    // flake's file set; the phase is defined in nix/package.nix, whose root is `../.`.
    let fixture = Fixture::new("finding-fix-paths");
    commit_all_but(&fixture, &["tool/VERSION", ".envrc"]);
    let found = findings(&fixture, &[]);
    assert_finding(
        &found,
        "src-not-filtered",
        Some("nix/package.nix:3"),
        &["docs/ (1 file)", "flake.nix"],
        "src = lib.fileset.toSource { root = ../.; fileset = lib.fileset.unions [ (craneLib.fileset.commonCargoSources ../.) ../tool/README.md ]; };",
    );
    let unfiltered = found
        .iter()
        .find(|f| f["id"] == "src-not-filtered")
        .unwrap();
    for name in [".git", ".envrc", "VERSION"] {
        assert!(
            !unfiltered["fix"].as_str().unwrap().contains(name),
            "{name}: {unfiltered}"
        );
    }
    let dropped: Vec<&Value> = found
        .iter()
        .filter(|f| f["id"] == "src-filter-drops-input")
        .collect();
    assert_eq!(dropped.len(), 2, "{found:#?}");
    for finding in dropped {
        assert!(
            finding["fix"]
                .as_str()
                .unwrap()
                .starts_with("track tool/VERSION in git (`git add tool/VERSION`)"),
            "{finding}"
        );
    }
    // Tracked, it is added to the user's own filter, which keeps its entries (`*.md`).
    let fixture = Fixture::new("finding-fix-paths");
    commit_all_but(&fixture, &[".envrc"]);
    let found = findings(&fixture, &[]);
    assert_finding(
        &found,
        "src-filter-drops-input",
        Some("tool/src/main.rs:3"),
        &["the src of `docs`"],
        "add ../tool/VERSION to the source's own filter or file set (lib.cleanSourceWith { src = ../.; filter = path: type: (craneLib.filterCargoSources path type) || lib.hasSuffix \".md\"",
    );
}

/// A file only a bench reads, or only `#[cfg(test)]` code, is missing from no build while
/// no phase builds benches or tests: `src-filter-drops-input` fires for the library's file
/// alone; with a phase that compiles the bench and the tests (clippy's `--all-targets`),
/// for all three.
#[test]
fn a_file_read_by_a_target_no_phase_compiles_is_no_error() {
    let drops = |found: &[Value]| -> Vec<String> {
        found
            .iter()
            .filter(|f| f["id"] == "src-filter-drops-input")
            .map(|f| f["location"].as_str().unwrap().to_string())
            .collect()
    };
    let found = findings(&Fixture::new("finding-bench-read"), &[]);
    assert_eq!(drops(&found), ["app/src/lib.rs:1"], "{found:#?}");

    let phases = std::fs::read_to_string(
        common::fixtures_dir().join("finding-bench-read/phases.toml"),
    )
    .unwrap()
        + "\n[phases.clippy]\nfunction = \"cargoClippy\"\ncargoArtifacts = \"deps\"\nsrc = \"craneLib.cleanCargoSource ./.\"\n";
    let found = findings(&Fixture::with_phases("finding-bench-read", &phases), &[]);
    assert_eq!(
        drops(&found),
        [
            "app/benches/speed.rs:1",
            "app/src/lib.rs:1",
            "app/src/lib.rs:5"
        ],
        "{found:#?}"
    );

    // A deps-only phase that compiles tests compiles crane's dummy sources: the test's
    // file is still read by no build.
    let phases =
        std::fs::read_to_string(common::fixtures_dir().join("finding-bench-read/phases.toml"))
            .unwrap()
            .replacen("doCheck = false\n", "", 1);
    let found = findings(&Fixture::with_phases("finding-bench-read", &phases), &[]);
    assert!(
        !drops(&found).contains(&"app/src/lib.rs:5".to_string()),
        "{found:#?}"
    );
}

/// Per phase, as the flake evaluates each `src`: a file only `#[cfg(test)]` code reads is
/// missing from the phase that compiles tests, and from no other (a package built with
/// `doCheck = false` compiles no test code).
#[test]
fn a_file_only_test_code_reads_is_missing_only_where_tests_are_compiled() {
    let fixture = Fixture::new("finding-bench-read");
    std::fs::remove_file(fixture.root().join("phases.toml")).unwrap();
    std::fs::write(
        fixture.root().join("flake.nix"),
        r#"{
  inputs.crane.url = "github:ipetkov/crane";
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";
  outputs = { nixpkgs, crane, ... }:
    let
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      craneLib = crane.mkLib pkgs;
      src = pkgs.lib.fileset.toSource {
        root = ./.;
        fileset = pkgs.lib.fileset.unions [
          ./Cargo.toml ./Cargo.lock ./app/Cargo.toml ./app/src ./app/benches ./app/data/schema.json
        ];
      };
      cargoArtifacts = craneLib.buildDepsOnly { inherit src; };
    in {
      packages.x86_64-linux.default = craneLib.buildPackage { inherit src cargoArtifacts; doCheck = false; };
      checks.x86_64-linux.test = craneLib.cargoTest { inherit src cargoArtifacts; };
    };
}
"#,
    )
    .unwrap();
    let found = findings(&fixture, &[]);
    let drops: Vec<(&str, &str)> = found
        .iter()
        .filter(|f| f["id"] == "src-filter-drops-input")
        .map(|f| {
            (
                f["location"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        drops
            .iter()
            .all(|(_, message)| !message.contains("`default`")),
        "{found:#?}"
    );
    assert!(
        drops
            .iter()
            .any(|(location, message)| *location == "app/src/lib.rs:5"
                && message.contains("the src of `test`")),
        "{found:#?}"
    );
}

/// A phase that selects other packages than its deps-only but misses only for its profile:
/// `selection-mismatch` is information, and says the misses have other causes.
#[test]
fn a_selection_mismatch_whose_phases_miss_for_other_causes_is_information() {
    let phases = std::fs::read_to_string(common::fixtures_dir().join("profile/phases.toml"))
        .unwrap()
        .replace(
            "CARGO_PROFILE = \"ci\"\n",
            "CARGO_PROFILE = \"ci\"\ncargoExtraArgs = \"--locked -p app\"\n",
        );
    let fixture = Fixture::with_phases("profile", &phases);
    let report = fixture.report_json(&[]);
    let pkg = common::phase(&report, "pkg");
    assert!(pkg["units"]["missed"].as_u64().unwrap() > 0, "{pkg:#}");
    assert!(
        pkg["misses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["reason"] == "profile" || !m["cascade_from"].is_null()),
        "{pkg:#}"
    );
    let found = report["findings"].as_array().unwrap();
    let mismatch = found
        .iter()
        .find(|f| f["id"] == "selection-mismatch")
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(mismatch["severity"], "info", "{mismatch:#}");
    let message = mismatch["message"].as_str().unwrap();
    assert!(
        message.contains("none of these phases' misses comes from it")
            && !message.contains("so these phases rebuild"),
        "{message}"
    );
}
