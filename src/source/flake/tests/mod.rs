//! The static evaluator and phase collection on small Nix texts.

use std::path::Path;

mod fatal;
mod not_evaluable;
mod sources;
mod unknowns;

use super::*;
use crate::located::SourceLocation;
use crate::phase::AttrValue;

/// The system tests read flakes for, whatever machine runs them.
fn linux() -> System {
    System::parse("x86_64-linux").unwrap()
}

fn read(text: &str) -> FlakePhases {
    read_flake_for(
        text,
        Path::new("/flake/flake.nix"),
        Path::new("/flake"),
        &linux(),
    )
    .expect("reads")
}

fn spec<'a>(phases: &'a FlakePhases, name: &str) -> &'a crate::phase::PhaseSpec {
    phases
        .specs
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no phase {name}: {:?}", names(phases)))
}

fn attr<'a>(phases: &'a FlakePhases, phase: &str, name: &str) -> &'a AttrValue {
    let spec = spec(phases, phase);
    spec.attrs
        .get(name)
        .unwrap_or_else(|| panic!("{phase} has no {name}: {:?}", spec.attrs))
}

fn s(text: &str) -> AttrValue {
    AttrValue::Str(text.into())
}

/// `pkgs` and `nixpkgs` are flake inputs: unknown, as nixpkgs is.
const FRAME: &str =
    "{ outputs = { crane, nixpkgs, pkgs, ... }: let craneLib = crane.mkLib null; in BODY; }";

fn flake(body: &str) -> FlakePhases {
    read(&FRAME.replace("BODY", body))
}

#[test]
fn let_rec_inherit_update_and_interpolation() {
    let phases = flake(
        r#"let
          member = "cli";
          common = rec { profile = "ci"; CARGO_PROFILE = profile; cargoExtraArgs = "--locked -p ${member}"; };
          deps = craneLib.buildDepsOnly (common // { doCheck = false; });
        in {
          packages.app = craneLib.buildPackage (builtins.removeAttrs common [ "profile" ] // {
            cargoArtifacts = deps;
            cargoExtraArgs = common.cargoExtraArgs + " --features a";
            nativeBuildInputs = [ "x" ] ++ [ "y" ];
          });
        }"#,
    );
    assert_eq!(attr(&phases, "deps", "CARGO_PROFILE"), &s("ci"));
    assert_eq!(attr(&phases, "deps", "doCheck"), &AttrValue::Bool(false));
    assert_eq!(
        attr(&phases, "app", "cargoExtraArgs"),
        &s("--locked -p cli --features a")
    );
    assert_eq!(attr(&phases, "app", "cargoArtifacts"), &s("deps"));
    assert_eq!(
        attr(&phases, "app", "nativeBuildInputs"),
        &AttrValue::List(vec![s("x"), s("y")])
    );
    assert!(!spec(&phases, "app").attrs.contains_key("profile"));
}

#[test]
fn functions_with_patterns_defaults_and_at_bindings() {
    let phases = flake(
        r#"let
          mk = { name, extra ? "--all-features", ... }@args: craneLib.cargoClippy {
            cargoArtifacts = null;
            cargoClippyExtraArgs = "${extra} ${args.more or ""}";
          };
        in { checks.one = mk { name = "one"; }; checks.two = mk { name = "two"; extra = "-D x"; more = "y"; }; }"#,
    );
    assert_eq!(
        attr(&phases, "one", "cargoClippyExtraArgs"),
        &s("--all-features ")
    );
    assert_eq!(attr(&phases, "two", "cargoClippyExtraArgs"), &s("-D x y"));
}

#[test]
fn decidable_ifs_are_decided_and_others_are_unknown() {
    let phases = flake(
        r#"let dev = false; in {
          packages.a = craneLib.buildDepsOnly { CARGO_PROFILE = if dev then "dev" else "release"; doCheck = if pkgs.unknownThing then true else false; };
        }"#,
    );
    assert_eq!(attr(&phases, "a", "CARGO_PROFILE"), &s("release"));
    assert!(
        matches!(attr(&phases, "a", "doCheck"), AttrValue::Unknown(text) if text.contains("unknownThing"))
    );
}

