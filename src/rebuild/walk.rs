//! Why a derivation differs between two evaluations, down to a leaf a crane user can act
//! on: a crane-aware `nix-diff`. The two closures are walked where their paths differ; an
//! attribute that differs only in the store paths it names leads into those paths (the
//! derivations that make them, or the sources), anything else is a leaf: a file of a
//! source, a versioned package, a hook, an attribute's text.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::source::nix::drv::{Derivation, store_name};

/// Why one derivation differs from its old self. Produced by [`Walker::why`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Why {
    /// Files of a source (`src`, a path) that differ, by path within it.
    Files {
        attr: String,
        changed: Vec<String>,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// A package in an attribute whose version changed (`cargo 1.85.0 → 1.86.0`).
    Version {
        attr: String,
        name: String,
        old: String,
        new: String,
    },
    /// A store path the attribute names is made by a derivation that changed.
    Input {
        attr: String,
        /// Its name (`cargo-package-deps-0.0.1`, `inheritCargoArtifactsHook`).
        name: String,
        because: Vec<Why>,
    },
    /// A crane setup hook changed: crane itself was updated.
    Hook { attr: String, name: String },
    /// The attribute's own text changed (its store paths aside): the lines that differ.
    Attribute {
        attr: String,
        removed: Vec<String>,
        added: Vec<String>,
    },
    /// The attribute is a structured value (a manifest crane wrote as JSON): the keys whose
    /// values differ (`package.version`).
    Keys {
        attr: String,
        changes: Vec<KeyChange>,
    },
    /// The derivation is not in the old closure or the new one (it cannot be compared).
    Unknown { name: String },
}

/// One key of a structured attribute that differs: `null` where a side lacks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Attributes that only restate the derivation's own outputs.
const OWN_OUTPUTS: &[&str] = &["out", "outputs"];

/// How deep inputs are followed; a chain deeper than this ends in `Unknown`.
const DEPTH: usize = 12;

