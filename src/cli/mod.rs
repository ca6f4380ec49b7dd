//! The binary's rooms beside `main.rs`: reading phases with Nix (`--nix`, `phases
//! --compare`, `why-rebuild`, `touch --nix`) and progress output.

pub(crate) mod apply;
pub(crate) mod nix;
pub(crate) mod output;
pub(crate) mod progress;
