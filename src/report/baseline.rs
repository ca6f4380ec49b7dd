//! What a change did against a previous report (`report --baseline OLD.json`): per phase,
//! the misses that are new and the misses that are gone.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::{PhaseStatus, Report};
use crate::explain::MissReport;
use crate::located::LocatedError;

/// The JSON contract version a baseline must have: the one this build writes.
pub(crate) const CONTRACT_VERSION: u32 = crate::render::json::VERSION;

/// The change against a baseline report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BaselineDelta {
    /// The baseline report's path, as given.
    pub file: String,
    pub phases: Vec<PhaseDelta>,
}

impl BaselineDelta {
    /// Whether any phase gained misses (or measured seconds).
    pub fn gained(&self) -> bool {
        self.phases.iter().any(PhaseDelta::gained)
    }
}

/// One phase's change. A phase the baseline does not have counts all its misses as new; a
/// phase gone since counts all of its old ones as gone.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseDelta {
    pub name: String,
    /// Misses in the baseline (`None`: the baseline has no such analysed phase).
    pub missed_before: Option<usize>,
    /// Misses now (`None`: the phase is gone).
    pub missed_now: Option<usize>,
    pub new_misses: Vec<String>,
    pub gone_misses: Vec<String>,
    /// Measured seconds in the baseline, when it was weighed (`--costs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_before: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_now: Option<f64>,
}

impl PhaseDelta {
    /// New misses, or more measured seconds when both reports were weighed.
    pub fn gained(&self) -> bool {
        let slower = matches!(
            (self.seconds_before, self.seconds_now),
            (Some(before), Some(now)) if now > before
        );
        !self.new_misses.is_empty() || slower
    }

    pub fn changed(&self) -> bool {
        !self.new_misses.is_empty()
            || !self.gone_misses.is_empty()
            || self.seconds_before != self.seconds_now
    }
}

/// The parts of a previous `--format json` report a baseline needs.
#[derive(Deserialize)]
struct OldReport {
    workspace_root: String,
    phases: Vec<OldPhase>,
}

#[derive(Deserialize)]
struct OldPhase {
    name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    misses: Vec<OldMiss>,
    #[serde(default)]
    seconds: Option<f64>,
}

#[derive(Deserialize)]
struct OldMiss {
    package: String,
    version: String,
    target: String,
    kind: String,
    mode: String,
    platform: Option<String>,
    #[serde(default)]
    features: Vec<String>,
}

/// A miss's identity across reports: what would make cargo's unit another one. Compared
/// as a value; written out (`leaf@1.0.0 (build, features a,b)`) only for the JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct MissIdentity {
    /// The package's name and version.
    package: (String, String),
    /// The target's kind and name.
    target: (String, String),
    mode: String,
    variant: UnitVariant,
}

/// What tells apart units of one package, target and mode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct UnitVariant {
    /// `None`: the host.
    platform: Option<String>,
    /// Sorted.
    features: Vec<String>,
}

impl MissIdentity {
    fn new(
        (package, version): (&str, &str),
        (kind, target): (&str, &str),
        mode: &str,
        platform: Option<&str>,
        features: &[String],
    ) -> MissIdentity {
        let mut features = features.to_vec();
        features.sort();
        MissIdentity {
            package: (package.to_string(), version.to_string()),
            target: (kind.to_string(), target.to_string()),
            mode: mode.to_string(),
            variant: UnitVariant {
                platform: platform.map(str::to_string),
                features,
            },
        }
    }

    fn of_old(m: &OldMiss) -> MissIdentity {
        MissIdentity::new(
            (&m.package, &m.version),
            (&m.kind, &m.target),
            &m.mode,
            m.platform.as_deref(),
            &m.features,
        )
    }

    fn of(m: &MissReport) -> MissIdentity {
        MissIdentity::new(
            (&m.package, &m.version),
            (&m.kind, &m.target),
            &m.mode,
            m.platform.as_deref(),
            &m.features,
        )
    }
}

impl fmt::Display for MissIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ((package, version), (kind, target)) = (&self.package, &self.target);
        write!(
            f,
            "{} ({}",
            crate::diff::graph::target_label(package, version, kind, target),
            self.mode
        )?;
        if let Some(platform) = &self.variant.platform {
            write!(f, ", for {platform}")?;
        }
        if !self.variant.features.is_empty() {
            write!(f, ", features {}", self.variant.features.join(","))?;
        }
        f.write_str(")")
    }
}

/// The misses of one side that the other lacks, written out, sorted as text.
fn written(only: std::collections::btree_set::Difference<'_, MissIdentity>) -> Vec<String> {
    let texts: BTreeSet<String> = only.map(ToString::to_string).collect();
    texts.into_iter().collect()
}

