//! Where phases come from besides the phases file and the static flake reader: the
//! user's own Nix (`nix/`).

pub mod compare;
pub(crate) mod nix;
