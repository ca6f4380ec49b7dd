//! Which environment variables are inputs of a cargo answer, in a cache key. cargo
//! resolves from its own variables (`CARGO_*`, configuration included), the toolchain's
//! (`RUSTC*`, `RUSTDOC*`, `RUSTFLAGS`, `RUSTUP_*`, `RUST_TARGET_PATH`), its home (`HOME`)
//! and the few variables rustc's target information reads. `PATH` counts by the programs
//! it finds, which the key holds apart (see [`super::program_inputs`]). Everything else a
//! shell or a CI runner sets (`GITHUB_RUN_ID`, `SSH_AUTH_SOCK`, `TERM`, a phase's
//! `OPENSSL_DIR`) changes no unit graph, so it is no input: keyed, it would make every new
//! terminal or CI job ask cargo everything again.

/// Whether the variable `name` can change what cargo or rustc answers.
pub(crate) fn read_by_cargo(name: &str) -> bool {
    const PREFIXES: &[&str] = &["CARGO", "__CARGO", "RUST"];
    const NAMES: &[&str] = &["HOME", "SDKROOT"];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        || NAMES.contains(&name)
        // Apple targets' information depends on the deployment target rustc is given.
        || name.ends_with("_DEPLOYMENT_TARGET")
}

#[cfg(test)]
mod tests {
    use super::read_by_cargo;

    #[test]
    fn cargo_and_toolchain_variables_are_inputs() {
        for name in [
            "CARGO_HOME",
            "CARGO_BUILD_TARGET",
            "CARGO_PROFILE_RELEASE_LTO",
            "CARGO_ENCODED_RUSTFLAGS",
            "__CARGO_DEFAULT_LIB_METADATA",
            "RUSTFLAGS",
            "RUSTC",
            "RUSTC_BOOTSTRAP",
            "RUSTDOCFLAGS",
            "RUSTUP_TOOLCHAIN",
            "RUSTUP_HOME",
            "RUST_TARGET_PATH",
            "HOME",
            "MACOSX_DEPLOYMENT_TARGET",
        ] {
            assert!(read_by_cargo(name), "{name} is an input");
        }
    }

    #[test]
    fn a_shells_and_a_ci_runners_variables_are_not() {
        for name in [
            "GITHUB_RUN_ID",
            "GITHUB_SHA",
            "CI_JOB_ID",
            "SSH_AUTH_SOCK",
            "TERM",
            "COLUMNS",
            "DISPLAY",
            "OPENSSL_DIR",
            "PKG_CONFIG_PATH",
            "PATH",
            "PWD",
            "OLDPWD",
            "_",
            "XDG_CACHE_HOME",
        ] {
            assert!(!read_by_cargo(name), "{name} is no input");
        }
    }
}
