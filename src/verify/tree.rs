//! Copying trees for the replay: the workspace into a temp dir (with its cargo config's
//! relative source paths made absolute), and target dirs with their timestamps.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

/// Copies a directory tree; `skip` names top-level entries not to copy. File
/// modification times are kept: cargo's freshness checks compare them.
pub fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&source, &target, &[])?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&source)?;
            std::os::unix::fs::symlink(&link, &target)
                .with_context(|| format!("cannot link {}", target.display()))?;
        } else {
            fs::copy(&source, &target)
                .with_context(|| format!("cannot copy {}", source.display()))?;
            let modified = entry.metadata()?.modified()?;
            fs::File::options()
                .write(true)
                .open(&target)?
                .set_modified(modified)?;
        }
    }
    Ok(())
}

/// Sets the modification time of every file under `root` to `time`. The replay dates the
/// real source after the deps-only build: cargo would otherwise take a dummy build of a
/// workspace crate for fresh (crane gets the same effect from the dummy build script it
/// gives every package).
pub fn set_mtimes(root: &Path, time: std::time::SystemTime) -> Result<()> {
    for entry in fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            set_mtimes(&entry.path(), time)?;
        } else if kind.is_file() {
            fs::File::options()
                .write(true)
                .open(entry.path())
                .and_then(|file| file.set_modified(time))
                .with_context(|| format!("cannot date {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Makes relative `directory` / `local-registry` paths of `[source.*]` tables in the
/// copied workspace's `.cargo/config(.toml)` absolute, pointing where the original
/// config pointed (cargo resolves them against the directory holding `.cargo/`).
pub fn pin_config_sources(original_root: &Path, copied_root: &Path) -> Result<()> {
    for name in ["config.toml", "config"] {
        let path = copied_root.join(".cargo").join(name);
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let mut config: toml::Table = text
            .parse()
            .with_context(|| format!("cannot parse {}", path.display()))?;
        let mut changed = false;
        if let Some(toml::Value::Table(sources)) = config.get_mut("source") {
            for (_, source) in sources.iter_mut() {
                let toml::Value::Table(source) = source else {
                    continue;
                };
                for key in ["directory", "local-registry"] {
                    if let Some(toml::Value::String(dir)) = source.get_mut(key) {
                        if Path::new(dir.as_str()).is_relative() {
                            *dir = original_root.join(dir.as_str()).display().to_string();
                            changed = true;
                        }
                    }
                }
            }
        }
        if changed {
            fs::write(&path, toml::to_string(&config)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}
