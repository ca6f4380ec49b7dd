//! crane's attribute names, each list once: what every function reads, what decides
//! cargo's commands (and the type crane reads each as), where cargo's arguments are
//! written, what the build still reads after the function ran, what the derivation passes
//! through, and every attribute a crane lib has had.

/// Attributes every crane function reads.
pub(crate) const COMMON_ATTRS: &[&str] = &[
    "function",
    "cargoArtifacts",
    "cargoExtraArgs",
    "doCheck",
    "doInstallCargoArtifacts",
    "buildPhase",
    "checkPhase",
    "CARGO_PROFILE",
    "env",
];

/// crane's attributes that decide what cargo runs (beyond [`COMMON_ATTRS`]).
pub(crate) const CARGO_ATTRS: &[&str] = &[
    "cargoBuildCommand",
    "cargoCheckCommand",
    "cargoTestCommand",
    "cargoBuildExtraArgs",
    "cargoCheckExtraArgs",
    "cargoTestExtraArgs",
    "cargoClippyExtraArgs",
    "cargoDocExtraArgs",
    "cargoNextestExtraArgs",
    "cargoNextestPartitionsExtraArgs",
    "cargoNextestArchiveExtraArgs",
    "cargoLlvmCovCommand",
    "cargoLlvmCovExtraArgs",
    "cargoTarpaulinExtraArgs",
    "buildPhaseCargoCommand",
    "checkPhaseCargoCommand",
    "installPhaseCommand",
    "partitions",
    "partitionType",
    "withLlvmCov",
    // The checks that compile nothing.
    "rustFmtExtraArgs",
    "cargoAuditExtraArgs",
    "cargoDenyExtraArgs",
    "cargoDenyChecks",
    "taploExtraArgs",
    // buildTrunkPackage's trunk call.
    "trunkExtraArgs",
    "trunkExtraBuildArgs",
    "trunkIndexPath",
];

/// crane's attributes that `overrideAttrs` still changes: the build reads them from its
/// environment (`cargoArtifacts`, `CARGO_PROFILE`, ...) or stdenv runs them (`doCheck`,
/// `buildPhase`). crane's other attributes were written into the build commands when the
/// crane function ran.
pub(crate) const READ_AT_BUILD_TIME: &[&str] = &[
    "cargoArtifacts",
    "doCheck",
    "doInstallCargoArtifacts",
    "buildPhase",
    "checkPhase",
    "CARGO_PROFILE",
    "env",
];

/// The attributes that hold crane's cargo arguments, where a selection is written.
pub(crate) const CARGO_ARGS_ATTRS: &[&str] = &[
    "cargoExtraArgs",
    "cargoBuildExtraArgs",
    "cargoCheckExtraArgs",
    "cargoTestExtraArgs",
    "cargoClippyExtraArgs",
    "cargoDocExtraArgs",
    "cargoNextestExtraArgs",
];

/// The kind of value crane reads from one of its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrType {
    Bool,
    Int,
    Str,
}

impl AttrType {
    /// The type in words, as an error says it.
    pub(crate) fn described(self) -> &'static str {
        match self {
            AttrType::Bool => "a boolean",
            AttrType::Int => "an integer",
            AttrType::Str => "a string",
        }
    }
}

/// The type crane reads `attr` as: its booleans, its integer, and its string attributes
/// (the ones that decide cargo's commands); `None` for the others.
pub(crate) fn attr_type(attr: &str) -> Option<AttrType> {
    match attr {
        "doCheck" | "doInstallCargoArtifacts" | "withLlvmCov" => Some(AttrType::Bool),
        "partitions" => Some(AttrType::Int),
        "cargoExtraArgs" | "buildPhase" | "checkPhase" => Some(AttrType::Str),
        _ if CARGO_ATTRS.contains(&attr) => Some(AttrType::Str),
        _ => None,
    }
}

/// Derivation attributes crane passes through that do not change what cargo compiles.
pub(crate) const DERIVATION_ATTRS: &[&str] = &[
    "pname",
    "version",
    // buildTrunkPackage's tool, which must match the lock's wasm-bindgen.
    "wasm-bindgen-cli",
    "name",
    "src",
    "dummySrc",
    "strictDeps",
    "nativeBuildInputs",
    "buildInputs",
    "propagatedBuildInputs",
    "meta",
    "passthru",
    "outputs",
    "stdenv",
    "cargoToml",
    "cargoLock",
    "cargoLockContents",
    "cargoLockParsed",
    "cargoVendorDir",
    "outputHashes",
    "installCargoArtifactsMode",
    "doNotLinkInheritedArtifacts",
    "doIncludeCrossToolchainEnv",
    "doNotRemoveReferencesToRustToolchain",
    "doNotRemoveReferencesToVendorDir",
    "docInstallRoot",
    "installPhase",
    "preBuild",
    "postBuild",
    "preCheck",
    "postCheck",
    "preConfigure",
    "postConfigure",
    "preInstall",
    "postInstall",
    "postPatch",
    "patches",
    "dontStrip",
    "separateDebugInfo",
    // crane's own, none of which changes a unit.
    "advisory-db",
    "cargoTomlContents",
    "cleanCargoTomlFilter",
    "extraDummyScript",
    "dummyrs",
    "dummyBuildrs",
    "overrideVendorCargoPackage",
    "overrideVendorGitCheckout",
    "registries",
    "pnameSuffix",
    "doNotPostBuildInstallCargoBinaries",
    "doNotReplaceCargoLock",
    "doCompressAndInstallFullArchive",
    "zstdCompressionExtraArgs",
    "doRemapPathPrefix",
    // stdenv's.
    "nativeCheckInputs",
    "checkInputs",
    "nativeInstallCheckInputs",
    "propagatedNativeBuildInputs",
    "depsBuildBuild",
    "hardeningDisable",
    "hardeningEnable",
    "doInstallCheck",
    "installCheckPhase",
    "configurePhase",
    "dontConfigure",
    "dontFixup",
    "dontInstall",
    "preInstallPhases",
    "prePhases",
    "preConfigurePhases",
    "preBuildPhases",
    "postPhases",
    "allowedReferences",
    "allowedRequisites",
    "disallowedReferences",
    "disallowedRequisites",
    "unsafeDiscardReferences",
    "preFixup",
    "postFixup",
    "prePatch",
    "preUnpack",
    "postUnpack",
    "sourceRoot",
    "enableParallelBuilding",
    "allowSubstitutes",
    "preferLocalBuild",
    "requiredSystemFeatures",
    "passAsFile",
    "shellHook",
    "__structuredAttrs",
];

