//! Benchmark: `cache-miss report` on a generated workspace the size of a real crane
//! monorepo (450 registry packages, 16 members, phases needing 20+ distinct resolutions:
//! several buildDepsOnly chains, features, profiles and a second target), measured
//! - cold (empty cache) against the phases' cargo calls run one after another with bare
//!   cargo: the whole report (goal ≤ 0.75) and `--no-fix-check` (goal ≤ 0.60),
//! - warm (every answer from the cache; goal ≤ 5% of cold and under 50 ms), also after a
//!   `result` link and a report file were written into the workspace, run from a new shell
//!   (one more directory on PATH, a CI job's variables): what a crane day leaves and
//!   changes, none of which cargo reads, so the cache still answers,
//! - peak memory against the largest single cargo call (goal: at most +100 MB),
//! - growth from 100 to 450 packages (goal: linear).
//!
//! Run with `cargo bench --bench report`. Offline: the registry is generated locally.
//! `CACHE_MISS_BENCH_BASELINE=/path/to/older/cache-miss` also times another binary (one
//! with `--cache-dir`) on the same workspace, cold and warm, its runs interleaved with
//! this build's so that both see the same machine load. `CACHE_MISS_BENCH_NO_GROWTH=1`
//! skips the growth series.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cache_miss::{
    CacheLocation, CargoRunner, Invocation, PhaseSet, PhaseSourceOptions, ReportRequest, Silent,
    load_phases, plan_phases, read_phases_file,
};

