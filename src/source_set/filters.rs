//! The source filters whose rules are known without evaluating Nix, as their Nix source
//! defines them (nixpkgs `lib/sources.nix`, crane's `lib/filterCargoSources.nix`), and the
//! walk that applies a filter the way Nix does: directories first, and a rejected
//! directory drops everything below it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub(crate) use crate::crane::base_name;
use crate::crane::filter::filter_cargo_sources;

use super::tree::EntryType;

/// A filter's answer for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Keep,
    Drop,
    /// The evaluator could not decide (the path is kept, and the set is approximate).
    Undecided,
}

impl Decision {
    pub(crate) fn of(keep: bool) -> Decision {
        if keep { Decision::Keep } else { Decision::Drop }
    }
}

/// A filter whose rule is known natively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KnownFilter {
    /// nixpkgs `lib.cleanSourceFilter` (`lib.cleanSource`).
    CleanSource,
    /// crane's `filterCargoSources` (`craneLib.cleanCargoSource`).
    CargoSources,
    /// nixpkgs `lib.sourceByRegex`: a path relative to the original source matching one
    /// of the regular expressions (POSIX extended, the whole path).
    Regex(Vec<String>),
    /// nixpkgs `lib.sources.sourceFilesBySuffices`: directories, and files whose name ends
    /// with one of the suffixes.
    Suffices(Vec<String>),
    /// numtide `nix-filter { root; include; exclude; }`: a path is kept when an include
    /// matcher matches it (asked with `matchParents`) and no exclude matcher does.
    NixFilter {
        include: Vec<Matcher>,
        exclude: Vec<Matcher>,
    },
}

/// A numtide `nix-filter` matcher, with paths relative to the filter's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matcher {
    /// A path or string given as a matcher (`_toMatcher`): the directory and everything in
    /// it, or the file alone. `None`: outside the root (it matches nothing).
    Path {
        path: Option<PathBuf>,
        is_dir: bool,
    },
    /// `inDirectory dir`: the directory and everything in it, without its parents.
    InDirectory(Option<PathBuf>),
    /// `matchExt ext`: the path ends with `.ext`.
    Ext(String),
    /// `matchName name`: the base name is `name`.
    Name(String),
    /// `isDirectory`.
    IsDirectory,
    And(Box<Matcher>, Box<Matcher>),
    Or(Box<Matcher>, Box<Matcher>),
    /// Matches nothing (`traceUnmatched`, the empty default of `exclude`).
    Never,
    /// Matches everything (the default `include`).
    Always,
    /// A matcher the evaluator cannot apply natively (a user's `args: path: type: …`).
    Unknown(String),
}

impl Matcher {
    /// Whether it matches `relative` of type `kind`; `None` when it cannot be known.
    /// `match_parents`: a path matcher also matches the directories above its path (so
    /// that Nix's walk reaches it), as nix-filter asks include matchers.
    pub(crate) fn matches(
        &self,
        relative: &Path,
        kind: EntryType,
        match_parents: bool,
    ) -> Option<bool> {
        let is_dir = kind == EntryType::Directory;
        Some(match self {
            Matcher::Path { path: None, .. } | Matcher::InDirectory(None) | Matcher::Never => false,
            Matcher::Always => true,
            Matcher::Path {
                path: Some(path),
                is_dir: path_is_dir,
            } => {
                let own = if *path_is_dir {
                    relative.starts_with(path)
                } else {
                    relative == path
                };
                own || (match_parents && is_dir && path.starts_with(relative) && path != relative)
            }
            Matcher::InDirectory(Some(dir)) => relative.starts_with(dir),
            Matcher::Ext(ext) => {
                let text = relative.to_string_lossy();
                text.len() > ext.len() && text.ends_with(ext.as_str()) && {
                    let at = text.len() - ext.len() - 1;
                    text.as_bytes()[at] == b'.'
                }
            }
            Matcher::Name(name) => base_name(relative) == name,
            Matcher::IsDirectory => is_dir,
            Matcher::And(a, b) => {
                let (a, b) = (
                    a.matches(relative, kind, match_parents),
                    b.matches(relative, kind, match_parents),
                );
                match (a, b) {
                    (Some(false), _) | (_, Some(false)) => false,
                    (Some(true), Some(true)) => true,
                    _ => return None,
                }
            }
            Matcher::Or(a, b) => {
                let (a, b) = (
                    a.matches(relative, kind, match_parents),
                    b.matches(relative, kind, match_parents),
                );
                match (a, b) {
                    (Some(true), _) | (_, Some(true)) => true,
                    (Some(false), Some(false)) => false,
                    _ => return None,
                }
            }
            Matcher::Unknown(_) => return None,
        })
    }
}

