//! The `cache-miss` command line: parse, call the library, map errors to exit codes.

#![deny(clippy::string_slice)]

use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};

mod cli;
use cli::cache::CacheAction;
use cli::nix::{NixArgs, WhyRebuildArgs, compare_phases, nix_hint, why_rebuild};
use cli::output::{append_step_summary, draw, print};
use cli::progress::progress;

use cache_miss::{
    CacheLocation, Format, LoadedPhases, Override, PhaseSourceOptions, PhaseSummary, ReportRequest,
    RootRows, analyze_loaded, document, findings_document, fix_document, github, graph, json,
    load_phases, phases_document, verify_document,
};

/// Predicts which dependency crates each crane (Nix) phase recompiles instead of
/// reusing buildDepsOnly's artifacts, and why.
#[derive(Parser)]
#[command(
    name = "cache-miss",
    version,
    about,
    after_help = "Exit codes: 0 analysed (with or without misses); 1 `report --fail-on-miss` with misses, or `verify --check` with a disagreement; 2 bad input or cargo failure; 128 + the signal's number (130 for SIGINT, 143 for SIGTERM): stopped by a signal, with cargo and git stopped and temp dirs removed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve what every phase compiles and report the dependency units it rebuilds.
    Report(ReportArgs),
    /// List the phases found: crane function, artifact source, cargo commands, environment.
    Phases(PhasesArgs),
    /// Replay the phases with real compilation in a temp dir and measure the misses.
    Verify(VerifyArgs),
    /// Propose the change to the deps-only phase(s) that removes the misses, verified by
    /// re-running the analysis.
    Fix(FixArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Which phase derivations an edit rebuilds (file in its src, in its deps-only dummy
    /// source, or an inherited artifact rebuilt) and what cargo then recompiles in each.
    Touch(TouchArgs),
    /// Which crane derivations rebuild between two revisions (NEW: the work tree), and
    /// why, down to what a user can change: a crane-aware nix-diff.
    WhyRebuild(WhyRebuildArgs),
    /// Look at or empty the resolution cache (where cargo's answers are remembered).
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
}

#[derive(Args)]
struct TouchArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The edited files (default: the work tree's changes against HEAD, or --since).
    files: Vec<PathBuf>,
    /// Compare with this revision: the files are `git diff --name-only REV`.
    #[arg(long, value_name = "REV")]
    since: Option<String>,
    /// A previous build's target dir: its build scripts' `rerun-if-changed` paths make
    /// an edit of those files recompile the script's package.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// Name every unit each phase recompiles (by default the first 5).
    #[arg(long)]
    all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
struct FixArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    apply: cli::apply::ApplyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Where the workspace and its phases are.
#[derive(Args)]
pub(crate) struct SourceArgs {
    /// The workspace's root Cargo.toml (crane's source root; a member's manifest is
    /// refused). Default: the workspace around the current directory.
    #[arg(long)]
    manifest_path: Option<PathBuf>,
    /// A phases file (TOML, crane's attribute names). Default: phases.toml beside the
    /// manifest, else flake.nix beside it (or the nearest above it in the git repository),
    /// else crane's quick-start set.
    #[arg(long, conflicts_with = "flake")]
    phases: Option<PathBuf>,
    /// A Nix file with crane calls (not with --phases). Default: as for --phases.
    #[arg(long)]
    flake: Option<PathBuf>,
    /// Analyse only the phases matching this shell-style glob (repeatable).
    #[arg(long, value_name = "PHASE")]
    only: Vec<String>,
    /// Leave out the phases matching this shell-style glob (repeatable); a phase that
    /// others inherit from is still resolved for them.
    #[arg(long, value_name = "PHASE")]
    exclude: Vec<String>,
    /// What-if: change a phase attribute before analysing, e.g. `deps.doCheck=true` or
    /// `deps.cargoExtraArgs="--locked --workspace"` (repeatable). No file is edited.
    #[arg(long = "set", value_name = "PHASE.ATTR=VALUE")]
    set: Vec<Override>,
    /// Where cargo's answers are remembered between runs. Default:
    /// $XDG_CACHE_HOME/cache-miss, else ~/.cache/cache-miss.
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Ask cargo every time; read and write no cache.
    #[arg(long)]
    no_cache: bool,
    /// The Nix system a flake is read for (`stdenv.isDarwin`, ...), e.g. aarch64-darwin. Default: this machine's.
    #[arg(long, value_name = "SYSTEM")]
    system: Option<String>,
    #[command(flatten)]
    nix: NixArgs,
}

impl SourceArgs {
    fn options(&self) -> PhaseSourceOptions {
        PhaseSourceOptions {
            manifest_path: self.manifest_path.clone(),
            phases_file: self.phases.clone(),
            flake: self.flake.clone(),
            only: self.only.clone(),
            exclude: self.exclude.clone(),
            cache: match (&self.cache_dir, self.no_cache) {
                (_, true) => CacheLocation::Off,
                (Some(dir), false) => CacheLocation::Dir(dir.clone()),
                (None, false) => CacheLocation::Default,
            },
            system: self.system.clone(),
            nix: self.nix.options(self.system.clone()),
        }
    }
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Exit with 1 when any phase misses a dependency unit (findings do not count); with
    /// --baseline, only when a phase gained misses (or, with --costs, seconds).
    #[arg(long)]
    fail_on_miss: bool,
    /// Print where the time went (cargo resolution vs analysis) to stderr.
    #[arg(long)]
    timings: bool,
    /// Print only the findings (source filtering, workspace layout, environment hazards).
    #[arg(long)]
    findings_only: bool,
    /// A previous build's target dir: its build-script outputs tell which environment
    /// variables each build script watches.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// Weigh every miss by measured compile seconds: `verify --save-costs` output,
    /// `verify --format json` output, or a cargo-timing.html from `cargo build --timings`.
    #[arg(long, value_name = "FILE")]
    costs: Option<PathBuf>,
    /// A previous `report --format json`: print the misses the change added and removed;
    /// with --fail-on-miss, fail only when a phase gained misses (or seconds).
    #[arg(long, value_name = "OLD.json")]
    baseline: Option<PathBuf>,
    /// Show every root miss of each phase (by default at most 10, the most cascading).
    #[arg(long)]
    all: bool,
    /// Print fix lines without checking them (each is otherwise applied in another
    /// analysis first, which costs the changed buildDepsOnly's cargo resolutions).
    #[arg(long)]
    no_fix_check: bool,
}

#[derive(Args)]
pub(crate) struct PhasesArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Output format; `toml` writes the phases as a phases file (for `--phases`).
    #[arg(long, value_enum, default_value = "table")]
    format: PhasesFormat,
    /// With --nix: read the phases both ways, statically and with Nix, and print every
    /// difference (a phase only one side has, a name, a command, an env value, an
    /// artifact edge).
    #[arg(long, requires = "nix")]
    compare: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PhasesFormat {
    Table,
    Json,
    Markdown,
    Toml,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Exit with 1 when prediction and measurement disagree.
    #[arg(long)]
    check: bool,
    /// Keep the replay's temp dir and print its path (also after a failure or an
    /// interruption; otherwise it is removed).
    #[arg(long)]
    keep: bool,
    /// Write the measured compile seconds of every unit to FILE, for `report --costs`.
    #[arg(long, value_name = "FILE")]
    save_costs: Option<PathBuf>,
}

fn main() -> ExitCode {
    // During `verify`, cargo runs this binary as its rustc wrapper to time each unit.
    if let Some(log) = std::env::var_os(cache_miss::TIMING_LOG_ENV) {
        return cache_miss::wrap_rustc(log, std::env::args_os().skip(1).collect());
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let json = cli.command.formats_json();
    // A cancel (SIGINT, SIGTERM) stops cargo and git and removes temp dirs, then exits
    // 128 + the signal's number.
    if let Err(err) = cache_miss::handle_signals() {
        say(&format!("error: {err:#}"));
        return ExitCode::from(2);
    }
    std::panic::set_hook(Box::new(report_internal_error));
    // Unwinding runs the destructors (`verify`'s temp dir is removed); a panic in a worker
    // thread reaches here when its scope ends.
    let run = std::panic::AssertUnwindSafe(|| {
        // Debug builds only: how the tests reach the hook (no input panics).
        if cfg!(debug_assertions) && std::env::var_os("CACHE_MISS_TEST_PANIC").is_some() {
            panic!("a panic the tests asked for");
        }
        dispatch(cli.command)
    });
    let Ok(result) = std::panic::catch_unwind(run) else {
        if json {
            let _ = print(&json::render_error(&anyhow::anyhow!(
                "internal error, please report"
            )));
        }
        return ExitCode::from(2);
    };
    let code = match result {
        Ok(code) => code,
        Err(err) => {
            say(&format!("error: {err:#}"));
            if json {
                // Whatever reads the JSON sees the failure too; a failure to write it is
                // already an exit code of 2.
                let _ = print(&json::render_error(&err));
            }
            let interrupted = err.downcast_ref::<cache_miss::Interrupted>();
            ExitCode::from(interrupted.map_or(2, |i| i.exit_code()))
        }
    };
    if STDERR_LOST.load(Ordering::Relaxed) && code == ExitCode::SUCCESS {
        return ExitCode::from(2);
    }
    code
}

impl Command {
    /// Whether the output is JSON, so that an error is written as JSON too.
    fn formats_json(&self) -> bool {
        match self {
            Command::Report(args) => args.format == Format::Json,
            Command::Phases(args) => args.format == PhasesFormat::Json,
            Command::Verify(args) => args.format == Format::Json,
            Command::Fix(args) => args.format == Format::Json,
            Command::Touch(args) => args.format == Format::Json,
            Command::WhyRebuild(args) => args.format == Format::Json,
            Command::Completions { .. } | Command::Cache { .. } => false,
        }
    }
}

/// clap's message for bad arguments (on stderr) or `--help`/`--version` (on stdout);
/// exit 2 also when it cannot be written.
fn usage_error(err: &clap::Error) -> ExitCode {
    let on_stderr = err.use_stderr();
    let terminal = if on_stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let styled = err.render();
    let text = if terminal {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    let written = if on_stderr {
        write_to(std::io::stderr().as_fd(), &text)
    } else {
        write_to(std::io::stdout().as_fd(), &text)
    };
    if on_stderr && json_requested() {
        let message = anyhow::anyhow!("{}", styled.to_string().trim_end());
        let _ = print(&json::render_error(&message));
    }
    match written {
        Ok(()) => ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)),
        Err(_) => ExitCode::from(2),
    }
}

/// Whether the command line asks for JSON (`--format json`), for an error clap found
/// before the command was known.
fn json_requested() -> bool {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    args.iter().any(|arg| arg == "--format=json")
        || args
            .windows(2)
            .any(|pair| pair[0] == "--format" && pair[1] == "json")
}

/// Set when a message could not be written to stderr: the run then exits 2.
static STDERR_LOST: AtomicBool = AtomicBool::new(false);

/// The command, run.
fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Report(args) => report(args),
        Command::Phases(args) => phases(args),
        Command::Verify(args) => verify(args),
        Command::Fix(args) => fix(args),
        Command::Completions { shell } => completions(shell),
        Command::Touch(args) => touch(args),
        Command::WhyRebuild(args) => why_rebuild(args),
        Command::Cache { action } => cli::cache::run(action),
    }
}

