//! Only cargo runs while phases are resolved: settings that name a program to run (a
//! compiler, a wrapper, a linker, a credential helper, a search path for programs) never
//! reach resolution, wherever they come from — a phase's environment, a `--config`
//! argument in its commands, cargo's config files, or the user's shell. Resolution does not
//! need them: cargo resolves the same units with the toolchain's own `rustc`.
//!
//! Nor does resolution let rustc load code: cargo asks rustc about the target
//! (`rustc - --print=cfg ...`) with the phase's rustflags, and `-Z codegen-backend=PATH`
//! (accepted, as every `-Z` flag, under `RUSTC_BOOTSTRAP=1`) makes rustc load that shared
//! object right then. A name (`-Z codegen-backend=NAME`) is looked up in the sysroot,
//! which `--sysroot` may point anywhere; `@FILE` arguments may hold either. Rustdoc never
//! runs while cargo resolves, and `-Z llvm-plugins` loads only when LLVM compiles. The
//! `[env]` table of a config file reaches the rustc that cargo asks, so an `LD_PRELOAD`
//! there is emptied too.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::toolchain::{ToolchainChoice, ToolchainOrigin};
use crate::located::{LocatedError, SourceLocation};

/// Whether an environment variable names a program, or where programs are found, for
/// cargo or the processes it starts.
pub(crate) fn program_variable(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "PATH",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTDOC",
        "CARGO",
        "RUSTUP_TOOLCHAIN",
        "RUSTUP_HOME",
        "CARGO_BUILD_RUSTC",
        "CARGO_BUILD_RUSTC_WRAPPER",
        "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_RUSTDOC",
        "CARGO_REGISTRY_CREDENTIAL_PROVIDER",
        "CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "GIT_EXEC_PATH",
        "BROWSER",
    ];
    const PREFIXES: &[&str] = &["LD_", "DYLD_", "CARGO_ALIAS_", "CARGO_CREDENTIAL_ALIAS_"];
    if EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p)) {
        return true;
    }
    let target_tool = name.starts_with("CARGO_TARGET_") || name.starts_with("CARGO_HOST_");
    (target_tool
        && ["_LINKER", "_RUNNER", "_AR"]
            .iter()
            .any(|s| name.ends_with(s)))
        || (name.starts_with("CARGO_REGISTRIES_")
            && (name.ends_with("_CREDENTIAL_PROVIDER") || name.ends_with("_CREDENTIAL_PROCESS")))
}

/// Whether a dotted config key (`build.rustc-wrapper`, `target.x86_64-unknown-linux-gnu.linker`)
/// names a program cargo may run.
pub(crate) fn program_config_key(path: &[&str]) -> bool {
    match path {
        [
            "build",
            "rustc" | "rustc-wrapper" | "rustc-workspace-wrapper" | "rustdoc",
        ] => true,
        ["target", _, "linker" | "runner" | "ar"] => true,
        ["host", "linker" | "runner"] | ["host", _, "linker" | "runner"] => true,
        [
            "registry",
            "credential-provider" | "global-credential-providers" | "credential-process",
        ] => true,
        [
            "registries",
            _,
            "credential-provider" | "credential-process",
        ] => true,
        ["credential-alias", ..] | ["alias", ..] => true,
        ["env", variable, ..] => program_variable(variable),
        ["doc", "browser"] => true,
        _ => false,
    }
}

/// The error for a toolchain file that pins a toolchain by its path (`[toolchain] path =
/// "…"`): a directory of programs the workspace names, which rustup would run as cargo.
/// The user's own `RUSTUP_TOOLCHAIN` may name one.
pub(crate) fn toolchain_path_pin(choice: &ToolchainChoice) -> Option<LocatedError> {
    let ToolchainOrigin::File(file) = &choice.origin else {
        return None;
    };
    let text = std::fs::read_to_string(file).ok()?;
    let path = match text.parse::<toml::Table>() {
        Ok(table) => value_at(&table, &["toolchain", "path"])
            .map(|path| path.as_str().unwrap_or_default().to_string()),
        // The one-line form: a channel, or a path to a toolchain.
        Err(_) => Some(text.trim().to_string()).filter(|line| line.contains(['/', '\\'])),
    }?;
    Some(LocatedError {
        location: SourceLocation::file(file.display().to_string()),
        message: format!(
            "pins the toolchain at the path {}: cache-miss runs no program a workspace names; to resolve with it, choose it yourself with RUSTUP_TOOLCHAIN=PATH",
            crate::text::echo(&path),
        ),
    })
}

