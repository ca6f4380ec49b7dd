//! The binary's rooms beside `main.rs`: reading phases with Nix (`--nix`, `phases
//! --compare`, `why-rebuild`, `touch --nix`), `fix --apply`, `cache`, output and progress.

pub(crate) mod apply;
pub(crate) mod cache;
pub(crate) mod nix;
pub(crate) mod output;
pub(crate) mod progress;
