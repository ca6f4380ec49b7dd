//! crane's `mkDummySrc`, the source a `buildDepsOnly` builds from: the root `Cargo.lock`,
//! every `.cargo/config{,.toml}`, each `Cargo.toml` cleaned by `cleanCargoToml` (crane's
//! conservative filter: what cannot change how dependencies build is dropped), and a dummy
//! file for every target the manifest declares or cargo discovers in `src/` (`lib.rs`,
//! `main.rs`, `src/bin/*`). Nothing else of the source reaches it. `touch` asks which
//! files it reads ([`role`], [`cleaned_differences`]); `verify` writes it
//! ([`write_dummy_source`]).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::base_name;

/// What a file of the source is to `mkDummySrc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DummyRole {
    /// The root `Cargo.lock`: copied as is.
    Lock,
    /// A `.cargo/config` or `.cargo/config.toml`: copied as is.
    Config,
    /// A `Cargo.toml`: cleaned, then written anew.
    Manifest,
    /// `src/lib.rs`, `src/main.rs`, `src/bin/NAME.rs`, `src/bin/NAME/main.rs` beside a
    /// manifest: its existence (not its text) adds a dummy target.
    DiscoveredTarget,
    /// Not read.
    None,
}

/// The role of `relative` (to the source root); `is_manifest_dir` says whether a directory
/// (relative) holds a `Cargo.toml`.
pub(crate) fn role(relative: &Path, is_manifest_dir: impl Fn(&Path) -> bool) -> DummyRole {
    let base = base_name(relative);
    let parent = relative.parent().unwrap_or(Path::new(""));
    if relative == Path::new("Cargo.lock") {
        return DummyRole::Lock;
    }
    if base_name(parent) == ".cargo" && (base == "config" || base == "config.toml") {
        return DummyRole::Config;
    }
    if base == "Cargo.toml" {
        return DummyRole::Manifest;
    }
    let components: Vec<&str> = relative
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    // Where `src` is, and what follows it.
    for at in (0..components.len()).rev() {
        if components[at] != "src" {
            continue;
        }
        let crate_dir: std::path::PathBuf = components[..at].iter().collect();
        if !is_manifest_dir(&crate_dir) {
            continue;
        }
        let rest = &components[at + 1..];
        let discovered = match rest {
            ["lib.rs"] | ["main.rs"] => true,
            ["bin", file] => file.ends_with(".rs"),
            ["bin", _, "main.rs"] => true,
            _ => false,
        };
        if discovered {
            return DummyRole::DiscoveredTarget;
        }
    }
    DummyRole::None
}

/// crane's `cleanCargoToml` with its default (conservative) filter: the manifest parsed,
/// without the keys that cannot change how dependencies build. Comments and formatting are
/// gone too, since the result is written anew.
pub(crate) fn clean_cargo_toml(text: &str) -> Result<toml::Table> {
    let table: toml::Table = toml::from_str(text).context("not a valid Cargo.toml")?;
    Ok(clean_table(table, &mut Vec::new()))
}

fn clean_table(table: toml::Table, path: &mut Vec<String>) -> toml::Table {
    let mut kept = toml::Table::new();
    for (key, value) in table {
        path.push(key.clone());
        if !removed(path) {
            kept.insert(key, clean_value(value, path));
        }
        path.pop();
    }
    kept
}

fn clean_value(value: toml::Value, path: &mut Vec<String>) -> toml::Value {
    match value {
        toml::Value::Table(table) => toml::Value::Table(clean_table(table, path)),
        // Lists keep every element; their tables are filtered under the list's path.
        toml::Value::Array(items) => {
            toml::Value::Array(items.into_iter().map(|v| clean_value(v, path)).collect())
        }
        other => other,
    }
}