/// The panic hook: a bug of cache-miss, said once (a worker's panic is raised again when
/// its scope ends) with where it happened; `main` then exits 2. A last line of defence:
/// bad input is an error, never a panic.
fn report_internal_error(info: &std::panic::PanicHookInfo<'_>) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let location = info.location().map_or_else(String::new, |l| {
        format!(" at {}:{}:{}", l.file(), l.line(), l.column())
    });
    say(&format!(
        "internal error, please report: cache-miss {} panicked{location}: {message}",
        env!("CARGO_PKG_VERSION")
    ));
}

/// Writes a line to stderr; a stderr that cannot take it (closed, full, read-only) makes
/// the exit code 2 instead of a panic.
pub(crate) fn say(line: &str) {
    let line = cache_miss::escape_for_terminal(line);
    if write_to(std::io::stderr().as_fd(), &format!("{line}\n")).is_err() {
        STDERR_LOST.store(true, Ordering::Relaxed);
    }
}

/// Writes `text` to the file descriptor itself: Rust's standard streams would drop text
/// for a closed descriptor without an error.
fn write_to(fd: BorrowedFd<'_>, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::File::from(fd.try_clone_to_owned()?);
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// Loads the phases; a fallback to crane's quick-start set is said on stderr too (unless
/// stderr is where the output goes).
pub(crate) fn load(source: &SourceArgs) -> anyhow::Result<LoadedPhases> {
    let loaded = load_unchanged(source)?;
    if source.set.is_empty() {
        return Ok(loaded);
    }
    loaded.with_overrides(&source.set)
}

/// The phases as their source states them, without `--set`'s changes.
fn load_unchanged(source: &SourceArgs) -> anyhow::Result<LoadedPhases> {
    let loaded = load_phases(&source.options())?;
    if let Some(warning) = &loaded.fallback {
        if !cli::output::stderr_is_stdout() {
            say(&format!("warning: {warning}"));
        }
    }
    Ok(loaded)
}

fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_unchanged(&args.source)?;
    let progress = progress();
    let report = cache_miss::run_report(&ReportRequest {
        loaded: &loaded,
        overrides: &args.source.set,
        target_dir: args.target_dir.as_deref(),
        costs: args.costs.as_deref(),
        baseline: args.baseline.as_deref(),
        check_fixes: !args.findings_only && !args.no_fix_check,
        progress: progress.as_ref(),
    })?;
    if args.timings {
        let t = report.timings;
        let cache = match loaded.session().cache_stats() {
            Some(stats) => format!(
                "; cargo answers: {} from the cache, {} from cargo",
                stats.hits, stats.misses
            ),
            None => "; no cache".to_string(),
        };
        let checks = match t.fix_checks + t.fix_checks_skipped {
            0 => String::new(),
            _ => format!(
                "; fix-line check: {} changes analysed, {} skipped (their outcome follows from answers in hand), {} cargo calls started while the report's own ran",
                t.fix_checks, t.fix_checks_skipped, t.ahead
            ),
        };
        say(&format!(
            "timings: {} cargo resolutions in {:.0} ms (parallel), analysis {:.1} ms{cache}{checks}",
            t.resolutions,
            t.resolve.as_secs_f64() * 1000.0,
            t.analyze.as_secs_f64() * 1000.0
        ));
    }
    let blocks = || match args.findings_only {
        false => document(
            &report,
            if args.all {
                RootRows::All
            } else {
                RootRows::Capped
            },
        ),
        true => findings_document(&report),
    };
    let text = match (args.format, args.findings_only) {
        (Format::Json, false) => cache_miss::report_json(&report),
        (Format::Json, true) => cache_miss::findings_json(&report),
        (Format::Github, _) => {
            let paths =
                github::RepoPaths::discover(&loaded.source_root, args.source.flake.as_deref());
            github::annotations(&report, &paths, args.findings_only)
                + &draw(&blocks(), Format::Github)
        }
        (Format::Dot, _) => graph::dot(&cache_miss::phase_graph(&report), "cache-miss report"),
        (format, _) => draw(&blocks(), format),
    };
    print(&text)?;
    if args.format == Format::Github {
        append_step_summary(&blocks())?;
    }
    if let Some(hint) = nix_hint(&args.source, &loaded, &report) {
        say(&hint);
    }
    let code = exit_code(&report, args.fail_on_miss);
    // What cargo answered and everything derived from it takes milliseconds to free, and
    // the process ends now: the memory goes back with it (cargo's temp dir does not).
    loaded.session().finish();
    std::mem::forget(loaded);
    Ok(code)
}

