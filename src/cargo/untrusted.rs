//! Only cargo runs while phases are resolved: settings that name a program to run (a
//! compiler, a wrapper, a linker, a credential helper, a search path for programs) never
//! reach resolution, wherever they come from — a phase's environment, a `--config`
//! argument in its commands, cargo's config files, or the user's shell. Resolution does not
//! need them: cargo resolves the same units with the toolchain's own `rustc`.

use std::path::Path;

/// Whether an environment variable names a program, or where programs are found, for
/// cargo or the processes it starts.
pub fn program_variable(name: &str) -> bool {
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
pub fn program_config_key(path: &[&str]) -> bool {
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

/// The program-naming keys set in a config table, dotted (`build.rustc-wrapper`).
pub fn program_keys(table: &toml::Table) -> Vec<String> {
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
        if program_config_key(path) {
            found.push(path.join("."));
        } else if let toml::Value::Table(inner) = value {
            collect_program_keys(inner, path, found);
        }
        path.pop();
    }
}

/// The program-naming keys a `--config VALUE` argument sets: `VALUE` is a TOML
/// `KEY=VALUE`, or else a config file (relative to `cwd`) whose keys count.
pub fn program_keys_of_config_arg(value: &str, cwd: &Path) -> Vec<String> {
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
pub struct DroppedArgs {
    /// The arguments cargo is given.
    pub kept: Vec<String>,
    /// `(argument as written, program keys it sets)`.
    pub dropped: Vec<(String, Vec<String>)>,
}

/// Splits `args` into what resolution passes on and what it drops.
pub fn without_program_args(args: &[String], cwd: &Path) -> DroppedArgs {
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
/// that overrides them for resolution (the environment outranks config files). Linkers and
/// runners are named but never run by resolution (it neither links nor runs), aliases never
/// shadow the built-in commands resolution uses: those need no override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPrograms {
    /// `(config file, keys)` for every file that names a program.
    pub found: Vec<(std::path::PathBuf, Vec<String>)>,
    /// Variables set for every cargo call.
    pub overrides: Vec<(String, String)>,
}

/// Wrappers are always turned off: an empty wrapper is none, on every cargo since 1.48.
const ALWAYS: &[(&str, &str)] = &[("RUSTC_WRAPPER", ""), ("RUSTC_WORKSPACE_WRAPPER", "")];

impl ConfigPrograms {
    /// Reads the config files cargo run in `dir` reads (there and above, then
    /// `cargo_home`'s).
    pub fn around(dir: &Path, cargo_home: Option<&Path>) -> ConfigPrograms {
        let files = dir
            .ancestors()
            .flat_map(|d| [d.join(".cargo/config"), d.join(".cargo/config.toml")])
            .chain(
                cargo_home
                    .into_iter()
                    .flat_map(|home| [home.join("config"), home.join("config.toml")]),
            );
        let mut programs = ConfigPrograms::default();
        for file in files {
            let Some(table) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
            else {
                continue;
            };
            let keys = program_keys(&table);
            if !keys.is_empty() {
                programs.found.push((file, keys));
            }
        }
        programs.overrides = ALWAYS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let keys: Vec<&str> = programs
            .found
            .iter()
            .flat_map(|(_, keys)| keys.iter().map(String::as_str))
            .collect();
        let mut set = |name: &str, value: &str| {
            programs
                .overrides
                .push((name.to_string(), value.to_string()));
        };
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
        programs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_variables() {
        for name in [
            "PATH",
            "LD_PRELOAD",
            "RUSTC",
            "RUSTC_WRAPPER",
            "CARGO",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER",
            "CARGO_REGISTRIES_MY_CREDENTIAL_PROVIDER",
            "CARGO_BUILD_RUSTC_WRAPPER",
        ] {
            assert!(program_variable(name), "{name}");
        }
        for name in [
            "RUSTFLAGS",
            "CARGO_PROFILE_RELEASE_LTO",
            "CARGO_HOME",
            "HOME",
        ] {
            assert!(!program_variable(name), "{name}");
        }
    }

    #[test]
    fn config_arguments_that_name_programs_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("extra.toml"),
            "[target.x86_64-unknown-linux-gnu]\nrunner = \"x\"\n",
        )
        .unwrap();
        let args: Vec<String> = [
            "--config",
            "build.rustc-wrapper=\"/tmp/evil\"",
            "--config=profile.release.lto=true",
            "--config",
            "extra.toml",
            "+/opt/evil-toolchain",
            "--config",
            "alias.b=x",
            "-p",
            "a",
        ]
        .map(String::from)
        .to_vec();
        let result = without_program_args(&args, dir.path());
        assert_eq!(
            result.kept,
            ["--config", "profile.release.lto=true", "-p", "a"]
        );
        let dropped: Vec<&str> = result.dropped.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            dropped,
            [
                "--config build.rustc-wrapper=\"/tmp/evil\"",
                "--config extra.toml",
                "+/opt/evil-toolchain",
                "--config alias.b=x"
            ]
        );
        assert_eq!(
            result.dropped[1].1,
            ["target.x86_64-unknown-linux-gnu.runner"]
        );
    }

    #[test]
    fn config_files_programs_are_overridden() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join(".cargo")).unwrap();
        std::fs::write(
            ws.join(".cargo/config.toml"),
            "[build]\nrustc = \"x\"\njobs = 2\n[registries.my-reg]\ncredential-provider = \"y\"\n",
        )
        .unwrap();
        let programs = ConfigPrograms::around(&ws, None);
        assert_eq!(
            programs.found,
            [(
                ws.join(".cargo/config.toml"),
                vec![
                    "build.rustc".to_string(),
                    "registries.my-reg.credential-provider".to_string()
                ]
            )]
        );
        let overrides: Vec<&str> = programs.overrides.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            overrides,
            [
                "RUSTC_WRAPPER",
                "RUSTC_WORKSPACE_WRAPPER",
                "RUSTC",
                "CARGO_REGISTRIES_MY_REG_CREDENTIAL_PROVIDER"
            ]
        );
    }
}