/// The flag that makes rustc use its built-in backend; the last codegen-backend flag wins,
/// so it also overrides one that an `@FILE` argument holds.
pub(crate) const BUILT_IN_BACKEND: &str = "-Zcodegen-backend=llvm";

/// Whether a variable holds rustflags cargo passes to rustc while it resolves.
pub(crate) fn rustflags_variable(name: &str) -> bool {
    matches!(
        name,
        "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "CARGO_BUILD_RUSTFLAGS" | "CARGO_HOST_RUSTFLAGS"
    ) || (name.starts_with("CARGO_TARGET_") && name.ends_with("_RUSTFLAGS"))
}

/// Whether a dotted config key holds rustflags cargo passes to rustc while it resolves.
fn rustflags_config_key(path: &[&str]) -> bool {
    matches!(
        path,
        ["build", "rustflags"]
            | ["target", _, "rustflags"]
            | ["host", "rustflags"]
            | ["host", _, "rustflags"]
    )
}

/// A rustflags word that names a codegen backend: `-Zcodegen-backend=X`, `codegen-backend=X`
/// after a `-Z`, with `_` for `-` as rustc allows.
fn names_backend(word: &str) -> bool {
    let option = word.strip_prefix("-Z").unwrap_or(word).replace('_', "-");
    option.starts_with("codegen-backend")
}

/// The rustflags words that can make rustc load code while cargo asks it about the
/// target: codegen backends, and argument files that may name one.
pub(crate) fn code_loading_flags<'a>(words: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let words: Vec<&str> = words.into_iter().collect();
    let mut found = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let split_option = words
            .get(i + 1)
            .filter(|w| *word == "-Z" && names_backend(w));
        if let Some(option) = split_option {
            found.push(format!("-Z {option}"));
        } else if (names_backend(word) && words.get(i.wrapping_sub(1)) != Some(&"-Z"))
            || word.starts_with('@')
        {
            found.push(word.to_string());
        }
    }
    found
}

/// The words of a rustflags variable: `CARGO_ENCODED_RUSTFLAGS` is split at `0x1f`, the
/// others at whitespace, as cargo splits them.
fn rustflags_words<'a>(name: &str, value: &'a str) -> Vec<&'a str> {
    match name {
        "CARGO_ENCODED_RUSTFLAGS" => value.split('\u{1f}').filter(|w| !w.is_empty()).collect(),
        _ => value.split_whitespace().collect(),
    }
}

/// A rustflags variable's value for resolution: without codegen-backend flags, and with
/// the built-in backend forced last when an argument file stays; `None` when it can load
/// no code.
fn resolution_rustflags(name: &str, value: &str) -> Option<String> {
    let words = rustflags_words(name, value);
    if code_loading_flags(words.iter().copied()).is_empty() {
        return None;
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut iter = words.iter().peekable();
    while let Some(word) = iter.next() {
        if *word == "-Z" && iter.peek().is_some_and(|w| names_backend(w)) {
            iter.next();
        } else if !names_backend(word) {
            kept.push(word);
        }
    }
    if kept.iter().any(|w| w.starts_with('@')) {
        kept.push(BUILT_IN_BACKEND);
    }
    let separator = match name {
        "CARGO_ENCODED_RUSTFLAGS" => "\u{1f}",
        _ => " ",
    };
    Some(kept.join(separator))
}

/// The rustflags variables of a phase's environment that can make rustc load code while
/// cargo resolves, with those flags: resolution neutralizes them.
pub(crate) fn code_loading_variables(env: &BTreeMap<String, String>) -> Vec<(String, Vec<String>)> {
    env.iter()
        .filter(|(name, _)| rustflags_variable(name))
        .filter_map(|(name, value)| {
            let flags = code_loading_flags(rustflags_words(name, value));
            (!flags.is_empty()).then(|| (name.clone(), flags))
        })
        .collect()
}

/// A phase's environment as resolution passes it to cargo: no variable that names a
/// program, and rustflags that load no code. The phase's rustflags as written stay what
/// the report compares: rustflags are no part of the unit graph.
pub(crate) fn resolution_env(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.iter()
        .filter(|(name, _)| !program_variable(name))
        .map(|(name, value)| {
            let value = match rustflags_variable(name) {
                true => resolution_rustflags(name, value).unwrap_or_else(|| value.clone()),
                false => value.clone(),
            };
            (name.clone(), value)
        })
        .collect()
}

/// The program-naming keys set in a config table, dotted (`build.rustc-wrapper`).
pub(crate) fn program_keys(table: &toml::Table) -> Vec<String> {
    let mut found = Vec::new();
    let mut path = Vec::new();
    collect_program_keys(table, &mut path, &mut found);
    found
}

fn collect_program_keys<'a>(
    table: &'a toml::Table,
    path: &mut Vec<&'a str>,
    found: &mut Vec<String>,
) {
    for (name, value) in table {
        path.push(name);
        if program_config_key(path) || loads_code(path, value) {
            found.push(path.join("."));
        } else if let toml::Value::Table(inner) = value {
            collect_program_keys(inner, path, found);
        }
        path.pop();
    }
}

