use super::*;

fn spec(name: &str, attrs: &[(&str, AttrValue)]) -> PhaseSpec {
    PhaseSpec {
        name: name.into(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..PhaseSpec::default()
    }
}

fn s(text: &str) -> AttrValue {
    AttrValue::Str(text.into())
}

fn commands(phase: &Phase) -> Vec<String> {
    phase.commands.iter().map(PhaseCommand::display).collect()
}

#[test]
fn build_deps_only_defaults() {
    let set =
        PhaseSet::from_specs(vec![spec("deps", &[("function", s("buildDepsOnly"))])]).unwrap();
    assert_eq!(
        commands(&set.phases[0]),
        [
            "cargo check --release --locked --all-targets",
            "cargo build --release --locked",
            "cargo test --release --locked --no-run"
        ]
    );
}

#[test]
fn build_deps_only_without_checks() {
    let set = PhaseSet::from_specs(vec![spec(
        "deps",
        &[
            ("function", s("buildDepsOnly")),
            ("doCheck", AttrValue::Bool(false)),
            ("CARGO_PROFILE", s("ci")),
        ],
    )])
    .unwrap();
    assert_eq!(
        commands(&set.phases[0]),
        [
            "cargo check --profile ci --locked",
            "cargo build --profile ci --locked"
        ]
    );
}

#[test]
fn build_package_without_artifacts_gets_its_own_deps_phase() {
    let set = PhaseSet::from_specs(vec![spec(
        "app",
        &[
            ("function", s("buildPackage")),
            ("cargoExtraArgs", s("--locked -p cli")),
        ],
    )])
    .unwrap();
    let names: Vec<&str> = set.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["app-deps", "app"]);
    assert!(set.phases[0].implicit);
    assert_eq!(set.phases[0].function, CraneFunction::BuildDepsOnly);
    assert_eq!(set.phases[1].artifacts_from.as_deref(), Some("app-deps"));
    assert_eq!(
        commands(&set.phases[1]),
        [
            "cargo build --release --message-format json-render-diagnostics --locked -p cli",
            "cargo test --release --locked -p cli"
        ]
    );
    assert_eq!(
        commands(&set.phases[0])[2],
        "cargo test --release --locked -p cli --no-run"
    );
}

#[test]
fn clippy_nextest_doc_and_llvm_cov() {
    let set = PhaseSet::from_specs(vec![
        spec("deps", &[("function", s("buildDepsOnly"))]),
        spec(
            "clippy",
            &[
                ("function", s("cargoClippy")),
                ("cargoArtifacts", s("deps")),
                (
                    "cargoClippyExtraArgs",
                    s("--all-targets --all-features -- -D warnings"),
                ),
            ],
        ),
        spec(
            "nextest",
            &[
                ("function", s("cargoNextest")),
                ("cargoArtifacts", s("deps")),
            ],
        ),
        spec(
            "doc",
            &[("function", s("cargoDoc")), ("cargoArtifacts", s("deps"))],
        ),
        spec(
            "cov",
            &[
                ("function", s("cargoLlvmCov")),
                ("cargoArtifacts", s("deps")),
            ],
        ),
    ])
    .unwrap();
    assert_eq!(
        commands(set.get("clippy").unwrap()),
        ["cargo clippy --release --locked --all-targets --all-features -- -D warnings"]
    );
    assert_eq!(
        commands(set.get("nextest").unwrap()),
        [
            "cargo nextest --version",
            "cargo nextest run --cargo-profile release"
        ]
    );
    assert_eq!(
        commands(set.get("doc").unwrap()),
        ["cargo doc --release --locked --no-deps"]
    );
    assert_eq!(
        commands(set.get("cov").unwrap()),
        ["cargo llvm-cov --release test --locked --lcov --output-path '$out'"]
    );
}

#[test]
fn mk_cargo_derivation_reads_shell_text() {
    let set = PhaseSet::from_specs(vec![
        spec("deps", &[("function", s("buildDepsOnly"))]),
        spec(
            "custom",
            &[
                ("function", s("mkCargoDerivation")),
                ("cargoArtifacts", s("deps")),
                (
                    "buildPhaseCargoCommand",
                    s("cargoWithProfile build -p a\ncargo xtask dist $EXTRA"),
                ),
            ],
        ),
    ])
    .unwrap();
    let custom = set.get("custom").unwrap();
    assert_eq!(
        commands(custom),
        ["cargo build --release -p a", "cargo xtask dist '$EXTRA'"]
    );
    assert_eq!(custom.approximations.len(), 2);
    assert!(
        custom.approximations[0]
            .to_string()
            .contains("buildPhaseCargoCommand line 2: `cargo xtask dist $EXTRA`: `$EXTRA` is"),
        "{:?}",
        custom.approximations
    );
    // `cargo xtask` runs a program built from the workspace: its own calls are not seen.
    assert!(
        custom.approximations[1].to_string().contains(
            "runs `cargo xtask dist $EXTRA` (line 2), a program that may run cargo itself"
        ),
        "{:?}",
        custom.approximations
    );
}

