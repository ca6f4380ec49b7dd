//! Measured compile seconds per dependency unit: read from `verify`'s JSON, from the
//! `cargo-timing.html` that `cargo build --timings` writes, or from a costs file
//! (`verify --save-costs`). Nothing here estimates: a unit is measured or it is not.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::located::LocatedError;
use serde::{Deserialize, Serialize};

/// The `cache_miss_costs` version of a costs file this build writes and reads.
pub(crate) const COSTS_VERSION: u32 = 1;

/// Which artifact of a package a unit compiles, as far as a measurement can tell: the
/// timing page names a library only as "the library", not by its target name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum UnitTarget {
    /// The package's library (a proc-macro too).
    Lib,
    /// Compiling the build script.
    BuildScript,
    /// Another target (bin, test, example, bench), by name.
    Named(String),
}

impl UnitTarget {
    /// From a unit graph's (or cargo message's) target kind and name.
    pub fn of(kind: &str, name: &str) -> UnitTarget {
        match kind {
            "lib" | "rlib" | "dylib" | "cdylib" | "staticlib" | "proc-macro" => UnitTarget::Lib,
            "custom-build" => UnitTarget::BuildScript,
            _ => UnitTarget::Named(name.to_string()),
        }
    }
}

/// What identifies a measured unit: package, version, target, mode and sorted features.
/// The profile is not part of it (a timing page does not say it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitCostKey {
    pub package: String,
    pub version: String,
    #[serde(flatten)]
    pub target: UnitTarget,
    /// `build`, `check`, `test`, `run-custom-build` (running a build script).
    pub mode: String,
    pub features: Vec<String>,
}

impl UnitCostKey {
    pub fn new(
        package: &str,
        version: &str,
        target: UnitTarget,
        mode: &str,
        features: &[String],
    ) -> UnitCostKey {
        let mut features = features.to_vec();
        features.sort();
        features.dedup();
        UnitCostKey {
            package: package.to_string(),
            version: version.to_string(),
            target,
            mode: mode.to_string(),
            features,
        }
    }
}

/// One measured unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitCost {
    #[serde(flatten)]
    pub key: UnitCostKey,
    pub seconds: f64,
}

/// Where a set of measurements came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostOrigin {
    /// `cache-miss verify` (rustc wall time per unit).
    Verify,
    /// `cargo build --timings` (cargo's duration per unit).
    CargoTimings,
}

impl fmt::Display for CostOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CostOrigin::Verify => "cache-miss verify",
            CostOrigin::CargoTimings => "cargo build --timings",
        })
    }
}

/// Measured seconds by unit. A unit measured more than once (in two phases, or in two
/// profiles) keeps its longest time.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pub origin: CostOrigin,
    seconds: BTreeMap<UnitCostKey, f64>,
}

/// The costs file `verify --save-costs` writes.
#[derive(Serialize, Deserialize)]
struct CostsFile {
    cache_miss_costs: u32,
    origin: CostOrigin,
    units: Vec<UnitCost>,
}

impl Costs {
    pub fn new(origin: CostOrigin, units: impl IntoIterator<Item = UnitCost>) -> Costs {
        let mut seconds: BTreeMap<UnitCostKey, f64> = BTreeMap::new();
        for unit in units {
            let entry = seconds.entry(unit.key).or_insert(unit.seconds);
            *entry = entry.max(unit.seconds);
        }
        Costs { origin, seconds }
    }

    /// The measured seconds of a unit, if it was measured.
    pub fn seconds(&self, key: &UnitCostKey) -> Option<f64> {
        self.seconds.get(key).copied()
    }

