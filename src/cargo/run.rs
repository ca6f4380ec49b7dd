//! Running cargo: a sandbox-like environment, unit-graph resolution in parallel, metadata.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result, anyhow, bail};

use super::cache::{CacheKey, CacheStats, KeyBuilder, ResolutionCache};
use super::invocation::Invocation;
use super::metadata::git_commits;
use super::toolchain::{NotInstalled, ToolchainChoice, ToolchainOrigin};
use super::unit_graph::UnitGraph;
use super::untrusted::{
    ConfigPrograms, program_variable, resolution_env, toolchain_path_pin, without_program_args,
};
use super::{env_inputs, inputs};
use crate::located::{Note, SourceLocation};
use crate::parallel::lock;

/// The oldest cargo the analysis runs on: `--unit-graph` (with `RUSTC_BOOTSTRAP=1`) came
/// in 1.46, `cargo locate-project --workspace` in 1.48 (both checked for real).
pub(crate) const OLDEST_CARGO: (u32, u32) = (1, 48);

/// The cargo that resolves the phases: what `cargo -vV` says about it, and which toolchain
/// choice selected it. Produced by [`CargoRunner::check_version`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoInfo {
    /// `(major, minor)`.
    pub version: (u32, u32),
    /// The whole release, as cargo prints it (`1.76.0`, `1.97.0-nightly`).
    pub release: String,
    /// The host triple: whose `CARGO_TARGET_<HOST>_*` settings apply without `--target`.
    pub host: String,
    pub toolchain: ToolchainChoice,
}

impl CargoInfo {
    /// Reads `cargo -vV`; `host` is `None` when cargo is older than 1.59, which printed no
    /// host line.
    fn parse(text: &str, toolchain: ToolchainChoice) -> Option<CargoInfo> {
        let release = text.lines().next()?.split_whitespace().nth(1)?;
        let mut parts = release.split(['.', '-']).map(|p| p.parse::<u32>().ok());
        let version = (parts.next()??, parts.next()??);
        Some(CargoInfo {
            version,
            release: release.to_string(),
            host: host_line(text).unwrap_or_default(),
            toolchain,
        })
    }
}

/// The `host: ` line of `cargo -vV` or `rustc -vV`.
fn host_line(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(|host| host.trim().to_string())
}

/// Where and how cargo runs: the directory crane would run it in and the cargo binary.
/// Clones share what cargo already answered (unit graphs, metadata, version): `fix`
/// analyses many changed phase sets whose commands mostly repeat.
#[derive(Debug, Clone)]
pub struct CargoRunner {
    /// The directory holding the manifest the user pointed at (crane's source root).
    pub dir: PathBuf,
    pub cargo: PathBuf,
    /// The toolchain every cargo call runs with (as `RUSTUP_TOOLCHAIN`, when one is pinned).
    pub toolchain: ToolchainChoice,
    answers: Arc<Answers>,
    /// Shared by runners moved to other dirs with the same toolchain.
    versions: Arc<ToolVersions>,
    /// Where cargo's answers are remembered across runs; `None`: always ask cargo.
    cache: Option<Arc<ResolutionCache>>,
}

/// One toolchain's `cargo -vV` read, and `cargo -vV`, `rustc -vV` as printed (in every key).
#[derive(Debug, Default)]
struct ToolVersions {
    info: OnceLock<CargoInfo>,
    cargo: OnceLock<String>,
    rustc: OnceLock<String>,
}

/// What cargo answered, by question.
#[derive(Debug, Default)]
struct Answers {
    /// The phases' own toolchains found so far (see [`phase_toolchain`]).
    toolchains: Mutex<phase_toolchain::Known>,
    /// The digest of the workspace's files (see [`inputs::add_workspace`]), taken once.
    workspace: OnceLock<CacheKey>,
    /// The digest of the files around a directory and `CARGO_HOME`, taken once each.
    surroundings: Mutex<HashMap<(PathBuf, Option<PathBuf>), CacheKey>>,
    /// The program-naming settings of the config files cargo reads here.
    config_programs: OnceLock<ConfigPrograms>,
    /// Whether a command naming no package builds every member (see
    /// [`CargoRunner::every_member_by_default`]), read once.
    every_member_by_default: OnceLock<bool>,
    /// Held while cargo answers, so that callers at the same time wait for one answer.
    metadata: Mutex<Option<Arc<cargo_metadata::Metadata>>>,
    /// Unit graphs by the cargo command that resolves them: invocations that differ only
    /// in what cargo never sees share one answer. Each slot is held while cargo answers,
    /// so that a command asked twice at once runs once.
    graphs: Mutex<HashMap<GraphCommand, Slot<UnitGraph>>>,
    /// One invocation per command above, in the order first asked.
    asked: Mutex<Vec<Invocation>>,
    /// cargo's target dir while it resolves (see [`CargoRunner::scratch_target_dir`]).
    scratch: Mutex<Option<crate::interrupt::TempDir>>,
}

