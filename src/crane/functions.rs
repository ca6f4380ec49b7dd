//! crane's functions: their names, the attributes they read, their defaults, and the
//! shell text their build and check phases run (from crane's `lib/*.nix`).

use std::fmt;
use std::path::Path;

use super::attrs::COMMON_ATTRS;

/// A crane library function that produces a phase derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CraneFunction {
    BuildDepsOnly,
    BuildPackage,
    /// A web app built by trunk, which runs `cargo build --target wasm32-unknown-unknown`.
    BuildTrunkPackage,
    CargoBuild,
    CargoClippy,
    CargoTest,
    CargoDocTest,
    CargoDoc,
    CargoNextest,
    CargoLlvmCov,
    CargoTarpaulin,
    /// The checks that compile nothing: `cargo fmt`, `cargo audit`, `cargo deny`, `taplo`.
    CargoFmt,
    CargoAudit,
    CargoDeny,
    TaploFmt,
    MkCargoDerivation,
}

use CraneFunction::*;

impl CraneFunction {
    pub const ALL: [CraneFunction; 16] = [
        BuildDepsOnly,
        BuildPackage,
        BuildTrunkPackage,
        CargoBuild,
        CargoClippy,
        CargoTest,
        CargoDocTest,
        CargoDoc,
        CargoNextest,
        CargoLlvmCov,
        CargoTarpaulin,
        CargoFmt,
        CargoAudit,
        CargoDeny,
        TaploFmt,
        MkCargoDerivation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BuildDepsOnly => "buildDepsOnly",
            BuildPackage => "buildPackage",
            BuildTrunkPackage => "buildTrunkPackage",
            CargoBuild => "cargoBuild",
            CargoClippy => "cargoClippy",
            CargoTest => "cargoTest",
            CargoDocTest => "cargoDocTest",
            CargoDoc => "cargoDoc",
            CargoNextest => "cargoNextest",
            CargoLlvmCov => "cargoLlvmCov",
            CargoTarpaulin => "cargoTarpaulin",
            CargoFmt => "cargoFmt",
            CargoAudit => "cargoAudit",
            CargoDeny => "cargoDeny",
            TaploFmt => "taploFmt",
            MkCargoDerivation => "mkCargoDerivation",
        }
    }

    pub fn from_name(name: &str) -> Option<CraneFunction> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// crane's `cargoExtraArgs` default: `--locked`, except for nextest and tarpaulin.
    pub fn default_cargo_extra_args(self) -> &'static str {
        match self {
            CargoNextest | CargoTarpaulin | MkCargoDerivation => "",
            CargoFmt | CargoAudit | CargoDeny | TaploFmt => "",
            _ => "--locked",
        }
    }

    /// `doCheck` when not given: the functions that set it, else stdenv's `false`.
    pub fn default_do_check(self) -> bool {
        matches!(
            self,
            BuildDepsOnly | BuildPackage | CargoTest | CargoDocTest | CargoNextest
        )
    }

    /// `doInstallCargoArtifacts` when not given: whether the output carries a `target/`
    /// that a later phase can inherit.
    pub fn default_installs_artifacts(self) -> bool {
        !matches!(
            self,
            BuildPackage | BuildTrunkPackage | CargoDoc | CargoLlvmCov | CargoAudit | CargoDeny
        )
    }

    /// Whether the derivation compiles nothing whatever it is given: crane's checks that
    /// run a formatter or a linter of the lock file (`cargoArtifacts` forced to `null`).
    pub fn compiles_nothing(self) -> bool {
        matches!(self, CargoFmt | CargoAudit | CargoDeny | TaploFmt)
    }

    /// `doInstallCargoArtifacts` where crane sets it over the caller's value: buildDepsOnly
    /// always installs its `target/`; cargoLlvmCov's output is the coverage report.
    pub fn forced_installs_artifacts(self) -> Option<bool> {
        match self {
            BuildDepsOnly => Some(true),
            CargoLlvmCov => Some(false),
            _ => None,
        }
    }

    /// Whether crane requires `cargoArtifacts` (every function that goes through
    /// `mkCargoDerivation` without making its own).
    pub fn requires_artifacts(self) -> bool {
        self != BuildDepsOnly && !self.makes_own_deps() && !self.compiles_nothing()
    }

    /// Whether, without `cargoArtifacts`, crane calls buildDepsOnly with the phase's own
    /// arguments (buildTrunkPackage's for `wasm32-unknown-unknown`, without checks).
    pub fn makes_own_deps(self) -> bool {
        matches!(self, BuildPackage | BuildTrunkPackage)
    }

    /// The crane attributes (beyond the common ones) that this function reads.
    pub fn reads(self) -> &'static [&'static str] {
        match self {
            BuildDepsOnly => &[
                "cargoBuildCommand",
                "cargoCheckCommand",
                "cargoTestCommand",
                "cargoBuildExtraArgs",
                "cargoCheckExtraArgs",
                "cargoTestExtraArgs",
                "buildPhaseCargoCommand",
                "checkPhaseCargoCommand",
            ],
            BuildPackage => &[
                "cargoBuildCommand",
                "cargoTestCommand",
                "cargoBuildExtraArgs",
                "cargoTestExtraArgs",
                "buildPhaseCargoCommand",
                "checkPhaseCargoCommand",
                // Passed on to its implicit buildDepsOnly.
                "cargoCheckCommand",
                "cargoCheckExtraArgs",
            ],
            BuildTrunkPackage => &[
                "trunkExtraArgs",
                "trunkExtraBuildArgs",
                "trunkIndexPath",
                "wasm-bindgen-cli",
                "buildPhaseCargoCommand",
                // Passed on to its implicit buildDepsOnly.
                "cargoBuildCommand",
                "cargoCheckCommand",
                "cargoTestCommand",
                "cargoBuildExtraArgs",
                "cargoCheckExtraArgs",
                "cargoTestExtraArgs",
            ],
            CargoBuild | CargoDoc | CargoClippy => &[
                "cargoClippyExtraArgs",
                "cargoDocExtraArgs",
                "checkPhaseCargoCommand",
            ],
            CargoTest | CargoDocTest => &["cargoTestExtraArgs"],
            CargoNextest => &[
                "cargoNextestExtraArgs",
                "cargoNextestPartitionsExtraArgs",
                "cargoNextestArchiveExtraArgs",
                "cargoLlvmCovExtraArgs",
                "partitions",
                "partitionType",
                "withLlvmCov",
                "buildPhaseCargoCommand",
            ],
            CargoLlvmCov => &[
                "cargoLlvmCovCommand",
                "cargoLlvmCovExtraArgs",
                "checkPhaseCargoCommand",
            ],
            CargoTarpaulin => &["cargoTarpaulinExtraArgs", "checkPhaseCargoCommand"],
            CargoFmt => &["rustFmtExtraArgs"],
            CargoAudit => &["cargoAuditExtraArgs"],
            CargoDeny => &["cargoDenyExtraArgs", "cargoDenyChecks"],
            TaploFmt => &["taploExtraArgs"],
            MkCargoDerivation => &["buildPhaseCargoCommand", "checkPhaseCargoCommand"],
        }
    }

    /// Whether `attr` is one of this function's own attributes. `cargoClippyExtraArgs`
    /// and `cargoDocExtraArgs` only belong to their own function.
    pub fn reads_attr(self, attr: &str) -> bool {
        if COMMON_ATTRS.contains(&attr) {
            return true;
        }
        match attr {
            "cargoClippyExtraArgs" => self == CargoClippy,
            "cargoDocExtraArgs" => self == CargoDoc,
            _ => self.reads().contains(&attr),
        }
    }
}

