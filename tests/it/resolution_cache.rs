//! The resolution cache: a repeat asks cargo nothing, a change to anything cargo's answer
//! depends on asks again, corrupt entries are survived, concurrent runs agree, and every
//! fixture's report is the same with and without the cache.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{Fixture, append, cache_miss};

/// `report --format json --timings --cache-dir CACHE`; returns stdout and how many cargo
/// answers came `(from the cache, from cargo)`.
pub(crate) fn cached_report(
    fixture: &Fixture,
    cache: &Path,
    extra_env: &[(&str, &str)],
) -> (String, (usize, usize)) {
    let mut command = cache_miss();
    command
        .args(["report", "--format", "json", "--timings", "--no-fix-check"])
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .arg("--cache-dir")
        .arg(cache)
        .envs(extra_env.iter().copied());
    let output = command.assert().success().get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (
        String::from_utf8(output.stdout).expect("UTF-8"),
        answers(&stderr),
    )
}

/// `(from the cache, from cargo)` in the `--timings` line.
fn answers(stderr: &str) -> (usize, usize) {
    let count = |label: &str| -> usize {
        let before = stderr
            .split(label)
            .next()
            .unwrap_or_else(|| panic!("no `{label}` in {stderr}"));
        let number = before.rsplit([' ', ',']).find(|w| !w.is_empty()).unwrap();
        number
            .parse()
            .unwrap_or_else(|_| panic!("no count before `{label}` in {stderr}"))
    };
    assert!(stderr.contains(" from cargo"), "{stderr}");
    (count(" from the cache"), count(" from cargo"))
}

pub(crate) fn uncached_report(fixture: &Fixture) -> String {
    uncached_report_with(fixture, &[])
}

/// The report JSON without the cache, with `env` set.
fn uncached_report_with(fixture: &Fixture, env: &[(&str, &std::ffi::OsStr)]) -> String {
    let output = cache_miss()
        .args([
            "report",
            "--no-fix-check",
            "--format",
            "json",
            "--no-cache",
            "--manifest-path",
        ])
        .arg(fixture.manifest())
        .envs(env.iter().copied())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(output).expect("UTF-8")
}

/// A directory for the cache beside (not inside) the fixture's workspace.
pub(crate) fn cache_dir(fixture: &Fixture) -> PathBuf {
    fixture.dir.path().join("cache")
}

/// A `cargo` first on PATH that logs every call, then runs the real one.
fn logging_cargo(dir: &Path) -> (String, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("cargo"))
        .find(|p| p.is_file())
        .expect("cargo on PATH");
    let bin = dir.join("logging-bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("cargo-calls.log");
    let script = bin.join("cargo");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (path, log)
}

#[test]
fn a_repeat_runs_no_cargo_at_all() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    let (path, log) = logging_cargo(fixture.dir.path());
    let env = [("PATH", path.as_str())];
    let (first, (hits, asked)) = cached_report(&fixture, &cache, &env);
    assert_eq!(hits, 0);
    assert!(asked >= 5, "{asked}");
    assert!(fs::read_to_string(&log).unwrap().contains("--unit-graph"));
    fs::remove_file(&log).unwrap();
    let (second, (hits, asked)) = cached_report(&fixture, &cache, &env);
    assert_eq!(second, first);
    assert_eq!(asked, 0);
    assert!(hits >= 5, "{hits}");
    assert!(
        !log.exists(),
        "cargo ran: {}",
        fs::read_to_string(&log).unwrap()
    );
    assert_eq!(uncached_report(&fixture), first);
}

/// Runs the report once, applies `change`, runs it again: cargo must be asked again.
fn change_misses(name: &str, change: impl Fn(&Fixture)) {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    let home = fixture.dir.path().join("cargo-home");
    fs::create_dir_all(&home).unwrap();
    let home_text = home.display().to_string();
    let env = [("CARGO_HOME", home_text.as_str())];
    cached_report(&fixture, &cache, &env);
    let (_, (_, asked)) = cached_report(&fixture, &cache, &env);
    assert_eq!(asked, 0, "{name}: the repeat hits");
    change(&fixture);
    let (after, (_, asked)) = cached_report(&fixture, &cache, &env);
    assert!(asked > 0, "{name}: cargo was not asked after the change");
    let uncached = uncached_report_with(&fixture, &[("CARGO_HOME", home.as_os_str())]);
    assert_eq!(after, uncached, "{name}");
}

