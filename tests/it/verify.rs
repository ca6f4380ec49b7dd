//! `cache-miss verify`: real builds measure exactly the misses `report` predicts.

use crate::common;

use common::CommandExt;

use std::fs;
use std::io::Read;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Fixture;
use predicates::prelude::*;
use rustix::process::{Pid, Signal, kill_process};
use serde_json::Value;

fn verify_json(fixture: &Fixture, extra: &[&str]) -> Value {
    let output = common::cache_miss()
        .args(["verify", "--check", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .args(extra)
        .success_stdout();
    let report: Value = serde_json::from_slice(&output).expect("verify prints JSON");
    crate::schema::assert_valid("verify", &report);
    report
}

fn assert_agrees(name: &str) -> Value {
    let fixture = Fixture::new(name);
    let report = verify_json(&fixture, &[]);
    for phase in report["phases"].as_array().unwrap() {
        let agreement = &phase["agreement"];
        assert!(
            agreement["predicted_only"].as_array().unwrap().is_empty(),
            "{name}/{}: {agreement}",
            phase["name"]
        );
        assert!(
            agreement["measured_only"].as_array().unwrap().is_empty(),
            "{name}/{}: {agreement}",
            phase["name"]
        );
        if phase["artifacts_from"].is_null() {
            continue;
        }
        let predicted = phase["misses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["mode"] != "run-custom-build")
            .count();
        assert_eq!(
            agreement["both"].as_u64().unwrap() as usize,
            predicted,
            "{name}/{}",
            phase["name"]
        );
        let measured = phase["measured"].as_array().unwrap();
        assert_eq!(measured.len(), predicted, "{name}/{}", phase["name"]);
        if !measured.is_empty() {
            assert!(
                phase["rebuild_seconds"].as_f64().unwrap() > 0.0,
                "{name}/{}",
                phase["name"]
            );
        }
    }
    report
}

#[test]
fn select_scenario_is_measured_as_predicted() {
    let report = assert_agrees("select");
    let cli = common::phase(&report, "cli");
    assert_eq!(cli["measured"].as_array().unwrap().len(), 4);
    for unit in cli["measured"].as_array().unwrap() {
        for field in ["package", "version", "target", "mode", "seconds"] {
            assert!(unit.get(field).is_some(), "{field}");
        }
    }
}

#[test]
fn dev_deps_scenario_is_measured_as_predicted() {
    assert_agrees("dev-deps");
}

#[test]
fn all_features_scenario_is_measured_as_predicted() {
    assert_agrees("all-features");
}

#[test]
fn profile_scenario_is_measured_as_predicted() {
    assert_agrees("profile");
}

#[test]
fn rustflags_scenario_is_measured_as_predicted() {
    assert_agrees("rustflags");
}

#[test]
fn roles_scenario_is_measured_as_predicted() {
    assert_agrees("roles");
}

#[test]
fn a_crate_whose_bench_calls_its_library_is_rebuilt_from_its_real_source() {
    let report = assert_agrees("solo");
    for name in ["package", "bench"] {
        assert_eq!(common::phase(&report, name)["units"]["missed"], 0, "{name}");
    }
}

#[test]
fn cascade_scenario_is_measured_as_predicted() {
    assert_agrees("cascade");
}

#[test]
fn clean_scenario_rebuilds_nothing() {
    let report = assert_agrees("clean");
    for phase in report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["artifacts_from"].is_null())
    {
        assert!(
            phase["measured"].as_array().unwrap().is_empty(),
            "{}",
            phase["name"]
        );
    }
}

#[test]
fn root_package_scenario_is_measured_as_predicted() {
    assert_agrees("root-package");
}

#[test]
fn demo_scenario_is_measured_as_predicted() {
    assert_agrees("demo");
}

#[test]
fn platform_scenario_replays_what_the_machine_can_compile() {
    // No aarch64 standard library on this machine: the cross phase is not replayed (and
    // says why); the host-triple phase is, and agrees.
    let fixture = Fixture::new("platform");
    let report = verify_json(&fixture, &[]);
    let cross = common::phase(&report, "cross");
    assert_eq!(
        cross["skipped"],
        "not replayed: the aarch64-unknown-linux-gnu standard library is not installed here (`rustup target add aarch64-unknown-linux-gnu`)"
    );
    assert!(cross["measured"].as_array().unwrap().is_empty());
    let host = common::phase(&report, "hosttriple");
    assert!(host["skipped"].is_null());
    assert_eq!(host["agreement"]["both"], 2);
    assert!(
        host["agreement"]["measured_only"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_users_tree_is_unchanged_after_verify() {
    let fixture = Fixture::new("select");
    let before = common::snapshot_tree(&fixture.root());
    verify_json(&fixture, &[]);
    assert_eq!(common::snapshot_tree(&fixture.root()), before);
}

#[test]
fn a_failing_build_names_phase_and_command_and_leaves_no_temp_dir() {
    let fixture = Fixture::new("select");
    fs::write(
        fixture.root().join("cli/src/main.rs"),
        "fn main() { let x: u32 = \"not a number\"; }\n",
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    common::cache_miss()
        .args(["verify", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "phase `cli`: replaying `cargo build --release --locked -p cli` failed",
        ))
        .stderr(predicate::str::contains("mismatched types"));
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the replay's temp dir was left behind"
    );
}

#[test]
fn keep_leaves_the_replay_and_says_where() {
    let fixture = Fixture::new("clean");
    let tmp = tempfile::tempdir().unwrap();
    let output = common::cache_miss()
        .args(["verify", "--keep", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .success_stdout();
    let report: Value = serde_json::from_slice(&output).unwrap();
    let kept = report["kept_at"].as_str().expect("kept_at");
    assert!(std::path::Path::new(kept).join("src/Cargo.toml").is_file());
}

#[test]
fn what_the_flake_reader_could_not_resolve_is_in_verify_output_too() {
    let fixture = Fixture::new("clean");
    let flake = common::fixtures_dir().join("flakes/unresolved/flake.nix");
    let flake = flake.to_str().unwrap();
    let report = verify_json(&fixture, &["--flake", flake]);
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("outside the flake's directory"),
        "{}",
        report["warnings"]
    );
}

/// The `clean` fixture with a build script in `app` that writes its own pid and cargo's
/// to `marker`, then sleeps: replaying `package` (the real source; the deps-only build has
/// a dummy build script) keeps cargo busy until it is stopped.
fn fixture_with_a_hanging_build(marker: &Path) -> Fixture {
    let fixture = Fixture::new("clean");
    let build_script = format!(
        r#"fn main() {{
    let marker = std::path::Path::new({marker:?});
    let pids = format!("{{}} {{}}\n", std::process::id(), std::os::unix::process::parent_id());
    std::fs::write(marker.with_extension("part"), pids).unwrap();
    std::fs::rename(marker.with_extension("part"), marker).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(600));
}}
"#
    );
    fs::write(fixture.root().join("app/build.rs"), build_script).unwrap();
    fixture
}

/// What an interrupted `cache-miss verify` left.
struct Interrupted {
    code: Option<i32>,
    /// From the signal to the exit.
    exit_after: Duration,
    stderr: String,
    /// The pids of the build script and of the cargo running it.
    build_script: i32,
    cargo: i32,
}

/// Starts `cache-miss verify` (with `TMPDIR=tmp`) on a fixture with a hanging build,
/// sends `signal` once cargo runs the build script, and waits for the exit.
fn interrupt_verify(signal: Signal, tmp: &Path, extra: &[&str]) -> Interrupted {
    let markers = tempfile::tempdir().unwrap();
    let marker = markers.path().join("started");
    let fixture = fixture_with_a_hanging_build(&marker);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cache-miss"))
        .args(["verify", "--manifest-path"])
        .arg(fixture.manifest())
        .args(extra)
        .env("TMPDIR", tmp)
        .env("CARGO_TERM_COLOR", "never")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !marker.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("verify ended before the build script ran: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the build script did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pids = fs::read_to_string(&marker).unwrap();
    let pids: Vec<i32> = pids
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    kill_process(Pid::from_child(&child), signal).unwrap();
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("verify still runs 60 s after {signal:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let exit_after = sent.elapsed();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Interrupted {
        code: status.code(),
        exit_after,
        stderr,
        build_script: pids[0],
        cargo: pids[1],
    }
}

/// Whether a process runs (a zombie, ended but not yet reaped, does not).
fn running(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
    !state.is_some_and(|s| s.starts_with('Z'))
}

fn assert_ended(pid: i32, what: &str) {
    let started = Instant::now();
    while running(pid) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} (pid {pid}) still runs after verify was stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_stops_cargo_and_removes_the_temp_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let stopped = interrupt_verify(Signal::TERM, tmp.path(), &[]);
    eprintln!("verify exited {:?} after SIGTERM", stopped.exit_after);
    assert_eq!(stopped.code, Some(143), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("interrupted by SIGTERM"),
        "{}",
        stopped.stderr
    );
    assert!(stopped.exit_after < Duration::from_secs(10));
    assert_ended(stopped.cargo, "cargo");
    assert_ended(stopped.build_script, "the build script cargo ran");
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the replay's temp dir was left behind"
    );
}

#[test]
fn a_closed_terminals_sighup_stops_cargo_too() {
    // cargo runs outside the terminal's foreground group, so the hangup reaches only
    // cache-miss, which passes it on.
    let tmp = tempfile::tempdir().unwrap();
    let stopped = interrupt_verify(Signal::HUP, tmp.path(), &[]);
    assert_eq!(stopped.code, Some(129), "{}", stopped.stderr);
    assert_ended(stopped.cargo, "cargo");
    assert_ended(stopped.build_script, "the build script cargo ran");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn sigint_with_keep_keeps_the_replay_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let stopped = interrupt_verify(Signal::INT, tmp.path(), &["--keep"]);
    assert_eq!(stopped.code, Some(130), "{}", stopped.stderr);
    assert_ended(stopped.cargo, "cargo");
    assert_ended(stopped.build_script, "the build script cargo ran");
    let kept: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].join("src/app/build.rs").is_file());
    assert!(
        stopped.stderr.contains(&format!(
            "the replay's temp dir is kept at {}",
            kept[0].display()
        )),
        "{}",
        stopped.stderr
    );
}