#[test]
fn names_prefer_checks_then_packages_then_let_bindings() {
    let phases = flake(
        r#"let
          deps = craneLib.buildDepsOnly { };
          pkg = craneLib.buildPackage { cargoArtifacts = deps; };
        in { packages.x86_64-linux.default = pkg; packages.x86_64-linux.tool = pkg; checks.x86_64-linux.tool-check = pkg; }"#,
    );
    let names: Vec<&str> = phases.specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["deps", "tool-check"]);
}

#[test]
fn crane_lib_overrides_and_lib_passed_as_argument() {
    let phases = read(
        r#"{ craneLib, rust }:
        let nightly = craneLib.overrideToolchain rust; scoped = craneLib.overrideScope (f: p: { }); in {
          a = craneLib.buildDepsOnly { };
          b = nightly.cargoBuild { cargoArtifacts = null; };
          c = scoped.cargoDoc { cargoArtifacts = null; };
        }"#,
    );
    let toolchain = |name: &str| spec(&phases, name).toolchain.clone().unwrap();
    assert_eq!(toolchain("a"), "craneLib");
    assert_eq!(toolchain("c"), "craneLib");
    assert!(
        toolchain("b").contains("overrideToolchain"),
        "{}",
        toolchain("b")
    );
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let err = read_flake_str(
        "{\n  a = ;\n}\n",
        Path::new("/flake/flake.nix"),
        Path::new("/flake"),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("flake.nix:2:7: syntax error"),
        "{err}"
    );
}

fn names(phases: &FlakePhases) -> Vec<&str> {
    phases.specs.iter().map(|s| s.name.as_str()).collect()
}

/// A phase's approximations as they read (`file:line: text`).
fn approximations(phases: &FlakePhases, phase: &str) -> Vec<String> {
    spec(phases, phase)
        .approximations
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Asserts `text` contains `part`, showing `text` when it does not.
fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} not in:\n{text}");
}

#[test]
fn inherit_from_sees_the_bindings_of_its_own_let_and_rec() {
    let from_let = flake(
        r#"let
          s = { deps = craneLib.buildDepsOnly { cargoExtraArgs = "--locked -p a"; }; };
          inherit (s) deps;
        in { packages = { inherit deps; }; }"#,
    );
    assert_eq!(names(&from_let), ["deps"]);
    assert_eq!(
        attr(&from_let, "deps", "cargoExtraArgs"),
        &s("--locked -p a")
    );
    let from_rec = flake(
        r#"rec {
          s = { deps = craneLib.buildDepsOnly { }; };
          inherit (s) deps;
          packages.x86_64-linux.d = deps;
        }"#,
    );
    assert_eq!(names(&from_rec), ["d"]);
}

#[test]
fn unknown_system_lists_are_evaluated_for_one_placeholder_system() {
    let phases = flake(
        r#"let
          forAllSystems = f: nixpkgs.lib.genAttrs nixpkgs.lib.systems.flakeExposed f;
          eachSystem = nixpkgs.lib.genAttrs pkgs.someSystems;
          per = forAllSystems (system: { deps = craneLib.buildDepsOnly { CARGO_PROFILE = "ci"; }; });
        in {
          packages = forAllSystems (system: { inherit (per.${system}) deps; });
          checks = eachSystem (system: { lint = craneLib.cargoClippy { cargoArtifacts = per.${system}.deps; }; });
        }"#,
    );
    assert_eq!(names(&phases), ["deps", "lint"]);
    assert_eq!(attr(&phases, "lint", "cargoArtifacts"), &s("deps"));
}

#[test]
fn call_packages_is_call_package() {
    let phases = flake(
        r#"{ packages.x86_64-linux = pkgs.callPackages ({ craneLib, extra ? "--locked" }: {
          app = craneLib.buildPackage { cargoArtifacts = null; cargoExtraArgs = extra; };
        }) { inherit craneLib; }; }"#,
    );
    assert_eq!(names(&phases), ["app"]);
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--locked"));
}

