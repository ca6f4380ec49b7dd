//! Which cargo resolves each phase: a phase whose crane lib builds with another Rust
//! release than the workspace's cargo (read by the flake reader with its bindings followed,
//! found in the toolchain's text, or in a derivation's `nativeBuildInputs` with `--nix`) is
//! resolved with that release's cargo when rustup has it; otherwise, and for a toolchain
//! that follows a channel, a warning says which cargo resolved it instead.

use serde::Serialize;

use crate::cargo::CargoRunner;
use crate::cargo::run::CargoInfo;
use crate::cargo::run::phase_toolchain::{ReleaseCargo, same_release};
use crate::located::Note;
use crate::phase::{Phase, PhaseSet};

/// The cargo that resolved a phase, when it is not the workspace's: the JSON's per-phase
/// `cargo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseCargo {
    pub release: String,
    /// The rustup toolchain (`1.48`).
    pub toolchain: String,
    /// The crane lib whose toolchain is that release, as the phase source names it.
    pub pinned_by: String,
}

/// Which cargo resolves each phase, and what the report warns about it. Produced by
/// [`PhaseToolchains::of`].
#[derive(Debug, Default)]
pub(crate) struct PhaseToolchains {
    /// Per phase (the set's order): the cargo of its own toolchain, when that is not the
    /// workspace's and rustup has it.
    pub own: Vec<Option<PhaseCargo>>,
    /// One per toolchain the phases build with that did not resolve them.
    pub warnings: Vec<Note>,
}

/// What a phase's toolchain says of its version.
enum Version<'a> {
    Release(String),
    /// A channel's newest release (`rust-overlay's latest stable`): no fixed one.
    Channel(&'a str),
}

impl PhaseToolchains {
    /// Decides, for every phase of `set` with a known toolchain, which cargo resolves it;
    /// `cargo` is the workspace's, `runner` finds the others.
    pub(crate) fn of(set: &PhaseSet, runner: &CargoRunner, cargo: &CargoInfo) -> PhaseToolchains {
        let mut own = vec![None; set.phases.len()];
        // Phases by toolchain, in the set's order: one warning names them all.
        let mut by_lib: Vec<(&str, Vec<&Phase>)> = Vec::new();
        let mut group = |lib, phase| match by_lib.iter_mut().find(|(l, _)| *l == lib) {
            Some((_, phases)) => phases.push(phase),
            None => by_lib.push((lib, vec![phase])),
        };
        for (i, phase) in set.phases.iter().enumerate() {
            let Some(lib) = phase.toolchain.as_deref() else {
                continue;
            };
            let Some(Version::Release(release)) = version(phase) else {
                group(lib, phase);
                continue;
            };
            if same_release(&cargo.release, &release) {
                continue;
            }
            match runner.cargo_for_release(&release) {
                ReleaseCargo::Installed(info) => {
                    own[i] = Some(PhaseCargo {
                        release: info.release,
                        toolchain: info.toolchain.toolchain.unwrap_or_default(),
                        pinned_by: lib.to_string(),
                    });
                }
                _ => group(lib, phase),
            }
        }
        let warnings = by_lib
            .iter()
            .filter_map(|(_, phases)| warning(phases, runner, cargo))
            .collect();
        PhaseToolchains { own, warnings }
    }

    /// Says in phase `i`'s report which cargo resolved it, when it is not the workspace's
    /// `cargo`: its `cargo` and a note.
    pub(super) fn describe(&self, i: usize, report: &mut super::PhaseReport, cargo: &CargoInfo) {
        let Some(own) = self.own.get(i).and_then(Option::as_ref) else {
            return;
        };
        report.phase.notes.push(Note::new(format!(
            "resolved with cargo {} (rustup toolchain {}), the Rust release its crane lib builds with, not the workspace's cargo {}",
            own.release, own.toolchain, cargo.release
        )));
        report.cargo = Some(own.clone());
    }

    /// The rustup toolchain that resolves phase `i`, when it is not the workspace's.
    pub(crate) fn rustup_toolchain(&self, i: usize) -> Option<String> {
        Some(self.own.get(i)?.as_ref()?.toolchain.clone())
    }
}

/// The release or channel `phase`'s toolchain builds with, if its source says.
fn version(phase: &Phase) -> Option<Version<'_>> {
    let text = phase.toolchain.as_deref()?;
    let release = phase.toolchain_release.clone().or_else(|| {
        // A nightly's or beta's store name (`rust-default-1.97.0-nightly-2026-05-01`) names
        // no stable release.
        rust_release_in(text).filter(|r| {
            !text.contains(&format!("{r}-nightly")) && !text.contains(&format!("{r}-beta"))
        })
    });
    match release {
        Some(release) => Some(Version::Release(release)),
        None => phase
            .toolchain_channel
            .or_else(|| crate::crane::functions::floating_channel(text))
            .map(Version::Channel),
    }
}

