//! Idioms of real crane flakes the static reader gets right (issue 20's corpus): phases
//! named by the output attribute or binding that reaches them, platforms evaluated per
//! package set, names of crane libs and environment variables computed by the flake.

use serde_json::Value;

use crate::common::{self, Fixture};

/// `cache-miss COMMAND --format json --system x86_64-linux` over (a copy of) the demo
/// workspace with the flake fixture `case` beside it, plus `args`.
fn json_of(command: &str, case: &str, args: &[&str]) -> Value {
    let fixture = common::flake_workspace(case);
    json_in(&fixture, command, args)
}

fn json_in(fixture: &Fixture, command: &str, args: &[&str]) -> Value {
    let output = common::cache_miss()
        .args([command, "--format", "json", "--system", "x86_64-linux"])
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("prints JSON")
}

/// Each phase's name with its crane function.
fn named_functions(phases: &Value) -> Vec<(String, String)> {
    phases["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["function"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Checks in a set of a `let`, reached only through `apps.*` scripts that interpolate
/// them, are named after their attribute in that set, not after the script's `text`.
#[test]
fn checks_bound_in_a_let_set_are_named_after_their_attribute() {
    let phases = json_of("phases", "let-bound-checks", &[]);
    assert_eq!(
        named_functions(&phases),
        common::pairs(&[
            ("cargoArtifacts", "buildDepsOnly"),
            ("unit", "cargoTest"),
            ("lint", "cargoClippy"),
            ("default", "buildPackage"),
        ])
    );
}

/// Phases that share a pname are named by the output attribute reaching them: through
/// `lib.recurseIntoAttrs` sets (`checks.serverClippy`) or a package's `passthru.tests`
/// (`cli-clippy`); the pname names only the deps-only phases, as crane does.
#[test]
fn phases_sharing_a_pname_are_named_by_the_output_reaching_them() {
    let phases = json_of("phases", "passthru-checks", &[]);
    let mut names = named_functions(&phases);
    names.sort();
    assert_eq!(
        names,
        common::pairs(&[
            ("cli", "buildPackage"),
            ("cli-bin-deps", "buildDepsOnly"),
            ("cli-clippy", "cargoClippy"),
            ("cli-doc", "cargoDoc"),
            ("server", "buildPackage"),
            ("server-bin-deps", "buildDepsOnly"),
            ("serverClippy", "cargoClippy"),
            ("serverDoc", "cargoDoc"),
        ])
    );
}
