//! Benchmark: `cache-miss report` on a generated large workspace (hundreds of fake
//! registry crates, several members, several phases), next to the same cargo
//! `--unit-graph` calls run one after another. Goals: ratio ≤ 1.0 and analysis < 5%.
//!
//! Run with `cargo bench --bench report`. Offline: the registry is generated locally.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cache_miss::{CargoRunner, PhaseSet, plan_phases, read_phases_file};

const CRATES: usize = 400;
const MEMBERS: usize = 12;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let workspace = generate(dir.path());
    if std::env::var_os("CACHE_MISS_BENCH_KEEP").is_some() {
        println!("workspace kept at {}", dir.keep().join("ws").display());
    }
    let manifest = workspace.join("Cargo.toml");
    let lock = Command::new("cargo")
        .args(["generate-lockfile", "--offline"])
        .current_dir(&workspace)
        .status()
        .expect("cargo generate-lockfile");
    assert!(lock.success(), "generating the lock file failed");

    let specs = read_phases_file(&workspace.join("phases.toml"), "phases.toml").expect("phases");
    let set = PhaseSet::from_specs(specs).expect("phase set");
    let plans = plan_phases(&set);
    // Warm cargo's caches once so both sides start equal.
    run_report(&manifest);

    let mut report_times = Vec::new();
    let mut analysis_times = Vec::new();
    for _ in 0..RUNS {
        let (wall, analysis) = run_report(&manifest);
        report_times.push(wall);
        analysis_times.push(analysis);
    }
    let mut sequential_times = Vec::new();
    for _ in 0..RUNS {
        // A fresh runner each time: a runner remembers what cargo answered.
        let runner = CargoRunner::new(&workspace);
        let started = Instant::now();
        for invocation in &plans.invocations {
            runner.unit_graph(invocation).expect("unit graph");
        }
        runner.metadata().expect("metadata");
        sequential_times.push(started.elapsed());
    }
    let report = median(report_times);
    let sequential = median(sequential_times);
    let analysis = median(analysis_times);
    println!(
        "workspace: {CRATES} registry crates, {MEMBERS} members, {} phases, {} distinct cargo resolutions",
        set.phases.len(),
        plans.invocations.len()
    );
    println!(
        "cache-miss report (median of {RUNS}): {:>7.1} ms",
        ms(report)
    );
    println!(
        "same cargo calls one after another:    {:>7.1} ms",
        ms(sequential)
    );
    println!(
        "ratio report / sequential:             {:>7.2}",
        report.as_secs_f64() / sequential.as_secs_f64()
    );
    println!(
        "analysis (diff + explain):             {:>7.1} ms = {:.1}% of the report",
        ms(analysis),
        100.0 * analysis.as_secs_f64() / report.as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs the release binary; returns its wall time and the analysis time it reports.
fn run_report(manifest: &Path) -> (Duration, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_cache-miss"))
        .args(["report", "--format", "json", "--timings", "--manifest-path"])
        .arg(manifest)
        .output()
        .expect("run cache-miss");
    let wall = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let analysis = stderr
        .split("analysis ")
        .nth(1)
        .and_then(|rest| rest.split(" ms").next())
        .and_then(|n| n.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    (wall, Duration::from_secs_f64(analysis / 1000.0))
}

/// A registry of `CRATES` crates (each depending on two lower ones, with features), a
/// workspace of `MEMBERS` members using different slices of it, and five phases.
fn generate(root: &Path) -> std::path::PathBuf {
    let registry = root.join("registry");
    for i in 0..CRATES {
        let dir = registry.join(format!("gen{i}-1.0.0"));
        fs::create_dir_all(dir.join("src")).unwrap();
        let mut deps = String::new();
        let mut extra = String::from("extra = []");
        for d in [i / 2, i.saturating_sub(1)] {
            if d < i && !deps.contains(&format!("gen{d} ")) {
                deps.push_str(&format!(
                    "gen{d} = {{ version = \"1\", default-features = false }}\n"
                ));
                extra = format!("extra = [\"gen{d}/extra\"]");
            }
        }
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"gen{i}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[features]\ndefault = [\"std\"]\nstd = []\n{extra}\n\n[dependencies]\n{deps}"
            ),
        )
        .unwrap();
        fs::write(dir.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        fs::write(
            dir.join(".cargo-checksum.json"),
            "{\"files\":{},\"package\":null}",
        )
        .unwrap();
    }
    let workspace = root.join("ws");
    fs::create_dir_all(workspace.join(".cargo")).unwrap();
    fs::write(
        workspace.join(".cargo/config.toml"),
        "[source.crates-io]\nreplace-with = \"vendored\"\n[source.vendored]\ndirectory = \"../registry\"\n",
    )
    .unwrap();
    let members: Vec<String> = (0..MEMBERS).map(|m| format!("\"m{m}\"")).collect();
    fs::write(
        workspace.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    for m in 0..MEMBERS {
        let dir = workspace.join(format!("m{m}"));
        fs::create_dir_all(dir.join("src")).unwrap();
        let top = CRATES - 1 - m * 7;
        let features = if m % 3 == 0 {
            ", features = [\"extra\"]"
        } else {
            ""
        };
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"m{m}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nfull = [\"gen{top}/extra\"]\n\n[dependencies]\ngen{top} = {{ version = \"1\"{features} }}\n\n[dev-dependencies]\ngen{} = \"1\"\n",
                CRATES / 3 + m
            ),
        )
        .unwrap();
        fs::write(dir.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    }
    fs::write(
        workspace.join("phases.toml"),
        r#"[phases.deps]
function = "buildDepsOnly"
cargoExtraArgs = "--locked -p m1"
doCheck = false

[phases.build]
function = "buildPackage"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked --workspace"

[phases.clippy]
function = "cargoClippy"
cargoArtifacts = "deps"
cargoClippyExtraArgs = "--all-targets --all-features -- -D warnings"

[phases.nextest]
function = "cargoNextest"
cargoArtifacts = "deps"

[phases.doc]
function = "cargoDoc"
cargoArtifacts = "deps"

[phases.lto]
function = "cargoBuild"
cargoArtifacts = "deps"
CARGO_PROFILE_RELEASE_LTO = "fat"
"#,
    )
    .unwrap();
    workspace
}
