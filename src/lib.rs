//! cache-miss: predicts which dependency units each crane phase recompiles instead of
//! reusing the deps-only artifact, and why.

pub mod cargo;
pub mod diff;
pub mod explain;
pub mod findings;
pub mod fix;
pub mod flake;
pub mod input;
pub mod phase;
pub mod plan;
pub mod progress;
pub mod render;
pub mod report;
pub mod verify;
