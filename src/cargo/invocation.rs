//! Turns a phase's cargo command into the cargo call whose unit graph says what it
//! compiles: `clippy` resolves as `check`, `nextest run` as `test --no-run`, coverage
//! tools as `test` with instrumented rustflags; output-only arguments are dropped so
//! commands that compile the same units share one resolution.

use std::collections::{BTreeMap, BTreeSet};

use super::selection::{Selection, SelectionFlag};
use crate::cargo_options::{
    FLAG_OPTIONS, FOREIGN_VALUE_OPTIONS, IGNORED_FLAGS, IGNORED_VALUE_OPTIONS, VALUE_OPTIONS,
};
use crate::phase::PhaseCommand;

/// A cargo command that compiles, reduced to what decides its units. Equal invocations
/// have equal unit graphs. Produced by [`plan`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Invocation {
    /// `build`, `check`, `test`, `bench` or `doc`.
    pub subcommand: &'static str,
    pub args: Vec<String>,
    /// The environment the phase gives cargo (derivation env and inline assignments).
    pub env: BTreeMap<String, String>,
    /// The tool that instruments every unit (`cargo llvm-cov`, `cargo tarpaulin`).
    pub instrumented_by: Option<&'static str>,
    /// The crane lib (toolchain) of the phase, when known; part of every unit's identity.
    pub toolchain: Option<String>,
    /// The rustup toolchain whose cargo resolves this call (`1.48`), when it is not the
    /// workspace's: the installed release the phase's crane lib builds with.
    pub rustup_toolchain: Option<String>,
    /// What `args` and `env` select, parsed once here.
    pub selection: Selection,
}

/// What to do with one phase command. Produced by [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    Resolve(Invocation),
    /// The command compiles nothing (`cargo --version`, `cargo fmt`, `llvm-cov report`, ...).
    NoCompile,
    /// A cargo subcommand cache-miss cannot resolve; the text says which.
    Unsupported(String),
}

/// Decides how a phase command is resolved. `phase_env` is the phase's environment.
pub(crate) fn plan(
    command: &PhaseCommand,
    phase_env: &BTreeMap<String, String>,
    toolchain: Option<&str>,
) -> Plan {
    let mut env = phase_env.clone();
    env.extend(command.env.clone());
    let (global, rest) = split_global_options(&command.args);
    let Some((sub, tail)) = rest.split_first() else {
        return Plan::NoCompile;
    };
    let resolve = |subcommand: &'static str, args: Vec<String>, instrumented_by| {
        let mut all = global.clone();
        all.extend(normalize_profile(args, subcommand));
        let args = normalize_lock_flags(all);
        Plan::Resolve(Invocation {
            toolchain: toolchain.map(str::to_string),
            rustup_toolchain: None,
            subcommand,
            selection: Selection::parse(subcommand, &args, &env),
            args,
            env: env.clone(),
            instrumented_by,
        })
    };
    match sub.as_str() {
        "build" | "b" | "run" | "r" | "rustc" => resolve("build", cargo_args(tail), None),
        "check" | "c" | "clippy" | "fix" => resolve("check", cargo_args(tail), None),
        "test" | "t" => resolve("test", cargo_args(tail), None),
        "bench" => resolve("bench", cargo_args(tail), None),
        "doc" | "d" | "rustdoc" => resolve("doc", cargo_args(tail), None),
        "nextest" => match tail.first().map(String::as_str) {
            Some("run" | "r" | "archive" | "list") => {
                resolve("test", foreign_args(&tail[1..], Tool::Nextest), None)
            }
            _ => Plan::NoCompile,
        },
        "llvm-cov" => llvm_cov(tail, resolve),
        "tarpaulin" => {
            if tail.iter().any(|a| a == "--version" || a == "-V") {
                Plan::NoCompile
            } else {
                resolve(
                    "test",
                    foreign_args(tail, Tool::Other),
                    Some("cargo tarpaulin"),
                )
            }
        }
        "fmt" | "version" | "-V" | "--version" | "metadata" | "tree" | "fetch" | "vendor"
        | "audit" | "deny" | "help" | "generate-lockfile" | "locate-project" | "pkgid"
        | "verify-project" | "hakari" | "about" | "sort" | "machete" | "outdated" | "readme" => {
            Plan::NoCompile
        }
        other => Plan::Unsupported(format!(
            "`cargo {other}` is not a command cache-miss can resolve"
        )),
    }
}