impl fmt::Display for CraneFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Serialized as crane spells it (`buildDepsOnly`).
impl serde::Serialize for CraneFunction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Looks up crane's attributes of one phase, with type checking.
pub(crate) trait AttrLookup {
    fn string(&self, attr: &str) -> Option<String>;
    fn boolean(&self, attr: &str) -> Option<bool>;
    fn integer(&self, attr: &str) -> Option<i64>;
}

/// The shell text of a phase's build and check phases, as crane assembles it.
/// Produced by [`phase_texts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhaseTexts {
    pub build: String,
    pub check: String,
}

/// Assembles the `buildPhaseCargoCommand` and `checkPhaseCargoCommand` crane runs for
/// `function` given the phase's attributes (crane's defaults where absent). `profile`
/// is `CARGO_PROFILE`.
pub(crate) fn phase_texts(
    function: CraneFunction,
    attrs: &dyn AttrLookup,
    profile: &str,
) -> PhaseTexts {
    let get = |attr: &str, default: &str| attrs.string(attr).unwrap_or_else(|| default.to_string());
    let extra = get("cargoExtraArgs", function.default_cargo_extra_args());
    let do_check = attrs
        .boolean("doCheck")
        .unwrap_or(function.default_do_check());
    let user_build = attrs.string("buildPhaseCargoCommand");
    let user_check = attrs.string("checkPhaseCargoCommand");
    let (build, check) = match function {
        BuildDepsOnly => {
            let check_args = get(
                "cargoCheckExtraArgs",
                if do_check { "--all-targets" } else { "" },
            );
            let build = format!(
                "{} {extra} {check_args}\n{} {extra} {}\n",
                get("cargoCheckCommand", "cargoWithProfile check"),
                get("cargoBuildCommand", "cargoWithProfile build"),
                get("cargoBuildExtraArgs", ""),
            );
            let check = format!(
                "{} {extra} {}\n",
                get("cargoTestCommand", "cargoWithProfile test"),
                get("cargoTestExtraArgs", "--no-run"),
            );
            (user_build.unwrap_or(build), user_check.unwrap_or(check))
        }
        BuildPackage => {
            let build = format!(
                "cargoBuildLog=$(mktemp cargoBuildLogXXXX.json)\n\
                 {} --message-format json-render-diagnostics {extra} {} >\"$cargoBuildLog\"\n",
                get("cargoBuildCommand", "cargoWithProfile build"),
                get("cargoBuildExtraArgs", ""),
            );
            let check = format!(
                "{} {extra} {}\n",
                get("cargoTestCommand", "cargoWithProfile test"),
                get("cargoTestExtraArgs", ""),
            );
            (user_build.unwrap_or(build), user_check.unwrap_or(check))
        }
        BuildTrunkPackage => {
            // crane passes `--release` to trunk for the release profile only.
            let release = if profile == "release" {
                "--release"
            } else {
                ""
            };
            let build = format!(
                "trunk {} build {release} {} \"{}\"",
                get("trunkExtraArgs", ""),
                get("trunkExtraBuildArgs", ""),
                get("trunkIndexPath", "./index.html"),
            );
            (user_build.unwrap_or(build), user_check.unwrap_or_default())
        }
        CargoBuild => (
            format!("cargoWithProfile build {extra}"),
            user_check.unwrap_or_default(),
        ),
        CargoClippy => (
            format!(
                "cargoWithProfile clippy {extra} {}",
                get("cargoClippyExtraArgs", "--all-targets")
            ),
            user_check.unwrap_or_default(),
        ),
        CargoTest => (
            String::new(),
            format!(
                "cargoWithProfile test {extra} {}",
                get("cargoTestExtraArgs", "")
            ),
        ),
        CargoDocTest => (
            String::new(),
            format!(
                "cargoWithProfile test --doc {extra} {}",
                get("cargoTestExtraArgs", "")
            ),
        ),
        CargoDoc => (
            format!(
                "cargoWithProfile doc {extra} {}",
                get("cargoDocExtraArgs", "--no-deps")
            ),
            user_check.unwrap_or_default(),
        ),
        CargoNextest => nextest_texts(attrs, &extra, profile, user_build),
        CargoLlvmCov => (
            format!(
                "cargoWithProfile llvm-cov \"{}\" {extra} {}",
                get("cargoLlvmCovCommand", "test"),
                get("cargoLlvmCovExtraArgs", "--lcov --output-path $out"),
            ),
            user_check.unwrap_or_default(),
        ),
        CargoTarpaulin => (
            format!(
                "cargoWithProfile tarpaulin {extra} {}",
                get(
                    "cargoTarpaulinExtraArgs",
                    "--skip-clean --out xml --output-dir $out"
                )
            ),
            user_check.unwrap_or_default(),
        ),
        CargoFmt => (
            format!(
                "cargo fmt {extra} -- --check {}",
                get("rustFmtExtraArgs", "")
            ),
            String::new(),
        ),
        CargoAudit => (
            format!(
                "cargo audit -n -d advisory-db {}",
                get("cargoAuditExtraArgs", "--ignore yanked")
            ),
            String::new(),
        ),
        CargoDeny => (
            format!(
                "cargo --offline {extra} deny {} check {}",
                get("cargoDenyExtraArgs", ""),
                get("cargoDenyChecks", "bans licenses sources")
            ),
            String::new(),
        ),
        TaploFmt => (
            format!("taplo fmt --check {}", get("taploExtraArgs", "")),
            String::new(),
        ),
        MkCargoDerivation => (
            user_build.unwrap_or_default(),
            user_check.unwrap_or_default(),
        ),
    };
    let build = attrs.string("buildPhase").unwrap_or(build);
    PhaseTexts {
        build: match function {
            BuildTrunkPackage => trunk_as_cargo(&build, profile),
            _ => build,
        },
        check: match attrs.string("checkPhase") {
            Some(text) if do_check => text,
            _ if do_check => check,
            _ => String::new(),
        },
    }
}

