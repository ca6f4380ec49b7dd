//! cache-miss: predicts which dependency units each crane phase recompiles instead of
//! reusing the deps-only artifact, and why.

pub mod cargo;
pub mod diff;
pub mod findings;
pub mod fix;
pub mod flake;
pub mod phase;
pub mod render;
pub mod report;
pub mod source;
pub mod verify;
