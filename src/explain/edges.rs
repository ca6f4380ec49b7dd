//! The cause of a miss whose dependencies are all cached, though never under it: the
//! dependency edges in which it parts from the cached unit, each variant named with the
//! deps-only command that built it.

use std::sync::Arc;

use super::ExplainContext;
use super::cause::{EdgeVariant, MissCause};
use crate::diff::graph::target_label;
use crate::diff::{Miss, UnitKey};

/// `MissCause::DependencyVariant` of `miss` (whose `variant_edges` are not empty).
pub(super) fn dependency_variant(ctx: &ExplainContext, miss: &Miss) -> MissCause {
    let command = |graph: usize| {
        ctx.source_indices
            .iter()
            .position(|&s| s == graph)
            .and_then(|p| ctx.source_invocations.get(p))
            .map(|i| i.display())
    };
    let edges = miss
        .variant_edges
        .iter()
        .filter_map(|edge| {
            let dependency = edge.needed.as_ref().or(edge.built.as_ref())?;
            let other = |mine: &Option<Arc<UnitKey>>, theirs: &Option<Arc<UnitKey>>| {
                mine.as_deref().map(|k| described(k, theirs.as_deref()))
            };
            Some(EdgeVariant {
                dependency: target_label(
                    &dependency.pkg_id.name,
                    &dependency.pkg_id.version,
                    &dependency.target_kind,
                    &dependency.target_name,
                ),
                role: role(dependency).to_string(),
                built: other(&edge.built, &edge.needed),
                built_by: command(edge.built_by),
                needed: other(&edge.needed, &edge.built),
                needed_built_by: edge.needed_built_by.and_then(command),
            })
        })
        .collect();
    MissCause::DependencyVariant { edges }
}

/// What a dependency is to the unit above it.
fn role(key: &UnitKey) -> &'static str {
    if key.target_kind.split(',').any(|k| k == "proc-macro") {
        "proc-macro"
    } else if key.target_kind == "custom-build" {
        "build script"
    } else {
        "dependency"
    }
}

/// `key` where it differs from `other`: its platform, then each differing field
/// (`host, features [extra]`); `over other dependencies of its own` when only deeper
/// units differ.
fn described(key: &UnitKey, other: Option<&UnitKey>) -> String {
    let mut parts = vec![key.platform.clone().unwrap_or_else(|| "host".to_string())];
    let Some(other) = other else {
        return parts.join(", ");
    };
    if key.mode != other.mode {
        parts.push(format!("mode {}", key.mode));
    }
    if key.features != other.features {
        parts.push(format!("features [{}]", key.features.join(", ")));
    }
    if key.profile != other.profile {
        parts.push(format!("{} profile", key.profile_name()));
    }
    if key.rustflags != other.rustflags {
        parts.push(format!(
            "rustflags {}",
            key.rustflags.as_deref().unwrap_or("none")
        ));
    }
    if parts.len() == 1 && key.platform == other.platform {
        parts.push("over other dependencies of its own".to_string());
    }
    parts.join(", ")
}