/// Whether a config value is rustflags that can make rustc load code while cargo resolves.
fn loads_code(path: &[&str], value: &toml::Value) -> bool {
    if !rustflags_config_key(path) {
        return false;
    }
    let words: Vec<&str> = match value {
        toml::Value::String(text) => text.split_whitespace().collect(),
        toml::Value::Array(items) => items.iter().filter_map(toml::Value::as_str).collect(),
        _ => Vec::new(),
    };
    !code_loading_flags(words).is_empty()
}

/// The program-naming keys a `--config VALUE` argument sets: `VALUE` is a TOML
/// `KEY=VALUE`, or else a config file (relative to `cwd`) whose keys count.
pub(crate) fn program_keys_of_config_arg(value: &str, cwd: &Path) -> Vec<String> {
    if let Ok(table) = value.parse::<toml::Table>() {
        return program_keys(&table);
    }
    let file = cwd.join(value);
    if let Some(table) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    {
        return program_keys(&table);
    }
    // Not TOML cache-miss can read: judged by the key's words alone.
    let key = value.split('=').next().unwrap_or(value);
    let words: Vec<&str> = key
        .split('.')
        .map(|w| w.trim().trim_matches(['"', '\'']))
        .collect();
    if program_config_key(&words) {
        vec![words.join(".")]
    } else {
        Vec::new()
    }
}

/// What a cargo command line loses before it resolves: each `--config` argument that names
/// a program (with the keys it names), and `+toolchain` given as a path (a directory of
/// programs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DroppedArgs {
    /// The arguments cargo is given.
    pub kept: Vec<String>,
    /// `(argument as written, program keys it sets)`.
    pub dropped: Vec<(String, Vec<String>)>,
}

/// Splits `args` into what resolution passes on and what it drops.
pub(crate) fn without_program_args(args: &[String], cwd: &Path) -> DroppedArgs {
    let mut out = DroppedArgs::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (value, written) = if arg == "--config" {
            match iter.next() {
                Some(value) => (value.clone(), format!("--config {value}")),
                None => {
                    out.kept.push(arg.clone());
                    continue;
                }
            }
        } else if let Some(value) = arg.strip_prefix("--config=") {
            (value.to_string(), arg.clone())
        } else if arg.starts_with('+') && arg.contains(['/', '\\']) {
            out.dropped
                .push((arg.clone(), vec!["toolchain path".into()]));
            continue;
        } else {
            out.kept.push(arg.clone());
            continue;
        };
        let keys = program_keys_of_config_arg(&value, cwd);
        if keys.is_empty() {
            out.kept.extend(["--config".to_string(), value]);
        } else {
            out.dropped.push((written, keys));
        }
    }
    out
}

/// The program-naming settings found in the config files cargo reads, and the environment
/// and `--config` arguments that override them for resolution (the environment outranks
/// config files, `--config` outranks both). Linkers and runners are named but never run by
/// resolution (it neither links nor runs), aliases never shadow the built-in commands
/// resolution uses: those need no override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPrograms {
    /// `(config file, keys)` for every file that names a program or loads code.
    pub found: Vec<(PathBuf, Vec<String>)>,
    /// Variables set for every cargo call.
    pub overrides: Vec<(String, String)>,
    /// `--config` arguments that take what loads code out of the config files' settings.
    pub arguments: Vec<ConfigOverride>,
}

