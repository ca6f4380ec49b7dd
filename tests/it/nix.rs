//! `--nix`: real Nix (Debian's nix-bin, 2.8) on crane's real code, offline. The flakes'
//! inputs are pointed at the kit in `CACHE_MISS_TEST_NIX_KIT` (`../shared/nix-offline`:
//! crane, flake-utils, flake-parts and a nixpkgs stand-in) with `--override-input`.
//! Without the kit the tests say they were skipped; under `CI` they fail instead.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{
    CommandExt, Fixture, cache_miss, copy_dir, fixtures_dir, flake_workspace, misses, phase,
};

/// The kit's directory when it and `nix` are there; `None` (said on stderr) when not,
/// a failure under `CI` (see [`crate::common::require`]).
pub(crate) fn kit() -> Option<PathBuf> {
    let how = "apt-get install nix-bin, and set CACHE_MISS_TEST_NIX_KIT=../shared/nix-offline (as .ci/run does)";
    let dir = std::env::var_os("CACHE_MISS_TEST_NIX_KIT").map(PathBuf::from);
    let usable = dir
        .as_ref()
        .is_some_and(|dir| dir.join("crane/flake.nix").is_file());
    crate::common::require_tool("nix", how)?;
    if !crate::common::require("the offline Nix kit (CACHE_MISS_TEST_NIX_KIT)", how, usable) {
        return None;
    }
    let dir = dir?;
    Some(dir.canonicalize().unwrap_or(dir))
}

/// `--override-input` for every input the kit has.
pub(crate) fn overrides(kit: &Path) -> Vec<String> {
    overrides_with(kit, &kit.join("nixpkgs"))
}

/// The same, with `nixpkgs` from another directory.
fn overrides_with(kit: &Path, nixpkgs: &Path) -> Vec<String> {
    let input = |name: &str, dir: &str| {
        let path = match dir {
            "nixpkgs" => nixpkgs.to_path_buf(),
            _ => kit.join(dir),
        };
        vec![
            "--override-input".to_string(),
            name.to_string(),
            format!("path:{}", path.display()),
        ]
    };
    let mut args = Vec::new();
    for (name, dir) in [
        ("nixpkgs", "nixpkgs"),
        ("crane", "crane"),
        ("flake-utils", "flake-utils"),
        ("flake-utils/systems", "systems"),
        ("flake-parts", "flake-parts"),
        ("flake-parts/nixpkgs-lib", "nixpkgs"),
    ] {
        args.extend(input(name, dir));
    }
    args
}

fn run_json(fixture: &Fixture, command: &str, args: &[String]) -> Value {
    let output = cache_miss()
        .arg(command)
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(["--format", "json", "--no-cache"])
        .args(args)
        .success_stdout();
    serde_json::from_slice(&output).expect("JSON")
}

