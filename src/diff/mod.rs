//! The diff core: which units a phase needs that its inherited artifacts do not hold,
//! and why. Pure: unit graphs in, misses out.

pub(crate) mod graph;
pub(crate) mod stored;
#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

// Seeded per process (no input can be made to collide on purpose) and fast on the long
// keys units have: the diff hashes every unit of every graph.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::Arc;

pub(crate) use graph::{DiffGraph, UnitKey};

use crate::cargo::PackageId;

/// Why a needed unit is not in the inherited artifacts (the JSON `reason` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    Features,
    Profile,
    Mode,
    Platform,
    NotBuilt,
    Dependency,
    Rustflags,
    Toolchain,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Features => "features",
            Reason::Profile => "profile",
            Reason::Mode => "mode",
            Reason::Platform => "platform",
            Reason::NotBuilt => "not-built",
            Reason::Dependency => "dependency",
            Reason::Rustflags => "rustflags",
            Reason::Toolchain => "toolchain",
        }
    }
}

/// Where a unit sits: index of the graph among the phase's graphs, index of the unit in it.
pub(crate) type UnitAt = (usize, usize);

/// A unit the phase compiles although its artifacts come from elsewhere. Produced by [`diff_phase`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Miss {
    pub unit: Arc<UnitKey>,
    pub at: UnitAt,
    /// The unit's deep identity: equal for the same unit in any graph of one analysis
    /// (and of every analysis sharing its [`DeepIds`]).
    pub id: u32,
    pub reason: Reason,
    /// For `dependency` misses: where the root misses below it sit, in key order.
    pub cascade_from: Vec<UnitAt>,
    /// For root misses: the cached units of the same package and target that come
    /// closest (they agree on every field checked before the one named by `reason`).
    pub closest: Vec<Arc<UnitKey>>,
    /// For a `dependency` miss none of whose dependencies miss (each is cached, but never
    /// under this unit: another command built this unit over other variants of them):
    /// the edges in which it parts from the closest cached unit. Such a miss is a root.
    pub variant_edges: Vec<VariantEdge>,
}

/// A dependency under which a needed unit and the closest cached one part: the same
/// dependency (package and target) in another variant. Produced by [`diff_phase`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VariantEdge {
    /// The dependency as this phase needs it (`None`: this phase's unit lacks it).
    pub needed: Option<Arc<UnitKey>>,
    /// The cached graph that holds the needed variant (numbered as the caller numbers
    /// graphs: [`Differ`]'s indices, or positions among `cached` for [`diff_phase`]).
    pub needed_built_by: Option<usize>,
    /// The dependency as the cached unit was built over (`None`: it lacks it).
    pub built: Option<Arc<UnitKey>>,
    /// The cached graph that built the unit over `built`.
    pub built_by: usize,
}

/// A unit's deep identity in one analysis (a [`Miss::id`]): what causes, cascades and
/// fixes point at. Labels are for display only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitId(pub u32);

impl Miss {
    /// A root miss: its reason is its own, or it is a dependency miss over no missed unit.
    pub(crate) fn is_root(&self) -> bool {
        self.reason != Reason::Dependency || !self.variant_edges.is_empty()
    }
}

/// Unit counts of one phase. Produced by [`diff_phase`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Distinct non-local units the phase compiles or reuses.
    pub needed: usize,
    pub cached: usize,
    pub missed: usize,
    /// Workspace and other `path+` units: rebuilt by design, never counted as misses.
    pub local: usize,
}

/// The comparison of one phase with its inherited artifacts. Produced by [`diff_phase`].
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PhaseDiff {
    pub counts: Counts,
    /// Every missed unit, root misses and cascades, in a stable order.
    pub misses: Vec<Miss>,
}

/// Modes whose output is not a reusable artifact of the deps-only build.
fn is_documentation(mode: &str) -> bool {
    matches!(mode, "doc" | "doctest" | "docscrape")
}

