//! `cache-miss verify`: the ground truth. Replays the crane flow with real compilation in
//! a temp dir (deps-only on crane's dummy source (`crate::crane::dummy_src`), every other phase on the real source with a
//! copy of its inherited `target/`) and records which dependency units cargo actually
//! rebuilt, and how long they took.

mod display;
pub(crate) mod timing;
pub(crate) mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::cargo::{CargoRunner, Invocation};
use crate::costs::{CostOrigin, Costs, UnitCost, UnitCostKey, UnitTarget};
use crate::crane::dummy_src::write_dummy_source;
use crate::findings::outside_path_dependencies;
use crate::located::Note;
use crate::phase::{CraneFunction, Phase, PhaseSet};
use crate::plan::plan_phases_where;
use crate::progress::{Progress, Stage};
use crate::report::{PhaseReport, Report};
use crate::session::Session;

use crate::interrupt::Interruption;
pub use display::{verify_document, verify_json};
use timing::{RustcTiming, TIMING_LOG_ENV};

/// A dependency unit cargo compiled during the replay.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MeasuredUnit {
    pub package: String,
    pub version: String,
    pub target: String,
    /// The target's kind (`lib`, `proc-macro`, `custom-build`, ...).
    pub kind: String,
    pub mode: String,
    /// The features cargo compiled the unit with (sorted).
    pub features: Vec<String>,
    /// rustc's wall time for the unit (0 when no timing was recorded).
    pub seconds: f64,
}

/// Prediction against measurement for one phase.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Agreement {
    /// Units both predicted and measured.
    pub both: usize,
    /// Predicted misses cargo did not rebuild (`package@version target (mode)`).
    pub predicted_only: Vec<String>,
    /// Units cargo rebuilt that were not predicted.
    pub measured_only: Vec<String>,
}

impl Agreement {
    pub fn agrees(&self) -> bool {
        self.predicted_only.is_empty() && self.measured_only.is_empty()
    }
}

/// One phase of `cache-miss verify`. Produced by [`verify`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerifiedPhase {
    #[serde(flatten)]
    pub report: PhaseReport,
    /// Every non-local unit cargo rebuilt in this phase (for a phase without inherited
    /// artifacts: every one it built).
    pub measured: Vec<MeasuredUnit>,
    pub rebuild_seconds: f64,
    pub agreement: Agreement,
    /// The cargo commands actually replayed (tools the machine may lack are replayed
    /// with the equivalent cargo build command).
    pub replayed: Vec<String>,
    /// Commands replayed with an equivalent cargo build instead of their own tool.
    pub substituted: Vec<String>,
    /// Why the phase was not replayed (a target whose standard library is not installed
    /// here, or a skipped artifact source); nothing is measured then.
    pub skipped: Option<String>,
}

/// The result of `cache-miss verify`. Produced by [`verify`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerifyReport {
    pub workspace_root: String,
    pub phase_source: String,
    pub phases: Vec<VerifiedPhase>,
    /// What the phase source could not resolve, as in the report.
    pub warnings: Vec<Note>,
    /// The cargo that resolved and replayed the phases.
    #[serde(skip)]
    pub cargo: crate::cargo::run::CargoInfo,
    /// The replay's temp dir, when kept (`--keep`).
    pub kept_at: Option<String>,
}

impl VerifyReport {
    pub fn agrees(&self) -> bool {
        self.phases.iter().all(|p| p.agreement.agrees())
    }

    /// Every unit the replay timed, for `verify --save-costs`.
    pub fn costs(&self) -> Costs {
        let units = self
            .phases
            .iter()
            .flat_map(|p| &p.measured)
            .filter(|u| u.seconds > 0.0)
            .map(|u| UnitCost {
                key: UnitCostKey::new(
                    &u.package,
                    &u.version,
                    UnitTarget::of(&u.kind, &u.target),
                    &u.mode,
                    &u.features,
                ),
                seconds: u.seconds,
            });
        Costs::new(CostOrigin::Verify, units.collect::<Vec<_>>())
    }
}

