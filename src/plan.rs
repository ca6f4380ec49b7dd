//! Plans: which cargo calls each phase needs, deduplicated across phases (calls whose
//! unit graphs must be equal are resolved once). Between the phases and cargo.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::cargo::untrusted::{code_loading_variables, program_variable, without_program_args};
use crate::cargo::{Invocation, Plan, plan};
use crate::located::Note;
use crate::phase::PhaseSet;

/// Each phase's cargo calls, deduplicated: calls whose unit graphs must be equal are
/// resolved once. Produced by [`plan_phases`].
#[derive(Debug, Clone, Default)]
pub struct PhasePlans {
    pub invocations: Vec<Invocation>,
    /// Per phase (same order as the set): indices into `invocations`.
    pub by_phase: Vec<Vec<usize>>,
    /// Per phase: commands that could not be resolved.
    pub unsupported: Vec<Vec<String>>,
}

/// Plans every phase of `set`, in the set's order.
pub fn plan_phases(set: &PhaseSet) -> PhasePlans {
    plan_phases_where(set, |_| true, |_| None)
}

/// Plans the phases of `set` for which `wanted(index)` holds; the others get no calls.
/// `rustup_toolchain(index)` names the toolchain that resolves the phase's calls when it
/// is not the workspace's: calls alike on two toolchains are two calls.
pub(crate) fn plan_phases_where(
    set: &PhaseSet,
    wanted: impl Fn(usize) -> bool,
    rustup_toolchain: impl Fn(usize) -> Option<String>,
) -> PhasePlans {
    let mut plans = PhasePlans::default();
    let mut seen: BTreeMap<Invocation, usize> = BTreeMap::new();
    for (i, phase) in set.phases.iter().enumerate() {
        let mut indices = Vec::new();
        let mut unsupported = Vec::new();
        let commands = if wanted(i) { &phase.commands[..] } else { &[] };
        for command in commands {
            match plan(command, &phase.env, phase.toolchain.as_deref()) {
                Plan::Resolve(mut invocation) => {
                    invocation.rustup_toolchain = rustup_toolchain(i);
                    let next = seen.len();
                    let index = *seen.entry(invocation.clone()).or_insert_with(|| {
                        plans.invocations.push(invocation);
                        next
                    });
                    if !indices.contains(&index) {
                        indices.push(index);
                    }
                }
                Plan::NoCompile => {}
                Plan::Unsupported(why) => unsupported.push(format!(
                    "{}: {why}; its units are not counted",
                    command.display()
                )),
            }
        }
        plans.by_phase.push(indices);
        plans.unsupported.push(unsupported);
    }
    plans
}

impl PhasePlans {
    /// The invocations phase `i` of the set runs.
    pub fn of_phase(&self, i: usize) -> impl Iterator<Item = &Invocation> {
        self.by_phase[i].iter().map(|&n| &self.invocations[n])
    }

    /// What of phase `i`'s settings resolution withholds from cargo because it names a
    /// program to run: environment variables, `--config` arguments and `+toolchain`
    /// paths, one note each. `dir` is where cargo runs (a `--config` file is relative to it).
    pub fn withheld(&self, i: usize, dir: &Path) -> Vec<Note> {
        let mut variables = BTreeSet::new();
        let mut arguments = BTreeMap::new();
        let mut rustflags = BTreeMap::new();
        for invocation in self.of_phase(i) {
            variables.extend(invocation.env.keys().filter(|name| program_variable(name)));
            rustflags.extend(code_loading_variables(&invocation.env));
            for (argument, keys) in without_program_args(&invocation.args, dir).dropped {
                arguments.insert(argument, keys);
            }
        }
        let variables = variables.into_iter().map(|name| {
            Note::new(format!(
                "{name} from the phase's environment is not passed to cargo: resolution runs no program the phases name, and cargo resolves the same units without it"
            ))
        });
        let arguments = arguments.into_iter().map(|(argument, keys)| {
            Note::new(format!(
                "`{argument}` is left out of resolution: it names a program to run or code to load ({}); cargo resolves the same units without it",
                keys.join(", ")
            ))
        });
        let rustflags = rustflags.into_iter().map(|(name, flags)| {
            Note::new(format!(
                "{name} from the phase's environment has {}, which can make rustc load code while cargo asks it about the target: resolution leaves such flags out and forces rustc's built-in codegen backend; the phase's rustflags stay as written in the comparison",
                flags.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
            ))
        });
        variables.chain(arguments).chain(rustflags).collect()
    }
}
