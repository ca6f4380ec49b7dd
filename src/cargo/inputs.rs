//! What a cargo answer depends on besides its arguments and environment, gathered into a
//! cache key: the files cargo reads (every `Cargo.toml`, `Cargo.lock`, `.cargo/config{,.toml}`
//! in the workspace, above it and in `CARGO_HOME`, `rust-toolchain{,.toml}`), the names of
//! every file in the workspace and in path dependencies and directory sources outside it
//! (cargo finds targets by file name: a new `tests/x.rs` is a new unit), and the programs
//! that answer (`cargo` and `rustc` on `PATH`, and the rustup toolchains behind a proxy).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::cache::KeyBuilder;
use crate::parallel::run_parallel;

/// The files cargo reads whose contents, not only names, count.
fn content_counts(name: &OsStr, parent_is_cargo_dir: bool) -> bool {
    matches!(
        name.to_str(),
        Some("Cargo.toml" | "Cargo.lock" | "rust-toolchain" | "rust-toolchain.toml")
    ) || (parent_is_cargo_dir && matches!(name.to_str(), Some("config" | "config.toml")))
}

/// Adds the files cargo reads around `dir` without walking below it: the config and
/// toolchain files and manifests of `dir` and every directory above, and `CARGO_HOME`'s
/// config. What `cargo locate-project` and `cargo -vV` can depend on.
pub fn add_surroundings(key: &mut KeyBuilder, dir: &Path, cargo_home: Option<&Path>) {
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
    }
    if let Some(home) = cargo_home {
        add_file(key, &home.join("config"));
        add_file(key, &home.join("config.toml"));
    }
}