/// crane's `cargoTomlConservative` index: whether the key at `path` is removed.
fn removed(path: &[String]) -> bool {
    const PER_TARGET: &[&str] = &[
        "test",
        "doctest",
        "bench",
        "doc",
        "plugin",
        "required-features",
        "required_features",
    ];
    const PACKAGE: &[&str] = &[
        "authors",
        "autobenches",
        "autobins",
        "autoexamples",
        "autotests",
        "build",
        "categories",
        "default-run",
        "default_run",
        "description",
        "documentation",
        "exclude",
        "homepage",
        "include",
        "keywords",
        "license-file",
        "license_file",
        "license",
        "links",
        "metadata",
        "publish",
        "readme",
        "repository",
        "rust-version",
        "rust_version",
    ];
    let keys: Vec<&str> = path.iter().map(String::as_str).collect();
    match keys.as_slice() {
        ["badges", ..] | ["lints", ..] => true,
        ["package", key, ..] => PACKAGE.contains(key),
        ["workspace", "lints" | "metadata", ..] => true,
        ["lib" | "bin" | "example" | "test" | "bench", key, ..] => PER_TARGET.contains(key),
        _ => false,
    }
}

/// What crane's dummy target files hold: a proc-macro crate's have no `main` (crane's
/// `dummyBase` and `dummyMain`, without their `no_std` targets' attributes).
const DUMMY_BASE: &str = "#![allow(dead_code)]\n";
const DUMMY_MAIN: &str = "#![allow(dead_code)]\npub fn main() {}\n";

/// Writes crane's `mkDummySrc` of the source at `real` into `dummy`: the root `Cargo.lock`
/// and the cargo configs as they are, every `Cargo.toml` cleaned with its `package.build`
/// pointing at `build_script` (crane's `dummyBuild.rs`, written here, which gives every
/// package a build script), and a dummy file for each of its targets ([`dummy_targets`]).
pub(crate) fn write_dummy_source(real: &Path, dummy: &Path, build_script: &Path) -> Result<()> {
    let files = regular_files(real, Path::new(""))?;
    let manifest_dirs: BTreeSet<&Path> = files
        .iter()
        .filter(|f| base_name(f) == "Cargo.toml")
        .filter_map(|f| f.parent())
        .collect();
    let write = |relative: &Path, text: &[u8]| -> Result<()> {
        let file = dummy.join(relative);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))
    };
    fs::create_dir_all(dummy)?;
    fs::write(build_script, DUMMY_MAIN)
        .with_context(|| format!("cannot write {}", build_script.display()))?;
    for relative in &files {
        let read = || {
            fs::read(real.join(relative))
                .with_context(|| format!("cannot read {}", relative.display()))
        };
        match role(relative, |dir| manifest_dirs.contains(dir)) {
            DummyRole::Lock | DummyRole::Config => write(relative, &read()?)?,
            DummyRole::Manifest => {
                let text = String::from_utf8_lossy(&read()?).into_owned();
                // Not a manifest cargo reads (a test's data): cargo says so if it is one.
                let Ok(mut cleaned) = clean_cargo_toml(&text) else {
                    continue;
                };
                let crate_dir = relative.parent().unwrap_or(Path::new(""));
                let targets = dummy_targets(&cleaned, &real.join(crate_dir));
                let dummy_text = if is_proc_macro(&cleaned) {
                    DUMMY_BASE
                } else {
                    DUMMY_MAIN
                };
                if let Some(toml::Value::Table(package)) = cleaned.get_mut("package") {
                    let build = build_script.to_string_lossy().into_owned();
                    package.insert("build".into(), toml::Value::String(build));
                }
                write(relative, toml::to_string(&cleaned)?.as_bytes())?;
                // A target path is the manifest's text: one that leaves the source is not
                // written (crane writes into its own output only).
                for target in targets.iter().filter_map(|t| inside(&crate_dir.join(t))) {
                    write(&target, dummy_text.as_bytes())?;
                }
            }
            DummyRole::DiscoveredTarget | DummyRole::None => {}
        }
    }
    Ok(())
}

