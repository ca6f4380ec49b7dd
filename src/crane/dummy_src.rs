//! crane's `mkDummySrc`, the source a `buildDepsOnly` builds from: the root `Cargo.lock`,
//! every `.cargo/config{,.toml}`, each `Cargo.toml` cleaned by `cleanCargoToml` (crane's
//! conservative filter: what cannot change how dependencies build is dropped), and a dummy
//! file for every target the manifest declares or cargo discovers in `src/` (`lib.rs`,
//! `main.rs`, `src/bin/*`). Nothing else of the source reaches it.

use std::path::Path;

use anyhow::{Context, Result};

use crate::source_set::filters::base_name;

/// What a file of the source is to `mkDummySrc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DummyRole {
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
pub fn role(relative: &Path, is_manifest_dir: impl Fn(&Path) -> bool) -> DummyRole {
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
pub fn clean_cargo_toml(text: &str) -> Result<toml::Table> {
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

/// The top-level keys (`package.version`, `dependencies`) whose cleaned values differ
/// between two manifests; empty when the dummy source is the same. A missing manifest is
/// an empty one.
pub fn cleaned_differences(before: Option<&str>, after: Option<&str>) -> Result<Vec<String>> {
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
