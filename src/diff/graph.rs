//! The diff's view of a unit graph: each unit's own identity and its dependencies.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cargo::{Invocation, PackageId, UnitGraph};

/// Everything that makes one unit's artifact distinct, apart from its dependencies.
/// Field order is the display and sort order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct UnitKey {
    /// Shared by every unit of the package in a graph: keys are cloned often.
    pub pkg_id: Arc<PackageId>,
    /// Target kinds joined with `,` (`lib`, `custom-build`, `proc-macro`, ...).
    pub target_kind: String,
    pub target_name: String,
    pub mode: String,
    /// Sorted.
    pub features: Vec<String>,
    /// The profile as canonical JSON (every field counts).
    pub profile: String,
    /// `None` for the host.
    pub platform: Option<String>,
    /// Where the unit's rustflags come from (`RUSTFLAGS=--cfg loom`), `None` for none.
    pub rustflags: Option<String>,
    /// The crane lib (toolchain) that compiles it, when known.
    pub toolchain: Option<String>,
}

impl UnitKey {
    pub(crate) fn profile_name(&self) -> String {
        /// Only the name: the other fields are skipped, not built.
        #[derive(serde::Deserialize)]
        struct Named<'a> {
            #[serde(borrow)]
            name: Option<std::borrow::Cow<'a, str>>,
        }
        serde_json::from_str::<Named>(&self.profile)
            .ok()
            .and_then(|p| p.name)
            .map(String::from)
            .unwrap_or_default()
    }

    /// `leaf@1.0.0 (build)`, `buildy@0.1.0 build-script (run-custom-build)`: a short label.
    pub(crate) fn label(&self) -> String {
        let package = &self.pkg_id;
        format!(
            "{} ({})",
            target_label(
                &package.name,
                &package.version,
                &self.target_kind,
                &self.target_name
            ),
            self.mode
        )
    }
}

/// `leaf@1.0.0`, `buildy@0.1.0 build-script`, `app@0.1.0 bin app`: a package and, unless
/// it is the library, the target.
pub(crate) fn target_label(name: &str, version: &str, kind: &str, target: &str) -> String {
    let target = match kind {
        "lib" | "rlib" | "proc-macro" => String::new(),
        "custom-build" => " build-script".to_string(),
        kind => format!(" {kind} {target}"),
    };
    format!("{name}@{version}{target}")
}

/// The part of a unit-graph profile that decides where its artifact lives and whether it
/// can be reused, as canonical JSON. Cargo compares profiles without their names but keeps
/// each profile's artifacts in its own directory, and `test` and `bench` share `dev`'s and
/// `release`'s: so `name` becomes that directory's profile. `strip` counts by its value,
/// whether cargo has resolved it yet or not.
pub(crate) fn artifact_profile(raw: &str) -> String {
    let Ok(serde_json::Value::Object(mut profile)) = serde_json::from_str(raw) else {
        return raw.to_string();
    };
    if let Some(serde_json::Value::String(name)) = profile.get_mut("name") {
        match name.as_str() {
            "test" => *name = "dev".into(),
            "bench" => *name = "release".into(),
            _ => {}
        }
    }
    if let Some(strip) = profile.get_mut("strip") {
        *strip = strip_value(strip);
    }
    serde_json::Value::Object(profile).to_string()
}

/// `{"resolved": {"Named": "debuginfo"}}` and `{"deferred": "None"}` as `debuginfo`, `none`.
fn strip_value(strip: &serde_json::Value) -> serde_json::Value {
    let mut value = strip;
    while let serde_json::Value::Object(map) = value {
        match map.values().next() {
            Some(inner) if map.len() == 1 => value = inner,
            _ => break,
        }
    }
    match value {
        serde_json::Value::String(s) => serde_json::Value::String(s.to_lowercase()),
        other => other.clone(),
    }
}

/// One unit as the diff sees it. Produced by [`DiffGraph::from_unit_graph`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiffUnit {
    /// Shared: misses and explanations hold the keys they name without copying them.
    pub key: Arc<UnitKey>,
    pub deps: Vec<usize>,
    /// A workspace or other `path+` package: rebuilt by design.
    pub local: bool,
}

/// A unit graph reduced to identities. Produced by [`DiffGraph::from_unit_graph`].
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct DiffGraph {
    pub units: Vec<DiffUnit>,
}

impl DiffGraph {
    /// Builds the diff's view of `graph`, resolved for `invocation` (whose rustflags are
    /// part of every target unit's identity, and of host units' when no target is given)
    /// by a cargo whose host triple is `host`.
    pub(crate) fn from_unit_graph(
        graph: &UnitGraph,
        invocation: &Invocation,
        host: &str,
    ) -> DiffGraph {
        let rustflags = invocation.rustflags(host);
        let reach_host = invocation.rustflags_reach_host();
        // A graph has a handful of distinct profiles: canonicalize each once.
        let mut profiles: HashMap<&str, String> = HashMap::new();
        let mut packages: HashMap<&PackageId, Arc<PackageId>> = HashMap::new();
        let units = graph
            .units
            .iter()
            .map(|unit| {
                let mut features = unit.features.clone();
                features.sort();
                let host_unit = unit.platform.is_none() && !reach_host;
                DiffUnit {
                    key: Arc::new(UnitKey {
                        pkg_id: packages
                            .entry(&unit.pkg_id)
                            .or_insert_with_key(|id| Arc::new((*id).clone()))
                            .clone(),
                        target_kind: unit.target.kind.join(","),
                        target_name: unit.target.name.clone(),
                        mode: unit.mode.clone(),
                        features,
                        profile: profiles
                            .entry(unit.profile.get())
                            .or_insert_with_key(|raw| artifact_profile(raw))
                            .clone(),
                        platform: unit.platform.clone(),
                        rustflags: if host_unit { None } else { rustflags.clone() },
                        toolchain: invocation.toolchain.clone(),
                    }),
                    deps: unit
                        .dependencies
                        .iter()
                        .map(|d| d.index)
                        .filter(|&i| i < graph.units.len())
                        .collect(),
                    local: unit.pkg_id.is_local(),
                }
            })
            .collect();
        DiffGraph { units }
    }
}

#[cfg(test)]
mod tests {
    use super::artifact_profile;

    #[test]
    fn bench_and_release_profiles_are_one_artifact() {
        let release =
            r#"{"name":"release","opt_level":"3","strip":{"deferred":{"Named":"debuginfo"}}}"#;
        let bench =
            r#"{"name":"bench","opt_level":"3","strip":{"resolved":{"Named":"debuginfo"}}}"#;
        assert_eq!(artifact_profile(release), artifact_profile(bench));
        assert_eq!(
            artifact_profile(bench),
            r#"{"name":"release","opt_level":"3","strip":"debuginfo"}"#
        );
        let test = r#"{"name":"test","strip":{"deferred":"None"}}"#;
        assert_eq!(artifact_profile(test), r#"{"name":"dev","strip":"none"}"#);
        let custom = r#"{"name":"ci","opt_level":"3"}"#;
        assert_ne!(artifact_profile(custom), artifact_profile(release));
    }
}