/// `--config` values that neutralize one config key: rustflags end with
/// [`BUILT_IN_BACKEND`] (an array is joined to the files' arrays, after them; a string
/// replaces theirs), an `[env]` variable that names programs or libraries is emptied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigOverride {
    /// Each a `--config` value, `KEY=VALUE`.
    pub values: Vec<String>,
    /// For a string, the variable whose value would outrank the files' string: when the
    /// phase sets it, cargo uses that (already neutralized) instead.
    pub outranked_by: Option<String>,
}

/// The variable that turns off each wrapper a config file can name: an empty wrapper is
/// none, on every cargo since 1.48. Set only for a wrapper some file names (the shell's and
/// the phase's own wrapper variables are dropped anyway): with any wrapper set, even an
/// empty one, cargo stops remembering what it asked rustc and asks again on every call.
const WRAPPERS: &[(&str, &str)] = &[
    ("build.rustc-wrapper", "RUSTC_WRAPPER"),
    ("build.rustc-workspace-wrapper", "RUSTC_WORKSPACE_WRAPPER"),
];

/// How deep `include`s of config files are followed.
const MAX_INCLUDE_DEPTH: usize = 8;

/// The config files cargo run in `dir` reads, highest precedence first: there and above,
/// then `cargo_home`'s, each before the files it includes (which it outranks; a later
/// include outranks an earlier one).
fn config_files(dir: &Path, cargo_home: Option<&Path>) -> Vec<(PathBuf, toml::Table)> {
    let roots = dir
        .ancestors()
        .flat_map(|d| [d.join(".cargo/config"), d.join(".cargo/config.toml")])
        .chain(
            cargo_home
                .into_iter()
                .flat_map(|home| [home.join("config"), home.join("config.toml")]),
        );
    let mut files = Vec::new();
    for file in roots {
        with_includes(file, 0, &mut files);
    }
    files
}

fn with_includes(file: PathBuf, depth: usize, files: &mut Vec<(PathBuf, toml::Table)>) {
    if depth > MAX_INCLUDE_DEPTH || files.iter().any(|(seen, _)| *seen == file) {
        return;
    }
    let Some(table) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return;
    };
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let included: Vec<PathBuf> = match table.get("include") {
        Some(toml::Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                toml::Value::String(path) => Some(path.as_str()),
                toml::Value::Table(spec) => spec.get("path").and_then(toml::Value::as_str),
                _ => None,
            })
            .map(|path| dir.join(path))
            .collect(),
        _ => Vec::new(),
    };
    files.push((file, table));
    for path in included.into_iter().rev() {
        with_includes(path, depth + 1, files);
    }
}

/// The value at a dotted key of a table.
fn value_at<'t>(table: &'t toml::Table, key: &[&str]) -> Option<&'t toml::Value> {
    let (first, rest) = key.split_first()?;
    let value = table.get(*first)?;
    match (rest.is_empty(), value) {
        (true, value) => Some(value),
        (false, toml::Value::Table(inner)) => value_at(inner, rest),
        _ => None,
    }
}

