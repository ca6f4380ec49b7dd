//! The diff core on small hand-built graphs.

use super::graph::DiffUnit;
use super::*;

const REG: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// A unit in a hand-built graph: `name`, features, mode, deps by index.
struct U {
    name: &'static str,
    features: &'static [&'static str],
    mode: &'static str,
    deps: &'static [usize],
    profile: &'static str,
    platform: Option<&'static str>,
    local: bool,
}

const fn u(name: &'static str, features: &'static [&'static str], deps: &'static [usize]) -> U {
    U {
        name,
        features,
        mode: "build",
        deps,
        profile: "release",
        platform: None,
        local: false,
    }
}

fn graph(units: &[U]) -> DiffGraph {
    DiffGraph {
        units: units
            .iter()
            .map(|x| DiffUnit {
                key: std::sync::Arc::new(UnitKey {
                    pkg_id: std::sync::Arc::new(
                        PackageId::parse(&if x.local {
                            format!("path+file:///ws/{}#0.1.0", x.name)
                        } else {
                            format!("{REG}#{}@1.0.0", x.name)
                        })
                        .unwrap(),
                    ),
                    target_kind: "lib".into(),
                    target_name: x.name.into(),
                    mode: x.mode.into(),
                    features: x.features.iter().map(|f| f.to_string()).collect(),
                    profile: format!("{{\"name\":\"{}\"}}", x.profile),
                    platform: x.platform.map(str::to_string),
                    rustflags: None,
                    toolchain: None,
                }),
                deps: x.deps.to_vec(),
                local: x.local,
            })
            .collect(),
    }
}

fn reasons(diff: &PhaseDiff) -> Vec<(String, &'static str)> {
    diff.misses
        .iter()
        .map(|m| (m.unit.target_name.clone(), m.reason.as_str()))
        .collect()
}

#[test]
fn identical_graphs_miss_nothing() {
    let g = graph(&[u("leaf", &["std"], &[]), u("top", &[], &[0])]);
    let diff = diff_phase(&[&g], &[&g]);
    assert_eq!(
        diff.counts,
        Counts {
            needed: 2,
            cached: 2,
            missed: 0,
            local: 0
        }
    );
    assert!(diff.misses.is_empty());
}

#[test]
fn feature_change_cascades_upward() {
    let deps = graph(&[
        u("leaf", &[], &[]),
        u("mid", &[], &[0]),
        u("top", &[], &[1]),
    ]);
    let phase = graph(&[
        u("leaf", &["extra"], &[]),
        u("mid", &[], &[0]),
        u("top", &[], &[1]),
    ]);
    let diff = diff_phase(&[&deps], &[&phase]);
    assert_eq!(diff.counts.missed, 3);
    assert_eq!(
        reasons(&diff),
        [
            ("leaf".into(), "features"),
            ("mid".into(), "dependency"),
            ("top".into(), "dependency")
        ]
    );
    let top = &diff.misses[2];
    assert_eq!(top.cascade_keys(&[&phase]).len(), 1);
    assert_eq!(top.cascade_keys(&[&phase])[0].target_name, "leaf");
    assert_eq!(diff.misses[0].closest[0].features, Vec::<String>::new());
}

#[test]
fn a_unit_with_its_own_difference_is_a_root_even_above_another_root() {
    let deps = graph(&[u("leaf", &[], &[]), u("mid", &[], &[0])]);
    let phase = graph(&[u("leaf", &["a"], &[]), u("mid", &["b"], &[0])]);
    let diff = diff_phase(&[&deps], &[&phase]);
    assert_eq!(
        reasons(&diff),
        [("leaf".into(), "features"), ("mid".into(), "features")]
    );
}

#[test]
fn packages_never_built_are_not_built() {
    let deps = graph(&[u("leaf", &[], &[])]);
    let phase = graph(&[u("leaf", &[], &[]), u("testkit", &[], &[0])]);
    let diff = diff_phase(&[&deps], &[&phase]);
    assert_eq!(reasons(&diff), [("testkit".into(), "not-built")]);
    assert_eq!(
        diff.counts,
        Counts {
            needed: 2,
            cached: 1,
            missed: 1,
            local: 0
        }
    );
}

#[test]
fn mode_profile_and_platform_are_told_apart() {
    let deps = graph(&[u("a", &[], &[]), u("b", &[], &[]), u("c", &[], &[])]);
    let mut check = u("a", &[], &[]);
    check.mode = "check";
    let mut ci = u("b", &[], &[]);
    ci.profile = "ci";
    let mut cross = u("c", &[], &[]);
    cross.platform = Some("aarch64-unknown-linux-gnu");
    let phase = graph(&[check, ci, cross]);
    let diff = diff_phase(&[&deps], &[&phase]);
    assert_eq!(
        reasons(&diff),
        [
            ("a".into(), "mode"),
            ("b".into(), "profile"),
            ("c".into(), "platform")
        ]
    );
}

#[test]
fn reason_prefers_the_candidate_in_the_same_mode() {
    // Cached: `check` with [x] and `build` with [x, y]; needed: `check` with [x, y].
    let mut check_x = u("a", &["x"], &[]);
    check_x.mode = "check";
    let deps = graph(&[check_x, u("a", &["x", "y"], &[])]);
    let mut check_xy = u("a", &["x", "y"], &[]);
    check_xy.mode = "check";
    let phase = graph(&[check_xy]);
    let diff = diff_phase(&[&deps], &[&phase]);
    assert_eq!(reasons(&diff), [("a".into(), "features")]);
}

#[test]
fn local_units_are_counted_apart_and_doc_units_not_at_all() {
    let mut member = u("app", &[], &[0]);
    member.local = true;
    let mut doc = u("app", &[], &[0]);
    doc.local = true;
    doc.mode = "doc";
    let deps = graph(&[u("leaf", &[], &[])]);
    let phase = graph(&[u("leaf", &[], &[]), member, doc]);
    let diff = diff_phase(&[&deps], &[&phase]);
    assert_eq!(
        diff.counts,
        Counts {
            needed: 1,
            cached: 1,
            missed: 0,
            local: 1
        }
    );
}

#[test]
fn the_cache_is_the_union_of_all_graphs_and_duplicates_count_once() {
    let build = graph(&[u("leaf", &[], &[])]);
    let mut leaf_check = u("leaf", &[], &[]);
    leaf_check.mode = "check";
    let check = graph(&[leaf_check]);
    let mut phase_check = u("leaf", &[], &[]);
    phase_check.mode = "check";
    let phase_a = graph(&[u("leaf", &[], &[]), phase_check]);
    let phase_b = graph(&[u("leaf", &[], &[])]);
    let diff = diff_phase(&[&build, &check], &[&phase_a, &phase_b]);
    assert_eq!(
        diff.counts,
        Counts {
            needed: 2,
            cached: 2,
            missed: 0,
            local: 0
        }
    );
}

#[test]
fn rustflags_make_every_unit_a_root_miss() {
    let deps = graph(&[u("leaf", &[], &[]), u("top", &[], &[0])]);
    let mut phase = graph(&[u("leaf", &[], &[]), u("top", &[], &[0])]);
    for unit in &mut phase.units {
        std::sync::Arc::make_mut(&mut unit.key).rustflags = Some("RUSTFLAGS=--cfg loom".into());
    }
    let diff = diff_phase(&[&deps], &[&phase]);
    assert_eq!(
        reasons(&diff),
        [("leaf".into(), "rustflags"), ("top".into(), "rustflags")]
    );
}

#[test]
fn cascades_name_every_root_below() {
    let deps = graph(&[u("a", &[], &[]), u("b", &[], &[]), u("top", &[], &[0, 1])]);
    let phase = graph(&[
        u("a", &["x"], &[]),
        u("b", &["y"], &[]),
        u("top", &[], &[0, 1]),
    ]);
    let diff = diff_phase(&[&deps], &[&phase]);
    let top = diff
        .misses
        .iter()
        .find(|m| m.unit.target_name == "top")
        .unwrap();
    let roots: Vec<&str> = top
        .cascade_keys(&[&phase])
        .iter()
        .map(|k| k.target_name.as_str())
        .collect();
    assert_eq!(roots, ["a", "b"]);
}

#[test]
fn a_cascade_finds_its_root_counted_in_another_graph() {
    // The phase runs two commands; the root miss `leaf` is counted in the first graph, the
    // unit above it only appears in the second.
    let deps = graph(&[u("leaf", &[], &[]), u("mid", &[], &[0])]);
    let first = graph(&[u("leaf", &["a"], &[])]);
    let second = graph(&[u("leaf", &["a"], &[]), u("mid", &[], &[0])]);
    let diff = diff_phase(&[&deps], &[&first, &second]);
    assert_eq!(
        reasons(&diff),
        [("leaf".into(), "features"), ("mid".into(), "dependency")]
    );
    let keys = diff.misses[1].cascade_keys(&[&first, &second]);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].target_name, "leaf");
}

