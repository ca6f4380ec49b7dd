//! `cache-miss why-rebuild OLD [NEW]` (and `touch --nix`): which of the flake's crane
//! derivations rebuild between two revisions, and why, down to a leaf a user can change.
//! Both revisions are instantiated by Nix (a commit from a `git archive` copy in a temp
//! dir, the work tree as Nix reads a git flake), never built; a derivation rebuilds exactly
//! when its `.drv` path changed ([`walk`] says why). What cargo then compiles again comes
//! from the analysis of the new revision's phases ([`revision`] reads a commit's).

pub(crate) mod display;
pub(crate) mod revision;
pub(crate) mod walk;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cargo::{CacheLocation, ResolutionCache};
use crate::report::Report;
use crate::source::nix::{FlakeEvaluation, NixOptions, evaluate_flake};
use crate::touch::git::Repository;
use walk::{Walker, Why};

/// What to compare. Produced by the command line.
#[derive(Debug, Clone)]
pub struct RebuildRequest {
    /// The flake's directory (holding `flake.nix`), in the work tree.
    pub flake_dir: PathBuf,
    /// The old revision.
    pub from: String,
    /// The new revision; `None`: the work tree.
    pub to: Option<String>,
    pub nix: NixOptions,
    pub cache: CacheLocation,
}

impl RebuildRequest {
    /// The new revision as the report names it.
    pub fn to_name(&self) -> String {
        self.to.clone().unwrap_or_else(|| "work tree".to_string())
    }
}

/// The answer of `why-rebuild`. Produced by [`why_rebuild`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RebuildReport {
    pub from: String,
    /// The new revision, or `work tree`.
    pub to: String,
    /// How each side was read (`nix 2.8.0 on path:… (x86_64-linux)`).
    pub old_source: String,
    pub new_source: String,
    pub phases: Vec<PhaseRebuild>,
    /// Outputs that are no crane derivation, and what could not be compared.
    pub warnings: Vec<String>,
}

/// One crane derivation's fate between the two revisions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseRebuild {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub function: String,
    /// Its `.drv` path changed (or it is new, or gone).
    pub rebuilds: bool,
    /// `new` or `gone` when only one revision has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_in: Option<&'static str>,
    pub causes: Vec<Why>,
    /// What cargo compiles in the rebuilt derivation (from the analysis of the new
    /// revision's phases).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recompiles: Option<Recompiles>,
}

/// What cargo compiles again in a rebuilt derivation: its workspace's own units always;
/// for a buildDepsOnly every dependency unit; for another phase the units its inherited
/// artifacts miss.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Recompiles {
    /// crane's function compiles nothing whatever it is given (`cargoFmt`).
    pub compiles_nothing: bool,
    pub workspace_units: usize,
    pub dependency_units: usize,
    /// The missed dependency units, by label.
    pub missed: Vec<String>,
}

/// Compares the two revisions' crane derivations. `new` holds the phases `--nix` read
/// from the new revision (the work tree, or [`revision::load_revision`]'s copy of `to`):
/// what Nix answered for it is not asked again; `analysed` is their report.
pub fn why_rebuild(
    request: &RebuildRequest,
    new: &crate::source::load::LoadedPhases,
    analysed: Option<&Report>,
) -> Result<RebuildReport> {
    let repository = Repository::open(&request.flake_dir, Some(&request.from))?;
    let relative = request
        .flake_dir
        .strip_prefix(&repository.top)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let cache = ResolutionCache::open(&request.cache)?;
    let (_old_dir, old) = evaluate_revision(&repository, &relative, &request.nix, cache.as_ref())?;
    let new = match (&new.nix_evaluation, &new.flake) {
        (Some(evaluation), _) => Cow::Borrowed(evaluation.as_ref()),
        (None, Some(flake)) => {
            let dir = flake.parent().unwrap_or(Path::new("."));
            Cow::Owned(
                evaluate_flake(dir, &request.nix, cache.as_ref())
                    .with_context(|| format!("evaluating {}", request.to_name()))?,
            )
        }
        (None, None) => anyhow::bail!("--nix found no flake to instantiate"),
    };
    Ok(compare(request, &old, &new, analysed))
}