/// The warning for `phases`, which build with one toolchain that did not resolve them:
/// a release rustup lacks or whose cargo cannot resolve, or a channel of another kind than
/// `cargo`'s. `None` when there is nothing to say.
fn warning(phases: &[&Phase], runner: &CargoRunner, cargo: &CargoInfo) -> Option<Note> {
    let first = phases.first()?;
    let lib = first.toolchain.as_deref()?;
    let one = phases.len() == 1;
    let (build, were, them) = if one {
        ("builds", "was", "it")
    } else {
        ("build", "were", "them")
    };
    let names = named(phases);
    let resolved = format!(
        "resolved with cargo {} ({}) instead",
        cargo.release,
        workspace_cargo(cargo)
    );
    let text = match version(first)? {
        Version::Release(release) => {
            let why = match runner.cargo_for_release(&release) {
                ReleaseCargo::Installed(_) => return None,
                ReleaseCargo::NotInstalled => format!(
                    "which rustup has not installed, so {} {were} {resolved}, and another toolchain can resolve other units; to have {them} resolved with its own cargo: `rustup toolchain install {release} --profile minimal`",
                    if one { "it" } else { "they" }
                ),
                ReleaseCargo::Unusable { toolchain, why } => format!(
                    "whose rustup toolchain `{toolchain}` is installed, but {why}, so {} {were} {resolved}, and another toolchain can resolve other units",
                    if one { "it" } else { "they" }
                ),
            };
            format!("{names} {build} with Rust {release} ({lib}), {why}")
        }
        Version::Channel(channel) => {
            if channel_kind(channel) == channel_kind(&cargo.release) {
                return None;
            }
            format!(
                "{names} {build} with {channel} ({lib}), but {were} {resolved}: another toolchain can resolve other units. A channel's newest release is no fixed one, so no toolchain can be installed to match it exactly; {} results hold for cargo {}",
                if one { "its" } else { "their" },
                cargo.release
            )
        }
    };
    Some(Note {
        location: first.origin.clone(),
        text,
    })
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and 3 more phases ``.
fn named(phases: &[&Phase]) -> String {
    let quoted: Vec<String> = phases.iter().map(|p| format!("`{}`", p.name)).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more phases", rest.len()),
        [] => String::new(),
    }
}

/// `pinned by /ws/rust-toolchain.toml`, `RUSTUP_TOOLCHAIN`, `the default toolchain`.
fn workspace_cargo(cargo: &CargoInfo) -> String {
    use crate::cargo::toolchain::ToolchainOrigin;
    match &cargo.toolchain.origin {
        ToolchainOrigin::File(_) | ToolchainOrigin::Environment => {
            format!("pinned by {}", cargo.toolchain.origin)
        }
        origin => origin.to_string(),
    }
}

/// `nightly`, `beta` or `stable`: of a channel's description or a cargo release.
fn channel_kind(text: &str) -> &'static str {
    if text.contains("nightly") {
        "nightly"
    } else if text.contains("beta") {
        "beta"
    } else {
        "stable"
    }
}

/// The first `1.NN` or `1.NN.N` release named in a toolchain expression.
pub(crate) fn rust_release_in(text: &str) -> Option<String> {
    // The two characters before: a release starts a word, or follows an attribute name's
    // dot (`stable.1.70.0`, as the flake reader describes `stable.${msrv}`), never a
    // number's (`v21.1.5`).
    let mut before: (Option<char>, Option<char>) = (None, None);
    text.char_indices().find_map(|(start, c)| {
        let (two_back, one_back) = before;
        before = (one_back, Some(c));
        let inside_a_word = match one_back {
            Some('.') => two_back.is_none_or(|b| b.is_ascii_digit() || b == '.'),
            Some(b) => b.is_ascii_alphanumeric(),
            None => false,
        };
        let rest = text.get(start..)?;
        if inside_a_word || !rest.starts_with("1.") {
            return None;
        }
        let release: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let release = release.trim_end_matches('.');
        let parts = release.split('.').count();
        (2..=3).contains(&parts).then(|| release.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::rust_release_in;

    #[test]
    fn rust_releases_are_found_in_toolchain_expressions() {
        let found = |text: &str| rust_release_in(text);
        assert_eq!(
            found(
                r#"(crane.mkLib pkgs).overrideToolchain (p: p.rust-bin.stable."1.82.0".default)"#
            ),
            Some("1.82.0".into())
        );
        assert_eq!(
            found("craneLib.overrideToolchain fenix.packages.toolchainOf { channel = \"1.76\"; }"),
            Some("1.76".into())
        );
        assert_eq!(found("p.rust-bin.nightly.latest.default"), None);
        assert_eq!(found("pkgs.python311"), None);
        assert_eq!(found("v21.1.5"), None);
        assert_eq!(found("python3.1.2"), None);
        assert_eq!(found(".1.2"), None);
        // `stable.${msrv}` as the flake reader describes it, the binding followed.
        assert_eq!(
            found("p.rust-bin.stable.1.70.0.default"),
            Some("1.70.0".into())
        );
        // Multi-byte characters before and around a release (a real flake's `…` panicked).
        assert_eq!(
            found("[ \"…\" ]; channel = \"1.70.0\";"),
            Some("1.70.0".into())
        );
        assert_eq!(found("…1.70…"), Some("1.70".into()));
        assert_eq!(found("é…"), None);
    }
}
