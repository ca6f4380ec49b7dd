//! Source findings: a crane `src` that is the raw flake directory, and a cargo-only
//! filter (`cleanCargoSource`) that drops files the build reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::fileset_fix::FilesetFix;
use super::reads::{ReadKind, Reader, files_read};
use super::{Finding, FindingId, FindingsInput, Severity, and_list, finding};
use crate::crane::filter::filter_cargo_sources;
use crate::phase::{AttrValue, CraneFunction, Phase};
use crate::source_set::{SourceKind, SourceSet};

/// How a phase's `src` expression filters the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceFilter {
    /// `./.`, `self`, `lib.cleanSource ./.`: every file is an input.
    Unfiltered,
    /// `craneLib.cleanCargoSource` / `filterCargoSources`: only what cargo reads.
    CargoOnly,
    /// Some other filter (`lib.fileset`, `cleanSourceWith`, ...).
    Other,
}

/// Classifies a `src` expression's text.
pub(crate) fn classify_src(text: &str) -> SourceFilter {
    let text = text.trim();
    let cargo_only = text.contains("cleanCargoSource") || text.contains("filterCargoSources");
    let adds_files = text.contains("fileset.unions") || text.contains("fileset.union ");
    if cargo_only && !adds_files {
        SourceFilter::CargoOnly
    } else if is_raw_directory(text) {
        SourceFilter::Unfiltered
    } else {
        SourceFilter::Other
    }
}

/// `./.`, `self`, `inputs.self`, `lib.cleanSource ./.`, `craneLib.path ./.`,
/// `builtins.path { path = ./.; name = "source"; }`: the directory with nothing left out
/// but what git ignores. Anything else (a filter, a value the reader could not know) is not.
fn is_raw_directory(text: &str) -> bool {
    const DIRECTORY: &[&str] = &["./.", "./", ".", "self", "inputs.self", "../.", "./.."];
    const WRAPPERS: &[&str] = &[
        "lib.cleanSource",
        "pkgs.lib.cleanSource",
        "nixpkgs.lib.cleanSource",
        "craneLib.path",
        "builtins.path",
        "path",
        "name",
        "=",
    ];
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || "(){};".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| DIRECTORY.contains(w))
        && words.iter().all(|w| {
            DIRECTORY.contains(w)
                || WRAPPERS.contains(w)
                || (w.starts_with('"') && w.ends_with('"'))
        })
}

fn src_text(phase: &Phase) -> Option<&str> {
    match phase.attrs.get("src")? {
        AttrValue::Str(text) | AttrValue::Unknown(text) => Some(text),
        _ => None,
    }
}

/// Files under the source root as a flake would see them: `.gitignore`d files and `.git`
/// left out. Relative paths, sorted.
fn source_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git" && e.file_name() != "target")
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter_map(|e| e.path().strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    files.sort();
    files
}

/// `src-not-filtered`: phases built from the raw directory, with the files in it that no
/// build reads (each of which, when edited, rebuilds every phase).
pub(crate) fn unfiltered_source(input: &FindingsInput) -> Option<Finding> {
    if evaluated_phases(input).next().is_some() {
        return unread_files_in_sources(input);
    }
    let phases: Vec<&Phase> = input
        .phases()
        .filter(|p| src_text(p).is_some_and(|t| classify_src(t) == SourceFilter::Unfiltered))
        .collect();
    let first = phases.first()?;
    let read = files_read_by_build(input);
    let unused: Vec<PathBuf> = source_files(input.source_root)
        .into_iter()
        .filter(|f| !filter_cargo_sources(f, false) && !read.contains_key(f))
        .collect();
    if unused.is_empty() {
        return None;
    }
    let names: Vec<String> = phases.iter().map(|p| format!("`{}`", p.name)).collect();
    let src = src_text(first).unwrap_or_default();
    let fix = cargo_only_fix(input.source_root, &read, None, first.crane_lib.as_deref());
    Some(finding(
        FindingId::SrcNotFiltered,
        Severity::Warning,
        first.origin.clone(),
        format!(
            "{} build from the unfiltered source (src = {src}): every file in it is an input of every phase, deps-only included, so editing any of these {} files, which no build reads, rebuilds everything from scratch: {}",
            and_list(&names),
            unused.len(),
            group_by_top_level(&unused)
        ),
        fix,
    ))
}

