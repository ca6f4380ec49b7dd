//! `cache-miss report`'s sequence, from loaded phases to the finished report: the
//! analysis (and, with `--set`, the one before the change), the fix-line check, the
//! weighing by measured seconds and the comparison with a baseline.

use std::path::Path;

use anyhow::{Result, bail};

use super::Lookahead;
use super::Report;
use super::analyze::{analyze_loaded, analyze_loaded_with};
use crate::costs::Costs;
use crate::fix::advice::{CheckAhead, check_advice};
use crate::progress::Progress;
use crate::source::load::{LoadedPhases, Override};

/// What `report` is asked. Produced by the command line.
pub struct ReportRequest<'a> {
    /// The phases as their source states them; their session runs every cargo call.
    pub loaded: &'a LoadedPhases,
    /// `--set`: the changes analysed, compared with the phases without them.
    pub overrides: &'a [Override],
    /// A previous build's target dir, for the findings.
    pub target_dir: Option<&'a Path>,
    /// `--costs FILE`: measured seconds to weigh the misses by.
    pub costs: Option<&'a Path>,
    /// `--baseline OLD.json`: a previous report to compare with.
    pub baseline: Option<&'a Path>,
    /// Whether each fix line is checked by another analysis (off with `--no-fix-check`).
    pub check_fixes: bool,
    pub progress: &'a dyn Progress,
}

/// The report `request` asks for. Bad input (a target dir that is none, a costs file
/// that cannot be read) is an error before any cargo call.
pub fn run(request: &ReportRequest) -> Result<Report> {
    if let Some(dir) = request.target_dir.filter(|dir| !dir.is_dir()) {
        bail!(
            "--target-dir {}: not a directory (give a previous build's target dir)",
            dir.display()
        );
    }
    let costs = request.costs.map(Costs::read).transpose()?;
    let changed;
    let analysed = match request.overrides {
        [] => request.loaded,
        overrides => {
            changed = request.loaded.with_overrides(overrides)?;
            &changed
        }
    };
    let (target_dir, progress) = (request.target_dir, request.progress);
    // The fix-line check's cargo calls start as soon as each is known, in the queue of
    // the report's own.
    let ahead = CheckAhead::new(analysed);
    let lookahead = request.check_fixes.then_some(&ahead as &dyn Lookahead);
    let mut report = analyze_loaded_with(analysed, target_dir, lookahead, progress)?;
    if !request.overrides.is_empty() {
        report.compare_with(&analyze_loaded(request.loaded, target_dir, progress)?);
    }
    if request.check_fixes {
        check_advice(analysed, &ahead, &mut report, progress);
    }
    if let Some(costs) = &costs {
        super::costs::weigh(&mut report, costs);
    }
    if let Some(baseline) = request.baseline {
        report.baseline = Some(super::baseline::compare(&report, baseline)?);
    }
    Ok(report)
}