/// `path` without `.` and `..`, when it stays inside the directory it is relative to.
fn inside(path: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::Normal(name) => normal.push(name),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !normal.pop() {
                    return None;
                }
            }
            std::path::Component::RootDir | std::path::Component::Prefix(_) => return None,
        }
    }
    Some(normal)
}

/// The regular files under `root/dir` (relative to `root`); symlinked directories are
/// not followed.
fn regular_files(root: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let full = root.join(dir);
    for entry in fs::read_dir(&full).with_context(|| format!("cannot read {}", full.display()))? {
        let entry = entry?;
        let relative = dir.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files.extend(regular_files(root, &relative)?);
        } else if kind.is_file() || (kind.is_symlink() && root.join(&relative).is_file()) {
            files.push(relative);
        }
    }
    Ok(files)
}

/// crane's `isProcMacro`: the cleaned manifest's `[lib]` says so.
fn is_proc_macro(cleaned: &toml::Table) -> bool {
    let Some(lib) = cleaned.get("lib").and_then(toml::Value::as_table) else {
        return false;
    };
    let crate_types = lib.get("crate-type").and_then(toml::Value::as_array);
    lib.contains_key("proc-macro")
        || lib.contains_key("proc_macro")
        || crate_types.is_some_and(|types| {
            types
                .iter()
                .any(|t| matches!(t.as_str(), Some("proc-macro" | "proc_macro")))
        })
}

/// The target files crane stubs for a cleaned manifest in `crate_dir` (relative to it):
/// `src/main.rs` and every bin in `src/bin` that exist, each declared bin it did not
/// discover, the lib (declared, or `src/lib.rs` when it exists), and every declared bench,
/// example and test. A manifest without `[package]` (a virtual workspace) has none.
pub(crate) fn dummy_targets(cleaned: &toml::Table, crate_dir: &Path) -> Vec<PathBuf> {
    let Some(package) = cleaned.get("package").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    let string = |table: &toml::Table, key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    let flag = |key: &str| {
        package
            .get(key)
            .and_then(toml::Value::as_bool)
            .unwrap_or(true)
    };
    let declared = |kind: &str| -> Vec<toml::Table> {
        let targets = cleaned.get(kind).and_then(toml::Value::as_array);
        targets
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_table().cloned())
            .collect()
    };
    let src = crate_dir.join("src");
    let mut targets: Vec<String> = Vec::new();
    // `autobins` is one of the keys cleaning removes, so crane always discovers.
    let autobins = flag("autobins");
    if autobins && src.join("main.rs").is_file() {
        targets.push("src/main.rs".into());
    }
    let mut discovered: Vec<String> = Vec::new();
    if let (true, Ok(entries)) = (autobins, fs::read_dir(src.join("bin"))) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if path.is_file() {
                discovered.push(format!("src/bin/{name}"));
            } else if path.join("main.rs").is_file() {
                discovered.push(format!("src/bin/{name}/main.rs"));
            }
        }
    }
    discovered.sort();
    let package_name = string(package, "name").unwrap_or_default();
    for bin in declared("bin") {
        let name = string(&bin, "name").unwrap_or_default();
        let short = format!("src/bin/{name}.rs");
        let long = format!("src/bin/{name}/main.rs");
        match string(&bin, "path") {
            Some(path) if !discovered.contains(&path) => targets.push(path),
            Some(_) => {}
            None if name == package_name
                || discovered.contains(&short)
                || discovered.contains(&long) => {}
            None => targets.push(short),
        }
    }
    targets.extend(discovered);
    let lib = cleaned.get("lib").and_then(toml::Value::as_table);
    let has_lib_rs = flag("autolib") && src.join("lib.rs").is_file();
    if lib.is_some() || has_lib_rs {
        targets.push(
            lib.and_then(|l| string(l, "path"))
                .unwrap_or_else(|| "src/lib.rs".into()),
        );
    }
    for (kind, dir) in [
        ("bench", "benches"),
        ("example", "examples"),
        ("test", "tests"),
    ] {
        for target in declared(kind) {
            let name = string(&target, "name").unwrap_or_default();
            targets.push(string(&target, "path").unwrap_or_else(|| format!("{dir}/{name}.rs")));
        }
    }
    targets.into_iter().map(PathBuf::from).collect()
}

