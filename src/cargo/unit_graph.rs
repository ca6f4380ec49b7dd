//! The wire format of `cargo <cmd> --unit-graph -Z unstable-options` (version 1).

use std::collections::HashMap;

use serde::Deserialize;

use super::package_id::{PackageId, PackageSource};

/// Every unit cargo would compile for one command. Produced by
/// [`super::run::resolve_unit_graphs`] (deserialized from cargo's output).
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
    /// Read from either form cargo writes (see [`PackageId`]).
    pub pkg_id: PackageId,
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

    /// Whether a git package's commit is missing (cargo ≥ 1.77 leaves it out of unit ids).
    pub fn lacks_git_commits(&self) -> bool {
        self.units.iter().any(|unit| {
            matches!(unit.pkg_id.source, PackageSource::Git { .. })
                && unit.pkg_id.source.commit().is_none()
        })
    }

    /// Gives each git package the commit `commits` has for its id (ids without commits).
    pub fn join_git_commits(&mut self, commits: &HashMap<PackageId, String>) {
        for unit in &mut self.units {
            let Some(found) = commits.get(&unit.pkg_id) else {
                continue;
            };
            if let PackageSource::Git { commit, .. } = &mut unit.pkg_id.source {
                commit.get_or_insert_with(|| found.clone());
            }
        }
    }
}
