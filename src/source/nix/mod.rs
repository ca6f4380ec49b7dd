//! `--nix`: the phases as the user's own Nix instantiates them. The flake's outputs for
//! the system (`packages`, `checks`, and the installables the user names) are evaluated
//! to derivations, never built; their closure is printed as derivation JSON and crane's
//! derivations in it are read as phases ([`phases`]). Nix runs with import-from-derivation
//! off unless asked, writes no lock file, and is bounded in time and memory ([`run`]).

pub(crate) mod drv;
mod lift;
mod memo;
pub(crate) mod phases;
mod run;

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::cargo::ResolutionCache;
use crate::located::{Note, SourceLocation};
use crate::parallel::run_parallel;
use crate::phase::PhaseSpec;
use memo::NixAnswers;

use phases::Output;
use run::{Nix, flake_ref};

/// How to run Nix. `Default` is what `--nix` alone means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixOptions {
    /// The system whose outputs are read (`x86_64-linux`); default: this machine's.
    pub system: Option<String>,
    /// More outputs to read, as attribute paths (`hydraJobs.x`, `.#hydraJobs.x`).
    pub installables: Vec<String>,
    /// `--override-input INPUT URL`, passed to Nix.
    pub override_inputs: Vec<(String, String)>,
    /// `--option NAME VALUE`, passed to Nix.
    pub options: Vec<(String, String)>,
    /// Let Nix import from derivations (which may build them).
    pub allow_ifd: bool,
    /// How long one Nix call may take.
    pub timeout: Duration,
    /// The most memory (address space, bytes) one Nix call may take.
    pub max_memory: u64,
    /// A flake none of whose outputs evaluates is an error (there is nothing to analyse);
    /// `phases --compare` lists such a reading instead.
    pub require_evaluable: bool,
}

impl Default for NixOptions {
    fn default() -> NixOptions {
        NixOptions {
            system: None,
            installables: Vec::new(),
            override_inputs: Vec::new(),
            options: Vec::new(),
            allow_ifd: false,
            timeout: Duration::from_secs(300),
            max_memory: 8 << 30,
            require_evaluable: true,
        }
    }
}

/// The flake's phases as Nix sees them. Produced by [`read_flake_with_nix`].
#[derive(Debug, Clone)]
pub(crate) struct NixPhases {
    pub specs: Vec<PhaseSpec>,
    pub warnings: Vec<Note>,
    /// What Nix answered, for a command that compares it with another revision's.
    pub evaluation: std::sync::Arc<FlakeEvaluation>,
    /// For the report's header: `nix 2.8.0 on git+file:///…#checks.x86_64-linux…`.
    pub description: String,
}

/// Each output's `.drv` path; `null` for a value that is no derivation (the `override`
/// functions `callPackage` leaves beside packages, a nested set).
const DRV_PATHS: &str = "builtins.mapAttrs (name: output: if builtins.isAttrs output && (output.type or null) == \"derivation\" then output.drvPath else null)";

/// The names of a set's derivations, and of the values that fail to evaluate (to say why).
const OUTPUT_NAMES: &str = "set: builtins.filter (name: let t = builtins.tryEval (let v = set.${name}; in builtins.isAttrs v && (v.type or null) == \"derivation\"); in !t.success || t.value) (builtins.attrNames set)";

/// The output sets read for the system, besides the installables the user names.
const OUTPUT_SETS: &[&str] = &["packages", "checks"];

