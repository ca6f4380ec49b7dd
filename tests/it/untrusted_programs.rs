//! Only cargo runs while phases are resolved: a program named by a phase's environment, a
//! `--config` argument, `--set`, cargo's config files (the workspace's, above it, in
//! CARGO_HOME) or the user's shell never runs. Each route points at a marker program that
//! leaves a file behind when it runs; the report must succeed, leave no marker, say what it
//! withheld, and count the same units as without the hostile setting.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Fixture, append, cache_miss, phase};

/// A program that records that it ran, then fails.
struct Marker {
    program: PathBuf,
    ran: PathBuf,
}

impl Marker {
    fn new(dir: &Path, name: &str) -> Marker {
        let bin = dir.join("marker-bin");
        fs::create_dir_all(&bin).unwrap();
        let ran = dir.join(format!("{name}.ran"));
        let program = bin.join(name);
        fs::write(
            &program,
            format!("#!/bin/sh\necho \"$*\" > '{}'\nexit 1\n", ran.display()),
        )
        .unwrap();
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        Marker { program, ran }
    }

    fn path(&self) -> &str {
        self.program.to_str().unwrap()
    }

    fn assert_never_ran(&self, route: &str) {
        assert!(
            !self.ran.exists(),
            "{route}: the marker ran with {:?}",
            fs::read_to_string(&self.ran).unwrap_or_default()
        );
    }
}

/// The JSON report without the cache (so cargo really runs), with `env` set.
fn hostile_report(fixture: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Value {
    let output = cache_miss()
        .args([
            "report",
            "--format",
            "json",
            "--no-cache",
            "--manifest-path",
        ])
        .arg(fixture.manifest())
        .args(args)
        .envs(env.iter().copied())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&output).expect("JSON report")
}

/// Every phase's unit counts.
fn units(report: &Value) -> Vec<(String, Value)> {
    report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["units"].clone()))
        .collect()
}

fn notes(phase: &Value) -> String {
    phase["notes"].to_string()
}

#[test]
fn a_phases_environment_runs_no_program() {
    let fixture = Fixture::new("demo");
    let baseline = units(&hostile_report(&fixture, &[], &[]));
    let marker = Marker::new(fixture.dir.path(), "marker");
    // A PATH whose `cargo` and `rustc` are markers: it must not choose the cargo that runs.
    let fake_path = fixture.dir.path().join("fake-path");
    fs::create_dir_all(&fake_path).unwrap();
    for tool in ["cargo", "rustc"] {
        fs::copy(&marker.program, fake_path.join(tool)).unwrap();
    }
    let m = marker.path();
    append(
        &fixture.root().join("phases.toml"),
        &format!(
            "RUSTC_WRAPPER = \"{m}\"\nRUSTC_WORKSPACE_WRAPPER = \"{m}\"\nRUSTC = \"{m}\"\nRUSTDOC = \"{m}\"\nCARGO = \"{m}\"\nCARGO_BUILD_RUSTC_WRAPPER = \"{m}\"\nLD_LIBRARY_PATH = \"{dir}\"\nPATH = \"{dir}\"\n",
            dir = fake_path.display()
        ),
    );
    let report = hostile_report(&fixture, &[], &[]);
    marker.assert_never_ran("phase environment");
    assert_eq!(units(&report), baseline);
    // The variables were appended to the last phase of the file.
    let nextest = notes(phase(&report, "nextest"));
    for variable in [
        "RUSTC_WRAPPER",
        "RUSTC",
        "RUSTDOC",
        "PATH",
        "LD_LIBRARY_PATH",
    ] {
        assert!(
            nextest.contains(&format!(
                "{variable} from the phase's environment is not passed to cargo"
            )),
            "{variable}: {nextest}"
        );
    }
    // The phase still shows its environment as the source states it.
    assert_eq!(phase(&report, "nextest")["env"]["RUSTC_WRAPPER"], m);
}

#[test]
fn set_on_a_phases_environment_runs_no_program() {
    let fixture = Fixture::new("demo");
    let marker = Marker::new(fixture.dir.path(), "marker");
    let set = format!("clippy.env.RUSTC_WRAPPER={}", marker.path());
    let report = hostile_report(&fixture, &["--set", &set], &[]);
    marker.assert_never_ran("--set");
    assert!(notes(phase(&report, "clippy")).contains("RUSTC_WRAPPER from the phase's environment"));
}

