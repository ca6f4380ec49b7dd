{
  description = "cache-miss: which crates does each crane phase rebuild, and why";

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

        # Only what the build and the tests read: Rust sources and manifests, the test
        # fixtures and the insta snapshots. Editing the README or this file rebuilds nothing.
        src = lib.fileset.toSource {
          root = ./.;
          fileset = lib.fileset.unions [
            (craneLib.fileset.commonCargoSources ./.)
            ./fixtures
            ./src/render/snapshots
          ];
        };

        # One set of arguments for every phase, so they all ask cargo for the same units.
        commonArgs = {
          inherit src;
          strictDeps = true;
          # The tests run cargo itself (offline, on the fixtures' own registry).
          nativeCheckInputs = [ pkgs.cargo ];
        };

        # Built once, shared by every phase below: crane's default commands (check with
        # --all-targets, build, test --no-run), plus `cargo doc`, which checks the
        # dependencies without the features dev-dependencies unify in (`cache-miss fix`
        # found this; without it cargoDoc rebuilds 7 crates).
        cargoArtifacts = craneLib.buildDepsOnly (commonArgs // {
          buildPhaseCargoCommand = ''
            cargoWithProfile check --locked --all-targets
            cargoWithProfile build --locked
            cargoWithProfile doc --locked --no-deps
          '';
        });

        cache-miss = craneLib.buildPackage (commonArgs // {
          inherit cargoArtifacts;
          doCheck = false; # the tests run in the nextest check
          meta.mainProgram = "cache-miss";
        });
      in
      {
        checks = {
          inherit cache-miss;

          cache-miss-clippy = craneLib.cargoClippy (commonArgs // {
            inherit cargoArtifacts;
            cargoClippyExtraArgs = "--all-targets -- --deny warnings";
          });

          cache-miss-nextest = craneLib.cargoNextest (commonArgs // {
            inherit cargoArtifacts;
          });

          cache-miss-doc = craneLib.cargoDoc (commonArgs // {
            inherit cargoArtifacts;
          });
        };

        # `nix run github:OWNER/cache-miss -- report`, `nix profile install ...#cache-miss`.
        packages = {
          inherit cache-miss;
          default = cache-miss;
        };

        apps = rec {
          cache-miss = flake-utils.lib.mkApp {
            drv = self.packages.${system}.cache-miss;
          };
          default = cache-miss;
        };

        devShells.default = craneLib.devShell {
          checks = self.checks.${system};
        };
      });
}