#[test]
fn nixpkgs_lib_functions_and_inequality() {
    let phases = flake(
        r#"let
          lib = pkgs.lib;
          features = [ "a" "b" ];
          mk = lib.makeOverridable ({ profile ? "release" }: craneLib.buildDepsOnly { CARGO_PROFILE = profile; });
          fixed = lib.fix (self: { args = "--locked"; all = self.args + " --workspace"; });
          merged = lib.recursiveUpdate { env = { A = "1"; B = "2"; }; doCheck = true; } { env.B = "3"; };
          renamed = lib.mapAttrs' (n: v: lib.nameValuePair "x-${n}" v) { one = 1; };
          mapped = builtins.mapAttrs (n: v: v + 1) { one = 1; };
        in {
          packages.x86_64-linux = {
            deps = mk { profile = "ci"; };
            app = craneLib.buildPackage (merged // {
              cargoArtifacts = null;
              cargoExtraArgs = fixed.all
                + (if features != [ ] then " --features ${lib.concatStringsSep "," features}" else "")
                + (if builtins.elem "b" features then " -p b" else "")
                + (if [ 1 ] != [ 1 ] || { a = 1; } != { a = 1; } then " --wrong" else "");
              nativeBuildInputs = lib.flatten [ [ "x" ] [ [ "y" ] ] ] ++ lib.optionals true [ "z" ] ++ lib.optional false "w";
              CARGO_PROFILE = builtins.toString (builtins.length (builtins.attrValues { a = 1; }));
              RENAMED = builtins.toString renamed.x-one;
              MAPPED = builtins.toString mapped.one;
            });
          };
        }"#,
    );
    assert_eq!(attr(&phases, "deps", "CARGO_PROFILE"), &s("ci"));
    assert_eq!(
        attr(&phases, "app", "cargoExtraArgs"),
        &s("--locked --workspace --features a,b -p b")
    );
    assert_eq!(attr(&phases, "app", "doCheck"), &AttrValue::Bool(true));
    let app = spec(&phases, "app");
    assert_eq!(app.env.get("A").map(String::as_str), Some("1"));
    assert_eq!(app.env.get("B").map(String::as_str), Some("3"));
    assert_eq!(
        attr(&phases, "app", "nativeBuildInputs"),
        &AttrValue::List(vec![s("x"), s("y"), s("z")])
    );
    assert_eq!(attr(&phases, "app", "RENAMED"), &s("1"));
    assert_eq!(attr(&phases, "app", "MAPPED"), &s("2"));
}

#[test]
fn derivation_attributes_do_not_name_phases() {
    let phases = flake(
        r#"let
          wrap = pkg: pkgs.stdenv.mkDerivation { name = "w"; src = pkg; };
          deps = craneLib.buildDepsOnly { };
        in {
          packages.x86_64-linux.tool = wrap (craneLib.buildPackage { cargoArtifacts = deps; cargoExtraArgs = "-p tool"; });
          devShells.x86_64-linux.default = pkgs.mkShell {
            inputsFrom = [ (craneLib.buildPackage { cargoArtifacts = deps; cargoExtraArgs = "-p shell"; }) ];
            nativeBuildInputs = [ (craneLib.cargoClippy { cargoArtifacts = deps; }) ];
          };
          apps.x86_64-linux.lint.program = wrap (craneLib.cargoDoc { cargoArtifacts = deps; });
        }"#,
    );
    assert_eq!(
        names(&phases),
        // A wrapper's `src` and an app's `program` are the package; an input of another
        // derivation is not named after it.
        ["deps", "tool", "lint", "buildPackage", "cargoClippy"]
    );
}

#[test]
fn the_same_call_is_one_phase_and_different_calls_are_never_merged() {
    let phases = flake(
        r#"let
          mk = system: rec {
            deps = craneLib.buildDepsOnly { src = ./.; };
            app = craneLib.buildPackage { cargoArtifacts = deps; cargoExtraArgs = "-p app"; };
            ci = craneLib.buildPackage { cargoArtifacts = deps; cargoExtraArgs = "-p app"; CARGO_PROFILE = system; };
          };
          a = mk "x86_64-linux";
          b = mk "aarch64-linux";
        in {
          packages.x86_64-linux = { inherit (a) app; };
          packages.aarch64-linux = { inherit (b) app; };
          checks.x86_64-linux = { inherit (a) app; ci = a.ci; };
          checks.aarch64-linux = { inherit (b) app; ci = b.ci; };
        }"#,
    );
    assert_eq!(names(&phases), ["deps", "app", "ci", "ci-2"]);
    assert_eq!(attr(&phases, "ci", "cargoArtifacts"), &s("deps"));
    assert_eq!(attr(&phases, "ci-2", "cargoArtifacts"), &s("deps"));
    assert_ne!(
        attr(&phases, "ci", "CARGO_PROFILE"),
        attr(&phases, "ci-2", "CARGO_PROFILE")
    );
}

