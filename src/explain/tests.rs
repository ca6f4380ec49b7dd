//! Explanations on small hand-built graphs and phases: the typed causes, triggers,
//! requests and fixes, not their wording.

use std::collections::HashMap;

use super::cause::Edge;
use super::*;
use crate::cargo::PackageId;
use crate::cargo::metadata::{DependencyDecl, EdgeKind, PackageDecls};
use crate::diff::diff_phase;
use crate::diff::graph::DiffUnit;
use crate::phase::PhaseSet;
use crate::plan::plan_phases;
use crate::source::phases_file::parse_phases;

const REG: &str = "registry+https://github.com/rust-lang/crates.io-index";

fn id(name: &str, local: bool) -> PackageId {
    let text = if local {
        format!("path+file:///ws/{name}#0.1.0")
    } else {
        format!("{REG}#{name}@1.0.0")
    };
    PackageId::parse(&text).expect("a package id")
}

/// A unit: name, features, profile JSON, deps by index; `app`/`cli` are local.
fn unit(name: &str, features: &[&str], profile: &str, deps: &[usize]) -> DiffUnit {
    let local = matches!(name, "app" | "cli");
    DiffUnit {
        key: std::sync::Arc::new(UnitKey {
            pkg_id: std::sync::Arc::new(id(name, local)),
            target_kind: "lib".into(),
            target_name: name.into(),
            mode: "build".into(),
            features: features.iter().map(|f| f.to_string()).collect(),
            profile: profile.into(),
            platform: None,
            rustflags: None,
            toolchain: None,
        }),
        deps: deps.to_vec(),
        local,
    }
}

const RELEASE: &str = r#"{"name":"release","opt_level":"3"}"#;

/// `app` and `cli` both depend on `top`; `cli` asks for its `full` feature.
fn index() -> DependencyIndex {
    let dep = |package: &str, features: &[&str]| DependencyDecl {
        package: package.into(),
        local_name: package.into(),
        kind: EdgeKind::Normal,
        features: features.iter().map(|f| f.to_string()).collect(),
        default_features: true,
    };
    let package = |name: &str, deps: Vec<DependencyDecl>| PackageDecls {
        name: name.into(),
        features: [("full".to_string(), vec![])].into_iter().collect(),
        dependencies: deps,
    };
    DependencyIndex::new(HashMap::from([
        (id("app", true), package("app", vec![dep("top", &[])])),
        (id("cli", true), package("cli", vec![dep("top", &["full"])])),
        (id("top", false), package("top", vec![dep("leaf", &[])])),
        (id("leaf", false), package("leaf", vec![])),
    ]))
}

const PHASES: &str = r#"
[phases.deps]
function = "buildDepsOnly"
cargoExtraArgs = "--locked -p app"
doCheck = false

[phases.cli]
function = "buildPackage"
cargoArtifacts = "deps"
cargoExtraArgs = "--locked -p cli"
doCheck = false
"#;

/// Explains phase `cli` of [`PHASES`] (after `changes` to its table) with `needed`
/// against the deps-only graph `cached`.
fn explain(changes: &str, cached: DiffGraph, needed: DiffGraph) -> Vec<MissReport> {
    explain_phases(&format!("{PHASES}{changes}"), cached, needed)
}

/// Explains the second phase of `phases` against the first.
fn explain_phases(phases: &str, cached: DiffGraph, needed: DiffGraph) -> Vec<MissReport> {
    let set = PhaseSet::from_specs(parse_phases(phases, "p.toml").unwrap()).unwrap();
    let plans = plan_phases(&set);
    let index = index();
    let ctx = ExplainContext {
        sources: vec![&set.phases[0]],
        phase_invocations: plans.of_phase(1).collect(),
        source_invocations: plans.of_phase(0).collect(),
        source_indices: &[0],
        needed: vec![&needed],
        index: &index,
        default_packages: &["app".to_string(), "cli".to_string()],
    };
    explain_misses(&ctx, &diff_phase(&[&cached], &[&needed]))
}

fn deps_graph(profile: &str) -> DiffGraph {
    DiffGraph {
        units: vec![
            unit("leaf", &[], profile, &[]),
            unit("top", &[], profile, &[0]),
            unit("app", &[], profile, &[1]),
        ],
    }
}

#[test]
fn a_feature_another_member_asks_for_names_the_edge_and_the_selection() {
    let needed = DiffGraph {
        units: vec![
            unit("leaf", &[], RELEASE, &[]),
            unit("top", &["full"], RELEASE, &[0]),
            unit("cli", &[], RELEASE, &[1]),
        ],
    };
    let misses = explain("", deps_graph(RELEASE), needed);
    assert_eq!(misses.len(), 1);
    let top = &misses[0];
    assert_eq!(
        top.cause,
        MissCause::Features {
            built: vec![vec![]],
            needed: vec!["full".into()],
            added: vec!["full".into()],
            removed: vec![],
        }
    );
    assert_eq!(
        top.trigger,
        Some(Trigger::Selection {
            phase: vec!["-p cli".into()],
            deps_only: vec!["-p app".into()],
            default_packages: None,
        })
    );
    let chain: Vec<_> = top.requests[0]
        .chain
        .iter()
        .map(|l| (l.package.as_deref(), l.edge))
        .collect();
    assert_eq!(
        chain,
        [(Some("cli"), None), (Some("top"), Some(Edge::Normal))]
    );
    assert_eq!(top.requests[0].features, ["full"]);
    assert_eq!(top.fix.deps_phase.as_deref(), Some("deps"));
    assert_eq!(
        top.fix.steps,
        [FixStep::SamePackageSelection {
            flags: vec![SelectionFlag::Package("cli".into())]
        }]
    );
}