fn llvm_cov(
    tail: &[String],
    resolve: impl Fn(&'static str, Vec<String>, Option<&'static str>) -> Plan,
) -> Plan {
    let tool = Some("cargo llvm-cov");
    let position = first_positional(tail);
    let subcommand = position.map(|i| tail[i].as_str());
    let without_sub = |i: Option<usize>| {
        let mut args = tail.to_vec();
        if let Some(i) = i {
            args.remove(i);
        }
        foreign_args(&args, Tool::Other)
    };
    match subcommand {
        Some("report" | "clean" | "show-env") => Plan::NoCompile,
        _ if tail.iter().any(|a| a == "--version" || a == "-V") => Plan::NoCompile,
        Some("run") => resolve("build", without_sub(position), tool),
        Some("test" | "nextest") => resolve("test", without_sub(position), tool),
        _ => resolve("test", foreign_args(tail, Tool::Other), tool),
    }
}

/// Where the first argument that is neither an option nor an option's value stands
/// (`test` in `llvm-cov --profile dev test`).
fn first_positional(args: &[String]) -> Option<usize> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if !arg.starts_with('-') {
            return Some(i);
        }
        let takes_value = [VALUE_OPTIONS, FOREIGN_VALUE_OPTIONS, IGNORED_VALUE_OPTIONS]
            .iter()
            .any(|options| options.contains(&arg.as_str()));
        i += if takes_value { 2 } else { 1 };
    }
    None
}

/// One spelling per profile, so equal commands share a resolution: `--profile=X` is
/// `--profile X`, and `--profile release` and `-r` are `--release`, except for
/// `cargo bench`, which has no `--release` and keeps `--profile release`.
fn normalize_profile(args: Vec<String>, subcommand: &str) -> Vec<String> {
    let has_release_flag = subcommand != "bench";
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let profile = match arg.strip_prefix("--profile=") {
            Some(value) => Some(value.to_string()),
            None if arg == "--profile" => iter.next(),
            None if arg == "-r" && has_release_flag => Some("release".to_string()),
            None => {
                out.push(arg);
                continue;
            }
        };
        match profile.as_deref() {
            Some("release") if has_release_flag => out.push("--release".into()),
            Some(name) => out.extend(["--profile".to_string(), name.to_string()]),
            None => out.push(arg),
        }
    }
    out
}

/// `--offline` and `--frozen` do not change what is compiled (crane vendors the sources),
/// but would make resolution fail on a cold registry cache: `--offline` is dropped and
/// `--frozen` becomes `--locked`, which resolution uses anyway.
fn normalize_lock_flags(args: Vec<String>) -> Vec<String> {
    let frozen = args.iter().any(|a| a == "--frozen");
    let mut out: Vec<String> = args
        .into_iter()
        .filter(|a| a != "--offline" && a != "--frozen")
        .collect();
    if frozen && !out.iter().any(|a| a == "--locked") {
        out.push("--locked".into());
    }
    out
}

/// `+toolchain` and options before the subcommand (`--locked`, `--config`, `-Z`).
fn split_global_options(args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut global = Vec::new();
    let mut i = 0;
    while i < args.len() && args[i].starts_with(['-', '+']) {
        let takes_value = ["--config", "-Z", "--color"].contains(&args[i].as_str());
        if args[i] != "--color"
            && !args[i].starts_with("--color=")
            && !["-q", "-v", "--quiet", "--verbose"].contains(&args[i].as_str())
        {
            global.push(args[i].clone());
            if takes_value {
                if let Some(value) = args.get(i + 1) {
                    global.push(value.clone());
                }
            }
        }
        i += if takes_value { 2 } else { 1 };
    }
    (global, args[i.min(args.len())..].to_vec())
}

