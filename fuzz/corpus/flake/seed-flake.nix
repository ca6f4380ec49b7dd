{
  inputs.crane.url = "github:ipetkov/crane";
  outputs = { self, nixpkgs, crane, ... }:
    let
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      craneLib = crane.mkLib pkgs;
      src = craneLib.cleanCargoSource ./.;
      commonArgs = { inherit src; strictDeps = true; cargoExtraArgs = "--locked"; };
      cargoArtifacts = craneLib.buildDepsOnly commonArgs;
      args = n: commonArgs // { pname = "p${toString n}"; };
    in {
      packages.x86_64-linux.default = craneLib.buildPackage (commonArgs // { inherit cargoArtifacts; });
      checks.x86_64-linux = {
        clippy = craneLib.cargoClippy (commonArgs // {
          inherit cargoArtifacts;
          cargoClippyExtraArgs = "--all-targets -- --deny warnings";
        });
        test = craneLib.cargoTest ((args 2) // { inherit cargoArtifacts; doCheck = builtins.length [ 1 2 ] > 1; });
      };
    };
}
