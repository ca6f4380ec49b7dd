//! Phases built with another toolchain than the cargo that resolves the report: the
//! release each names (read by the flake reader with its bindings followed, or found in
//! the toolchain's text), and the warning that says so.

use std::collections::BTreeSet;

use crate::cargo::run::CargoInfo;
use crate::cargo::toolchain::ToolchainOrigin;
use crate::phase::{Note, Phase, PhaseSet};

/// Phases whose flake names a Rust release (`rust-bin.stable."1.82.0"`, or one the flake
/// reader followed through bindings: `stable.${msrv}`, `toolchainOf { channel = v; }`,
/// `fromRustupToolchainFile`) other than the cargo that resolved the report: one warning
/// per such toolchain, with the command that installs it when rustup lacks it.
pub fn mismatches(set: &PhaseSet, cargo: &CargoInfo) -> Vec<Note> {
    let mut seen = BTreeSet::new();
    set.phases
        .iter()
        .filter_map(|phase| {
            let toolchain = phase.toolchain.as_deref()?;
            let release = phase.toolchain_release.clone();
            let Some(release) = release.or_else(|| rust_release_in(toolchain)) else {
                return floating_mismatch(phase, toolchain, cargo, &mut seen);
            };
            let same = cargo.release == release
                || cargo.release.starts_with(&format!("{release}."));
            if same || !seen.insert(toolchain.to_string()) {
                return None;
            }
            let install = if installed(&release) {
                String::new()
            } else {
                format!(
                    " (not installed: `rustup toolchain install {release} --profile minimal`)"
                )
            };
            let text = format!(
                "`{}` builds with Rust {release} ({toolchain}), but cargo {} resolved this report: another toolchain can resolve other units; pin {release} in rust-toolchain.toml, or run cache-miss with RUSTUP_TOOLCHAIN={release}{install}",
                phase.name, cargo.release
            );
            Some(Note {
                location: phase.origin.clone(),
                text,
            })
        })
        .collect()
}

/// Whether rustup has the toolchain `release` (digits and dots: see [`rust_release_in`])
/// installed; never installs it. No rustup: not installed.
fn installed(release: &str) -> bool {
    std::process::Command::new("rustup")
        .args(["run", release, "cargo", "--version"])
        .env("RUSTUP_AUTO_INSTALL", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A phase whose toolchain follows a channel (`rust-bin.stable.latest`) while the cargo
/// resolving the report is pinned by a toolchain file to another one: a warning.
/// (`RUSTUP_TOOLCHAIN` is not a pin here: rustup sets it for every tool it runs.)
fn floating_mismatch(
    phase: &Phase,
    toolchain: &str,
    cargo: &CargoInfo,
    seen: &mut BTreeSet<String>,
) -> Option<Note> {
    let channel = crate::crane::functions::floating_channel(toolchain)?;
    let pinned = &cargo.toolchain.origin;
    let pinned_name = cargo.toolchain.toolchain.as_deref().unwrap_or_default();
    let same_channel = ["stable", "beta", "nightly"]
        .iter()
        .any(|c| pinned_name.starts_with(c) && channel.contains(c));
    if !matches!(pinned, ToolchainOrigin::File(_))
        || same_channel
        || !seen.insert(toolchain.to_string())
    {
        return None;
    }
    Some(Note {
        location: phase.origin.clone(),
        text: format!(
            "`{}` builds with {channel} ({toolchain}), but cargo {} (pinned by {pinned}) resolved this report: another toolchain can resolve other units, so this phase's results hold for {} only",
            phase.name, cargo.release, cargo.release
        ),
    })
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
