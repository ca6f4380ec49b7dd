//! The `cache-miss` command line: parse, call the library, map errors to exit codes.

use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};

use cache_miss::{
    Block, Format, LoadedPhases, Override, PhaseSourceOptions, PhaseSummary, Progress,
    analyze_loaded, document, findings_document, fix_document, json, load_phases, markdown,
    phases_document, table, verify_document,
};

/// Predicts which dependency crates each crane (Nix) phase recompiles instead of
/// reusing buildDepsOnly's artifacts, and why.
#[derive(Parser)]
#[command(
    name = "cache-miss",
    version,
    about,
    after_help = "Exit codes: 0 analysed (with or without misses); 1 `report --fail-on-miss` with misses, or `verify --check` with a disagreement; 2 bad input or cargo failure; 128 + the signal's number (130 for Ctrl-C): `verify` stopped by a signal."
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
}

#[derive(Args)]
struct FixArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Where the workspace and its phases are.
#[derive(Args)]
struct SourceArgs {
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
}

impl SourceArgs {
    fn options(&self) -> PhaseSourceOptions {
        PhaseSourceOptions {
            manifest_path: self.manifest_path.clone(),
            phases_file: self.phases.clone(),
            flake: self.flake.clone(),
            only: self.only.clone(),
            exclude: self.exclude.clone(),
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
    /// Exit with 1 when any phase misses a dependency unit (findings do not count).
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
    /// What-if: change a phase attribute before analysing, e.g. `deps.doCheck=true` or
    /// `deps.cargoExtraArgs="--locked --workspace"` (repeatable). No file is edited.
    #[arg(long = "set", value_name = "PHASE.ATTR=VALUE")]
    set: Vec<Override>,
}

#[derive(Args)]
struct PhasesArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Output format; `toml` writes the phases as a phases file (for `--phases`).
    #[arg(long, value_enum, default_value = "table")]
    format: PhasesFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PhasesFormat {
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
    let result = match cli.command {
        Command::Report(args) => report(args),
        Command::Phases(args) => phases(args),
        Command::Verify(args) => verify(args),
        Command::Fix(args) => fix(args),
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
    match written {
        Ok(()) => ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)),
        Err(_) => ExitCode::from(2),
    }
}

/// Set when a message could not be written to stderr: the run then exits 2.
static STDERR_LOST: AtomicBool = AtomicBool::new(false);

/// Writes a line to stderr; a stderr that cannot take it (closed, full, read-only) makes
/// the exit code 2 instead of a panic.
fn say(line: &str) {
    let line = cache_miss::escape_control_characters(line);
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

/// Loads the phases; a fallback to crane's quick-start set is said on stderr too.
fn load(source: &SourceArgs) -> anyhow::Result<LoadedPhases> {
    let loaded = load_phases(&source.options())?;
    if let Some(warning) = &loaded.fallback {
        say(&format!("warning: {warning}"));
    }
    Ok(loaded)
}

fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.source)?;
    let target_dir = args.target_dir.as_deref();
    if let Some(dir) = target_dir.filter(|dir| !dir.is_dir()) {
        anyhow::bail!(
            "--target-dir {}: not a directory (give a previous build's target dir)",
            dir.display()
        );
    }
    let progress = TerminalProgress::new();
    let report = if args.set.is_empty() {
        analyze_loaded(&loaded, target_dir, &progress)?
    } else {
        let before = analyze_loaded(&loaded, target_dir, &progress)?;
        let changed = loaded.with_overrides(&args.set)?;
        let mut after = analyze_loaded(&changed, target_dir, &progress)?;
        after.compare_with(&before);
        after
    };
    if args.timings {
        let t = report.timings;
        say(&format!(
            "timings: {} cargo resolutions in {:.0} ms (parallel), analysis {:.1} ms",
            t.resolutions,
            t.resolve.as_secs_f64() * 1000.0,
            t.analyze.as_secs_f64() * 1000.0
        ));
    }
    let text = match (args.format, args.findings_only) {
        (Format::Json, false) => json::render(&report),
        (Format::Json, true) => json::render_findings(&report),
        (format, false) => draw(&document(&report), format),
        (format, true) => draw(&findings_document(&report), format),
    };
    print(&text)?;
    let failed: Vec<&str> = report.failed().map(|p| p.phase.name.as_str()).collect();
    if !failed.is_empty() {
        say(&format!(
            "error: cargo could not resolve {} (see the report); the analysis is incomplete. Leave a phase out with --exclude NAME",
            quoted_list(&failed)
        ));
        return Ok(ExitCode::from(2));
    }
    let missed = args.fail_on_miss && report.total_missed() > 0;
    Ok(if missed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
fn require_complete(report: &cache_miss::Report) -> anyhow::Result<()> {
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
    let loaded = load(&args.source)?;
    let summaries: Vec<PhaseSummary> = loaded.phases.phases.iter().map(PhaseSummary::of).collect();
    let document = || phases_document(&summaries, &loaded.description, &loaded.warnings);
    let text = match args.format {
        PhasesFormat::Json => {
            json::render_phases(&summaries, &loaded.description, &loaded.warnings)
        }
        PhasesFormat::Toml => cache_miss::write_phases_file(&loaded.specs),
        PhasesFormat::Table => draw(&document(), Format::Table),
        PhasesFormat::Markdown => draw(&document(), Format::Markdown),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.source)?;
    let progress = TerminalProgress::new();
    let predicted = analyze_loaded(&loaded, None, &progress)?;
    require_complete(&predicted)?;
    let verified = cache_miss::verify(
        &loaded.phases,
        &loaded.runner(),
        &predicted,
        args.keep,
        &progress,
    )?;
    let text = match args.format {
        Format::Json => json::render_verify(&verified, &predicted.findings),
        format => draw(&verify_document(&verified), format),
    };
    print(&text)?;
    let failed = args.check && !verified.agrees();
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn fix(args: FixArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.source)?;
    let progress = TerminalProgress::new();
    let before = analyze_loaded(&loaded, None, &progress)?;
    require_complete(&before)?;
    let proposals = cache_miss::propose_fixes(&loaded, &before, &progress)?;
    let text = match args.format {
        Format::Json => json::render_fix(&proposals),
        format => draw(&fix_document(&proposals, &before), format),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr, drawn only for a person at a terminal (not in CI logs or
/// pipes).
struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl TerminalProgress {
    fn new() -> TerminalProgress {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        TerminalProgress {
            bar: interactive.then(|| {
                let bar = indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::stderr(),
                );
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {pos}/{len}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }),
        }
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, stage: &str, steps: usize) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(steps as u64);
            bar.set_message(stage.to_string());
        }
    }

    fn step(&self, _what: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn end(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Tables or markdown; tables wrap at the terminal's width (100 columns in logs and pipes)
/// and colour only on a terminal without NO_COLOR.
fn draw(blocks: &[Block], format: Format) -> String {
    if format == Format::Markdown {
        return markdown::render(blocks);
    }
    let terminal = std::io::stdout().is_terminal();
    let width = if terminal {
        comfy_table::Table::new()
            .width()
            .filter(|w| *w >= 60)
            .unwrap_or(100)
    } else {
        100
    };
    let style = table::TableStyle {
        width,
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    table::render(blocks, style)
}

/// Writes the output; a closed pipe (`| head`) is not an error worth reporting, any other
/// failure to write (a full disk, a closed or read-only stdout) is.
fn print(text: &str) -> anyhow::Result<()> {
    let stdout = std::io::stdout().lock();
    match write_to(stdout.as_fd(), text) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write the output: {err}"))
        }
        _ => Ok(()),
    }
}
