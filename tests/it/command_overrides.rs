//! Phase commands spelled in ways cargo accepts only per subcommand, or with flags that do
//! not change units, still resolve.

use crate::common;

use std::fs;

use common::{Fixture, misses, phase};

fn with_phases(phases: &str) -> Fixture {
    Fixture::with_phases("clean", phases)
}

#[test]
fn bench_with_the_release_profile_resolves() {
    let fixture = with_phases(
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ncargoTestCommand = \"cargo bench --profile release\"\n",
    );
    let report = fixture.report_json(&[]);
    let commands = phase(&report, "deps")["commands"].to_string();
    assert!(
        commands.contains("cargo bench --profile release --locked --no-run"),
        "{commands}"
    );
}

#[test]
fn frozen_and_offline_resolve_like_locked() {
    let fixture = with_phases(
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ncargoExtraArgs = \"--frozen --offline\"\n\
         [phases.package]\nfunction = \"buildPackage\"\ncargoArtifacts = \"deps\"\n\
         cargoExtraArgs = \"--locked\"\n",
    );
    let lock = fs::read(fixture.root().join("Cargo.lock")).unwrap();
    let report = fixture.report_json(&[]);
    assert!(misses(phase(&report, "package")).is_empty(), "{report:#}");
    assert_eq!(fs::read(fixture.root().join("Cargo.lock")).unwrap(), lock);
}

/// A phase whose command is a program (an xtask binary, `cargo xtask`): said to be a
/// program whose own cargo calls cannot be seen, with how to declare them; declared with
/// `--set`, the phase resolves.
#[test]
fn a_program_that_drives_cargo_is_named_with_how_to_declare_its_calls() {
    let fixture = Fixture::with_phases(
        "clean",
        r#"[phases.deps]
function = "buildDepsOnly"

[phases.dist]
function = "mkCargoDerivation"
cargoArtifacts = "deps"
buildPhaseCargoCommand = "xtask-lua dist --release"

[phases.xtask]
function = "mkCargoDerivation"
cargoArtifacts = "deps"
buildPhaseCargoCommand = """
mkdir -p out
cargo xtask dist
"""
"#,
    );
    let report = fixture.report_json(&[]);
    let approximations = |name: &str| -> Vec<String> {
        common::phase(&report, name)["approximations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    let dist = approximations("dist");
    assert_eq!(dist.len(), 1, "{dist:?}");
    assert!(
        dist[0].contains("buildPhaseCargoCommand runs `xtask-lua dist --release` (line 1), a program that may run cargo itself: the cargo calls it makes cannot be seen, so this phase resolves nothing"),
        "{dist:?}"
    );
    assert!(
        dist[0].contains("`--set 'dist.buildPhaseCargoCommand=cargo build --release --locked'`"),
        "{dist:?}"
    );
    assert!(!dist[0].contains("no cargo call found"), "{dist:?}");
    let xtask = approximations("xtask");
    assert!(
        xtask[0].contains("runs `cargo xtask dist` (line 2), a program that may run cargo itself")
            && xtask[0].contains("only the cargo calls written here are analysed"),
        "{xtask:?}"
    );
    // `mkdir` is no program that runs cargo.
    assert!(!xtask[0].contains("mkdir"), "{xtask:?}");

    let declared = fixture.report_json(&[
        "--set",
        "dist.buildPhaseCargoCommand=cargo build --release --locked",
    ]);
    let dist = common::phase(&declared, "dist");
    assert_eq!(dist["commands"][0], "cargo build --release --locked");
    assert!(
        dist["approximations"].as_array().unwrap().is_empty(),
        "{dist}"
    );
    assert!(dist["units"]["needed"].as_u64().unwrap() > 0, "{dist}");
}