/// Whether crane or the derivation under it interprets `attr`. Anything else in lower
/// camel case is rejected as unknown (most likely a typo).
pub(crate) fn is_known_attr(attr: &str) -> bool {
    COMMON_ATTRS.contains(&attr) || CARGO_ATTRS.contains(&attr) || DERIVATION_ATTRS.contains(&attr)
}

/// crane's own attributes (not stdenv's): a near miss of one is a typo.
pub(crate) fn crane_own_attrs() -> Vec<&'static str> {
    COMMON_ATTRS
        .iter()
        .chain(CARGO_ATTRS)
        .chain(DERIVATION_ATTRS.iter().filter(|attr| {
            attr.starts_with("cargo")
                || attr.starts_with("doNot")
                || attr.starts_with("dummy")
                || matches!(
                    **attr,
                    "installCargoArtifactsMode"
                        | "doIncludeCrossToolchainEnv"
                        | "docInstallRoot"
                        | "cleanCargoTomlFilter"
                        | "extraDummyScript"
                        | "overrideVendorCargoPackage"
                        | "overrideVendorGitCheckout"
                        | "registries"
                        | "pnameSuffix"
                        | "doCompressAndInstallFullArchive"
                        | "zstdCompressionExtraArgs"
                        | "doRemapPathPrefix"
                        | "outputHashes"
                )
        }))
        .copied()
        // `env`: too short for a near miss to say anything.
        .filter(|attr| *attr != "function" && attr.len() >= 6)
        .collect()
}

/// Every attribute a crane lib has had (crane's `lib/default.nix` over its history), and
/// those of the scope it is made with: the ones that are not crane functions compile
/// nothing (`cargoFmt`, `cleanCargoSource`, `vendorCargoDeps`, ...).
pub(crate) const CRANE_LIB_ATTRS: &[&str] = &[
    "appendCrateRegistries",
    "buildDepsOnly",
    "buildPackage",
    "buildTrunkPackage",
    "buildWithCargo",
    "buildWithDummySrc",
    "callPackage",
    "cargo",
    "cargoAudit",
    "cargoBuild",
    "cargoClippy",
    "cargoDeny",
    "cargoDoc",
    "cargoDocTest",
    "cargoFmt",
    "cargoHelperFunctionsHook",
    "cargoLlvmCov",
    "cargoNextest",
    "cargoTarpaulin",
    "cargoTest",
    "cleanCargoSource",
    "cleanCargoToml",
    "clippy",
    "configureCargoCommonVarsHook",
    "configureCargoVendoredDepsHook",
    "craneLib",
    "craneUtils",
    "crateNameFromCargoToml",
    "crateRegistries",
    "devShell",
    "downloadCargoPackage",
    "downloadCargoPackageFromGit",
    "fileset",
    "filterCargoSources",
    "filters",
    "findCargoFiles",
    "inheritCargoArtifactsHook",
    "installCargoArtifactsHook",
    "installFromCargoBuildLogHook",
    "mkCargoDerivation",
    "mkCrossToolchainEnv",
    "mkDummySrc",
    "newScope",
    "overrideScope",
    "overrideScope'",
    "overrideToolchain",
    "packages",
    "path",
    "registryFromDownloadUrl",
    "registryFromGitIndex",
    "registryFromSparse",
    "remapPathPrefixHook",
    "removeReferencesToRustToolchainHook",
    "removeReferencesToVendoredSourcesHook",
    "replaceCargoLockHook",
    "rustc",
    "rustfmt",
    "stdenvSelector",
    "taploFmt",
    "urlForCargoPackage",
    "vendorCargoDeps",
    "vendorCargoDepsFromArgs",
    "vendorCargoRegistries",
    "vendorGitDeps",
    "vendorMultipleCargoDeps",
    "writeTOML",
    "writeTOMLViaCraneUtils",
    "writeTOMLViaRemarshal",
];