#[test]
fn a_change_to_a_manifest_misses() {
    change_misses("member manifest", |f| {
        append(&f.root().join("cli/Cargo.toml"), "\n# changed\n")
    });
}

#[test]
fn a_change_to_the_lock_file_misses() {
    change_misses("Cargo.lock", |f| append(&f.root().join("Cargo.lock"), "\n"));
}

#[test]
fn a_change_to_any_cargo_config_misses() {
    change_misses("workspace config", |f| {
        append(&f.root().join(".cargo/config.toml"), "\n# changed\n")
    });
    change_misses("config above the workspace", |f| {
        append(
            &f.dir.path().join(".cargo/config.toml"),
            "[net]\nretry = 3\n",
        )
    });
    change_misses("CARGO_HOME config", |f| {
        append(
            &f.dir.path().join("cargo-home/config.toml"),
            "[net]\nretry = 3\n",
        )
    });
}

#[test]
fn a_change_to_the_toolchain_file_misses() {
    change_misses("rust-toolchain.toml", |f| {
        append(
            &f.root().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"stable\"\n",
        )
    });
}

#[test]
fn a_new_target_file_and_a_registry_change_miss() {
    change_misses("new test target", |f| {
        append(&f.root().join("cli/tests/new.rs"), "#[test]\nfn t() {}\n")
    });
    change_misses("directory source", |f| {
        let registry = f.dir.path().join("registry");
        let first = fs::read_dir(&registry)
            .unwrap()
            .flatten()
            .find(|e| e.path().join("Cargo.toml").is_file())
            .unwrap();
        append(&first.path().join("Cargo.toml"), "\n# changed\n");
    });
}

#[test]
fn an_edit_to_source_code_still_hits() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    let (first, _) = cached_report(&fixture, &cache, &[]);
    append(&fixture.root().join("cli/src/main.rs"), "\n// edited\n");
    let (second, (_, asked)) = cached_report(&fixture, &cache, &[]);
    assert_eq!(asked, 0, "a source edit changes no unit graph");
    assert_eq!(second, first);
}

#[test]
fn a_changed_environment_misses() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    cached_report(&fixture, &cache, &[]);
    let (_, (_, asked)) = cached_report(&fixture, &cache, &[("CARGO_NET_RETRY", "7")]);
    assert!(asked > 0);
}

/// Every file of the cache's entries.
pub(crate) fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for shard in fs::read_dir(cache.join("v1")).unwrap().flatten() {
        if shard.path().is_dir() {
            files.extend(
                fs::read_dir(shard.path())
                    .unwrap()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    files
}

#[test]
fn corrupt_entries_are_ignored_and_rewritten() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    let (first, _) = cached_report(&fixture, &cache, &[]);
    let stored = entries(&cache);
    assert!(stored.len() >= 5, "{stored:?}");
    for (i, entry) in stored.iter().enumerate() {
        match i % 3 {
            0 => fs::write(entry, b"not an entry").unwrap(),
            1 => {
                let bytes = fs::read(entry).unwrap();
                fs::write(entry, &bytes[..bytes.len() / 2]).unwrap();
            }
            _ => {
                let mut bytes = fs::read(entry).unwrap();
                let last = bytes.len() - 1;
                bytes[last] ^= 0x20;
                fs::write(entry, bytes).unwrap();
            }
        }
    }
    let (second, (hits, _)) = cached_report(&fixture, &cache, &[]);
    assert_eq!(second, first);
    assert_eq!(hits, 0, "no corrupt entry is trusted");
    let (third, (_, asked)) = cached_report(&fixture, &cache, &[]);
    assert_eq!(third, first);
    assert_eq!(asked, 0, "the entries were rewritten");
}

#[test]
fn concurrent_reports_agree() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    // The environment is part of every key: `cache_miss()` sets the same one as
    // `cached_report` below (without CI's variables).
    let run = || {
        cache_miss()
            .args([
                "report",
                "--no-fix-check",
                "--format",
                "json",
                "--manifest-path",
            ])
            .arg(fixture.manifest())
            .arg("--cache-dir")
            .arg(&cache)
            .output()
            .unwrap()
    };
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3).map(|_| scope.spawn(run)).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let expected = uncached_report(&fixture);
    for output in outputs {
        assert!(output.status.success());
        assert!(String::from_utf8(output.stdout).unwrap() == expected);
    }
    let (warm, (_, asked)) = cached_report(&fixture, &cache, &[]);
    assert_eq!(asked, 0);
    assert!(warm == expected);
}

