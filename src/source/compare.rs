//! The static reader checked against Nix: the phases read both ways, matched, and every
//! difference named (`phases --compare`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::phase::{Phase, PhaseSet};

/// One way the two readings differ. Produced by [`compare`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The phase, by the Nix reading's name (the static one's when only it has it).
    pub phase: String,
    /// What differs: `phase`, `name`, `evaluates`, `function`, `commands`, `env`,
    /// `artifacts_from`.
    pub what: &'static str,
    /// The static reader's value (`null`: it has none).
    #[serde(rename = "static")]
    pub static_value: Option<String>,
    /// Nix's value (`null`: it has none).
    pub nix: Option<String>,
}

/// The phases two sources read, matched: by name, else (a deps-only phase the static
/// reader names by its binding and Nix by its `pname`) by function and commands.
pub fn compare(static_set: &PhaseSet, nix_set: &PhaseSet) -> Vec<Difference> {
    let pairs = match_phases(static_set, nix_set);
    let static_to_nix: BTreeMap<&str, &str> = pairs
        .iter()
        .map(|(s, n)| (s.name.as_str(), n.name.as_str()))
        .collect();
    let mut differences = Vec::new();
    for (s, n) in &pairs {
        differences.extend(phase_differences(s, n, &static_to_nix));
    }
    let matched_static: BTreeSet<&str> = pairs.iter().map(|(s, _)| s.name.as_str()).collect();
    let matched_nix: BTreeSet<&str> = pairs.iter().map(|(_, n)| n.name.as_str()).collect();
    for phase in &static_set.phases {
        if !matched_static.contains(phase.name.as_str()) {
            differences.push(Difference {
                phase: phase.name.clone(),
                what: "phase",
                static_value: Some(phase.function.to_string()),
                nix: None,
            });
        }
    }
    for phase in &nix_set.phases {
        if !matched_nix.contains(phase.name.as_str()) {
            differences.push(Difference {
                phase: phase.name.clone(),
                what: "phase",
                static_value: None,
                nix: Some(match first_failure_line(phase) {
                    Some(line) => format!("not evaluable: {line}"),
                    None => phase.function.to_string(),
                }),
            });
        }
    }
    differences
}

/// Pairs of the same phase in both readings.
pub(crate) fn match_phases<'a>(
    static_set: &'a PhaseSet,
    nix_set: &'a PhaseSet,
) -> Vec<(&'a Phase, &'a Phase)> {
    let mut pairs = Vec::new();
    let mut used = BTreeSet::new();
    for phase in &static_set.phases {
        if let Some(other) = nix_set.get(&phase.name) {
            pairs.push((phase, other));
            used.insert(other.name.as_str());
        }
    }
    // Then the phases matched phases inherit from, as long as that pairs new ones.
    loop {
        let inherited: Vec<(&'a Phase, &'a Phase)> = pairs
            .iter()
            .filter_map(|(s, n)| {
                let s = static_set.get(s.artifacts_from.as_deref()?)?;
                let n = nix_set.get(n.artifacts_from.as_deref()?)?;
                Some((s, n))
            })
            .collect();
        let before = pairs.len();
        for (s, n) in inherited {
            let paired = pairs
                .iter()
                .any(|(a, b)| a.name == s.name || b.name == n.name);
            if !paired {
                used.insert(n.name.as_str());
                pairs.push((s, n));
            }
        }
        if pairs.len() == before {
            break;
        }
    }
    // Then by what they run: first with the same environment too, then without.
    for same_env in [true, false] {
        let named: BTreeSet<&str> = pairs.iter().map(|(s, _)| s.name.as_str()).collect();
        for phase in &static_set.phases {
            if named.contains(phase.name.as_str()) {
                continue;
            }
            let twin = nix_set.phases.iter().find(|other| {
                !used.contains(other.name.as_str())
                    && other.function == phase.function
                    && command_lines(other) == command_lines(phase)
                    && (!same_env || other.env == phase.env)
            });
            if let Some(twin) = twin {
                used.insert(twin.name.as_str());
                pairs.push((phase, twin));
            }
        }
    }
    pairs
}

/// The first line of Nix's message for a phase that does not evaluate.
fn first_failure_line(phase: &Phase) -> Option<String> {
    let failure = phase.not_evaluable.as_ref()?;
    let line = failure.message.lines().next().unwrap_or_default();
    Some(line.strip_prefix("error: ").unwrap_or(line).to_string())
}

fn command_lines(phase: &Phase) -> Vec<String> {
    phase.commands.iter().map(|c| c.display()).collect()
}

fn phase_differences(
    s: &Phase,
    n: &Phase,
    static_to_nix: &BTreeMap<&str, &str>,
) -> Vec<Difference> {
    let differ = |what, static_value: String, nix: String| Difference {
        phase: n.name.clone(),
        what,
        static_value: Some(static_value),
        nix: Some(nix),
    };
    let mut out = Vec::new();
    if s.name != n.name {
        out.push(differ("name", s.name.clone(), n.name.clone()));
    }
    // A phase one side cannot evaluate has nothing else to compare.
    let failure = first_failure_line;
    if s.not_evaluable.is_some() || n.not_evaluable.is_some() {
        if failure(s) != failure(n) {
            out.push(Difference {
                phase: n.name.clone(),
                what: "evaluates",
                static_value: Some(failure(s).unwrap_or_else(|| "yes".into())),
                nix: Some(failure(n).unwrap_or_else(|| "yes".into())),
            });
        }
        return out;
    }
    if s.function != n.function {
        out.push(differ(
            "function",
            s.function.to_string(),
            n.function.to_string(),
        ));
    }
    let (static_commands, nix_commands) = (command_lines(s), command_lines(n));
    if static_commands != nix_commands {
        out.push(differ(
            "commands",
            static_commands.join("\n"),
            nix_commands.join("\n"),
        ));
    }
    let variables: BTreeSet<&String> = s.env.keys().chain(n.env.keys()).collect();
    for variable in variables {
        let (a, b) = (s.env.get(variable), n.env.get(variable));
        if a != b {
            out.push(Difference {
                phase: n.name.clone(),
                what: "env",
                static_value: a.map(|value| format!("{variable}={value}")),
                nix: b.map(|value| format!("{variable}={value}")),
            });
        }
    }
    // The static reading's artifact source, by the Nix reading's name for it.
    let static_source = s
        .artifacts_from
        .as_deref()
        .map(|name| static_to_nix.get(name).copied().unwrap_or(name).to_string());
    if static_source != n.artifacts_from {
        out.push(Difference {
            phase: n.name.clone(),
            what: "artifacts_from",
            static_value: s.artifacts_from.clone(),
            nix: n.artifacts_from.clone(),
        });
    }
    out
}
