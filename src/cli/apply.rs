//! `fix --apply`: the options, and the edit shown, written and proven.

use std::process::ExitCode;

use clap::Args;

use super::output::print;
use super::progress::progress;
use crate::{SourceArgs, require_complete, say};
use cache_miss::fix_apply::{self as apply, Plan, Safety};
use cache_miss::{LoadedPhases, analyze_loaded, load_phases};

/// Editing the files that define the phases.
#[derive(Args)]
pub(crate) struct ApplyArgs {
    /// Edit the files that define the phases (flake.nix and the Nix files it imports, or
    /// phases.toml) as proposal N says (default: 1, the best), then prove it by analysing
    /// the edited files again; on any failure the files get their old text back.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "1")]
    pub(crate) apply: Option<usize>,
    /// With --apply: print the unified diff and write nothing.
    #[arg(long, requires = "apply")]
    dry_run: bool,
    /// With --apply: edit files that have uncommitted changes.
    #[arg(long, requires = "apply")]
    allow_dirty: bool,
    /// With --apply: edit files outside a git repository.
    #[arg(long, requires = "apply")]
    allow_no_vcs: bool,
}

/// `fix --apply N`: edit, show the diff, prove by analysing the edited files again.
pub(crate) fn apply_fix(
    args: &ApplyArgs,
    n: usize,
    source: &SourceArgs,
    loaded: &LoadedPhases,
    before: &cache_miss::Report,
    proposals: &cache_miss::FixReport,
) -> anyhow::Result<ExitCode> {
    if !source.set.is_empty() {
        anyhow::bail!("--apply edits the files as they are: leave --set out");
    }
    let Some(proposal) = n.checked_sub(1).and_then(|i| proposals.proposals.get(i)) else {
        if proposals.proposals.is_empty() {
            say("nothing to apply: no change to buildDepsOnly removes a miss");
            return Ok(ExitCode::SUCCESS);
        }
        anyhow::bail!(
            "--apply {n}: there are {} proposals (1 is the best)",
            proposals.proposals.len()
        );
    };
    let changes = match apply::plan(loaded, proposal)? {
        Plan::Edit(changes) => changes,
        Plan::NotEditable(reasons) => {
            let mut text =
                String::from("cannot edit the files for this proposal, so nothing is written:\n");
            for reason in &reasons {
                text.push_str(&format!("  {reason}\n"));
            }
            text.push_str(&format!("make the change by hand:\n\n{}\n", proposal.nix));
            print(&cache_miss::escape_for_terminal(&text))?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    if !args.dry_run {
        let safety = Safety {
            allow_dirty: args.allow_dirty,
            allow_no_vcs: args.allow_no_vcs,
        };
        apply::check_safety(&changes, safety)?;
    }
    print(&cache_miss::escape_for_terminal(&apply::diff(&changes)))?;
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let missed = apply::write_and_prove(&changes, proposal.missed_after, || {
        let edited = load_phases(&source.options())?;
        let after = analyze_loaded(&edited, None, progress().as_ref())?;
        require_complete(&after)?;
        Ok(cache_miss::fix_missed_after(before, &after))
    })?;
    print(&format!(
        "missed {} → {missed}, as proposal {n} promised\n",
        proposal.missed_before
    ))?;
    Ok(ExitCode::SUCCESS)
}
