//! Benchmark: parsing and statically evaluating a generated 1,000-line flake (many phases,
//! commonArgs, helper functions, lets). Target: under 50 ms. And a generated blueprint
//! tree of 50 files (packages and checks found by directory). Target: under 100 ms.
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
    blueprint_tree();
}

/// Packages (and as many checks) in the generated blueprint tree: with the flake and its
/// lib, 50 files.
const BLUEPRINT_PACKAGES: usize = 24;

/// A blueprint flake whose `nix/packages/*.nix` and `nix/checks/*.nix` hold the crane calls.
fn blueprint_tree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nix = dir.path().join("nix");
    for sub in ["lib", "packages", "checks"] {
        std::fs::create_dir_all(nix.join(sub)).expect("create dirs");
    }
    let flake = "{ outputs = inputs: inputs.blueprint { inherit inputs; prefix = \"nix\"; }; }\n";
    std::fs::write(dir.path().join("flake.nix"), flake).expect("write flake");
    std::fs::write(
        nix.join("lib/default.nix"),
        "{ flake, inputs }: { craneLibFor = pkgs: inputs.crane.mkLib pkgs; commonArgs = { src = ../..; strictDeps = true; }; }\n",
    )
    .expect("write lib");
    for i in 0..BLUEPRINT_PACKAGES {
        let package = if i == 0 {
            "{ pkgs, flake, ... }:\n(flake.lib.craneLibFor pkgs).buildDepsOnly flake.lib.commonArgs\n".to_string()
        } else {
            format!(
                "{{ pkgs, flake, perSystem, pname, ... }}:\n(flake.lib.craneLibFor pkgs).buildPackage (flake.lib.commonArgs // {{\n  inherit pname;\n  cargoArtifacts = perSystem.self.member-0;\n  cargoExtraArgs = \"--locked -p member-{i}\";\n}})\n"
            )
        };
        std::fs::write(nix.join(format!("packages/member-{i}.nix")), package).expect("write");
        let check = format!(
            "{{ pkgs, flake, perSystem, ... }}:\n(flake.lib.craneLibFor pkgs).cargoClippy (flake.lib.commonArgs // {{\n  cargoArtifacts = perSystem.self.member-0;\n  cargoExtraArgs = \"--locked -p member-{i}\";\n}})\n"
        );
        std::fs::write(nix.join(format!("checks/clippy-{i}.nix")), check).expect("write");
    }
    let path = dir.path().join("flake.nix");
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let phases = read_flake_str(flake, &path, dir.path()).expect("blueprint reads");
            assert_eq!(phases.specs.len(), 2 * BLUEPRINT_PACKAGES);
            started.elapsed()
        })
        .collect();
    times.sort();
    println!("blueprint: {} files", 2 * BLUEPRINT_PACKAGES + 2);
    println!(
        "parse + evaluate (median of {RUNS}): {:.1} ms",
        times[RUNS / 2].as_secs_f64() * 1000.0
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