#[test]
fn unknown_interpolations_are_left_out_and_noted() {
    let phases = flake(
        r#"with pkgs; let base = "--locked"; in { packages.x86_64-linux = {
          a = craneLib.buildPackage {
            cargoArtifacts = null;
            cargoExtraArgs = "${base} ${featuresArg} --workspace";
          };
          b = craneLib.buildPackage {
            cargoArtifacts = null;
            cargoExtraArgs = "--locked -p ${member} --features=${feats} --workspace";
            cargoTestExtraArgs = "${onlyUnknown}";
            env.FLAGS = "-C ${flag}";
          };
        }; }"#,
    );
    assert_eq!(
        attr(&phases, "a", "cargoExtraArgs"),
        &s("--locked  --workspace")
    );
    assert_eq!(
        approximations(&phases, "a"),
        ["flake.nix:4: cargoExtraArgs: `${featuresArg}` unknown, left out"]
    );
    // A flag whose value is unknown goes with it, and so does the word it is glued to.
    assert_eq!(
        attr(&phases, "b", "cargoExtraArgs"),
        &s("--locked   --workspace")
    );
    // Nothing known but the interpolation: unknown as a whole (crane's default is used).
    assert!(matches!(
        attr(&phases, "b", "cargoTestExtraArgs"),
        AttrValue::Unknown(_)
    ));
    let notes = approximations(&phases, "b").join("\n");
    assert_contains(
        &notes,
        "flake.nix:8: cargoExtraArgs: `${member}` unknown, left out",
    );
    assert_contains(
        &notes,
        "flake.nix:8: cargoExtraArgs: `${feats}` unknown, left out",
    );
    assert_contains(
        &notes,
        "flake.nix:10: env.FLAGS: `${flag}` unknown, left out",
    );
}

#[test]
fn calls_equal_but_for_crane_calls_made_while_comparing_are_one_phase() {
    let phases = flake(
        r#"let
          mk = system: let deps = craneLib.buildDepsOnly { }; in craneLib.buildPackage {
            cargoArtifacts = deps;
            passthru.tests.lint = craneLib.cargoClippy { cargoArtifacts = deps; };
          };
        in { packages.x86_64-linux.app = mk "x86_64-linux"; packages.aarch64-linux.app = mk "aarch64-linux"; }"#,
    );
    // The passthru check is a phase, named after its derivation and attribute.
    assert_eq!(names(&phases), ["deps", "app", "app-lint"]);
}

#[test]
fn self_resolves_inside_flake_utils_frames() {
    let phases = read(
        r#"{ outputs = { self, crane, flake-utils, nixpkgs, ... }: flake-utils.lib.eachDefaultSystem (system:
          let craneLib = crane.mkLib nixpkgs.legacyPackages.${system}; in {
            packages.server = craneLib.buildPackage { cargoArtifacts = null; };
            checks.clippy = craneLib.cargoClippy { cargoArtifacts = self.packages.${system}.server; };
            checks.doc = craneLib.cargoDoc { cargoArtifacts = self.checks.${system}.clippy; };
          }) // { overlays.default = final: prev: { }; }; }"#,
    );
    assert_eq!(attr(&phases, "clippy", "cargoArtifacts"), &s("server"));
    assert_eq!(attr(&phases, "doc", "cargoArtifacts"), &s("clippy"));
    assert!(approximations(&phases, "clippy").is_empty());
}

#[test]
fn crane_libs_are_named_once_and_told_apart() {
    let phases = flake(
        r#"let
          nightly = (crane.mkLib pkgs).overrideToolchain (p: p.rust-bin.nightly.latest.default);
          a = let toolchain = pkgs.one; in craneLib.overrideToolchain toolchain;
          b = let toolchain = pkgs.two; in craneLib.overrideToolchain toolchain;
          mk = tc: (craneLib.overrideToolchain tc).cargoBuild { cargoArtifacts = null; };
        in { packages = {
          n = nightly.buildDepsOnly { };
          x = a.buildDepsOnly { };
          y = b.buildDepsOnly { };
          m1 = mk pkgs.three;
          m2 = mk pkgs.four;
        }; }"#,
    );
    let toolchain = |name: &str| spec(&phases, name).toolchain.clone().unwrap();
    assert_eq!(
        toolchain("n"),
        "(crane.mkLib pkgs).overrideToolchain (p: p.rust-bin.nightly.latest.default)"
    );
    assert_eq!(
        toolchain("x"),
        "craneLib.overrideToolchain toolchain (flake.nix:3)"
    );
    assert_eq!(
        toolchain("y"),
        "craneLib.overrideToolchain toolchain (flake.nix:4)"
    );
    assert_ne!(toolchain("m1"), toolchain("m2"));
    assert!(toolchain("m1").starts_with("craneLib.overrideToolchain tc"));
}

