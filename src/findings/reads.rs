//! What the build reads besides Rust sources and manifests: files rustc includes
//! (`include_str!`, `include_bytes!`, `include!`, `#[path]`, with a literal path or one
//! made with `concat!(env!("CARGO_MANIFEST_DIR"), …)`), what build scripts watch, and
//! what tests may read at run time (a path literal naming a file or directory of the
//! package, the files under `tests/` and `snapshots/` directories). Rust files are read as
//! tokens, so a macro call spread over lines, comments and strings are told apart.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::located::SourceLocation;
use crate::source_set::tree::normalize;

/// How a file is read, from the surest to the least sure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ReadKind {
    /// rustc reads it while compiling the crate.
    Compile,
    /// A build script watches it (`rerun-if-changed`).
    BuildScript,
    /// Tests may read it: it lies in a package's `tests/` or `snapshots/` directory while
    /// a phase runs tests.
    TestData,
    /// A path literal names it: a program may read it at run time, or the text is only a
    /// name the program uses (`".git"` in a tool run on its user's project). Not a read
    /// of the build: never added to a source nor required in one.
    Runtime,
}

impl ReadKind {
    /// rustc or a build script reads it: the build fails or is wrong without it.
    pub(crate) fn is_compile_time(self) -> bool {
        matches!(self, ReadKind::Compile | ReadKind::BuildScript)
    }
}

/// Who reads a file: the code, where it is (relative to the source root), how, and what
/// to add to a source to keep it (the file, or the directory the code names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reader {
    pub code: String,
    pub location: SourceLocation,
    pub kind: ReadKind,
    /// Relative to the source root.
    pub named: PathBuf,
    /// Read only where tests are compiled or run: from a `#[cfg(test)]` or `#[test]` item,
    /// or test data.
    pub test_only: bool,
}

/// Files (relative to the source root) the local crates read, with the first (surest)
/// reader of each. `tests_run`: whether a phase runs tests, so that test data counts.
pub(crate) fn files_read(
    metadata: &cargo_metadata::Metadata,
    source_root: &Path,
    target_dir: Option<&Path>,
    tests_run: bool,
) -> BTreeMap<PathBuf, Reader> {
    let mut read: BTreeMap<PathBuf, Reader> = BTreeMap::new();
    for (file, reader) in all_reads(metadata, source_root, target_dir, tests_run) {
        match read.get(&file) {
            Some(known) if (known.kind, known.test_only) <= (reader.kind, reader.test_only) => {}
            _ => {
                read.insert(file, reader);
            }
        }
    }
    read
}

/// Every `(file, reader)` pair (relative to the source root), a file read by several
/// crates once per reader.
pub(crate) fn all_reads(
    metadata: &cargo_metadata::Metadata,
    source_root: &Path,
    target_dir: Option<&Path>,
    tests_run: bool,
) -> Vec<(PathBuf, Reader)> {
    let mut reads = Vec::new();
    for package in local_packages(metadata) {
        reads.extend(package.reads(source_root, tests_run));
    }
    if let Some(target_dir) = target_dir {
        reads.extend(files_watched_by_build_scripts(
            metadata,
            source_root,
            target_dir,
        ));
    }
    reads
}

/// A local package: its directory and its build script.
struct LocalPackage {
    dir: PathBuf,
    build_script: Option<PathBuf>,
}

fn local_packages(metadata: &cargo_metadata::Metadata) -> Vec<LocalPackage> {
    metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .filter_map(|p| {
            Some(LocalPackage {
                dir: p.manifest_path.parent()?.as_std_path().to_path_buf(),
                build_script: p
                    .targets
                    .iter()
                    .find(|t| t.is_custom_build())
                    .map(|t| t.src_path.as_std_path().to_path_buf()),
            })
        })
        .collect()
}

