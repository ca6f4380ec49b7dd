//! An analysis session: the cargo runner of one workspace and what analyses derive from
//! its answers, made once and shared by every analysis of the run (`report --set`, the
//! fix-line check, `fix`, `touch` and `verify` analyse the same calls again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use crate::cargo::metadata::DependencyIndex;
use crate::cargo::run::Slot;
use crate::cargo::{CacheStats, CargoRunner, Invocation};
use crate::diff::{DeepIds, DiffGraph, stored};
use crate::parallel::lock;

/// The runner, each resolved call's graph as the diff sees it, the deep ids numbering
/// their units, and the workspace's facts. Produced by [`Session::new`];
/// [`crate::LoadedPhases::session`] holds the one of a run.
pub struct Session {
    runner: CargoRunner,
    /// Each invocation's unit graph as the diff sees it; slots are held while made.
    graphs: Mutex<HashMap<Invocation, Slot<IdentifiedGraph>>>,
    /// Numbers the units of every graph above: ids compare across the session's analyses.
    ids: Mutex<DeepIds>,
    workspace: Mutex<Option<Arc<WorkspaceFacts>>>,
}

/// A graph as the diff sees it, with each unit's deep identity.
pub(crate) struct IdentifiedGraph {
    pub(crate) graph: DiffGraph,
    pub(crate) ids: Vec<u32>,
}

/// A call an analysis of the answers in hand did not have (see
/// [`crate::report::analyze::AnalyzeOptions::in_hand`]).
#[derive(Debug, thiserror::Error)]
#[error("not resolved yet")]
pub(crate) struct NotInHand;

/// What the explanations need to know of the workspace, from `cargo metadata`.
pub(crate) struct WorkspaceFacts {
    pub(crate) index: DependencyIndex,
    /// The packages cargo builds when a command names none.
    pub(crate) default_packages: Vec<String>,
}

impl Session {
    pub fn new(runner: CargoRunner) -> Session {
        Session {
            runner,
            graphs: Mutex::default(),
            ids: Mutex::default(),
            workspace: Mutex::default(),
        }
    }

    /// The runner every cargo call of the session goes through.
    pub fn runner(&self) -> &CargoRunner {
        &self.runner
    }

    /// How many cargo answers came from the cache, and how many from cargo; `None`
    /// without a cache.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.runner.cache_stats()
    }

    /// Removes cargo's temp dir and logs the cache's use, for a process that ends now
    /// without dropping the session.
    pub fn finish(&self) {
        self.runner.remove_scratch_dir();
        self.runner.log_cache_use();
    }

    /// `invocation`'s graph when it is resolved already (not while it is being resolved).
    pub(crate) fn resolved(&self, invocation: &Invocation) -> Option<Arc<IdentifiedGraph>> {
        let slot = lock(&self.graphs).get(invocation).cloned()?;
        let made = slot.try_lock().ok()?;
        made.clone()
    }

    /// Whether `invocation`'s graph is resolved already, or being resolved.
    pub(crate) fn has_graph(&self, invocation: &Invocation) -> bool {
        let slot = lock(&self.graphs).get(invocation).cloned();
        slot.is_some_and(|slot| slot.try_lock().map_or(true, |made| made.is_some()))
            || self.runner.asked_unit_graph(invocation)
    }

    /// `invocation`'s graph, resolved by the runner (whose cargo's host is `host`).
    pub(crate) fn graph(
        &self,
        invocation: &Invocation,
        host: &str,
    ) -> Result<Arc<IdentifiedGraph>> {
        let slot = lock(&self.graphs)
            .entry(invocation.clone())
            .or_default()
            .clone();
        let mut made = lock(&slot);
        if let Some(graph) = made.as_ref() {
            return Ok(graph.clone());
        }
        let graph = self.diff_graph(invocation, host)?;
        let ids = lock(&self.ids).of(&graph);
        Ok(made
            .insert(Arc::new(IdentifiedGraph { graph, ids }))
            .clone())
    }

    /// `invocation`'s graph as the diff sees it: as stored beside cargo's answer when the
    /// cache holds it, else made from the answer (and stored).
    fn diff_graph(&self, invocation: &Invocation, host: &str) -> Result<DiffGraph> {
        // What the diff's view takes from the invocation beside cargo's answer: the host,
        // the crane lib, and the rustflags a unit's identity names (an instrumenting tool's
        // among them, which cargo's command does not show).
        let rustflags = invocation.rustflags(host);
        let reach_host = invocation.rustflags_reach_host().to_string();
        let extra = [
            host,
            invocation.toolchain.as_deref().unwrap_or_default(),
            rustflags.as_deref().unwrap_or_default(),
            reach_host.as_str(),
        ];
        let key = self.runner.derived_key(invocation, stored::FORMAT, &extra);
        let stored = key
            .as_ref()
            .and_then(|key| self.runner.derived_answer(invocation, key))
            .and_then(|bytes| stored::decode(&bytes));
        if let Some(graph) = stored {
            return Ok(graph);
        }
        let answer = self.runner.unit_graph(invocation)?;
        let graph = DiffGraph::from_unit_graph(&answer, invocation, host);
        if let Some(key) = &key {
            self.runner
                .store_derived_answer(key, &stored::encode(&graph));
        }
        Ok(graph)
    }

    /// The workspace's facts, read from `metadata` once.
    pub(crate) fn workspace(
        &self,
        metadata: &cargo_metadata::Metadata,
    ) -> Result<Arc<WorkspaceFacts>> {
        let mut made = lock(&self.workspace);
        if let Some(facts) = made.as_ref() {
            return Ok(facts.clone());
        }
        let facts = WorkspaceFacts {
            index: DependencyIndex::from_metadata(metadata)
                .context("`cargo metadata` names a package cache-miss cannot read")?,
            default_packages: default_packages(metadata),
        };
        Ok(made.insert(Arc::new(facts)).clone())
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("runner", &self.runner)
            .field("graphs", &lock(&self.graphs).len())
            .finish()
    }
}

/// The packages cargo builds when a command names none: the `default-members`, else the
/// root package, else every member.
fn default_packages(metadata: &cargo_metadata::Metadata) -> Vec<String> {
    let name_of = |id: &cargo_metadata::PackageId| {
        metadata
            .packages
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.to_string())
    };
    let mut names: Vec<String> = if metadata.workspace_default_members.is_available() {
        metadata
            .workspace_default_members
            .iter()
            .filter_map(name_of)
            .collect()
    } else if let Some(root) = metadata.root_package() {
        vec![root.name.to_string()]
    } else {
        metadata
            .workspace_members
            .iter()
            .filter_map(name_of)
            .collect()
    };
    names.sort();
    names
}
