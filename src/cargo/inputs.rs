//! What a cargo answer depends on besides its arguments and environment, gathered into a
//! cache key: the contents of the files cargo reads (every `Cargo.toml`, `Cargo.lock`,
//! `.cargo/config{,.toml}` in the workspace, above it and in `CARGO_HOME`, the files they
//! `include`, `rust-toolchain{,.toml}`; through symbolic links), the names of the files
//! cargo's target discovery looks at (`src/lib.rs`, `src/main.rs`, `build.rs`, `src/bin`,
//! `examples`, `tests`, `benches`, the paths `[lib]`/`[[bin]]`/... name) in the workspace
//! and in path dependencies, `[patch]`/`paths` overrides and directory sources wherever
//! they are, and the programs that answer (`cargo` and `rustc` on `PATH`, and the rustup
//! toolchains behind a proxy). Nothing else: a `result` link, a report written into the
//! tree, docs or a source file that is no target leave the key as it is. Only regular files
//! are read; anything else under a name cargo reads is said on stderr, and not opened.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::cache::KeyBuilder;
use super::regular;
use crate::parallel::run_parallel;

/// How many config `include`s are followed from one config file (cargo refuses cycles;
/// this bounds them here).
const MAX_INCLUDES: usize = 32;

/// The files cargo reads whose contents, not only names, count.
fn content_counts(name: &OsStr, parent_is_cargo_dir: bool) -> bool {
    matches!(
        name.to_str(),
        Some("Cargo.toml" | "Cargo.lock" | "rust-toolchain" | "rust-toolchain.toml")
    ) || (parent_is_cargo_dir && matches!(name.to_str(), Some("config" | "config.toml")))
}

/// Whether a file at `path` (relative to a tree's top) can be a target cargo discovers by
/// itself: `build.rs`, `src/lib.rs`, `src/main.rs`, and any `.rs` file below `src/bin`,
/// `examples`, `tests` or `benches` (cargo's `util/toml/targets.rs` takes `dir/*.rs` and
/// `dir/*/main.rs`; deeper files are counted too, which only costs a miss). Whether
/// discovery is on (`autobins`, ...) is in the manifest, whose contents count.
fn may_be_target(path: &Path) -> bool {
    let names: Vec<&OsStr> = path.iter().collect();
    let Some((file, dirs)) = names.split_last() else {
        return false;
    };
    if *file == "build.rs" {
        return true;
    }
    if !file.as_encoded_bytes().ends_with(b".rs") {
        return false;
    }
    let parent = dirs.last();
    (parent.is_some_and(|p| *p == "src") && (*file == "lib.rs" || *file == "main.rs"))
        || dirs.windows(2).any(|pair| pair == ["src", "bin"])
        || dirs
            .iter()
            .any(|dir| *dir == "examples" || *dir == "tests" || *dir == "benches")
}

/// Whether a directory at `path` can hold targets (a link there counts by its target).
fn may_hold_targets(path: &Path) -> bool {
    let last = path.file_name();
    last.is_some_and(|name| {
        ["src", "examples", "tests", "benches"]
            .map(OsStr::new)
            .contains(&name)
    }) || may_be_target(&path.join("x.rs"))
}

/// Whether `name` in `dir` is a file cargo takes as the package's readme when the manifest
/// names none (`cargo metadata` then says it).
fn is_inferred_readme(name: &OsStr, dir: &Path) -> bool {
    ["README.md", "README.txt", "README"]
        .map(OsStr::new)
        .contains(&name)
        && dir.join("Cargo.toml").exists()
}

/// Says on stderr (once a run) that `path` is no regular file and was not read.
fn warn_special(path: &Path, kind: &str) {
    static SAID: std::sync::Mutex<BTreeSet<PathBuf>> = std::sync::Mutex::new(BTreeSet::new());
    if !SAID
        .lock()
        .is_ok_and(|mut said| said.insert(path.to_path_buf()))
    {
        return;
    }
    let line = format!(
        "cache-miss: warning: {} is {kind}, not a regular file: not read",
        crate::text::path(path)
    );
    let _ = writeln!(std::io::stderr().lock(), "{}", crate::text::terminal(&line));
}

