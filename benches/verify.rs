//! Benchmark: `cache-miss verify` (real compilation) against `cache-miss report` (static
//! prediction) on the demo fixture: how much time the prediction saves.
//!
//! Run with `cargo bench --bench verify`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in ["registry", "demo"] {
        let status = Command::new("cp")
            .arg("-r")
            .arg(fixtures.join(name))
            .arg(dir.path())
            .status()
            .expect("cp");
        assert!(status.success());
    }
    let manifest = dir.path().join("demo/Cargo.toml");
    let time = |command: &str| -> Duration {
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let output = Command::new(env!("CARGO_BIN_EXE_cache-miss"))
                    .args([command, "--format", "json", "--manifest-path"])
                    .arg(&manifest)
                    .output()
                    .expect("run cache-miss");
                assert!(
                    output.status.success(),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                started.elapsed()
            })
            .collect();
        times.sort();
        times[RUNS / 2]
    };
    let report = time("report");
    let verify = time("verify");
    println!("fixture: demo (5 phases, 11 registry units in the deps-only build)");
    println!(
        "cache-miss report (median of {RUNS}): {:>8.1} ms",
        report.as_secs_f64() * 1000.0
    );
    println!(
        "cache-miss verify (median of {RUNS}): {:>8.1} ms",
        verify.as_secs_f64() * 1000.0
    );
    println!(
        "ratio verify / report:            {:>8.1}",
        verify.as_secs_f64() / report.as_secs_f64()
    );
}