const CRATES: usize = 450;
const MEMBERS: usize = 16;
const RUNS: usize = 5;
const SECOND_TARGET: &str = "aarch64-unknown-linux-gnu";

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = if std::env::var_os("CACHE_MISS_BENCH_KEEP").is_some() {
        let kept = dir.keep();
        println!("workspace kept at {}", kept.join("ws").display());
        kept
    } else {
        dir.path().to_path_buf()
    };
    let workspace = generate(&root, CRATES, MEMBERS);
    let manifest = workspace.join("Cargo.toml");
    let specs = read_phases_file(&workspace.join("phases.toml"), "phases.toml").expect("phases");
    let set = PhaseSet::from_specs(specs).expect("phase set");
    let plans = plan_phases(&set);
    // Warm cargo's own caches once so every side starts equal.
    run_report(&manifest, &["--no-cache"]);
    let every_call = calls_of_report(&manifest);

    println!("load average before: {}", load_average());
    let this = PathBuf::from(env!("CARGO_BIN_EXE_cache-miss"));
    let baseline = std::env::var_os("CACHE_MISS_BENCH_BASELINE").map(PathBuf::from);
    let binaries: Vec<&Path> = std::iter::once(this.as_path())
        .chain(baseline.as_deref())
        .collect();
    let cache = root.join("cache");
    let cache_arg = ["--cache-dir", cache.to_str().unwrap()];
    // Rounds interleave every side, so that a change in the machine's load hits all alike.
    let mut cold_runs: Vec<Vec<Run>> = binaries.iter().map(|_| Vec::new()).collect();
    let mut warm_runs: Vec<Vec<Run>> = binaries.iter().map(|_| Vec::new()).collect();
    let mut no_fix_check_runs = Vec::new();
    let mut after_edits_runs = Vec::new();
    let no_fix_check_arg = ["--cache-dir", cache.to_str().unwrap(), "--no-fix-check"];
    let mut uncached_runs = Vec::new();
    let mut sequential_runs = Vec::new();
    let mut every_call_runs = Vec::new();
    for _ in 0..RUNS {
        for (b, binary) in binaries.iter().enumerate() {
            let _ = fs::remove_dir_all(&cache);
            cold_runs[b].push(run_binary(binary, &manifest, &cache_arg));
            warm_runs[b].push(run_binary(binary, &manifest, &cache_arg));
            // While the cache holds this binary's answers (the baseline's keys may differ).
            if b == 0 {
                after_edits_runs.push(warm_after_edits(&workspace, &manifest, &cache_arg));
            }
        }
        let _ = fs::remove_dir_all(&cache);
        no_fix_check_runs.push(run_report(&manifest, &no_fix_check_arg));
        uncached_runs.push(run_report(&manifest, &["--no-cache"]));
        sequential_runs.push(one_after_another(&workspace, &plans.invocations));
        every_call_runs.push(one_after_another(&workspace, &every_call));
    }
    let cold_runs_of_this: Vec<Duration> = cold_runs[0].iter().map(|r| r.wall).collect();
    let mut colds = cold_runs.into_iter().map(|runs| median(runs.into_iter()));
    let mut warms = warm_runs.into_iter().map(|runs| median(runs.into_iter()));
    let (cold, warm) = (colds.next().unwrap(), warms.next().unwrap());
    let best_cold = best(&cold_runs_of_this);
    let best_no_fix_check = best(&no_fix_check_runs.iter().map(|r| r.wall).collect::<Vec<_>>());
    let no_fix_check = median(no_fix_check_runs.into_iter());
    let most_asked_after_edits = after_edits_runs.iter().map(|(_, asked)| *asked).max();
    let after_edits = median(after_edits_runs.into_iter().map(|(run, _)| run));
    let uncached = median(uncached_runs.into_iter());
    let sequential_best = best(&sequential_runs.iter().map(|r| r.wall).collect::<Vec<_>>());
    let sequential = median(sequential_runs.into_iter());
    let every_call_sequential = median(every_call_runs.into_iter());
    let largest_cargo = plans
        .invocations
        .iter()
        .filter_map(|inv| cargo_peak_kb(&workspace, inv.subcommand, &inv.args, &inv.env))
        .max();

    println!(
        "workspace: {} packages ({CRATES} registry, {MEMBERS} members), {} phases, {} distinct cargo resolutions",
        CRATES + MEMBERS,
        set.phases.len(),
        plans.invocations.len()
    );
    println!("median of {RUNS}:");
    println!(
        "  report, cold cache:                  {:>8.1} ms",
        ms(cold.wall)
    );
    println!(
        "  report, --no-cache:                  {:>8.1} ms",
        ms(uncached.wall)
    );
    println!(
        "  same cargo calls one after another:  {:>8.1} ms",
        ms(sequential.wall)
    );
    let best_sequential = sequential_best;
    println!(
        "  ratio cold / sequential:             {:>8.2}   best of {RUNS}: {:.2}   (goal ≤ 0.75)",
        cold.wall.as_secs_f64() / sequential.wall.as_secs_f64(),
        best_cold.as_secs_f64() / best_sequential.as_secs_f64()
    );
    println!(
        "  report --no-fix-check, cold cache:   {:>8.1} ms",
        ms(no_fix_check.wall)
    );
    println!(
        "  ratio --no-fix-check / sequential:   {:>8.2}   best of {RUNS}: {:.2}   (goal ≤ 0.60)",
        no_fix_check.wall.as_secs_f64() / sequential.wall.as_secs_f64(),
        best_no_fix_check.as_secs_f64() / best_sequential.as_secs_f64()
    );
    println!(
        "  every cargo call of the report ({} resolutions, with the fix-line check's), one after another: {:.1} ms; ratio cold / that: {:.2}",
        every_call.len(),
        ms(every_call_sequential.wall),
        cold.wall.as_secs_f64() / every_call_sequential.wall.as_secs_f64()
    );
    println!(
        "  report, warm cache:                  {:>8.1} ms = {:.1}% of cold   (goal ≤ 5%, < 50 ms); CPU {}",
        ms(warm.wall),
        100.0 * warm.wall.as_secs_f64() / cold.wall.as_secs_f64(),
        cpu_text(&warm)
    );
    println!(
        "  warm, after `result` link + report file, in a new shell: {:>4.1} ms = {:.1}% of cold   (goal ≤ 5%, < 50 ms); answers from cargo: {}",
        ms(after_edits.wall),
        100.0 * after_edits.wall.as_secs_f64() / cold.wall.as_secs_f64(),
        most_asked_after_edits.unwrap_or_default()
    );
    println!(
        "  analysis (diff + explain):           {:>8.1} ms",
        ms(cold.analysis)
    );
    if let (Some(report), Some(cargo)) = (cold.peak_kb, largest_cargo) {
        println!(
            "  peak memory: report {} MB, largest single cargo call {} MB   (goal: report ≤ cargo + 100 MB)",
            report / 1024,
            cargo / 1024
        );
    }
    if let (Some(cold), Some(warm)) = (colds.next(), warms.next()) {
        println!(
            "  baseline binary: cold {:>8.1} ms, warm {:>6.1} ms; CPU warm {}",
            ms(cold.wall),
            ms(warm.wall),
            cpu_text(&warm)
        );
    }
    println!("load average after: {}", load_average());
    if std::env::var_os("CACHE_MISS_BENCH_NO_GROWTH").is_none() {
        growth(&root);
    }
}

