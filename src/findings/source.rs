//! Source findings: a crane `src` that is the raw flake directory, and a cargo-only
//! filter (`cleanCargoSource`) that drops files the build reads.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::{Finding, FindingId, FindingsInput, Severity, and_list, finding};
use crate::phase::{AttrValue, CraneFunction, Phase, SourceLocation};
use crate::source_set::{SourceKind, SourceSet};

/// How a phase's `src` expression filters the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFilter {
    /// `./.`, `self`, `lib.cleanSource ./.`: every file is an input.
    Unfiltered,
    /// `craneLib.cleanCargoSource` / `filterCargoSources`: only what cargo reads.
    CargoOnly,
    /// Some other filter (`lib.fileset`, `cleanSourceWith`, ...).
    Other,
}

/// Classifies a `src` expression's text.
pub fn classify_src(text: &str) -> SourceFilter {
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

/// Whether crane's `filterCargoSources` keeps a file (a path relative to the source root).
pub fn cargo_filter_keeps(relative: &Path) -> bool {
    let name = relative
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let parent = relative
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".rs")
        || name.ends_with(".toml")
        || name == "Cargo.lock"
        || (parent == ".cargo" && name == "config")
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
pub fn unfiltered_source(input: &FindingsInput) -> Option<Finding> {
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
        .filter(|f| !cargo_filter_keeps(f) && !read.contains_key(f))
        .collect();
    if unused.is_empty() {
        return None;
    }
    let names: Vec<String> = phases.iter().map(|p| format!("`{}`", p.name)).collect();
    let src = src_text(first).unwrap_or_default();
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
        "src = craneLib.cleanCargoSource ./.; (keeps *.rs, *.toml, Cargo.lock and .cargo/config; add other files the build reads with lib.fileset)".to_string(),
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
    // A filter the user wrote keeps what they chose (test fixtures, snapshots): only the
    // unfiltered directory is judged.
    let unfiltered_phases =
        evaluated_phases(input).filter(|(_, s)| s.kind == SourceKind::Unfiltered);
    for (phase, source) in unfiltered_phases {
        for file in source.files.iter() {
            let absolute = source.root.join(file);
            let relative = absolute
                .strip_prefix(input.source_root)
                .map_or(absolute.clone(), Path::to_path_buf);
            if cargo_filter_keeps(file) || read.contains_key(&relative) {
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
        "src = craneLib.cleanCargoSource ./.; (keeps *.rs, *.toml, Cargo.lock and .cargo/config; add other files the build reads with lib.fileset)".to_string()
    } else {
        format!(
            "leave them out of the source: lib.fileset.difference <the file set> (lib.fileset.unions [ {} ])",
            top_level_paths(&files).join(" ")
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
fn top_level_paths(files: &[PathBuf]) -> Vec<String> {
    let mut tops: Vec<String> = files
        .iter()
        .filter_map(|f| f.components().next())
        .map(|c| format!("./{}", c.as_os_str().to_string_lossy()))
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

/// `src-filter-drops-input`: files the build reads (`include_str!`, `include_bytes!`,
/// `#[path]`, a build script's `rerun-if-changed`) that a cargo-only filter drops.
pub fn filter_drops_input(input: &FindingsInput) -> Vec<Finding> {
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
    files_read_by_build(input)
        .into_iter()
        .filter(|(file, _)| !cargo_filter_keeps(file))
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
                format!(
                    "add it to the source: src = lib.fileset.toSource {{ root = ./.; fileset = lib.fileset.unions [ (craneLib.fileset.commonCargoSources ./.) ./{} ]; }};",
                    file.display()
                ),
            )
        })
        .collect()
}

/// `src-filter-drops-input` from the evaluated sources: each file the build reads that a
/// phase's `src` lacks, by phase.
fn inputs_missing_from_sources(input: &FindingsInput) -> Vec<Finding> {
    let read = files_read_by_build(input);
    let mut findings = Vec::new();
    for (phase, source) in evaluated_phases(input) {
        for (file, reader) in &read {
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
                format!(
                    "add it to the source: src = lib.fileset.toSource {{ root = ./.; fileset = lib.fileset.unions [ (craneLib.fileset.commonCargoSources ./.) ./{} ]; }};",
                    file.display()
                ),
            ));
        }
    }
    findings
}

/// Who reads a file: the code and where it is (the file relative to the source root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub code: String,
    pub location: SourceLocation,
}

/// Files (relative to the source root) that local crates read at build time, with the
/// first code that reads each.
fn files_read_by_build(input: &FindingsInput) -> BTreeMap<PathBuf, Reader> {
    let mut read = BTreeMap::new();
    if let Some(target_dir) = input.target_dir {
        read.extend(files_watched_by_build_scripts(input, target_dir));
    }
    read.extend(files_named_in_code(input.metadata, input.source_root));
    read
}

/// Files (relative to `source_root`) that local crates name in their code for the build
/// to read (`include_str!`, `include_bytes!`, `#[path]`, a build script's literal
/// `rerun-if-changed`), with the first code naming each and where.
pub fn files_named_in_code(
    metadata: &cargo_metadata::Metadata,
    source_root: &Path,
) -> BTreeMap<PathBuf, Reader> {
    let mut read = BTreeMap::new();
    for package in metadata.packages.iter().filter(|p| p.source.is_none()) {
        let Some(package_dir) = package
            .manifest_path
            .parent()
            .map(|d| d.as_std_path().to_path_buf())
        else {
            continue;
        };
        let build_script = package
            .targets
            .iter()
            .find(|t| t.is_custom_build())
            .map(|t| t.src_path.as_std_path().to_path_buf());
        for file in rust_files(&package_dir) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let is_build_script = build_script.as_deref() == Some(file.as_path());
            for (line, code, path, base) in references(&text, is_build_script) {
                let base_dir = match base {
                    Base::File => file.parent().unwrap_or(&package_dir).to_path_buf(),
                    Base::Package => package_dir.clone(),
                };
                let target = normalize(&base_dir.join(path));
                let (Ok(relative), Ok(reader_file)) = (
                    target.strip_prefix(source_root),
                    file.strip_prefix(source_root),
                ) else {
                    continue;
                };
                read.entry(relative.to_path_buf()).or_insert(Reader {
                    code,
                    location: SourceLocation::line(reader_file.display().to_string(), line),
                });
            }
        }
    }
    read
}