/// A cargo build command's own arguments without the ones that cannot change units.
fn cargo_args(args: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        let name = arg.split_once('=').map_or(arg.as_str(), |(name, _)| name);
        if IGNORED_VALUE_OPTIONS.contains(&name) {
            if !arg.contains('=') {
                iter.next();
            }
            continue;
        }
        if IGNORED_FLAGS.contains(&arg.as_str()) {
            continue;
        }
        kept.push(arg.clone());
    }
    kept
}

/// A cargo wrapper whose arguments mix its own options with cargo's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    /// `--profile` is nextest's own profile; cargo's is `--cargo-profile`.
    Nextest,
    /// cargo-llvm-cov and tarpaulin pass `--profile` to cargo.
    Other,
}

/// The cargo build options among another tool's arguments (`nextest run`, `llvm-cov`,
/// `tarpaulin`); its own options and test filters are dropped. `--cargo-profile` and
/// tarpaulin's `--packages` become cargo's `--profile` and `--package`.
fn foreign_args(args: &[String], tool: Tool) -> Vec<String> {
    let mut kept = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with('-') => (name, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let cargo_name = match name {
            "--cargo-profile" => "--profile",
            "--packages" => "--package",
            "--profile" | "-P" if tool == Tool::Nextest => "-P",
            other => other,
        };
        let mut value = || inline_value.clone().or_else(|| iter.next().cloned());
        if VALUE_OPTIONS.contains(&cargo_name) {
            if let Some(v) = value() {
                kept.push(cargo_name.to_string());
                kept.push(v);
            }
        } else if FLAG_OPTIONS.contains(&cargo_name) {
            kept.push(cargo_name.to_string());
        } else if FOREIGN_VALUE_OPTIONS.contains(&cargo_name)
            || IGNORED_VALUE_OPTIONS.contains(&cargo_name)
        {
            value();
        }
    }
    kept
}

impl Invocation {
    /// The arguments of the `--unit-graph` call that resolves this invocation as its phase
    /// writes it: always `--locked`, so cargo never rewrites the user's Cargo.lock.
    pub fn unit_graph_args(&self) -> Vec<String> {
        unit_graph_args(self.subcommand, &self.args, false)
    }

    /// The command line that is resolved, for messages.
    pub fn display(&self) -> String {
        let mut words = vec!["cargo".to_string()];
        words.extend(self.rustup_toolchain.iter().map(|t| format!("+{t}")));
        words.push(self.subcommand.to_string());
        words.extend(self.args.iter().map(|a| shell_words::quote(a).into_owned()));
        words.join(" ")
    }

    /// The target triple given by `--target` or `CARGO_BUILD_TARGET`, if any.
    pub fn target(&self) -> Option<String> {
        self.selection.platform().map(str::to_string)
    }