/// Adds the files cargo reads around `dir` without walking below it: the config and
/// toolchain files and manifests of `dir` and every directory above, and `CARGO_HOME`'s
/// config. What `cargo locate-project` and `cargo -vV` can depend on.
pub(crate) fn add_surroundings(key: &mut KeyBuilder, dir: &Path, cargo_home: Option<&Path>) {
    for ancestor in dir.ancestors() {
        for name in [
            "Cargo.toml",
            "rust-toolchain",
            "rust-toolchain.toml",
            ".cargo/config",
            ".cargo/config.toml",
        ] {
            add_file(key, &ancestor.join(name));
        }
        for name in [".cargo/config", ".cargo/config.toml"] {
            add_includes(key, &ancestor.join(name));
        }
    }
    if let Some(home) = cargo_home {
        for name in ["config", "config.toml"] {
            add_file(key, &home.join(name));
            add_includes(key, &home.join(name));
        }
    }
}

/// A config file given to `--config` (`--config PATH`, `--config=PATH`), with what it
/// includes: cargo reads it by content. A value that is no file (`key=value`) is in the
/// arguments already.
pub(crate) fn add_config_args<'a>(
    key: &mut KeyBuilder,
    dir: &Path,
    args: impl Iterator<Item = &'a OsStr>,
) {
    let mut after_flag = false;
    for arg in args {
        let value = match arg.to_str() {
            _ if after_flag => Some(arg),
            Some(text) => text.strip_prefix("--config=").map(OsStr::new),
            None => None,
        };
        after_flag = arg == "--config";
        if let Some(value) = value {
            let path = dir.join(value);
            if path.is_file() {
                add_file(key, &path);
                add_includes(key, &path);
            }
        }
    }
}

/// The files the config file at `config` includes, by content.
fn add_includes(key: &mut KeyBuilder, config: &Path) {
    for included in with_includes(config).iter().skip(1) {
        add_file(key, included);
    }
}