/// Replays every phase of `set` for real and compares with `predicted` (the report on
/// the same phases). The session's runner runs cargo in the workspace; nothing is
/// written there.
/// SIGINT and SIGTERM stop the replay with [`crate::Interrupted`]; its temp dir is removed after
/// a failure or an interruption as after success, unless `keep`.
pub fn verify(
    set: &PhaseSet,
    session: &Session,
    predicted: &Report,
    keep: bool,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let runner = session.runner();
    let metadata = runner.metadata()?;
    refuse_outside_path_dependencies(&metadata)?;
    let temp_parent = std::env::temp_dir();
    refuse_temp_inside_workspace(&temp_parent, &runner.dir)?;
    let interruption = Interruption::install()?;
    let temp = tempfile::Builder::new()
        .prefix("cache-miss-verify-")
        .tempdir_in(&temp_parent)
        .with_context(|| {
            format!(
                "cannot create a temp dir in {} (TMPDIR)",
                temp_parent.display()
            )
        })?;
    let result = replay(set, runner, predicted, temp.path(), &interruption, progress);
    let kept_at = if keep {
        let path = temp.keep().display().to_string();
        if result.is_err() {
            // Not `eprintln!`: after a hangup, stderr may be a terminal that is gone.
            let note = format!("note: the replay's temp dir is kept at {path}\n");
            let _ = std::io::stderr().write_all(note.as_bytes());
        }
        Some(path)
    } else {
        let path = temp.path().to_path_buf();
        if let Err(err) = temp.close() {
            let warning = format!(
                "warning: cannot remove the replay's temp dir {}: {err}\n",
                path.display()
            );
            let _ = std::io::stderr().write_all(warning.as_bytes());
        }
        None
    };
    let mut report = result?;
    report.kept_at = kept_at;
    Ok(report)
}

/// crane's `src` is the workspace: a path dependency outside it is not in the build
/// sandbox, and not in the replay's copy either.
fn refuse_outside_path_dependencies(metadata: &cargo_metadata::Metadata) -> Result<()> {
    if let Some(outside) = outside_path_dependencies(metadata).first() {
        bail!(
            "the path dependency `{}` ({}) is outside the workspace {}: crane's `src` \
             cannot hold it, and the replay copies only the workspace; move it into the \
             workspace (or depend on it through a registry or git)",
            outside.name,
            outside.dir,
            metadata.workspace_root
        );
    }
    Ok(())
}

/// A temp dir inside the workspace would copy the workspace into itself, and cargo in
/// the copy would read the workspace's own `.cargo/config.toml` a second time.
fn refuse_temp_inside_workspace(temp_parent: &Path, workspace: &Path) -> Result<()> {
    let (Ok(temp), Ok(workspace)) = (temp_parent.canonicalize(), workspace.canonicalize()) else {
        return Ok(());
    };
    if temp.starts_with(&workspace) {
        bail!(
            "the temp dir {} (TMPDIR) is inside the workspace {}: the replay would copy \
             the workspace into itself; set TMPDIR to a directory outside the workspace",
            temp.display(),
            workspace.display()
        );
    }
    Ok(())
}