/// The analysed phases whose `src` is known as files and is theirs (a deps-only phase
/// builds from crane's dummy source, which no such file reaches).
fn evaluated_phases<'a>(
    input: &'a FindingsInput,
) -> impl Iterator<Item = (&'a Phase, &'a SourceSet)> + 'a {
    input.phases().filter_map(|phase| {
        let source = phase.source.as_deref()?;
        let own =
            phase.function != CraneFunction::BuildDepsOnly && source.kind != SourceKind::Dummy;
        own.then_some((phase, source))
    })
}

/// `src-not-filtered` from the evaluated sources: the files in a phase's `src` that no
/// cargo build reads, and the phases an edit of any of them rebuilds.
fn unread_files_in_sources(input: &FindingsInput) -> Option<Finding> {
    let read = files_read_by_build(input);
    let mut unread: BTreeMap<PathBuf, Vec<&Phase>> = BTreeMap::new();
    let mut unfiltered = false;
    let mut first_source = None;
    // A filter the user wrote keeps what they chose (test fixtures, snapshots): only the
    // unfiltered directory is judged.
    let unfiltered_phases =
        evaluated_phases(input).filter(|(_, s)| s.kind == SourceKind::Unfiltered);
    for (phase, source) in unfiltered_phases {
        first_source.get_or_insert(source);
        for file in source.files.iter() {
            let absolute = source.root.join(file);
            let relative = absolute
                .strip_prefix(input.source_root)
                .map_or(absolute.clone(), Path::to_path_buf);
            if filter_cargo_sources(file, false) || read.contains_key(&relative) {
                continue;
            }
            unfiltered = true;
            unread.entry(relative).or_default().push(phase);
        }
    }
    let first = unread.values().next()?.first().copied()?;
    let mut phases: Vec<String> = unread
        .values()
        .flatten()
        .map(|p| format!("`{}`", p.name))
        .collect();
    phases.sort();
    phases.dedup();
    let files: Vec<PathBuf> = unread.keys().cloned().collect();
    let fix = if unfiltered {
        cargo_only_fix(
            input.source_root,
            &read,
            first_source,
            first.crane_lib.as_deref(),
        )
    } else {
        let paths = FilesetFix::new(input.source_root, first_source);
        format!(
            "leave them out of the source: lib.fileset.difference <the file set> (lib.fileset.unions [ {} ])",
            top_level_paths(&files, &paths).join(" ")
        )
    };
    Some(finding(
        FindingId::SrcNotFiltered,
        Severity::Warning,
        first.origin.clone(),
        format!(
            "{} file{} in the src of {} that no cargo build reads, so editing any of them rebuilds {}: {}",
            files.len(),
            if files.len() == 1 { " is" } else { "s are" },
            and_list(&phases),
            if phases.len() == 1 { "it" } else { "them" },
            group_by_top_level(&files)
        ),
        fix,
    ))
}

/// `./README.md`, `./docs`: the top-level entries holding `files`.
fn top_level_paths(files: &[PathBuf], paths: &FilesetFix) -> Vec<String> {
    let mut tops: Vec<String> = files
        .iter()
        .filter_map(|f| f.components().next())
        .map(|c| paths.path(Path::new(c.as_os_str())))
        .collect();
    tops.dedup();
    tops
}

