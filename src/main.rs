//! The `cache-miss` command line: parse, call the library, map errors to exit codes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use cache_miss::render::{self, Format};
use cache_miss::source::{PhaseSourceOptions, load_phases};

/// Predicts which dependency crates each crane (Nix) phase recompiles instead of
/// reusing buildDepsOnly's artifacts, and why.
#[derive(Parser)]
#[command(name = "cache-miss", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve what every phase compiles and report the dependency units it rebuilds.
    Report(ReportArgs),
}

#[derive(Args)]
struct ReportArgs {
    /// The workspace's Cargo.toml (crane's source root).
    #[arg(long, default_value = "Cargo.toml")]
    manifest_path: PathBuf,
    /// A phases file (TOML, crane's attribute names). Default: phases.toml beside the manifest.
    #[arg(long)]
    phases: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Exit with 1 when any phase misses a dependency unit.
    #[arg(long)]
    fail_on_miss: bool,
    /// Print where the time went (cargo resolution vs analysis) to stderr.
    #[arg(long)]
    timings: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Report(args) => report(args),
    }
}

fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let options = PhaseSourceOptions {
        manifest_path: args.manifest_path,
        phases_file: args.phases,
    };
    let loaded = load_phases(&options)?;
    let report = cache_miss::report::analyze::analyze(
        &loaded.phases,
        &loaded.description,
        &loaded.runner(),
    )?;
    if args.timings {
        let t = report.timings;
        eprintln!(
            "timings: {} cargo resolutions in {:.0} ms (parallel), analysis {:.1} ms",
            t.resolutions,
            t.resolve.as_secs_f64() * 1000.0,
            t.analyze.as_secs_f64() * 1000.0
        );
    }
    let text = match args.format {
        Format::Json => render::json::render(&report),
        Format::Markdown => render::markdown::render(&render::document::document(&report)),
        Format::Table => {
            let stdout = std::io::stdout();
            let style = render::table::TableStyle {
                width: if stdout.is_terminal() {
                    terminal_width().unwrap_or(100)
                } else {
                    100
                },
                color: stdout.is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            };
            render::table::render(&render::document::document(&report), style)
        }
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
    Ok(if args.fail_on_miss && report.total_missed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(100))
}