/// The old and new closures, with what makes each output path.
pub(crate) struct Walker<'a> {
    old: &'a BTreeMap<String, Derivation>,
    new: &'a BTreeMap<String, Derivation>,
    old_makers: HashMap<&'a str, &'a str>,
    new_makers: HashMap<&'a str, &'a str>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(
        old: &'a BTreeMap<String, Derivation>,
        new: &'a BTreeMap<String, Derivation>,
    ) -> Walker<'a> {
        Walker {
            old,
            new,
            old_makers: makers(old),
            new_makers: makers(new),
        }
    }

    /// Why `new_drv` differs from `old_drv` (nothing when they are one derivation).
    pub(crate) fn why(&self, old_drv: &str, new_drv: &str) -> Vec<Why> {
        self.why_at(old_drv, new_drv, 0)
    }

    fn why_at(&self, old_drv: &str, new_drv: &str, depth: usize) -> Vec<Why> {
        if old_drv == new_drv {
            return Vec::new();
        }
        let (Some(old), Some(new)) = (self.old.get(old_drv), self.new.get(new_drv)) else {
            return vec![Why::Unknown {
                name: store_name(new_drv).trim_end_matches(".drv").to_string(),
            }];
        };
        if depth >= DEPTH {
            return vec![Why::Unknown {
                name: store_name(new_drv).trim_end_matches(".drv").to_string(),
            }];
        }
        let keys: BTreeSet<&String> = old.env.keys().chain(new.env.keys()).collect();
        let mut whys = Vec::new();
        for key in keys {
            if OWN_OUTPUTS.contains(&key.as_str()) {
                continue;
            }
            let (a, b) = (
                old.env(key).unwrap_or_default(),
                new.env(key).unwrap_or_default(),
            );
            if a != b {
                whys.extend(self.value_why(key, a, b, depth));
            }
        }
        whys
    }

    /// Why an attribute's value changed.
    fn value_why(&self, attr: &str, old: &str, new: &str, depth: usize) -> Vec<Why> {
        let (old_shape, old_paths) = store_paths(old);
        let (new_shape, new_paths) = store_paths(new);
        if old_shape == new_shape && old_paths.len() == new_paths.len() {
            return old_paths
                .iter()
                .zip(&new_paths)
                .filter(|(a, b)| a != b)
                .flat_map(|(a, b)| self.path_why(attr, a, b, depth))
                .collect();
        }
        if let Some(whys) = self.list_why(attr, old, new, depth) {
            return whys;
        }
        if let Some(changes) = key_changes(&old_shape, &new_shape) {
            return vec![Why::Keys {
                attr: attr.to_string(),
                changes,
            }];
        }
        let old_lines: BTreeSet<&str> = old_shape.lines().collect();
        let new_lines: BTreeSet<&str> = new_shape.lines().collect();
        vec![Why::Attribute {
            attr: attr.to_string(),
            removed: old_lines
                .difference(&new_lines)
                .map(|l| l.to_string())
                .collect(),
            added: new_lines
                .difference(&old_lines)
                .map(|l| l.to_string())
                .collect(),
        }]
    }

    /// A list of store paths (`nativeBuildInputs`) whose entries changed: paired by name
    /// without version, a new version is a leaf, any other change is followed.
    fn list_why(&self, attr: &str, old: &str, new: &str, depth: usize) -> Option<Vec<Why>> {
        let (old, new) = (paths_by_name(old)?, paths_by_name(new)?);
        let mut whys = Vec::new();
        for (name, (new_version, new_path)) in &new {
            match old.get(name) {
                Some((old_version, old_path)) if old_version != new_version => {
                    whys.push(Why::Version {
                        attr: attr.to_string(),
                        name: name.clone(),
                        old: old_version.clone(),
                        new: new_version.clone(),
                    })
                }
                Some((_, old_path)) if old_path != new_path => {
                    whys.extend(self.path_why(attr, old_path, new_path, depth))
                }
                Some(_) => {}
                None => whys.push(Why::Attribute {
                    attr: attr.to_string(),
                    removed: Vec::new(),
                    added: vec![store_name(new_path).to_string()],
                }),
            }
        }
        let gone: Vec<String> = old
            .iter()
            .filter(|(name, _)| !new.contains_key(*name))
            .map(|(_, (_, path))| store_name(path).to_string())
            .collect();
        if !gone.is_empty() {
            whys.push(Why::Attribute {
                attr: attr.to_string(),
                removed: gone,
                added: Vec::new(),
            });
        }
        Some(whys)
    }

    /// Why a store path an attribute names changed: the derivation that makes it, or the
    /// files of a source.
    fn path_why(&self, attr: &str, old: &str, new: &str, depth: usize) -> Vec<Why> {
        let name = store_name(new).to_string();
        match (
            self.old_makers
                .get(old)
                .copied()
                .or(self.old.contains_key(old).then_some(old)),
            self.new_makers
                .get(new)
                .copied()
                .or(self.new.contains_key(new).then_some(new)),
        ) {
            (Some(old_drv), Some(new_drv)) => {
                if name.ends_with("Hook") {
                    return vec![Why::Hook {
                        attr: attr.to_string(),
                        name,
                    }];
                }
                let because = self.why_at(old_drv, new_drv, depth + 1);
                vec![Why::Input {
                    attr: attr.to_string(),
                    name,
                    because,
                }]
            }
            _ => vec![files_why(attr, Path::new(old), Path::new(new))],
        }
    }
}

/// A list of store paths by name without version: (version, path). `None` when the text
/// is not only store paths.
fn paths_by_name(text: &str) -> Option<BTreeMap<String, (String, String)>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.iter().all(|w| w.starts_with("/nix/store/")) {
        return None;
    }
    Some(
        words
            .iter()
            .map(|path| {
                let (name, version) = split_version(&without_inner_hash(store_name(path)));
                (name, (version, path.to_string()))
            })
            .collect(),
    )
}

/// Output path → the `.drv` that makes it.
fn makers(drvs: &BTreeMap<String, Derivation>) -> HashMap<&str, &str> {
    drvs.values()
        .flat_map(|drv| {
            drv.outputs
                .values()
                .map(move |out| (out.as_str(), drv.path.as_str()))
        })
        .collect()
}

/// The text with every store path's hash left out, and the store paths in order.
fn store_paths(text: &str) -> (String, Vec<String>) {
    const STORE: &str = "/nix/store/";
    let mut shape = String::with_capacity(text.len());
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some((before, after)) = rest.split_once(STORE) {
        shape.push_str(before);
        let hash: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let Some(tail) = after
            .strip_prefix(hash.as_str())
            .filter(|_| hash.len() == 32)
        else {
            shape.push_str(STORE);
            rest = after;
            continue;
        };
        let name: String = tail
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '/' | '"' | '\'' | ':' | ';'))
            .collect();
        paths.push(format!("{STORE}{hash}{name}"));
        shape.push_str(STORE);
        shape.push('…');
        shape.push_str(&without_inner_hash(&name));
        rest = tail.strip_prefix(name.as_str()).unwrap_or(tail);
    }
    shape.push_str(rest);
    (shape, paths)
}

