use super::*;

#[test]
fn cargo_info_reads_version_and_host() {
    let default = ToolchainChoice {
        toolchain: None,
        origin: ToolchainOrigin::Default,
    };
    let text = "cargo 1.95.0 (f2d3ce0bd 2026-03-21)\nrelease: 1.95.0\nhost: x86_64-unknown-linux-gnu\nos: Debian\n";
    assert_eq!(
        CargoInfo::parse(text, default.clone()),
        Some(CargoInfo {
            version: (1, 95),
            release: "1.95.0".into(),
            host: "x86_64-unknown-linux-gnu".into(),
            toolchain: default.clone(),
        })
    );
    // cargo 1.50 prints no host line; a nightly's release has a suffix.
    let old = CargoInfo::parse(
        "cargo 1.50.0 (f04e7fab7 2021-02-04)\nrelease: 1.50.0\n",
        default.clone(),
    );
    assert_eq!(
        old.map(|i| (i.version, i.host)),
        Some(((1, 50), String::new()))
    );
    let nightly = CargoInfo::parse("cargo 1.97.0-nightly (abc 2026-05-01)\n", default.clone());
    assert_eq!(nightly.map(|i| i.version), Some((1, 97)));
    assert_eq!(CargoInfo::parse("cargo\n", default), None);
}

#[test]
fn resolution_is_always_locked() {
    let invocation = |args: &[&str]| Invocation {
        subcommand: "build",
        args: args.iter().map(|a| a.to_string()).collect(),
        env: BTreeMap::new(),
        instrumented_by: None,
        toolchain: None,
        rustup_toolchain: None,
        selection: Default::default(),
    };
    let args = invocation(&["--release"]).unit_graph_args();
    assert_eq!(args[..3], ["build", "--release", "--locked"]);
    let args = invocation(&["--locked"]).unit_graph_args();
    assert_eq!(args.iter().filter(|a| *a == "--locked").count(), 1);
}

#[test]
fn invocations_cargo_cannot_tell_apart_share_one_resolution() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/clean");
    let runner = CargoRunner::new(&fixture);
    let build = Invocation {
        subcommand: "build",
        args: vec!["--release".into()],
        env: BTreeMap::new(),
        instrumented_by: None,
        toolchain: None,
        rustup_toolchain: None,
        selection: Default::default(),
    };
    // The crane lib and the instrumenting tool never reach cargo; `--locked` is added
    // to every resolution anyway.
    let same = [
        Invocation {
            toolchain: Some("craneLibLLvmTools".into()),
            instrumented_by: Some("cargo llvm-cov"),
            ..build.clone()
        },
        Invocation {
            args: vec!["--release".into(), "--locked".into()],
            ..build.clone()
        },
    ];
    let first = runner.unit_graph(&build).unwrap();
    assert!(!first.units.is_empty());
    for invocation in &same {
        assert!(Arc::ptr_eq(&first, &runner.unit_graph(invocation).unwrap()));
    }
    let check = Invocation {
        subcommand: "check",
        ..build
    };
    assert!(!Arc::ptr_eq(&first, &runner.unit_graph(&check).unwrap()));
}

#[test]
fn ambient_backtrace_settings_are_not_passed_on() {
    assert!(!keep_ambient("RUST_BACKTRACE"));
    assert!(!keep_ambient("RUSTFLAGS"));
    assert!(keep_ambient("CARGO_HOME") && keep_ambient("PATH"));
}

/// A stand-in for a cargo that cannot start (a broken install).
#[cfg(unix)]
fn failing_cargo(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("cargo");
    std::fs::write(
        &path,
        "#!/bin/sh\necho \"error: cannot load the toolchain's libraries\" >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn failing_cargo_shows_its_stderr_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let runner = CargoRunner {
        cargo: failing_cargo(dir.path()),
        ..CargoRunner::new(dir.path())
    };
    let version = runner.check_version().unwrap_err().to_string();
    assert!(version.contains("`cargo -vV` failed"), "{version}");
    assert!(version.contains("cannot load the toolchain's libraries"));
    assert!(version.contains("exit status: 1"), "{version}");
    let metadata = format!("{:#}", runner.metadata().unwrap_err());
    assert!(metadata.contains("cannot load") && metadata.contains("exit status: 1"));
}
