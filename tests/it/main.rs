//! The integration tests: one binary, one module per capability, all through the real
//! `cache-miss` binary and real cargo on fixtures copied to temp dirs.

mod cache_truth;
mod cargo_versions;
mod ci;
mod ci_safety;
mod command_overrides;
mod common;
mod corpus;
mod findings;
mod fix;
mod fix_apply;
mod flake_idioms;
mod flake_reader;
mod golden;
mod hostile;
mod nix;
mod phase_status;
mod pictures;
mod rebuild;
mod report_errors;
mod report_scenarios;
mod resolution_cache;
mod schema;
mod signals;
mod touch;
mod untrusted_programs;
mod verify;
