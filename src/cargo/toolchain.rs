//! Which toolchain's cargo resolves the phases: the one the workspace pins, as rustup
//! picks it (`RUSTUP_TOOLCHAIN`, then `rust-toolchain.toml` or `rust-toolchain` in the
//! workspace's directory or above), else the default. Made explicit so that every cargo
//! call uses it wherever it runs, and so the report can say which cargo answered.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where the toolchain choice comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolchainOrigin {
    /// The user's `RUSTUP_TOOLCHAIN`.
    Environment,
    /// A `rust-toolchain.toml` or `rust-toolchain` file.
    File(PathBuf),
    /// Nothing pins one: rustup's default, or whatever `cargo` is on PATH.
    Default,
    /// The installed rustup toolchain (`1.48.0`, `1.48`) that is the Rust release a phase's
    /// crane lib builds with: the phases on that lib are resolved with its cargo.
    Release(String),
}

/// The toolchain cargo runs with. Produced by [`ToolchainChoice::for_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolchainChoice {
    /// The channel (`1.76.0`, `stable`, `nightly-2024-01-01`) or toolchain path the origin
    /// names; `None` for the default, or for a file that names none.
    pub toolchain: Option<String>,
    pub origin: ToolchainOrigin,
}

/// The toolchain files rustup reads, in its order of preference within one directory.
const TOOLCHAIN_FILES: [&str; 2] = ["rust-toolchain", "rust-toolchain.toml"];

impl ToolchainChoice {
    /// What rustup would pick for cargo run in `dir`, with `environment` as
    /// `RUSTUP_TOOLCHAIN`'s value. (rustup's `override set` entries are not read: Nix builds
    /// know nothing of them.)
    pub fn for_dir(dir: &Path, environment: Option<String>) -> ToolchainChoice {
        if let Some(toolchain) = environment.filter(|t| !t.is_empty()) {
            return ToolchainChoice {
                toolchain: Some(toolchain),
                origin: ToolchainOrigin::Environment,
            };
        }
        let file = dir.ancestors().find_map(|dir| {
            TOOLCHAIN_FILES
                .iter()
                .map(|name| dir.join(name))
                .find(|path| path.is_file())
        });
        match file {
            Some(file) => ToolchainChoice {
                toolchain: std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|text| pinned_toolchain(&text)),
                origin: ToolchainOrigin::File(file),
            },
            None => ToolchainChoice {
                toolchain: None,
                origin: ToolchainOrigin::Default,
            },
        }
    }

    /// The command that installs the chosen toolchain.
    pub fn install_command(&self) -> String {
        format!(
            "rustup toolchain install {} --profile minimal",
            self.toolchain.as_deref().unwrap_or("stable")
        )
    }
}

/// A chosen toolchain rustup has not installed: the message says which and how to install
/// it. Told apart from other failures of cargo by its type.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct NotInstalled(pub String);

/// `[toolchain] channel = "…"` (or `path = "…"`) of a toolchain file, or the legacy
/// one-line form.
pub(crate) fn pinned_toolchain(text: &str) -> Option<String> {
    if let Ok(file) = toml::from_str::<toml::Table>(text) {
        let toolchain = file.get("toolchain")?.as_table()?;
        let pinned = toolchain.get("channel").or_else(|| toolchain.get("path"))?;
        return pinned.as_str().map(str::to_string);
    }
    let line = text.trim();
    (!line.is_empty() && !line.contains(char::is_whitespace)).then(|| line.to_string())
}

/// `rust-toolchain.toml at /ws/rust-toolchain.toml`, `RUSTUP_TOOLCHAIN`, `the default toolchain`.
impl fmt::Display for ToolchainOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolchainOrigin::Environment => f.write_str("RUSTUP_TOOLCHAIN"),
            ToolchainOrigin::File(path) => write!(f, "{}", path.display()),
            ToolchainOrigin::Default => f.write_str("the default toolchain"),
            ToolchainOrigin::Release(release) => {
                write!(f, "the Rust {release} a phase's crane lib builds with")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_files_in_both_forms() {
        assert_eq!(
            pinned_toolchain("[toolchain]\nchannel = \"1.76.0\"\ncomponents = [\"clippy\"]\n"),
            Some("1.76.0".into())
        );
        assert_eq!(
            pinned_toolchain("[toolchain]\npath = \"/opt/rust\"\n"),
            Some("/opt/rust".into())
        );
        assert_eq!(
            pinned_toolchain("nightly-2024-01-01\n"),
            Some("nightly-2024-01-01".into())
        );
        assert_eq!(
            pinned_toolchain("[toolchain]\nprofile = \"minimal\"\n"),
            None
        );
    }

    #[test]
    fn the_environment_then_the_nearest_file_then_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("crates").join("member");
        std::fs::create_dir_all(&member).unwrap();
        let choice = ToolchainChoice::for_dir(&member, None);
        assert_eq!(choice.toolchain, None);
        // The temp dir may sit below a toolchain file of its own: only check the kind.
        let file = dir.path().join("rust-toolchain.toml");
        std::fs::write(&file, "[toolchain]\nchannel = \"1.76.0\"\n").unwrap();
        let choice = ToolchainChoice::for_dir(&member, None);
        assert_eq!(choice.toolchain.as_deref(), Some("1.76.0"));
        assert_eq!(choice.origin, ToolchainOrigin::File(file));
        assert_eq!(
            choice.install_command(),
            "rustup toolchain install 1.76.0 --profile minimal"
        );
        // rustup prefers the legacy file when both are present.
        std::fs::write(dir.path().join("rust-toolchain"), "1.80.0\n").unwrap();
        let choice = ToolchainChoice::for_dir(&member, None);
        assert_eq!(choice.toolchain.as_deref(), Some("1.80.0"));
        let choice = ToolchainChoice::for_dir(&member, Some("nightly".into()));
        assert_eq!(
            choice,
            ToolchainChoice {
                toolchain: Some("nightly".into()),
                origin: ToolchainOrigin::Environment
            }
        );
    }
}
