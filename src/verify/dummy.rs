//! crane's `mkDummySrc`: the workspace with every target source of every local crate
//! replaced by a dummy, so the deps-only build compiles dependencies only.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

/// What a dummy target file holds: enough to compile as any target kind.
const DUMMY_LIB: &str = "#![allow(dead_code)]\n";
const DUMMY_MAIN: &str = "#![allow(dead_code)]\nfn main() {}\n";

/// Replaces, under `root` (a copy of the workspace at `original_root`), the source file of
/// every target of every local package with a dummy. `metadata` describes the original.
pub fn dummy_sources(
    metadata: &cargo_metadata::Metadata,
    original_root: &Path,
    root: &Path,
) -> Result<()> {
    for package in metadata.packages.iter().filter(|p| p.source.is_none()) {
        for target in &package.targets {
            let Ok(relative) = target.src_path.as_std_path().strip_prefix(original_root) else {
                // A path dependency outside the source root: crane cannot see it either.
                continue;
            };
            let file = root.join(relative);
            let is_lib = target.kind.iter().any(|k| {
                matches!(
                    k,
                    cargo_metadata::TargetKind::Lib
                        | cargo_metadata::TargetKind::ProcMacro
                        | cargo_metadata::TargetKind::RLib
                        | cargo_metadata::TargetKind::DyLib
                        | cargo_metadata::TargetKind::CDyLib
                        | cargo_metadata::TargetKind::StaticLib
                )
            });
            if let Some(parent) = file.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&file, if is_lib { DUMMY_LIB } else { DUMMY_MAIN })
                .with_context(|| format!("cannot write dummy {}", file.display()))?;
        }
    }
    Ok(())
}