/// The revision's tree in a temp dir, evaluated there.
fn evaluate_revision(
    repository: &Repository,
    relative: &Path,
    nix: &NixOptions,
    cache: Option<&ResolutionCache>,
) -> Result<(Option<crate::interrupt::TempDir>, FlakeEvaluation)> {
    let (dir, top) = repository.checkout_base()?;
    let evaluation = evaluate_flake(&top.join(relative), nix, cache)
        .with_context(|| format!("evaluating {}", crate::text::echo(&repository.base_name)))?;
    Ok((Some(dir), evaluation))
}

fn compare(
    request: &RebuildRequest,
    old: &FlakeEvaluation,
    new: &FlakeEvaluation,
    analysed: Option<&Report>,
) -> RebuildReport {
    let (old_reading, new_reading) = (old.reading("flake.nix"), new.reading("flake.nix"));
    let walker = Walker::new(&old.drvs, &new.drvs);
    let function = |specs: &[crate::phase::PhaseSpec], name: &str| {
        specs
            .iter()
            .find(|spec| spec.name == name)
            .and_then(|spec| match spec.attrs.get("function") {
                Some(crate::phase::AttrValue::Str(f)) => Some(f.clone()),
                _ => None,
            })
            .unwrap_or_default()
    };
    let mut phases = Vec::new();
    for spec in &new_reading.specs {
        let Some(new_drv) = new_reading.drv_of.get(&spec.name) else {
            continue;
        };
        let (rebuilds, only_in, causes) = match old_reading.drv_of.get(&spec.name) {
            Some(old_drv) => (old_drv != new_drv, None, walker.why(old_drv, new_drv)),
            None => (true, Some("new"), Vec::new()),
        };
        phases.push(PhaseRebuild {
            name: spec.name.clone(),
            aliases: spec.aliases.clone(),
            function: function(&new_reading.specs, &spec.name),
            rebuilds,
            only_in,
            causes,
            recompiles: rebuilds
                .then(|| analysed.and_then(|report| recompiles(report, &spec.name)))
                .flatten(),
        });
    }
    for (name, _) in old_reading
        .drv_of
        .iter()
        .filter(|(name, _)| !new_reading.drv_of.contains_key(*name))
    {
        phases.push(PhaseRebuild {
            name: name.clone(),
            aliases: Vec::new(),
            function: function(&old_reading.specs, name),
            rebuilds: true,
            only_in: Some("gone"),
            causes: Vec::new(),
            recompiles: None,
        });
    }
    let mut warnings: Vec<String> = new_reading
        .not_crane
        .iter()
        .map(|output| format!("{output} is no crane derivation: not compared"))
        .collect();
    let failed: BTreeMap<&str, &str> = new
        .outputs
        .iter()
        .filter_map(|o| Some((o.attr.as_str(), o.drv.as_ref().err()?.as_str())))
        .collect();
    for (attr, message) in failed {
        let first = message.lines().next().unwrap_or_default();
        warnings.push(format!(
            "{attr} does not evaluate in the new revision: {first}"
        ));
    }
    RebuildReport {
        from: request.from.clone(),
        to: request.to_name(),
        old_source: old.description(),
        new_source: new.description(),
        phases,
        warnings,
    }
}

/// What the analysis of the new tree says a rebuilt phase compiles.
fn recompiles(report: &Report, name: &str) -> Option<Recompiles> {
    let phase = report.phases.iter().find(|p| p.phase.name == name)?;
    let deps_only = phase.phase.function == crate::phase::CraneFunction::BuildDepsOnly;
    Some(Recompiles {
        compiles_nothing: phase.phase.function.compiles_nothing(),
        workspace_units: phase.units.local,
        dependency_units: if deps_only {
            phase.units.needed
        } else {
            phase.units.missed
        },
        missed: phase.misses.iter().map(|m| m.label_with_mode()).collect(),
    })
}