/// Compares what `needed` graphs compile with what the `cached` graphs left in `target/`.
pub(crate) fn diff_phase(cached: &[&DiffGraph], needed: &[&DiffGraph]) -> PhaseDiff {
    let mut interner = DeepIds::default();
    let graphs: Vec<&DiffGraph> = cached.iter().chain(needed).copied().collect();
    let ids: Vec<Vec<u32>> = graphs.iter().map(|g| interner.of(g)).collect();
    let mut differ = Differ::new(
        graphs
            .iter()
            .zip(&ids)
            .map(|(&g, ids)| Some((g, ids.as_slice())))
            .collect(),
    );
    let cached: Vec<usize> = (0..cached.len()).collect();
    // `cached` graphs come first among `graphs`: their indices are their positions.
    let needed: Vec<usize> = (cached.len()..cached.len() + needed.len()).collect();
    let diff = differ.diff(&cached, &needed);
    drop(differ);
    Arc::try_unwrap(diff).unwrap_or_else(|shared| (*shared).clone())
}

/// Diffs many phases over one analysis's graphs: each unit's deep identity is computed
/// once per graph, and what a set of inherited graphs holds once per distinct set, so
/// that a long chain of phases inheriting the same cargo calls costs each phase only its
/// own comparison (or nothing, when another phase asked the same). Produced by
/// [`Differ::new`].
pub(crate) struct Differ<'a> {
    /// Every graph of the analysis by index, with each unit's deep identity (numbered by
    /// one [`DeepIds`]); `None` for one cargo could not resolve.
    graphs: Vec<Option<(&'a DiffGraph, &'a [u32])>>,
    /// What the inherited `target/` holds, per sorted set of cached graphs.
    caches: HashMap<Vec<usize>, Cache<'a>>,
    /// Per sorted set of cached graphs and list of needed graphs: the diff.
    diffs: HashMap<(Vec<usize>, Vec<usize>), Arc<PhaseDiff>>,
}

impl<'a> Differ<'a> {
    pub(crate) fn new(graphs: Vec<Option<(&'a DiffGraph, &'a [u32])>>) -> Differ<'a> {
        Differ {
            graphs,
            caches: HashMap::new(),
            diffs: HashMap::new(),
        }
    }

    /// Adds the graph at `index`, resolved since this differ was made (a graph once given
    /// never changes, so what was diffed before stays true).
    pub(crate) fn provide(&mut self, index: usize, graph: &'a DiffGraph, ids: &'a [u32]) {
        if let Some(slot @ None) = self.graphs.get_mut(index) {
            *slot = Some((graph, ids));
        }
    }

    /// The graph at `index`, if it resolved.
    pub(crate) fn graph(&self, index: usize) -> Option<&'a DiffGraph> {
        self.graphs
            .get(index)
            .copied()
            .flatten()
            .map(|(graph, _)| graph)
    }

    /// [`diff_phase`] of the graphs at these indices (graphs that did not resolve are left
    /// out). `Miss::at` indexes the resolved ones among `needed`.
    pub(crate) fn diff(&mut self, cached: &[usize], needed: &[usize]) -> Arc<PhaseDiff> {
        let mut cached: Vec<usize> = cached
            .iter()
            .copied()
            .filter(|&c| self.graph(c).is_some())
            .collect();
        cached.sort_unstable();
        cached.dedup();
        let needed: Vec<usize> = needed
            .iter()
            .copied()
            .filter(|&n| self.graph(n).is_some())
            .collect();
        let memo = (cached, needed);
        if let Some(diff) = self.diffs.get(&memo) {
            return diff.clone();
        }
        if !self.caches.contains_key(&memo.0) {
            let graphs: Vec<(usize, &'a DiffGraph, &[u32])> = memo
                .0
                .iter()
                .filter_map(|&c| self.graphs[c].map(|(graph, ids)| (c, graph, ids)))
                .collect();
            let cache = Cache::new(&graphs);
            self.caches.insert(memo.0.clone(), cache);
        }
        let (graphs, ids): (Vec<&DiffGraph>, Vec<&[u32]>) =
            memo.1.iter().filter_map(|&n| self.graphs[n]).unzip();
        let diff = Arc::new(compare(&self.caches[&memo.0], &graphs, &ids));
        self.diffs.insert(memo, diff.clone());
        diff
    }
}

