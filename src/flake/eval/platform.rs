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
pub struct System {
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
    pub fn host() -> System {
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
    pub fn parse(text: &str) -> Result<System> {
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

impl Evaluator {
    /// `BASE.NAME` where BASE is a native package set's platform (`pkgs.stdenv`,
    /// `stdenv.hostPlatform`, `pkgs.stdenv.buildPlatform`, `hostPlatform.rust`): the
    /// predicate or attribute for the analysed system, or for the system BASE names.
    /// `None` for anything else, and for cross package sets (their platform is another).
    pub(super) fn platform_attr(&self, base: &str, name: &str) -> Option<Value> {
        let segments: Vec<&str> = base.split('.').collect();
        if segments.iter().any(|s| {
            s.starts_with("pkgsCross") || s.contains("crossSystem") || *s == "targetPlatform"
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
            [.., "stdenv" | "hostPlatform" | "buildPlatform"] => system.attr(name),
            _ => None,
        }
    }
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
}