/// `diff` without its misses' identities, which each numbering gives differently.
fn numbered_alike(diff: &PhaseDiff) -> PhaseDiff {
    let mut diff = diff.clone();
    for miss in &mut diff.misses {
        miss.id = 0;
    }
    diff
}

#[test]
fn a_differ_over_many_phases_diffs_as_each_phase_alone() {
    let deps = graph(&[u("leaf", &[], &[]), u("mid", &[], &[0])]);
    let extra = graph(&[u("leaf", &["extra"], &[]), u("mid", &[], &[0])]);
    let top = graph(&[u("leaf", &[], &[]), u("top", &[], &[0])]);
    let graphs = [&deps, &extra, &top];
    let mut interner = DeepIds::default();
    let ids: Vec<Vec<u32>> = graphs.iter().map(|g| interner.of(g)).collect();
    let mut differ = Differ::new(
        graphs
            .iter()
            .zip(&ids)
            .map(|(&g, ids)| Some((g, ids.as_slice())))
            .collect(),
    );
    // The inherited set in any order and with repeats is one set; a repeated question
    // gets the same answer.
    for cached in [&[0][..], &[0, 0], &[0, 2], &[2, 0]] {
        for needed in [&[1][..], &[2], &[1, 2]] {
            let alone: Vec<&DiffGraph> = cached.iter().map(|&c| graphs[c]).collect();
            let phase: Vec<&DiffGraph> = needed.iter().map(|&n| graphs[n]).collect();
            let expected = diff_phase(&alone, &phase);
            for _ in 0..2 {
                let diff = differ.diff(cached, needed);
                assert_eq!(
                    numbered_alike(&diff),
                    numbered_alike(&expected),
                    "{cached:?} {needed:?}"
                );
                // A miss's identity is the one the analysis numbered its unit with.
                for miss in &diff.misses {
                    assert_eq!(miss.id, ids[needed[miss.at.0]][miss.at.1]);
                }
            }
        }
    }
    assert_eq!(differ.diff(&[0], &[1]).counts.missed, 2);
    // A graph cargo could not resolve is left out on both sides.
    let mut with_failure = Differ::new(vec![Some((&deps, ids[0].as_slice())), None]);
    assert_eq!(with_failure.diff(&[0, 1], &[0, 1]).counts.missed, 0);
}

