//! Copying trees for the replay: the workspace into a temp dir (with its cargo config's
//! relative source paths made absolute, and the cargo configs of the directories above
//! it carried along), and target dirs with their timestamps.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::interrupt::Interruption;

/// Copies a directory tree; `skip` names top-level entries not to copy. File
/// modification times are kept: cargo's freshness checks compare them. Only directories,
/// regular files and symlinks are copied: a FIFO, socket or device file is no source
/// (and opening a FIFO would wait for a writer). Stops early on a signal.
pub(crate) fn copy_tree(
    from: &Path,
    to: &Path,
    skip: &[&str],
    interruption: &Interruption,
) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        interruption.check()?;
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&source, &target, &[], interruption)?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&source)?;
            std::os::unix::fs::symlink(&link, &target)
                .with_context(|| format!("cannot link {}", target.display()))?;
        } else if kind.is_file() {
            copy_file(&source, &target)?;
        }
    }
    Ok(())
}

fn copy_file(source: &Path, target: &Path) -> Result<()> {
    fs::copy(source, target).with_context(|| format!("cannot copy {}", source.display()))?;
    let modified = fs::metadata(source)?.modified()?;
    fs::File::options()
        .write(true)
        .open(target)?
        .set_modified(modified)?;
    Ok(())
}

/// Sets the modification time of every file under `root` to `time`. The replay dates the
/// real source after the deps-only build: cargo would otherwise take a dummy build of a
/// workspace crate for fresh (crane gets the same effect from the dummy build script it
/// gives every package).
pub(crate) fn set_mtimes(root: &Path, time: std::time::SystemTime) -> Result<()> {
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

/// The files in a directory's `.cargo/` that cargo reads as its config.
const CONFIG_NAMES: [&str; 2] = ["config.toml", "config"];

/// Carries the cargo configs of the directories above `workspace` into `temp`, each to
/// the place it has relative to the outermost of them, and returns the directory the
/// workspace's copies go in (`temp` itself when there are none): cargo run in a copy
/// finds and merges them as it does in the workspace (a monorepo's source replacement,
/// say). Left out are cargo's home, whose config cargo reads wherever it runs, and the
/// directories `temp` lies in, where cargo finds the configs anyway.
pub(crate) fn carry_ancestor_configs(workspace: &Path, temp: &Path) -> Result<PathBuf> {
    let workspace = canonical(workspace)?;
    let temp_location = canonical(temp)?;
    let home = cargo_home();
    let holders: Vec<&Path> = workspace
        .ancestors()
        .skip(1)
        .filter(|dir| !temp_location.starts_with(dir))
        .filter(|dir| home.as_deref() != Some(dir.join(".cargo").as_path()))
        .filter(|dir| {
            CONFIG_NAMES
                .iter()
                .any(|name| dir.join(".cargo").join(name).is_file())
        })
        .collect();
    let (Some(outermost), Some(parent)) = (holders.last(), workspace.parent()) else {
        return Ok(temp.to_path_buf());
    };
    for dir in &holders {
        let copied = temp.join(dir.strip_prefix(outermost)?);
        fs::create_dir_all(copied.join(".cargo"))
            .with_context(|| format!("cannot create {}", copied.display()))?;
        for name in CONFIG_NAMES {
            let config = dir.join(".cargo").join(name);
            if config.is_file() {
                copy_file(&config, &copied.join(".cargo").join(name))?;
            }
        }
        pin_config_sources(dir, &copied)?;
    }
    Ok(temp.join(parent.strip_prefix(outermost)?))
}

fn canonical(path: &Path) -> Result<PathBuf> {
    fs::canonicalize(path).with_context(|| format!("cannot resolve {}", path.display()))
}

/// `$CARGO_HOME`, else `~/.cargo`, resolved.
fn cargo_home() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    fs::canonicalize(home).ok()
}

/// Makes relative `directory` / `local-registry` paths of `[source.*]` tables in the
/// copied workspace's `.cargo/config(.toml)` absolute, pointing where the original
/// config pointed (cargo resolves them against the directory holding `.cargo/`).
pub(crate) fn pin_config_sources(original_root: &Path, copied_root: &Path) -> Result<()> {
    for name in CONFIG_NAMES {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn ancestor_configs_keep_their_places_and_point_where_they_pointed() {
        let monorepo = tempfile::tempdir().unwrap();
        let top = monorepo.path().canonicalize().unwrap();
        write(
            &top.join(".cargo/config.toml"),
            "[source.vendored]\ndirectory = \"vendor\"\n",
        );
        write(&top.join("crates/.cargo/config"), "[build]\njobs = 1\n");
        let workspace = top.join("crates/group/ws");
        write(&workspace.join("Cargo.toml"), "[workspace]\n");
        let temp = tempfile::tempdir().unwrap();

        let copies = carry_ancestor_configs(&workspace, temp.path()).unwrap();

        assert_eq!(copies, temp.path().join("crates/group"));
        let outer: toml::Table = fs::read_to_string(temp.path().join(".cargo/config.toml"))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            outer["source"]["vendored"]["directory"].as_str(),
            top.join("vendor").to_str()
        );
        assert_eq!(
            fs::read_to_string(temp.path().join("crates/.cargo/config")).unwrap(),
            "[build]\njobs = 1\n"
        );
    }

    #[test]
    fn without_ancestor_configs_the_copies_go_in_the_temp_dir() {
        let parent = tempfile::tempdir().unwrap();
        let workspace = parent.path().join("ws");
        write(&workspace.join("Cargo.toml"), "[workspace]\n");
        let temp = tempfile::tempdir().unwrap();
        assert_eq!(
            carry_ancestor_configs(&workspace, temp.path()).unwrap(),
            temp.path()
        );
        assert!(!temp.path().join(".cargo").exists());
    }
}