/// 2 when a phase could not be resolved (said on stderr), 1 for misses with
/// `--fail-on-miss` (new ones, with a baseline), else 0.
fn exit_code(report: &cache_miss::Report, fail_on_miss: bool) -> ExitCode {
    let failed: Vec<&str> = report.failed().map(|p| p.phase.name.as_str()).collect();
    if !failed.is_empty() {
        say(&format!(
            "error: cargo could not resolve {} (see the report); the analysis is incomplete. Leave a phase out with --exclude NAME",
            quoted_list(&failed)
        ));
        return ExitCode::from(2);
    }
    let missed = fail_on_miss
        && match &report.baseline {
            Some(delta) => delta.gained(),
            None => report.total_missed() > 0,
        };
    if missed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `` `a`, `b` ``.
fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Commands that build on a whole analysis (verify, fix) need every phase resolved.
pub(crate) fn require_complete(report: &cache_miss::Report) -> anyhow::Result<()> {
    let failed: Vec<String> = report
        .failed()
        .map(|p| {
            format!(
                "phase `{}`: {}",
                p.phase.name,
                p.error.as_deref().unwrap_or("failed")
            )
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{}; leave such phases out with --exclude NAME",
        failed.join("; ")
    )
}

fn phases(args: PhasesArgs) -> anyhow::Result<ExitCode> {
    if args.compare {
        return compare_phases(&args);
    }
    let loaded = load(&args.source)?;
    let summaries: Vec<PhaseSummary> = loaded.phases.phases.iter().map(PhaseSummary::of).collect();
    let document = || phases_document(&summaries, &loaded.description, &loaded.warnings);
    let text = match args.format {
        PhasesFormat::Json => {
            cache_miss::phases_json(&summaries, &loaded.description, &loaded.warnings)
        }
        PhasesFormat::Toml => cache_miss::write_phases_file(&loaded.specs),
        PhasesFormat::Table => draw(&document(), Format::Table),
        PhasesFormat::Markdown => draw(&document(), Format::Markdown),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `--format dot` draws the phase graph, which only `report` and `fix` have.
fn no_graph(format: Format, command: &str) -> anyhow::Result<()> {
    if format == Format::Dot {
        anyhow::bail!(
            "--format dot: `{command}` has no phase graph (use it with `report` or `fix`)"
        );
    }
    Ok(())
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    no_graph(args.format, "verify")?;
    let loaded = load(&args.source)?;
    let progress = progress();
    let predicted = analyze_loaded(&loaded, None, progress.as_ref())?;
    require_complete(&predicted)?;
    let verified = cache_miss::verify(
        &loaded.phases,
        loaded.session(),
        &predicted,
        args.keep,
        progress.as_ref(),
    )?;
    if let Some(path) = &args.save_costs {
        std::fs::write(path, verified.costs().to_file_text()).map_err(|err| {
            anyhow::anyhow!("--save-costs {}: cannot write it: {err}", path.display())
        })?;
    }
    let text = match args.format {
        Format::Json => cache_miss::verify_json(&verified, &predicted.findings),
        format => draw(&verify_document(&verified), format),
    };
    print(&text)?;
    if args.format == Format::Github {
        append_step_summary(&verify_document(&verified))?;
    }
    let failed = args.check && !verified.agrees();
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn fix(args: FixArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.source)?;
    let progress = progress();
    let before = analyze_loaded(&loaded, None, progress.as_ref())?;
    require_complete(&before)?;
    let proposals = cache_miss::propose_fixes(&loaded, &before, progress.as_ref())?;
    if let Some(n) = args.apply.apply {
        return cli::apply::apply_fix(&args.apply, n, &args.source, &loaded, &before, &proposals);
    }
    let text = match args.format {
        Format::Json => cache_miss::fix_json(&proposals),
        Format::Dot => graph::dot(
            &cache_miss::phase_graph(&before),
            &match proposals.proposals.first() {
                Some(best) => format!(
                    "cache-miss fix: {} (missed {} -> {})",
                    best.summary, best.missed_before, best.missed_after
                ),
                None => "cache-miss fix: no verified change".to_string(),
            },
        ),
        format => draw(&fix_document(&proposals, &before), format),
    };
    print(&text)?;
    if args.format == Format::Github {
        append_step_summary(&fix_document(&proposals, &before))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cache-miss", &mut text);
    print(&String::from_utf8_lossy(&text))?;
    Ok(ExitCode::SUCCESS)
}

fn touch(args: TouchArgs) -> anyhow::Result<ExitCode> {
    no_graph(args.format, "touch")?;
    if let Some(dir) = args.target_dir.as_deref().filter(|dir| !dir.is_dir()) {
        anyhow::bail!(
            "--target-dir {}: not a directory (give a previous build's target dir)",
            dir.display()
        );
    }
    if args.source.nix.nix {
        if !args.files.is_empty() {
            anyhow::bail!(
                "touch --nix compares what Nix instantiates for the work tree and for a revision (--since, default HEAD): name no files, or leave --nix out"
            );
        }
        return cli::nix::rebuilds_since(&args.source, args.since.as_deref(), args.format);
    }
    let loaded = load(&args.source)?;
    let options = cache_miss::TouchOptions {
        files: args.files,
        since: args.since,
        target_dir: args.target_dir,
    };
    let report = cache_miss::touch(&loaded, &options)?;
    let shown = if args.all {
        RootRows::All
    } else {
        RootRows::Capped
    };
    let text = match args.format {
        Format::Json => cache_miss::touch_json(&report),
        format => draw(&cache_miss::touch_document(&report, shown), format),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