/// The TOML table in the regular file at `path`, if it is one.
fn read_toml(path: &Path) -> Option<toml::Table> {
    let bytes = regular::contents(path)?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// `CARGO_HOME` as cargo finds it: the variable, else `~/.cargo`.
pub(crate) fn cargo_home(env_value: Option<&OsStr>) -> Option<PathBuf> {
    env_value
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

/// A file's path and contents, read through links (or that it is absent, or no regular
/// file: said, and not opened).
pub(super) fn add_file(key: &mut KeyBuilder, path: &Path) {
    match regular::read(path, true) {
        regular::Found::Contents(contents) => add_contents(key, path, Some(&contents)),
        regular::Found::Special(kind) => {
            warn_special(path, kind);
            key.field("special", path.as_os_str().as_encoded_bytes());
        }
        regular::Found::Dir => {
            key.field("dir", path.as_os_str().as_encoded_bytes());
        }
        regular::Found::Absent | regular::Found::Link => add_contents(key, path, None),
    }
}

/// [`add_file`] of contents already read (`None`: the file cannot be read).
fn add_contents(key: &mut KeyBuilder, path: &Path, contents: Option<&[u8]>) {
    let path_bytes = path.as_os_str().as_encoded_bytes();
    match contents {
        Some(contents) => key.field("file", path_bytes).field("contents", contents),
        None => key.field("absent", path_bytes),
    };
}

/// Adds the workspace at `root`: the contents of the files cargo reads and the names of the
/// files its target discovery looks at, and the same for path dependencies, workspace
/// members, `[patch]` and `paths` overrides and directory sources that lie outside it
/// (found in the manifests and config files read on the way, includes too).
pub(crate) fn add_workspace(key: &mut KeyBuilder, root: &Path, cargo_home: Option<&Path>) {
    let mut walked: BTreeSet<PathBuf> = BTreeSet::new();
    // Each tree to walk, and whether its manifests can name more (a directory source holds
    // packaged crates, whose manifests name no paths).
    let mut pending = vec![(root.to_path_buf(), true)];
    let configs: Vec<PathBuf> = root
        .ancestors()
        .flat_map(|dir| [dir.join(".cargo/config"), dir.join(".cargo/config.toml")])
        .chain(
            cargo_home
                .into_iter()
                .flat_map(|home| [home.join("config"), home.join("config.toml")]),
        )
        .collect();
    for config in &configs {
        for file in with_includes(config) {
            pending.extend(config_dirs(&file));
        }
    }
    while let Some((dir, follow)) = pending.pop() {
        let dir = dir.canonicalize().unwrap_or(dir);
        if walked.iter().any(|done| dir.starts_with(done)) {
            continue;
        }
        walked.insert(dir.clone());
        key.field("tree", dir.as_os_str().as_encoded_bytes());
        let (manifests, linked_trees) = walk(key, &dir);
        pending.extend(linked_trees.into_iter().map(|d| (d, follow)));
        for (manifest, text) in manifests {
            if follow {
                pending.extend(
                    manifest_dirs(&manifest, &text)
                        .into_iter()
                        .map(|d| (d, true)),
                );
            }
        }
    }
}

/// What the walk of a tree found at one path (relative to the tree's top), in the order
/// the key takes them: sorted by path.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Found {
    Unreadable(PathBuf),
    /// A symbolic link where targets can be, named with its target, not followed.
    Link(PathBuf, PathBuf),
    /// A link to a directory holding a manifest: a tree of its own, walked too.
    LinkedTree(PathBuf, PathBuf),
    /// A file cargo reads (through links): its contents (`None`: it cannot be read).
    Read(PathBuf, Option<Vec<u8>>),
    /// Something that is no regular file under a name cargo reads: its kind.
    Special(PathBuf, &'static str),
    /// A file that may be a target.
    Named(PathBuf),
    /// A `.rs` file in a `src` directory: a target only when the manifest names a `[lib]`
    /// or `[[bin]]` without a path (cargo's legacy `src/{name}.rs`).
    SrcFile(PathBuf),
}

/// Walks the tree at `top` into `key` (`.git` and cargo's target dirs, marked by
/// `CACHEDIR.TAG`, skipped) and returns the manifests found, with their text, and the
/// linked directories to walk as trees of their own. Directories are read on a few
/// threads: the walk is mostly waiting for the file system, and it comes before every
/// cache lookup.
fn walk(key: &mut KeyBuilder, top: &Path) -> (Vec<(PathBuf, Vec<u8>)>, Vec<PathBuf>) {
    let mut found = walk_parallel(top);
    found.sort_unstable_by(|a, b| a.path().cmp(b.path()).then_with(|| a.cmp(b)));
    let manifests: Vec<(PathBuf, Vec<u8>)> = found
        .iter()
        .filter_map(|item| match item {
            Found::Read(path, Some(contents))
                if path.file_name() == Some(OsStr::new("Cargo.toml")) =>
            {
                Some((top.join(path), contents.clone()))
            }
            _ => None,
        })
        .collect();
    let legacy_src_dirs: BTreeSet<PathBuf> = manifests
        .iter()
        .filter(|(_, text)| names_targets_without_path(text))
        .filter_map(|(manifest, _)| Some(manifest.parent()?.join("src")))
        .collect();
    let mut linked_trees = Vec::new();
    for item in found {
        match item {
            Found::Unreadable(dir) => {
                key.field("unreadable", top.join(dir).as_os_str().as_encoded_bytes());
            }
            Found::Link(path, target) => {
                key.field("link", path.as_os_str().as_encoded_bytes())
                    .field("to", target.as_os_str().as_encoded_bytes());
            }
            Found::LinkedTree(path, target) => {
                key.field("linked tree", path.as_os_str().as_encoded_bytes())
                    .field("to", target.as_os_str().as_encoded_bytes());
                linked_trees.push(top.join(path));
            }
            Found::Read(path, contents) => add_contents(key, &top.join(path), contents.as_deref()),
            Found::Special(path, kind) => {
                warn_special(&top.join(&path), kind);
                key.field("special", path.as_os_str().as_encoded_bytes());
            }
            Found::Named(path) => {
                key.field("name", path.as_os_str().as_encoded_bytes());
            }
            Found::SrcFile(path) => {
                if path
                    .parent()
                    .is_some_and(|src| legacy_src_dirs.contains(&top.join(src)))
                {
                    key.field("name", path.as_os_str().as_encoded_bytes());
                }
            }
        }
    }
    for (manifest, text) in &manifests {
        add_target_paths(key, manifest, text);
    }
    (manifests, linked_trees)
}

/// Whether a manifest has a `[lib]` or `[[bin]]` without a `path`: cargo then also looks
/// for `src/{name}.rs`.
fn names_targets_without_path(text: &[u8]) -> bool {
    let Some(table) = parse_manifest(text) else {
        return true;
    };
    let no_path = |target: &toml::Value| target.get("path").is_none();
    table.get("lib").is_some_and(no_path)
        || table
            .get("bin")
            .and_then(|bins| bins.as_array())
            .is_some_and(|bins| bins.iter().any(no_path))
}

fn parse_manifest(text: &[u8]) -> Option<toml::Table> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Whether each path a manifest names for a target (`[lib]`, `[[bin]]`, `[[example]]`,
/// `[[test]]`, `[[bench]]`, `package.build`) exists: cargo fails on a missing one.
fn add_target_paths(key: &mut KeyBuilder, manifest: &Path, text: &[u8]) {
    let (Some(base), Some(table)) = (manifest.parent(), parse_manifest(text)) else {
        return;
    };
    let mut paths: Vec<&str> = Vec::new();
    let targets = table.get("lib").into_iter().chain(
        ["bin", "example", "test", "bench"]
            .into_iter()
            .filter_map(|kind| table.get(kind)?.as_array())
            .flatten(),
    );
    paths.extend(targets.filter_map(|target| target.get("path")?.as_str()));
    paths.extend(
        table
            .get("package")
            .and_then(|package| package.get("build")?.as_str()),
    );
    for path in paths {
        let full = base.join(path);
        key.field("target path", full.as_os_str().as_encoded_bytes())
            .field("exists", &[u8::from(full.exists())]);
    }
}

impl Found {
    fn path(&self) -> &Path {
        match self {
            Found::Unreadable(path)
            | Found::Link(path, _)
            | Found::LinkedTree(path, _)
            | Found::Read(path, _)
            | Found::Special(path, _)
            | Found::Named(path)
            | Found::SrcFile(path) => path,
        }
    }
}

/// Everything under `top`, one level of directories at a time, each level's directories
/// read on a few threads.
fn walk_parallel(top: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    let mut level = vec![top.to_path_buf()];
    while !level.is_empty() {
        let mut next = Vec::new();
        for (items, subdirs) in run_parallel(&level, &|_| {}, |dir| read_one_dir(top, dir)) {
            found.extend(items);
            next.extend(subdirs);
        }
        level = next;
    }
    found
}

/// One directory of the tree at `top`: what in it counts, and the subdirectories to walk.
fn read_one_dir(top: &Path, dir: &Path) -> (Vec<Found>, Vec<PathBuf>) {
    let relative = |path: &Path| path.strip_prefix(top).unwrap_or(path).to_path_buf();
    let Ok(read) = fs::read_dir(dir) else {
        return (vec![Found::Unreadable(relative(dir))], Vec::new());
    };
    let in_cargo_dir = dir.file_name() == Some(OsStr::new(".cargo"));
    let in_src_dir = dir.file_name() == Some(OsStr::new("src"));
    let mut items = Vec::new();
    let mut subdirs = Vec::new();
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let rel = relative(&path);
        if content_counts(&name, in_cargo_dir) {
            // Read through a link: cargo reads the target's contents.
            items.push(match regular::read(&path, true) {
                regular::Found::Contents(contents) => Found::Read(rel, Some(contents)),
                regular::Found::Special(kind) => Found::Special(rel, kind),
                _ => Found::Read(rel, None),
            });
        } else if kind.is_symlink() {
            let target = fs::read_link(&path).unwrap_or_default();
            if path.join("Cargo.toml").is_file() {
                items.push(Found::LinkedTree(rel, target));
            } else if may_be_target(&rel) || may_hold_targets(&rel) {
                items.push(Found::Link(rel, target));
            }
        } else if kind.is_dir() {
            if name == ".git" || path.join("CACHEDIR.TAG").is_file() {
                continue;
            }
            subdirs.push(path);
        } else if may_be_target(&rel) || is_inferred_readme(&name, dir) {
            items.push(Found::Named(rel));
        } else if in_src_dir && name.as_encoded_bytes().ends_with(b".rs") {
            items.push(Found::SrcFile(rel));
        }
    }
    (items, subdirs)
}

/// The directories a manifest names: path dependencies (in every dependency table, the
/// workspace's, `[patch]` and `[replace]`), workspace members without globs, and the
/// workspace root a member points at.
fn manifest_dirs(manifest: &Path, text: &[u8]) -> Vec<PathBuf> {
    let Some(base) = manifest.parent() else {
        return Vec::new();
    };
    let Some(table) = parse_manifest(text) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    collect_paths(&toml::Value::Table(table.clone()), &mut paths);
    if let Some(workspace) = table.get("workspace").and_then(|w| w.as_table()) {
        for member in workspace
            .get("members")
            .and_then(|m| m.as_array())
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str())
            .filter(|m| !m.contains(['*', '?', '[']))
        {
            paths.push(member.to_string());
        }
    }
    if let Some(root) = table
        .get("package")
        .and_then(|p| p.get("workspace"))
        .and_then(|w| w.as_str())
    {
        paths.push(root.to_string());
    }
    paths.into_iter().map(|p| base.join(p)).collect()
}

/// Every `path = "…"` string in dependency-like tables, anywhere in the manifest.
fn collect_paths(value: &toml::Value, out: &mut Vec<String>) {
    if let toml::Value::Table(table) = value {
        for (name, child) in table {
            match (name.as_str(), child) {
                ("path", toml::Value::String(path)) => out.push(path.clone()),
                ("package" | "lib" | "bin" | "test" | "bench" | "example" | "badges", _) => {}
                _ => collect_paths(child, out),
            }
        }
    }
}

/// `config` and the files it includes, and theirs.
fn with_includes(config: &Path) -> Vec<PathBuf> {
    let mut files = vec![config.to_path_buf()];
    let mut next = 0;
    while let Some(file) = files.get(next).cloned() {
        next += 1;
        if files.len() > MAX_INCLUDES {
            break;
        }
        let base = file.parent().unwrap_or(Path::new("/")).to_path_buf();
        files.extend(include_names(&file).into_iter().map(|name| base.join(name)));
    }
    files
}

/// The paths a config file's `include` names (a path, a list of paths, or of
/// `{ path = ... }` tables), as written.
fn include_names(config: &Path) -> Vec<String> {
    let Some(table) = read_toml(config) else {
        return Vec::new();
    };
    match table.get("include") {
        Some(toml::Value::String(path)) => vec![path.clone()],
        Some(toml::Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str().or_else(|| item.get("path")?.as_str()))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The directories a config file names, relative to the directory holding `.cargo`:
/// directory and local-registry sources (`false`: packaged crates, whose manifests name no
/// paths), `paths` overrides and `[patch]` paths (`true`).
fn config_dirs(config: &Path) -> Vec<(PathBuf, bool)> {
    let Some(table) = read_toml(config) else {
        return Vec::new();
    };
    let base = config
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"));
    let mut dirs = Vec::new();
    for source in table
        .get("source")
        .and_then(|s| s.as_table())
        .into_iter()
        .flat_map(|sources| sources.values())
    {
        for kind in ["directory", "local-registry"] {
            if let Some(dir) = source.get(kind).and_then(|d| d.as_str()) {
                dirs.push((base.join(dir), false));
            }
        }
    }
    for path in table
        .get("paths")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
    {
        dirs.push((base.join(path), true));
    }
    if let Some(patch) = table.get("patch") {
        let mut paths = Vec::new();
        collect_paths(patch, &mut paths);
        dirs.extend(paths.into_iter().map(|path| (base.join(path), true)));
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_key(root: &Path) -> super::super::cache::CacheKey {
        let mut key = KeyBuilder::new("test");
        add_workspace(&mut key, root, None);
        key.finish()
    }

    #[test]
    fn names_count_everywhere_contents_only_where_cargo_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        fs::create_dir_all(ws.join("src")).unwrap();
        fs::write(ws.join("Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        fs::write(ws.join("src/lib.rs"), "").unwrap();
        let before = workspace_key(&ws);
        fs::write(ws.join("src/lib.rs"), "pub fn f() {}").unwrap();
        assert_eq!(workspace_key(&ws), before, "source contents do not count");
        fs::write(ws.join("src/extra.rs"), "").unwrap();
        fs::create_dir_all(ws.join("docs")).unwrap();
        fs::write(ws.join("docs/notes.md"), "").unwrap();
        fs::write(ws.join("cache-miss.json"), "{}").unwrap();
        std::os::unix::fs::symlink(dir.path(), ws.join("result")).unwrap();
        assert_eq!(
            workspace_key(&ws),
            before,
            "files no target or config leave it"
        );
        for target in [
            "src/bin/x.rs",
            "tests/y.rs",
            "examples/z/main.rs",
            "build.rs",
        ] {
            let path = ws.join(target);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "").unwrap();
            assert_ne!(workspace_key(&ws), before, "{target} is a new target");
            fs::remove_file(&path).unwrap();
        }
        fs::write(
            ws.join("Cargo.toml"),
            "[package]\nname = \"a\"\n[[bin]]\nname = \"extra\"\n",
        )
        .unwrap();
        let legacy = workspace_key(&ws);
        fs::remove_file(ws.join("src/extra.rs")).unwrap();
        assert_ne!(
            workspace_key(&ws),
            legacy,
            "src/{{name}}.rs of a [[bin]] counts"
        );
        fs::write(ws.join("Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        assert_eq!(workspace_key(&ws), before);
        fs::create_dir_all(ws.join("target/debug")).unwrap();
        fs::write(ws.join("target/CACHEDIR.TAG"), "").unwrap();
        fs::write(ws.join("target/debug/x"), "").unwrap();
        assert_eq!(workspace_key(&ws), before, "target dirs do not count");
        fs::write(ws.join("Cargo.toml"), "[package]\nname = \"a\" # c\n").unwrap();
        assert_ne!(workspace_key(&ws), before, "manifest contents count");
    }

    #[test]
    fn path_dependencies_and_directory_sources_outside_count() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        let outside = dir.path().join("outside");
        let vendor = dir.path().join("vendor/dep");
        for d in [&ws.join(".cargo"), &outside, &vendor] {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(
            ws.join("Cargo.toml"),
            "[package]\nname = \"a\"\n[target.'cfg(unix)'.dependencies]\nb = { path = \"../outside\" }\n",
        )
        .unwrap();
        fs::write(outside.join("Cargo.toml"), "[package]\nname = \"b\"\n").unwrap();
        fs::write(
            ws.join(".cargo/config.toml"),
            "[source.v]\ndirectory = \"../vendor\"\n",
        )
        .unwrap();
        fs::write(vendor.join("Cargo.toml"), "[package]\nname = \"dep\"\n").unwrap();
        let before = workspace_key(&ws);
        fs::write(
            outside.join("Cargo.toml"),
            "[package]\nname = \"b\"\n[lib]\n",
        )
        .unwrap();
        let after_outside = workspace_key(&ws);
        assert_ne!(after_outside, before);
        fs::write(vendor.join("Cargo.toml"), "[package]\nname = \"dep\"\n#\n").unwrap();
        assert_ne!(workspace_key(&ws), after_outside);
    }
}