/// `builtins.any (f: f path type) matchers`, where a matcher may be unknown.
fn any_matches(
    matchers: &[Matcher],
    relative: &Path,
    kind: EntryType,
    match_parents: bool,
) -> Option<bool> {
    let mut known = Some(false);
    for matcher in matchers {
        match matcher.matches(relative, kind, match_parents) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => known = None,
        }
    }
    known
}

impl KnownFilter {
    /// Whether it keeps `relative` (to the source's root) of type `kind`.
    pub(crate) fn keeps(&self, relative: &Path, kind: EntryType) -> Decision {
        let base = base_name(relative);
        match self {
            KnownFilter::CleanSource => Decision::of(clean_source_keeps(base, kind)),
            KnownFilter::CargoSources => {
                Decision::of(filter_cargo_sources(relative, kind == EntryType::Directory))
            }
            KnownFilter::Regex(regexes) => {
                let text = relative.to_string_lossy();
                let mut decision = Decision::Drop;
                for regex in regexes {
                    match nix_match(regex, &text) {
                        Some(true) => return Decision::Keep,
                        Some(false) => {}
                        None => decision = Decision::Undecided,
                    }
                }
                decision
            }
            KnownFilter::Suffices(suffixes) => Decision::of(
                kind == EntryType::Directory || suffixes.iter().any(|s| base.ends_with(s.as_str())),
            ),
            KnownFilter::NixFilter { include, exclude } => {
                let included = any_matches(include, relative, kind, true);
                let excluded = any_matches(exclude, relative, kind, false);
                match (included, excluded) {
                    (Some(false), _) | (_, Some(true)) => Decision::Drop,
                    (Some(true), Some(false)) => Decision::Keep,
                    _ => Decision::Undecided,
                }
            }
        }
    }
}

/// nixpkgs `cleanSourceFilter`: drops version-control directories, editor backups and swap
/// files, `.o`/`.so` files and `result*` symlinks.
pub(crate) fn clean_source_keeps(base: &str, kind: EntryType) -> bool {
    let vcs = base == ".git"
        || (kind == EntryType::Directory
            && matches!(base, ".svn" | "CVS" | ".hg" | ".jj" | ".pijul" | "_darcs"));
    let swap = is_swap_file(base);
    let generated = base.ends_with(".o") || base.ends_with(".so");
    let result_link = kind == EntryType::Symlink && base.starts_with("result");
    !(vcs || base.ends_with('~') || swap || generated || result_link)
}

/// `^\.sw[a-z]$` or `^\..*\.sw[a-z]$`.
fn is_swap_file(base: &str) -> bool {
    let bytes = base.as_bytes();
    let n = bytes.len();
    n >= 4
        && bytes[0] == b'.'
        && bytes[n - 1].is_ascii_lowercase()
        && &bytes[n - 3..n - 1] == b"sw"
        && bytes[n - 4] == b'.'
}

/// `builtins.match regex text != null`: Nix matches the whole string with POSIX extended
/// regular expressions. `None` for an expression the regex crate reads otherwise.
pub(crate) fn nix_match(regex: &str, text: &str) -> Option<bool> {
    nix_regex(regex).map(|re| re.is_match(text))
}

/// A Nix regular expression as a `regex` one anchored at both ends. Shared, not cloned:
/// a clone of a `Regex` starts with empty match caches, which cost more than the match.
pub(crate) fn nix_regex(regex: &str) -> Option<Rc<regex::Regex>> {
    thread_local! {
        // A filter calls `builtins.match` with the same expression for every path.
        static COMPILED: std::cell::RefCell<HashMap<String, Option<Rc<regex::Regex>>>> =
            std::cell::RefCell::new(HashMap::new());
    }
    COMPILED.with(|compiled| {
        if let Some(known) = compiled.borrow().get(regex) {
            return known.clone();
        }
        // Character classes POSIX has and the regex crate spells alike ([[:alpha:]])
        // work; back-references do not exist in either.
        let made = regex::Regex::new(&format!("^(?:{regex})$"))
            .ok()
            .map(Rc::new);
        compiled
            .borrow_mut()
            .insert(regex.to_string(), made.clone());
        made
    })
}

/// What a filter walk kept. Produced by [`walk`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walked {
    /// Relative to the source root.
    pub files: BTreeSet<PathBuf>,
    /// Every directory kept, empty ones included.
    pub dirs: BTreeSet<PathBuf>,
    /// Paths the filter could not decide (kept).
    pub undecided: Vec<PathBuf>,
}

