//! The wire format of `cargo <cmd> --unit-graph -Z unstable-options` (version 1).

use std::collections::HashMap;

use serde::Deserialize;

use super::package_id::{PackageId, PackageSource};

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::cargo::metadata::{DependencyIndex, git_commits};
    use crate::cargo::package_id::GitReference;

    const COMMIT: &str = "c1943101dfc2026ba29cba08e759d5d1a3a72d9f";

    fn recorded(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/cargo-output")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn metadata(name: &str) -> cargo_metadata::Metadata {
        cargo_metadata::MetadataCommand::parse(recorded(name)).unwrap()
    }

    fn ids(graph: &UnitGraph) -> BTreeSet<PackageId> {
        graph.units.iter().map(|u| u.pkg_id.clone()).collect()
    }

    #[test]
    fn cargo_1_76_unit_ids_are_read() {
        let graph = UnitGraph::parse(&recorded("dev-deps.unit-graph.cargo-1.76.json")).unwrap();
        let ids = ids(&graph);
        let names: Vec<(&str, &str, bool)> = ids
            .iter()
            .map(|id| (id.name.as_str(), id.version.as_str(), id.is_local()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            names,
            [
                ("leaf", "1.0.0", false),
                ("lib", "0.1.0", true),
                ("testkit", "0.1.0", false)
            ]
        );
        assert!(
            graph
                .units
                .iter()
                .filter(|u| !u.pkg_id.is_local())
                .all(|u| u.pkg_id.source == PackageSource::CratesIo)
        );
    }

    #[test]
    fn a_git_package_is_the_same_in_both_forms_once_joined_with_metadata() {
        let old = UnitGraph::parse(&recorded("git-dep.unit-graph.cargo-1.76.json")).unwrap();
        let mut new = UnitGraph::parse(&recorded("git-dep.unit-graph.cargo-1.95.json")).unwrap();
        assert!(!old.lacks_git_commits());
        assert!(new.lacks_git_commits());
        new.join_git_commits(&git_commits(&metadata("git-dep.metadata.cargo-1.95.json")));
        assert!(!new.lacks_git_commits());
        assert_eq!(ids(&old), ids(&new));
        let kit = ids(&new).into_iter().find(|id| id.name == "kit").unwrap();
        assert_eq!(kit.version, "0.2.0");
        assert_eq!(
            kit.source,
            PackageSource::Git {
                url: "file:///tmp/ws/repos/kit".into(),
                reference: GitReference::Rev("c194310".into()),
                commit: Some(COMMIT.into()),
            }
        );
    }

    #[test]
    fn metadata_of_both_forms_finds_the_git_package_s_declarations() {
        for (graph, recorded_metadata) in [
            (
                "git-dep.unit-graph.cargo-1.76.json",
                "git-dep.metadata.cargo-1.76.json",
            ),
            (
                "git-dep.unit-graph.cargo-1.95.json",
                "git-dep.metadata.cargo-1.95.json",
            ),
        ] {
            let metadata = metadata(recorded_metadata);
            let mut graph = UnitGraph::parse(&recorded(graph)).unwrap();
            graph.join_git_commits(&git_commits(&metadata));
            let index = DependencyIndex::from_metadata(&metadata).unwrap();
            let app = ids(&graph).into_iter().find(|id| id.name == "app").unwrap();
            let kit = ids(&graph).into_iter().find(|id| id.name == "kit").unwrap();
            let requested = index.requested_features(&app, &[], &kit, "kit");
            assert!(
                requested.contains("extra"),
                "{recorded_metadata}: {requested:?}"
            );
            let leaf = ids(&graph)
                .into_iter()
                .find(|id| id.name == "leaf")
                .unwrap();
            let through_kit = index.requested_features(&kit, &["extra".into()], &leaf, "leaf");
            assert!(
                through_kit.contains("extra"),
                "{recorded_metadata}: {through_kit:?}"
            );
        }
    }
}