/// The diff of `needed` graphs (with their deep ids) against what `cache` holds.
fn compare(cache: &Cache, needed: &[&DiffGraph], needed_ids: &[&[u32]]) -> PhaseDiff {
    let mut seen = HashSet::new();
    let mut counts = Counts::default();
    let mut missed_at: BTreeMap<UnitAt, ()> = BTreeMap::new();
    for (g, graph) in needed.iter().enumerate() {
        for (u, unit) in graph.units.iter().enumerate() {
            if is_documentation(&unit.key.mode) || !seen.insert(needed_ids[g][u]) {
                continue;
            }
            if unit.local {
                counts.local += 1;
                continue;
            }
            counts.needed += 1;
            if !cache.deep.contains_key(&needed_ids[g][u]) {
                missed_at.insert((g, u), ());
            }
        }
    }
    counts.missed = missed_at.len();
    counts.cached = counts.needed - counts.missed;

    let is_missed = |g: usize, u: usize| {
        !needed[g].units[u].local && !cache.deep.contains_key(&needed_ids[g][u])
    };
    let mut misses: Vec<Miss> = missed_at
        .keys()
        .map(|&(g, u)| {
            let key = &needed[g].units[u].key;
            let (reason, closest) = classify(key, cache);
            Miss {
                unit: key.clone(),
                at: (g, u),
                id: needed_ids[g][u],
                reason,
                cascade_from: Vec::new(),
                closest,
                variant_edges: Vec::new(),
            }
        })
        .collect();
    misses.sort_by(|a, b| a.unit.cmp(&b.unit).then(a.at.cmp(&b.at)));
    for miss in misses.iter_mut().filter(|m| m.reason == Reason::Dependency) {
        let (g, u) = miss.at;
        let deps = &needed[g].units[u].deps;
        if !deps.iter().any(|&d| is_missed(g, d)) {
            let deps: Vec<(u32, &Arc<UnitKey>)> = deps
                .iter()
                .map(|&d| (needed_ids[g][d], &needed[g].units[d].key))
                .collect();
            miss.variant_edges = cache.variant_edges(&miss.unit, &deps);
        }
    }
    // Misses are in key order, so ranks among the roots order each cascade's roots by key.
    let by_rank: Vec<UnitAt> = misses
        .iter()
        .filter(|m| m.is_root())
        .map(|m| m.at)
        .collect();
    // By identity, not position: a root counted in an earlier graph is the same root when
    // another graph reaches it.
    let roots: HashMap<u32, usize> = by_rank
        .iter()
        .enumerate()
        .map(|(r, &(g, u))| (needed_ids[g][u], r))
        .collect();
    let root_at = |g: usize, u: usize| roots.get(&needed_ids[g][u]).copied();
    for miss in misses.iter_mut().filter(|m| !m.is_root()) {
        let ranks = cascade_roots(
            needed[miss.at.0],
            miss.at.0,
            miss.at.1,
            &is_missed,
            &root_at,
        );
        miss.cascade_from = ranks.into_iter().map(|rank| by_rank[rank]).collect();
    }
    PhaseDiff { counts, misses }
}

/// The ranks of the root misses reachable from a cascaded unit through missed dependencies.
fn cascade_roots(
    graph: &DiffGraph,
    g: usize,
    start: usize,
    is_missed: &dyn Fn(usize, usize) -> bool,
    root_at: &dyn Fn(usize, usize) -> Option<usize>,
) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    let mut stack = vec![start];
    let mut visited = HashSet::new();
    while let Some(u) = stack.pop() {
        if !visited.insert(u) {
            continue;
        }
        if u != start {
            if let Some(rank) = root_at(g, u) {
                found.insert(rank);
                continue;
            }
        }
        stack.extend(
            graph.units[u]
                .deps
                .iter()
                .copied()
                .filter(|&d| is_missed(g, d)),
        );
    }
    found
}

/// The fields a root miss is checked on, in order: the first that no cached unit of the
/// same package and target matches is the reason.
type SameField = fn(&UnitKey, &UnitKey) -> bool;