/// Every piece cached, never together: `shape` over `derive[extra]` in one graph,
/// `derive[]` alone in another; the phase needs `shape` over `derive[]`. A root, with the
/// edge named, and what sits above it cascades from it.
#[test]
fn a_unit_over_another_variant_of_a_cached_dependency_is_a_root_with_its_edge() {
    let checked = graph(&[
        u("derive", &["extra"], &[]),
        u("shape", &[], &[0]),
        u("top", &[], &[1]),
    ]);
    let built = graph(&[u("derive", &[], &[])]);
    let needed = graph(&[
        u("derive", &[], &[]),
        u("shape", &[], &[0]),
        u("top", &[], &[1]),
    ]);
    let diff = diff_phase(&[&checked, &built], &[&needed]);
    assert_eq!(diff.counts.missed, 2);
    let shape = &diff.misses[0];
    assert_eq!(shape.unit.target_name, "shape");
    assert_eq!(shape.reason, Reason::Dependency);
    assert!(shape.is_root() && shape.cascade_from.is_empty());
    let edge = &shape.variant_edges[..];
    assert_eq!(edge.len(), 1);
    assert_eq!(
        edge[0].needed.as_ref().unwrap().features,
        Vec::<String>::new()
    );
    assert_eq!(edge[0].needed_built_by, Some(1));
    assert_eq!(edge[0].built.as_ref().unwrap().features, ["extra"]);
    assert_eq!(edge[0].built_by, 0);
    let top = &diff.misses[1];
    assert_eq!(top.unit.target_name, "top");
    assert!(!top.is_root());
    assert_eq!(top.cascade_from, [shape.at]);
}

impl Miss {
    /// The keys of the root misses this cascade comes from; `needed` as given to [`diff_phase`].
    fn cascade_keys<'a>(&self, needed: &[&'a DiffGraph]) -> Vec<&'a UnitKey> {
        self.cascade_from
            .iter()
            .map(|&(g, u)| &*needed[g].units[u].key)
            .collect()
    }
}
