//! crane's rules, once: its functions and what their phases run (`functions.rs`), the
//! attribute names it and the derivation under it read (`attrs.rs`), `mkDummySrc` and
//! `cleanCargoToml` (`dummy_src.rs`), and `filterCargoSources` (`filter.rs`). Each follows
//! crane's `lib/*.nix`; everything that applies crane's semantics asks here.

pub(crate) mod attrs;
pub(crate) mod dummy_src;
pub(crate) mod filter;
pub(crate) mod functions;

pub(crate) use functions::CraneFunction;

use std::path::Path;

/// The last component of a path, as `baseNameOf` gives it.
pub(crate) fn base_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}