/// Reads the phases of the flake in `flake_dir` with Nix, or from what Nix answered
/// before when `cache` has it. `shown` is how the flake file is named to the user
/// (`flake.nix`).
pub(crate) fn read_flake_with_nix(
    flake_dir: &Path,
    shown: &str,
    options: &NixOptions,
    cache: Option<&ResolutionCache>,
) -> Result<NixPhases> {
    let evaluation = evaluate_flake(flake_dir, options, cache)?;
    let reading = evaluation.reading(shown);
    let mut warnings = reading.notes;
    if !reading.not_crane.is_empty() {
        warnings.push(Note::new(format!(
            "--nix: not crane derivations, so not phases: {}",
            reading.not_crane.join(", ")
        )));
    }
    if reading.specs.is_empty() {
        bail!(
            "--nix: no crane derivation in {}'s {} for {}{}",
            evaluation.flake,
            OUTPUT_SETS.join(" or "),
            evaluation.system,
            match options.installables.is_empty() {
                true => " (name other outputs with --installable ATTR)",
                false => " or the installables given",
            }
        );
    }
    if options.require_evaluable
        && reading
            .specs
            .iter()
            .all(|spec| spec.not_evaluable.is_some())
    {
        let failures: Vec<String> = reading
            .specs
            .iter()
            .take(5)
            .map(|spec| {
                let message = spec.not_evaluable.as_ref().map(|n| n.message.as_str());
                format!("{}: {}", spec.name, message.unwrap_or_default())
            })
            .collect();
        bail!(
            "--nix: no output of {} evaluates for {}, so there is nothing to analyse: {}",
            evaluation.flake,
            evaluation.system,
            failures.join("; ")
        );
    }
    Ok(NixPhases {
        specs: reading.specs,
        warnings,
        description: evaluation.description(),
        evaluation: std::sync::Arc::new(evaluation),
    })
}

/// What Nix made of a flake: its outputs' derivations and their closure. Produced by
/// [`evaluate_flake`].
#[derive(Debug, Clone)]
pub(crate) struct FlakeEvaluation {
    /// The flake reference evaluated (`git+file:///src/app`).
    pub flake: String,
    pub system: String,
    /// Nix's version (`2.8.0`).
    pub version: String,
    pub outputs: Vec<Output>,
    /// The closure of the outputs, by `.drv` path.
    pub drvs: std::collections::BTreeMap<String, drv::Derivation>,
}

impl FlakeEvaluation {
    /// crane's derivations read as phases; `shown` names the flake file.
    pub(crate) fn reading(&self, shown: &str) -> phases::NixReading {
        phases::phases_from(&self.outputs, &self.drvs, &SourceLocation::file(shown))
    }

    /// `nix 2.8.0 on git+file:///src/app (x86_64-linux)`.
    pub(crate) fn description(&self) -> String {
        format!("nix {} on {} ({})", self.version, self.flake, self.system)
    }
}

/// Evaluates the flake in `flake_dir` with Nix, or takes what Nix answered before from
/// `cache`.
pub(crate) fn evaluate_flake(
    flake_dir: &Path,
    options: &NixOptions,
    cache: Option<&ResolutionCache>,
) -> Result<FlakeEvaluation> {
    let flake = flake_ref(flake_dir);
    let system = options.system.clone().unwrap_or_else(this_system);
    let key = cache.and_then(|_| memo::key(flake_dir, &flake, &system, options));
    let remembered = cache
        .zip(key.as_ref())
        .and_then(|(cache, key)| cache.get(key))
        .and_then(|bytes| serde_json::from_slice::<NixAnswers>(&bytes).ok());
    let answers = match remembered {
        Some(answers) => answers,
        None => {
            let answers = ask_nix(&Nix::find(options)?, &flake, &system, options)?;
            if let (Some(cache), Some(key)) = (cache, &key) {
                if answers.complete() {
                    if let Ok(bytes) = serde_json::to_vec(&answers) {
                        cache.put(key, &bytes);
                    }
                }
            }
            answers
        }
    };
    let drvs = if answers.derivations.is_empty() {
        Default::default()
    } else {
        drv::parse_derivations(&answers.derivations)?
    };
    Ok(FlakeEvaluation {
        outputs: answers.outputs(),
        flake,
        system,
        version: answers.version,
        drvs,
    })
}

/// Evaluates the outputs and prints their closure's derivations.
fn ask_nix(nix: &Nix, flake: &str, system: &str, options: &NixOptions) -> Result<NixAnswers> {
    let outputs = outputs(nix, flake, system, &options.installables)?;
    let drv_paths: Vec<String> = outputs
        .iter()
        .filter_map(|output| output.drv.as_ref().ok().cloned())
        .collect();
    let derivations = if drv_paths.is_empty() {
        String::new()
    } else {
        nix.show_derivations(&drv_paths)
            .map_err(|failure| anyhow::anyhow!("--nix: {}", failure.message))?
    };
    Ok(NixAnswers {
        version: nix.version_text.clone(),
        outputs: NixAnswers::stored(&outputs),
        derivations,
    })
}