/// `flake.nix, README.md, .github/ (2 files)`.
fn group_by_top_level(files: &[PathBuf]) -> String {
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for file in files {
        let mut components = file.components();
        let first = components
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = if components.next().is_some() {
            format!("{first}/")
        } else {
            first
        };
        *groups.entry(key).or_default() += 1;
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(name, count)| {
            if name.ends_with('/') {
                format!("{name} ({count} file{})", if count == 1 { "" } else { "s" })
            } else {
                name
            }
        })
        .collect();
    parts.join(", ")
}

/// Files the build reads at compile time (`include_str!`, `include_bytes!`, `#[path]`, a
/// build script's `rerun-if-changed`), from targets some phase compiles (from `#[cfg(test)]`
/// code only when some phase compiles tests).
fn compile_time_reads(input: &FindingsInput) -> Vec<(PathBuf, Reader)> {
    let compiled = super::compiled::compiled_targets(input);
    // A deps-only phase compiles crane's dummy sources, never the code that reads.
    let tests_compiled = input
        .phases()
        .filter(|phase| phase.function != CraneFunction::BuildDepsOnly)
        .any(|phase| {
            super::compiled::compiled_by(input, phase).is_none_or(|compiles| compiles.tests)
        });
    files_read_by_build(input)
        .into_iter()
        .filter(|(_, reader)| reader.kind.is_compile_time())
        .filter(|(_, reader)| tests_compiled || !reader.test_only)
        .filter(|(_, reader)| {
            compiled.as_ref().is_none_or(|compiled| {
                super::compiled::read_by_compiled_target(input, compiled, reader)
            })
        })
        .collect()
}

/// `src-filter-drops-input`: files the build reads (`include_str!`, `include_bytes!`,
/// `#[path]`, a build script's `rerun-if-changed`) that a cargo-only filter drops; only
/// those read by a target some phase compiles.
pub(crate) fn filter_drops_input(input: &FindingsInput) -> Vec<Finding> {
    if evaluated_phases(input).next().is_some() {
        return inputs_missing_from_sources(input);
    }
    let Some(phase) = input
        .phases()
        .find(|p| src_text(p).is_some_and(|t| classify_src(t) == SourceFilter::CargoOnly))
    else {
        return Vec::new();
    };
    let src = src_text(phase).unwrap_or_default();
    let paths = FilesetFix::new(input.source_root, None);
    compile_time_reads(input)
        .into_iter()
        .filter(|(file, _)| !filter_cargo_sources(file, false))
        .map(|(file, reader)| {
            finding(
                FindingId::SrcFilterDropsInput,
                Severity::Error,
                Some(reader.location.clone()),
                format!(
                    "`{}` reads {}, but the source filter (src = {src}) keeps only *.rs, *.toml, Cargo.lock and .cargo/config, so the file is missing in the Nix build.",
                    reader.code,
                    file.display()
                ),
                paths.add(input.source_root, None, &file),
            )
        })
        .collect()
}

/// `src-filter-drops-input` from the evaluated sources: each file the build reads that a
/// phase's `src` lacks, by phase.
fn inputs_missing_from_sources(input: &FindingsInput) -> Vec<Finding> {
    let read = compile_time_reads(input);
    let mut findings = Vec::new();
    for (phase, source) in evaluated_phases(input) {
        let mut paths = None;
        let compiles = super::compiled::compiled_by(input, phase);
        let reads_it = |reader: &Reader| {
            compiles.as_ref().is_none_or(|compiles| {
                (compiles.tests || !reader.test_only)
                    && super::compiled::read_by_compiled_target(input, &compiles.targets, reader)
            })
        };
        for (file, reader) in read.iter().filter(|(_, reader)| reads_it(reader)) {
            let absolute = input.source_root.join(file);
            // A name that is no file of the workspace is generated, or not a path at all.
            let listed = absolute.is_file();
            if !listed || source.relative(&absolute).is_none() || source.contains(&absolute) {
                continue;
            }
            let approximate = if source.is_approximate() {
                " (the filter could not be fully decided)"
            } else {
                ""
            };
            findings.push(finding(
                FindingId::SrcFilterDropsInput,
                Severity::Error,
                Some(reader.location.clone()),
                format!(
                    "`{}` reads {}, but the src of `{}` ({}) leaves it out{approximate}, so the file is missing in the Nix build.",
                    reader.code,
                    file.display(),
                    phase.name,
                    source.text
                ),
                paths
                    .get_or_insert_with(|| {
                        FilesetFix::new(input.source_root, Some(source))
                            .with_crane_lib(phase.crane_lib.as_deref())
                    })
                    .add(input.source_root, Some(source), file),
            ));
        }
    }
    findings
}

