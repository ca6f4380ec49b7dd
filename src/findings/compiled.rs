//! Which targets some phase compiles: a file read by a target no phase builds (a bench's
//! data, when no phase builds benches) is missing from no build.

use std::collections::BTreeSet;
use std::path::Path;

use super::FindingsInput;
use super::reads::Reader;
use crate::cargo::SelectionFlag;
use crate::diff::DiffGraph;
use crate::phase::Phase;

/// The local targets (package name, target name) the phases' unit graphs compile, in any
/// mode (`cargo check` expands `include_str!` too). `None` when no graph resolved: then
/// nothing is known to be left out.
pub(super) fn compiled_targets(input: &FindingsInput) -> Option<BTreeSet<(String, String)>> {
    let graphs: Vec<&DiffGraph> = input.resolved_graphs().collect();
    (!graphs.is_empty()).then(|| local_targets(&graphs))
}

/// The local targets `graphs` compile, in any mode.
fn local_targets(graphs: &[&DiffGraph]) -> BTreeSet<(String, String)> {
    graphs
        .iter()
        .flat_map(|g| g.units.iter())
        .filter(|u| u.local)
        .map(|u| (u.key.pkg_id.name.to_string(), u.key.target_name.clone()))
        .collect()
}

/// What one phase compiles: its local targets, and whether it compiles them as tests
/// (`#[cfg(test)]` code: `cargo test` and its kin, or `--all-targets`/`--tests`/`--benches`
/// of `check`, `clippy` and `build`, whose test-mode units the graph does not mark).
/// Produced by [`compiled_by`].
pub(super) struct PhaseCompiles {
    pub targets: BTreeSet<(String, String)>,
    pub tests: bool,
}

/// What `phase` compiles; `None` when none of its calls resolved: then nothing is known.
pub(super) fn compiled_by(input: &FindingsInput, phase: &Phase) -> Option<PhaseCompiles> {
    let graphs = input.graphs_of(phase);
    if graphs.is_empty() {
        return None;
    }
    let test_mode = graphs
        .iter()
        .flat_map(|g| g.units.iter())
        .any(|u| u.local && matches!(u.key.mode.as_str(), "test" | "bench"));
    let test_targets = input.invocations(phase).iter().any(|invocation| {
        invocation.selection.flags.iter().any(|flag| {
            matches!(
                flag,
                SelectionFlag::AllTargets
                    | SelectionFlag::Tests
                    | SelectionFlag::Test(_)
                    | SelectionFlag::Benches
                    | SelectionFlag::Bench(_)
                    | SelectionFlag::Subcommand(_)
            )
        })
    });
    Some(PhaseCompiles {
        targets: local_targets(&graphs),
        tests: test_mode || test_targets,
    })
}

/// Whether the file `reader` reads from belongs to a target in `compiled`: the targets of
/// the local package holding it whose root file's directory holds it most closely
/// (`src/` for the library and binaries, `benches/` for benches, the package's own
/// directory for its build script).
pub(super) fn read_by_compiled_target(
    input: &FindingsInput,
    compiled: &BTreeSet<(String, String)>,
    reader: &Reader,
) -> bool {
    let file = input.source_root.join(&reader.location.file);
    let package = input
        .metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .filter_map(|p| Some((p, p.manifest_path.parent()?.as_std_path())))
        .filter(|(_, dir)| file.starts_with(dir))
        .max_by_key(|(_, dir)| dir.components().count());
    let Some((package, _)) = package else {
        return true;
    };
    let dir_of = |src: &Path| src.parent().map(Path::to_path_buf);
    let closest = package
        .targets
        .iter()
        .filter_map(|t| Some((t, dir_of(t.src_path.as_std_path())?)))
        .filter(|(t, dir)| file.starts_with(dir) || t.src_path.as_std_path() == file)
        .map(|(_, dir)| dir.components().count())
        .max();
    let Some(depth) = closest else {
        return true;
    };
    package
        .targets
        .iter()
        .filter(|t| {
            dir_of(t.src_path.as_std_path())
                .is_some_and(|dir| file.starts_with(&dir) && dir.components().count() == depth)
        })
        .any(|t| compiled.contains(&(package.name.to_string(), t.name.clone())))
}
