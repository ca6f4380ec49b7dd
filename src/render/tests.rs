//! Snapshot tests of the table and markdown renderers on a hand-built report.

use std::collections::BTreeMap;

use super::{markdown, table};
use crate::cargo::SelectionFlag;
use crate::diff::UnitId;
use crate::explain::cause::{Edge, Link};
use crate::explain::{Fix, FixStep, MissCause, MissReport, Request, Trigger};
use crate::located::{Note, SourceLocation};
use crate::report::display::{RootRows, document};
use crate::report::{PhaseReport, PhaseStatus, PhaseSummary, Report, UnitCounts};

fn summary(name: &str, function: &str, from: Option<&str>, commands: &[&str]) -> PhaseSummary {
    PhaseSummary {
        name: name.into(),
        function: crate::phase::CraneFunction::from_name(function).expect("a crane function"),
        artifacts_from: from.map(String::from),
        commands: commands.iter().map(|c| c.to_string()).collect(),
        env: BTreeMap::new(),
        origin: Some(SourceLocation::line("phases.toml", name.len())),
        implicit: false,
        approximations: vec![],
        notes: vec![],
        not_evaluable: None,
        aliases: vec![],
    }
}

/// A miss of `package` (unit `id`), a root or cascading from unit `cascade_from`.
pub(crate) fn miss(package: &str, id: u32, cascade_from: Option<u32>) -> MissReport {
    let root = cascade_from.is_none();
    MissReport {
        package: package.into(),
        version: "1.0.0".into(),
        source: "registry+https://github.com/rust-lang/crates.io-index".into(),
        target: package.into(),
        kind: "lib".into(),
        mode: "build".into(),
        platform: None,
        features: vec!["extra".into()],
        deps_only_features: Some(vec![]),
        cause: match cascade_from {
            None => MissCause::Features {
                built: vec![vec![]],
                needed: vec!["extra".into()],
                added: vec!["extra".into()],
                removed: vec![],
            },
            Some(root) => MissCause::Dependency {
                roots: vec![UnitId(root)],
            },
        },
        cascade_from: cascade_from.map(UnitId),
        requests: if root {
            vec![Request {
                chain: ["cli", "top", "mid", "leaf"]
                    .iter()
                    .enumerate()
                    .map(|(i, p)| Link {
                        package: Some(p.to_string()),
                        edge: (i > 0).then_some(Edge::Normal),
                    })
                    .collect(),
                features: vec!["extra".into()],
            }]
        } else {
            vec![]
        },
        trigger: root.then(|| Trigger::Selection {
            phase: vec!["-p cli".into()],
            deps_only: vec!["-p app".into()],
            default_packages: None,
        }),
        fix: Fix {
            deps_phase: Some("deps".into()),
            check: None,
            steps: vec![match cascade_from {
                None => FixStep::SamePackageSelection {
                    flags: vec![SelectionFlag::Package("cli".into())],
                },
                Some(root) => FixStep::FollowsRoot { root: UnitId(root) },
            }],
        },
        cascaded: if root { 2 } else { 0 },
        variant: None,
        seconds: crate::costs::Cost::NotWeighed,
        unit_id: UnitId(id),
    }
}

/// The report as a plain table, 100 columns wide.
const STYLE: table::TableStyle = table::TableStyle {
    width: 100,
    color: false,
};

fn table_text(report: &Report) -> String {
    table::render(&document(report, RootRows::Capped), STYLE)
}

