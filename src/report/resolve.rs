//! Resolving an analysis's cargo calls in one queue: the unit graphs and `cargo
//! metadata`, and, as soon as a phase's graphs are in, the calls a [`Lookahead`] asks
//! for next (the fix-line check's), while the other phases' calls still run.

use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Result, anyhow};

use super::PhaseReport;
use super::analyze::{Analysis, Depth, Inherited};
use crate::cargo::Invocation;
use crate::diff::Differ;
use crate::parallel::{WorkQueue, lock, run_queue};
use crate::phase::PhaseSet;
use crate::plan::PhasePlans;
use crate::progress::Progress;
use crate::session::{IdentifiedGraph, NotInHand, Session};

/// Told each phase's explained report as soon as the graphs it needs are in.
pub(crate) trait Lookahead: Sync {
    /// The cargo calls to start now, given `phase` explained.
    fn explained(&self, phase: &PhaseReport) -> Vec<Invocation>;
}

/// What an analysis resolved: each planned call's graph, and `cargo metadata`.
pub(super) struct Resolved {
    pub(super) graphs: Vec<Result<Arc<IdentifiedGraph>>>,
    pub(super) metadata: Result<Arc<cargo_metadata::Metadata>>,
    /// Calls the lookahead started (each once), not counting those already resolved.
    pub(super) ahead: usize,
    /// Per phase: the explained report the lookahead was told, when it was told one. It is
    /// the analysis's own report of that phase (the same graphs, explained the same way).
    pub(super) explained: Vec<Option<PhaseReport>>,
}

/// The phases a [`Lookahead`] hears of, and what explaining one early needs.
pub(super) struct Ahead<'a> {
    pub(super) lookahead: &'a dyn Lookahead,
    pub(super) set: &'a PhaseSet,
    pub(super) inherited: &'a [Inherited],
    /// The phases that are analysed (needed, and neither excluded nor failed before cargo
    /// runs).
    pub(super) phases: Vec<usize>,
}

/// One item of the queue.
enum Call {
    Metadata,
    /// The planned call at this index.
    Planned(usize),
    /// A call the lookahead asked for.
    Ahead(Invocation),
}

/// What the queue's jobs fill in.
struct Slots {
    graphs: Vec<OnceLock<Result<Arc<IdentifiedGraph>>>>,
    metadata: OnceLock<Result<Arc<cargo_metadata::Metadata>>>,
    /// Per phase of [`Ahead::phases`]: told the lookahead already.
    told: Mutex<Vec<bool>>,
    /// Every call the lookahead asked for, so that each is queued once.
    asked: Mutex<std::collections::HashSet<Invocation>>,
    /// Per phase: the report the lookahead was told.
    explained: Mutex<Vec<Option<PhaseReport>>>,
}

/// Resolves every planned call (and metadata) in one queue, with the lookahead's calls
/// added as phases become explainable.
pub(super) fn resolve(
    session: &Session,
    plans: &PhasePlans,
    host: &str,
    ahead: Option<&Ahead>,
    in_hand: bool,
    progress: &dyn Progress,
) -> Resolved {
    let slots = Slots {
        graphs: plans.invocations.iter().map(|_| OnceLock::new()).collect(),
        metadata: OnceLock::new(),
        told: Mutex::new(vec![false; ahead.map_or(0, |a| a.phases.len())]),
        asked: Mutex::default(),
        explained: Mutex::new(vec![None; ahead.map_or(0, |a| a.set.phases.len())]),
    };
    // One differ for every phase the lookahead is told of: what a set of inherited graphs
    // holds is indexed once, not once per phase.
    let differ = Mutex::new(Differ::new(vec![None; plans.invocations.len()]));
    let first: Vec<Call> = std::iter::once(Call::Metadata)
        .chain((0..plans.invocations.len()).map(Call::Planned))
        .collect();
    run_queue(first, |call, queue| {
        match call {
            Call::Metadata => {
                let _ = slots.metadata.set(session.runner().shared_metadata());
                progress.step("cargo metadata");
            }
            Call::Planned(n) => {
                let invocation = &plans.invocations[n];
                let graph = match in_hand {
                    true => session.resolved(invocation).ok_or_else(|| NotInHand.into()),
                    false => session.graph(invocation, host),
                };
                let _ = slots.graphs[n].set(graph);
                progress.step(&invocation.display());
            }
            // An error is met again when the call's own analysis asks for it.
            Call::Ahead(invocation) => {
                let _ = session.graph(&invocation, host);
                return;
            }
        }
        if let Some(ahead) = ahead {
            tell(ahead, session, &slots, &differ, plans, queue);
        }
    });
    drop(differ);
    let graphs = slots
        .graphs
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|| Err(anyhow!("cargo did not finish")))
        })
        .collect();
    let metadata = slots
        .metadata
        .into_inner()
        .unwrap_or_else(|| Err(anyhow!("`cargo metadata` did not finish")));
    let ahead = slots.asked.into_inner().map_or(0, |asked| asked.len());
    let explained = slots
        .explained
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Resolved {
        graphs,
        metadata,
        ahead,
        explained,
    }
}

/// Explains every phase whose graphs (and those it inherits) are all in and that the
/// lookahead has not heard of, and queues the calls it asks for.
fn tell<'s>(
    ahead: &Ahead,
    session: &Session,
    slots: &'s Slots,
    differ: &Mutex<Differ<'s>>,
    plans: &PhasePlans,
    queue: &WorkQueue<Call>,
) {
    let Some(Ok(metadata)) = slots.metadata.get() else {
        return;
    };
    let ready: Vec<usize> = {
        let mut told = lock(&slots.told);
        let mut ready = Vec::new();
        for (k, &i) in ahead.phases.iter().enumerate() {
            if told[k] {
                continue;
            }
            let calls = plans.by_phase[i]
                .iter()
                .chain(ahead.inherited[i].invocations.iter());
            let mut graphs = calls.map(|&n| slots.graphs[n].get());
            let all_in = graphs.clone().all(|g| g.is_some());
            if !all_in {
                continue;
            }
            told[k] = true;
            // A phase whose call failed is not analysed: nothing to look ahead for.
            if graphs.all(|g| g.is_some_and(Result::is_ok)) {
                ready.push(i);
            }
        }
        ready
    };
    if ready.is_empty() {
        return;
    }
    let Ok(workspace) = session.workspace(metadata) else {
        return;
    };
    let mut differ = lock(differ);
    for (n, slot) in slots.graphs.iter().enumerate() {
        if let Some(Ok(g)) = slot.get() {
            differ.provide(n, &g.graph, &g.ids);
        }
    }
    let analysis = Analysis {
        set: ahead.set,
        plans,
        inherited: ahead.inherited,
        workspace: &workspace,
        dir: &session.runner().dir,
        depth: Depth::Explained,
    };
    for i in ready {
        let report = analysis.phase_report(i, &ahead.set.phases[i], &mut differ);
        let calls = ahead.lookahead.explained(&report);
        {
            let mut asked = lock(&slots.asked);
            for invocation in calls {
                // A call a phase shares, resolved or being resolved, is no new call.
                if !session.has_graph(&invocation) && asked.insert(invocation.clone()) {
                    queue.push(Call::Ahead(invocation));
                }
            }
        }
        if let Some(slot) = lock(&slots.explained).get_mut(i) {
            *slot = Some(report);
        }
    }
}
