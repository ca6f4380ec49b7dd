//! The resolution cache never lies: after each change a hostile user or a busy day can make,
//! a cached report is the same JSON, byte for byte, as a fresh `--no-cache` one; and what
//! cargo does not read (a `result` link, a report file, docs, a source file that is no
//! target) leaves the cache warm.

use std::fs;
use std::os::unix::fs::symlink;
use std::time::Duration;

use crate::common::{Fixture, append, cache_miss};
use crate::resolution_cache::{cache_dir, cached_report, entries, uncached_report};

/// Runs `setup`, a cached report, then `change`: the next cached report must be the
/// uncached one, and (the change mattering to cargo) differ from the report before it.
fn never_lies(name: &str, setup: impl Fn(&Fixture), change: impl Fn(&Fixture)) {
    let fixture = Fixture::new("demo");
    setup(&fixture);
    let cache = cache_dir(&fixture);
    let (before, _) = cached_report(&fixture, &cache, &[]);
    assert_eq!(
        before,
        uncached_report(&fixture),
        "{name}: before the change"
    );
    change(&fixture);
    let (after, (_, asked)) = cached_report(&fixture, &cache, &[]);
    let fresh = uncached_report(&fixture);
    assert_ne!(
        fresh, before,
        "{name}: the change does not matter; the test shows nothing"
    );
    assert!(asked > 0, "{name}: cargo was not asked again");
    assert_eq!(after, fresh, "{name}");
}

/// `cli/Cargo.toml` turned into a link to a manifest kept elsewhere.
fn link_cli_manifest(f: &Fixture) {
    let elsewhere = f.dir.path().join("manifests");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::rename(f.root().join("cli/Cargo.toml"), elsewhere.join("cli.toml")).unwrap();
    symlink(elsewhere.join("cli.toml"), f.root().join("cli/Cargo.toml")).unwrap();
}

#[test]
fn a_symlinked_manifest_counts_by_its_contents() {
    never_lies("symlinked manifest", link_cli_manifest, |f| {
        let target = f.dir.path().join("manifests/cli.toml");
        let text = fs::read_to_string(&target).unwrap();
        fs::write(&target, text.replace(", features = [\"fancy\"]", "")).unwrap();
    });
}

#[test]
fn a_config_patch_outside_the_workspace_counts_by_its_manifest() {
    let patched = |f: &Fixture| f.dir.path().join("patched/clionly");
    never_lies(
        "config [patch] outside",
        |f| {
            let from = f.dir.path().join("registry/clionly-0.1.0");
            crate::common::copy_dir(&from, &patched(f));
            let _ = fs::remove_file(patched(f).join(".cargo-checksum.json"));
            // A build script, off until the change below turns it on.
            fs::write(patched(f).join("build.rs"), "fn main() {}\n").unwrap();
            append(&patched(f).join("Cargo.toml"), "build = false\n");
            append(
                &f.root().join(".cargo/config.toml"),
                "\n[patch.crates-io]\nclionly = { path = \"../patched/clionly\" }\n",
            );
            lock(f);
        },
        |f| {
            let manifest = patched(f).join("Cargo.toml");
            let text = fs::read_to_string(&manifest).unwrap();
            fs::write(&manifest, text.replace("build = false\n", "")).unwrap();
        },
    );
}

/// Updates the fixture's lock file after a change to its dependencies.
fn lock(f: &Fixture) {
    let status = std::process::Command::new("cargo")
        .args(["metadata", "--offline", "--format-version", "1"])
        .current_dir(f.root())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_config_file_argument_counts_by_its_contents() {
    never_lies(
        "--config FILE",
        |f| cli_config(f, "[profile.release]\nopt-level = 3\n"),
        |f| {
            fs::write(
                f.root().join("cfg/extra.toml"),
                "[profile.release]\nopt-level = 1\n",
            )
            .unwrap()
        },
    );
}

/// The cli phase runs with `--config cfg/extra.toml`, holding `text`.
fn cli_config(f: &Fixture, text: &str) {
    let phases = f.root().join("phases.toml");
    let phases_text = fs::read_to_string(&phases).unwrap().replace(
        "cargoExtraArgs = \"--locked -p cli\"",
        "cargoExtraArgs = \"--locked -p cli --config cfg/extra.toml\"",
    );
    fs::write(&phases, phases_text).unwrap();
    append(&f.root().join("cfg/extra.toml"), text);
}

#[test]
fn a_file_a_config_includes_counts_by_its_contents() {
    never_lies(
        "config include",
        |f| {
            cli_config(f, "include = [\"release.toml\"]\n");
            append(
                &f.root().join("cfg/release.toml"),
                "[profile.release]\nopt-level = 3\n",
            );
        },
        |f| {
            fs::write(
                f.root().join("cfg/release.toml"),
                "[profile.release]\nopt-level = 1\n",
            )
            .unwrap()
        },
    );
}

#[test]
fn an_entry_under_another_key_is_never_served() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    let (first, _) = cached_report(&fixture, &cache, &[]);
    let stored = entries(&cache);
    let planted = fs::read(&stored[0]).unwrap();
    for entry in &stored[1..] {
        fs::write(entry, &planted).unwrap();
    }
    let (second, (hits, _)) = cached_report(&fixture, &cache, &[]);
    assert_eq!(hits, 1, "only the entry under its own key is served");
    assert_eq!(second, first);
}