fn names(json: &Value) -> Vec<&str> {
    json["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

#[test]
fn report_with_nix_is_the_static_report() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    let mut nix_args = vec!["--nix".to_string()];
    nix_args.extend(overrides(&kit));
    let with_nix = run_json(&fixture, "report", &nix_args);
    crate::schema::assert_valid("report", &with_nix);
    let statically = run_json(&fixture, "report", &[]);
    assert!(
        with_nix["phase_source"]
            .as_str()
            .unwrap()
            .starts_with("nix 2."),
        "{}",
        with_nix["phase_source"]
    );
    // The deps-only phase is named by its binding statically, by its pname in Nix.
    assert_eq!(names(&statically)[0], "deps");
    assert_eq!(names(&with_nix)[0], "cargo-package-deps");
    for name in ["server", "server-lto", "clippy", "loom", "dev-profile"] {
        let (a, b) = (phase(&statically, name), phase(&with_nix, name));
        assert_eq!(misses(a), misses(b), "{name}: misses differ");
        assert_eq!(a["commands"], b["commands"], "{name}: commands differ");
        assert_eq!(a["units"], b["units"], "{name}");
    }
    assert!(!misses(phase(&with_nix, "server-lto")).is_empty());
    assert_eq!(
        phase(&with_nix, "server")["aliases"],
        serde_json::json!(["default"])
    );
    assert_eq!(
        phase(&statically, "server")["aliases"],
        serde_json::json!(["default"]),
        "the static reader lists the same alias"
    );
}

/// Nix's `src` is a store path; the phases the static reader also finds take its evaluated
/// source, so the source findings are the same with `--nix` (an unfiltered `./.`).
#[test]
fn source_findings_are_the_same_with_nix() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    let flake = fixture.root().join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap();
    std::fs::write(
        &flake,
        text.replace("src = craneLib.cleanCargoSource ./.;", "src = ./.;"),
    )
    .unwrap();
    let ids = |json: &Value| -> Vec<String> {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let statically = run_json(&fixture, "report", &["--findings-only".to_string()]);
    let mut nix_args = vec!["--findings-only".to_string(), "--nix".to_string()];
    nix_args.extend(overrides(&kit));
    let with_nix = run_json(&fixture, "report", &nix_args);
    assert!(
        ids(&statically).contains(&"src-not-filtered".to_string()),
        "{statically:#}"
    );
    assert_eq!(ids(&with_nix), ids(&statically), "{with_nix:#}");
}

/// With `--nix`, the toolchain is read from each derivation's `nativeBuildInputs`
/// (`rust-default-1.48.0`): the MSRV phases are resolved with cargo 1.48, as statically.
#[test]
fn a_release_in_the_derivations_inputs_resolves_its_phases_with_nix() {
    let Some(kit) = kit() else { return };
    if !crate::common::require_toolchain(crate::cargo_versions::OLDEST) {
        return;
    }
    let fixture = crate::cargo_versions::msrv_check_fixture("1.48.0");
    let mut args = vec!["--nix".to_string()];
    args.extend(overrides(&kit));
    let with_nix = run_json(&fixture, "report", &args);
    crate::schema::assert_valid("report", &with_nix);
    let statically = run_json(&fixture, "report", &[]);
    for name in ["test-msrv", "clippy-msrv"] {
        let (a, b) = (phase(&statically, name), phase(&with_nix, name));
        assert_eq!(b["cargo"]["release"], "1.48.0", "{b:#}");
        assert!(
            b["cargo"]["pinned_by"]
                .as_str()
                .unwrap()
                .starts_with("rust-default-1.48.0"),
            "{b:#}"
        );
        assert_eq!(a["cargo"]["release"], b["cargo"]["release"], "{name}");
        assert_eq!(a["units"], b["units"], "{name}");
    }
    assert!(phase(&with_nix, "default").get("cargo").is_none());
}

#[test]
fn compare_names_every_difference() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    let mut args = vec!["--nix".to_string(), "--compare".to_string()];
    args.extend(overrides(&kit));
    let compared = run_json(&fixture, "phases", &args);
    crate::schema::assert_valid("compare", &compared);
    assert_eq!(
        compared["differences"],
        serde_json::json!([{
            "phase": "cargo-package-deps", "what": "name",
            "static": "deps", "nix": "cargo-package-deps"
        }])
    );
    // A difference in what cargo runs is named with both values.
    let flake = fixture.root().join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap();
    let text = text.replace(
        "env.RUSTFLAGS = \"--cfg loom\";",
        "env.RUSTFLAGS = \"--cfg loom\";\n          cargoTestExtraArgs = if builtins.pathExists ./never then \"\" else \"--lib\";",
    );
    std::fs::write(&flake, text).unwrap();
    let compared = run_json(&fixture, "phases", &args);
    let loom: Vec<&Value> = compared["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["phase"] == "loom")
        .collect();
    assert_eq!(loom.len(), 1, "{compared:#}");
    assert_eq!(loom[0]["what"], "commands");
    assert_eq!(loom[0]["nix"], "cargo test --release --locked --lib");
}

#[test]
fn crane_calls_inside_a_flake_input_are_read_exactly() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("wrapper-input");
    let wrapper = fixture.root().join("wrapper");
    let mut args = vec!["--nix".to_string()];
    args.extend([
        "--override-input".to_string(),
        "wrapper".to_string(),
        format!("path:{}", wrapper.display()),
    ]);
    for (input, dir) in [("wrapper/crane", "crane"), ("wrapper/nixpkgs", "nixpkgs")] {
        args.extend([
            "--override-input".to_string(),
            input.to_string(),
            format!("path:{}", kit.join(dir).display()),
        ]);
    }
    let phases = run_json(&fixture, "phases", &args);
    assert_eq!(names(&phases), ["cargo-package-deps", "default", "clippy"]);
    let commands = |name: &str| phase(&phases, name)["commands"].clone();
    assert_eq!(
        commands("cargo-package-deps"),
        serde_json::json!([
            "cargo check --profile dev --locked",
            "cargo build --profile dev --locked"
        ])
    );
    assert_eq!(
        commands("default"),
        serde_json::json!([
            "cargo build --profile dev --message-format json-render-diagnostics --locked -p server"
        ])
    );
    assert_eq!(
        phase(&phases, "clippy")["artifacts_from"],
        "cargo-package-deps"
    );
}