#[test]
fn crane_calls_under_passthru_are_phases() {
    let phases = flake(
        r#"let deps = craneLib.buildDepsOnly { }; in { packages.x86_64-linux.lzbt = craneLib.buildPackage {
          cargoArtifacts = deps;
          passthru.tests = {
            clippy = craneLib.cargoClippy { cargoArtifacts = deps; cargoClippyExtraArgs = "-- --deny warnings"; };
            fmt = craneLib.cargoFmt { };
          };
          passthru.deps = deps;
        }; }"#,
    );
    assert_eq!(names(&phases), ["deps", "lzbt", "lzbt-clippy", "lzbt-fmt"]);
    assert_eq!(attr(&phases, "lzbt-clippy", "cargoArtifacts"), &s("deps"));
}

#[test]
fn a_derivation_merged_with_update_is_still_the_crane_call() {
    let phases = flake(
        r#"let common = { src = ./.; cargoExtraArgs = "-p a"; }; in {
          packages.x86_64-linux.default = (craneLib.buildPackage common) // { meta.mainProgram = "a"; };
          packages.x86_64-linux.b = craneLib.buildPackage common // { cargoArtifacts = craneLib.buildDepsOnly common; };
        }"#,
    );
    assert_eq!(attr(&phases, "default", "cargoExtraArgs"), &s("-p a"));
    // The unparenthesised one: crane never sees the cargoArtifacts (implicit deps).
    assert!(!spec(&phases, "b").attrs.contains_key("cargoArtifacts"));
    // The deps-only call merged into the result is never evaluated: said, not dropped.
    assert_eq!(phases.warnings.len(), 2, "{:?}", phases.warnings);
    assert!(
        phases.warnings[1]
            .text
            .starts_with("craneLib.buildDepsOnly: this crane call is not a phase; never evaluated"),
        "{:?}",
        phases.warnings
    );
    assert!(
        phases.warnings[0].location == Some(SourceLocation::line("flake.nix", 3))
            && phases.warnings[0]
                .text
                .starts_with("the attributes after `//` (`cargoArtifacts`)"),
        "{:?}",
        phases.warnings
    );
}

#[test]
fn attributes_under_unknown_conditions_are_kept_and_approximate() {
    let phases = flake(
        r#"{
          checks = { a = craneLib.cargoTest { cargoArtifacts = null; }; }
            // pkgs.lib.optionalAttrs (!pkgs.config.mac) { cov = craneLib.cargoLlvmCov { cargoArtifacts = null; }; }
            // (if pkgs.config.linux then { } else { mac = craneLib.cargoDoc { cargoArtifacts = null; }; });
          packages.p = craneLib.buildPackage ({ cargoArtifacts = null;
              env = if pkgs.config.mac then { MAC = "1"; } else { }; }
            // pkgs.lib.optionalAttrs pkgs.config.linux { cargoExtraArgs = "-p linux"; });
        }"#,
    );
    assert!(spec(&phases, "a").approximations.is_empty());
    assert_eq!(
        approximations(&phases, "cov"),
        [
            "flake.nix:3: only when `!pkgs.config.mac`, which cannot be known statically: the phase exists on some systems"
        ]
    );
    assert!(approximations(&phases, "mac")[0].contains("`!(pkgs.config.linux)`"));
    assert_eq!(attr(&phases, "p", "cargoExtraArgs"), &s("-p linux"));
    let notes = approximations(&phases, "p");
    for note in [
        "flake.nix:7: attribute cargoExtraArgs only when `pkgs.config.linux`",
        "flake.nix:6: attribute env.MAC only when `pkgs.config.mac`",
    ] {
        assert!(notes.iter().any(|n| n.starts_with(note)), "{notes:?}");
    }
}