pub(crate) fn sample() -> Report {
    Report {
        workspace_root: "/work/demo".into(),
        phase_source: "phases file phases.toml".into(),
        phases: vec![
            PhaseReport {
                status: PhaseStatus::Ok,
                error: None,
                cargo: None,
                phase: summary(
                    "deps",
                    "buildDepsOnly",
                    None,
                    &["cargo check --release --locked -p app"],
                ),
                units: UnitCounts {
                    needed: 3,
                    cached: 0,
                    missed: 0,
                    local: 2,
                },
                misses: vec![],
                missed_before: None,
                costs: None,
                missed_units: vec![],
            },
            PhaseReport {
                status: PhaseStatus::Ok,
                error: None,
                cargo: None,
                phase: summary(
                    "cli",
                    "buildPackage",
                    Some("deps"),
                    &["cargo build --release --locked -p cli"],
                ),
                units: UnitCounts {
                    needed: 4,
                    cached: 1,
                    missed: 3,
                    local: 2,
                },
                misses: vec![
                    miss("leaf", 1, None),
                    miss("mid", 2, Some(1)),
                    miss("top", 3, Some(1)),
                ],
                missed_before: None,
                costs: None,
                missed_units: vec![],
            },
        ],
        findings: vec![],
        warnings: vec![],
        cargo: crate::cargo::run::CargoInfo {
            version: (1, 95),
            release: "1.95.0".into(),
            host: "x86_64-unknown-linux-gnu".into(),
            toolchain: crate::cargo::toolchain::ToolchainChoice {
                toolchain: None,
                origin: crate::cargo::toolchain::ToolchainOrigin::Default,
            },
        },
        timings: Default::default(),
        costs: None,
        baseline: None,
    }
}

