//! The platform the flake is evaluated for: nixpkgs' platform predicates
//! (`stdenv.isDarwin`, `stdenv.hostPlatform.isx86_64`, `hostPlatform.rust.rustcTarget`, ...)
//! answered for the analysed system (this machine's, or `--system`), or for the system a
//! package set is written with (`nixpkgs.legacyPackages.aarch64-darwin.stdenv`).

use anyhow::{Result, bail};

use super::Evaluator;
use super::frames::is_system_name;
use super::value::Value;

/// A Nix system (`x86_64-linux`): its CPU and kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct System {
    pub cpu: String,
    pub kernel: String,
}

const CPUS: &[&str] = &[
    "x86_64",
    "aarch64",
    "i686",
    "armv6l",
    "armv7l",
    "riscv64",
    "powerpc64le",
    "s390x",
    "mips64el",
    "loongarch64",
];
const KERNELS: &[&str] = &["linux", "darwin", "freebsd", "netbsd", "openbsd"];

impl System {
    /// The system this machine runs, as Nix names it.
    pub(crate) fn host() -> System {
        let cpu = match std::env::consts::ARCH {
            "x86" => "i686",
            "arm" => "armv7l",
            "powerpc64" => "powerpc64le",
            "loongarch64" => "loongarch64",
            other => other,
        };
        let kernel = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        System {
            cpu: cpu.to_string(),
            kernel: kernel.to_string(),
        }
    }

    /// `--system x86_64-linux`: a CPU and a kernel Nix knows.
    pub(crate) fn parse(text: &str) -> Result<System> {
        let known = match text.split_once('-') {
            Some((cpu, kernel)) if CPUS.contains(&cpu) && KERNELS.contains(&kernel) => {
                Some(System {
                    cpu: cpu.to_string(),
                    kernel: kernel.to_string(),
                })
            }
            _ => None,
        };
        match known {
            Some(system) => Ok(system),
            None => bail!(
                "--system {}: not a Nix system (CPU-KERNEL, e.g. x86_64-linux, aarch64-darwin)",
                crate::text::echo(text)
            ),
        }
    }

    /// The system a Rust target triple runs on (`aarch64-unknown-linux-gnu`:
    /// `aarch64-linux`), for the kernels Nix names.
    fn of_triple(triple: &str) -> Option<System> {
        let cpu = match triple.split('-').next()? {
            "arm" => "armv6l",
            "armv7" => "armv7l",
            "riscv64gc" => "riscv64",
            cpu => cpu,
        };
        let kernel = KERNELS.iter().find(|k| {
            triple.contains(&format!("-{k}"))
                || (**k == "darwin" && triple.contains("-apple-darwin"))
        })?;
        System::parse(&format!("{cpu}-{kernel}")).ok()
    }

    fn name(&self) -> String {
        format!("{}-{}", self.cpu, self.kernel)
    }

    /// The platform's Rust target triple, as nixpkgs' `rust.rustcTarget` gives it.
    fn rust_triple(&self) -> String {
        match self.kernel.as_str() {
            "darwin" => format!("{}-apple-darwin", self.cpu),
            "linux" => match self.cpu.as_str() {
                "armv6l" => "arm-unknown-linux-gnueabihf".into(),
                "armv7l" => "armv7-unknown-linux-gnueabihf".into(),
                "powerpc64le" => "powerpc64le-unknown-linux-gnu".into(),
                "riscv64" => "riscv64gc-unknown-linux-gnu".into(),
                cpu => format!("{cpu}-unknown-linux-gnu"),
            },
            kernel => format!("{}-unknown-{kernel}", self.cpu),
        }
    }

    /// A platform predicate or attribute (`isLinux`, `isx86_64`, `system`), when it is one.
    fn attr(&self, name: &str) -> Option<Value> {
        let (cpu, kernel) = (self.cpu.as_str(), self.kernel.as_str());
        let is = |yes: bool| Some(Value::Bool(yes));
        match name {
            "isLinux" => is(kernel == "linux"),
            "isDarwin" => is(kernel == "darwin"),
            "isFreeBSD" => is(kernel == "freebsd"),
            "isBSD" => is(matches!(
                kernel,
                "darwin" | "freebsd" | "netbsd" | "openbsd"
            )),
            "isUnix" => is(true),
            "isWindows" | "isCygwin" | "isMinGW" | "isWasm" | "isWasi" => is(false),
            "isx86_64" => is(cpu == "x86_64"),
            "isi686" | "isx86_32" => is(cpu == "i686"),
            "isx86" => is(matches!(cpu, "x86_64" | "i686")),
            "isAarch64" => is(cpu == "aarch64"),
            "isAarch32" => is(matches!(cpu, "armv6l" | "armv7l")),
            "isAarch" | "isArm" => is(matches!(cpu, "aarch64" | "armv6l" | "armv7l")),
            "isRiscV" | "isRiscV64" => is(cpu == "riscv64"),
            "isPower64" => is(cpu == "powerpc64le"),
            "is64bit" => is(!matches!(cpu, "i686" | "armv6l" | "armv7l")),
            "is32bit" => is(matches!(cpu, "i686" | "armv6l" | "armv7l")),
            "isMacOS" => is(kernel == "darwin"),
            "system" => Some(Value::Str(self.name())),
            "config" => Some(Value::Str(match kernel {
                "darwin" => format!("{cpu}-apple-darwin"),
                "linux" => self.rust_triple().replace("riscv64gc", "riscv64"),
                _ => self.rust_triple(),
            })),
            _ => None,
        }
    }
}

