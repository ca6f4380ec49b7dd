//! Each phase's source as a set of files: what Nix would copy (the files git knows, or the
//! directory), then the filters with their real semantics. The flake reader evaluates a
//! phase's `src` into a [`SourceSet`]; `touch` and the source findings read it.
//!
//! The rooms: `tree` (the listing before any filter), `filters` (the rules known natively
//! and the walk that applies a filter as Nix does), `dummy` (crane's `mkDummySrc`: what a
//! deps-only derivation is built from).

pub(crate) mod filters;
pub(crate) mod tree;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use filters::{Decision, KnownFilter, Walked, walk};
pub(crate) use tree::{EntryType, Listing, SourceTree};

/// How a source is filtered, as far as the findings need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SourceKind {
    /// The directory as is (`./.`, `self`, `lib.cleanSource ./.`, `craneLib.path ./.`).
    Unfiltered,
    /// crane's cargo filter alone (`cleanCargoSource`, `filterCargoSources`).
    CargoOnly,
    /// Any other filter or file set.
    Filtered,
    /// crane's `mkDummySrc` of a source.
    Dummy,
    /// A buildDepsOnly's `dummySrc` given as a plain source: every file of it is an input.
    DummyGiven,
}

/// A part of a source the evaluator could not decide: the filter as written and the paths
/// it could not decide for (kept in the set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecided {
    pub filter: String,
    pub why: String,
    /// How many paths, and the first of them (relative to the source's root).
    pub paths: usize,
    pub example: Option<PathBuf>,
}

/// A phase's source as files. Produced by the flake reader from the phase's `src`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSet {
    /// The directory the source is made from (its root once in the store).
    pub root: PathBuf,
    /// The expression as written.
    pub text: String,
    pub kind: SourceKind,
    pub listing: Listing,
    /// Relative to `root`.
    pub files: Arc<BTreeSet<PathBuf>>,
    /// Every directory in the source, empty ones included (crane's cargo filter keeps every
    /// directory).
    pub dirs: Arc<BTreeSet<PathBuf>>,
    /// Non-empty: the set is approximate.
    pub undecided: Vec<Undecided>,
    /// Files outside the set that are inputs of the derivation as they are (a
    /// `cargoLock = ./nix/Cargo.lock;`, the files of a local `cargoVendorDir`), absolute.
    pub extra_inputs: Vec<PathBuf>,
}

impl SourceSet {
    /// `root` with the files a walk kept.
    pub fn new(
        root: &Path,
        text: &str,
        kind: SourceKind,
        listing: Listing,
        walked: Walked,
    ) -> SourceSet {
        SourceSet {
            root: root.to_path_buf(),
            text: text.to_string(),
            kind,
            listing,
            files: Arc::new(walked.files),
            dirs: Arc::new(walked.dirs),
            undecided: Vec::new(),
            extra_inputs: Vec::new(),
        }
    }

    /// `path` (absolute) relative to the root, when it is below it.
    pub fn relative<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        path.strip_prefix(&self.root).ok()
    }

    /// Whether the file `path` (absolute) is in the source.
    pub fn contains(&self, path: &Path) -> bool {
        self.relative(path).is_some_and(|r| self.files.contains(r))
    }

    /// Whether the directory `path` (absolute) is in the source.
    pub fn contains_dir(&self, path: &Path) -> bool {
        self.relative(path)
            .is_some_and(|r| r.as_os_str().is_empty() || self.dirs.contains(r))
    }

    pub fn is_approximate(&self) -> bool {
        !self.undecided.is_empty()
    }
}