const CHECKS: [(Reason, SameField); 6] = [
    (Reason::Toolchain, |a, b| a.toolchain == b.toolchain),
    (Reason::Rustflags, |a, b| a.rustflags == b.rustflags),
    (Reason::Platform, |a, b| a.platform == b.platform),
    (Reason::Mode, |a, b| a.mode == b.mode),
    (Reason::Profile, |a, b| a.profile == b.profile),
    (Reason::Features, |a, b| a.features == b.features),
];

fn classify(key: &UnitKey, cache: &Cache) -> (Reason, Vec<Arc<UnitKey>>) {
    let index = cache.index();
    if index.shallow.contains_key(key) {
        return (Reason::Dependency, Vec::new());
    }
    let mut candidates: Vec<&Arc<UnitKey>> = index
        .by_target
        .get(&(
            &key.pkg_id,
            key.target_kind.as_str(),
            key.target_name.as_str(),
        ))
        .map(|units| units.iter().copied().collect())
        .unwrap_or_default();
    if candidates.is_empty() {
        return (Reason::NotBuilt, Vec::new());
    }
    for (reason, same) in CHECKS {
        let next: Vec<&Arc<UnitKey>> = candidates
            .iter()
            .copied()
            .filter(|c| same(key, c))
            .collect();
        if next.is_empty() {
            return (reason, candidates.into_iter().cloned().collect());
        }
        candidates = next;
    }
    // Unreachable in practice: a candidate equal in every field is in `shallow`.
    (Reason::Dependency, Vec::new())
}

/// What the inherited `target/` holds, indexed for the questions the diff asks. The
/// index by key and target is made when the first miss is classified: most phases of a
/// long chain, and most fix-line checks, have none.
struct Cache<'a> {
    /// Each cached unit's deep id, with the (caller's) graph that first holds it.
    deep: HashMap<u32, usize>,
    /// Every cached unit: its key, the graph (position in `graphs`) and unit index.
    units: Vec<(&'a Arc<UnitKey>, usize, usize)>,
    /// The cached graphs, with the caller's index of each and its units' deep ids.
    graphs: Vec<(usize, &'a DiffGraph, &'a [u32])>,
    index: OnceCell<CacheIndex<'a>>,
}

struct CacheIndex<'a> {
    /// Where each cached key sits: positions in `graphs` and unit indices.
    shallow: HashMap<&'a UnitKey, Vec<(usize, usize)>>,
    by_target: HashMap<(&'a PackageId, &'a str, &'a str), BTreeSet<&'a Arc<UnitKey>>>,
}