#[test]
fn a_cache_dir_that_is_a_file_is_a_clear_error() {
    let fixture = Fixture::new("demo");
    let file = fixture.dir.path().join("file");
    fs::write(&file, "").unwrap();
    let output = fixture
        .report(&["--cache-dir", file.to_str().unwrap()])
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&output).contains("--cache-dir"));
    fixture.report(&["--cache-dir", "x", "--no-cache"]).code(2);
}

#[test]
fn the_default_cache_is_under_xdg_cache_home() {
    let fixture = Fixture::new("demo");
    let xdg = fixture.dir.path().join("xdg");
    cache_miss()
        .args(["report", "--manifest-path"])
        .arg(fixture.manifest())
        .env("XDG_CACHE_HOME", &xdg)
        .assert()
        .success();
    assert!(!entries(&xdg.join("cache-miss")).is_empty());
}

macro_rules! same_without_cache {
    ($($test:ident => $fixture:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let fixture = Fixture::new($fixture);
            let cache = cache_dir(&fixture);
            let (cold, _) = cached_report(&fixture, &cache, &[]);
            let (warm, (_, asked)) = cached_report(&fixture, &cache, &[]);
            assert_eq!(asked, 0);
            assert_eq!(warm, cold);
            assert_eq!(uncached_report(&fixture), cold);
        }
    )*};
}

crate::common::with_every_fixture!(same_without_cache);

/// A deps-only phase that says `--workspace`, and a nextest phase that names no package.
const WORKSPACE_AND_DEFAULT: &str = r#"
[phases.deps]
function = "buildDepsOnly"
cargoExtraArgs = "--locked --workspace"

[phases.nextest]
function = "cargoNextest"
cargoArtifacts = "deps"
"#;

/// The `cargo test` unit-graph calls `fixture`'s report with [`WORKSPACE_AND_DEFAULT`] made.
fn test_calls(fixture: &Fixture) -> Vec<String> {
    let (path, log) = logging_cargo(fixture.dir.path());
    let (report, _) = cached_report(fixture, &cache_dir(fixture), &[("PATH", path.as_str())]);
    assert_eq!(report, uncached_report(fixture));
    fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|call| call.starts_with("test ") && call.contains("--unit-graph"))
        .map(String::from)
        .collect()
}

#[test]
fn naming_no_package_in_a_virtual_workspace_asks_the_workspace_question_once() {
    let fixture = Fixture::with_phases("demo", WORKSPACE_AND_DEFAULT);
    let calls = test_calls(&fixture);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].contains("--workspace"), "{calls:?}");
    let report: serde_json::Value = serde_json::from_str(&uncached_report(&fixture)).unwrap();
    let needed = |name: &str| {
        report["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["units"]["needed"].as_u64().unwrap())
            .unwrap()
    };
    assert!(needed("nextest") > 0);
}

#[test]
fn naming_no_package_elsewhere_is_its_own_question() {
    // A root package: without `-p`, cargo builds only it.
    let root_package = Fixture::with_phases("root-package", WORKSPACE_AND_DEFAULT);
    assert_eq!(test_calls(&root_package).len(), 2);
    // `default-members`: without `-p`, cargo builds only those.
    let fixture = Fixture::with_phases("demo", WORKSPACE_AND_DEFAULT);
    let manifest = fixture.root().join("Cargo.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replace("[workspace]", "[workspace]\ndefault-members = [\"cli\"]"),
    )
    .unwrap();
    assert_eq!(test_calls(&fixture).len(), 2);
}

/// Two phases whose cargo command is one, one of them instrumented (`cargo llvm-cov`: its
/// units carry `-C instrument-coverage`): a warm run reads each its own view of the one
/// answer, as a run without the cache does.
#[test]
fn an_instrumented_phase_sharing_a_command_is_read_warm_as_cold() {
    let fixture = crate::common::flake_workspace("merged-conditional");
    let cache = cache_dir(&fixture);
    let uncached = uncached_report(&fixture);
    assert!(uncached.contains("instrument-coverage"), "{uncached}");
    let (cold, _) = cached_report(&fixture, &cache, &[]);
    let (warm, (_, asked)) = cached_report(&fixture, &cache, &[]);
    assert_eq!(asked, 0);
    assert_eq!(cold, uncached);
    assert_eq!(warm, uncached);
}