/// `CARGO_HOME` as cargo finds it: the variable, else `~/.cargo`.
pub fn cargo_home(env_value: Option<&OsStr>) -> Option<PathBuf> {
    env_value
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

/// A file's path and contents (or that it is absent).
fn add_file(key: &mut KeyBuilder, path: &Path) {
    add_contents(key, path, fs::read(path).ok().as_deref());
}

/// [`add_file`] of contents already read (`None`: the file cannot be read).
fn add_contents(key: &mut KeyBuilder, path: &Path, contents: Option<&[u8]>) {
    let path_bytes = path.as_os_str().as_encoded_bytes();
    match contents {
        Some(contents) => key.field("file", path_bytes).field("contents", contents),
        None => key.field("absent", path_bytes),
    };
}

/// Adds the whole workspace at `root`: every file's name, the contents of the files cargo
/// reads, and the same for path dependencies, workspace members and directory sources that
/// lie outside it (found in the manifests and config files read on the way).
pub fn add_workspace(key: &mut KeyBuilder, root: &Path, cargo_home: Option<&Path>) {
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
        pending.extend(config_dirs(config));
    }
    while let Some((dir, follow)) = pending.pop() {
        let dir = dir.canonicalize().unwrap_or(dir);
        if walked.iter().any(|done| dir.starts_with(done)) {
            continue;
        }
        walked.insert(dir.clone());
        key.field("tree", dir.as_os_str().as_encoded_bytes());
        for (manifest, text) in walk(key, &dir) {
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
    /// A symbolic link, named with its target, not followed.
    Link(PathBuf, PathBuf),
    Dir(PathBuf),
    /// A file cargo reads: its contents (`None`: it cannot be read).
    Read(PathBuf, Option<Vec<u8>>),
    Named(PathBuf),
}

/// Walks the tree at `top` into `key` (names of everything, contents of what cargo reads;
/// `.git` and cargo's target dirs, marked by `CACHEDIR.TAG`, skipped) and returns the
/// manifests found, with their text. Directories are read on a few threads: the walk is
/// mostly waiting for the file system, and it comes before every cache lookup.
fn walk(key: &mut KeyBuilder, top: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut manifests = Vec::new();
    let mut found = walk_parallel(top);
    found.sort_unstable_by(|a, b| a.path().cmp(b.path()).then_with(|| a.cmp(b)));
    for item in found {
        match item {
            Found::Unreadable(dir) => {
                key.field("unreadable", top.join(dir).as_os_str().as_encoded_bytes());
            }
            Found::Link(path, target) => {
                key.field("link", path.as_os_str().as_encoded_bytes())
                    .field("to", target.as_os_str().as_encoded_bytes());
            }
            Found::Dir(path) => {
                key.field("dir", path.as_os_str().as_encoded_bytes());
            }
            Found::Read(path, contents) => {
                let full = top.join(&path);
                add_contents(key, &full, contents.as_deref());
                if let (Some(contents), true) =
                    (contents, path.file_name() == Some(OsStr::new("Cargo.toml")))
                {
                    manifests.push((full, contents));
                }
            }
            Found::Named(path) => {
                key.field("name", path.as_os_str().as_encoded_bytes());
            }
        }
    }
    manifests
}

impl Found {
    fn path(&self) -> &Path {
        match self {
            Found::Unreadable(path)
            | Found::Link(path, _)
            | Found::Dir(path)
            | Found::Read(path, _)
            | Found::Named(path) => path,
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

/// One directory of the tree at `top`: what it holds, and the subdirectories to walk.
fn read_one_dir(top: &Path, dir: &Path) -> (Vec<Found>, Vec<PathBuf>) {
    let relative = |path: &Path| path.strip_prefix(top).unwrap_or(path).to_path_buf();
    let Ok(read) = fs::read_dir(dir) else {
        return (vec![Found::Unreadable(relative(dir))], Vec::new());
    };
    let in_cargo_dir = dir.file_name() == Some(OsStr::new(".cargo"));
    let mut items = Vec::new();
    let mut subdirs = Vec::new();
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            let target = fs::read_link(&path).unwrap_or_default();
            items.push(Found::Link(relative(&path), target));
        } else if kind.is_dir() {
            if name == ".git" || path.join("CACHEDIR.TAG").is_file() {
                continue;
            }
            items.push(Found::Dir(relative(&path)));
            subdirs.push(path);
        } else if content_counts(&name, in_cargo_dir) {
            items.push(Found::Read(relative(&path), fs::read(&path).ok()));
        } else {
            items.push(Found::Named(relative(&path)));
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
    let Some(table) = std::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
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

/// The directories a config file names, relative to the directory holding `.cargo`:
/// directory and local-registry sources (`false`: packaged crates, whose manifests name no
/// paths) and `paths` overrides (`true`).
fn config_dirs(config: &Path) -> Vec<(PathBuf, bool)> {
    let Some(table) = fs::read_to_string(config)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
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
    dirs
}

/// Adds the program `name` as `path_var` finds it: its real path, size and modification
/// time; behind a rustup proxy, rustup's settings and every installed toolchain's `cargo`
/// and `rustc` (an update replaces them). What `cargo -vV` and `rustc -vV` depend on.
pub fn add_program(key: &mut KeyBuilder, name: &Path, path_var: Option<&OsStr>) {
    let found = if name.components().count() > 1 {
        Some(name.to_path_buf())
    } else {
        path_var
            .into_iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    };
    let Some(found) = found else {
        key.field("program not found", name.as_os_str().as_encoded_bytes());
        return;
    };
    let real = found.canonicalize().unwrap_or(found);
    add_stamp(key, &real);
    let is_rustup = real
        .file_name()
        .and_then(OsStr::to_str)
        .is_some_and(|n| n.starts_with("rustup"));
    if is_rustup {
        let home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")));
        if let Some(home) = home {
            add_file(key, &home.join("settings.toml"));
            let mut toolchains: Vec<PathBuf> = fs::read_dir(home.join("toolchains"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            toolchains.sort();
            for toolchain in toolchains {
                add_stamp(key, &toolchain.join("bin/cargo"));
                add_stamp(key, &toolchain.join("bin/rustc"));
            }
        }
    }
}

/// A file's path, size and modification time.
fn add_stamp(key: &mut KeyBuilder, path: &Path) {
    let stamp = fs::metadata(path).map(|meta| {
        let modified = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        format!("{} {}", meta.len(), modified.as_nanos())
    });
    key.field("program", path.as_os_str().as_encoded_bytes())
        .field("stamp", stamp.unwrap_or_default().as_bytes());
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
        assert_ne!(workspace_key(&ws), before, "a new file counts");
        fs::remove_file(ws.join("src/extra.rs")).unwrap();
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
