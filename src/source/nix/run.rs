//! Running the user's `nix`: evaluation only, never a build. Every call gets the flake
//! settings the analysis needs (no lock file written, import-from-derivation off unless
//! asked for, the user's `--override-input` and `--option`), a time limit and a memory
//! limit; a call that exceeds either is stopped with its whole process group.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::NixOptions;

/// The oldest Nix whose flake commands cache-miss reads.
const OLDEST: (u32, u32) = (2, 8);

/// A Nix installation and the arguments every call passes. Produced by [`Nix::find`].
#[derive(Debug, Clone)]
pub(crate) struct Nix {
    /// `(major, minor)` of `nix --version`.
    pub version: (u32, u32),
    /// The version as Nix prints it (`2.8.0`).
    pub version_text: String,
    settings: Vec<String>,
    timeout: Duration,
    max_memory: u64,
}

/// A Nix command that failed: Nix's own message (its `error:` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NixFailure {
    pub message: String,
}

impl Nix {
    /// The `nix` on `PATH`, with its version checked.
    pub(super) fn find(options: &NixOptions) -> Result<Nix> {
        let mut nix = Nix {
            version: (0, 0),
            version_text: String::new(),
            settings: settings(options),
            timeout: options.timeout,
            max_memory: options.max_memory,
        };
        let output = nix.run_raw(&["--version"]).map_err(|err| match err {
            RunError::Start(err) if err.kind() == std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "--nix: no `nix` on PATH (install Nix, or run inside the flake's dev shell; without --nix the flake is read statically)"
            ),
            other => anyhow::anyhow!("--nix: `nix --version` failed: {other}"),
        })?;
        let text = String::from_utf8_lossy(&output);
        let (version_text, version) = parse_version(&text)
            .with_context(|| format!("--nix: cannot read the version in `{}`", text.trim()))?;
        if version < OLDEST {
            bail!(
                "--nix: Nix {version_text} is too old; cache-miss reads Nix {}.{} or later",
                OLDEST.0,
                OLDEST.1
            );
        }
        nix.version = version;
        nix.version_text = version_text;
        Ok(nix)
    }

    /// The subcommand that prints derivations: renamed in Nix 2.15.
    fn show_derivation(&self) -> &'static [&'static str] {
        if self.version >= (2, 15) {
            &["derivation", "show"]
        } else {
            &["show-derivation"]
        }
    }

    /// `nix eval --json INSTALLABLE [--apply FN]`, as JSON.
    pub(super) fn eval_json(
        &self,
        installable: &str,
        apply: Option<&str>,
    ) -> Result<serde_json::Value, NixFailure> {
        let mut args = vec!["eval", "--json", installable];
        if let Some(function) = apply {
            args.extend(["--apply", function]);
        }
        let stdout = self.run(&args)?;
        serde_json::from_slice(&stdout).map_err(|err| NixFailure {
            message: format!("nix eval printed no JSON: {err}"),
        })
    }

    /// The derivations of `drv_paths` and everything they depend on, as Nix's JSON text.
    pub(super) fn show_derivations(&self, drv_paths: &[String]) -> Result<String, NixFailure> {
        let mut args: Vec<&str> = self.show_derivation().to_vec();
        args.push("-r");
        args.extend(drv_paths.iter().map(String::as_str));
        let stdout = self.run(&args)?;
        String::from_utf8(stdout).map_err(|_| NixFailure {
            message: "nix printed derivation JSON that is not UTF-8".into(),
        })
    }

    fn run(&self, args: &[&str]) -> Result<Vec<u8>, NixFailure> {
        let mut all = vec!["--extra-experimental-features", "nix-command flakes"];
        all.extend(args);
        all.extend(self.settings.iter().map(String::as_str));
        self.run_raw(&all).map_err(|err| NixFailure {
            message: err.to_string(),
        })
    }

    fn run_raw(&self, args: &[&str]) -> Result<Vec<u8>, RunError> {
        let mut command = Command::new("nix");
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let max_memory = self.max_memory;
        // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(move || {
                let limit = rustix::process::Rlimit {
                    current: Some(max_memory),
                    maximum: Some(max_memory),
                };
                rustix::process::setrlimit(rustix::process::Resource::As, limit)
                    .map_err(std::io::Error::from)
            });
        }
        // Watched: a signal stops Nix's whole process group with cache-miss.
        let mut watched = crate::interrupt::spawn(&mut command).map_err(RunError::Start)?;
        wait_bounded(&mut watched.child, self.timeout, &args.join(" "))
    }
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("cannot start nix: {0}")]
    Start(std::io::Error),
    #[error("{0}")]
    Failed(String),
}

