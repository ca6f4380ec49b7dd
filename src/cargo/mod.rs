//! Everything that talks to cargo: which call resolves a phase command, running it, and
//! the wire formats it answers in.

pub(crate) mod cache;
pub(crate) mod cache_admin;
pub(crate) mod env_inputs;
pub(crate) mod inputs;
pub(crate) mod invocation;
pub(crate) mod metadata;
pub(crate) mod package_id;
pub(crate) mod program_inputs;
pub(crate) mod regular;
pub(crate) mod run;
pub(crate) mod selection;
pub(crate) mod toolchain;
pub(crate) mod unit_graph;
pub(crate) mod untrusted;

pub(crate) use cache::ResolutionCache;
pub use cache::{CacheLocation, CacheStats};
pub use invocation::Invocation;
pub(crate) use invocation::{Plan, plan};
pub(crate) use package_id::PackageId;
pub use run::CargoRunner;
pub use selection::{Selection, SelectionFlag};
pub(crate) use unit_graph::UnitGraph;
