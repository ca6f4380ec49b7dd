//! Per-unit compile times: during a replay, cache-miss itself is cargo's `RUSTC_WRAPPER`
//! and logs how long each rustc invocation took.

use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, ExitCode};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Set (to a log file path) in the environment of replayed cargo commands; when present,
/// the `cache-miss` binary acts as a rustc wrapper.
pub const TIMING_LOG_ENV: &str = "CACHE_MISS_RUSTC_TIMING_LOG";

/// One rustc invocation, as the wrapper logs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct RustcTiming {
    pub package: String,
    pub version: String,
    pub crate_name: String,
    /// `--emit` without `link`: a `check` (metadata-only) unit.
    pub metadata_only: bool,
    /// `--test`: a test harness.
    pub test: bool,
    pub seconds: f64,
}

/// Runs `rustc ARGS` (argv after the wrapper: the rustc path, then its arguments), timing
/// it into the log named by [`TIMING_LOG_ENV`]. Returns rustc's exit code.
pub fn wrap_rustc(log: OsString, argv: Vec<OsString>) -> ExitCode {
    let Some((rustc, args)) = argv.split_first() else {
        eprintln!("cache-miss: rustc wrapper called without a rustc path");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let status = match Command::new(rustc).args(args).status() {
        Ok(status) => status,
        Err(err) => {
            eprintln!("cache-miss: cannot run {}: {err}", rustc.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(crate_name) = option(&args, "--crate-name") {
        let emit = option(&args, "--emit").unwrap_or_default();
        let timing = RustcTiming {
            package: std::env::var("CARGO_PKG_NAME").unwrap_or_default(),
            version: std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
            crate_name,
            metadata_only: !emit.split(',').any(|e| e == "link"),
            test: args.iter().any(|a| a == "--test"),
            seconds,
        };
        if let Ok(line) = serde_json::to_string(&timing) {
            // One short append per invocation: concurrent rustc processes do not interleave.
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
            {
                let _ = file.write_all(format!("{line}\n").as_bytes());
            }
        }
    }
    ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8)
}

fn option(args: &[String], name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix(&prefix).map(str::to_string))
        })
}

/// Reads a timing log; lines that do not parse are skipped.
pub(crate) fn read_log(path: &std::path::Path) -> Vec<RustcTiming> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}
