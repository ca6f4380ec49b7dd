//! Reads crane phases straight from `flake.nix` (and the Nix files it imports) with a
//! static evaluator: no Nix needed. Produces the same [`PhaseSpec`]s a phases file does.

mod check;
mod collect;
mod eval;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub(crate) use collect::CraneCalls;
pub(crate) use eval::{InputHolder, System};

use crate::located::{LocatedError, Note, SourceLocation};
use crate::phase::PhaseSpec;

/// The phases found in a flake. Produced by [`read_flake`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlakePhases {
    pub specs: Vec<PhaseSpec>,
    /// Things that could not be resolved, with file:line.
    pub warnings: Vec<Note>,
    /// The crane calls written in the files the flake reaches, and how many are phases.
    pub crane_calls: CraneCalls,
    /// Flake inputs whose functions or modules make (part of) the outputs: their crane
    /// calls are in the input, never read.
    pub input_holders: Vec<InputHolder>,
}

impl FlakePhases {
    /// How many crane calls were found and placed, for the phase source's description.
    pub fn summary(&self) -> String {
        let CraneCalls { found, placed } = self.crane_calls;
        let calls = if found == 1 { "call" } else { "calls" };
        format!("{found} crane {calls} found, {placed} placed as phases")
    }

    /// When the outputs come from a flake input's function or module: which input holds
    /// the crane calls, and what to run instead (`--nix`: Nix evaluates the inputs too).
    /// No `--flake` path can work there: the input's files are not the flake's.
    pub fn input_hint(&self) -> Option<String> {
        if self.input_holders.is_empty() {
            return None;
        }
        // Each input once, with every module of it and where the flake names it.
        let mut by_input: Vec<(&str, Vec<String>)> = Vec::new();
        for h in &self.input_holders {
            let place = format!("{}, {}", crate::text::echo(&h.what), h.location);
            match by_input.iter_mut().find(|(input, _)| *input == h.input) {
                Some((_, places)) => places.push(place),
                None => by_input.push((&h.input, vec![place])),
            }
        }
        let held: Vec<String> = by_input
            .iter()
            .map(|(input, places)| format!("{} ({})", crate::text::echo(input), places.join("; ")))
            .collect();
        let inputs = if held.len() == 1 { "input" } else { "inputs" };
        Some(format!(
            "the outputs come from the flake {inputs} {}, whose crane calls the static reader does not read; run with --nix, which evaluates the flake and its inputs with Nix",
            held.join(", ")
        ))
    }
}

/// Reads a flake (or any Nix file with crane calls) and the files it imports, for
/// `system` (platform predicates such as `stdenv.isDarwin` are answered for it).
pub(crate) fn read_flake(path: &Path, system: &System) -> Result<FlakePhases> {
    let text = eval::files::read_regular(path).map_err(|why| LocatedError {
        location: SourceLocation::file(path.display().to_string()),
        message: format!("cannot read it: {why}"),
    })?;
    // `flake.nix` has the parent `""`, which is the current directory.
    let base_dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base_dir = base_dir.canonicalize().unwrap_or(base_dir);
    let path = base_dir.join(path.file_name().unwrap_or_default());
    read_flake_for(&text, &path, &flake_root(&base_dir), system)
}

/// The flake a file belongs to: the nearest directory from `dir` up holding `flake.nix`
/// (`--flake nix/default.nix` is part of the flake above it), else `dir`. Files are
/// shown relative to it, and imports inside it are followed.
pub(crate) fn flake_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| d.join("flake.nix").is_file())
        .unwrap_or(dir)
        .to_path_buf()
}

/// Stack for evaluation: deeply nested (or runaway recursive) Nix needs more than a
/// default thread has before the evaluator's depth limit stops it.
const EVALUATION_STACK: usize = 512 << 20;

/// Reads flake text as if it were the file `path` in `base_dir` (imports resolve there),
/// for this machine's system.
pub fn read_flake_str(text: &str, path: &Path, base_dir: &Path) -> Result<FlakePhases> {
    read_flake_for(text, path, base_dir, &System::host())
}

pub(crate) fn read_flake_for(
    text: &str,
    path: &Path,
    base_dir: &Path,
    system: &System,
) -> Result<FlakePhases> {
    let (text, path, base_dir) = (text.to_string(), path.to_path_buf(), base_dir.to_path_buf());
    let system = system.clone();
    std::thread::Builder::new()
        .name("flake-evaluation".into())
        .stack_size(EVALUATION_STACK)
        .spawn(move || evaluate(&text, &path, &base_dir, system))
        .context("cannot start the flake evaluation")?
        .join()
        .map_err(|_| anyhow::anyhow!("the flake evaluation failed unexpectedly"))?
}

fn evaluate(text: &str, path: &Path, base_dir: &Path, system: System) -> Result<FlakePhases> {
    // Files are inside the flake when they really are: `..` and links resolved.
    let base_dir = base_dir
        .canonicalize()
        .unwrap_or_else(|_| base_dir.to_path_buf());
    let mut evaluator = eval::Evaluator::new(&base_dir, system);
    let root = evaluator.eval_file(text, path)?;
    let (specs, crane_calls) = collect::phase_specs(&mut evaluator, root);
    let input_holders = evaluator.input_holders().to_vec();
    let warnings = evaluator.finish()?;
    Ok(FlakePhases {
        specs,
        warnings,
        crane_calls,
        input_holders,
    })
}