fn replay(
    set: &PhaseSet,
    runner: &CargoRunner,
    predicted: &Report,
    temp: &Path,
    interruption: &Interruption,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let source_root = runner.dir.as_path();
    let copies = tree::carry_ancestor_configs(source_root, temp)?;
    let real = copies.join("src");
    let dummy = copies.join("dummy");
    tree::copy_tree(source_root, &real, &["target", ".git"], interruption)?;
    tree::pin_config_sources(source_root, &real)?;
    write_dummy_source(&real, &dummy, &copies.join("dummy-build.rs"))?;
    let after_every_build = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    tree::set_mtimes(&real, after_every_build)?;

    // Each phase builds with the cargo the report resolved it with (an MSRV lib's own).
    let plans = plan_phases_where(
        set,
        |_| true,
        |i| Some(predicted.phases.get(i)?.cargo.as_ref()?.toolchain.clone()),
    );
    let order = replay_order(set)?;
    let skipped = unbuildable_phases(set, &plans, &order, &installed_targets(source_root));
    let total: usize = order.iter().map(|&i| plans.by_phase[i].len()).sum();
    // Ended on a failure or an interruption too, before the error is printed.
    let _stage = Stage::begin(progress, "replaying", total);
    let mut results: BTreeMap<usize, (Vec<MeasuredUnit>, Vec<String>)> = BTreeMap::new();
    for &i in order.iter().filter(|i| !skipped.contains_key(i)) {
        let phase = &set.phases[i];
        let target_dir = temp.join("targets").join(i.to_string());
        if let Some(source) = inherited_target(set, phase, temp) {
            tree::copy_tree(&source, &target_dir, &[], interruption)?;
        }
        let dir = if phase.function == CraneFunction::BuildDepsOnly {
            &dummy
        } else {
            &real
        };
        let mut measured = Vec::new();
        let mut replayed = Vec::new();
        for &n in &plans.by_phase[i] {
            let invocation = &plans.invocations[n];
            let log = temp.join(format!("timings-{i}-{n}.jsonl"));
            let replay = Replay {
                dir,
                target_dir: &target_dir,
                log: &log,
                interruption,
            };
            let (units, line) = replay.build(invocation).with_context(|| {
                format!(
                    "phase `{}`: replaying `{}` failed",
                    phase.name,
                    invocation.display()
                )
            })?;
            measured.extend(units);
            replayed.push(line);
            progress.step(&format!("{}: {}", phase.name, invocation.display()));
        }
        results.insert(i, (measured, replayed));
    }
    let phases = set
        .phases
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let report = predicted.phases[i].clone();
            let (measured, replayed) = results.remove(&i).unwrap_or_default();
            let skipped = skipped.get(&i).cloned();
            let agreement = if report.phase.artifacts_from.is_some()
                && report.units.needed + report.units.missed > 0
                && skipped.is_none()
            {
                agreement(&report, &measured)
            } else {
                Agreement::default()
            };
            let rebuild_seconds = if report.phase.artifacts_from.is_some() {
                measured.iter().fold(0.0, |total, u| total + u.seconds)
            } else {
                0.0
            };
            let substituted = set.phases[i]
                .commands
                .iter()
                .filter(|c| {
                    matches!(
                        c.args.first().map(String::as_str),
                        Some("nextest" | "llvm-cov" | "tarpaulin")
                    )
                })
                .filter(|c| c.args.get(1).is_none_or(|a| a != "--version"))
                .map(|c| {
                    format!(
                        "`{}` was replayed with the equivalent cargo build",
                        c.display()
                    )
                })
                .collect();
            VerifiedPhase {
                report,
                measured,
                rebuild_seconds,
                agreement,
                replayed,
                substituted,
                skipped,
            }
        })
        .collect();
    Ok(VerifyReport {
        workspace_root: predicted.workspace_root.clone(),
        phase_source: predicted.phase_source.clone(),
        warnings: predicted.warnings.clone(),
        cargo: predicted.cargo.clone(),
        phases,
        kept_at: None,
    })
}

/// The phases that cannot be compiled here, by index, with why: one that builds for a
/// target whose standard library is not installed, and every phase inheriting from one.
fn unbuildable_phases(
    set: &PhaseSet,
    plans: &crate::plan::PhasePlans,
    order: &[usize],
    installed: &BTreeSet<String>,
) -> BTreeMap<usize, String> {
    let mut skipped = BTreeMap::new();
    for (i, indices) in plans.by_phase.iter().enumerate() {
        let missing = indices
            .iter()
            .filter_map(|&n| plans.invocations[n].target())
            .find(|target| !installed.contains(target));
        if let Some(target) = missing {
            skipped.insert(
                i,
                format!(
                    "not replayed: the {target} standard library is not installed here (`rustup target add {target}`)"
                ),
            );
        }
    }
    for &i in order {
        let source = set.phases[i]
            .artifacts_from
            .as_deref()
            .and_then(|name| set.position(name));
        if let Some(source) = source.filter(|s| skipped.contains_key(s)) {
            let why = format!(
                "not replayed: it inherits from `{}`, which was not",
                set.phases[source].name
            );
            skipped.entry(i).or_insert(why);
        }
    }
    skipped
}

/// The target triples whose standard library the toolchain used in `dir` has.
fn installed_targets(dir: &Path) -> BTreeSet<String> {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(rustlib) = sysroot.map(|s| s.join("lib").join("rustlib")) else {
        return BTreeSet::new();
    };
    std::fs::read_dir(rustlib)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().join("lib").is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect()
}

/// Phase indices, each after the phase whose artifacts it inherits.
fn replay_order(set: &PhaseSet) -> Result<Vec<usize>> {
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    while order.len() < set.phases.len() {
        let before = order.len();
        for (i, phase) in set.phases.iter().enumerate() {
            let ready = phase
                .artifacts_from
                .as_deref()
                .is_none_or(|name| done.contains(name));
            if !done.contains(phase.name.as_str()) && ready {
                done.insert(phase.name.as_str());
                order.push(i);
            }
        }
        if order.len() == before {
            bail!("cargoArtifacts form a cycle; cannot order the replay");
        }
    }
    Ok(order)
}

