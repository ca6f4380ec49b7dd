//! The commands and options of reading phases with Nix: `--nix` and its settings,
//! `phases --nix --compare`, `why-rebuild` and `touch --nix`, and the hint at `--nix`.

use std::process::ExitCode;

use clap::Args;

use super::output::{draw, print};
use super::progress::progress;
use crate::{PhasesArgs, PhasesFormat, SourceArgs, load};
use cache_miss::{Format, LoadedPhases, analyze_loaded, load_phases};

/// Reading the phases with the user's own Nix.
#[derive(Args)]
pub(crate) struct NixArgs {
    /// Read the phases from the derivations your Nix instantiates for the flake (nothing is
    /// built): its `packages` and `checks` for the system, and each --installable.
    #[arg(long, conflicts_with = "phases")]
    pub(crate) nix: bool,
    /// Another flake output to read (repeatable), e.g. `hydraJobs.x` or `.#hydraJobs.x`.
    #[arg(long, value_name = "ATTR", requires = "nix")]
    installable: Vec<String>,
    /// Passed to nix: use URL for the flake input INPUT (repeatable).
    #[arg(long, num_args = 2, value_names = ["INPUT", "URL"], requires = "nix")]
    override_input: Vec<String>,
    /// Passed to nix: set a Nix setting (repeatable).
    #[arg(long = "option", num_args = 2, value_names = ["NAME", "VALUE"], requires = "nix")]
    nix_option: Vec<String>,
    /// Let Nix import from derivations, which builds them (off by default).
    #[arg(long, requires = "nix")]
    nix_allow_ifd: bool,
    /// Stop a Nix call that takes longer than this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, requires = "nix")]
    nix_timeout: u64,
    /// Stop a Nix call that takes more memory than this many GiB.
    #[arg(long, value_name = "GIB", default_value_t = 8, requires = "nix")]
    nix_max_memory: u64,
}

impl NixArgs {
    pub(crate) fn options(&self, system: Option<String>) -> Option<cache_miss::NixOptions> {
        let pairs = |flat: &[String]| -> Vec<(String, String)> {
            flat.chunks(2)
                .filter_map(|pair| Some((pair.first()?.clone(), pair.get(1)?.clone())))
                .collect()
        };
        self.nix.then(|| cache_miss::NixOptions {
            system,
            installables: self.installable.clone(),
            override_inputs: pairs(&self.override_input),
            options: pairs(&self.nix_option),
            allow_ifd: self.nix_allow_ifd,
            timeout: std::time::Duration::from_secs(self.nix_timeout),
            max_memory: self.nix_max_memory.saturating_mul(1 << 30),
            require_evaluable: true,
        })
    }
}

/// `phases --nix --compare`: the static reading against Nix's.
pub(crate) fn compare_phases(args: &PhasesArgs) -> anyhow::Result<ExitCode> {
    let mut options = args.source.options();
    if let Some(nix) = options.nix.as_mut() {
        nix.require_evaluable = false;
    }
    let mut with_nix = load_phases(&options)?;
    if !args.source.set.is_empty() {
        with_nix = with_nix.with_overrides(&args.source.set)?;
    }
    options.nix = None;
    let mut statically = load_phases(&options)?;
    if !args.source.set.is_empty() {
        statically = statically.with_overrides(&args.source.set)?;
    }
    let differences = cache_miss::compare_phases(&statically.phases, &with_nix.phases);
    let (s, n) = (&statically.description, &with_nix.description);
    let text = match args.format {
        PhasesFormat::Json => cache_miss::render_compare(s, n, &differences),
        PhasesFormat::Markdown => draw(
            &cache_miss::compare_document(s, n, &differences),
            Format::Markdown,
        ),
        PhasesFormat::Table | PhasesFormat::Toml => draw(
            &cache_miss::compare_document(s, n, &differences),
            Format::Table,
        ),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Without `--nix`, a report on phases the static reader guessed (crane's quick-start
/// set) or read only approximately ends with a line pointing at `--nix`.
pub(crate) fn nix_hint(
    source: &SourceArgs,
    loaded: &LoadedPhases,
    report: &cache_miss::Report,
) -> Option<String> {
    if source.nix.nix || source.phases.is_some() {
        return None;
    }
    let approximate = report
        .phases
        .iter()
        .filter(|p| !p.phase.approximations.is_empty())
        .count();
    let why = match (&loaded.fallback, approximate) {
        (None, _) if loaded.flake.is_none() => return None,
        (Some(_), _) => {
            "the phases are crane's quick-start set, not read from your flake".to_string()
        }
        (None, 0) => return None,
        (None, n) => format!(
            "{n} phase{} read only approximately from your flake",
            if n == 1 { " was" } else { "s were" }
        ),
    };
    Some(format!(
        "hint: {why}; `cache-miss report --nix` reads every phase as your Nix instantiates it (nothing is built)"
    ))
}

/// `cache-miss why-rebuild OLD [NEW]`.
#[derive(Args)]
pub(crate) struct WhyRebuildArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The old revision (a commit, a branch, `HEAD~3`).
    from: String,
    /// The new revision; default: the work tree.
    to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
}

pub(crate) fn why_rebuild(args: WhyRebuildArgs) -> anyhow::Result<ExitCode> {
    if args.source.nix.nix {
        return rebuilds_between(&args.source, &args.from, args.to.as_deref(), args.format);
    }
    let report = match &args.to {
        Some(to) => {
            cache_miss::touch_between(&args.source.options(), &args.source.set, &args.from, to)?
        }
        None => {
            let options = cache_miss::TouchOptions {
                since: Some(args.from.clone()),
                ..Default::default()
            };
            cache_miss::touch(&load(&args.source)?, &options)?
        }
    };
    let text = match args.format {
        Format::Json => cache_miss::touch_json(&report),
        format => draw(
            &cache_miss::touch_document(&report, cache_miss::RootRows::Capped),
            format,
        ),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `touch --nix [--since REV]`: the work tree against REV (default `HEAD`), as Nix
/// instantiates both.
pub(crate) fn rebuilds_since(
    source: &SourceArgs,
    since: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    rebuilds_between(source, since.unwrap_or("HEAD"), None, format)
}

fn rebuilds_between(
    source: &SourceArgs,
    from: &str,
    to: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    // The new revision's phases as Nix reads them (one evaluation), in a copy of its files
    // when it is a commit; what cargo compiles in a rebuilt phase comes from their analysis.
    let revision = match to {
        Some(to) => Some(cache_miss::load_revision(&source.options(), from, to)?),
        None => None,
    };
    let loaded = match &revision {
        Some(revision) => revision.loaded.with_overrides(&source.set)?,
        None => load(source)?,
    };
    let flake_dir = match &revision {
        Some(revision) => revision.flake_dir(),
        None => loaded
            .flake
            .as_deref()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf),
    };
    let Some(flake_dir) = flake_dir else {
        anyhow::bail!("--nix found no flake to instantiate");
    };
    let flake_dir = flake_dir.canonicalize()?;
    let analysed = analyze_loaded(&loaded, None, progress().as_ref())?;
    let request = cache_miss::RebuildRequest {
        flake_dir,
        from: from.to_string(),
        to: to.map(str::to_string),
        nix: source
            .nix
            .options(source.system.clone())
            .unwrap_or_default(),
        cache: source.options().cache,
    };
    let report = cache_miss::why_rebuild(&request, &loaded, Some(&analysed))?;
    let text = match format {
        Format::Json => cache_miss::rebuild_json(&report),
        format => draw(&cache_miss::rebuild_document(&report), format),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