#[test]
fn typo_gets_did_you_mean() {
    let err = PhaseSet::from_specs(vec![spec(
        "deps",
        &[
            ("function", s("buildDepsOnly")),
            ("cargoExtraArg", s("-p a")),
        ],
    )])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "phase `deps`: unknown attribute `cargoExtraArg`; did you mean `cargoExtraArgs`?"
    );
}

#[test]
fn unknown_function_and_missing_artifacts() {
    let err =
        PhaseSet::from_specs(vec![spec("x", &[("function", s("buildDepOnly"))])]).unwrap_err();
    assert!(
        err.to_string().contains("did you mean `buildDepsOnly`"),
        "{err}"
    );
    let err = PhaseSet::from_specs(vec![spec("x", &[("function", s("cargoClippy"))])]).unwrap_err();
    assert!(matches!(err, PhaseError::MissingArtifacts { .. }));
    let err = PhaseSet::from_specs(vec![spec(
        "x",
        &[("function", s("cargoClippy")), ("cargoArtifacts", s("dep"))],
    )])
    .unwrap_err();
    assert!(matches!(err, PhaseError::UnknownArtifacts { .. }));
}

#[test]
fn wrong_types_are_rejected() {
    let err = PhaseSet::from_specs(vec![spec(
        "deps",
        &[("function", s("buildDepsOnly")), ("doCheck", s("false"))],
    )])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "phase `deps`: attribute `doCheck` must be a boolean, found a string (`\"false\"`)"
    );
}

#[test]
fn env_attributes_and_chains() {
    let mut clippy = spec(
        "clippy",
        &[
            ("function", s("cargoClippy")),
            ("cargoArtifacts", s("build")),
            ("CARGO_PROFILE_RELEASE_LTO", s("fat")),
        ],
    );
    clippy.env.insert("RUSTFLAGS".into(), "--cfg loom".into());
    let set = PhaseSet::from_specs(vec![
        spec("deps", &[("function", s("buildDepsOnly"))]),
        spec(
            "build",
            &[("function", s("cargoBuild")), ("cargoArtifacts", s("deps"))],
        ),
        clippy,
    ])
    .unwrap();
    let clippy = set.get("clippy").unwrap();
    assert_eq!(clippy.env["CARGO_PROFILE_RELEASE_LTO"], "fat");
    assert_eq!(clippy.env["RUSTFLAGS"], "--cfg loom");
    let chain: Vec<&str> = set
        .artifact_chain(clippy)
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(chain, ["build", "deps"]);
}

#[test]
fn artifact_cycles_are_rejected() {
    let err = PhaseSet::from_specs(vec![
        spec(
            "a",
            &[("function", s("cargoBuild")), ("cargoArtifacts", s("b"))],
        ),
        spec(
            "b",
            &[("function", s("cargoBuild")), ("cargoArtifacts", s("a"))],
        ),
    ])
    .unwrap_err();
    assert!(matches!(err, PhaseError::ArtifactCycle { .. }));
}

#[test]
fn crane_forces_artifact_installation_on_deps_only_and_llvm_cov() {
    let no_install = ("doInstallCargoArtifacts", AttrValue::Bool(false));
    let set = PhaseSet::from_specs(vec![
        spec(
            "deps",
            &[("function", s("buildDepsOnly")), no_install.clone()],
        ),
        spec(
            "cov",
            &[
                ("function", s("cargoLlvmCov")),
                ("cargoArtifacts", s("deps")),
                ("doInstallCargoArtifacts", AttrValue::Bool(true)),
            ],
        ),
        spec(
            "build",
            &[
                ("function", s("cargoBuild")),
                ("cargoArtifacts", s("deps")),
                no_install,
            ],
        ),
    ])
    .unwrap();
    let deps = set.get("deps").unwrap();
    assert!(deps.installs_artifacts);
    assert_eq!(
        deps.notes,
        [Note::new(
            "crane's buildDepsOnly sets doInstallCargoArtifacts = true over the given value"
        )]
    );
    assert!(!set.get("cov").unwrap().installs_artifacts);
    assert!(!set.get("build").unwrap().installs_artifacts);
}
