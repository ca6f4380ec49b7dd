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
