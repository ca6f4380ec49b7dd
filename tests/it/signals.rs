//! A CI cancel (SIGTERM) or Ctrl-C (SIGINT) during `report` or `touch`, sent while a slow
//! stand-in cargo runs at several points: the run exits 128 + the signal, and leaves no
//! temp dir and no process (the stand-in and the child it started) behind.

use crate::common::{self, Fixture};
use crate::touch::repository;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// A `cargo` first on PATH that runs the real one, except for a call whose directory and
/// arguments contain `slow_on`: that one starts `sleep` and waits for it, after writing
/// its own pid and sleep's to `markers/started`.
fn slow_cargo(dir: &Path, slow_on: &str) -> (String, PathBuf) {
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("cargo"))
        .find(|p| p.is_file())
        .expect("cargo on PATH");
    let bin = dir.join("slow-bin");
    let markers = dir.join("markers");
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&markers).unwrap();
    let marker = markers.join("started");
    let script = bin.join("cargo");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$PWD $*\" in\n  *'{slow_on}'*)\n    sleep 600 &\n    echo \"$$ $!\" > '{part}'\n    mv '{part}' '{marker}'\n    wait\n    ;;\nesac\nexec '{real}' \"$@\"\n",
            part = marker.with_extension("part").display(),
            marker = marker.display(),
            real = real.display(),
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    (path, marker)
}

/// Whether a process runs (a zombie, ended but not yet reaped, does not).
fn running(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
    !state.is_some_and(|s| s.starts_with('Z'))
}

/// Runs `cache-miss ARGS` in `dir` with TMPDIR empty and a cargo slow on `slow_on`, sends
/// `signal` once the slow call runs, and checks what the run left.
fn interrupt(dir: &Path, args: &[&str], slow_on: &str, signal: Signal) {
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    let (path, marker) = slow_cargo(scratch.path(), slow_on);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cache-miss"))
        .args(args)
        .arg("--no-cache")
        .current_dir(dir)
        .env("PATH", path)
        .env("TMPDIR", &tmp)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CI")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !marker.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{args:?} ended ({status}) before cargo was slow on {slow_on:?}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{slow_on:?} never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pids: Vec<i32> = fs::read_to_string(&marker)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    kill_process(Pid::from_child(&child), signal).unwrap();
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{args:?} still runs 30 s after {signal:?} on {slow_on:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let (code, name) = match signal {
        Signal::INT => (130, "SIGINT"),
        _ => (143, "SIGTERM"),
    };
    let what = format!("{args:?}, {name} while cargo was slow on {slow_on:?}");
    assert_eq!(status.code(), Some(code), "{what}: {stderr}");
    assert!(
        stderr.contains(&format!("interrupted by {name}")),
        "{what}: {stderr}"
    );
    for pid in pids {
        assert!(!running(pid), "{what}: pid {pid} still runs");
    }
    let left: Vec<_> = fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(left, Vec::<PathBuf>::new(), "{what}: temp dirs left");
}

#[test]
fn report_cleans_up_after_sigint_and_sigterm_at_each_cargo_call() {
    let fixture = Fixture::new("select");
    let root = fixture.root();
    for slow_on in ["-vV", "metadata", "--unit-graph"] {
        for signal in [Signal::TERM, Signal::INT] {
            interrupt(&root, &["report"], slow_on, signal);
        }
    }
    // Nothing was written into the workspace.
    assert!(!root.join("target").exists());
    common::cache_miss()
        .arg("report")
        .current_dir(&root)
        .assert()
        .success();
}

#[test]
fn touch_cleans_up_after_sigint_and_sigterm_with_the_base_checked_out() {
    let fixture = repository();
    let root = fixture.root();
    // A lock file named: resolved again on the base revision's copy, in a temp dir.
    for slow_on in ["--unit-graph", "cache-miss-touch-"] {
        for signal in [Signal::TERM, Signal::INT] {
            interrupt(&root, &["touch", "Cargo.lock"], slow_on, signal);
        }
    }
}