/// A cross or static package set whose target is known: how its phases are told apart
/// (`pkgsStatic`, `aarch64-multiplatform` for `pkgsCross.aarch64-multiplatform`,
/// `aarch64-linux` for `crossSystem = "aarch64-linux"`) and its Rust target triple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrossTarget {
    pub name: String,
    pub triple: String,
}

/// nixpkgs' `lib.systems.examples` (what `pkgsCross.NAME` is made from), by name, with
/// their Rust targets.
const CROSS_EXAMPLES: &[(&str, &str)] = &[
    ("aarch64-multiplatform", "aarch64-unknown-linux-gnu"),
    ("aarch64-multiplatform-musl", "aarch64-unknown-linux-musl"),
    ("armv7l-hf-multiplatform", "armv7-unknown-linux-gnueabihf"),
    ("raspberryPi", "arm-unknown-linux-gnueabihf"),
    ("gnu64", "x86_64-unknown-linux-gnu"),
    ("musl64", "x86_64-unknown-linux-musl"),
    ("gnu32", "i686-unknown-linux-gnu"),
    ("musl32", "i686-unknown-linux-musl"),
    ("riscv64", "riscv64gc-unknown-linux-gnu"),
    ("ppc64le", "powerpc64le-unknown-linux-gnu"),
    ("s390x", "s390x-unknown-linux-gnu"),
    ("mingwW64", "x86_64-pc-windows-gnu"),
    ("ucrt64", "x86_64-pc-windows-gnu"),
    ("wasi32", "wasm32-wasip1"),
    ("aarch64-darwin", "aarch64-apple-darwin"),
    ("x86_64-darwin", "x86_64-apple-darwin"),
    ("aarch64-android", "aarch64-linux-android"),
];

