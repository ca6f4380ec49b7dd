//! What tells apart two misses of a phase that would read alike (same package, target
//! and mode): their platform, features, profile, or their own dependencies.

use std::collections::{BTreeSet, HashMap};

use super::{ExplainContext, ProfileChanges, UnitRole, Variant};
use crate::diff::{DiffGraph, Miss, PhaseDiff, UnitKey};

/// For misses that share package, target and mode with another miss of the phase (two
/// distinct artifacts that would read alike): the field that tells each apart.
pub(super) fn variants(
    ctx: &ExplainContext,
    diff: &PhaseDiff,
    profiles: &ProfileChanges,
) -> Vec<Option<Variant>> {
    let same_label = |m: &Miss| {
        let k = &m.unit;
        (
            k.pkg_id.clone(),
            k.target_kind.clone(),
            k.target_name.clone(),
            k.mode.clone(),
        )
    };
    let mut groups: HashMap<_, Vec<usize>> = HashMap::new();
    for (i, miss) in diff.misses.iter().enumerate() {
        groups.entry(same_label(miss)).or_default().push(i);
    }
    let mut variants = vec![None; diff.misses.len()];
    for members in groups.values().filter(|m| m.len() > 1) {
        let keys: Vec<&UnitKey> = members.iter().map(|&i| &*diff.misses[i].unit).collect();
        let differ = |field: fn(&UnitKey) -> String| {
            keys.iter().map(|k| field(k)).collect::<BTreeSet<_>>().len() > 1
        };
        for (&i, key) in members.iter().zip(&keys) {
            variants[i] = Some(if differ(|k| format!("{:?}", k.platform)) {
                Variant::Platform {
                    platform: key.platform.clone(),
                }
            } else if differ(|k| k.features.join(",")) {
                Variant::Features {
                    features: key.features.clone(),
                }
            } else if differ(|k| k.profile.clone()) {
                let other = keys
                    .iter()
                    .find(|k| k.profile != key.profile)
                    .unwrap_or(key);
                Variant::Profile {
                    changes: profiles.between(&other.profile, &key.profile),
                    role: Some(
                        if serves_host(ctx.needed[diff.misses[i].at.0], diff.misses[i].at.1) {
                            UnitRole::Host
                        } else {
                            UnitRole::Target
                        },
                    ),
                }
            } else {
                Variant::Dependencies {
                    dependencies: dependency_names(ctx, &diff.misses[i]),
                }
            });
        }
    }
    variants
}

/// Whether a unit is built for build scripts and proc-macros (cargo's host units, with
/// the `build-override` profile): something above it is a build script or a proc-macro.
fn serves_host(graph: &DiffGraph, unit: usize) -> bool {
    let runs_on_host = |kind: &str| {
        kind.split(',')
            .any(|k| k == "proc-macro" || k == "custom-build")
    };
    let mut seen = vec![false; graph.units.len()];
    let mut pending = vec![unit];
    while let Some(current) = pending.pop() {
        for (parent, node) in graph.units.iter().enumerate() {
            if !node.deps.contains(&current) || std::mem::replace(&mut seen[parent], true) {
                continue;
            }
            if runs_on_host(&node.key.target_kind) {
                return true;
            }
            pending.push(parent);
        }
    }
    false
}

/// The packages a missed unit depends on directly, sorted.
fn dependency_names(ctx: &ExplainContext, miss: &Miss) -> Vec<String> {
    let graph = ctx.needed[miss.at.0];
    let names: BTreeSet<String> = graph.units[miss.at.1]
        .deps
        .iter()
        .map(|&d| {
            let key = &graph.units[d].key;
            format!("{}@{}", key.pkg_id.name, key.pkg_id.version)
        })
        .collect();
    names.into_iter().collect()
}
