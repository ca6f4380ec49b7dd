//! Benchmark: parsing and statically evaluating a generated 1,000-line flake (many phases,
//! commonArgs, helper functions, lets). Target: under 50 ms.
//!
//! Run with `cargo bench --bench flake_parse`.

use std::path::Path;
use std::time::{Duration, Instant};

use cache_miss::read_flake_str;

const RUNS: usize = 20;
/// Members in the generated flake: about 1,000 lines.
const MEMBERS: usize = 44;

fn main() {
    let text = generate();
    let lines = text.lines().count();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let phases = read_flake_str(&text, Path::new("/bench/flake.nix"), Path::new("/bench"))
                .expect("flake reads");
            assert!(
                phases.specs.len() > 4 * MEMBERS - 1,
                "{} phases",
                phases.specs.len()
            );
            started.elapsed()
        })
        .collect();
    times.sort();
    let phases = read_flake_str(&text, Path::new("/bench/flake.nix"), Path::new("/bench"))
        .unwrap()
        .specs
        .len();
    println!("flake: {lines} lines, {phases} phases");
    println!(
        "parse + evaluate (median of {RUNS}): {:.1} ms",
        times[RUNS / 2].as_secs_f64() * 1000.0
    );
    println!(
        "slowest:                           {:.1} ms",
        times[RUNS - 1].as_secs_f64() * 1000.0
    );
}

/// A flake-utils flake with `MEMBERS` members, each with its own deps, package, clippy and
/// test phases built by helper functions over `commonArgs`.
fn generate() -> String {
    let mut out = String::from(
        r#"{
  description = "generated benchmark flake";
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";
    crane.url = "github:ipetkov/crane";
    flake-utils.url = "github:numtide/flake-utils";
  };
  outputs = { self, nixpkgs, crane, flake-utils, ... }:
    flake-utils.lib.eachDefaultSystem (system:
      let
        pkgs = nixpkgs.legacyPackages.${system};
        inherit (pkgs) lib;
        craneLib = crane.mkLib pkgs;
        src = craneLib.cleanCargoSource ./.;
        commonArgs = {
          inherit src;
          strictDeps = true;
          CARGO_PROFILE = "release";
          buildInputs = lib.optionals pkgs.stdenv.isDarwin [ pkgs.libiconv ];
        };
        mkDeps = member: craneLib.buildDepsOnly (commonArgs // {
          pname = "${member}-deps";
          cargoExtraArgs = "--locked -p ${member}";
        });
        mkPackage = { member, deps, features ? "" }: craneLib.buildPackage (commonArgs // {
          pname = member;
          cargoArtifacts = deps;
          cargoExtraArgs = "--locked -p ${member} ${features}";
          doCheck = false;
        });
"#,
    );
    for i in 0..MEMBERS {
        out.push_str(&format!(
            r#"
        # member {i}
        member{i} = rec {{
          name = "member-{i}";
          deps = mkDeps name;
          package = mkPackage {{
            member = name;
            inherit deps;
            features = if {odd} then "--features extra" else "";
          }};
          clippy = craneLib.cargoClippy (commonArgs // {{
            cargoArtifacts = deps;
            cargoClippyExtraArgs = "--all-targets -- --deny warnings";
          }});
          tests = craneLib.cargoTest (commonArgs // {{
            cargoArtifacts = deps;
            cargoTestExtraArgs = "-p ${{name}}";
          }});
        }};
"#,
            odd = if i % 2 == 1 { "true" } else { "false" }
        ));
    }
    out.push_str("      in\n      {\n        packages = {\n");
    for i in 0..MEMBERS {
        out.push_str(&format!("          member-{i} = member{i}.package;\n"));
    }
    out.push_str("        };\n        checks = {\n");
    for i in 0..MEMBERS {
        out.push_str(&format!("          member-{i}-clippy = member{i}.clippy;\n          member-{i}-tests = member{i}.tests;\n"));
    }
    out.push_str("        };\n      });\n}\n");
    out
}
