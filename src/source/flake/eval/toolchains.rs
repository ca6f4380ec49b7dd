//! The Rust release a crane lib's `overrideToolchain` names, with its bindings followed:
//! `rust-bin.stable.${msrv}.default` where `msrv` comes from a `let` or from `fromTOML`
//! of `Cargo.toml`'s `rust-version`, `fenix.toolchainOf { channel = v; }`, and
//! `fromRustupToolchainFile ./rust-toolchain.toml` (the file read); or the channel it
//! follows without naming a release (`stableToolchain` bound to `rust-bin.stable.latest.default`).

use super::Evaluator;
use super::files::{Pos, read_regular};
use super::value::{Thunk, ToolchainVersion, Value};

impl Evaluator {
    /// The release the toolchain expression `toolchain` (an `overrideToolchain` argument
    /// written at `pos`) evaluates to, if it names one; else the channel it follows, if
    /// it follows one.
    pub(super) fn toolchain_version(
        &mut self,
        toolchain: &Thunk,
        pos: Pos,
    ) -> Option<ToolchainVersion> {
        let evaluated = self.speculatively(|evaluator| match evaluator.force(toolchain) {
            // `p: p.rust-bin.stable.${msrv}.default`: called with an unknown package set,
            // its selection is described with the names it evaluated.
            Value::Lambda(closure) => {
                match evaluator.call(&closure, Thunk::value(Value::Unknown("pkgs".into()))) {
                    Value::Unknown(text) | Value::Str(text) => text,
                    _ => String::new(),
                }
            }
            // The arguments it was applied to (`toolchainOf { channel = v; }`) evaluated.
            _ => evaluator.toolchain_shape(toolchain),
        });
        if let Some(file) = toolchain_file_argument(&evaluated) {
            return self
                .toolchain_file_release(file, pos)
                .map(ToolchainVersion::Release);
        }
        match crate::report::rust_release_in(&evaluated) {
            Some(release) => Some(ToolchainVersion::Release(release)),
            None => {
                crate::crane::functions::floating_channel(&evaluated).map(ToolchainVersion::Channel)
            }
        }
    }

    /// The channel of the toolchain file at `relative` (`./rust-toolchain.toml`, beside
    /// the file at `pos`), when it names a release.
    fn toolchain_file_release(&self, relative: &str, pos: Pos) -> Option<String> {
        let inside = relative.strip_prefix("./")?;
        if inside
            .split('/')
            .any(|part| part == ".." || part.is_empty())
        {
            return None;
        }
        let dir = self.files.get(pos.file).path.parent()?.to_path_buf();
        let text = read_regular(&dir.join(inside)).ok()?;
        let channel = crate::cargo::toolchain::pinned_toolchain(&text)?;
        crate::report::rust_release_in(&channel).filter(|release| *release == channel)
    }
}

/// The path written after `fromRustupToolchainFile` (or fenix's `fromToolchainFile`'s
/// `file = ./…`), if it is a literal one.
fn toolchain_file_argument(text: &str) -> Option<&str> {
    let (_, after) = text
        .split_once("fromRustupToolchainFile")
        .or_else(|| text.split_once("fromToolchainFile"))?;
    after
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | '=' | '{' | '}' | '"'))
        .find(|word| word.starts_with("./"))
}
