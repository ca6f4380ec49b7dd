//! Shared helpers for the integration tests: fixtures copied to temp dirs, the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The repository's `fixtures/` directory.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fixture workspace copied (with the shared registry) into a temp dir, so cargo never
/// writes into the repository.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl Fixture {
    pub fn new(name: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(
            &fixtures_dir().join("registry"),
            &dir.path().join("registry"),
        );
        copy_dir(&fixtures_dir().join(name), &dir.path().join(name));
        Fixture {
            dir,
            name: name.to_string(),
        }
    }

    /// The fixture `name` with `phases` as its phases file.
    pub fn with_phases(name: &str, phases: &str) -> Fixture {
        let fixture = Fixture::new(name);
        std::fs::write(fixture.root().join("phases.toml"), phases).expect("write phases file");
        fixture
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }

    pub fn manifest(&self) -> PathBuf {
        self.root().join("Cargo.toml")
    }

    /// `cache-miss report --manifest-path <fixture> ARGS`.
    pub fn report(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        cache_miss()
            .arg("report")
            .arg("--manifest-path")
            .arg(self.manifest())
            .args(args)
            .assert()
    }

    /// The report's text output; asserts exit 0.
    pub fn report_text(&self, args: &[&str]) -> String {
        String::from_utf8(self.report(args).success().get_output().stdout.clone())
            .expect("UTF-8 output")
    }

    /// The JSON report; asserts exit 0.
    pub fn report_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let output = self.report(&all).success().get_output().stdout.clone();
        serde_json::from_slice(&output).expect("report prints JSON")
    }
}

/// Runs a command that must succeed and returns its stdout.
pub trait CommandExt {
    fn success_stdout(&mut self) -> Vec<u8>;
}

impl CommandExt for Command {
    fn success_stdout(&mut self) -> Vec<u8> {
        self.assert().success().get_output().stdout.clone()
    }
}

/// The binary, with the resolution cache ON but never the user's: `XDG_CACHE_HOME` points
/// into cargo's temp dir for integration tests (`target/tmp`), shared by every test, so the
/// whole suite (the golden snapshots included) runs through the cache as users do, and
/// parallel tests exercise concurrent readers and writers. Entries are keyed by the fixture
/// copy's temp path, so no test sees another's answers; the cache's own size bound keeps
/// the directory small. Tests that need a cache of their own pass `--cache-dir`.
pub fn cache_miss() -> Command {
    let mut command = Command::cargo_bin("cache-miss").expect("binary");
    // The user's shell must not leak in; tests check that it doesn't, with these set.
    command.env("CARGO_TERM_COLOR", "never");
    // The same output in CI as at a desk: CI's progress lines and job summary only where
    // a test asks for them.
    command.env_remove("CI").env_remove("GITHUB_STEP_SUMMARY");
    command.env("XDG_CACHE_HOME", test_cache_home());
    command
}

/// Where the tests' resolution cache lives (as `XDG_CACHE_HOME`).
fn test_cache_home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// The phase named `name` of a JSON report.
pub fn phase<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["phases"]
        .as_array()
        .expect("phases array")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no phase {name} in {report:#}"))
}

/// The phases' names, in report order.
pub fn phase_names(report: &Value) -> Vec<&str> {
    report["phases"]
        .as_array()
        .expect("phases array")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect()
}