#[test]
fn a_fifo_named_like_a_manifest_is_said_and_never_opened() {
    let fixture = Fixture::new("demo");
    let junk = fixture.root().join("junk");
    fs::create_dir_all(&junk).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(junk.join("Cargo.toml"))
        .status()
        .unwrap();
    assert!(made.success());
    let cache = cache_dir(&fixture);
    let output = cache_miss()
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
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("junk/Cargo.toml is a FIFO"), "{stderr}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        uncached_report(&fixture)
    );
}

#[test]
fn what_cargo_does_not_read_leaves_the_cache_warm() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    let (cold, _) = cached_report(&fixture, &cache, &[]);
    let root = fixture.root();
    symlink(fixture.dir.path().join("registry"), root.join("result")).unwrap();
    fs::write(root.join("cache-miss.json"), &cold).unwrap();
    append(&root.join("docs/notes.md"), "# notes\n");
    append(&root.join("cli/src/helper.rs"), "pub fn help() {}\n");
    append(&root.join("cli/src/main.rs.orig"), "\n");
    let (warm, (_, asked)) = cached_report(&fixture, &cache, &[]);
    assert_eq!(asked, 0, "cargo was asked again");
    assert_eq!(warm, cold);
    assert_eq!(uncached_report(&fixture), cold);
    for target in [
        "cli/src/bin/x.rs",
        "shared/tests/y.rs",
        "cli/examples/z/main.rs",
    ] {
        append(&root.join(target), "fn main() {}\n");
        let (after, (_, asked)) = cached_report(&fixture, &cache, &[]);
        assert!(asked > 0, "{target}: a new target, and cargo was not asked");
        assert_eq!(after, uncached_report(&fixture), "{target}");
    }
}

/// A new terminal or CI job sets variables cargo never reads, or a `PATH` that finds the same
/// toolchain: the cache stays warm, and
/// answers as `--no-cache` does; a variable cargo reads still asks again.
#[test]
fn variables_cargo_does_not_read_leave_the_cache_warm() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    let (cold, _) = cached_report(&fixture, &cache, &[]);
    // A shell that puts one more directory first finds the same toolchain.
    let path = format!("/nonexistent/bin:{}", std::env::var("PATH").unwrap());
    let job = [
        ("PATH", path.as_str()),
        ("GITHUB_RUN_ID", "7"),
        ("CI_JOB_ID", "8"),
        ("SSH_AUTH_SOCK", "/tmp/agent.1"),
        ("OPENSSL_DIR", "/nix/store/x-openssl"),
        ("COLUMNS", "91"),
    ];
    let (warm, (_, asked)) = cached_report(&fixture, &cache, &job);
    assert_eq!(asked, 0, "cargo was asked again");
    assert_eq!(warm, cold);
    assert_eq!(uncached_report(&fixture), cold);
    let (_, (_, asked)) = cached_report(&fixture, &cache, &[("CARGO_HTTP_TIMEOUT", "9")]);
    assert!(asked > 0, "a variable cargo reads, and cargo was not asked");
}

#[test]
fn a_cache_dir_others_can_write_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    fs::create_dir_all(&cache).unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o777)).unwrap();
    let stderr = fixture
        .report(&["--no-fix-check", "--cache-dir", cache.to_str().unwrap()])
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&stderr).contains("is writable by other users"),
        "{}",
        String::from_utf8_lossy(&stderr)
    );
}

/// `cache-miss cache ARGS` with `--cache-dir DIR`; its stdout.
fn cache_command(action: &str, cache: &std::path::Path) -> String {
    let output = cache_miss()
        .args(["cache", action, "--cache-dir"])
        .arg(cache)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(output).unwrap()
}

#[test]
fn cache_info_shows_entries_and_runs_and_clean_empties_it() {
    let fixture = Fixture::new("demo");
    let cache = cache_dir(&fixture);
    cached_report(&fixture, &cache, &[]);
    let (_, (hits, asked)) = cached_report(&fixture, &cache, &[]);
    let stored = entries(&cache).len();
    let info = cache_command("info", &cache);
    assert!(info.contains(&format!("entries: {stored}\n")), "{info}");
    assert!(info.contains(&cache.display().to_string()), "{info}");
    assert!(info.contains(&format!(": {hits} / {asked}\n")), "{info}");
    // Nothing of the user's is removed: a file of theirs in the cache dir stays.
    fs::write(cache.join("v1/mine.txt"), "keep").unwrap();
    let cleaned = cache_command("clean", &cache);
    assert!(
        cleaned.contains(&format!("removed {stored} entries")),
        "{cleaned}"
    );
    assert!(entries(&cache).iter().all(|e| e.ends_with("mine.txt")));
    assert!(cache.join("v1/mine.txt").is_file());
    let info = cache_command("info", &cache);
    assert!(
        info.contains("entries: 0\n") && info.contains("none recorded"),
        "{info}"
    );
    let (_, (_, asked)) = cached_report(&fixture, &cache, &[]);
    assert!(asked > 0, "an emptied cache asks cargo");
}