/// Applies `decide` to `files` (relative to the source root, sorted) the way Nix copies a
/// filtered path: each directory is asked first, and a rejected one is not entered. The
/// files of a directory are contiguous in sorted order, so the open directories are a
/// stack: each directory is asked once.
pub(crate) fn walk(
    files: &[(PathBuf, EntryType)],
    mut decide: impl FnMut(&Path, EntryType) -> Decision,
) -> Walked {
    let mut kept_files = Vec::new();
    let mut kept_dirs = Vec::new();
    let mut undecided = Vec::new();
    // The directories entered above the current file: (path, kept).
    let mut open: Vec<(PathBuf, bool)> = Vec::new();
    for (file, kind) in files {
        let parent = file.parent().unwrap_or(Path::new(""));
        while open.last().is_some_and(|(dir, _)| !parent.starts_with(dir)) {
            open.pop();
        }
        let mut inside = open.last().is_none_or(|(_, kept)| *kept);
        if inside {
            let depth = open.len();
            for dir in parent
                .ancestors()
                .take_while(|d| !d.as_os_str().is_empty())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .skip(depth)
            {
                let decision = decide(dir, EntryType::Directory);
                if decision == Decision::Undecided {
                    undecided.push(dir.to_path_buf());
                }
                let kept = decision != Decision::Drop;
                if kept {
                    kept_dirs.push(dir.to_path_buf());
                }
                open.push((dir.to_path_buf(), kept));
                if !kept {
                    inside = false;
                    break;
                }
            }
        }
        if !inside {
            continue;
        }
        match decide(file, *kind) {
            Decision::Keep => kept_files.push(file.clone()),
            Decision::Undecided => {
                undecided.push(file.clone());
                kept_files.push(file.clone());
            }
            Decision::Drop => {}
        }
    }
    Walked {
        files: kept_files.into_iter().collect(),
        dirs: kept_dirs.into_iter().collect(),
        undecided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_source_filter_as_nixpkgs_writes_it() {
        use EntryType::*;
        for (base, kind) in [
            (".git", Directory),
            (".git", Regular),
            (".hg", Directory),
            ("_darcs", Directory),
            ("notes.txt~", Regular),
            (".swp", Regular),
            (".main.rs.swo", Regular),
            ("lib.o", Regular),
            ("libx.so", Regular),
            ("result", Symlink),
            ("result-bin", Symlink),
        ] {
            assert!(!clean_source_keeps(base, kind), "{base} {kind:?}");
        }
        for (base, kind) in [
            (".hg", Regular),
            ("result", Regular),
            (".sw", Regular),
            ("main.rs", Regular),
            (".swap", Regular),
            ("x.sox", Regular),
        ] {
            assert!(clean_source_keeps(base, kind), "{base} {kind:?}");
        }
    }

    #[test]
    fn regexes_match_the_whole_relative_path() {
        let filter = KnownFilter::Regex(vec!["src".into(), "src/.*".into(), "Cargo\\..*".into()]);
        assert_eq!(
            filter.keeps(Path::new("src/main.rs"), EntryType::Regular),
            Decision::Keep
        );
        assert_eq!(
            filter.keeps(Path::new("Cargo.toml"), EntryType::Regular),
            Decision::Keep
        );
        assert_eq!(
            filter.keeps(Path::new("xsrc"), EntryType::Directory),
            Decision::Drop
        );
        assert_eq!(
            filter.keeps(Path::new("README.md"), EntryType::Regular),
            Decision::Drop
        );
    }

    #[test]
    fn a_rejected_directory_drops_everything_below() {
        let files: Vec<(PathBuf, EntryType)> = ["a/b/c.rs", "a/d.rs", "e.rs", "x/y.md"]
            .iter()
            .map(|f| (PathBuf::from(f), EntryType::Regular))
            .collect();
        let walked = walk(&files, |path, kind| {
            Decision::of(
                kind == EntryType::Directory && path != Path::new("a/b")
                    || base_name(path).ends_with(".rs"),
            )
        });
        let kept: Vec<&str> = walked.files.iter().map(|f| f.to_str().unwrap()).collect();
        assert_eq!(kept, ["a/d.rs", "e.rs"]);
        // `x` is kept, empty: a filter keeping every directory keeps it.
        assert!(walked.dirs.contains(Path::new("x")));
        assert!(!walked.dirs.contains(Path::new("a/b")));
    }
}