/// Reads the baseline at `path` and compares `report` with it. A file that is not a report
/// of this contract version, or one of another workspace, is an error.
pub(crate) fn compare(report: &Report, path: &Path) -> Result<BaselineDelta> {
    let old = crate::user_file::read_capped(path)
        .and_then(|text| parse(&text, &report.workspace_root))
        .map_err(|err| LocatedError::in_json_file("--baseline", path, &err))?;
    Ok(delta(report, &old, path.display().to_string()))
}

/// The keys that say whether a JSON file is a full report of this contract version.
#[derive(Deserialize)]
struct ReportKind {
    version: Option<serde_json::Value>,
    phases: Option<serde::de::IgnoredAny>,
}

/// Read twice, never as a whole-file value: first the version (keeping nothing else), then
/// only the fields a baseline needs.
fn parse(text: &str, workspace_root: &str) -> Result<OldReport> {
    let kind: ReportKind = serde_json::from_str(text)
        .context("not JSON; give a previous `cache-miss report --format json` output")?;
    match kind.version.as_ref().and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(CONTRACT_VERSION) => {}
        Some(v) => bail!(
            "a report of contract version {v}; this cache-miss reads version {CONTRACT_VERSION}: make the baseline again with this version"
        ),
        None => bail!(
            "not a cache-miss report (no `version`); give a previous `cache-miss report --format json` output"
        ),
    }
    if kind.phases.is_none() {
        bail!(
            "a report without `phases` (`--findings-only`?); give a full `report --format json` output"
        );
    }
    let old: OldReport =
        serde_json::from_str(text).context("not a cache-miss report of contract version 1")?;
    for phase in &old.phases {
        if let Some(seconds) = phase.seconds
            && !(seconds.is_finite() && seconds >= 0.0)
        {
            bail!(
                "phase `{}`: {seconds:?} seconds is not a compile time",
                crate::text::one_line(&phase.name)
            );
        }
    }
    if old.workspace_root != workspace_root {
        bail!(
            "a report of another workspace ({}); this one is {workspace_root}",
            old.workspace_root
        );
    }
    Ok(old)
}

fn delta(report: &Report, old: &OldReport, file: String) -> BaselineDelta {
    let analysed = |status: &Option<String>| status.as_deref().is_none_or(|s| s == "ok");
    let mut phases = Vec::new();
    for phase in report.phases.iter().filter(|p| p.status == PhaseStatus::Ok) {
        let before = old
            .phases
            .iter()
            .find(|o| o.name == phase.phase.name && analysed(&o.status));
        let old_ids: BTreeSet<MissIdentity> = before
            .map(|o| o.misses.iter().map(MissIdentity::of_old).collect())
            .unwrap_or_default();
        let new_ids: BTreeSet<MissIdentity> = phase.misses.iter().map(MissIdentity::of).collect();
        phases.push(PhaseDelta {
            name: phase.phase.name.clone(),
            missed_before: before.map(|o| o.misses.len()),
            missed_now: Some(phase.misses.len()),
            new_misses: written(new_ids.difference(&old_ids)),
            gone_misses: written(old_ids.difference(&new_ids)),
            seconds_before: before.and_then(|o| o.seconds),
            seconds_now: phase.costs.map(|c| c.seconds),
        });
    }
    let gone = old
        .phases
        .iter()
        .filter(|o| analysed(&o.status) && !report.phases.iter().any(|p| p.phase.name == o.name));
    for phase in gone {
        phases.push(PhaseDelta {
            name: phase.name.clone(),
            missed_before: Some(phase.misses.len()),
            missed_now: None,
            new_misses: Vec::new(),
            gone_misses: phase
                .misses
                .iter()
                .map(|m| MissIdentity::of_old(m).to_string())
                .collect(),
            seconds_before: phase.seconds,
            seconds_now: None,
        });
    }
    BaselineDelta { file, phases }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_compare_as_values_and_read_as_before() {
        let of = |features: &[&str], platform| {
            let features: Vec<String> = features.iter().map(|f| f.to_string()).collect();
            MissIdentity::new(
                ("leaf", "1.0.0"),
                ("lib", "leaf"),
                "build",
                platform,
                &features,
            )
        };
        assert_eq!(of(&["b", "a"], None), of(&["a", "b"], None));
        assert_ne!(of(&[], None), of(&[], Some("wasm32")));
        assert_eq!(
            of(&["b", "a"], Some("wasm32")).to_string(),
            "leaf@1.0.0 (build, for wasm32, features a,b)"
        );
        let script = MissIdentity::new(
            ("buildy", "0.1.0"),
            ("custom-build", "build-script-build"),
            "run-custom-build",
            None,
            &[],
        );
        assert_eq!(
            script.to_string(),
            format!(
                "{} (run-custom-build)",
                crate::diff::graph::target_label(
                    "buildy",
                    "0.1.0",
                    "custom-build",
                    "build-script-build"
                )
            )
        );
    }
}