/// A dotted key written for `--config`, each part quoted (`"target"."cfg(unix)"`).
fn quoted_key(key: &[&str]) -> String {
    key.iter()
        .map(|part| toml::Value::String(part.to_string()).to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// The variable cargo reads for a rustflags key, when it has one.
fn rustflags_key_variable(key: &[&str]) -> Option<String> {
    match key {
        ["build", "rustflags"] => Some("CARGO_BUILD_RUSTFLAGS".into()),
        ["host", "rustflags"] => Some("CARGO_HOST_RUSTFLAGS".into()),
        ["target", triple, "rustflags"] if !triple.starts_with("cfg(") => Some(format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.to_uppercase().replace(['-', '.'], "_")
        )),
        _ => None,
    }
}

/// The override of a rustflags key some file sets to load code: the highest-precedence
/// file's value decides whether the files hold a string or arrays.
fn rustflags_override(files: &[(PathBuf, toml::Table)], key: &str) -> Option<ConfigOverride> {
    let parts: Vec<&str> = key.split('.').collect();
    let parts = match parts.as_slice() {
        // A `cfg(...)` target may hold dots: everything between `target.` and `.rustflags`.
        ["target", .., "rustflags"] => {
            let target = key
                .strip_prefix("target.")
                .and_then(|rest| rest.strip_suffix(".rustflags"))?;
            vec!["target", target, "rustflags"]
        }
        _ => parts,
    };
    let winner = files
        .iter()
        .find_map(|(_, table)| value_at(table, &parts))?;
    let argument = match winner {
        toml::Value::String(text) => {
            let value = toml::Value::String(format!("{text} {BUILT_IN_BACKEND}"));
            format!("{}={value}", quoted_key(&parts))
        }
        _ => format!("{}=[\"{BUILT_IN_BACKEND}\"]", quoted_key(&parts)),
    };
    Some(ConfigOverride {
        values: vec![argument],
        outranked_by: match winner {
            toml::Value::String(_) => rustflags_key_variable(&parts),
            _ => None,
        },
    })
}

/// The override of an `[env]` variable that names programs or libraries: emptied for the
/// processes cargo starts (a plain value yields to cargo's own environment, which
/// resolution keeps clean). A table (`{ value, force, relative }`) is overridden key by key,
/// as `--config` takes no inline table.
fn env_override(files: &[(PathBuf, toml::Table)], variable: &str) -> Option<ConfigOverride> {
    let key = ["env", variable];
    let winner = files.iter().find_map(|(_, table)| value_at(table, &key))?;
    let quoted = quoted_key(&key);
    let values = match winner {
        toml::Value::Table(_) => vec![
            format!("{quoted}.\"value\"=\"\""),
            format!("{quoted}.\"force\"=false"),
            format!("{quoted}.\"relative\"=false"),
        ],
        _ => vec![format!("{quoted}=\"\"")],
    };
    Some(ConfigOverride {
        values,
        outranked_by: None,
    })
}

impl ConfigPrograms {
    /// Reads the config files cargo run in `dir` reads (there and above, then
    /// `cargo_home`'s, and what they include).
    pub fn around(dir: &Path, cargo_home: Option<&Path>) -> ConfigPrograms {
        let files = config_files(dir, cargo_home);
        let mut programs = ConfigPrograms::default();
        for (file, table) in &files {
            let keys = program_keys(table);
            if !keys.is_empty() {
                programs.found.push((file.clone(), keys));
            }
        }
        let mut keys: Vec<&str> = programs
            .found
            .iter()
            .flat_map(|(_, keys)| keys.iter().map(String::as_str))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut set = |name: &str, value: &str| {
            programs
                .overrides
                .push((name.to_string(), value.to_string()));
        };
        for (key, variable) in WRAPPERS {
            if keys.contains(key) {
                set(variable, "");
            }
        }
        if keys.contains(&"build.rustc") {
            set("RUSTC", "rustc");
        }
        if keys.contains(&"build.rustdoc") {
            set("RUSTDOC", "rustdoc");
        }
        if keys.iter().any(|k| k.starts_with("registry.")) {
            set("CARGO_REGISTRY_CREDENTIAL_PROVIDER", "cargo:token");
            set("CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS", "cargo:token");
        }
        for key in &keys {
            if let Some(name) = key
                .strip_prefix("registries.")
                .and_then(|rest| rest.rsplit_once('.'))
                .map(|(name, _)| name)
            {
                let variable = format!(
                    "CARGO_REGISTRIES_{}_CREDENTIAL_PROVIDER",
                    name.to_uppercase().replace(['-', '.'], "_")
                );
                set(&variable, "cargo:token");
            }
        }
        programs.arguments = keys
            .iter()
            .filter_map(|key| match key.strip_prefix("env.") {
                Some(variable) => env_override(&files, variable),
                None if key.ends_with(".rustflags") => rustflags_override(&files, key),
                None => None,
            })
            .collect();
        programs
    }

    /// The `--config` arguments resolution adds for a phase with environment `env`.
    pub fn arguments(&self, env: &BTreeMap<String, String>) -> Vec<String> {
        self.arguments
            .iter()
            .filter(|o| !o.outranked_by.as_ref().is_some_and(|v| env.contains_key(v)))
            .flat_map(|o| &o.values)
            .flat_map(|value| ["--config".to_string(), value.clone()])
            .collect()
    }
}

#[cfg(test)]
mod tests;