/// `src-keeps-directory`: a filter keeps every file of a directory while the build reads
/// only some of them (`include_str!` of one data file of many): an edit of any other
/// rebuilds the phases for nothing.
pub(crate) fn directory_kept_for_one_file(input: &FindingsInput) -> Vec<Finding> {
    let read = files_read_by_build(input);
    let mut kept: BTreeMap<(PathBuf, Vec<PathBuf>), KeptDirectory> = BTreeMap::new();
    for (phase, source) in evaluated_phases(input) {
        if source.kind != SourceKind::Filtered || source.is_approximate() {
            continue;
        }
        let in_set = |file: &Path| source.contains(&input.source_root.join(file));
        let directories: std::collections::BTreeSet<&Path> = read
            .iter()
            .filter(|(file, r)| r.kind.is_compile_time() && in_set(file))
            .filter_map(|(file, _)| file.parent())
            .filter(|dir| !dir.as_os_str().is_empty())
            .collect();
        for dir in directories {
            let listed: Vec<PathBuf> = source
                .files
                .iter()
                .filter_map(|f| {
                    source
                        .root
                        .join(f)
                        .strip_prefix(input.source_root)
                        .ok()
                        .map(Path::to_path_buf)
                })
                .filter(|f| f.starts_with(dir))
                .collect();
            let whole = listed.len() == files_on_disk_under(&input.source_root.join(dir));
            let (reads, others): (Vec<PathBuf>, Vec<PathBuf>) = listed
                .into_iter()
                .filter(|f| !filter_cargo_sources(f, false))
                .partition(|f| read.contains_key(f));
            if !whole || reads.is_empty() || others.is_empty() {
                continue;
            }
            let entry = kept.entry((dir.to_path_buf(), reads)).or_default();
            entry.others = others;
            entry.phases.push(format!("`{}`", phase.name));
        }
    }
    kept.into_iter()
        .map(|((dir, reads), KeptDirectory { others, phases })| {
            let shown: Vec<String> = reads.iter().map(|f| f.display().to_string()).collect();
            let paths: Vec<String> = reads.iter().map(|f| format!("./{}", f.display())).collect();
            finding(
                FindingId::SrcKeepsDirectory,
                Severity::Info,
                None,
                format!(
                    "the src of {} keeps all of {}/, but the build reads only {}: editing any of the other {} file{} there ({}) rebuilds {} for nothing",
                    and_list(&phases),
                    dir.display(),
                    and_list(&shown),
                    others.len(),
                    if others.len() == 1 { "" } else { "s" },
                    group_by_top_level(&others.iter().map(|f| f.strip_prefix(&dir).unwrap_or(f).to_path_buf()).collect::<Vec<_>>()),
                    if phases.len() == 1 { "it" } else { "them" },
                ),
                format!(
                    "keep only what is read: replace ./{} with {} in the file set",
                    dir.display(),
                    paths.join(" ")
                ),
            )
        })
        .collect()
}

/// A directory a filter keeps whole (keyed by it and the files read in it): the files
/// nobody reads, and the phases whose src keeps it.
#[derive(Default)]
struct KeptDirectory {
    others: Vec<PathBuf>,
    phases: Vec<String>,
}