/// Every `--unit-graph` call a report on `manifest` makes, its fix-line check's included
/// (found by running the report once through the library, without a cache).
fn calls_of_report(manifest: &Path) -> Vec<Invocation> {
    let options = PhaseSourceOptions {
        manifest_path: Some(manifest.to_path_buf()),
        cache: CacheLocation::Off,
        ..PhaseSourceOptions::default()
    };
    let loaded = load_phases(&options).expect("phases");
    cache_miss::run_report(&ReportRequest {
        loaded: &loaded,
        overrides: &[],
        target_dir: None,
        costs: None,
        baseline: None,
        check_fixes: true,
        progress: &Silent,
    })
    .expect("report");
    loaded.session().runner().unit_graph_invocations()
}

/// A warm report after what a crane day leaves in the workspace: `nix build`'s `result`
/// link and `report --format json > cache-miss.json`; both removed again afterwards. The
/// run, and how many answers came from cargo (0 when the cache held).
fn warm_after_edits(workspace: &Path, manifest: &Path, cache_arg: &[&str]) -> (Run, usize) {
    let result = workspace.join("result");
    let report_file = workspace.join("cache-miss.json");
    let _ = std::os::unix::fs::symlink(std::env::temp_dir(), &result);
    fs::write(&report_file, "{}").expect("write report file");
    // ... and run from a new shell: another CI job's variables, one more directory on PATH.
    let path = format!(
        "{}:{}",
        workspace.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let new_shell = [
        ("PATH", path),
        ("GITHUB_RUN_ID", std::process::id().to_string()),
    ];
    let (run, stderr) = run_binary_stderr(
        Path::new(env!("CARGO_BIN_EXE_cache-miss")),
        manifest,
        cache_arg,
        &new_shell,
    );
    let _ = fs::remove_file(&result);
    let _ = fs::remove_file(&report_file);
    let asked = stderr
        .split(" from cargo")
        .next()
        .and_then(|before| before.rsplit([' ', ',']).find(|w| !w.is_empty()))
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    (run, asked)
}

/// The shortest of `walls`.
fn best(walls: &[Duration]) -> Duration {
    walls.iter().copied().min().unwrap_or_default()
}

/// `invocations` and `cargo metadata` resolved one after another by a fresh runner (a
/// runner remembers what cargo answered).
/// Each invocation's `--unit-graph` call and `cargo metadata`, one after another with bare
/// cargo: every command as the phases write it, none shared with another (as cache-miss
/// shares a command naming no package with its `--workspace` twin), in one target dir of
/// their own (cargo keeps rustc's answers there after the first call, as in a report).
fn one_after_another(workspace: &Path, invocations: &[Invocation]) -> Run {
    let target = tempfile::tempdir().expect("temp dir");
    let cargo = |args: &[&str], env: &[(&String, &String)]| {
        let output = Command::new("cargo")
            .current_dir(workspace)
            .args(args)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", target.path())
            .envs(env.iter().copied())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let started = Instant::now();
    for invocation in invocations {
        let args = invocation.unit_graph_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&String, &String)> = invocation.env.iter().collect();
        cargo(&args, &env);
    }
    cargo(
        &[
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--all-features",
        ],
        &[],
    );
    Run {
        wall: started.elapsed(),
        analysis: Duration::ZERO,
        peak_kb: None,
        cpu: None,
    }
}

/// The first three fields of /proc/loadavg, when there is one.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_text(run: &Run) -> String {
    run.cpu
        .map_or_else(|| "unknown".into(), |cpu| format!("{:.0} ms", ms(cpu)))
}