#[test]
fn an_output_that_does_not_evaluate_sinks_no_other_and_ifd_stays_off() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    let flake = fixture.root().join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap().replace(
        "checks.${system} = {",
        "checks.${system} = {\n        broken = throw \"broken on purpose\";\n        ifd = import (pkgs.writeText \"ifd.nix\" \"{ }\");",
    );
    std::fs::write(&flake, text).unwrap();
    let mut args = vec!["--nix".to_string()];
    args.extend(overrides(&kit));
    let phases = run_json(&fixture, "phases", &args);
    let message = |name: &str| {
        phase(&phases, name)["not_evaluable"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        message("broken").contains("broken on purpose"),
        "{phases:#}"
    );
    assert!(
        message("ifd").contains("allow-import-from-derivation"),
        "{}",
        message("ifd")
    );
    for name in ["server", "clippy", "loom"] {
        assert!(phase(&phases, name)["not_evaluable"].is_null(), "{name}");
    }
    assert!(
        phase(&phases, "broken")["approximations"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{phases:#}"
    );
    // The table says why, not that no cargo call was found.
    let table = cache_miss()
        .arg("phases")
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .arg("--no-cache")
        .args(&args)
        .success_stdout();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains("not evaluable: ") && table.contains("broken on purpose"),
        "{table}"
    );
    assert!(!table.contains("no cargo call found"), "{table}");
}

#[test]
fn nix_that_is_not_there_is_a_clear_error() {
    let fixture = flake_workspace("common-args");
    // A PATH with cargo and rustup but no nix.
    let bin = tempfile::tempdir().unwrap();
    for tool in ["cargo", "rustup", "rustc"] {
        if let Some(path) = crate::common::on_path(tool) {
            std::os::unix::fs::symlink(path, bin.path().join(tool)).unwrap();
        }
    }
    let output = cache_miss()
        .args(["phases", "--nix", "--manifest-path"])
        .arg(fixture.manifest())
        .env("PATH", bin.path())
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&output);
    assert!(stderr.contains("no `nix` on PATH"), "{stderr}");
}

#[test]
fn nix_evaluates_a_flake_file_not_any_nix_file() {
    let fixture = flake_workspace("common-args");
    std::fs::rename(
        fixture.root().join("flake.nix"),
        fixture.root().join("crane.nix"),
    )
    .unwrap();
    let output = cache_miss()
        .args(["phases", "--nix", "--flake"])
        .arg(fixture.root().join("crane.nix"))
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&output);
    assert!(stderr.contains("is not a flake.nix"), "{stderr}");
}

#[test]
fn nix_answers_are_remembered_until_the_flake_changes() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    // A locked flake, as users have it: the lock pins the kit's inputs.
    let mut lock = std::process::Command::new("nix");
    lock.args([
        "--extra-experimental-features",
        "nix-command flakes",
        "flake",
        "lock",
    ])
    .args(overrides(&kit)[..6].iter())
    .current_dir(fixture.root());
    let locked = lock.output().unwrap();
    assert!(
        locked.status.success(),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    // A `nix` that writes down every call, then runs the real one.
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("calls");
    let real = crate::common::on_path("nix").unwrap();
    let wrapper = bin.path().join("nix");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1 $2 $3 $4\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let phases = || {
        let output = cache_miss()
            .args(["phases", "--nix", "--format", "json", "--cache-dir"])
            .arg(cache.path())
            .arg("--manifest-path")
            .arg(fixture.manifest())
            .env("PATH", &path)
            .success_stdout();
        serde_json::from_slice::<Value>(&output).unwrap()
    };
    let calls = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let cold = phases();
    let after_cold = calls();
    assert!(after_cold >= 3, "nix was asked {after_cold} times");
    let warm = phases();
    assert_eq!(calls(), after_cold, "a warm run asks nix nothing");
    assert_eq!(cold, warm);
    // An edit of a file the flake's source holds is asked again.
    crate::common::append(&fixture.root().join("flake.nix"), "\n# edited\n");
    let edited = phases();
    assert!(calls() > after_cold, "an edited flake is evaluated again");
    assert_eq!(cold["phases"], edited["phases"]);
}

