//! Benchmark: a phase's `src` evaluated as files over a generated 20,000-file git
//! repository: `lib.cleanSourceWith` with the user's own `path: type:` filter over
//! `craneLib.cleanCargoSource ./.` (the lambda applied per path by the static evaluator),
//! listing included; and the user's filter alone over `./.` (every path asked of the
//! lambda). Target: under 300 ms.
//!
//! Run with `cargo bench --bench source_filter`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cache_miss::read_flake_str;

const FILES: usize = 20_000;
const RUNS: usize = 5;

const FLAKE: &str = r#"{
  outputs = { self, nixpkgs, crane, ... }: let
    craneLib = crane.mkLib nixpkgs;
    lib = nixpkgs.lib;
  in {
    packages.x86_64-linux.default = craneLib.buildPackage {
      src = lib.cleanSourceWith {
        src = craneLib.cleanCargoSource ./.;
        filter = path: type: type == "directory" || !(lib.hasInfix "/generated/" path) || builtins.match ".*\\.(rs|toml)$" path != null;
      };
    };
  };
}"#;

/// The same filter alone: every path of the tree is asked of the lambda.
const LAMBDA_ONLY: &str = r#"{
  outputs = { self, nixpkgs, crane, ... }: let
    craneLib = crane.mkLib nixpkgs;
    lib = nixpkgs.lib;
  in {
    packages.x86_64-linux.default = craneLib.buildPackage {
      src = lib.cleanSourceWith {
        src = ./.;
        filter = path: type: type == "directory" || !(lib.hasInfix "/generated/" path) || builtins.match ".*\\.(rs|toml)$" path != null;
      };
    };
  };
}"#;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("root");
    generate(&root);
    for (what, flake) in [
        (
            "git listing, cleanCargoSource, a user filter per path",
            FLAKE,
        ),
        ("git listing, a user filter alone: every path", LAMBDA_ONLY),
    ] {
        let median = median_time(flake, &root);
        println!(
            "source filter over {FILES} files ({what}): median {:.1} ms over {RUNS} runs (target: under 300 ms)",
            median.as_secs_f64() * 1000.0
        );
    }
}

fn median_time(flake: &str, root: &Path) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let phases = read_flake_str(flake, &root.join("flake.nix"), root).expect("flake reads");
            let source = phases.specs[0]
                .source
                .as_deref()
                .expect("an evaluated source");
            assert!(source.files.len() >= FILES / 2, "{}", source.files.len());
            started.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

/// 20,000 files in 100 crates: sources, manifests, docs and generated data.
fn generate(root: &Path) {
    std::fs::write(root.join("flake.nix"), FLAKE).expect("flake");
    for i in 0..FILES {
        let krate = i % 100;
        let path = match i % 4 {
            0 => format!("crates/c{krate}/src/m{i}.rs"),
            1 => format!("crates/c{krate}/docs/d{i}.md"),
            2 => format!("crates/c{krate}/generated/g{i}.json"),
            _ => format!("crates/c{krate}/src/nested/n{i}.rs"),
        };
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, "x").expect("file");
    }
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-qm",
            "tree",
        ],
    ] {
        let status = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    }
}
