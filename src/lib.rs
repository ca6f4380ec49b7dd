//! cache-miss: predicts which dependency units each crane phase recompiles instead of
//! reusing the deps-only artifact, and why.
//!
//! The pipeline, each stage a module that only uses the ones before it:
//!
//! ```text
//! crane     crane's rules: its functions, attribute names, mkDummySrc, filterCargoSources
//! source    phases file, static flake reader (flake/), Nix itself (nix/), or crane's
//!           quick-start set -> PhaseSpecs; load.rs picks one and applies the overrides
//! phase     crane's semantics (from crane/) -> PhaseSet: each phase's cargo commands
//! plan      the distinct cargo calls every phase needs
//! cargo     running cargo: --unit-graph, metadata, version; the wire formats;
//!           Selection, what a command selects (packages, features, targets), typed
//! diff      unit graphs -> misses (pure, deep unit identities)
//! explain   misses -> typed causes, triggers, requests, fixes (display.rs words them)
//! findings  hazards that are not unit differences
//! costs     measured seconds per unit (verify JSON, cargo-timing.html, costs files)
//! session   the runner of a run and what analyses derive from its answers (graphs, ids)
//! report    the orchestration of the above -> Report; weighing by costs; baselines
//! verify    ground truth: the phases replayed with real builds
//! fix       changes to the deps-only phases, each proved by another analysis
//! touch     which phase derivations an edit rebuilds, and what cargo recompiles then
//!           (each phase's source as files: source_set, evaluated by the flake reader)
//! render    the Block model and its backends: tables, markdown, HTML, DOT, JSON (each
//!           command's display.rs words its own document)
//! ```
//!
//! Two leaves every stage may read: `located` (places in the user's files, notes and
//! located errors) and `cargo_options` (which cargo options take a value).
//!
//! The binary (`main.rs`) parses arguments, passes progress in, and maps errors to exit
//! codes; it and the benchmarks use only what is re-exported here.

#![deny(clippy::string_slice)]
#![warn(unreachable_pub)]

mod cargo;
mod cargo_options;
mod costs;
mod crane;
mod diff;
mod explain;
mod findings;
mod fix;
mod interrupt;
mod located;
mod parallel;
mod phase;
mod plan;
mod progress;
mod rebuild;
mod render;
mod report;
mod session;
mod source;
mod source_set;
mod text;
mod touch;
mod user_file;
mod verify;

/// What the fuzz targets (`fuzz/`) and the property tests drive; not an API.
#[doc(hidden)]
pub mod fuzzing;

pub use cargo::cache_admin::{clean as clean_cache, info as cache_info};
pub use cargo::{CacheLocation, CacheStats, CargoRunner, Invocation, Selection, SelectionFlag};
pub use costs::Costs;
pub use fix::apply as fix_apply;
pub use fix::{
    FixReport, fix_document, fix_json, missed_after as fix_missed_after, propose as propose_fixes,
};
pub use interrupt::{Interrupted, handle_signals};
pub use located::SourceLocation;
pub use phase::{PhaseSet, error_location};
pub use plan::{PhasePlans, plan_phases};
pub use progress::{Progress, Silent};
pub use rebuild::display::{rebuild_document, rebuild_json};
pub use rebuild::revision::{RevisionPhases, load_revision, touch_between};
pub use rebuild::{RebuildReport, RebuildRequest, why_rebuild};
pub use render::compare::{compare_document, render_compare};
pub use render::document::Block;
pub use render::{Format, graph, html, json, markdown, table};
pub use report::analyze::analyze_loaded;
pub use report::display::{RootRows, document, findings_document, phase_graph, phases_document};
pub use report::github;
pub use report::json::{findings_json, phases_json, report_json};
pub use report::run::{ReportRequest, run as run_report};
pub use report::{PhaseSummary, Report};
pub use session::Session;
pub use source::compare::{Difference, compare as compare_phases};
pub use source::flake::read_flake_str;
pub use source::load::{LoadedPhases, Override, PhaseSourceOptions, load_phases};
pub use source::nix::NixOptions;
pub use source::phases_file::{read_phases_file, write_phases_file};
pub use text::terminal as escape_for_terminal;
pub use touch::{TouchOptions, TouchReport, touch, touch_document, touch_json};
pub use verify::timing::{TIMING_LOG_ENV, wrap_rustc};
pub use verify::{verify, verify_document, verify_json};