/// Every flake fixture of the repository but the malformed one.
const FLAKE_FIXTURES: &[&str] = &[
    "blueprint",
    "common-args",
    "computed-imports",
    "crane-lib-names",
    "crane-wrapper",
    "cross-packages",
    "cross-platforms",
    "env-names",
    "flake-parts",
    "flake-parts-modules",
    "flake-utils-self",
    "flake-utils-variants",
    "imported",
    "input-function",
    "input-module",
    "input-module-imports",
    "let-bound-checks",
    "merged-conditional",
    "modules-fold",
    "mkpkg",
    "msrv",
    "msrv-check",
    "nixpkgs-helpers",
    "not-evaluable",
    "passthru-checks",
    "path-arithmetic",
    "per-member",
    "per-package-deps",
    "quickstart",
    "quickstart-workspace",
    "reads",
    "shared-deps",
    "tool-inputs",
    "toolchain",
    "unresolved",
    "wrapper-input",
];

/// The kit's nixpkgs stand-in, plus what `import nixpkgs { system = …; }` reads (the
/// stand-in is a flake only): a copy in a temp dir with a `default.nix`. Overlays and
/// config given to it are dropped, as the stand-in has no overlay mechanism.
fn importable_nixpkgs(kit: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&kit.join("nixpkgs"), dir.path());
    std::fs::write(
        dir.path().join("default.nix"),
        "{ system ? \"x86_64-linux\", ... }: import ./pkgs.nix { inherit system; }\n",
    )
    .unwrap();
    dir
}

