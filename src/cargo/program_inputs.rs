//! The programs that answer, in a cache key: `cargo` and `rustc` as `PATH` finds them, and
//! behind a rustup proxy the toolchains it can run.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::cache::KeyBuilder;
use super::inputs::add_file;

/// Adds the program `name` as `path_var` finds it: its real path, size and modification
/// time; behind a rustup proxy, rustup's settings and every installed toolchain's `cargo`
/// and `rustc` (an update replaces them). What `cargo -vV` and `rustc -vV` depend on.
pub(crate) fn add_program(key: &mut KeyBuilder, name: &Path, path_var: Option<&OsStr>) {
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
