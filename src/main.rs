//! The `cache-miss` command line: parse, call the library, map errors to exit codes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use cache_miss::render::document::{
    Block, document, findings_document, fix_document, phases_document, verify_document,
};
use cache_miss::render::{self, Format};
use cache_miss::report::PhaseSummary;
use cache_miss::source::{LoadedPhases, Override, PhaseSourceOptions, load_phases};

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
}

impl SourceArgs {
    fn options(&self) -> PhaseSourceOptions {
        PhaseSourceOptions {
            manifest_path: self.manifest_path.clone(),
            phases_file: self.phases.clone(),
            flake: self.flake.clone(),
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
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
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
    if let Some(log) = std::env::var_os(cache_miss::verify::timing::TIMING_LOG_ENV) {
        return cache_miss::verify::timing::wrap_rustc(log, std::env::args_os().skip(1).collect());
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Report(args) => report(args),
        Command::Phases(args) => phases(args),
        Command::Verify(args) => verify(args),
        Command::Fix(args) => fix(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            let interrupted = err.downcast_ref::<cache_miss::verify::Interrupted>();
            ExitCode::from(interrupted.map_or(2, |i| i.exit_code()))
        }
    }
}

/// Loads the phases; a fallback to crane's quick-start set is said on stderr too.
fn load(source: &SourceArgs) -> anyhow::Result<LoadedPhases> {
    let loaded = load_phases(&source.options())?;
    if let Some(warning) = &loaded.fallback {
        eprintln!("warning: {warning}");
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
    let report = if args.set.is_empty() {
        loaded.analyze(target_dir)?
    } else {
        let before = loaded.analyze(target_dir)?;
        let mut after = loaded.with_overrides(&args.set)?.analyze(target_dir)?;
        after.compare_with(&before);
        after
    };
    if args.timings {
        let t = report.timings;
        eprintln!(
            "timings: {} cargo resolutions in {:.0} ms (parallel), analysis {:.1} ms",
            t.resolutions,
            t.resolve.as_secs_f64() * 1000.0,
            t.analyze.as_secs_f64() * 1000.0
        );
    }
    let text = match (args.format, args.findings_only) {
        (Format::Json, false) => render::json::render(&report),
        (Format::Json, true) => render::json::render_findings(&report),
        (format, false) => draw(&document(&report), format),
        (format, true) => draw(&findings_document(&report), format),
    };
    print(&text)?;
    let failed = args.fail_on_miss && report.total_missed() > 0;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn phases(args: PhasesArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.source)?;
    let summaries: Vec<PhaseSummary> = loaded.phases.phases.iter().map(PhaseSummary::of).collect();
    let text = match args.format {
        Format::Json => {
            render::json::render_phases(&summaries, &loaded.description, &loaded.warnings)
        }
        format => draw(
            &phases_document(&summaries, &loaded.description, &loaded.warnings),
            format,
        ),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.source)?;
    let predicted = loaded.analyze(None)?;
    let verified =
        cache_miss::verify::verify(&loaded.phases, &loaded.runner(), &predicted, args.keep)?;
    let text = match args.format {
        Format::Json => render::json::render_verify(&verified, &predicted.findings),
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
    let before = loaded.analyze(None)?;
    let proposals = cache_miss::fix::propose(&loaded, &before)?;
    let text = match args.format {
        Format::Json => render::json::render_fix(&proposals),
        format => draw(&fix_document(&proposals, &before), format),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Tables or markdown; tables wrap at the terminal's width (100 columns in logs and pipes)
/// and colour only on a terminal without NO_COLOR.
fn draw(blocks: &[Block], format: Format) -> String {
    if format == Format::Markdown {
        return render::markdown::render(blocks);
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
    let style = render::table::TableStyle {
        width,
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    render::table::render(blocks, style)
}

/// Writes the output; a closed pipe (`| head`) is not an error worth reporting, any other
/// failure to write (a full disk) is.
fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write the output: {err}"))
        }
        _ => Ok(()),
    }
}