impl LocalPackage {
    fn reads(&self, source_root: &Path, tests_run: bool) -> Vec<(PathBuf, Reader)> {
        let relative = |path: &Path| path.strip_prefix(source_root).ok().map(Path::to_path_buf);
        let mut reads = Vec::new();
        for file in package_files(&self.dir, |p| p.extension().is_some_and(|x| x == "rs")) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Some(reader_file) = relative(&file) else {
                continue;
            };
            let is_build_script = self.build_script.as_deref() == Some(file.as_path());
            for reference in references(&text, is_build_script) {
                let base_dir = match reference.base {
                    Base::File => file.parent().unwrap_or(&self.dir),
                    Base::Package => &self.dir,
                };
                let target = normalize(&base_dir.join(&reference.path));
                let Some(named) = relative(&target) else {
                    continue;
                };
                let location =
                    SourceLocation::line(reader_file.display().to_string(), reference.line);
                let reader = |named: PathBuf| Reader {
                    code: reference.code.clone(),
                    location: location.clone(),
                    kind: reference.kind,
                    named,
                    test_only: reference.test_only,
                };
                if reference.kind == ReadKind::Compile {
                    reads.push((named.clone(), reader(named)));
                    continue;
                }
                if reference.kind == ReadKind::BuildScript {
                    reads.extend(
                        watched_files(&target, source_root)
                            .into_iter()
                            .map(|file| (file, reader(named.clone()))),
                    );
                    continue;
                }
                // A run-time path is taken only when it names something of the package
                // below its directory (not the directory itself, nor what holds it).
                if target == self.dir || !target.starts_with(&self.dir) {
                    continue;
                }
                if target.is_file() {
                    reads.push((named.clone(), reader(named)));
                } else if target.is_dir() {
                    for inner in package_files(&target, |_| true) {
                        reads.extend(relative(&inner).map(|f| (f, reader(named.clone()))));
                    }
                }
            }
        }
        if tests_run {
            reads.extend(self.test_data(source_root));
        }
        reads
    }

    /// Every file under the package's `tests/` directory and any `snapshots/` directory
    /// (insta's): `cargo test` runs with the package as its directory and may read them.
    fn test_data(&self, source_root: &Path) -> Vec<(PathBuf, Reader)> {
        let mut data = Vec::new();
        let tests = self.dir.join("tests");
        let snapshots = ignore::WalkBuilder::new(&self.dir)
            .standard_filters(false)
            .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git")
            .build()
            .flatten()
            .filter(|e| e.file_type().is_some_and(|t| t.is_dir()) && e.file_name() == "snapshots")
            .map(|e| e.path().to_path_buf());
        for dir in std::iter::once(tests).chain(snapshots) {
            if !dir.is_dir() {
                continue;
            }
            let Ok(named) = dir.strip_prefix(source_root) else {
                continue;
            };
            for file in package_files(&dir, |p| p.extension().is_none_or(|x| x != "rs")) {
                let Ok(relative) = file.strip_prefix(source_root) else {
                    continue;
                };
                data.push((
                    relative.to_path_buf(),
                    Reader {
                        code: format!("tests run in {}", named.display()),
                        location: SourceLocation::file(named.display().to_string()),
                        kind: ReadKind::TestData,
                        named: named.to_path_buf(),
                        test_only: true,
                    },
                ));
            }
        }
        data
    }
}

/// Files below `dir` that `wanted` accepts, without `target/` nor nested packages.
fn package_files(dir: &Path, wanted: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let top = dir.to_path_buf();
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .hidden(false)
        .filter_entry(move |e| {
            let nested = e.depth() > 0
                && e.file_type().is_some_and(|t| t.is_dir())
                && e.path() != top
                && e.path().join("Cargo.toml").is_file();
            e.file_name() != "target" && e.file_name() != ".git" && !nested
        })
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.path().to_path_buf())
        .filter(|p| wanted(p))
        .collect();
    files.sort();
    files
}

/// What cargo watches for a `rerun-if-changed` path (absolute): the file, or every file
/// below a directory; relative to the source root.
fn watched_files(target: &Path, source_root: &Path) -> Vec<PathBuf> {
    let files = if target.is_dir() {
        package_files(target, |_| true)
    } else {
        vec![target.to_path_buf()]
    };
    files
        .iter()
        .filter_map(|f| f.strip_prefix(source_root).ok().map(Path::to_path_buf))
        .collect()
}