/// How many files the directory holds (what a filter keeping all of it keeps, untracked
/// files aside).
fn files_on_disk_under(dir: &Path) -> usize {
    ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .count()
}

/// Files (relative to the source root) that local crates read, at build time or, when a
/// phase runs tests, as test data. A string literal naming a path is not a read of the
/// build (it may be a name the program uses on its user's files, `".git"`): only
/// `include_*!`, `#[path]` and build scripts are.
fn files_read_by_build(input: &FindingsInput) -> BTreeMap<PathBuf, Reader> {
    let tests_run = input.phases().any(runs_tests);
    let mut read = files_read(
        input.metadata,
        input.source_root,
        input.target_dir,
        tests_run,
    );
    read.retain(|_, reader| reader.kind != ReadKind::Runtime);
    read
}

/// Whether a phase runs tests (`cargo test`, nextest, tarpaulin, llvm-cov), where the
/// tests may read files of their package.
fn runs_tests(phase: &Phase) -> bool {
    phase.commands.iter().any(|command| {
        command
            .args
            .iter()
            .any(|arg| matches!(arg.as_str(), "test" | "nextest" | "tarpaulin" | "llvm-cov"))
    })
}

/// The fix for an unfiltered source: crane's cargo filter, unless the build reads files it
/// drops; then a file set with them (what the code names: the file, or its directory),
/// each in the flake's source, written for the file defining `source`.
fn cargo_only_fix(
    source_root: &Path,
    read: &BTreeMap<PathBuf, Reader>,
    source: Option<&SourceSet>,
    crane_lib: Option<&str>,
) -> String {
    let paths = FilesetFix::new(source_root, source).with_crane_lib(crane_lib);
    let mut named: Vec<&Path> = read
        .iter()
        .filter(|(file, _)| !filter_cargo_sources(file, false) && source_root.join(file).is_file())
        .map(|(_, reader)| reader.named.as_path())
        .filter(|named| paths.in_flake_source(source_root, named))
        .collect();
    named.sort();
    named.dedup();
    let outermost: Vec<String> = named
        .iter()
        .filter(|path| {
            !named
                .iter()
                .any(|other| other != *path && path.starts_with(other))
        })
        .map(|path| paths.path(path))
        .collect();
    if outermost.is_empty() {
        return format!(
            "src = {}.cleanCargoSource {}; (keeps *.rs, *.toml, Cargo.lock and .cargo/config; add other files the build reads with lib.fileset)",
            paths.crane_lib(),
            paths.root()
        );
    }
    format!(
        "{} (cleanCargoSource alone would leave out files the build reads)",
        paths.to_source(&outermost)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_src_expressions() {
        assert_eq!(classify_src("./."), SourceFilter::Unfiltered);
        assert_eq!(classify_src("self"), SourceFilter::Unfiltered);
        assert_eq!(
            classify_src("lib.cleanSource ./."),
            SourceFilter::Unfiltered
        );
        assert_eq!(
            classify_src("builtins.path { path = ./.; name = \"source\"; }"),
            SourceFilter::Unfiltered
        );
        for not_raw in [
            "craneLib.mkDummySrc { inherit src; }",
            "mySrc",
            "pkgs.fetchFromGitHub { owner = \"o\"; }",
            "<unknown: pkgs.lib.cleanSourceWith>",
        ] {
            assert_eq!(classify_src(not_raw), SourceFilter::Other, "{not_raw}");
        }
        assert_eq!(
            classify_src("craneLib.cleanCargoSource ./."),
            SourceFilter::CargoOnly
        );
        assert_eq!(
            classify_src("craneLib.path ./. |> craneLib.cleanCargoSource"),
            SourceFilter::CargoOnly
        );
        assert_eq!(
            classify_src(
                "lib.fileset.toSource { root = ./.; fileset = lib.fileset.unions [ (craneLib.fileset.commonCargoSources ./.) ./data ]; }"
            ),
            SourceFilter::Other
        );
    }
}