/// `cargo:rerun-if-changed` paths in a previous build's build-script outputs of local
/// packages (what the scripts really watched, including paths they computed).
fn files_watched_by_build_scripts(
    input: &FindingsInput,
    target_dir: &Path,
) -> BTreeMap<PathBuf, Reader> {
    let mut read = BTreeMap::new();
    let local_dirs: BTreeMap<String, PathBuf> = input
        .metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .filter_map(|p| {
            Some((
                p.name.replace('-', "_"),
                p.manifest_path.parent()?.as_std_path().to_path_buf(),
            ))
        })
        .collect();
    for (package, output) in super::hazards::build_script_outputs(target_dir) {
        let Some(package_dir) = local_dirs.get(&package.replace('-', "_")) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&output) else {
            continue;
        };
        for line in text.lines() {
            let Some(path) = line
                .strip_prefix("cargo:rerun-if-changed=")
                .or_else(|| line.strip_prefix("cargo::rerun-if-changed="))
            else {
                continue;
            };
            let target = normalize(&package_dir.join(path.trim()));
            let Ok(relative) = target.strip_prefix(input.source_root) else {
                continue;
            };
            let script = package_dir.join("build.rs");
            let location = SourceLocation::file(
                script
                    .strip_prefix(input.source_root)
                    .unwrap_or(&script)
                    .display()
                    .to_string(),
            );
            read.entry(relative.to_path_buf()).or_insert(Reader {
                code: format!(
                    "cargo:rerun-if-changed={} (in the build script's output)",
                    path.trim()
                ),
                location,
            });
        }
    }
    read
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    ignore::WalkBuilder::new(dir)
        .require_git(false)
        .filter_entry(|e| e.file_name() != "target")
        .build()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| e.path().to_path_buf())
        .collect()
}