/// `cargo:rerun-if-changed` paths in a previous build's build-script outputs of local
/// packages (what the scripts really watched, including paths they computed).
pub(crate) fn files_watched_by_build_scripts(
    metadata: &cargo_metadata::Metadata,
    source_root: &Path,
    target_dir: &Path,
) -> Vec<(PathBuf, Reader)> {
    let mut read = Vec::new();
    let local_dirs: BTreeMap<String, PathBuf> = metadata
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
        let script = package_dir.join("build.rs");
        let location = SourceLocation::file(
            script
                .strip_prefix(source_root)
                .unwrap_or(&script)
                .display()
                .to_string(),
        );
        for path in text.lines().filter_map(rerun_if_changed) {
            let target = normalize(&package_dir.join(path));
            let Ok(relative) = target.strip_prefix(source_root) else {
                continue;
            };
            let reader = Reader {
                code: format!("cargo:rerun-if-changed={path} (in the build script's output)"),
                location: location.clone(),
                kind: ReadKind::BuildScript,
                test_only: false,
                named: relative.to_path_buf(),
            };
            read.extend(
                watched_files(&target, source_root)
                    .into_iter()
                    .map(|file| (file, reader.clone())),
            );
        }
    }
    read
}

/// The path of a `cargo:rerun-if-changed=` (or `cargo::`) line.
pub(crate) fn rerun_if_changed(line: &str) -> Option<&str> {
    line.strip_prefix("cargo:rerun-if-changed=")
        .or_else(|| line.strip_prefix("cargo::rerun-if-changed="))
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// What a referenced path is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// The directory of the file that names it (`include_str!`, `#[path]`).
    File,
    /// The package root (`env!("CARGO_MANIFEST_DIR")`, build scripts, tests at run time).
    Package,
}

/// A path a Rust source names for the build or its programs to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub line: usize,
    pub code: String,
    pub path: String,
    pub base: Base,
    pub kind: ReadKind,
    /// Inside a `#[cfg(test)]` or `#[test]` item: compiled only when tests are.
    pub test_only: bool,
}

