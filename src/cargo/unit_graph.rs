//! The wire format of `cargo <cmd> --unit-graph -Z unstable-options` (version 1).

use serde::Deserialize;

/// Every unit cargo would compile for one command. Produced by
/// [`super::run::CargoRunner::unit_graph`] (deserialized from cargo's output).
#[derive(Debug, Clone, Deserialize)]
pub struct UnitGraph {
    pub version: u32,
    pub units: Vec<Unit>,
    #[serde(default)]
    pub roots: Vec<usize>,
}

/// One compilation (or build-script run) cargo would perform.
#[derive(Debug, Clone, Deserialize)]
pub struct Unit {
    pub pkg_id: String,
    pub target: UnitTarget,
    /// The whole profile as cargo printed it; every field takes part in the unit's identity.
    pub profile: Box<serde_json::value::RawValue>,
    /// `None` for the host.
    pub platform: Option<String>,
    pub mode: String,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default)]
    pub dependencies: Vec<UnitDependency>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UnitTarget {
    pub kind: Vec<String>,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UnitDependency {
    pub index: usize,
}

impl UnitGraph {
    pub fn parse(json: &str) -> Result<UnitGraph, serde_json::Error> {
        serde_json::from_str(json)
    }
}