/// `(package, reason)` of every miss of a phase, in report order.
pub fn misses(phase: &Value) -> Vec<(String, String)> {
    phase["misses"]
        .as_array()
        .expect("misses array")
        .iter()
        .map(|m| {
            (
                m["package"].as_str().unwrap().to_string(),
                m["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `(package, reason)` of the root misses only.
pub fn root_misses(phase: &Value) -> Vec<(String, String)> {
    phase["misses"]
        .as_array()
        .expect("misses array")
        .iter()
        .filter(|m| m["cascade_from"].is_null())
        .map(|m| {
            (
                m["package"].as_str().unwrap().to_string(),
                m["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Every file under `root` with its bytes and modification time, for "unchanged" checks.
pub fn snapshot_tree(root: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                stack.push(path);
            } else {
                let modified = entry
                    .metadata()
                    .expect("metadata")
                    .modified()
                    .expect("mtime");
                files.push((path.clone(), std::fs::read(&path).expect("read"), modified));
            }
        }
    }
    files.sort();
    files
}

/// The kinds of a miss's fix steps (`remedy.steps[].kind`).
pub fn fix_steps(miss: &Value) -> Vec<&str> {
    miss["remedy"]["steps"]
        .as_array()
        .expect("remedy steps")
        .iter()
        .map(|s| s["kind"].as_str().expect("step kind"))
        .collect()
}

/// Calls `$emit!` with every fixture workspace that has phases, as `test_name => "dir"`:
/// one list for every test that runs over all of them.
macro_rules! with_every_fixture {
    ($emit:ident) => {
        $emit! {
            all_features => "all-features",
            cascade => "cascade",
            clean => "clean",
            demo => "demo",
            dependency_variant => "dependency-variant",
            dev_deps => "dev-deps",
            finding_bench_read => "finding-bench-read",
            finding_bindgen => "finding-bindgen",
            finding_build_script_env => "finding-build-script-env",
            finding_dev_profile => "finding-dev-profile",
            finding_filter_drops => "finding-filter-drops",
            finding_pkg_config => "finding-pkg-config",
            finding_pyo3 => "finding-pyo3",
            finding_unfiltered_src => "finding-unfiltered-src",
            large => "large",
            platform => "platform",
            profile => "profile",
            roles => "roles",
            root_package => "root-package",
            rustflags => "rustflags",
            select => "select",
            solo => "solo",
        }
    };
}
pub(crate) use with_every_fixture;

/// The `clean` fixture with a path dependency outside the workspace (as crane's `src`
/// cannot hold it), its lock file updated.
pub fn with_outside_path_dependency() -> Fixture {
    let fixture = Fixture::new("clean");
    let outside = fixture.dir.path().join("outside");
    std::fs::create_dir_all(outside.join("src")).expect("create dir");
    std::fs::write(
        outside.join("Cargo.toml"),
        "[package]\nname = \"outside\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .expect("write manifest");
    std::fs::write(outside.join("src/lib.rs"), "").expect("write lib.rs");
    let manifest = fixture.root().join("app/Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .expect("read manifest")
        .replace(
            "[dependencies]\n",
            "[dependencies]\noutside = { path = \"../../outside\" }\n",
        );
    std::fs::write(&manifest, text).expect("write manifest");
    let status = std::process::Command::new("cargo")
        .args(["metadata", "--offline", "--format-version", "1"])
        .current_dir(fixture.root())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("cargo metadata");
    assert!(status.success(), "cannot add `outside` to Cargo.lock");
    fixture
}

/// Whether a test's environment requirement `what` (a toolchain, a program) is met, by
/// `available`. When it is not: under the `CI` variable the test fails, naming `what` and
/// `how_to_install` (the rule `cache-miss` itself uses: set, not empty, not `false`); elsewhere it prints one line saying so (straight to stderr, past the
/// test harness's capture, so `cargo test` shows it) and the test skips itself.
pub fn require(what: &str, how_to_install: &str, available: bool) -> bool {
    if available {
        return true;
    }
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") {
        panic!("this test needs {what}, which is missing; install it with `{how_to_install}`");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {} needs {what}; install it with `{how_to_install}`",
        std::thread::current().name().unwrap_or("a test"),
    );
    false
}

/// Whether rustup has `toolchain` installed (never installing it).
pub fn toolchain_installed(toolchain: &str) -> bool {
    std::process::Command::new("rustup")
        .args(["run", toolchain, "cargo", "--version"])
        .env("RUSTUP_AUTO_INSTALL", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// [`require`] of the Rust toolchain `toolchain`.
pub fn require_toolchain(toolchain: &str) -> bool {
    require(
        &format!("Rust toolchain {toolchain}"),
        &format!("rustup toolchain install {toolchain} --profile minimal"),
        toolchain_installed(toolchain),
    )
}

/// The program `name` as found on `PATH`, or `None` when the test is to skip itself; see
/// [`require`].
#[allow(dead_code)] // for the tests that need Nix or a browser
pub fn require_tool(name: &str, how_to_install: &str) -> Option<PathBuf> {
    let found = on_path(name);
    require(&format!("`{name}`"), how_to_install, found.is_some());
    found
}

/// The program `name` as `PATH` finds it.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Adds `text` at the end of the file at `path`, creating it (and its directory) if needed.
pub fn append(path: &Path, text: &str) {
    let mut contents = std::fs::read_to_string(path).unwrap_or_default();
    contents.push_str(text);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// The demo workspace with the flake fixture `flake` (`fixtures/flakes/NAME`) in place of
/// its phases file.
pub fn flake_workspace(flake: &str) -> Fixture {
    let fixture = Fixture::new("demo");
    std::fs::remove_file(fixture.root().join("phases.toml")).expect("demo has a phases file");
    copy_dir(&fixtures_dir().join("flakes").join(flake), &fixture.root());
    fixture
}