    /// The rustflags every target unit is compiled with, in cargo's order of precedence,
    /// described by where they come from (`RUSTFLAGS=--cfg loom`); `None` when the phase
    /// sets none. Instrumenting tools add theirs. `host` is cargo's host triple, whose
    /// `CARGO_TARGET_<HOST>_RUSTFLAGS` applies when no target is given.
    pub fn rustflags(&self, host: &str) -> Option<String> {
        let triple = self.target().unwrap_or_else(|| host.to_string());
        let target_var = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.to_uppercase().replace(['-', '.'], "_")
        );
        let from_env = ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS"]
            .into_iter()
            .map(str::to_string)
            .chain([target_var])
            .chain(["CARGO_BUILD_RUSTFLAGS".to_string()])
            .find_map(|var| {
                let value = self.env.get(&var)?;
                Some(format!("{var}={}", value.replace('\u{1f}', " ")))
            });
        match (from_env, self.instrumented_by) {
            (None, None) => None,
            (Some(flags), None) => Some(flags),
            (None, Some(tool)) => Some(format!("-C instrument-coverage (added by {tool})")),
            (Some(flags), Some(tool)) => {
                Some(format!("{flags} -C instrument-coverage (added by {tool})"))
            }
        }
    }

    /// Whether host units (build scripts, proc-macros) get the rustflags too: only when
    /// no target is given; with `--target`, cargo compiles host units without them.
    pub fn rustflags_reach_host(&self) -> bool {
        self.target().is_none()
    }
}

/// What `invocations` select together: packages, features, targets and platform, and
/// `cargo test`/`cargo bench`.
pub(crate) fn selection_flags(invocations: &[&Invocation]) -> BTreeSet<SelectionFlag> {
    invocations
        .iter()
        .flat_map(|inv| inv.selection.flags.iter().cloned())
        .collect()
}

/// The package, feature and platform flags among [`selection_flags`] (`-p cli`,
/// `--workspace`, `--features x`, `--all-features`, `--target T`, ...).
pub(crate) fn package_selection(invocations: &[&Invocation]) -> BTreeSet<SelectionFlag> {
    selection_flags(invocations)
        .into_iter()
        .filter(SelectionFlag::is_package_selection)
        .collect()
}