#[test]
fn table_snapshot() {
    let text = table_text(&sample());
    assert!(
        text.lines().all(|line| line.chars().count() <= 100),
        "wider than 100 columns:\n{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(&document(&sample(), RootRows::Capped)));
}

#[test]
fn clean_report_says_so_plainly() {
    let mut report = sample();
    report.phases[1].misses.clear();
    report.phases[1].units = UnitCounts {
        needed: 4,
        cached: 4,
        missed: 0,
        local: 2,
    };
    let text = table_text(&report);
    assert!(text.contains("No misses: every phase reuses all the dependency units it inherits."));
    assert!(!text.contains("fix:"));
}

#[test]
fn json_has_the_contract_fields() {
    let value: serde_json::Value =
        serde_json::from_str(&crate::report::json::report_json(&sample())).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(value["workspace_root"], "/work/demo");
    let cli = &value["phases"][1];
    for field in [
        "name",
        "function",
        "artifacts_from",
        "commands",
        "units",
        "misses",
    ] {
        assert!(cli.get(field).is_some(), "phase field {field} missing");
    }
    for field in ["needed", "cached", "missed", "local"] {
        assert!(cli["units"][field].is_u64(), "units.{field}");
    }
    let leaf = &cli["misses"][0];
    for field in [
        "package",
        "version",
        "source",
        "target",
        "kind",
        "mode",
        "platform",
        "reason",
        "cascade_from",
        "detail",
        "requested_by",
        "fix",
    ] {
        assert!(leaf.get(field).is_some(), "miss field {field} missing");
    }
    assert!(value["findings"].is_array());
    assert!(value["phases"][0]["artifacts_from"].is_null());
}

#[test]
fn alike_misses_share_one_row_and_long_lists_are_cut() {
    let mut report = sample();
    let flags = |package: &str| MissReport {
        cause: MissCause::Rustflags {
            phase: Some("RUSTFLAGS=--cfg loom".into()),
            artifact: None,
        },
        requests: vec![],
        trigger: Some(Trigger::Rustflags {
            phase: Some("RUSTFLAGS=--cfg loom".into()),
            deps_only: None,
        }),
        fix: Fix {
            deps_phase: Some("deps".into()),
            check: None,
            steps: vec![FixStep::SameRustflags { changes: vec![] }],
        },
        cascaded: 0,
        ..miss(package, 0, None)
    };
    let packages: Vec<String> = (0..60).map(|i| format!("crate{i:02}")).collect();
    report.phases[1].misses = packages.iter().map(|p| flags(p)).collect();
    report.phases[1].units.missed = 60;
    let text = table_text(&report);
    assert_eq!(text.matches("┆ rustflags ┆").count(), 1, "{text}");
    assert!(text.contains("58 more packages"), "{text}");
    // The phase's only fix covers the whole table: it lists nothing.
    assert!(
        text.contains("(in the attributes both phases share):\n  rustflags are part of every crate's fingerprint\n"),
        "{text}"
    );

    // Misses that differ each get a row, up to a limit.
    report.phases[1].misses = packages.iter().map(|p| miss(p, 0, None)).collect();
    for (i, m) in report.phases[1].misses.iter_mut().enumerate() {
        m.cause = MissCause::Features {
            built: vec![vec![]],
            needed: vec![format!("f{i}")],
            added: vec![format!("f{i}")],
            removed: vec![],
        };
    }
    let text = table_text(&report);
    assert!(
        text.contains("and 50 more root misses (`--all`; `--format json` lists every one)"),
        "{text}"
    );
    assert_eq!(text.matches("@1.0.0 (build) ┆").count(), 10, "{text}");
    assert!(text.contains("reason of every row: features"), "{text}");
    // What every row shares is said once, above the table.
    assert!(
        text.contains("cause of every row: this phase: -p cli; deps-only: -p app"),
        "{text}"
    );
    let all = table::render(&document(&report, RootRows::All), STYLE);
    assert_eq!(all.matches("@1.0.0 (build) ┆").count(), 60, "{all}");
}

#[test]
fn names_are_not_broken_inside_a_word() {
    let mut report = sample();
    report.phases[1].misses[0].trigger = Some(Trigger::Selection {
        phase: vec!["buildDepsOnly cargoArtifacts".into()],
        deps_only: vec![],
        default_packages: None,
    });
    let text = table_text(&report);
    assert!(text.contains("buildDepsOnly"), "{text}");
    assert!(text.contains("cargoArtifacts"), "{text}");
}

#[test]
fn approximations_shared_by_phases_are_said_once() {
    let mut report = sample();
    for phase in &mut report.phases {
        let origin = phase.phase.origin.clone().unwrap();
        phase.phase.approximations = vec![Note::at(
            origin,
            "attribute OPENSSL_DIR could not be resolved (\"${pkgs.openssl.dev}\"); left unset",
        )];
    }
    report.phases[1]
        .phase
        .approximations
        .push(Note::new("only in cli"));
    let text = table_text(&report);
    assert_eq!(text.matches("OPENSSL_DIR").count(), 1, "{text}");
    assert!(
        text.contains("approximate in `deps` (phases.toml:4), `cli` (phases.toml:3):"),
        "{text}"
    );
    assert!(text.contains("approximate: only in cli"), "{text}");
}

#[test]
fn a_wide_summary_gives_up_padding_before_breaking_names() {
    let mut report = sample();
    report.phases[0].phase.name = "topiary-queries-deps".into();
    report.phases[1].phase.artifacts_from = Some("topiary-queries-deps".into());

    let text = table_text(&report);
    assert!(
        text.lines().all(|line| line.chars().count() <= 100),
        "{text}"
    );
    assert!(text.contains("│ topiary-queries-deps┆"), "{text}");
    assert!(text.contains("┆ topiary-queries-deps┆ 4"), "{text}");
}

#[test]
fn a_long_list_of_workspace_hack_pins_names_the_crates() {
    let pins: Vec<String> = (0..6).map(|i| format!("crate{i}@1.0.0 [std]")).collect();
    let fix = crate::fix::FixReport {
        proposals: vec![],
        never_served: vec![],
        feature_unification: pins,
        rejected: vec![],
        approximate_phases: vec![],
    };
    let text = markdown::render(&crate::fix::fix_document(&fix, &sample()));
    assert!(text.contains("crate0@1.0.0, crate1@1.0.0"), "{text}");
    assert!(!text.contains("[std]"), "{text}");
    assert!(text.contains("lists the features"), "{text}");
}