/// Every path a Rust source names for the build (or, at run time, its programs) to read.
/// A source that is not Rust tokens names none (rustc fails on it anyway).
pub(crate) fn references(text: &str, is_build_script: bool) -> Vec<Reference> {
    let Ok(stream) = TokenStream::from_str(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    scan(stream.clone(), is_build_script, &mut found);
    let test_items = super::test_code::test_item_lines(stream);
    for reference in &mut found {
        reference.test_only = test_items
            .iter()
            .any(|(first, last)| (*first..=*last).contains(&reference.line));
    }
    found
}

/// The macros whose argument is a file rustc reads.
const INCLUDE_MACROS: &[&str] = &["include_str", "include_bytes", "include"];

fn scan(stream: TokenStream, is_build_script: bool, found: &mut Vec<Reference>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while let Some((token, rest)) = tokens.get(i).zip(tokens.get(i..)) {
        if let Some((group, name)) = macro_call(rest) {
            let line = token.span().start().line;
            let path = match name.as_str() {
                "concat" => concatenation(group.stream()),
                // `env!("NAME")` names a variable, not a path.
                "env" | "option_env" => {
                    i += 3;
                    continue;
                }
                _ => path_expression(group.stream()),
            };
            match (name.as_str(), path) {
                (name, Some((path, base))) if INCLUDE_MACROS.contains(&name) => {
                    found.push(Reference {
                        line,
                        code: format!("{name}!({})", shown_expression(&path, base)),
                        path,
                        base,
                        kind: ReadKind::Compile,
                        test_only: false,
                    });
                    i += 3;
                    continue;
                }
                ("concat", Some((path, Base::Package))) => {
                    found.push(Reference {
                        line,
                        code: shown_expression(&path, Base::Package),
                        path,
                        base: Base::Package,
                        kind: ReadKind::Runtime,
                        test_only: false,
                    });
                    i += 3;
                    continue;
                }
                _ => {}
            }
        }
        if let Some(path) = path_attribute(rest) {
            let line = token.span().start().line;
            if !path.ends_with(".rs") {
                found.push(Reference {
                    line,
                    code: format!("#[path = \"{path}\"]"),
                    path,
                    base: Base::File,
                    kind: ReadKind::Compile,
                    test_only: false,
                });
            }
            i += 2;
            continue;
        }
        match token {
            TokenTree::Group(group) => scan(group.stream(), is_build_script, found),
            TokenTree::Literal(literal) => {
                if let Some(text) = string_literal(&literal.to_string()) {
                    let line = literal.span().start().line;
                    found.extend(literal_reference(&text, line, is_build_script));
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// `NAME ! ( … )` at the start of `tokens`: the group and the name.
fn macro_call(tokens: &[TokenTree]) -> Option<(&proc_macro2::Group, String)> {
    match tokens {
        [
            TokenTree::Ident(name),
            TokenTree::Punct(bang),
            TokenTree::Group(group),
            ..,
        ] if bang.as_char() == '!' && group.delimiter() != Delimiter::None => {
            Some((group, name.to_string()))
        }
        _ => None,
    }
}

/// `# [path = "…"]` at the start of `tokens`: the path.
fn path_attribute(tokens: &[TokenTree]) -> Option<String> {
    let [TokenTree::Punct(hash), TokenTree::Group(group), ..] = tokens else {
        return None;
    };
    if hash.as_char() != '#' || group.delimiter() != Delimiter::Bracket {
        return None;
    }
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    match inner.as_slice() {
        [
            TokenTree::Ident(name),
            TokenTree::Punct(eq),
            TokenTree::Literal(literal),
        ] if name == "path" && eq.as_char() == '=' => string_literal(&literal.to_string()),
        _ => None,
    }
}

/// A path a macro's argument spells: a string literal (relative to the file), or
/// `concat!(…)` of literals, optionally starting with `env!("CARGO_MANIFEST_DIR")`
/// (relative to the package). Anything else (`env!("OUT_DIR")`, a constant) is unknown.
fn path_expression(stream: TokenStream) -> Option<(String, Base)> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    if let [TokenTree::Literal(literal)] = tokens.as_slice() {
        return string_literal(&literal.to_string()).map(|path| (path, Base::File));
    }
    match macro_call(&tokens) {
        Some((group, name)) if tokens.len() == 3 && name == "concat" => {
            concatenation(group.stream())
        }
        _ => None,
    }
}

/// `concat!`'s parts: literals, the first possibly `env!("CARGO_MANIFEST_DIR")`.
fn concatenation(stream: TokenStream) -> Option<(String, Base)> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut base = Base::File;
    let mut path = String::new();
    for (n, part) in tokens
        .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
        .filter(|part| !part.is_empty())
        .enumerate()
    {
        match part {
            [TokenTree::Literal(literal)] => path.push_str(&string_literal(&literal.to_string())?),
            _ => match macro_call(part) {
                Some((group, name))
                    if n == 0
                        && part.len() == 3
                        && name == "env"
                        && is_manifest_dir(group.stream()) =>
                {
                    base = Base::Package;
                }
                _ => return None,
            },
        }
    }
    if base == Base::Package {
        path = path.trim_start_matches('/').to_string();
    }
    Some((path, base))
}

fn is_manifest_dir(stream: TokenStream) -> bool {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    matches!(tokens.as_slice(), [TokenTree::Literal(l)] if string_literal(&l.to_string()).as_deref() == Some("CARGO_MANIFEST_DIR"))
}

fn shown_expression(path: &str, base: Base) -> String {
    match base {
        Base::File => format!("\"{path}\""),
        Base::Package => format!("concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{path}\")"),
    }
}

/// What a string literal names: a build script's `rerun-if-changed`, or a path a program
/// may read at run time (relative to the package, where cargo runs tests and build
/// scripts). `{}/` in front (a `format!` with the manifest directory) is left out.
fn literal_reference(text: &str, line: usize, is_build_script: bool) -> Option<Reference> {
    if let Some(directive) = ["cargo:rerun-if-changed=", "cargo::rerun-if-changed="]
        .iter()
        .find_map(|prefix| text.find(prefix).and_then(|at| text.get(at..)))
    {
        let path = rerun_if_changed(directive)?;
        let literal = !path.contains('{');
        return (is_build_script && literal).then(|| Reference {
            line,
            code: format!("cargo:rerun-if-changed={path}"),
            path: path.to_string(),
            base: Base::Package,
            kind: ReadKind::BuildScript,
            test_only: false,
        });
    }
    let path = text.strip_prefix("{}/").unwrap_or(text);
    let plausible = !path.is_empty()
        && path.len() < 256
        && !path.starts_with('/')
        && !path.contains(['{', '}', '\n', '*', '?', '<', '>', '|', '"'])
        && !path.chars().any(char::is_whitespace);
    plausible.then(|| Reference {
        line,
        code: format!("\"{text}\""),
        path: path.to_string(),
        base: Base::Package,
        kind: ReadKind::Runtime,
        test_only: false,
    })
}

/// The text of a string literal token (`"…"`, `r"…"`, `r#"…"#`); none for byte strings,
/// characters, numbers, and strings with escapes.
fn string_literal(token: &str) -> Option<String> {
    if let Some(raw) = token.strip_prefix('r') {
        let after_hashes = raw.trim_start_matches('#');
        let hashes = raw.len() - after_hashes.len();
        let body = after_hashes.strip_prefix('"')?;
        let body = body.strip_suffix(&"#".repeat(hashes))?.strip_suffix('"')?;
        return Some(body.to_string());
    }
    let body = token.strip_prefix('"')?.strip_suffix('"')?;
    (!body.contains('\\')).then(|| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile_time(text: &str) -> Vec<(String, Base)> {
        references(text, false)
            .into_iter()
            .filter(|r| r.kind == ReadKind::Compile)
            .map(|r| (r.path, r.base))
            .collect()
    }

    #[test]
    fn finds_files_named_for_the_build() {
        let text = "const A: &str = include_str!(\"../data/a.json\");\n\
                    // include_str!(\"commented.txt\")\n\
                    static B: &[u8] = include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/assets/b.bin\"));\n\
                    #[path = \"gen/c.in\"]\nmod c;\n";
        assert_eq!(
            compile_time(text),
            [
                ("../data/a.json".to_string(), Base::File),
                ("assets/b.bin".to_string(), Base::Package),
                ("gen/c.in".to_string(), Base::File)
            ]
        );
        assert_eq!(references(text, false)[0].line, 1);
    }

    #[test]
    fn a_call_spread_over_lines_as_rustfmt_writes_it() {
        let text = "static T: &str = include_str!(concat!(\n    env!(\"CARGO_MANIFEST_DIR\"),\n    \"/src/templates/summary.md.hbs\"\n));\n\
                    /* include_str!(\"in-a-comment.txt\") */\n\
                    const S: &str = \"include_str!(\\\"in-a-string.txt\\\")\";\n\
                    #[cfg(test)]\nmod tests { const F: &[u8] = include_bytes!(r\"fixtures/raw.bin\"); }\n\
                    const O: &str = include_str!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n";
        let refs = references(text, false);
        let compile: Vec<_> = refs
            .iter()
            .filter(|r| r.kind == ReadKind::Compile)
            .collect();
        assert_eq!(compile.len(), 2, "{compile:?}");
        assert_eq!(compile[0].path, "src/templates/summary.md.hbs");
        assert_eq!(compile[0].base, Base::Package);
        assert_eq!(compile[0].line, 1);
        assert_eq!(
            compile[0].code,
            "include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/templates/summary.md.hbs\"))"
        );
        assert_eq!(compile[1].path, "fixtures/raw.bin");
        assert_eq!(compile[1].line, 8);
    }

    #[test]
    fn run_time_paths_and_build_script_watches() {
        let text = "fn t() { let d = Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"tests/data\");\n\
                    let c = concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/golden/x.txt\");\n\
                    let f = format!(\"{}/schema.json\", env!(\"CARGO_MANIFEST_DIR\"));\n\
                    println!(\"hello world\"); }";
        let runtime: Vec<String> = references(text, false)
            .into_iter()
            .filter(|r| r.kind == ReadKind::Runtime)
            .map(|r| r.path)
            .collect();
        assert!(runtime.contains(&"tests/data".to_string()), "{runtime:?}");
        assert!(runtime.contains(&"golden/x.txt".to_string()), "{runtime:?}");
        assert!(runtime.contains(&"schema.json".to_string()), "{runtime:?}");
        assert!(!runtime.iter().any(|p| p.contains("hello")));
        let build = "fn main() { println!(\"cargo:rerun-if-changed=proto/api.proto\"); println!(\"cargo:rerun-if-changed={}\", x); }";
        let watched: Vec<_> = references(build, true)
            .into_iter()
            .filter(|r| r.kind == ReadKind::BuildScript)
            .collect();
        assert_eq!(watched.len(), 1);
        assert_eq!(watched[0].path, "proto/api.proto");
    }

    #[test]
    fn normalizes_parent_components() {
        assert_eq!(
            normalize(Path::new("/w/app/src/../data/a.json")),
            PathBuf::from("/w/app/data/a.json")
        );
    }
}
