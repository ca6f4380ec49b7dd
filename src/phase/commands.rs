//! A phase's shell text as the user wrote it: which attribute holds it, where a word that
//! cannot be read is written, and what is said of the programs it runs.

use super::shell;
use super::{AttrValue, CraneFunction, PhaseCommand, PhaseSpec};
use crate::crane::functions::PhaseTexts;
use crate::located::{Note, SourceLocation};

/// The cargo calls of a phase's build and check texts (crane's, or the user's), with a
/// note in `approximations` for each line not followed exactly and for the programs the
/// user's text runs.
pub(super) fn scan(
    spec: &PhaseSpec,
    function: CraneFunction,
    texts: &PhaseTexts,
    profile: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    approximations: &mut Vec<Note>,
) -> Vec<PhaseCommand> {
    let mut commands = Vec::new();
    let mut programs = Vec::new();
    for (text, attr) in [
        (&texts.build, shell_attr(spec, "buildPhase")),
        (&texts.check, shell_attr(spec, "checkPhase")),
    ] {
        let scan = shell::find_cargo_calls(text, profile, lookup);
        approximations.extend(scan.uninterpreted.into_iter().map(|note| {
            Note {
                location: match note.unreadable {
                    true => unreadable_shell_attr(spec)
                        .or(spec.origin.as_ref())
                        .cloned(),
                    false => spec.origin.clone(),
                },
                text: format!("{attr} {note}"),
            }
        }));
        commands.extend(scan.calls.into_iter().map(|call| PhaseCommand {
            args: call.args,
            env: call.env,
        }));
        // Only in text the user wrote: crane's own runs no such program.
        if spec.attrs.contains_key(attr) {
            programs.extend(scan.programs.into_iter().map(|p| (attr, p)));
        }
    }
    if !programs.is_empty() {
        approximations.push(Note {
            location: spec.origin.clone(),
            text: programs_note(&spec.name, &programs, commands.is_empty()),
        });
    } else if function == CraneFunction::MkCargoDerivation
        && commands.is_empty()
        // One that does not evaluate says so; it has no text to find calls in.
        && spec.not_evaluable.is_none()
    {
        approximations.push(Note::new(
            "no cargo call found in buildPhaseCargoCommand/checkPhaseCargoCommand",
        ));
    }
    commands
}

/// The attribute whose shell text crane runs: `buildPhase`/`checkPhase` when the phase
/// replaces it, else `buildPhaseCargoCommand`/`checkPhaseCargoCommand` (crane's own text
/// when not given).
fn shell_attr(spec: &PhaseSpec, phase_attr: &'static str) -> &'static str {
    match (spec.attrs.contains_key(phase_attr), phase_attr) {
        (true, _) => phase_attr,
        (false, "buildPhase") => "buildPhaseCargoCommand",
        (false, _) => "checkPhaseCargoCommand",
    }
}

/// Where the attribute is written whose shell words cannot be read on their own
/// (`cargoExtraArgs = "--features 'a"`), when the source says.
fn unreadable_shell_attr(spec: &PhaseSpec) -> Option<&SourceLocation> {
    spec.attrs.iter().find_map(|(attr, value)| match value {
        AttrValue::Str(text) if shell::has_unreadable_part(text) => spec.attr_locations.get(attr),
        _ => None,
    })
}

/// What a phase whose command runs programs (an xtask, a script) gets said: their cargo
/// calls cannot be seen, and how to declare them.
fn programs_note(phase: &str, programs: &[(&str, shell::ShellNote)], no_calls: bool) -> String {
    let runs: Vec<String> = programs
        .iter()
        .map(|(attr, run)| format!("{attr} runs {} (line {})", run.text, run.line))
        .collect();
    // `--set` reads the name up to the first dot, unless it is `"quoted"`.
    let name = if phase.contains(['.', '"', '\\']) {
        format!("\"{}\"", phase.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        phase.to_string()
    };
    let set = shell_words::quote(&format!(
        "{name}.buildPhaseCargoCommand=cargo build --release --locked"
    ))
    .into_owned();
    format!(
        "{}, a program that may run cargo itself: the cargo calls it makes cannot be seen{}. Declare them with the commands it runs: `--set {set}` (and `checkPhaseCargoCommand`), or the same attributes in a phases file (`cache-miss phases --format toml` writes one to start from)",
        runs.join("; "),
        if no_calls {
            ", so this phase resolves nothing"
        } else {
            " (only the cargo calls written here are analysed)"
        }
    )
}