#[test]
fn config_arguments_that_name_programs_are_left_out() {
    let fixture = Fixture::new("demo");
    let baseline = units(&hostile_report(&fixture, &[], &[]));
    let marker = Marker::new(fixture.dir.path(), "marker");
    let m = marker.path();
    let phases = fixture.root().join("phases.toml");
    let text = fs::read_to_string(&phases).unwrap().replace(
        "cargoExtraArgs = \"--locked -p cli\"",
        &format!(
            "cargoExtraArgs = \"--locked -p cli --config 'build.rustc-wrapper=\\\"{m}\\\"' --config 'build.rustc=\\\"{m}\\\"' --config 'target.x86_64-unknown-linux-gnu.linker=\\\"{m}\\\"' --config 'target.x86_64-unknown-linux-gnu.runner=\\\"{m}\\\"'\""
        ),
    );
    fs::write(&phases, text).unwrap();
    let report = hostile_report(&fixture, &[], &[]);
    marker.assert_never_ran("--config arguments");
    assert_eq!(units(&report), baseline);
    let cli = notes(phase(&report, "cli"));
    assert!(cli.contains("build.rustc-wrapper"), "{cli}");
    assert!(cli.contains("is left out of resolution"), "{cli}");
    assert!(
        cli.contains("target.x86_64-unknown-linux-gnu.runner"),
        "{cli}"
    );
}

const HOSTILE_CONFIG: &str = "
[build]
rustc = \"@M@\"
rustc-wrapper = \"@M@\"
rustc-workspace-wrapper = \"@M@\"
rustdoc = \"@M@\"

[target.x86_64-unknown-linux-gnu]
linker = \"@M@\"
runner = \"@M@\"

[target.'cfg(unix)']
runner = \"@M@\"

[registry]
global-credential-providers = [\"@M@\"]
";

#[test]
fn cargo_config_files_run_no_program() {
    let fixture = Fixture::new("demo");
    let baseline = units(&hostile_report(&fixture, &[], &[]));
    let marker = Marker::new(fixture.dir.path(), "marker");
    let hostile = HOSTILE_CONFIG.replace("@M@", marker.path());
    let workspace_config = fixture.root().join(".cargo/config.toml");
    append(&workspace_config, &hostile);
    let report = hostile_report(&fixture, &[], &[]);
    marker.assert_never_ran("the workspace's .cargo/config.toml");
    assert_eq!(units(&report), baseline);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("names programs to run"), "{warnings}");
    assert!(warnings.contains("build.rustc-wrapper"), "{warnings}");

    // The same in a config above the workspace and in CARGO_HOME.
    fs::write(
        &workspace_config,
        fs::read_to_string(crate::common::fixtures_dir().join("demo/.cargo/config.toml")).unwrap(),
    )
    .unwrap();
    append(&fixture.dir.path().join(".cargo/config.toml"), &hostile);
    let home = fixture.dir.path().join("cargo-home");
    append(&home.join("config.toml"), &hostile);
    let report = hostile_report(&fixture, &[], &[("CARGO_HOME", home.to_str().unwrap())]);
    marker.assert_never_ran("configs above the workspace and in CARGO_HOME");
    assert_eq!(units(&report), baseline);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("cargo-home/config.toml"), "{warnings}");
}

#[test]
fn the_users_own_program_settings_do_not_reach_resolution() {
    let fixture = Fixture::new("demo");
    let baseline = units(&hostile_report(&fixture, &[], &[]));
    let marker = Marker::new(fixture.dir.path(), "marker");
    let m = marker.path();
    let env = [
        ("RUSTC", m),
        ("RUSTC_WRAPPER", m),
        ("RUSTC_WORKSPACE_WRAPPER", m),
        ("RUSTDOC", m),
        ("CARGO_BUILD_RUSTC", m),
        ("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER", m),
    ];
    let report = hostile_report(&fixture, &[], &env);
    marker.assert_never_ran("the user's environment");
    assert_eq!(units(&report), baseline);
}

#[test]
fn fix_runs_no_program_either() {
    let fixture = Fixture::new("demo");
    let marker = Marker::new(fixture.dir.path(), "marker");
    append(
        &fixture.root().join("phases.toml"),
        &format!("RUSTC_WRAPPER = \"{}\"\n", marker.path()),
    );
    append(
        &fixture.root().join(".cargo/config.toml"),
        &HOSTILE_CONFIG.replace("@M@", marker.path()),
    );
    cache_miss()
        .args(["fix", "--format", "json", "--no-cache", "--manifest-path"])
        .arg(fixture.manifest())
        .env("RUSTC", marker.path())
        .assert()
        .success();
    marker.assert_never_ran("fix");
}

/// A shared object whose constructor leaves a file behind when anything loads it.
struct LoadMarker {
    library: PathBuf,
    loaded: PathBuf,
}