/// What a referenced path is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// The directory of the file that names it (`include_str!`, `#[path]`).
    File,
    /// The package root (`concat!(env!("CARGO_MANIFEST_DIR"), ...)`, build scripts).
    Package,
}

/// `(line, code, path, base)` for every file a Rust source names for the build to read.
fn references(text: &str, is_build_script: bool) -> Vec<(usize, String, String, Base)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        for macro_name in ["include_str!(", "include_bytes!("] {
            let mut rest = line;
            while let Some(at) = rest.find(macro_name) {
                let args = rest[at + macro_name.len()..].trim_start();
                let (path, base) = match args.strip_prefix("concat!(env!(\"CARGO_MANIFEST_DIR\"),")
                {
                    Some(after) => (
                        first_literal(after).map(|p| p.trim_start_matches('/').to_string()),
                        Base::Package,
                    ),
                    None => (
                        args.starts_with('"').then(|| first_literal(args)).flatten(),
                        Base::File,
                    ),
                };
                if let Some(path) = path {
                    found.push((
                        i + 1,
                        format!(
                            "{}\"{path}\")",
                            macro_name.trim_end_matches('(').to_string() + "("
                        ),
                        path,
                        base,
                    ));
                }
                rest = &rest[at + macro_name.len()..];
            }
        }
        if let Some(attr) = trimmed.strip_prefix("#[path") {
            if let Some(path) = attr.trim_start().strip_prefix('=').and_then(first_literal) {
                if !path.ends_with(".rs") {
                    found.push((i + 1, format!("#[path = \"{path}\"]"), path, Base::File));
                }
            }
        }
        if is_build_script {
            const MARKER: &str = "rerun-if-changed=";
            if let Some(at) = line.find(MARKER) {
                let after = &line[at + MARKER.len()..];
                let path: String = after
                    .chars()
                    .take_while(|c| *c != '"' && *c != '{')
                    .collect();
                if !path.is_empty() && after[path.len()..].starts_with('"') {
                    found.push((
                        i + 1,
                        format!("cargo:rerun-if-changed={path}"),
                        path,
                        Base::Package,
                    ));
                }
            }
        }
    }
    found
}

/// The first string literal at the start of `text` (after whitespace), without escapes.
fn first_literal(text: &str) -> Option<String> {
    let body = text.trim_start().strip_prefix('"')?;
    let end = body.find('"')?;
    let literal = &body[..end];
    (!literal.contains('\\')).then(|| literal.to_string())
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
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

    #[test]
    fn cargo_filter_rules() {
        for kept in [
            "src/lib.rs",
            "Cargo.toml",
            "Cargo.lock",
            ".cargo/config",
            "a/b/deny.toml",
        ] {
            assert!(cargo_filter_keeps(Path::new(kept)), "{kept}");
        }
        for dropped in [
            "flake.nix",
            "README.md",
            "src/schema.graphql",
            ".cargo/config.json",
        ] {
            assert!(!cargo_filter_keeps(Path::new(dropped)), "{dropped}");
        }
    }

    #[test]
    fn finds_files_named_for_the_build() {
        let text = "const A: &str = include_str!(\"../data/a.json\");\n\
                    // include_str!(\"commented.txt\")\n\
                    static B: &[u8] = include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/assets/b.bin\"));\n\
                    #[path = \"gen/c.in\"]\nmod c;\n";
        let refs = references(text, false);
        let paths: Vec<(&str, Base)> = refs.iter().map(|(_, _, p, b)| (p.as_str(), *b)).collect();
        assert_eq!(
            paths,
            [
                ("../data/a.json", Base::File),
                ("assets/b.bin", Base::Package),
                ("gen/c.in", Base::File)
            ]
        );
        assert_eq!(refs[0].0, 1);
        let build = "fn main() { println!(\"cargo:rerun-if-changed=proto/api.proto\"); println!(\"cargo:rerun-if-changed={}\", x); }";
        let refs = references(build, true);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].2, "proto/api.proto");
    }

    #[test]
    fn normalizes_parent_components() {
        assert_eq!(
            normalize(Path::new("/w/app/src/../data/a.json")),
            PathBuf::from("/w/app/data/a.json")
        );
    }
}