/// trunk's builds as the cargo call trunk makes: `trunk … build [--release[=true]] …
/// INDEX` runs `cargo build --target wasm32-unknown-unknown [--release]` for the package
/// beside INDEX (`--manifest-path DIR/Cargo.toml` when INDEX is not in the source root).
/// What INDEX's `<link data-trunk rel="rust">` adds (`data-bin`, `data-cargo-features`) is
/// not read. Lines that are not a `trunk build` stay as they are.
pub(crate) fn trunk_as_cargo(text: &str, profile: &str) -> String {
    text.lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() != Some(&"trunk") || !words.contains(&"build") {
                return line.to_string();
            }
            let release = profile == "release" || words.iter().any(|w| w.starts_with("--release"));
            let index = words
                .last()
                .map_or("", |w| w.trim_matches(|c| c == '"' || c == '\''));
            let dir = Path::new(index)
                .parent()
                .filter(|d| !d.as_os_str().is_empty() && *d != Path::new("."))
                .map(|d| d.display().to_string());
            let mut cargo = "cargo build --target wasm32-unknown-unknown".to_string();
            if release {
                cargo.push_str(" --release");
            }
            if let Some(dir) = dir {
                let dir = dir
                    .strip_prefix("./")
                    .unwrap_or(&dir)
                    .replace('\'', "'\\''");
                cargo.push_str(&format!(" --manifest-path '{dir}/Cargo.toml'"));
            }
            cargo
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn nextest_texts(
    attrs: &dyn AttrLookup,
    extra: &str,
    profile: &str,
    user_build: Option<String>,
) -> (String, String) {
    let get = |attr: &str, default: &str| attrs.string(attr).unwrap_or_else(|| default.to_string());
    let with_llvm_cov = attrs.boolean("withLlvmCov").unwrap_or(false);
    let profile_args = if profile.is_empty() {
        String::new()
    } else {
        format!("--cargo-profile {profile}")
    };
    let build = user_build.unwrap_or_else(|| {
        let cov = if with_llvm_cov {
            "cargo llvm-cov --version\n"
        } else {
            ""
        };
        format!("mkdir -p $out\n{cov}cargo nextest --version\n")
    });
    let nextest_args = get("cargoNextestExtraArgs", "");
    let partitions = attrs.integer("partitions").unwrap_or(1);
    let check = if partitions > 1 {
        // Only the archive derivation compiles; the partitions run the archive.
        format!(
            "cargo nextest archive {profile_args} {extra} {nextest_args} \
             --archive-format tar-zst --archive-file $out/archive.tar.zst {}",
            get("cargoNextestArchiveExtraArgs", "")
        )
    } else {
        let runner = if with_llvm_cov {
            format!(
                "cargo llvm-cov nextest {}",
                get(
                    "cargoLlvmCovExtraArgs",
                    "--lcov --output-path $out/coverage"
                )
            )
        } else {
            "cargo nextest run".to_string()
        };
        format!(
            "{runner} {profile_args} {extra} {nextest_args} {}",
            get("cargoNextestPartitionsExtraArgs", "")
        )
    };
    (build, check)
}

/// The Rust channel a crane lib's toolchain expression follows without naming a release
/// (rust-overlay's `rust-bin.stable.latest.default`, `rust-bin.nightly…`,
/// `selectLatestNightlyWith`, fenix's `stable`/`latest`/`complete`), described for people;
/// `None` for a pinned release, a toolchain file (`fromRustupToolchainFile`,
/// `fromToolchainFile`) or an expression naming no channel.
pub(crate) fn floating_channel(toolchain: &str) -> Option<&'static str> {
    if toolchain.contains("ToolchainFile") {
        return None;
    }
    let has = |needle: &str| toolchain.contains(needle);
    if has("rust-bin.stable.latest") {
        Some("rust-overlay's latest stable")
    } else if has("rust-bin.beta") {
        Some("rust-overlay's beta")
    } else if has("rust-bin.nightly") || has("selectLatestNightlyWith") {
        Some("rust-overlay's nightly")
    } else if has("fenix") && (has(".stable") || has("stable.")) {
        Some("fenix's latest stable")
    } else if has("fenix") && (has(".latest") || has(".complete") || has(".minimal")) {
        Some("fenix's nightly")
    } else {
        None
    }
}