impl LoadMarker {
    fn new(dir: &Path) -> LoadMarker {
        let source = dir.join("marker.c");
        let loaded = dir.join("marker.loaded");
        let library = dir.join("marker.so");
        fs::write(
            &source,
            format!(
                "#include <stdio.h>\n__attribute__((constructor)) static void mark(void) {{ FILE *f = fopen(\"{}\", \"w\"); if (f) fclose(f); }}\n",
                loaded.display()
            ),
        )
        .unwrap();
        let status = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&library)
            .arg(&source)
            .status()
            .expect("a C compiler (cc) builds the marker library");
        assert!(status.success(), "cc failed to build the marker library");
        LoadMarker { library, loaded }
    }

    fn path(&self) -> &str {
        self.library.to_str().unwrap()
    }

    fn assert_never_loaded(&self, route: &str) {
        assert!(
            !self.loaded.exists(),
            "{route}: rustc loaded the marker library"
        );
    }
}

/// rustc's codegen backend named by a phase's rustflags, an argument file or a `--config`
/// argument: rustc would load it when cargo asks about the target; it never is, and the
/// phase's rustflags stay as written in the comparison.
#[test]
fn a_codegen_backend_in_a_phases_rustflags_is_never_loaded() {
    let fixture = Fixture::new("demo");
    let baseline = units(&hostile_report(&fixture, &[], &[]));
    let marker = LoadMarker::new(fixture.dir.path());
    let so = marker.path();
    // Proof that the route is real: cargo itself loads it.
    let cargo = std::process::Command::new("cargo")
        .args([
            "check",
            "--unit-graph",
            "-Z",
            "unstable-options",
            "--offline",
        ])
        .current_dir(fixture.root())
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", format!("-Zcodegen-backend={so}"))
        .env("CARGO_TARGET_DIR", fixture.dir.path().join("proof-target"))
        .output()
        .unwrap();
    assert!(marker.loaded.exists(), "cargo did not load it: {cargo:?}");
    fs::remove_file(&marker.loaded).unwrap();

    let argfile = fixture.dir.path().join("flags.txt");
    fs::write(&argfile, format!("-Zcodegen-backend={so}\n")).unwrap();
    append(
        &fixture.root().join("phases.toml"),
        &format!(
            "RUSTFLAGS = \"--cfg marked -Z codegen_backend={so}\"\nCARGO_BUILD_RUSTFLAGS = \"@{}\"\n",
            argfile.display()
        ),
    );
    let phases = fixture.root().join("phases.toml");
    let text = fs::read_to_string(&phases).unwrap().replace(
        "cargoExtraArgs = \"--locked -p cli\"",
        &format!(
            "cargoExtraArgs = \"--locked -p cli --config 'build.rustflags=[\\\"-Zcodegen-backend={so}\\\"]'\""
        ),
    );
    fs::write(&phases, text).unwrap();
    let report = hostile_report(&fixture, &[], &[]);
    marker.assert_never_loaded("a phase's rustflags");
    let nextest = phase(&report, "nextest");
    let notes = notes(nextest);
    assert!(
        notes.contains(&format!(
            "RUSTFLAGS from the phase's environment has `-Z codegen_backend={so}`"
        )) && notes.contains("CARGO_BUILD_RUSTFLAGS from the phase's environment has `@"),
        "{notes}"
    );
    let cause = nextest["misses"][0]["cause"].as_str().unwrap();
    assert!(
        cause.contains(&format!(
            "this phase: RUSTFLAGS=--cfg marked -Z codegen_backend={so}"
        )),
        "{cause}"
    );
    let cli = crate::common::phase(&report, "cli");
    assert!(
        self::notes(cli).contains("it names a program to run or code to load (build.rustflags)"),
        "{cli}"
    );
    // Without the hostile `--config`, cli resolves what it did before.
    assert_eq!(units(&report)[2], baseline[2]);
}