/// The top-level keys (`package.version`, `dependencies`) whose cleaned values differ
/// between two manifests; empty when the dummy source is the same. A missing manifest is
/// an empty one.
pub(crate) fn cleaned_differences(
    before: Option<&str>,
    after: Option<&str>,
) -> Result<Vec<String>> {
    let clean = |text: Option<&str>| text.map_or_else(|| Ok(toml::Table::new()), clean_cargo_toml);
    let (before, after) = (clean(before)?, clean(after)?);
    let mut keys: Vec<String> = Vec::new();
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let (a, b) = (before.get(name), after.get(name));
        if a == b {
            continue;
        }
        match (a, b) {
            (Some(toml::Value::Table(a)), Some(toml::Value::Table(b))) => {
                let inner: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                keys.extend(
                    inner
                        .into_iter()
                        .filter(|k| a.get(*k) != b.get(*k))
                        .map(|k| format!("{name}.{k}")),
                );
            }
            _ => keys.push(name.clone()),
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[package]
name = "app" # the app
version = "0.1.0"
edition = "2021"
description = "An app"
authors = ["someone"]
license = "MIT"

[lints.rust]
unsafe_code = "forbid"

[badges]
maintenance = { status = "actively-developed" }

[[bin]]
name = "app"
test = false
required-features = ["cli"]

[dependencies]
leaf = "1"
"#;

    #[test]
    fn conservative_filter_keeps_what_builds_dependencies() {
        let cleaned = clean_cargo_toml(MANIFEST).unwrap();
        let package = cleaned["package"].as_table().unwrap();
        let kept: Vec<&String> = package.keys().collect();
        assert_eq!(kept, ["name", "version", "edition"]);
        assert!(!cleaned.contains_key("lints") && !cleaned.contains_key("badges"));
        let bin = cleaned["bin"].as_array().unwrap()[0].as_table().unwrap();
        assert_eq!(bin.keys().collect::<Vec<_>>(), ["name"]);
        assert!(cleaned.contains_key("dependencies"));
    }

    #[test]
    fn comments_descriptions_and_formatting_do_not_count_a_version_does() {
        let commented = MANIFEST
            .replace("# the app", "# renamed comment")
            .replace("An app", "A fine app")
            .replace("leaf = \"1\"", "leaf   =   \"1\"");
        assert!(
            cleaned_differences(Some(MANIFEST), Some(&commented))
                .unwrap()
                .is_empty()
        );
        let bumped = MANIFEST.replace("0.1.0", "0.2.0");
        assert_eq!(
            cleaned_differences(Some(MANIFEST), Some(&bumped)).unwrap(),
            ["package.version"]
        );
        let dependency = format!("{MANIFEST}twig = \"1\"\n");
        assert_eq!(
            cleaned_differences(Some(MANIFEST), Some(&dependency)).unwrap(),
            ["dependencies.twig"]
        );
    }

    /// The files `mkDummySrc` makes of a workspace, as crane's `lib/mkDummySrc.nix` writes
    /// them: the lock and configs copied, manifests cleaned with the dummy build script,
    /// dummies for discovered and declared targets only, nothing else.
    #[test]
    fn writes_the_dummy_source_crane_does() {
        let temp = tempfile::tempdir().unwrap();
        let (real, dummy) = (temp.path().join("real"), temp.path().join("dummy"));
        let build_script = temp.path().join("dummy-build.rs");
        // A declared bin named like the package is `src/main.rs`; `tool` is not discovered.
        // Target paths that leave the source are not written.
        let outside = temp.path().join("outside.rs");
        let manifest = format!(
            "{MANIFEST}\n[[bin]]\nname = \"tool\"\n\n[[example]]\nname = \"up\"\npath = \"../up.rs\"\n\n[[bench]]\nname = \"abs\"\npath = {:?}\n",
            outside.display().to_string()
        );
        let files = [
            ("Cargo.lock", "# lock\n"),
            (".cargo/config.toml", "[build]\n"),
            ("README.md", "readme\n"),
            ("build.rs", "fn main() { real(); }\n"),
            ("Cargo.toml", manifest.as_str()),
            ("src/main.rs", "fn main() { real(); }\n"),
            ("src/lib.rs", "pub fn real() {}\n"),
            ("src/util.rs", "pub fn util() {}\n"),
            ("src/bin/extra.rs", "fn main() {}\n"),
            ("tests/undeclared.rs", "#[test] fn t() {}\n"),
            ("tests/data/Cargo.toml", "not [ a manifest"),
            (
                "crates/pm/Cargo.toml",
                "[package]\nname = \"pm\"\nversion = \"0.1.0\"\n\n[lib]\nproc-macro = true\n\n[[test]]\nname = \"declared\"\n",
            ),
            ("crates/pm/src/lib.rs", "real\n"),
        ];
        for (path, text) in files {
            let file = real.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        write_dummy_source(&real, &dummy, &build_script).unwrap();

        let mut written = regular_files(&dummy, Path::new("")).unwrap();
        written.sort();
        let expected: Vec<PathBuf> = [
            ".cargo/config.toml",
            "Cargo.lock",
            "Cargo.toml",
            "crates/pm/Cargo.toml",
            "crates/pm/src/lib.rs",
            "crates/pm/tests/declared.rs",
            "src/bin/extra.rs",
            "src/bin/tool.rs",
            "src/lib.rs",
            "src/main.rs",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(written, expected);
        assert!(!outside.exists() && !temp.path().join("up.rs").exists());
        let read = |path: &str| std::fs::read_to_string(dummy.join(path)).unwrap();
        assert_eq!(read("Cargo.lock"), "# lock\n");
        let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
        assert_eq!(
            manifest["package"]["build"].as_str(),
            Some(build_script.to_str().unwrap())
        );
        assert!(!manifest.contains_key("lints") && !manifest.contains_key("badges"));
        assert!(
            !manifest["package"]
                .as_table()
                .unwrap()
                .contains_key("description")
        );
        assert_eq!(read("src/lib.rs"), DUMMY_MAIN);
        assert_eq!(read("crates/pm/src/lib.rs"), DUMMY_BASE);
        assert_eq!(std::fs::read_to_string(&build_script).unwrap(), DUMMY_MAIN);
    }

    #[test]
    fn roles_of_files() {
        let manifest_dirs = |dir: &Path| dir == Path::new("") || dir == Path::new("crates/core");
        let role_of = |p: &str| role(Path::new(p), manifest_dirs);
        assert_eq!(role_of("Cargo.lock"), DummyRole::Lock);
        assert_eq!(role_of("crates/core/Cargo.lock"), DummyRole::None);
        assert_eq!(role_of(".cargo/config.toml"), DummyRole::Config);
        assert_eq!(role_of("crates/core/Cargo.toml"), DummyRole::Manifest);
        assert_eq!(role_of("src/main.rs"), DummyRole::DiscoveredTarget);
        assert_eq!(role_of("src/bin/tool.rs"), DummyRole::DiscoveredTarget);
        assert_eq!(
            role_of("crates/core/src/bin/x/main.rs"),
            DummyRole::DiscoveredTarget
        );
        assert_eq!(role_of("crates/core/src/util.rs"), DummyRole::None);
        assert_eq!(role_of("crates/other/src/lib.rs"), DummyRole::None);
        assert_eq!(role_of("README.md"), DummyRole::None);
    }
}
