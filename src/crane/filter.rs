//! crane's `filterCargoSources` (`lib/filterCargoSources.nix`), the filter of
//! `craneLib.cleanCargoSource`.

use std::path::Path;

use super::base_name;

/// Whether crane's `filterCargoSources` keeps `relative` (a path relative to the source
/// root): every directory, `*.rs`, `*.toml`, `Cargo.lock`, and a file named `config` in a
/// directory named `.cargo`.
pub(crate) fn filter_cargo_sources(relative: &Path, is_directory: bool) -> bool {
    let base = base_name(relative);
    let parent = relative.parent().map(base_name).unwrap_or_default();
    is_directory
        || base.ends_with(".rs")
        || base.ends_with(".toml")
        || base == "Cargo.lock"
        || (parent == ".cargo" && base == "config")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_crane_writes() {
        for (path, is_directory) in [
            ("docs", true),
            ("src/lib.rs", false),
            ("Cargo.toml", false),
            ("deny.toml", false),
            ("a/b/deny.toml", false),
            ("Cargo.lock", false),
            (".cargo/config", false),
            ("a/.cargo/config", false),
        ] {
            assert!(
                filter_cargo_sources(Path::new(path), is_directory),
                "{path}"
            );
        }
        for path in [
            "README.md",
            "flake.nix",
            "config",
            "src/Cargo.lock.bak",
            "src/schema.graphql",
            ".cargo/config.json",
        ] {
            assert!(!filter_cargo_sources(Path::new(path), false), "{path}");
        }
    }
}
