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
        ["RUSTC", "CARGO_REGISTRIES_MY_REG_CREDENTIAL_PROVIDER"]
    );
    // A wrapper is turned off only where a file names one: any wrapper, even an empty
    // one, keeps cargo from remembering rustc's answers.
    std::fs::write(
        ws.join(".cargo/config.toml"),
        "[build]\nrustc-workspace-wrapper = \"x\"\n",
    )
    .unwrap();
    let programs = ConfigPrograms::around(&ws, None);
    assert_eq!(
        programs.overrides,
        [("RUSTC_WORKSPACE_WRAPPER".to_string(), String::new())]
    );
}

#[test]
fn rustflags_lose_codegen_backends_and_argument_files_get_the_built_in_one_last() {
    let env: BTreeMap<String, String> = [
        (
            "RUSTFLAGS",
            "--cfg x -Z codegen_backend=/evil.so -C opt-level=1",
        ),
        ("CARGO_ENCODED_RUSTFLAGS", "@flags\u{1f}--cfg\u{1f}y"),
        (
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "-Zcodegen-backend=evil",
        ),
        ("CARGO_BUILD_RUSTFLAGS", "--cfg z"),
        ("RUSTC_WRAPPER", "/evil"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let resolved = resolution_env(&env);
    assert_eq!(resolved["RUSTFLAGS"], "--cfg x -C opt-level=1");
    assert_eq!(
        resolved["CARGO_ENCODED_RUSTFLAGS"],
        format!("@flags\u{1f}--cfg\u{1f}y\u{1f}{BUILT_IN_BACKEND}")
    );
    assert_eq!(
        resolved["CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS"],
        ""
    );
    assert_eq!(resolved["CARGO_BUILD_RUSTFLAGS"], "--cfg z");
    assert!(!resolved.contains_key("RUSTC_WRAPPER"));
    let variables: Vec<String> = code_loading_variables(&env)
        .into_iter()
        .map(|(name, flags)| format!("{name}: {}", flags.join(" ")))
        .collect();
    assert_eq!(
        variables,
        [
            "CARGO_ENCODED_RUSTFLAGS: @flags",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS: -Zcodegen-backend=evil",
            "RUSTFLAGS: -Z codegen_backend=/evil.so"
        ]
    );
}

#[test]
fn config_rustflags_that_load_code_are_overridden_through_includes() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join(".cargo")).unwrap();
    std::fs::write(
        ws.join(".cargo/config.toml"),
        "include = [\"a.toml\", { path = \"b.toml\" }]\n[build]\nrustflags = \"--cfg top\"\n",
    )
    .unwrap();
    std::fs::write(
        ws.join(".cargo/a.toml"),
        "[build]\nrustflags = \"-Zcodegen-backend=/evil.so\"\n",
    )
    .unwrap();
    std::fs::write(
        ws.join(".cargo/b.toml"),
        "[target.'cfg(unix)']\nrustflags = [\"@/evil-flags\"]\n",
    )
    .unwrap();
    let programs = ConfigPrograms::around(&ws, None);
    let files: Vec<_> = programs
        .found
        .iter()
        .map(|(f, k)| (f.clone(), k.clone()))
        .collect();
    assert_eq!(
        files,
        [
            (
                ws.join(".cargo/b.toml"),
                vec!["target.cfg(unix).rustflags".to_string()]
            ),
            (
                ws.join(".cargo/a.toml"),
                vec!["build.rustflags".to_string()]
            ),
        ]
    );
    // The including file's string wins, as in cargo; the array is joined to.
    let none = BTreeMap::new();
    assert_eq!(
        programs.arguments(&none),
        [
            "--config",
            "\"build\".\"rustflags\"=\"--cfg top -Zcodegen-backend=llvm\"",
            "--config",
            "\"target\".\"cfg(unix)\".\"rustflags\"=[\"-Zcodegen-backend=llvm\"]",
        ]
    );
    // A phase's own CARGO_BUILD_RUSTFLAGS outranks the files' string.
    let env = BTreeMap::from([("CARGO_BUILD_RUSTFLAGS".to_string(), "--cfg p".to_string())]);
    assert_eq!(programs.arguments(&env).len(), 2);
}

#[test]
fn a_toolchain_file_pinning_a_path_is_refused_a_channel_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        toolchain_path_pin(&ToolchainChoice::for_dir(dir.path(), None)).map(|e| e.to_string())
    };
    let shown = dir.path().join("rust-toolchain.toml").display().to_string();
    assert_eq!(
        refused("rust-toolchain.toml", "[toolchain]\npath = \"evil\"\n").as_deref(),
        Some(format!("{shown}: pins the toolchain at the path `evil`: cache-miss runs no program a workspace names; to resolve with it, choose it yourself with RUSTUP_TOOLCHAIN=PATH").as_str())
    );
    assert_eq!(
        refused("rust-toolchain.toml", "[toolchain]\nchannel = \"1.80.0\"\n"),
        None
    );
    std::fs::remove_file(dir.path().join("rust-toolchain.toml")).unwrap();
    assert!(refused("rust-toolchain", "/opt/evil\n").is_some());
    assert_eq!(refused("rust-toolchain", "nightly-2024-01-01\n"), None);
    // The user's own choice is theirs.
    let mine = ToolchainChoice::for_dir(dir.path(), Some("/opt/mine".into()));
    assert!(toolchain_path_pin(&mine).is_none());
}
