//! Reads crane phases straight from `flake.nix` (and the Nix files it imports) with a
//! static evaluator: no Nix needed. Produces the same [`PhaseSpec`]s a phases file does.

mod collect;
pub mod eval;
#[cfg(test)]
mod tests;
pub mod value;

use std::path::Path;

use anyhow::{Context, Result};

use crate::phase::PhaseSpec;

/// The phases found in a flake. Produced by [`read_flake`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlakePhases {
    pub specs: Vec<PhaseSpec>,
    /// Things that could not be resolved, with file:line.
    pub warnings: Vec<String>,
}

/// Reads a flake (or any Nix file with crane calls) and the files it imports.
pub fn read_flake(path: &Path) -> Result<FlakePhases> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base_dir = base_dir.canonicalize().unwrap_or(base_dir);
    let path = base_dir.join(path.file_name().unwrap_or_default());
    read_flake_str(&text, &path, &base_dir)
}

/// Reads flake text as if it were the file `path` in `base_dir` (imports resolve there).
pub fn read_flake_str(text: &str, path: &Path, base_dir: &Path) -> Result<FlakePhases> {
    let mut evaluator = eval::Evaluator::new(base_dir);
    let (file, expr) = evaluator.parse(text, path)?;
    let env = evaluator.root_env();
    let root = evaluator.eval(&expr, &env, file);
    let specs = collect::phase_specs(&mut evaluator, root);
    if let Some(fatal) = evaluator.fatal.take() {
        return Err(fatal);
    }
    Ok(FlakePhases {
        specs,
        warnings: evaluator.warnings,
    })
}