#[test]
fn another_profile_carries_the_changed_settings_and_a_cascade_its_root() {
    let ci = r#"{"name":"ci","opt_level":"1"}"#;
    let needed = DiffGraph {
        units: vec![
            unit("leaf", &[], ci, &[]),
            unit("top", &[], RELEASE, &[0]),
            unit("cli", &[], RELEASE, &[1]),
        ],
    };
    let misses = explain("CARGO_PROFILE = \"ci\"\n", deps_graph(RELEASE), needed);
    let (leaf, top) = (&misses[0], &misses[1]);
    assert_eq!(
        leaf.cause,
        MissCause::Profile {
            built: "release".into(),
            needed: "ci".into(),
            changes: vec![ProfileChange {
                setting: "opt_level".into(),
                built: Some("3".into()),
                needed: Some("1".into()),
            }],
        }
    );
    assert_eq!(
        leaf.trigger,
        Some(Trigger::ProfileName {
            phase: "ci".into(),
            deps_only: "release".into(),
        })
    );
    assert_eq!(
        leaf.fix.steps,
        [FixStep::SameProfile {
            profile: "ci".into()
        }]
    );
    assert_eq!(leaf.cascaded, 1);
    assert_eq!(
        top.cause,
        MissCause::Dependency {
            roots: vec![leaf.unit_id]
        }
    );
    assert_eq!(top.fix.steps, [FixStep::FollowsRoot { root: leaf.unit_id }]);
    assert_eq!(top.cascade_from, Some(leaf.unit_id));
    let names = UnitNames::of(&misses);
    assert_eq!(
        top.fix_text(&names),
        "goes away with the fix for leaf@1.0.0 (build)"
    );
    assert!(top.requests.is_empty() && top.trigger.is_none());
}

#[test]
fn a_crate_the_deps_only_build_never_built_is_asked_for_by_every_edge() {
    let needed = DiffGraph {
        units: vec![
            unit("leaf", &[], RELEASE, &[]),
            unit("extra", &[], RELEASE, &[]),
            unit("top", &[], RELEASE, &[0, 1]),
            unit("cli", &[], RELEASE, &[2]),
        ],
    };
    let misses = explain("", deps_graph(RELEASE), needed);
    let extra = misses.iter().find(|m| m.package == "extra").unwrap();
    assert_eq!(extra.cause, MissCause::NotBuilt);
    assert_eq!(extra.requests.len(), 1);
    assert_eq!(extra.requests[0].chain.len(), 3);
    assert!(extra.requests[0].features.is_empty());
}

#[test]
fn misses_that_would_read_alike_say_what_tells_them_apart() {
    let mut cross = unit("leaf", &[], RELEASE, &[]);
    std::sync::Arc::make_mut(&mut cross.key).platform = Some("aarch64-unknown-linux-gnu".into());
    let needed = DiffGraph {
        units: vec![
            unit("leaf", &["full"], RELEASE, &[]),
            cross,
            unit("cli", &[], RELEASE, &[0, 1]),
        ],
    };
    let misses = explain("", deps_graph(RELEASE), needed);
    let variants: Vec<Option<Variant>> = misses.iter().map(|m| m.variant.clone()).collect();
    assert_eq!(
        variants,
        [
            Some(Variant::Platform {
                platform: Some("aarch64-unknown-linux-gnu".into())
            }),
            Some(Variant::Platform { platform: None }),
        ]
    );
    assert_eq!(
        misses[1].label_with_mode(),
        "leaf@1.0.0 (build, for the host)"
    );
}

#[test]
fn a_package_flag_is_named_as_the_phase_wrote_it() {
    let needed = DiffGraph {
        units: vec![
            unit("leaf", &[], RELEASE, &[]),
            unit("top", &["full"], RELEASE, &[0]),
            unit("cli", &[], RELEASE, &[1]),
        ],
    };
    let phases = PHASES.replace("--locked -p cli", "--locked --package=cli");
    let misses = explain_phases(&phases, deps_graph(RELEASE), needed);
    assert_eq!(
        misses[0].trigger,
        Some(Trigger::Selection {
            phase: vec!["--package=cli".into()],
            deps_only: vec!["-p app".into()],
            default_packages: None,
        })
    );
    // What the fix runs is cargo's own spelling, compared as such.
    assert_eq!(
        misses[0].fix.steps[0],
        FixStep::SamePackageSelection {
            flags: vec![SelectionFlag::Package("cli".into())]
        }
    );
}

#[test]
fn alike_misses_in_other_profiles_say_whether_they_are_for_build_scripts_and_proc_macros() {
    let host_profile = r#"{"name":"release","opt_level":"0"}"#;
    let mut proc_macro = unit("top", &[], host_profile, &[1]);
    std::sync::Arc::make_mut(&mut proc_macro.key).target_kind = "proc-macro".into();
    let needed = DiffGraph {
        units: vec![
            unit("leaf", &["full"], RELEASE, &[]),
            unit("leaf", &["full"], host_profile, &[]),
            proc_macro,
            unit("cli", &[], RELEASE, &[0, 2]),
        ],
    };
    let misses = explain("", deps_graph(RELEASE), needed);
    // Each with its own opt_level, against the other.
    let mut roles: Vec<(Option<String>, Option<UnitRole>)> = misses
        .iter()
        .filter(|m| m.package == "leaf")
        .map(|m| match &m.variant {
            Some(Variant::Profile { changes, role }) => (changes[0].needed.clone(), *role),
            other => panic!("{other:?}"),
        })
        .collect();
    roles.sort_by_key(|(opt_level, _)| opt_level.clone());
    assert_eq!(
        roles,
        [
            (Some("0".into()), Some(UnitRole::Host)),
            (Some("3".into()), Some(UnitRole::Target))
        ]
    );
}