/// `cargo <subcommand> <args> --locked --unit-graph -Z unstable-options` (without the
/// program), `--locked` added only where `args` lack it, and `--workspace` after it when
/// `every_member` (where it asks what the command asks, spelled as phases spell it).
pub(crate) fn unit_graph_args(
    subcommand: &str,
    args: &[String],
    every_member: bool,
) -> Vec<String> {
    let mut all = vec![subcommand.to_string()];
    all.extend(args.iter().cloned());
    if !all.iter().any(|a| a == "--locked") {
        all.push("--locked".into());
    }
    if every_member {
        all.push("--workspace".into());
    }
    all.extend([
        "--unit-graph".into(),
        "-Z".into(),
        "unstable-options".into(),
    ]);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "x86_64-unknown-linux-gnu";

    fn command(line: &str) -> PhaseCommand {
        PhaseCommand {
            args: shell_words::split(line).unwrap(),
            env: BTreeMap::new(),
        }
    }

    fn resolved(line: &str) -> Invocation {
        match plan(&command(line), &BTreeMap::new(), None) {
            Plan::Resolve(invocation) => invocation,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn clippy_resolves_as_check_and_drops_driver_args() {
        let clippy = resolved("clippy --release --locked --all-targets -- -D warnings");
        let check = resolved("check --release --locked --all-targets");
        assert_eq!(clippy, check);
        assert_eq!(
            clippy.display(),
            "cargo check --release --locked --all-targets"
        );
    }

    #[test]
    fn test_and_no_run_and_message_format_share_a_resolution() {
        assert_eq!(
            resolved("test --release --no-run"),
            resolved("test --release")
        );
        assert_eq!(
            resolved("build --release --message-format json-render-diagnostics -p a"),
            resolved("build --release -p a")
        );
    }

    #[test]
    fn nextest_becomes_cargo_test() {
        let inv = resolved(
            "nextest run --cargo-profile ci -p a --profile nextest-ci -E 'test(x)' --no-tests=pass",
        );
        assert_eq!(inv.subcommand, "test");
        assert_eq!(inv.args, ["--profile", "ci", "-p", "a"]);
        let release = resolved("nextest run --cargo-profile release");
        assert_eq!(release, resolved("test --release --no-run"));
        assert_eq!(
            plan(&command("nextest --version"), &BTreeMap::new(), None),
            Plan::NoCompile
        );
    }

    #[test]
    fn coverage_tools_are_instrumented() {
        let cov = resolved("llvm-cov --release test --locked --lcov --output-path $out");
        assert_eq!(cov.subcommand, "test");
        assert_eq!(cov.args, ["--release", "--locked"]);
        assert!(cov.rustflags(HOST).unwrap().contains("instrument-coverage"));
        let tarpaulin =
            resolved("tarpaulin --release --skip-clean --out xml --output-dir $out --packages a");
        assert_eq!(tarpaulin.args, ["--release", "--package", "a"]);
        assert_eq!(
            plan(&command("llvm-cov report"), &BTreeMap::new(), None),
            Plan::NoCompile
        );
        let run = resolved("llvm-cov --profile dev run --locked --bin app");
        assert_eq!(run.subcommand, "build");
        assert_eq!(run.args, ["--profile", "dev", "--locked", "--bin", "app"]);
    }

    #[test]
    fn rustflags_precedence_and_target() {
        let mut env = BTreeMap::new();
        env.insert("CARGO_BUILD_RUSTFLAGS".to_string(), "-C a".to_string());
        env.insert("RUSTFLAGS".to_string(), "--cfg loom".to_string());
        let Plan::Resolve(inv) = plan(
            &command("build --target aarch64-unknown-linux-gnu"),
            &env,
            None,
        ) else {
            panic!()
        };
        assert_eq!(inv.rustflags(HOST).as_deref(), Some("RUSTFLAGS=--cfg loom"));
        assert_eq!(inv.target().as_deref(), Some("aarch64-unknown-linux-gnu"));
        assert!(!inv.rustflags_reach_host());
    }

    #[test]
    fn host_target_rustflags_apply_without_a_target() {
        let mut env = BTreeMap::new();
        env.insert(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS".to_string(),
            "--cfg foo".to_string(),
        );
        let Plan::Resolve(inv) = plan(&command("build"), &env, None) else {
            panic!()
        };
        assert_eq!(
            inv.rustflags(HOST).as_deref(),
            Some("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS=--cfg foo")
        );
        assert_eq!(inv.rustflags("aarch64-unknown-linux-gnu"), None);
    }

    #[test]
    fn release_profile_is_spelled_so_every_subcommand_accepts_it() {
        assert_eq!(
            resolved("build --profile release"),
            resolved("build --release")
        );
        assert_eq!(resolved("build -r").args, ["--release"]);
        assert_eq!(resolved("check --profile=dev").args, ["--profile", "dev"]);
        let bench = resolved("bench --profile release --locked");
        assert_eq!(bench.args, ["--profile", "release", "--locked"]);
        assert_eq!(bench, resolved("bench --profile=release --locked"));
    }

    #[test]
    fn frozen_and_offline_resolve_as_locked() {
        let frozen = resolved("build --release --frozen --offline -p a");
        assert_eq!(frozen.args, ["--release", "-p", "a", "--locked"]);
        assert_eq!(
            resolved("--offline build --release --locked -p a --frozen").args,
            ["--release", "--locked", "-p", "a"]
        );
        assert_eq!(resolved("test --offline").args, Vec::<String>::new());
        let nextest = resolved("nextest run --cargo-profile release --frozen");
        assert_eq!(nextest.args, ["--release", "--locked"]);
    }

    #[test]
    fn non_compiling_and_unknown_commands() {
        assert_eq!(
            plan(&command("fmt --check"), &BTreeMap::new(), None),
            Plan::NoCompile
        );
        assert_eq!(
            plan(&command("--version"), &BTreeMap::new(), None),
            Plan::NoCompile
        );
        assert_eq!(
            plan(&command("hakari generate --diff"), &BTreeMap::new(), None),
            Plan::NoCompile
        );
        assert!(matches!(
            plan(&command("xtask dist"), &BTreeMap::new(), None),
            Plan::Unsupported(_)
        ));
    }
}