#[cfg(test)]
mod floating_channel_tests {
    use super::floating_channel;

    #[test]
    fn toolchains_that_follow_a_channel_are_told_from_pinned_ones() {
        let follows = [
            (
                "(crane.mkLib pkgs).overrideToolchain pkgs.pkgsBuildHost.rust-bin.stable.latest.default",
                Some("rust-overlay's latest stable"),
            ),
            (
                "craneLib.overrideToolchain (p: p.rust-bin.nightly.latest.default)",
                Some("rust-overlay's nightly"),
            ),
            (
                "craneLib.overrideToolchain (p: p.rust-bin.selectLatestNightlyWith (t: t.default))",
                Some("rust-overlay's nightly"),
            ),
            (
                "craneLib.overrideToolchain fenix.packages.${system}.stable.toolchain",
                Some("fenix's latest stable"),
            ),
            (
                "craneLib.overrideToolchain fenix.packages.${system}.complete.toolchain",
                Some("fenix's nightly"),
            ),
            (
                "craneLib.overrideToolchain (p: p.rust-bin.stable.\"1.82.0\".default)",
                None,
            ),
            (
                "craneLib.overrideToolchain (p: p.rust-bin.fromRustupToolchainFile ./rust-toolchain.toml)",
                None,
            ),
            ("crane.mkLib pkgs", None),
        ];
        for (text, channel) in follows {
            assert_eq!(floating_channel(text), channel, "{text}");
        }
    }
}