/// `phases --nix --compare` on every flake fixture (over the demo workspace) names the
/// differences its `expected-compare.json` records, and each fixture's README explains
/// them. `UPDATE_EXPECT=1` writes the files anew.
#[test]
fn every_flake_fixture_compares_as_recorded() {
    let Some(kit) = kit() else { return };
    let nixpkgs = importable_nixpkgs(&kit);
    let mut args = vec!["--nix".to_string(), "--compare".to_string()];
    args.extend(overrides_with(&kit, nixpkgs.path()));
    let mut failures = Vec::new();
    for case in FLAKE_FIXTURES {
        let fixture = flake_workspace(case);
        let mut args = args.clone();
        // A wrapper flake of the fixture's own is its input `wrapper`.
        let wrapper = fixture.root().join("wrapper");
        if wrapper.join("flake.nix").is_file() {
            for (input, path) in [
                ("wrapper", wrapper.clone()),
                ("wrapper/crane", kit.join("crane")),
                ("wrapper/nixpkgs", nixpkgs.path().to_path_buf()),
            ] {
                args.extend(["--override-input".to_string(), input.to_string()]);
                args.push(format!("path:{}", path.display()));
            }
        }
        let compared = run_json(&fixture, "phases", &args);
        let found = serde_json::to_string_pretty(&compared["differences"]).unwrap() + "\n";
        let found = without_store_hashes(&found);
        let expected_path = fixtures_dir()
            .join("flakes")
            .join(case)
            .join("expected-compare.json");
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&expected_path, &found).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != found {
            failures.push(format!("{case}: expected {expected}found {found}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Text with every store path's hash replaced: the hash of a fixture's source changes with
/// any file of it.
fn without_store_hashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("/nix/store/") {
        let (before, after) = rest.split_at(at + "/nix/store/".len());
        out.push_str(before);
        let hash_len = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if hash_len == 32 {
            out.push_str("<hash>");
            rest = &after[32..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn fix_with_nix_proves_the_same_cure_as_the_static_reader() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    let best = |args: &[String]| {
        let fixed = run_json(&fixture, "fix", args);
        let first = &fixed["proposals"][0];
        (
            first["summary"].as_str().unwrap().to_string(),
            first["missed_before"].clone(),
            first["missed_after"].clone(),
        )
    };
    let mut args = vec!["--nix".to_string()];
    args.extend(overrides(&kit));
    let with_nix = best(&args);
    assert_eq!(with_nix, best(&[]));
    assert_eq!(with_nix.2, 0);
}

#[test]
fn a_guessed_or_approximate_reading_points_at_nix() {
    let stderr = |fixture: &Fixture| {
        let output = fixture
            .report(&["--no-fix-check"])
            .success()
            .get_output()
            .stderr
            .clone();
        String::from_utf8(output).unwrap()
    };
    let approximate = flake_workspace("unresolved");
    let said = stderr(&approximate);
    let last = said.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("hint: 1 phase was read only approximately"),
        "{said}"
    );
    assert!(last.contains("cache-miss report --nix"), "{said}");
    let guessed = flake_workspace("common-args");
    std::fs::write(guessed.root().join("flake.nix"), "{ outputs = _: { }; }\n").unwrap();
    assert!(stderr(&guessed).contains("hint: the phases are crane's quick-start set"));
    // A phases file is what the user wrote: no hint.
    assert!(!stderr(&Fixture::new("demo")).contains("hint:"));
}

#[test]
fn a_flake_none_of_whose_outputs_evaluates_is_an_error_not_a_clean_report() {
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    std::fs::write(
        fixture.root().join("flake.nix"),
        "{ inputs.nixpkgs.url = \"github:NixOS/nixpkgs\"; outputs = { nixpkgs, ... }: {\n  checks.x86_64-linux.broken = throw \"broken\\non purpose\";\n}; }\n",
    )
    .unwrap();
    let assert = cache_miss()
        .args(["report", "--nix", "--no-cache", "--manifest-path"])
        .arg(fixture.manifest())
        .args(&overrides(&kit)[..3])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("no output of") && stderr.contains("nothing to analyse"),
        "{stderr}"
    );
    assert!(stderr.contains("broken: broken"), "{stderr}");
}

/// `fix --nix --apply`: the edited flake is instantiated by real Nix for the proof, and
/// afterwards Nix and the static reader still read the same phases, with no miss left.
#[test]
fn an_applied_fix_evaluates_in_nix_and_both_readers_agree() {
    let Some(kit) = kit() else { return };
    for (proposal, flake) in [("1", "common-args"), ("1", "imported"), ("2", "quickstart")] {
        let fixture = flake_workspace(flake);
        let mut compare = vec!["--nix".to_string(), "--compare".to_string()];
        compare.extend(overrides(&kit));
        let before = run_json(&fixture, "phases", &compare);
        let output = cache_miss()
            .args([
                "fix",
                "--nix",
                "--no-cache",
                "--allow-no-vcs",
                "--apply",
                proposal,
            ])
            .arg("--manifest-path")
            .arg(fixture.manifest())
            .args(overrides(&kit))
            .success_stdout();
        let output = String::from_utf8(output).unwrap();
        assert!(
            output.ends_with(&format!("→ 0, as proposal {proposal} promised\n")),
            "{flake}: {output}"
        );
        let after = run_json(&fixture, "phases", &compare);
        let differences = |v: &Value| -> Vec<Value> {
            v["differences"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["what"] != "name")
                .cloned()
                .collect()
        };
        assert_eq!(
            differences(&after),
            differences(&before),
            "{flake}: {after}"
        );
        let mut nix_args = vec!["--nix".to_string()];
        nix_args.extend(overrides(&kit));
        let report = run_json(&fixture, "report", &nix_args);
        for phase in report["phases"].as_array().unwrap() {
            assert_eq!(phase["units"]["missed"], 0, "{flake}: {phase}");
        }
    }
}

/// Without Nix, the static reader cannot read a flake input's crane calls, and says so,
/// naming the input whose function the flake applies (the result bound in a `let`).
#[test]
fn the_static_reader_says_the_calls_are_in_the_input() {
    let fixture = flake_workspace("wrapper-input");
    let output = cache_miss()
        .args(["phases", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .success_stdout();
    let phases: Value = serde_json::from_slice(&output).unwrap();
    let warning = phases["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains(
            "the outputs come from the flake input `wrapper` (`wrapper.lib.mkOutputs`, flake.nix:9)"
        ) && warning.contains("run with --nix"),
        "{warning}"
    );
}

/// `--nix` asks Nix and cargo through one resolution cache: a cache directory others can
/// write is warned about once, not once per user of it.
#[test]
fn one_cache_and_one_permission_warning_with_nix() {
    use std::os::unix::fs::PermissionsExt;
    let Some(kit) = kit() else { return };
    let fixture = flake_workspace("common-args");
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = cache_miss()
        .args(["phases", "--nix", "--format", "json", "--cache-dir"])
        .arg(cache.path())
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(overrides(&kit))
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("is writable by other users").count(),
        1,
        "{stderr}"
    );
}