/// The same in cargo's config files, included ones too, as a string or an array, for
/// the target's triple, a `cfg(...)` or `build`, with `--sysroot` and a backend's name.
#[test]
fn a_codegen_backend_in_cargo_config_rustflags_is_never_loaded() {
    let fixture = Fixture::new("demo");
    let baseline = units(&hostile_report(&fixture, &[], &[]));
    let marker = LoadMarker::new(fixture.dir.path());
    let so = marker.path();
    let sysroot = fixture.dir.path().join("sysroot");
    let backends = sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/codegen-backends");
    fs::create_dir_all(&backends).unwrap();
    fs::copy(&marker.library, backends.join("librustc_codegen_evil.so")).unwrap();
    let config = fixture.root().join(".cargo/config.toml");
    let original = fs::read_to_string(&config).unwrap();
    let included = fixture.root().join(".cargo/more.toml");
    let cases = [
        (
            "a string in the workspace's config",
            format!("[build]\nrustflags = \"--cfg marked -Zcodegen-backend={so}\"\n"),
            None,
        ),
        (
            "an array for the target in an included file",
            "include = [\"more.toml\"]\n".to_string(),
            Some(format!(
                "[target.x86_64-unknown-linux-gnu]\nrustflags = [\"-Zcodegen-backend={so}\"]\n"
            )),
        ),
        (
            "a backend's name in another sysroot, for cfg(unix)",
            "include = [{ path = \"more.toml\" }]\n".to_string(),
            Some(format!(
                "[target.'cfg(unix)']\nrustflags = [\"--sysroot\", \"{}\", \"-Zcodegen-backend=evil\"]\n",
                sysroot.display()
            )),
        ),
    ];
    for (route, top, more) in cases {
        fs::write(&config, format!("{top}{original}")).unwrap();
        if let Some(more) = more {
            fs::write(&included, more).unwrap();
        }
        let report = hostile_report(&fixture, &[], &[]);
        marker.assert_never_loaded(route);
        assert_eq!(units(&report), baseline, "{route}");
        let warnings = report["warnings"].to_string();
        assert!(
            warnings.contains("names programs to run or code to load")
                && warnings.contains("rustflags)"),
            "{route}: {warnings}"
        );
    }
}

/// An `[env]` table reaches the rustc cargo asks about the target: `LD_PRELOAD` there
/// would load a library into it. In the workspace's config (a plain value), in CARGO_HOME
/// (`force`d), relative to the config's directory: it never loads.
#[test]
fn a_config_env_table_loads_no_library() {
    let fixture = Fixture::new("demo");
    let baseline = units(&hostile_report(&fixture, &[], &[]));
    let marker = LoadMarker::new(fixture.dir.path());
    let config = fixture.root().join(".cargo/config.toml");
    append(
        &config,
        &format!("\n[env]\nLD_PRELOAD = \"{}\"\n", marker.path()),
    );
    // Proof that the route is real: cargo itself loads it.
    std::process::Command::new("cargo")
        .args([
            "check",
            "--unit-graph",
            "-Z",
            "unstable-options",
            "--offline",
        ])
        .current_dir(fixture.root())
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", fixture.dir.path().join("proof-target"))
        .output()
        .unwrap();
    assert!(marker.loaded.exists(), "cargo did not load it");
    fs::remove_file(&marker.loaded).unwrap();

    let report = hostile_report(&fixture, &[], &[]);
    marker.assert_never_loaded("the workspace's [env]");
    assert_eq!(units(&report), baseline);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("(env.LD_PRELOAD)") && warnings.contains("`[env]` variables are emptied"),
        "{warnings}"
    );

    fs::write(
        &config,
        fs::read_to_string(crate::common::fixtures_dir().join("demo/.cargo/config.toml")).unwrap(),
    )
    .unwrap();
    fs::copy(&marker.library, fixture.root().join("preload.so")).unwrap();
    let home = fixture.dir.path().join("cargo-home");
    append(
        &home.join("config.toml"),
        "[env]\nLD_PRELOAD = { value = \"preload.so\", force = true, relative = true }\n",
    );
    append(
        &config,
        "[env]\nLD_PRELOAD = { value = \"../preload.so\", force = true, relative = true }\n",
    );
    let report = hostile_report(&fixture, &[], &[("CARGO_HOME", home.to_str().unwrap())]);
    marker.assert_never_loaded("a forced, relative [env] in the workspace and CARGO_HOME");
    assert_eq!(units(&report), baseline);
}

/// A toolchain file that pins a toolchain by path names a directory of programs: rustup
/// would run its `cargo`. Refused before any cargo runs; the user's own
/// RUSTUP_TOOLCHAIN may still choose one.
#[test]
fn a_toolchain_file_that_pins_a_path_is_refused() {
    let fixture = Fixture::new("demo");
    let marker = Marker::new(fixture.dir.path(), "marker");
    let toolchain = fixture.root().join("evil-toolchain");
    fs::create_dir_all(toolchain.join("bin")).unwrap();
    for tool in ["cargo", "rustc"] {
        fs::copy(&marker.program, toolchain.join("bin").join(tool)).unwrap();
    }
    fs::write(
        fixture.root().join("rust-toolchain.toml"),
        format!("[toolchain]\npath = \"{}\"\n", toolchain.display()),
    )
    .unwrap();
    let output = cache_miss()
        .args([
            "report",
            "--format",
            "json",
            "--no-cache",
            "--manifest-path",
        ])
        .arg(fixture.manifest())
        // cargo test runs under rustup, which sets it: the file decides here.
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    marker.assert_never_ran("a toolchain file's path");
    assert_eq!(output.status.code(), Some(2));
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        error["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("rust-toolchain.toml"),
        "{error}"
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pins the toolchain at the path"),
        "{error}"
    );
}
