//! Who asks for a missed unit: the dependency paths from workspace members down to it,
//! and the edges that request what the deps-only build left out.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::cargo::metadata::{DependencyIndex, EdgeKind};
use crate::diff::{DiffGraph, Miss, UnitAt};

use super::cause::{Link, Request};

/// Reverse edges of one graph and, for every unit, the way down to it from the nearest
/// workspace member. Built once per graph.
pub(super) struct GraphPaths {
    parents: Vec<Vec<usize>>,
    /// The unit one step closer to a workspace member (None for members and orphans).
    toward_member: Vec<Option<usize>>,
    /// Whether that way down passes a dev-dependency edge.
    through_dev: Vec<bool>,
}

impl GraphPaths {
    pub(super) fn new(graph: &DiffGraph, index: &DependencyIndex) -> GraphPaths {
        let mut parents = vec![Vec::new(); graph.units.len()];
        for (u, unit) in graph.units.iter().enumerate() {
            for &d in &unit.deps {
                parents[d].push(u);
            }
        }
        // Breadth-first from all members at once: the first visit is a shortest path.
        let mut toward_member = vec![None; graph.units.len()];
        let mut through_dev = vec![false; graph.units.len()];
        let mut visited: Vec<bool> = graph.units.iter().map(|u| u.local).collect();
        let mut queue: VecDeque<usize> = (0..graph.units.len()).filter(|&u| visited[u]).collect();
        while let Some(u) = queue.pop_front() {
            for &d in &graph.units[u].deps {
                if !visited[d] {
                    visited[d] = true;
                    toward_member[d] = Some(u);
                    through_dev[d] =
                        through_dev[u] || edge_kind(index, graph, u, d) == Some(EdgeKind::Dev);
                    queue.push_back(d);
                }
            }
        }
        GraphPaths {
            parents,
            toward_member,
            through_dev,
        }
    }

    /// Unit indices from a workspace member down to `u` (just `[u]` if none reaches it).
    fn path_from_member(&self, u: usize) -> Vec<usize> {
        let mut path = vec![u];
        let mut node = u;
        while let Some(up) = self.toward_member[node] {
            path.push(up);
            node = up;
        }
        path.reverse();
        path
    }
}

/// How many units of a long chain a request shows (the last one always).
const CHAIN_SHOWN: usize = 4;

/// Names who asks for a unit, walking one graph's paths.
pub(super) struct Askers<'a> {
    pub index: &'a DependencyIndex,
    pub paths: &'a GraphPaths,
    pub graph: &'a DiffGraph,
}

/// What [`Askers::requests`] is to look for.
pub(super) enum Asked<'a> {
    /// Edges that ask for any of these features.
    Features(&'a BTreeSet<String>),
    /// Every edge to the unit.
    AnyEdge,
}

impl Askers<'_> {
    /// The dependency edges to a missed unit that ask for what the deps-only build left
    /// out, each from a workspace member down, and whether any of them passes a
    /// dev-dependency. Requests are ordered and deduplicated as they read.
    pub(super) fn requests(&self, miss: &Miss, asked: Asked) -> (Vec<Request>, bool) {
        let (_, u) = miss.at;
        let unit = &miss.unit;
        let child = &unit.pkg_id;
        let mut requests = BTreeMap::new();
        let mut through_dev = false;
        for &p in &self.paths.parents[u] {
            let parent = &self.graph.units[p].key;
            let features: Vec<String> = match asked {
                Asked::AnyEdge => Vec::new(),
                Asked::Features(extra) => {
                    let requested = self.index.requested_features(
                        &parent.pkg_id,
                        &parent.features,
                        &unit.pkg_id,
                        &child.name,
                    );
                    let features: Vec<String> = requested.intersection(extra).cloned().collect();
                    if features.is_empty() {
                        continue;
                    }
                    features
                }
            };
            let kind = edge_kind(self.index, self.graph, p, u);
            through_dev |= self.paths.through_dev[p] || kind == Some(EdgeKind::Dev);
            let mut chain = self.chain_to(p);
            // A build script's run is asked for by its own crate: no step of its own.
            if parent.pkg_id.name != child.name {
                chain.push(Link {
                    package: Some(child.name.to_string()),
                    edge: kind.map(Into::into),
                });
            }
            let request = Request { chain, features };
            requests.insert(request.to_string(), request);
        }
        (requests.into_values().collect(), through_dev)
    }

    /// The shortest path from a workspace member down to unit `u`, its middle elided
    /// when long.
    fn chain_to(&self, u: usize) -> Vec<Link> {
        let mut path = self.paths.path_from_member(u);
        // A crate, its build script and the script's run are one step of the way.
        path.dedup_by_key(|&mut unit| self.graph.units[unit].key.pkg_id.name.as_str());
        let shown: Vec<Option<usize>> = if path.len() > CHAIN_SHOWN {
            let mut shown: Vec<Option<usize>> =
                path[..CHAIN_SHOWN - 1].iter().copied().map(Some).collect();
            shown.push(None);
            shown.push(path.last().copied());
            shown
        } else {
            path.iter().copied().map(Some).collect()
        };
        shown
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let edge = match (i.checked_sub(1).and_then(|up| shown[up]), *node) {
                    (Some(parent), Some(child)) => edge_kind(self.index, self.graph, parent, child),
                    _ => None,
                };
                Link {
                    package: node.map(|n| self.graph.units[n].key.pkg_id.name.clone()),
                    edge: edge.map(Into::into),
                }
            })
            .collect()
    }

    pub(super) fn reached_through_dev(&self, at: UnitAt) -> bool {
        self.paths.through_dev[at.1]
    }
}

fn edge_kind(
    index: &DependencyIndex,
    graph: &DiffGraph,
    parent: usize,
    child: usize,
) -> Option<EdgeKind> {
    let parent = &graph.units[parent].key;
    let child = &graph.units[child].key.pkg_id;
    index
        .edges(&parent.pkg_id, &child.name)
        .map(|d| d.kind)
        .min()
}
