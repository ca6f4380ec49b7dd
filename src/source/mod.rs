//! Everything that produces phases: the phases file (`phases_file.rs`), crane's
//! quick-start set (`quickstart.rs`), the static flake reader (`flake/`), the user's own
//! Nix (`nix/`), the two readings compared (`compare.rs`), and the loading that picks one
//! and applies `--only`/`--exclude`/`--set` (`load.rs`).

pub(crate) mod compare;
pub(crate) mod flake;
pub(crate) mod load;
pub(crate) mod nix;
pub(crate) mod phases_file;
pub(crate) mod quickstart;