#[test]
fn keep_after_a_failed_build_says_where_the_replay_is() {
    let fixture = Fixture::new("select");
    fs::write(
        fixture.root().join("cli/src/main.rs"),
        "fn main() { let x: u32 = \"not a number\"; }\n",
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let output = common::cache_miss()
        .args(["verify", "--keep", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .assert()
        .code(2)
        .get_output()
        .clone();
    let kept: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "the replay's temp dir is kept at {}",
            kept[0].display()
        )),
        "{stderr}"
    );
}

#[test]
fn fifos_and_sockets_in_the_workspace_are_not_copied() {
    let fixture = Fixture::new("clean");
    let status = std::process::Command::new("mkfifo")
        .arg(fixture.root().join("app/pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let _socket = UnixListener::bind(fixture.root().join("app/socket")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let output = common::cache_miss()
        .args([
            "verify",
            "--check",
            "--keep",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .timeout(Duration::from_secs(300))
        .success_stdout();
    let report: Value = serde_json::from_slice(&output).unwrap();
    let kept = Path::new(report["kept_at"].as_str().unwrap());
    assert!(kept.join("src/app/Cargo.toml").is_file());
    for name in ["pipe", "socket"] {
        assert!(
            fs::symlink_metadata(kept.join("src/app").join(name)).is_err(),
            "{name} was copied"
        );
    }
}

#[test]
fn a_temp_dir_inside_the_workspace_is_refused() {
    let fixture = Fixture::new("clean");
    let inside = fixture.root().join("tmp");
    fs::create_dir(&inside).unwrap();
    let before = common::snapshot_tree(&fixture.root());
    common::cache_miss()
        .args(["verify", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", &inside)
        .timeout(Duration::from_secs(120))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "the temp dir {} (TMPDIR) is inside the workspace",
            inside.canonicalize().unwrap().display()
        )))
        .stderr(predicate::str::contains(
            "set TMPDIR to a directory outside",
        ));
    assert_eq!(fs::read_dir(&inside).unwrap().count(), 0);
    assert_eq!(common::snapshot_tree(&fixture.root()), before);
}

#[test]
fn a_parent_directorys_cargo_config_is_carried_into_the_replay() {
    // A monorepo: the source replacement lives in a `.cargo/config.toml` above the
    // workspace. Offline, cargo would fail on crates.io if the replay lost it.
    let fixture = Fixture::new("clean");
    let own = fixture.root().join(".cargo");
    fs::remove_dir_all(&own).unwrap();
    let parent = fixture.dir.path().join(".cargo");
    fs::create_dir(&parent).unwrap();
    fs::write(
        parent.join("config.toml"),
        "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"registry\"\n",
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let output = common::cache_miss()
        .args(["verify", "--check", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .env("CARGO_NET_OFFLINE", "true")
        .success_stdout();
    let report: Value = serde_json::from_slice(&output).unwrap();
    let deps = common::phase(&report, "deps");
    assert!(deps["skipped"].is_null());
    assert!(report["phases"].as_array().unwrap().len() > 1);
}

#[test]
fn a_path_dependency_outside_the_workspace_is_a_clear_verify_error() {
    let fixture = crate::common::with_outside_path_dependency();
    let outside = fixture.dir.path().join("outside");
    let tmp = tempfile::tempdir().unwrap();
    common::cache_miss()
        .args(["verify", "--manifest-path"])
        .arg(fixture.manifest())
        .env("TMPDIR", tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "the path dependency `outside` ({}) is outside the workspace",
            outside.display()
        )));
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}