impl System {
    /// The target of a package set written as `text` (`pkgs.pkgsStatic`,
    /// `pkgsCross.aarch64-multiplatform`, `import nixpkgs { crossSystem = "aarch64-linux"; }`),
    /// when it is a cross or static set this can name.
    pub(crate) fn cross_target(&self, text: &str) -> Option<CrossTarget> {
        let named = |name: &str, triple: String| {
            Some(CrossTarget {
                name: name.to_string(),
                triple,
            })
        };
        for set in ["pkgsStatic", "pkgsMusl"] {
            if text.contains(set) {
                return match self.kernel.as_str() {
                    "linux" => named(set, format!("{}-unknown-linux-musl", self.cpu)),
                    _ => None,
                };
            }
        }
        let word_after = |marker: &str| {
            let (_, rest) = text.split_once(marker)?;
            let word: String = rest
                .trim_start_matches(['=', ' ', '"'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            Some(word)
        };
        let example = |name: &str| {
            CROSS_EXAMPLES
                .iter()
                .find(|(example, _)| *example == name)
                .map(|(_, triple)| triple.to_string())
        };
        if let Some(name) = word_after("pkgsCross.") {
            return named(&name, example(&name)?);
        }
        let system = word_after("crossSystem")?;
        if let Some(name) = system.strip_prefix("lib.systems.examples.") {
            return named(name, example(name)?);
        }
        let system = System::parse(&system).ok()?;
        named(&system.name(), system.rust_triple())
    }
}

impl Evaluator {
    /// The cross or static target of a package set written as `text`, if it names one.
    pub(super) fn cross_target(&self, text: &str) -> Option<CrossTarget> {
        self.system.cross_target(text)
    }

    /// `BASE.NAME` where BASE is a native package set's platform (`pkgs.stdenv`,
    /// `stdenv.hostPlatform`, `pkgs.stdenv.buildPlatform`, `hostPlatform.rust`): the
    /// predicate or attribute for the analysed system, or for the system BASE names; for a
    /// cross or static set with a known target (`pkgsStatic.stdenv`, a cross `callPackage`'s
    /// `stdenv`), for that target. `None` for anything else.
    pub(super) fn platform_attr(&self, base: &str, name: &str) -> Option<Value> {
        if let Some(value) = self.cross_platform_attr(base, name) {
            return value;
        }
        let segments: Vec<&str> = base.split('.').collect();
        // A native set's stdenv builds for the platform it runs on.
        let native_target = matches!(segments.as_slice(), [.., "stdenv", "targetPlatform"]);
        if segments.iter().any(|s| {
            s.starts_with("pkgsCross")
                || s.contains("crossSystem")
                || (*s == "targetPlatform" && !native_target)
        }) {
            return None;
        }
        let system = segments
            .iter()
            .find(|s| is_system_name(s) && !s.starts_with("${"))
            .and_then(|s| System::parse(s).ok())
            .unwrap_or_else(|| self.system.clone());
        match segments.as_slice() {
            [.., "hostPlatform" | "buildPlatform", "rust"]
                if matches!(name, "rustcTarget" | "rustcTargetSpec") =>
            {
                Some(Value::Str(system.rust_triple()))
            }
            [.., "hostPlatform" | "buildPlatform", "rust"] if name == "cargoEnvVarTarget" => {
                Some(Value::Str(cargo_env_var_target(&system.rust_triple())))
            }
            [
                ..,
                "stdenv" | "hostPlatform" | "buildPlatform" | "targetPlatform",
            ] => system.attr(name),
            _ => None,
        }
    }

    /// `SET.stdenv.hostPlatform.NAME` (also `SET.stdenv.NAME`, `targetPlatform`,
    /// `buildPlatform`, `….rust.rustcTarget`) where SET is a cross or static package set with
    /// a known target: its stdenv builds on the analysed system for that target.
    /// `None` when `base` is no such platform; `Some(None)` for what it cannot answer.
    fn cross_platform_attr(&self, base: &str, name: &str) -> Option<Option<Value>> {
        let (set, platform) = ["stdenv", "hostPlatform", "targetPlatform", "buildPlatform"]
            .iter()
            .find_map(|platform| {
                let at = base.strip_suffix(".rust").unwrap_or(base);
                let set = at.strip_suffix(&format!(".{platform}"))?;
                Some((set.strip_suffix(".stdenv").unwrap_or(set), *platform))
            })?;
        let target = self.cross_target(set)?;
        if platform == "buildPlatform" {
            return Some(self.platform_attr("stdenv.buildPlatform", name));
        }
        let system = System::of_triple(&target.triple)?;
        let musl = target.triple.ends_with("-musl");
        Some(match (base.ends_with(".rust"), name) {
            (true, "rustcTarget" | "rustcTargetSpec") => Some(Value::Str(target.triple.clone())),
            (true, "cargoEnvVarTarget") => Some(Value::Str(cargo_env_var_target(&target.triple))),
            (true, _) => None,
            (false, "isMusl") => Some(Value::Bool(musl)),
            (false, "isStatic") => Some(Value::Bool(target.name == "pkgsStatic")),
            (false, "config") if musl => Some(Value::Str(target.triple.clone())),
            (false, _) => system.attr(name),
        })
    }
}

/// A target triple as cargo's environment variables write it (`X86_64_UNKNOWN_LINUX_GNU`).
fn cargo_env_var_target(triple: &str) -> String {
    triple.replace('-', "_").to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_parse_and_name_their_rust_triple() {
        let darwin = System::parse("aarch64-darwin").unwrap();
        assert_eq!(darwin.rust_triple(), "aarch64-apple-darwin");
        assert!(matches!(darwin.attr("isDarwin"), Some(Value::Bool(true))));
        let linux = System::parse("x86_64-linux").unwrap();
        assert_eq!(linux.rust_triple(), "x86_64-unknown-linux-gnu");
        assert!(matches!(linux.attr("isx86_64"), Some(Value::Bool(true))));
        assert!(System::parse("x86_64").is_err());
        assert!(System::parse("sparc-linux").is_err());
    }

    #[test]
    fn cross_and_static_sets_name_their_rust_target() {
        let linux = System::parse("x86_64-linux").unwrap();
        let target = |text: &str| linux.cross_target(text).map(|t| (t.name, t.triple));
        assert_eq!(
            target("pkgs.pkgsStatic"),
            Some(("pkgsStatic".into(), "x86_64-unknown-linux-musl".into()))
        );
        assert_eq!(
            target("pkgs.pkgsCross.aarch64-multiplatform"),
            Some((
                "aarch64-multiplatform".into(),
                "aarch64-unknown-linux-gnu".into()
            ))
        );
        assert_eq!(
            target("import nixpkgs { localSystem = system; crossSystem = \"aarch64-linux\"; }"),
            Some(("aarch64-linux".into(), "aarch64-unknown-linux-gnu".into()))
        );
        assert_eq!(target("pkgsCross.somethingElse"), None);
        assert_eq!(target("pkgs"), None);
    }
}
