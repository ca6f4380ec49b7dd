//! Everything that talks to cargo: which call resolves a phase command, running it, and
//! the wire formats it answers in.

pub mod cache;
pub mod cache_admin;
pub mod inputs;
pub mod invocation;
pub mod metadata;
pub mod package_id;
pub mod program_inputs;
pub mod regular;
pub mod run;
pub mod selection;
pub mod toolchain;
pub mod unit_graph;
pub mod untrusted;

pub use cache::{CacheLocation, CacheStats, ResolutionCache};
pub use invocation::{Invocation, Plan, plan};
pub use package_id::PackageId;
pub use run::CargoRunner;
pub use selection::{Selection, SelectionFlag};
pub use unit_graph::UnitGraph;