    /// The costs file's text (JSON).
    pub fn to_file_text(&self) -> String {
        let file = CostsFile {
            cache_miss_costs: COSTS_VERSION,
            origin: self.origin,
            units: self
                .seconds
                .iter()
                .map(|(key, &seconds)| UnitCost {
                    key: key.clone(),
                    seconds,
                })
                .collect(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
    }

    /// Reads a costs file, `verify`'s JSON or a `cargo-timing.html`, told apart by content.
    pub fn read(path: &Path) -> Result<Costs> {
        crate::user_file::read_capped(path)
            .and_then(|text| Costs::parse(&text))
            .map_err(|err| LocatedError::in_json_file("--costs", path, &err).into())
    }

    pub fn parse(text: &str) -> Result<Costs> {
        if text.trim_start().starts_with('<') {
            return timing_page(text);
        }
        // What kind of JSON it is, read without keeping any of it; then the kind's own
        // fields, without a whole-file value in between.
        let kind: JsonKind = serde_json::from_str(text).context(
            "neither JSON (a costs file, `verify --format json`) nor a cargo-timing.html",
        )?;
        if let Some(version) = kind.cache_miss_costs {
            return costs_file(text, version);
        }
        if kind.phases.is_some() && kind.version.is_some() {
            return verify_json(text);
        }
        bail!(
            "a JSON file that is neither a costs file (`verify --save-costs`) nor `verify --format json` output"
        )
    }
}

/// The top-level keys that tell the JSON files apart.
#[derive(Deserialize)]
struct JsonKind {
    cache_miss_costs: Option<serde_json::Value>,
    phases: Option<serde::de::IgnoredAny>,
    version: Option<serde::de::IgnoredAny>,
}

fn costs_file(text: &str, version: serde_json::Value) -> Result<Costs> {
    if version.as_u64() != Some(u64::from(COSTS_VERSION)) {
        let shown = version.as_u64().map_or_else(
            || crate::text::echo(&version.to_string()),
            |v| v.to_string(),
        );
        bail!(
            "costs file version {shown}; this cache-miss reads version {COSTS_VERSION} (save it again with `verify --save-costs`)"
        );
    }
    let file: CostsFile = serde_json::from_str(text).context("not a valid costs file")?;
    for unit in &file.units {
        checked_seconds(
            unit.seconds,
            &format!("{}@{}", unit.key.package, unit.key.version),
        )?;
    }
    Ok(Costs::new(file.origin, file.units))
}

/// The most seconds one unit may take: 10⁷ s (116 days). With it, any sum of the units a
/// 64 MiB file can list stays finite and exact to well under a second.
pub(crate) const MAX_UNIT_SECONDS: f64 = 1e7;

/// `seconds` of `unit` from a user's file, if it is a compile time: finite, not negative,
/// at most [`MAX_UNIT_SECONDS`].
pub(crate) fn checked_seconds(seconds: f64, unit: &dyn fmt::Display) -> Result<f64> {
    if !(0.0..=MAX_UNIT_SECONDS).contains(&seconds) {
        bail!(
            "`{}`: {seconds:?} seconds is not a compile time (finite, 0 to {MAX_UNIT_SECONDS:e})",
            crate::text::one_line(&unit.to_string())
        );
    }
    Ok(seconds)
}

/// A unit `verify` measured, as its JSON writes it.
#[derive(Deserialize)]
struct VerifyMeasured {
    package: String,
    version: String,
    target: String,
    kind: Option<String>,
    mode: String,
    features: Option<Vec<String>>,
    seconds: f64,
}

#[derive(Deserialize)]
struct VerifyPhase {
    /// Absent in a `report` (which measures nothing).
    measured: Option<Vec<VerifyMeasured>>,
}

#[derive(Deserialize)]
struct VerifyJson {
    phases: Vec<VerifyPhase>,
}

fn verify_json(text: &str) -> Result<Costs> {
    let json: VerifyJson = serde_json::from_str(text)
        .context("not `cache-miss verify --format json` output (phases[].measured)")?;
    if json.phases.iter().all(|p| p.measured.is_none()) {
        bail!(
            "a `report` JSON, which measures nothing; give `verify --format json` output, a costs file (`verify --save-costs`) or a cargo-timing.html"
        );
    }
    let mut units = Vec::new();
    for measured in json
        .phases
        .into_iter()
        .flat_map(|p| p.measured.unwrap_or_default())
    {
        let (Some(kind), Some(features)) = (&measured.kind, &measured.features) else {
            bail!(
                "`{}@{}` is measured without its target kind and features (an older cache-miss wrote it); run `cache-miss verify` again",
                measured.package,
                measured.version
            );
        };
        let unit = format!("{}@{}", measured.package, measured.version);
        // A unit whose rustc run was not timed has 0 seconds: not a measurement.
        if checked_seconds(measured.seconds, &unit)? == 0.0 {
            continue;
        }
        units.push(UnitCost {
            key: UnitCostKey::new(
                &measured.package,
                &measured.version,
                UnitTarget::of(kind, &measured.target),
                &measured.mode,
                features,
            ),
            seconds: measured.seconds,
        });
    }
    Ok(Costs::new(CostOrigin::Verify, units))
}

/// One entry of the timing page's `UNIT_DATA`.
#[derive(Deserialize)]
struct TimingUnit {
    name: String,
    version: String,
    /// ` (check)`, ` build-script`, ` build-script (run)`, ` cli "bin" (test)`, or empty
    /// for a library built in full.
    target: String,
    #[serde(default)]
    features: Vec<String>,
    start: f64,
    duration: f64,
}

/// `cargo build --timings`'s page: the JSON array after `const UNIT_DATA =`.
fn timing_page(text: &str) -> Result<Costs> {
    let Some((_, data)) = text.split_once("UNIT_DATA = ") else {
        bail!("an HTML file without cargo's UNIT_DATA: not a cargo-timing.html");
    };
    let mut stream = serde_json::Deserializer::from_str(data).into_iter::<Vec<TimingUnit>>();
    let units = match stream.next() {
        Some(Ok(units)) => units,
        Some(Err(err)) => bail!("cargo-timing.html: UNIT_DATA does not parse: {err}"),
        None => bail!("cargo-timing.html: UNIT_DATA is empty"),
    };
    let mut costs = Vec::new();
    for unit in units {
        let name = format!("{}@{}{}", unit.name, unit.version, unit.target);
        checked_seconds(unit.duration, &name)?;
        // Fresh units are listed at 0.00 s from the start: cargo did not compile them.
        if unit.start == 0.0 && unit.duration == 0.0 {
            continue;
        }
        let Some((target, mode)) = timing_target(&unit.target) else {
            continue;
        };
        costs.push(UnitCost {
            key: UnitCostKey::new(&unit.name, &unit.version, target, mode, &unit.features),
            seconds: unit.duration,
        });
    }
    Ok(Costs::new(CostOrigin::CargoTimings, costs))
}

/// The target and mode of a timing page's `target` text; `None` for what no dependency
/// unit is (doc, doctest, scrape).
fn timing_target(text: &str) -> Option<(UnitTarget, &'static str)> {
    let (described, mode) = match text.rsplit_once(" (") {
        Some((described, suffix)) if suffix.ends_with(')') => {
            let mode = match suffix.strip_suffix(')').unwrap_or_default() {
                "check" | "check-test" => "check",
                "test" | "bench" => "test",
                "run" => "run-custom-build",
                _ => return None,
            };
            (described.trim(), mode)
        }
        _ => (text.trim(), "build"),
    };
    let target = match described {
        "" | "lib" => UnitTarget::Lib,
        "build-script" => UnitTarget::BuildScript,
        // ` cli "bin"`: the target's name, then its kind.
        named => UnitTarget::Named(named.split(' ').next().unwrap_or(named).to_string()),
    };
    let target = match (target, mode) {
        // The script's run is keyed by the package's build script, as in the unit graph.
        (UnitTarget::BuildScript, "run-custom-build") => UnitTarget::BuildScript,
        (target, _) => target,
    };
    Some((target, mode))
}

/// `2 min 10 s`, `12.3 s`, `0.25 s`, `1 h 2 min`.
pub(crate) fn duration_text(seconds: f64) -> String {
    if seconds < 10.0 {
        return format!("{seconds:.2} s");
    }
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds.round() as u64;
    let (hours, minutes, secs) = (whole / 3600, (whole % 3600) / 60, whole % 60);
    if hours > 0 {
        format!("{hours} h {minutes} min")
    } else {
        format!("{minutes} min {secs} s")
    }
}

/// The measured seconds of a miss, once a report is weighed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Cost {
    /// No costs were given: the JSON has no `seconds`.
    #[default]
    NotWeighed,
    /// Costs were given but do not have this unit: `seconds: null`.
    Unknown,
    Seconds(f64),
}

impl Cost {
    pub fn not_weighed(&self) -> bool {
        *self == Cost::NotWeighed
    }