#[test]
fn src_dir_is_the_directory_a_source_is_made_from() {
    let phases = read(
        &FRAME
            .replace("{ crane,", "{ self, crane,")
            .replace("BODY", r#"let c = args: craneLib.cargoTest (args // { cargoArtifacts = null; }); in {
          checks = {
            plain = c { src = ./.; };
            clean = c { src = craneLib.cleanCargoSource ./rust/tool; };
            crane-path = c { src = craneLib.path { path = ./x; }; };
            suffixes = c { src = pkgs.lib.sourceFilesBySuffices ../../rust/uefi [ ".rs" ]; };
            fileset = c { src = pkgs.lib.fileset.toSource { root = ./y; fileset = ./y/src; }; };
            builtin = c { src = builtins.path { path = ./z; name = "z"; }; };
            dummy = c { src = craneLib.mkDummySrc { src = pkgs.lib.cleanSource ./w; }; };
            with-filter = c { src = pkgs.lib.cleanSourceWith { src = craneLib.path ./v; filter = f: t: true; }; };
            self-src = c { src = self; };
            unknown = c { src = pkgs.fetchFromGitHub { }; };
          };
        }"#),
    );
    let dir = |name: &str| spec(&phases, name).src_dir.clone();
    let p = |path: &str| Some(std::path::PathBuf::from(path));
    assert_eq!(dir("plain"), p("/flake"));
    assert_eq!(dir("clean"), p("/flake/rust/tool"));
    assert_eq!(dir("crane-path"), p("/flake/x"));
    assert_eq!(dir("suffixes"), p("/rust/uefi"));
    assert_eq!(dir("fileset"), p("/flake/y"));
    assert_eq!(dir("builtin"), p("/flake/z"));
    assert_eq!(dir("dummy"), p("/flake/w"));
    assert_eq!(dir("with-filter"), p("/flake/v"));
    assert_eq!(dir("self-src"), p("/flake"));
    assert_eq!(dir("unknown"), None);
    // The attribute itself stays as written (a filtered source is not the raw directory).
    assert!(
        matches!(attr(&phases, "clean", "src"), AttrValue::Unknown(t) if t.contains("cleanCargoSource"))
    );
}

#[test]
fn src_dir_of_a_fixture_in_another_directory() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/flakes/merged-conditional");
    let phases = read_flake(&fixture.join("flake.nix"), &linux()).expect("reads");
    let root = fixture.canonicalize().unwrap();
    assert_eq!(
        spec(&phases, "deps").src_dir.as_deref(),
        Some(root.as_path())
    );
    // `lib.fileset.toSource { root = ../.; }` in nix/parts.nix.
    assert_eq!(
        spec(&phases, "checked").src_dir.as_deref(),
        Some(root.as_path())
    );
}

#[test]
fn derivations_interpolated_into_scripts_are_searched() {
    let phases = flake(
        r#"let
          mk = { suffix }: let
            cApi = craneLib.buildPackage { pname = "lib"; pnameSuffix = suffix; cargoArtifacts = null; };
          in pkgs.stdenv.mkDerivation { installPhase = "cp ${cApi}/lib/x.a $out"; };
        in { packages.c = mk { suffix = "-c-api"; }; packages.d = mk { suffix = "-d"; }; }"#,
    );
    // A let name bound to several calls names none: their pname (and suffix) does.
    assert_eq!(names(&phases), ["lib-c-api", "lib-d"]);
}

#[test]
fn calls_through_different_crane_libs_never_merge() {
    let phases = flake(
        r#"let
          mkRust = { extensions ? [ ] }: (pkgs.rust-bin.stable.latest.default).override { inherit extensions; };
          mk = { rust ? mkRust { } }: let lib = craneLib.overrideToolchain rust; in
            lib.buildDepsOnly { pname = "n"; cargoArtifacts = false; };
        in {
          packages.a = mk { };
          checks.a = mk { };
          devShells.default = pkgs.mkShell { inputsFrom = [ (mk { rust = mkRust { extensions = [ "rust-src" ]; }; }) ]; };
        }"#,
    );
    // The same toolchain (arguments alike) merges; the shell's other one does not.
    assert_eq!(names(&phases), ["a", "n-deps"]);
    assert_ne!(
        spec(&phases, "a").toolchain,
        spec(&phases, "n-deps").toolchain
    );
    // A known `false` on buildDepsOnly (which ignores it) is no approximation.
    assert!(spec(&phases, "a").approximations.is_empty());
    assert_eq!(attr(&phases, "a", "cargoArtifacts"), &AttrValue::Null);
}