/// Waits for `child`, reading its output; past `timeout` its process group is killed.
fn wait_bounded(
    child: &mut std::process::Child,
    timeout: Duration,
    what: &str,
) -> Result<Vec<u8>, RunError> {
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(RunError::Failed(
            "nix started without its output pipes".into(),
        ));
    };
    let out = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        stdout.read_to_end(&mut buffer).map(|_| buffer)
    });
    let err = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stderr.read_to_end(&mut buffer);
        buffer
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                kill_group(child);
                let _ = child.wait();
                return Err(RunError::Failed(format!(
                    "`nix {}` took longer than {} s and was stopped (--nix-timeout)",
                    crate::text::one_line(what),
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(err) => return Err(RunError::Failed(format!("waiting for nix: {err}"))),
        }
    };
    let stderr = err.join().unwrap_or_default();
    let stdout = out
        .join()
        .map_err(|_| RunError::Failed("reading nix's output failed".into()))?
        .map_err(|err| RunError::Failed(format!("reading nix's output: {err}")))?;
    if status.success() {
        return Ok(stdout);
    }
    Err(RunError::Failed(error_lines(&String::from_utf8_lossy(
        &stderr,
    ))))
}

fn kill_group(child: &std::process::Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Nix's message without its progress and warning lines: from the first `error:` on, at
/// most a few lines (a trace can be thousands).
fn error_lines(stderr: &str) -> String {
    const SHOWN: usize = 12;
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.trim_start().starts_with("error:"))
        .unwrap_or(0);
    let shown: Vec<&str> = lines
        .iter()
        .skip(start)
        .filter(|line| !line.trim().is_empty())
        .take(SHOWN)
        .copied()
        .collect();
    let message = shown.join("\n");
    if message.trim().is_empty() {
        "nix failed and printed nothing".to_string()
    } else {
        message.trim().to_string()
    }
}

/// `nix (Nix) 2.8.0` → `("2.8.0", (2, 8))`.
fn parse_version(text: &str) -> Option<(String, (u32, u32))> {
    let word = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let mut parts = word.split(['.', 'p', 'r', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((word.to_string(), (major, minor)))
}

/// The settings every call carries.
fn settings(options: &NixOptions) -> Vec<String> {
    let mut args = vec!["--no-write-lock-file".to_string()];
    let ifd = if options.allow_ifd { "true" } else { "false" };
    args.extend(["--option", "allow-import-from-derivation", ifd].map(String::from));
    for (name, value) in &options.options {
        args.extend(["--option".to_string(), name.clone(), value.clone()]);
    }
    for (input, url) in &options.override_inputs {
        args.extend(["--override-input".to_string(), input.clone(), url.clone()]);
    }
    args
}

/// The flake reference Nix itself would use for `dir`: `git+file:` (tracked and staged
/// files) inside a git repository, `path:` elsewhere.
pub(crate) fn flake_ref(dir: &Path) -> String {
    let top = crate::source_set::tree::git_toplevel(dir);
    match top {
        Some(top) => {
            let relative = dir.strip_prefix(&top).unwrap_or(Path::new(""));
            let mut reference = format!("git+file://{}", url_path(&top));
            if !relative.as_os_str().is_empty() {
                reference.push_str(&format!("?dir={}", url_path(relative)));
            }
            reference
        }
        None => format!("path:{}", url_path(dir)),
    }
}

/// A path as a URL's path: every byte outside the unreserved set and `/` percent-encoded.
fn url_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("nix (Nix) 2.8.0\n"),
            Some(("2.8.0".into(), (2, 8)))
        );
        assert_eq!(
            parse_version("nix (Nix) 2.24.10pre20241113_dirty").map(|v| v.1),
            Some((2, 24))
        );
        assert_eq!(parse_version("nix (Nix)"), None);
    }

    #[test]
    fn error_lines_start_at_the_error() {
        let stderr = "warning: Git tree is dirty\n• Added input 'crane':\nerror: attribute 'x' missing\n\n       at /f.nix:3:5:\n";
        assert_eq!(
            error_lines(stderr),
            "error: attribute 'x' missing\n       at /f.nix:3:5:"
        );
    }

    #[test]
    fn url_paths_are_encoded() {
        assert_eq!(url_path(Path::new("/a b/c#d?e")), "/a%20b/c%23d%3Fe");
    }
}