/// The target dir a phase starts from: its artifact source's, after that phase ran.
fn inherited_target(set: &PhaseSet, phase: &Phase, temp: &Path) -> Option<PathBuf> {
    let source = set.get(phase.artifacts_from.as_deref()?)?;
    if !source.installs_artifacts {
        return None;
    }
    let index = set.position(&source.name)?;
    Some(temp.join("targets").join(index.to_string()))
}

/// The parts of cargo's JSON messages the replay reads.
#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    package_id: String,
    target: Option<MessageTarget>,
    profile: Option<MessageProfile>,
    #[serde(default)]
    filenames: Vec<String>,
    #[serde(default)]
    fresh: bool,
    #[serde(default)]
    features: Vec<String>,
}

#[derive(Deserialize)]
struct MessageTarget {
    kind: Vec<String>,
    name: String,
}

#[derive(Deserialize)]
struct MessageProfile {
    #[serde(default)]
    test: bool,
}

/// Where and how one cargo command of the replay runs.
struct Replay<'a> {
    /// The copy of the workspace (real or dummy) cargo runs in.
    dir: &'a Path,
    target_dir: &'a Path,
    /// The rustc wrapper's timing log.
    log: &'a Path,
    interruption: &'a Interruption,
}

impl Replay<'_> {
    /// Compiles one invocation for real; returns the non-local units cargo did not find
    /// fresh, and the command line run.
    fn build(&self, invocation: &Invocation) -> Result<(Vec<MeasuredUnit>, String)> {
        self.interruption.check()?;
        let args = replay_args(invocation);
        let line = format!("cargo {}", shell_words::join(&args));
        let mut child = self.spawn(invocation, &args)?;
        self.interruption.watch(&child);
        let output = read_output(&mut child);
        let status = child.wait();
        self.interruption.release(&child);
        self.interruption.check()?;
        let (mut units, stderr) = output?;
        let status = status?;
        if !status.success() {
            let tail: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.trim_start().starts_with("Compiling"))
                .collect();
            bail!("{line} exited with {status}:\n{}", tail.join("\n").trim());
        }
        add_timings(&mut units, &timing::read_log(self.log));
        Ok((units, line))
    }

    /// Starts cargo in its own process group, so that stopping the group on a signal
    /// stops everything it started. Outside the terminal's foreground group, nothing in
    /// it may read the terminal: its input is empty.
    fn spawn(&self, invocation: &Invocation, args: &[String]) -> Result<Child> {
        let mut env = invocation.env.clone();
        if invocation.instrumented_by.is_some() {
            let flags = env
                .get("RUSTFLAGS")
                .map_or(String::new(), |f| format!("{f} "));
            env.insert("RUSTFLAGS".into(), format!("{flags}-C instrument-coverage"));
        }
        let exe = std::env::current_exe().context("cannot find the cache-miss executable")?;
        let mut command = CargoRunner::new(self.dir).command(args, &env);
        if let Some(toolchain) = &invocation.rustup_toolchain {
            command.env("RUSTUP_TOOLCHAIN", toolchain);
        }
        command
            .env("CARGO_TARGET_DIR", self.target_dir)
            .env("RUSTC_WRAPPER", exe)
            .env(TIMING_LOG_ENV, self.log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        command
            .spawn()
            .map_err(|err| anyhow!("cannot run cargo: {err}"))
    }
}

/// The cargo arguments replaying `invocation`: it compiles what the command would, runs
/// nothing, never rewrites Cargo.lock and reports in JSON.
fn replay_args(invocation: &Invocation) -> Vec<String> {
    let mut args = vec![invocation.subcommand.to_string()];
    args.extend(invocation.args.iter().cloned());
    let doc_tests = invocation.args.iter().any(|a| a == "--doc");
    if matches!(invocation.subcommand, "test" | "bench") && !doc_tests {
        args.push("--no-run".into());
    }
    // Invocations carry `--frozen` as `--locked`; the replay, like resolution, never lets
    // cargo rewrite Cargo.lock.
    if !args.iter().any(|a| a == "--locked") {
        args.push("--locked".into());
    }
    args.extend(["--message-format".into(), "json-render-diagnostics".into()]);
    if doc_tests {
        // cargo refuses `--doc --no-run`; listing the doctests compiles what they need
        // without running them.
        args.extend(["--".into(), "--list".into()]);
    }
    args
}

