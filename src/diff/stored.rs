//! The diff's view of a unit graph as bytes: what a warm run reads instead of cargo's
//! JSON, which it would parse and reduce to the same [`DiffGraph`] again. Packages and
//! profiles are stored once each and named by index; a stored graph that does not hold
//! together (an index out of range, bytes that are no graph) reads as `None`, so that the
//! caller reads cargo's answer instead. Never a panic: the bytes come from a cache.

// Indices come from stored bytes: checked through `get`.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::graph::{DiffGraph, DiffUnit, UnitKey};
use crate::cargo::PackageId;
use crate::cargo::package_id::PackageSource;

/// The format of the bytes: a change to it is a change to this name, so that bytes of
/// another format are never read (it is part of the cache key).
pub(crate) const FORMAT: &str = "diff graph, postcard, 1";

#[derive(Serialize, Deserialize)]
struct Stored {
    packages: Vec<(String, String, PackageSource)>,
    profiles: Vec<String>,
    units: Vec<StoredUnit>,
}

#[derive(Serialize, Deserialize)]
struct StoredUnit {
    package: u32,
    target_kind: String,
    target_name: String,
    mode: String,
    features: Vec<String>,
    profile: u32,
    platform: Option<String>,
    rustflags: Option<String>,
    toolchain: Option<String>,
    deps: Vec<u32>,
    local: bool,
}

/// `graph` as bytes.
pub(crate) fn encode(graph: &DiffGraph) -> Vec<u8> {
    let mut packages: Vec<(String, String, PackageSource)> = Vec::new();
    let mut package_index: HashMap<&PackageId, u32> = HashMap::new();
    let mut profiles: Vec<String> = Vec::new();
    let mut profile_index: HashMap<&str, u32> = HashMap::new();
    let units = graph
        .units
        .iter()
        .map(|unit| {
            let key = &unit.key;
            let package = *package_index.entry(&key.pkg_id).or_insert_with(|| {
                let id = &key.pkg_id;
                packages.push((id.name.clone(), id.version.clone(), id.source.clone()));
                (packages.len() - 1) as u32
            });
            let profile = *profile_index.entry(&key.profile).or_insert_with(|| {
                profiles.push(key.profile.clone());
                (profiles.len() - 1) as u32
            });
            StoredUnit {
                package,
                target_kind: key.target_kind.clone(),
                target_name: key.target_name.clone(),
                mode: key.mode.clone(),
                features: key.features.clone(),
                profile,
                platform: key.platform.clone(),
                rustflags: key.rustflags.clone(),
                toolchain: key.toolchain.clone(),
                deps: unit.deps.iter().map(|&d| d as u32).collect(),
                local: unit.local,
            }
        })
        .collect();
    let stored = Stored {
        packages,
        profiles,
        units,
    };
    // Serializing owned strings and numbers into a vector cannot fail.
    postcard::to_allocvec(&stored).unwrap_or_default()
}

/// The graph `bytes` hold, when they hold one whole.
pub(crate) fn decode(bytes: &[u8]) -> Option<DiffGraph> {
    let stored: Stored = postcard::from_bytes(bytes).ok()?;
    let count = stored.units.len();
    let packages: Vec<Arc<PackageId>> = stored
        .packages
        .into_iter()
        .map(|(name, version, source)| {
            Arc::new(PackageId {
                name,
                version,
                source,
            })
        })
        .collect();
    let units = stored
        .units
        .into_iter()
        .map(|unit| {
            let deps = unit
                .deps
                .iter()
                .map(|&d| d as usize)
                .collect::<Vec<usize>>();
            if deps.iter().any(|&d| d >= count) {
                return None;
            }
            Some(DiffUnit {
                key: Arc::new(UnitKey {
                    pkg_id: packages.get(unit.package as usize)?.clone(),
                    target_kind: unit.target_kind,
                    target_name: unit.target_name,
                    mode: unit.mode,
                    features: unit.features,
                    profile: stored.profiles.get(unit.profile as usize)?.clone(),
                    platform: unit.platform,
                    rustflags: unit.rustflags,
                    toolchain: unit.toolchain,
                }),
                deps,
                local: unit.local,
            })
        })
        .collect::<Option<Vec<DiffUnit>>>()?;
    Some(DiffGraph { units })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, mode: &str, profile: &str) -> Arc<UnitKey> {
        Arc::new(UnitKey {
            pkg_id: Arc::new(
                PackageId::parse(&format!(
                    "registry+https://github.com/rust-lang/crates.io-index#{name}@1.0.0"
                ))
                .unwrap(),
            ),
            target_kind: "lib".into(),
            target_name: name.into(),
            mode: mode.into(),
            features: vec!["default".into(), "std".into()],
            profile: profile.into(),
            platform: Some("aarch64-unknown-linux-gnu".into()),
            rustflags: Some("RUSTFLAGS=--cfg loom".into()),
            toolchain: Some("craneLibMsrv".into()),
        })
    }

    fn graph() -> DiffGraph {
        let release = r#"{"name":"release","opt_level":"3"}"#;
        DiffGraph {
            units: vec![
                DiffUnit {
                    key: key("leaf", "build", release),
                    deps: vec![],
                    local: false,
                },
                DiffUnit {
                    key: key("top", "check", release),
                    deps: vec![0],
                    local: false,
                },
                DiffUnit {
                    key: key("leaf", "check", r#"{"name":"dev"}"#),
                    deps: vec![0, 1],
                    local: true,
                },
            ],
        }
    }

    #[test]
    fn a_graph_reads_back_as_it_was() {
        let graph = graph();
        assert_eq!(decode(&encode(&graph)), Some(graph));
        assert_eq!(
            decode(&encode(&DiffGraph::default())),
            Some(DiffGraph::default())
        );
    }

    #[test]
    fn bytes_that_do_not_hold_together_are_no_graph() {
        let bytes = encode(&graph());
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        // A dependency past the last unit.
        let mut graph = graph();
        graph.units[0].deps = vec![3];
        assert_eq!(decode(&encode(&graph)), None);
        assert_eq!(decode(b"not a graph at all"), None);
    }
}