impl<'a> Cache<'a> {
    /// What `graphs` (each with the caller's index and its units' deep ids) leave in
    /// `target/`.
    fn new(graphs: &[(usize, &'a DiffGraph, &'a [u32])]) -> Cache<'a> {
        let mut cache = Cache {
            deep: HashMap::new(),
            units: Vec::new(),
            graphs: graphs.to_vec(),
            index: OnceCell::new(),
        };
        for (position, &(index, graph, deep)) in graphs.iter().enumerate() {
            for (u, (unit, &id)) in graph.units.iter().zip(deep).enumerate() {
                if unit.local || is_documentation(&unit.key.mode) {
                    continue;
                }
                cache.deep.entry(id).or_insert(index);
                cache.units.push((&unit.key, position, u));
            }
        }
        cache
    }

    /// The edges in which a unit with `key` over `deps` (deep id and key of each) parts
    /// from the cached unit of the same key that comes closest (fewest edges).
    fn variant_edges(&self, key: &UnitKey, deps: &[(u32, &Arc<UnitKey>)]) -> Vec<VariantEdge> {
        let same_target = |a: &UnitKey, b: &UnitKey| {
            a.pkg_id == b.pkg_id && a.target_kind == b.target_kind && a.target_name == b.target_name
        };
        let instances = self.index().shallow.get(key).into_iter().flatten();
        instances
            .filter_map(|&(position, u)| {
                let &(built_by, graph, ids) = self.graphs.get(position)?;
                let built: Vec<(u32, &Arc<UnitKey>)> = graph
                    .units
                    .get(u)?
                    .deps
                    .iter()
                    .filter_map(|&d| Some((*ids.get(d)?, &graph.units.get(d)?.key)))
                    .collect();
                let only_needed = deps
                    .iter()
                    .filter(|(id, _)| !built.iter().any(|b| b.0 == *id));
                let mut only_built: Vec<&Arc<UnitKey>> = built
                    .iter()
                    .filter(|(id, _)| !deps.iter().any(|n| n.0 == *id))
                    .map(|(_, k)| *k)
                    .collect();
                let mut edges: Vec<VariantEdge> = only_needed
                    .map(|&(id, needed)| {
                        let paired = only_built.iter().position(|b| same_target(b, needed));
                        VariantEdge {
                            needed: Some(needed.clone()),
                            needed_built_by: self.deep.get(&id).copied(),
                            built: paired.map(|p| only_built.remove(p).clone()),
                            built_by,
                        }
                    })
                    .collect();
                edges.extend(only_built.into_iter().map(|built| VariantEdge {
                    needed: None,
                    needed_built_by: None,
                    built: Some(built.clone()),
                    built_by,
                }));
                Some(edges)
            })
            .filter(|edges| !edges.is_empty())
            .min_by_key(Vec::len)
            .unwrap_or_default()
    }

    fn index(&self) -> &CacheIndex<'a> {
        self.index.get_or_init(|| {
            let mut index = CacheIndex {
                shallow: HashMap::new(),
                by_target: HashMap::new(),
            };
            for &(k, position, u) in &self.units {
                index.shallow.entry(&**k).or_default().push((position, u));
                index
                    .by_target
                    .entry((&k.pkg_id, k.target_kind.as_str(), k.target_name.as_str()))
                    .or_default()
                    .insert(k);
            }
            index
        })
    }
}

/// Interns units by their full identity: the unit's own key and, recursively, the
/// identities of its dependencies. Equal ids mean the same artifact; ids compare only
/// when numbered by one `DeepIds`.
#[derive(Default)]
pub(crate) struct DeepIds {
    keys: HashMap<UnitKey, u32>,
    ids: HashMap<(u32, Vec<u32>), u32>,
}

impl DeepIds {
    /// Each unit's id, in the graph's order.
    pub(crate) fn of(&mut self, graph: &DiffGraph) -> Vec<u32> {
        let mut memo: Vec<Option<u32>> = vec![None; graph.units.len()];
        let mut expanding = vec![false; graph.units.len()];
        for start in 0..graph.units.len() {
            self.visit(graph, start, &mut memo, &mut expanding);
        }
        memo.into_iter().map(|id| id.unwrap_or(u32::MAX)).collect()
    }

    fn key_id(&mut self, key: &UnitKey) -> u32 {
        if let Some(&id) = self.keys.get(key) {
            return id;
        }
        let id = self.keys.len() as u32;
        self.keys.insert(key.clone(), id);
        id
    }

    /// Post-order walk without recursion, so deep graphs cannot overflow the stack.
    fn visit(
        &mut self,
        graph: &DiffGraph,
        start: usize,
        memo: &mut [Option<u32>],
        expanding: &mut [bool],
    ) {
        let mut stack = vec![(start, false)];
        while let Some((u, expanded)) = stack.pop() {
            if memo[u].is_some() {
                continue;
            }
            let deps = &graph.units[u].deps;
            if !expanded {
                if expanding[u] {
                    continue;
                }
                expanding[u] = true;
                stack.push((u, true));
                // A cycle (impossible in cargo's graphs) is cut here rather than looping.
                stack.extend(
                    deps.iter()
                        .filter(|&&d| memo[d].is_none() && !expanding[d])
                        .map(|&d| (d, false)),
                );
                continue;
            }
            let mut dep_ids: Vec<u32> = deps.iter().filter_map(|&d| memo[d]).collect();
            dep_ids.sort_unstable();
            dep_ids.dedup();
            let key = self.key_id(&graph.units[u].key);
            let next = self.ids.len() as u32;
            memo[u] = Some(*self.ids.entry((key, dep_ids)).or_insert(next));
        }
    }
}