    pub fn seconds(self) -> Option<f64> {
        match self {
            Cost::Seconds(s) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for Cost {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cost::Seconds(s) => serializer.serialize_f64(*s),
            _ => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_targets_read_as_units() {
        let lib = Some((UnitTarget::Lib, "build"));
        assert_eq!(timing_target(""), lib);
        assert_eq!(timing_target(" (check)"), Some((UnitTarget::Lib, "check")));
        assert_eq!(
            timing_target(" build-script"),
            Some((UnitTarget::BuildScript, "build"))
        );
        assert_eq!(
            timing_target(" build-script (run)"),
            Some((UnitTarget::BuildScript, "run-custom-build"))
        );
        assert_eq!(
            timing_target(" cli \"bin\" (check-test)"),
            Some((UnitTarget::Named("cli".into()), "check"))
        );
        assert_eq!(timing_target(" shared \"lib\" (doc test)"), None);
    }

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(duration_text(0.25), "0.25 s");
        assert_eq!(duration_text(12.34), "12.3 s");
        assert_eq!(duration_text(130.2), "2 min 10 s");
        assert_eq!(duration_text(3720.0), "1 h 2 min");
    }

    #[test]
    fn a_costs_file_reads_back_what_was_saved() {
        let unit = |features: &[&str], seconds| UnitCost {
            key: UnitCostKey::new(
                "leaf",
                "1.0.0",
                UnitTarget::Lib,
                "build",
                &features.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
            ),
            seconds,
        };
        let costs = Costs::new(
            CostOrigin::Verify,
            [
                unit(&["b", "a"], 1.5),
                unit(&["a", "b"], 2.5),
                unit(&[], 0.5),
            ],
        );
        assert_eq!(
            costs.seconds.len(),
            2,
            "the same unit measured twice keeps one time"
        );
        let again = Costs::parse(&costs.to_file_text()).unwrap();
        assert_eq!(again, costs);
        assert_eq!(again.seconds(&unit(&["a", "b"], 0.0).key), Some(2.5));
    }

    #[test]
    fn unknown_files_are_refused_with_what_was_expected() {
        let err = Costs::parse("{\"x\": 1}").unwrap_err().to_string();
        assert!(err.contains("neither a costs file"), "{err}");
        let err = Costs::parse("<html></html>").unwrap_err().to_string();
        assert!(err.contains("UNIT_DATA"), "{err}");
        let err = Costs::parse("{\"cache_miss_costs\": 9, \"origin\": \"verify\", \"units\": []}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("version 9"), "{err}");
        let report = "{\"version\": 1, \"phases\": [{\"name\": \"deps\", \"misses\": []}]}";
        let err = Costs::parse(report).unwrap_err().to_string();
        assert!(err.contains("a `report` JSON"), "{err}");
    }
}