/// Cold and warm report times as the workspace grows.
fn growth(root: &Path) {
    println!("growth (median of 3, cold cache):");
    for crates in [100, 200, 300, 450] {
        let dir = root.join(format!("growth-{crates}"));
        let workspace = generate(&dir, crates, MEMBERS);
        let manifest = workspace.join("Cargo.toml");
        run_report(&manifest, &["--no-cache"]);
        let cache = dir.join("cache");
        let cold = median((0..3).map(|_| {
            let _ = fs::remove_dir_all(&cache);
            run_report(&manifest, &["--cache-dir", cache.to_str().unwrap()])
        }));
        let warm = median(
            (0..3).map(|_| run_report(&manifest, &["--cache-dir", cache.to_str().unwrap()])),
        );
        println!(
            "  {:>3} packages: cold {:>7.1} ms ({:.2} ms/package), warm {:>6.1} ms",
            crates + MEMBERS,
            ms(cold.wall),
            ms(cold.wall) / (crates + MEMBERS) as f64,
            ms(warm.wall)
        );
    }
}

struct Run {
    wall: Duration,
    analysis: Duration,
    peak_kb: Option<u64>,
    /// User + system CPU time of the process tree, when GNU time reports it.
    cpu: Option<Duration>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(runs: impl Iterator<Item = Run>) -> Run {
    let mut runs: Vec<Run> = runs.collect();
    runs.sort_by_key(|r| r.wall);
    runs.swap_remove(runs.len() / 2)
}

/// GNU time, when installed: it reports the peak resident memory of a process tree.
fn gnu_time() -> Option<PathBuf> {
    let time = PathBuf::from("/usr/bin/time");
    time.is_file().then_some(time)
}

/// Runs the release binary; returns its wall time, the analysis time it reports, and its
/// peak memory (cargo's included: GNU time reports the largest in the process tree).
fn run_report(manifest: &Path, extra: &[&str]) -> Run {
    run_binary(Path::new(env!("CARGO_BIN_EXE_cache-miss")), manifest, extra)
}

fn run_binary(binary: &Path, manifest: &Path, extra: &[&str]) -> Run {
    run_binary_stderr(binary, manifest, extra, &[]).0
}

/// [`run_binary`], and what the binary said on stderr.
fn run_binary_stderr(
    binary: &Path,
    manifest: &Path,
    extra: &[&str],
    env: &[(&str, String)],
) -> (Run, String) {
    let time = gnu_time();
    let mut command = match &time {
        Some(time) => {
            let mut command = Command::new(time);
            command.args(["-f", "peak-kb %M cpu %U %S"]).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .args(["report", "--format", "json", "--timings", "--manifest-path"])
        .arg(manifest)
        .args(extra)
        .envs(env.iter().map(|(name, value)| (name, value)));
    let started = Instant::now();
    let output = command.output().expect("run cache-miss");
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let analysis = stderr
        .split("analysis ")
        .nth(1)
        .and_then(|rest| rest.split(" ms").next())
        .and_then(|n| n.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    let cpu = stderr.split("cpu ").last().and_then(|rest| {
        let mut seconds = rest.split_whitespace().map(|n| n.parse::<f64>().ok());
        Some(seconds.next()?? + seconds.next()??)
    });
    let run = Run {
        wall,
        analysis: Duration::from_secs_f64(analysis / 1000.0),
        peak_kb: number_after(&stderr, "peak-kb "),
        cpu: cpu.map(Duration::from_secs_f64),
    };
    (run, stderr.into_owned())
}

fn number_after(text: &str, label: &str) -> Option<u64> {
    text.split(label)
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The peak memory of one `--unit-graph` call, run as the report runs it.
fn cargo_peak_kb(
    workspace: &Path,
    subcommand: &str,
    args: &[String],
    env: &std::collections::BTreeMap<String, String>,
) -> Option<u64> {
    let time = gnu_time()?;
    let mut all = vec![subcommand.to_string()];
    all.extend(args.iter().cloned());
    all.extend(["--locked", "--unit-graph", "-Z", "unstable-options"].map(String::from));
    let cargo = CargoRunner::new(workspace).command(&all, env);
    let mut command = Command::new(time);
    command
        .args(["-f", "peak-kb %M"])
        .arg(cargo.get_program())
        .args(cargo.get_args())
        .current_dir(workspace)
        .env_clear();
    for (name, value) in cargo.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    let output = command.output().ok()?;
    number_after(&String::from_utf8_lossy(&output.stderr), "peak-kb ")
}

/// A registry of `crates` crates (each depending on two lower ones, with features and
/// build dependencies), a workspace of `members` members using different slices of it,
/// and phases in several buildDepsOnly chains; with its lock file.
fn generate(root: &Path, crates: usize, members: usize) -> PathBuf {
    let registry = root.join("registry");
    for i in 0..crates {
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
        let build_deps = if i % 10 == 5 {
            format!("\n[build-dependencies]\ngen{} = \"1\"\n", i / 5)
        } else {
            String::new()
        };
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"gen{i}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[features]\ndefault = [\"std\"]\nstd = []\n{extra}\n\n[dependencies]\n{deps}{build_deps}"
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
    let names: Vec<String> = (0..members).map(|m| format!("\"m{m}\"")).collect();
    fs::write(
        workspace.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n[profile.ci]\ninherits = \"release\"\nopt-level = 2\n",
            names.join(", ")
        ),
    )
    .unwrap();
    for m in 0..members {
        let dir = workspace.join(format!("m{m}"));
        fs::create_dir_all(dir.join("src")).unwrap();
        let top = crates - 1 - (m * 7) % (crates / 2);
        let features = if m % 3 == 0 {
            ", features = [\"extra\"]"
        } else {
            ""
        };
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"m{m}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nfull = [\"gen{top}/extra\"]\n\n[dependencies]\ngen{top} = {{ version = \"1\"{features} }}\n\n[dev-dependencies]\ngen{} = \"1\"\n",
                crates / 3 + m
            ),
        )
        .unwrap();
        fs::write(dir.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    }
    fs::write(workspace.join("phases.toml"), phases(members)).unwrap();
    let lock = Command::new("cargo")
        .args(["generate-lockfile", "--offline"])
        .current_dir(&workspace)
        .status()
        .expect("cargo generate-lockfile");
    assert!(lock.success(), "generating the lock file failed");
    workspace
}

/// Four buildDepsOnly chains: the workspace (release), one member group with features,
/// a custom profile, and a second target.
fn phases(members: usize) -> String {
    let group: Vec<String> = (0..members / 2).map(|m| format!("-p m{m}")).collect();
    let group = group.join(" ");
    format!(
        r#"[phases.deps]
function = "buildDepsOnly"
cargoExtraArgs = "--locked --workspace"

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

[phases.group-deps]
function = "buildDepsOnly"
cargoExtraArgs = "--locked {group} --features m0/full"

[phases.group]
function = "buildPackage"
cargoArtifacts = "group-deps"
cargoExtraArgs = "--locked {group} --features m0/full"

[phases.group-test]
function = "cargoTest"
cargoArtifacts = "group-deps"
cargoExtraArgs = "--locked {group}"

[phases.ci-deps]
function = "buildDepsOnly"
CARGO_PROFILE = "ci"
cargoExtraArgs = "--locked -p m1 -p m2"

[phases.ci-build]
function = "cargoBuild"
cargoArtifacts = "ci-deps"
CARGO_PROFILE = "ci"
cargoExtraArgs = "--locked -p m1 -p m2 --all-features"

[phases.ci-clippy]
function = "cargoClippy"
cargoArtifacts = "ci-deps"
CARGO_PROFILE = "ci"
cargoExtraArgs = "--locked -p m1"

[phases.arm-deps]
function = "buildDepsOnly"
cargoExtraArgs = "--locked --workspace --target {SECOND_TARGET}"

[phases.arm]
function = "buildPackage"
cargoArtifacts = "arm-deps"
cargoExtraArgs = "--locked --workspace --target {SECOND_TARGET}"

[phases.arm-dev]
function = "cargoBuild"
cargoArtifacts = "arm-deps"
CARGO_PROFILE = ""
cargoExtraArgs = "--locked -p m3 --target {SECOND_TARGET}"
"#
    )
}
