//! Benchmark: `cache-miss touch` (the real binary) with 10,000 changed files, in 100
//! directories of the `touch` fixture's `core/data` (which a file set keeps in the src of
//! three phases), JSON and table. Target: under 2 s with cargo's answers cached (the first
//! run, which asks cargo, is printed too). The table stays short: files counted by
//! directory.
//!
//! Run with `cargo bench --bench touch`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const FILES: usize = 10_000;
const RUNS: usize = 3;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let top = dir.path().canonicalize().expect("top");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    copy_dir(&fixtures.join("registry"), &top.join("registry"));
    copy_dir(&fixtures.join("touch"), &top.join("touch"));
    let root = top.join("touch");
    write_files(&root, "base");
    git(&top, &["init", "-q"]);
    git(&top, &["add", "-A"]);
    git(
        &top,
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-qm",
            "base",
        ],
    );
    write_files(&root, "edited");
    let cache = top.join("cache");
    for format in ["json", "table"] {
        let run = || {
            let started = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_cache-miss"))
                .args(["touch", "--format", format, "--cache-dir"])
                .arg(&cache)
                .current_dir(&root)
                .output()
                .expect("cache-miss runs");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            (started.elapsed(), output.stdout.len())
        };
        let (first, _) = run();
        let mut times: Vec<(Duration, usize)> = (0..RUNS).map(|_| run()).collect();
        times.sort();
        let (median, bytes) = times[RUNS / 2];
        println!(
            "touch, {FILES} changed files, --format {format}: median {:.2} s over {RUNS} runs with cargo's answers cached, first run {:.2} s; {bytes} bytes of output (target: under 2 s)",
            median.as_secs_f64(),
            first.as_secs_f64()
        );
    }
}

fn write_files(root: &Path, text: &str) {
    for i in 0..FILES {
        let path = root.join(format!("core/data/gen/d{:02}/f{i}.txt", i % 100));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("file");
    }
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