#[test]
fn an_input_of_another_derivation_is_named_from_its_own_binding() {
    let phases = flake(
        r#"let
          manmunge = craneLib.buildPackage { cargoArtifacts = null; cargoExtraArgs = "-p mm"; };
        in { packages.manpages = pkgs.stdenv.mkDerivation { nativeBuildInputs = [ manmunge ]; }; }"#,
    );
    assert_eq!(names(&phases), ["manmunge"]);
}

#[test]
fn an_unknown_piece_after_a_wide_space_is_left_out_without_a_panic() {
    let phases = flake(
        "{ packages.p = craneLib.buildDepsOnly { cargoExtraArgs = \"a\u{3000}-p ${pkgs.x} b\u{3000}c ${pkgs.y}\"; }; }",
    );
    assert_eq!(
        attr(&phases, "p", "cargoExtraArgs"),
        &s("a\u{3000} b\u{3000}c ")
    );
}

#[test]
fn list_and_set_functions_and_with_lib_compute_arguments() {
    let phases = flake(
        r#"let
          lib = pkgs.lib;
          names = with lib; unique (filter (n: !hasPrefix "_" n) [ "a" "_b" "a" "c" ]);
          kept = builtins.attrNames (lib.filterAttrs (n: v: v == "regular") { x = "regular"; y = "directory"; });
          words = builtins.concatMap (n: [ "-p" n ]) names;
        in {
          packages.app = craneLib.cargoBuild {
            cargoArtifacts = null;
            cargoExtraArgs = lib.concatStringsSep " " (words ++ kept ++ [ (lib.removeSuffix ".toml" "z.toml") (toString (builtins.length names)) (builtins.head names) ]);
          };
        }"#,
    );
    assert_eq!(
        attr(&phases, "app", "cargoExtraArgs"),
        &s("-p a -p c x z 2 a")
    );
}

#[test]
fn platform_predicates_are_answered_for_the_system_read() {
    let body = r#"let stdenv = pkgs.stdenv; in {
          packages.p = craneLib.buildPackage ({ cargoArtifacts = null;
              CARGO_BUILD_TARGET = stdenv.hostPlatform.rust.rustcTarget;
              SYSTEM = pkgs.stdenv.hostPlatform.system;
              CROSS = if pkgs.pkgsCross.aarch64-multiplatform.stdenv.isAarch64 then "arm" else "other";
              DARWIN = if nixpkgs.legacyPackages.aarch64-darwin.stdenv.isDarwin then "yes" else "no"; }
            // pkgs.lib.optionalAttrs stdenv.isDarwin { RUSTFLAGS = "-L ${pkgs.lua}/lib -llua"; }
            // pkgs.lib.optionalAttrs (stdenv.isLinux && stdenv.hostPlatform.isx86_64) { cargoExtraArgs = "-p linux"; });
        }"#;
    let text = FRAME.replace("BODY", body);
    let read_for = |system: &str| {
        read_flake_for(
            &text,
            Path::new("/flake/flake.nix"),
            Path::new("/flake"),
            &System::parse(system).unwrap(),
        )
        .expect("reads")
    };
    let linux = read_for("x86_64-linux");
    assert_eq!(attr(&linux, "p", "cargoExtraArgs"), &s("-p linux"));
    assert!(!spec(&linux, "p").attrs.contains_key("RUSTFLAGS"));
    assert_eq!(
        attr(&linux, "p", "CARGO_BUILD_TARGET"),
        &s("x86_64-unknown-linux-gnu")
    );
    assert_eq!(attr(&linux, "p", "SYSTEM"), &s("x86_64-linux"));
    // A system written in the package set's name is that system's.
    assert_eq!(attr(&linux, "p", "DARWIN"), &s("yes"));
    // A cross package set's platform is its target's.
    assert_eq!(attr(&linux, "p", "CROSS"), &s("arm"));
    let mac = read_for("aarch64-darwin");
    assert!(!spec(&mac, "p").attrs.contains_key("cargoExtraArgs"));
    assert_eq!(
        attr(&mac, "p", "CARGO_BUILD_TARGET"),
        &s("aarch64-apple-darwin")
    );
    assert!(
        matches!(attr(&mac, "p", "RUSTFLAGS"), AttrValue::Str(flags) if flags.ends_with("-llua"))
    );
}