/// One answer, made once: its lock is held while it is made, so that others wait for it.
pub(crate) type Slot<T> = Arc<Mutex<Option<Arc<T>>>>;

/// The toolchain (`None`: the runner's), arguments and environment of one `--unit-graph` call.
type GraphCommand = (Option<String>, Vec<String>, BTreeMap<String, String>);

/// Environment variables that are kept from the user's shell: what cargo needs to find
/// its registry cache and network, nothing that changes what it compiles (and no
/// backtrace settings, which would bury cargo's or rustup's error message).
fn keep_ambient(name: &str) -> bool {
    const CARGO_KEPT: &[&str] = &[
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    if name.starts_with("CARGO") {
        return CARGO_KEPT.iter().any(|prefix| name.starts_with(prefix));
    }
    !matches!(
        name,
        "RUSTFLAGS"
            | "RUSTDOCFLAGS"
            | "RUSTC_WRAPPER"
            | "RUSTC_WORKSPACE_WRAPPER"
            | "RUSTC_BOOTSTRAP"
            | "RUST_LOG"
            | "RUST_BACKTRACE"
            | "RUST_LIB_BACKTRACE"
    ) && !name.starts_with("__CARGO")
}

/// Where crane's sandbox keeps cargo's home and target dir: a phase's value means a place
/// inside the build sandbox. Cargo here keeps the user's registry cache, and never writes
/// into the user's tree.
fn is_sandbox_location(name: &str) -> bool {
    matches!(
        name,
        "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_BUILD_TARGET_DIR"
    )
}

impl CargoRunner {
    /// A runner in `dir`, with the toolchain the workspace there pins.
    pub fn new(dir: &Path) -> CargoRunner {
        let environment = std::env::var("RUSTUP_TOOLCHAIN").ok();
        CargoRunner {
            dir: dir.to_path_buf(),
            cargo: PathBuf::from("cargo"),
            toolchain: ToolchainChoice::for_dir(dir, environment),
            answers: Arc::default(),
            versions: Arc::default(),
            cache: None,
        }
    }

    /// Adds this run's cache hits and misses to the cache's run log (for a process that
    /// ends without dropping the runner; dropping the cache logs too).
    pub fn log_cache_use(&self) {
        if let Some(cache) = &self.cache {
            cache.log_use();
        }
    }

    /// This runner remembering cargo's answers in `cache` (and reading them back).
    pub fn with_cache(mut self, cache: Option<Arc<ResolutionCache>>) -> CargoRunner {
        self.cache = cache;
        self
    }

    /// How many cargo answers came from the cache, and how many from cargo; `None`
    /// without a cache.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(|cache| cache.stats())
    }

    /// A runner in `dir` that keeps this one's version check when the same toolchain
    /// is chosen there.
    pub fn moved_to(&self, dir: &Path) -> CargoRunner {
        let mut moved = CargoRunner {
            cargo: self.cargo.clone(),
            cache: self.cache.clone(),
            ..CargoRunner::new(dir)
        };
        if moved.toolchain == self.toolchain {
            moved.versions = self.versions.clone();
        }
        moved
    }

    /// A cargo command in `self.dir` with the ambient build environment dropped and `env` set, as in
    /// crane's sandbox (plus `CARGO_BUILD_INCREMENTAL=false`, which crane exports).
    pub fn command(&self, args: &[String], env: &BTreeMap<String, String>) -> Command {
        self.tool_command(&self.cargo, args, env)
    }

    /// [`CargoRunner::command`] for another program of the toolchain (`rustc`).
    fn tool_command(
        &self,
        program: &Path,
        args: &[String],
        env: &BTreeMap<String, String>,
    ) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.dir).args(args).env_clear();
        command
            .envs(std::env::vars_os().filter(|(name, _)| name.to_str().is_some_and(keep_ambient)));
        command.env("CARGO_BUILD_INCREMENTAL", "false");
        command.envs(env.iter().filter(|(name, _)| !is_sandbox_location(name)));
        command.env("RUSTC_BOOTSTRAP", "1");
        if let Some(toolchain) = &self.toolchain.toolchain {
            command.env("RUSTUP_TOOLCHAIN", toolchain);
        }
        if matches!(self.toolchain.origin, ToolchainOrigin::Release(_)) {
            command.env("RUSTUP_AUTO_INSTALL", "0");
        }
        command
    }

    /// A command that only resolves: [`CargoRunner::tool_command`] without anything that
    /// names a program to run (see [`super::untrusted`]) — not from the phase's environment,
    /// its `--config` arguments, cargo's config files, nor the user's shell.
    fn resolution_command(
        &self,
        program: &Path,
        args: &[String],
        env: &BTreeMap<String, String>,
    ) -> Command {
        let mut args = without_program_args(args, &self.dir).kept;
        if program == self.cargo && args.first().is_some_and(|a| !a.starts_with('-')) {
            let forced = self.config_programs().arguments(env);
            args.splice(1..1, forced);
        }
        let env = resolution_env(env);
        let mut command = self.tool_command(program, &args, &env);
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name != "PATH" && program_variable(&name) {
                command.env_remove(name.as_ref());
            }
        }
        // The user's own RUSTUP_TOOLCHAIN is the choice the report names, not a setting
        // to drop.
        if let Some(toolchain) = &self.toolchain.toolchain {
            command.env("RUSTUP_TOOLCHAIN", toolchain);
        }
        command.envs(self.config_programs().overrides.iter().map(|(k, v)| (k, v)));
        // Before 1.53, cargo refuses RUSTC_WORKSPACE_WRAPPER (even empty) without
        // `-Z unstable-options`; without that flag it also ignores the config key.
        let workspace_wrapper_stable = self
            .versions
            .info
            .get()
            .is_some_and(|i| i.version >= (1, 53));
        if !workspace_wrapper_stable && !args.iter().any(|a| a == "unstable-options") {
            command.env_remove("RUSTC_WORKSPACE_WRAPPER");
        }
        command
    }

    /// The program-naming settings of the config files cargo reads in this runner's dir.
    pub fn config_programs(&self) -> &ConfigPrograms {
        self.answers
            .config_programs
            .get_or_init(|| ConfigPrograms::around(&self.dir, self.cargo_home().as_deref()))
    }

    /// One note for each config file cargo reads here that names programs: resolution
    /// overrides or never runs them.
    pub fn withheld_config_notes(&self) -> Vec<Note> {
        self.config_programs()
            .found
            .iter()
            .map(|(file, keys)| {
                Note::at(
                    SourceLocation::file(file.display().to_string()),
                    format!(
                        "names programs to run or code to load ({}): resolution runs none of them (rustc and rustdoc are the toolchain's, wrappers and credential providers are turned off, rustflags get rustc's built-in codegen backend last, such `[env]` variables are emptied; linkers, runners and aliases are never used to resolve), and cargo resolves the same units without them",
                        keys.join(", ")
                    ),
                )
            })
            .collect()
    }

    fn cargo_home(&self) -> Option<PathBuf> {
        inputs::cargo_home(std::env::var_os("CARGO_HOME").as_deref())
    }

    /// Runs cargo with `args` to resolve; the answer comes from the cache when one is
    /// stored under the key of everything it depends on (`scope` says what that is), and
    /// a successful answer is stored.
    fn run_scoped(
        &self,
        args: &[String],
        env: &BTreeMap<String, String>,
        scope: Scope,
    ) -> Result<Output> {
        self.answer(&self.cargo.clone(), args, env, scope)
    }

    fn run(&self, args: &[String], env: &BTreeMap<String, String>) -> Result<Output> {
        self.run_scoped(args, env, Scope::Workspace)
    }

    fn answer(
        &self,
        program: &Path,
        args: &[String],
        env: &BTreeMap<String, String>,
        scope: Scope,
    ) -> Result<Output> {
        if let Some(refused) = toolchain_path_pin(&self.toolchain) {
            return Err(refused.into());
        }
        let mut command = self.resolution_command(program, args, env);
        let Some(cache) = &self.cache else {
            return self.spawn(program, &mut command);
        };
        let key = self.key(&command, scope)?;
        if let Some(stdout) = cache.get(&key) {
            return Ok(Output {
                status: ExitStatus::default(),
                stdout,
                stderr: Vec::new(),
            });
        }
        let output = self.spawn(program, &mut command)?;
        if output.status.success() {
            cache.put(&key, &output.stdout);
        }
        Ok(output)
    }

    /// The cache key of `command`'s answer: the program, directory, arguments, the
    /// environment variables cargo reads, and what `scope` adds.
    fn key(&self, command: &Command, scope: Scope) -> Result<CacheKey> {
        let mut key = KeyBuilder::new("cargo answer");
        key.field("program", command.get_program().as_encoded_bytes())
            .field("dir", self.dir.as_os_str().as_encoded_bytes());
        for arg in command.get_args() {
            key.field("arg", arg.as_encoded_bytes());
        }
        inputs::add_config_args(&mut key, &self.dir, command.get_args());
        let mut env: Vec<_> = command
            .get_envs()
            .filter(|(name, _)| name.to_str().is_none_or(env_inputs::read_by_cargo))
            .collect();
        env.sort();
        for (name, value) in &env {
            key.field("env", name.as_encoded_bytes());
            key.field("value", value.unwrap_or_default().as_encoded_bytes());
        }
        // `PATH` counts by the programs it finds (`cargo -vV`, `rustc -vV` and, for those,
        // the binaries themselves), not by its text: a `nix develop` shell or a profiler
        // that adds a directory finds the same toolchain.
        let path_var = command
            .get_envs()
            .find(|(name, _)| *name == "PATH")
            .and_then(|(_, value)| value);
        let cargo_home = self.cargo_home();
        key.field(
            "surroundings",
            self.surroundings(&self.dir, cargo_home.as_deref())
                .as_bytes(),
        );
        match scope {
            Scope::Program => {
                super::program_inputs::add_program(
                    &mut key,
                    Path::new(command.get_program()),
                    path_var,
                );
            }
            Scope::Manifest(manifest) => {
                self.add_versions(&mut key)?;
                if let Some(dir) = manifest.parent() {
                    key.field(
                        "manifest surroundings",
                        self.surroundings(dir, None).as_bytes(),
                    );
                }
            }
            Scope::Workspace => {
                self.add_versions(&mut key)?;
                let workspace = self.answers.workspace.get_or_init(|| {
                    let mut tree = KeyBuilder::new("workspace");
                    inputs::add_workspace(&mut tree, &self.dir, cargo_home.as_deref());
                    tree.finish()
                });
                key.field("workspace", workspace.as_bytes());
            }
        }
        Ok(key.finish())
    }

    /// The digest of the files cargo reads around `dir` (see [`inputs::add_surroundings`]),
    /// taken once per directory: every answer's key holds it.
    fn surroundings(&self, dir: &Path, cargo_home: Option<&Path>) -> CacheKey {
        let place = (dir.to_path_buf(), cargo_home.map(Path::to_path_buf));
        if let Some(known) = lock(&self.answers.surroundings).get(&place) {
            return *known;
        }
        let mut key = KeyBuilder::new("surroundings");
        inputs::add_surroundings(&mut key, dir, cargo_home);
        let key = key.finish();
        lock(&self.answers.surroundings).insert(place, key);
        key
    }

    /// cargo's and rustc's `-vV`, which every resolution's key holds.
    fn add_versions(&self, key: &mut KeyBuilder) -> Result<()> {
        // Asked at once: a run's first answer waits for both.
        let rustc = match self.versions.rustc.get() {
            Some(known) => {
                self.check_version()?;
                known.clone()
            }
            None => std::thread::scope(|scope| {
                let rustc = scope.spawn(|| self.rustc_version());
                self.check_version()?;
                rustc
                    .join()
                    .unwrap_or_else(|_| Err(anyhow!("`rustc -vV` did not finish")))
            })?,
        };
        let cargo = self.versions.cargo.get().cloned().unwrap_or_default();
        key.field("cargo -vV", cargo.as_bytes())
            .field("rustc -vV", rustc.as_bytes());
        Ok(())
    }

    /// `rustc -vV` of the toolchain cargo runs with.
    fn rustc_version(&self) -> Result<String> {
        if let Some(text) = self.versions.rustc.get() {
            return Ok(text.clone());
        }
        let output = self.answer(
            Path::new("rustc"),
            &["-vV".to_string()],
            &BTreeMap::new(),
            Scope::Program,
        )?;
        if !output.status.success() {
            bail!("`rustc -vV` failed:\n{}", cargo_error(&output));
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        Ok(self.versions.rustc.get_or_init(|| text).clone())
    }

    fn spawn(&self, program: &Path, command: &mut Command) -> Result<Output> {
        if program == self.cargo
            && let Some(dir) = self.scratch_target_dir()
        {
            command.env("CARGO_TARGET_DIR", dir);
        }
        crate::interrupt::output(command).map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                anyhow!(
                    "cargo was not found on PATH: cache-miss runs cargo {}.{} or newer (install it with rustup, https://rustup.rs)",
                    OLDEST_CARGO.0,
                    OLDEST_CARGO.1
                )
            } else {
                anyhow!("cannot run {}: {err}", program.display())
            }
        })
    }

    /// cargo's version and host triple (`cargo -vV`) and the toolchain choice that selected
    /// it; errors when cargo is missing, the pinned toolchain is not installed, cargo fails
    /// otherwise, or is older than `OLDEST_CARGO`.
    pub fn check_version(&self) -> Result<CargoInfo> {
        if let Some(info) = self.versions.info.get() {
            return Ok(info.clone());
        }
        let output = self.run_scoped(&["-vV".to_string()], &BTreeMap::new(), Scope::Program)?;
        if !output.status.success() {
            let error = cargo_error(&output);
            if error.contains("is not installed") {
                return Err(NotInstalled(self.not_installed()).into());
            }
            bail!(
                "`cargo -vV` failed in {} (toolchain from {}):\n{error}",
                self.dir.display(),
                self.toolchain.origin
            );
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let _ = self.versions.cargo.set(text.to_string());
        let mut info = CargoInfo::parse(&text, self.toolchain.clone()).ok_or_else(|| {
            anyhow!(
                "cannot read cargo's version from `cargo -vV`: {}",
                text.trim()
            )
        })?;
        if info.host.is_empty() {
            info.host = self.rustc_host()?;
        }
        if info.version < OLDEST_CARGO {
            bail!(
                "cargo {} is older than {}.{} (from {}): cache-miss needs a cargo whose `--unit-graph` it can read; pin {}.{} or newer",
                info.release,
                OLDEST_CARGO.0,
                OLDEST_CARGO.1,
                info.toolchain.origin,
                OLDEST_CARGO.0,
                OLDEST_CARGO.1
            );
        }
        Ok(self.versions.info.get_or_init(|| info).clone())
    }

    /// The host triple from `rustc -vV` of the same toolchain (old cargo does not print it).
    fn rustc_host(&self) -> Result<String> {
        let text = self
            .rustc_version()
            .context("cannot run rustc for the host triple")?;
        host_line(&text).ok_or_else(|| {
            anyhow!(
                "cannot read the host triple from `rustc -vV`: {}",
                text.trim()
            )
        })
    }

    /// The error for a chosen toolchain that rustup has not installed.
    fn not_installed(&self) -> String {
        let install = self.toolchain.install_command();
        let toolchain = self.toolchain.toolchain.as_deref().unwrap_or("default");
        match &self.toolchain.origin {
            ToolchainOrigin::File(file) => format!(
                "{} pins toolchain {toolchain}, which is not installed: run `{install}`",
                file.display()
            ),
            ToolchainOrigin::Environment => format!(
                "RUSTUP_TOOLCHAIN={toolchain} names a toolchain that is not installed: run `{install}`"
            ),
            ToolchainOrigin::Default => format!(
                "the default toolchain is not installed: run `{install}` (or `rustup default stable`)"
            ),
            ToolchainOrigin::Release(release) => {
                format!("Rust {release} is not installed: run `{install}`")
            }
        }
    }

    /// A temp dir cargo resolves in as its target dir, made when cargo first runs: cargo
    /// keeps what it asked rustc there (`.rustc_info.json`, under rustc's fingerprint), so
    /// that only the first calls of a run start rustc, and nothing is written to the
    /// workspace's own target dir. The target dir is in no unit graph, so it is not part of
    /// any cache key. `None` when no temp dir can be made: cargo then asks rustc every time.
    fn scratch_target_dir(&self) -> Option<PathBuf> {
        let mut scratch = lock(&self.answers.scratch);
        if scratch.is_none() {
            *scratch = crate::interrupt::temp_dir("cache-miss-cargo-").ok();
        }
        scratch.as_ref().map(|dir| self.own_scratch_dir(dir.path()))
    }

    /// Removes the temp dir of [`CargoRunner::scratch_target_dir`] now, for a caller that
    /// ends the process without dropping this runner. A later call makes a new one.
    pub fn remove_scratch_dir(&self) {
        lock(&self.answers.scratch).take();
    }

    /// The root manifest of the workspace that `manifest` (or, without one, the current
    /// directory of this runner) belongs to, as `cargo locate-project --workspace` finds it.
    pub fn workspace_manifest(&self, manifest: Option<&Path>) -> Result<PathBuf> {
        // Not `plain`: cargo strips ANSI sequences from plain output that is not a
        // terminal, so a path holding ESC would come back changed.
        let mut args = ["locate-project", "--workspace", "--message-format", "json"]
            .map(String::from)
            .to_vec();
        if let Some(manifest) = manifest {
            args.push("--manifest-path".into());
            args.push(manifest.display().to_string());
        }
        let scope = Scope::Manifest(
            manifest.map_or_else(|| self.dir.join("Cargo.toml"), Path::to_path_buf),
        );
        let output = self.run_scoped(&args, &BTreeMap::new(), scope)?;
        if !output.status.success() {
            bail!("{}", cargo_error(&output));
        }
        #[derive(serde::Deserialize)]
        struct Located {
            root: PathBuf,
        }
        let located: Located = serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "cannot read `cargo locate-project` output: {}",
                crate::text::echo(String::from_utf8_lossy(&output.stdout).trim())
            )
        })?;
        Ok(located.root)
    }

    /// `cargo metadata` for the whole workspace with every feature, so that every
    /// optional dependency's declaration is present.
    pub fn metadata(&self) -> Result<cargo_metadata::Metadata> {
        self.shared_metadata().map(|metadata| (*metadata).clone())
    }

    /// [`CargoRunner::metadata`] without a copy.
    pub fn shared_metadata(&self) -> Result<Arc<cargo_metadata::Metadata>> {
        let mut answer = lock(&self.answers.metadata);
        if let Some(metadata) = answer.as_ref() {
            return Ok(metadata.clone());
        }
        let base = ["metadata", "--format-version", "1", "--locked"].map(String::from);
        let mut args = base.to_vec();
        args.push("--all-features".into());
        let mut output = self.run(&args, &BTreeMap::new())?;
        if !output.status.success() {
            output = self.run(&base, &BTreeMap::new())?;
        }
        if !output.status.success() {
            bail!("`cargo metadata` failed:\n{}", cargo_error(&output));
        }
        let stdout = crate::text::utf8(&output.stdout);
        let metadata = cargo_metadata::MetadataCommand::parse(stdout.as_ref())
            .context("cannot read `cargo metadata` output")?;
        Ok(answer.insert(Arc::new(metadata)).clone())
    }
}

/// What a cargo answer depends on besides the command itself.
enum Scope {
    /// The program: `-vV`.
    Program,
    /// The manifests at and above a path: `locate-project`.
    Manifest(PathBuf),
    /// The whole workspace: unit graphs, metadata.
    Workspace,
}

/// cargo's stderr without its progress chatter, and how it exited.
fn cargo_error(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("Blocking waiting")
                || line.starts_with("Updating")
                || line.starts_with("Downloading")
                || line.starts_with("Downloaded")
                || line.starts_with("Locking"))
        })
        .collect();
    let text = lines.join("\n").trim().to_string();
    if text.is_empty() {
        format!("cargo exited with {} and printed no error", output.status)
    } else {
        format!("{text}\n(cargo exited with {})", output.status)
    }
}

pub(crate) mod phase_toolchain;
#[cfg(test)]
mod tests;
mod unit_graphs;