/// Reads cargo's JSON messages to their end: the units it rebuilt, and its stderr.
fn read_output(child: &mut Child) -> Result<(Vec<MeasuredUnit>, String)> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no stdout from cargo"))?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow!("no stderr from cargo"))?;
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    let mut units = Vec::new();
    for message in BufReader::new(stdout).lines() {
        let Ok(message) = serde_json::from_str::<Message>(&message?) else {
            continue;
        };
        if let Some(unit) = rebuilt_unit(&message) {
            units.push(unit);
        }
    }
    Ok((units, stderr_reader.join().unwrap_or_default()))
}

fn rebuilt_unit(message: &Message) -> Option<MeasuredUnit> {
    if message.reason != "compiler-artifact" || message.fresh {
        return None;
    }
    let package = crate::cargo::PackageId::parse(&message.package_id).ok()?;
    if package.is_local() {
        return None;
    }
    let target = message.target.as_ref()?;
    let test = message.profile.as_ref().is_some_and(|p| p.test);
    let metadata_only =
        !message.filenames.is_empty() && message.filenames.iter().all(|f| f.ends_with(".rmeta"));
    let mode = if test {
        "test"
    } else if metadata_only
        && !target
            .kind
            .iter()
            .any(|k| k == "proc-macro" || k == "custom-build")
    {
        "check"
    } else {
        "build"
    };
    let mut features = message.features.clone();
    features.sort();
    Some(MeasuredUnit {
        package: package.name.to_string(),
        version: package.version.to_string(),
        target: target.name.clone(),
        kind: target.kind.first().cloned().unwrap_or_default(),
        mode: mode.to_string(),
        features,
        seconds: 0.0,
    })
}

/// Gives each unit the wall time of one rustc run of its crate; two units of one crate
/// (say, in two profiles) get one run each.
fn add_timings(units: &mut [MeasuredUnit], timings: &[RustcTiming]) {
    let mut used = vec![false; timings.len()];
    for unit in units {
        let crate_name = unit.target.replace('-', "_");
        let found = timings.iter().enumerate().position(|(i, t)| {
            !used[i]
                && t.package == unit.package
                && t.version == unit.version
                && t.crate_name == crate_name
                && t.test == (unit.mode == "test")
                && t.metadata_only == (unit.mode == "check")
        });
        if let Some(i) = found {
            used[i] = true;
            unit.seconds = timings[i].seconds;
        }
    }
}

fn unit_label(package: &str, version: &str, target: &str, mode: &str) -> String {
    if package == target.replace('-', "_") || package == target {
        format!("{package}@{version} ({mode})")
    } else {
        format!("{package}@{version} {target} ({mode})")
    }
}

/// Compares predicted misses (run-custom-build units left out: running a build script
/// produces no compiler artifact to measure) with the units cargo rebuilt, unit for unit:
/// a crate rebuilt in two profiles counts twice.
fn agreement(report: &PhaseReport, measured: &[MeasuredUnit]) -> Agreement {
    let predicted = count_labels(
        report
            .misses
            .iter()
            .filter(|m| m.mode != "run-custom-build")
            .map(|m| unit_label(&m.package, &m.version, &m.target, &m.mode)),
    );
    let measured = count_labels(
        measured
            .iter()
            .map(|u| unit_label(&u.package, &u.version, &u.target, &u.mode)),
    );
    let surplus = |of: &BTreeMap<String, usize>, over: &BTreeMap<String, usize>| {
        of.iter()
            .flat_map(|(label, &n)| {
                let extra = n.saturating_sub(over.get(label).copied().unwrap_or(0));
                std::iter::repeat_n(label.clone(), extra)
            })
            .collect()
    };
    Agreement {
        both: predicted
            .iter()
            .map(|(label, &n)| n.min(measured.get(label).copied().unwrap_or(0)))
            .sum(),
        predicted_only: surplus(&predicted, &measured),
        measured_only: surplus(&measured, &predicted),
    }
}

fn count_labels(labels: impl Iterator<Item = String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for label in labels {
        *counts.entry(label).or_insert(0) += 1;
    }
    counts
}
