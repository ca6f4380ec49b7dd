//! Phases resolved with their own toolchain: a phase whose crane lib builds with another
//! Rust release than the workspace's cargo is resolved with that release's cargo when
//! rustup has it installed. Such a call runs on this runner with that toolchain chosen:
//! its own version check, cache keys (`RUSTUP_TOOLCHAIN` and that toolchain's `cargo -vV`
//! and `rustc -vV`) and scratch target dir; the answers it shares are keyed by toolchain.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{CargoInfo, CargoRunner, OLDEST_CARGO, ToolVersions};
use crate::cargo::Invocation;
use crate::cargo::toolchain::{NotInstalled, ToolchainChoice, ToolchainOrigin};
use crate::parallel::lock;

/// What rustup offers for a Rust release a phase builds with. Produced by
/// [`CargoRunner::cargo_for_release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseCargo {
    /// Installed, with a cargo cache-miss can resolve with; `info.toolchain.toolchain` is
    /// the rustup toolchain's name (`1.48.0`, or `1.48`).
    Installed(CargoInfo),
    /// No installed toolchain is that release.
    NotInstalled,
    /// The toolchain `toolchain` is that release, but its cargo cannot resolve: `why`.
    Unusable { toolchain: String, why: String },
}

/// The phases' own toolchains found so far, shared by every analysis with this runner
/// (`fix` analyses many times).
#[derive(Debug, Default)]
pub(super) struct Known {
    /// What [`CargoRunner::cargo_for_release`] found, by release.
    releases: HashMap<String, ReleaseCargo>,
    /// Each toolchain's versions, by rustup toolchain name.
    versions: HashMap<String, Arc<ToolVersions>>,
}

impl CargoRunner {
    /// The cargo of the rustup toolchain that is Rust `release` (digits and dots): the
    /// toolchain named so, else, for `1.48.0`, the toolchain `1.48` when its cargo is
    /// 1.48.0. Never installs one.
    pub fn cargo_for_release(&self, release: &str) -> ReleaseCargo {
        if let Some(known) = lock(&self.answers.toolchains).releases.get(release) {
            return known.clone();
        }
        let answer = self.find_cargo_for_release(release);
        lock(&self.answers.toolchains)
            .releases
            .insert(release.to_string(), answer.clone());
        answer
    }

    fn find_cargo_for_release(&self, release: &str) -> ReleaseCargo {
        let minor: Vec<&str> = release.split('.').take(2).collect();
        let minor = minor.join(".");
        let candidates = std::iter::once(release).chain((minor != release).then_some(&*minor));
        for toolchain in candidates {
            let runner = self.with_toolchain(toolchain);
            match runner.check_version() {
                Ok(info) if same_release(&info.release, release) => {
                    return ReleaseCargo::Installed(info);
                }
                Ok(_) => {}
                Err(err) if err.downcast_ref::<NotInstalled>().is_some() => {}
                Err(err) => {
                    return ReleaseCargo::Unusable {
                        toolchain: toolchain.to_string(),
                        why: runner.unusable(&err),
                    };
                }
            }
        }
        ReleaseCargo::NotInstalled
    }

    /// Why this runner's cargo cannot resolve, its version check having failed with `err`.
    fn unusable(&self, err: &anyhow::Error) -> String {
        let version = self.versions.cargo.get();
        match version.and_then(|text| CargoInfo::parse(text, self.toolchain.clone())) {
            Some(info) if info.version < OLDEST_CARGO => format!(
                "its cargo {} is older than {}.{}, the oldest whose unit graph cache-miss reads",
                info.release, OLDEST_CARGO.0, OLDEST_CARGO.1
            ),
            _ => format!("{err:#}")
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        }
    }

    /// This runner with the rustup toolchain `toolchain` chosen for every call.
    fn with_toolchain(&self, toolchain: &str) -> CargoRunner {
        let versions = lock(&self.answers.toolchains)
            .versions
            .entry(toolchain.to_string())
            .or_default()
            .clone();
        CargoRunner {
            toolchain: ToolchainChoice {
                toolchain: Some(toolchain.to_string()),
                origin: ToolchainOrigin::Release(toolchain.to_string()),
            },
            versions,
            ..self.clone()
        }
    }

    /// The runner that resolves `invocation`: this one, or, for a call on a phase's own
    /// toolchain, this one with that toolchain.
    pub(super) fn resolving(&self, invocation: &Invocation) -> Cow<'_, CargoRunner> {
        match &invocation.rustup_toolchain {
            Some(toolchain) if self.toolchain.toolchain.as_ref() != Some(toolchain) => {
                Cow::Owned(self.with_toolchain(toolchain))
            }
            _ => Cow::Borrowed(self),
        }
    }

    /// The target dir cargo of this runner's toolchain resolves in, inside `scratch`: a
    /// phase's own toolchain gets a directory of its own, so that the rustc answers cargo
    /// keeps there are not overwritten by another rustc's.
    pub(super) fn own_scratch_dir(&self, scratch: &Path) -> PathBuf {
        match (&self.toolchain.origin, &self.toolchain.toolchain) {
            (ToolchainOrigin::Release(_), Some(toolchain))
                if toolchain.chars().all(|c| c.is_ascii_digit() || c == '.') =>
            {
                scratch.join(format!("toolchain-{toolchain}"))
            }
            _ => scratch.to_path_buf(),
        }
    }
}

/// Whether cargo's `release` (`1.48.0`, `1.97.0-nightly`) is the stable release `wanted`
/// (`1.48.0`; `1.48` is any 1.48.x).
pub(crate) fn same_release(release: &str, wanted: &str) -> bool {
    let stable = release.chars().all(|c| c.is_ascii_digit() || c == '.');
    stable && (release == wanted || release.starts_with(&format!("{wanted}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_is_matched_by_the_toolchain_of_its_minor_version() {
        assert!(same_release("1.48.0", "1.48.0"));
        assert!(same_release("1.48.1", "1.48"));
        assert!(!same_release("1.48.1", "1.48.0"));
        assert!(!same_release("1.480.0", "1.48"));
        assert!(!same_release("1.97.0-nightly", "1.97"));
    }

    #[test]
    fn a_release_rustup_lacks_is_not_installed_and_never_installed() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/clean");
        let runner = CargoRunner::new(&fixture);
        assert_eq!(
            runner.cargo_for_release("1.2.3"),
            ReleaseCargo::NotInstalled
        );
        // Asked again: the answer found first.
        assert_eq!(
            runner.cargo_for_release("1.2.3"),
            ReleaseCargo::NotInstalled
        );
    }
}