/// The system Nix calls this machine (`builtins.currentSystem`).
fn this_system() -> String {
    let arch = match std::env::consts::ARCH {
        "x86" => "i686",
        other => other,
    };
    format!("{arch}-{}", std::env::consts::OS)
}

/// Every output asked for, each with its `.drv` path or Nix's message. The output sets
/// are listed and evaluated together; when that fails, output by output, so one output
/// that does not evaluate sinks no other.
fn outputs(nix: &Nix, flake: &str, system: &str, installables: &[String]) -> Result<Vec<Output>> {
    let sets: Vec<String> = OUTPUT_SETS
        .iter()
        .map(|set| format!("{set}.{system}"))
        .collect();
    let per_set = run_parallel(&sets, &|_| {}, |set| outputs_of_set(nix, flake, set));
    let mut all = Vec::new();
    for (set, outputs) in sets.iter().zip(per_set) {
        let prefix = set.split('.').next().unwrap_or(set);
        all.extend(outputs?.into_iter().map(|mut output| {
            output.attr = match output.attr.is_empty() {
                true => prefix.to_string(),
                false => format!("{prefix}.{}", output.attr),
            };
            output
        }));
    }
    for installable in installables {
        let attr = installable
            .strip_prefix(".#")
            .or_else(|| installable.strip_prefix('#'))
            .unwrap_or(installable);
        let drv = nix
            .eval_json(&format!("{flake}#{attr}.drvPath"), None)
            .map_err(|failure| failure.message)
            .and_then(|value| match value {
                serde_json::Value::String(path) => Ok(path),
                _ => Err(format!("{attr} is not a derivation")),
            });
        all.push(Output {
            attr: attr.to_string(),
            drv,
        });
    }
    Ok(all)
}

/// The outputs of one set (`checks.x86_64-linux`), by name; none when the flake has no
/// such set. A set Nix cannot even list is one output that fails, named after the set.
fn outputs_of_set(nix: &Nix, flake: &str, set: &str) -> Result<Vec<Output>> {
    let installable = format!("{flake}#{set}");
    let together = nix.eval_json(&installable, Some(DRV_PATHS));
    match together {
        Ok(serde_json::Value::Object(drvs)) => {
            return Ok(drvs
                .into_iter()
                .filter(|(_, drv)| !drv.is_null())
                .map(|(name, drv)| Output {
                    attr: name,
                    drv: drv
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| "not a derivation".to_string()),
                })
                .collect());
        }
        Ok(_) => bail!("--nix: {set} is not an attribute set"),
        Err(failure) if failure.message.contains("does not provide attribute") => {
            return Ok(Vec::new());
        }
        Err(_) => {}
    }
    let names = match nix
        .eval_json(&installable, Some(OUTPUT_NAMES))
        .or_else(|_| nix.eval_json(&installable, Some("builtins.attrNames")))
    {
        Ok(names) => serde_json::from_value::<Vec<String>>(names)
            .map_err(|_| anyhow::anyhow!("--nix: {set}'s names are not strings"))?,
        Err(failure) => {
            return Ok(vec![Output {
                attr: String::new(),
                drv: Err(failure.message),
            }]);
        }
    };
    Ok(run_parallel(&names, &|_| {}, |name| {
        let attr = format!("{installable}.{}.drvPath", quoted_attr(name));
        let drv = nix
            .eval_json(&attr, None)
            .map_err(|failure| failure.message)
            .and_then(|value| match value {
                serde_json::Value::String(path) => Ok(path),
                _ => Err("not a derivation".to_string()),
            });
        Output {
            attr: name.clone(),
            drv,
        }
    }))
}

/// An attribute name as an attribute path part: quoted unless it is a plain identifier.
fn quoted_attr(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''));
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests;