/// The keys (dotted paths) whose values differ between two JSON objects; `None` when
/// either text is no JSON object.
fn key_changes(old: &str, new: &str) -> Option<Vec<KeyChange>> {
    let parse = |text: &str| match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(value @ serde_json::Value::Object(_)) => Some(value),
        _ => None,
    };
    let (old, new) = (parse(old)?, parse(new)?);
    let mut changes = Vec::new();
    collect_changes("", Some(&old), Some(&new), &mut changes);
    Some(changes)
}

fn collect_changes(
    key: &str,
    old: Option<&serde_json::Value>,
    new: Option<&serde_json::Value>,
    changes: &mut Vec<KeyChange>,
) {
    use serde_json::Value;
    if old == new {
        return;
    }
    if let (Some(Value::Object(a)), Some(Value::Object(b))) = (old, new) {
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in keys {
            let inner = match key.is_empty() {
                true => name.clone(),
                false => format!("{key}.{name}"),
            };
            collect_changes(&inner, a.get(name), b.get(name), changes);
        }
        return;
    }
    changes.push(KeyChange {
        key: key.to_string(),
        old: old.map(|v| v.to_string()),
        new: new.map(|v| v.to_string()),
    });
}

/// A name without the hash of another store path it was made from: Nix names a flake's
/// own source copied again `<hash>-source`, whose hash changes with every file.
fn without_inner_hash(name: &str) -> String {
    let trimmed = name.trim_start_matches('-');
    match trimmed.split_once('-') {
        Some((hash, rest))
            if hash.len() == 32 && hash.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            format!("-{rest}")
        }
        _ => name.to_string(),
    }
}

/// `cargo-1.85.0` → (`cargo`, `1.85.0`); a name without a version keeps it empty.
fn split_version(name: &str) -> (String, String) {
    let parts: Vec<&str> = name.split('-').collect();
    let first_version = parts
        .iter()
        .position(|part| part.starts_with(|c: char| c.is_ascii_digit()));
    match first_version {
        Some(i) if i > 0 => (parts[..i].join("-"), parts[i..].join("-")),
        _ => (name.to_string(), String::new()),
    }
}

/// The files that differ between two sources in the store (they are there once Nix
/// evaluated them).
fn files_why(attr: &str, old: &Path, new: &Path) -> Why {
    let (old_files, new_files) = (files_of(old), files_of(new));
    let changed = old_files
        .iter()
        .filter(|(path, bytes)| new_files.get(*path).is_some_and(|other| other != *bytes))
        .map(|(path, _)| path.clone())
        .collect();
    let added = new_files
        .keys()
        .filter(|path| !old_files.contains_key(*path))
        .cloned()
        .collect();
    let removed = old_files
        .keys()
        .filter(|path| !new_files.contains_key(*path))
        .cloned()
        .collect();
    Why::Files {
        attr: attr.to_string(),
        changed,
        added,
        removed,
    }
}

/// Every file under `root` (or `root` itself) by its path within it, with its bytes.
fn files_of(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let relative = path
            .strip_prefix(root)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                pending.push(entry.path());
            }
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap_or_default();
            files.insert(relative, target.display().to_string().into_bytes());
        } else {
            files.insert(relative, std::fs::read(&path).unwrap_or_default());
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_paths_are_taken_out_of_text() {
        let text = "cp /nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-cargo-1.85.0/bin/cargo $out";
        let (shape, paths) = store_paths(text);
        assert_eq!(shape, "cp /nix/store/…-cargo-1.85.0/bin/cargo $out");
        assert_eq!(
            paths,
            ["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-cargo-1.85.0"]
        );
    }

    #[test]
    fn structured_values_differ_by_key() {
        let changes = key_changes(
            r#"{"package":{"name":"server","version":"0.1.0"},"dependencies":{"a":"1"}}"#,
            r#"{"package":{"name":"server","version":"0.1.1"},"dependencies":{}}"#,
        )
        .unwrap();
        let keys: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| (c.key.as_str(), c.old.as_deref(), c.new.as_deref()))
            .collect();
        assert_eq!(
            keys,
            [
                ("dependencies.a", Some("\"1\""), None),
                ("package.version", Some("\"0.1.0\""), Some("\"0.1.1\""))
            ]
        );
        assert_eq!(key_changes("not json", "{}"), None);
    }

    #[test]
    fn versions_are_split_from_names() {
        assert_eq!(
            split_version("cargo-1.85.0"),
            ("cargo".to_string(), "1.85.0".to_string())
        );
        assert_eq!(
            split_version("cargo-package-deps-0.0.1"),
            ("cargo-package-deps".to_string(), "0.0.1".to_string())
        );
        assert_eq!(split_version("rsync"), ("rsync".to_string(), String::new()));
    }
}
