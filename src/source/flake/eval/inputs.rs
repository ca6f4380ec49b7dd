//! Outputs that come from a flake input's function or module (a crane wrapper flake:
//! `outputs = inputs: inputs.wrapper.lib.mkFlake { … }`, flake-parts `imports = [
//! inputs.wrapper.flakeModules.rust ]`): the crane calls are in that input, which the
//! reader never reads. Noted, so the user is told which input holds them.

use super::Evaluator;
use super::files::Pos;
use super::value::Value;
use crate::located::SourceLocation;

/// A flake input whose function or module makes (part of) the flake's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputHolder {
    /// The input's name (`wrapper`).
    pub input: String,
    /// What of it is used, as written (`inputs.wrapper.flakeModules.rust`).
    pub what: String,
    pub location: SourceLocation,
}

impl Evaluator {
    /// The input `what` (an expression's text) comes from, when it is one of the
    /// flake's inputs other than nixpkgs: `inputs.x.y` and `x.y` are input `x`.
    pub(super) fn input_of(&self, what: &str) -> Option<String> {
        let mut segments = what
            .trim_start_matches('(')
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '\''));
        let first = segments.next()?;
        let input = if first == "inputs" {
            segments.next()?
        } else {
            first
        };
        let known = self.input_names.contains(input) && input != "inputs" && input != "self";
        (known && input != "nixpkgs").then(|| input.to_string())
    }

    /// Notes that `what`, written at `pos`, is a flake input's function or module the
    /// outputs come from.
    pub(super) fn note_input_holder(&mut self, what: &str, pos: Option<Pos>) {
        if let Some(holder) = self.holder(what, pos) {
            if !self.input_holders.contains(&holder) {
                self.input_holders.push(holder);
            }
        }
    }

    /// Notes that `function`, applied at `pos`, is a flake input's function: the outputs
    /// may be made by it when they are not traced to an input otherwise (the result bound
    /// in a `let` and taken apart: `made.packages`).
    pub(super) fn note_applied_input_function(&mut self, function: &str, pos: Pos) {
        if let Some(holder) = self.holder(function, Some(pos)) {
            if !self.applied_input_functions.contains(&holder) {
                self.applied_input_functions.push(holder);
            }
        }
    }

    /// `what` as an input holder, when it is a flake input's.
    fn holder(&self, what: &str, pos: Option<Pos>) -> Option<InputHolder> {
        let input = self.input_of(what)?;
        let location = match pos {
            Some(pos) => self.location(pos),
            None => self.files.first().map_or_else(
                || SourceLocation::file(String::new()),
                |file| SourceLocation::file(file.shown.clone()),
            ),
        };
        Some(InputHolder {
            input,
            what: what.to_string(),
            location,
        })
    }

    /// The outputs, or their first levels (`packages`, `packages.<system>`), made by a
    /// flake input's function. Only what the search already evaluated is looked at: this
    /// forces nothing (which would change the order files are read in).
    pub(crate) fn note_outputs_from_inputs(&mut self, outputs: &Value, depth: usize) {
        match outputs {
            // A function applied (`wrapper.lib.mkFlake { … }`): named by the function.
            Value::Unknown(what) if what.contains(' ') => {
                let function = what.split_whitespace().next().unwrap_or_default();
                self.note_input_holder(function, None);
            }
            Value::Attrs(set) if depth < 3 => {
                for thunk in set.entries.values() {
                    if let Some(value) = thunk.peek() {
                        self.note_outputs_from_inputs(&value, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// The inputs noted as holding (part of) the outputs; else the inputs whose functions
    /// the flake applies.
    pub(crate) fn input_holders(&self) -> &[InputHolder] {
        if self.input_holders.is_empty() {
            &self.applied_input_functions
        } else {
            &self.input_holders
        }
    }
}
