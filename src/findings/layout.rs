//! Workspace layout findings: a root `[package]` beside `[workspace]`, path dependencies
//! outside the workspace, and phases that select other packages or features than their
//! deps-only phase.

use std::collections::{BTreeMap, BTreeSet};

use super::{Finding, FindingId, FindingsInput, Severity, and_list, finding};
use crate::cargo::SelectionFlag;
use crate::cargo::invocation::package_selection;
use crate::cargo::selection::package_selection_words;
use crate::crane::attrs::CARGO_ARGS_ATTRS;
use crate::located::SourceLocation;
use crate::phase::{AttrValue, CraneFunction, Phase};

/// A path package outside the workspace root: crane's `src` is the workspace, so the
/// build sandbox does not hold it. Produced by [`outside_path_dependencies`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutsidePathDependency {
    pub name: String,
    /// The directory holding its Cargo.toml.
    pub dir: String,
}

/// Every path package of `metadata` outside its workspace root, by name.
pub(crate) fn outside_path_dependencies(
    metadata: &cargo_metadata::Metadata,
) -> Vec<OutsidePathDependency> {
    let root = metadata.workspace_root.as_std_path();
    let mut outside: Vec<OutsidePathDependency> = metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .filter(|p| !p.manifest_path.as_std_path().starts_with(root))
        .map(|p| OutsidePathDependency {
            name: p.name.to_string(),
            dir: p
                .manifest_path
                .parent()
                .unwrap_or(&p.manifest_path)
                .to_string(),
        })
        .collect();
    outside.sort_by(|a, b| a.name.cmp(&b.name));
    outside
}

/// `path-dependency-outside-workspace`: Nix cannot build what crane's `src` lacks.
pub(super) fn path_dependencies_outside(input: &FindingsInput) -> Vec<Finding> {
    let root = &input.metadata.workspace_root;
    outside_path_dependencies(input.metadata)
        .into_iter()
        .map(|dependency| {
            finding(
                FindingId::PathDependencyOutsideWorkspace,
                Severity::Error,
                Some(SourceLocation::file(
                    input.source_root.join("Cargo.toml").display().to_string(),
                )),
                format!(
                    "the path dependency `{}` ({}) is outside the workspace {root}: crane's `src` is the workspace, so the Nix build cannot find it",
                    dependency.name, dependency.dir
                ),
                "move it into the workspace, or depend on it through a registry or git".to_string(),
            )
        })
        .collect()
}

/// `root-package-and-workspace`: cargo without `--workspace` then builds only the root
/// package, so a deps-only phase with default arguments misses other members' deps.
pub(super) fn root_package_and_workspace(input: &FindingsInput) -> Option<Finding> {
    let path = input.source_root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).ok()?;
    let manifest: toml::Table = text.parse().ok()?;
    let package = manifest.get("package")?.get("name")?.as_str()?.to_string();
    manifest.get("workspace")?;
    let packages_of = |phase: &Phase| -> Vec<SelectionFlag> {
        package_selection(&input.invocations(phase))
            .into_iter()
            .filter(SelectionFlag::names_packages)
            .collect()
    };
    let deps: Vec<&Phase> = input
        .phases()
        .filter(|p| p.function == CraneFunction::BuildDepsOnly && packages_of(p).is_empty())
        .collect();
    let root_only = SelectionFlag::Package(package.clone());
    let others: Vec<String> = input
        .phases()
        .filter(|p| p.artifacts_from.is_some() && packages_of(p).iter().any(|f| *f != root_only))
        .map(|p| format!("`{}`", p.name))
        .collect();
    if deps.is_empty() || others.is_empty() {
        return None;
    }
    let line = text
        .lines()
        .position(|l| l.trim() == "[package]")
        .map_or(1, |i| i + 1);
    let deps_names: Vec<String> = deps.iter().map(|p| format!("`{}`", p.name)).collect();
    Some(finding(
        FindingId::RootPackageAndWorkspace,
        Severity::Warning,
        Some(SourceLocation::line("Cargo.toml", line)),
        format!(
            "The top-level Cargo.toml defines both [package] ({package}) and [workspace]. Cargo without --workspace then builds only {package}, so buildDepsOnly {} caches only {package}'s dependencies, while {} select{} other members.",
            and_list(&deps_names),
            and_list(&others),
            if others.len() == 1 { "s" } else { "" }
        ),
        "add --workspace to buildDepsOnly's cargoExtraArgs (in commonArgs), or make the root manifest virtual (only [workspace]) and move the root package into its own directory".to_string(),
    ))
}

/// `check-runs-nothing`: a test phase with `doCheck = false` (often inherited from
/// commonArgs meant for buildPackage) runs no test: the check passes without testing.
pub(super) fn check_runs_nothing(input: &FindingsInput) -> Vec<Finding> {
    input
        .phases()
        .filter(|p| {
            matches!(
                p.function,
                CraneFunction::CargoTest | CraneFunction::CargoNextest | CraneFunction::CargoDocTest
            ) && !p.do_check
        })
        .map(|phase| {
            finding(
                FindingId::CheckRunsNothing,
                Severity::Warning,
                input.location(phase),
                format!(
                    "`{}` ({}) has doCheck = false, so crane runs no test in it: the check passes without testing anything (crane prints a banner saying so in the build log).",
                    phase.name, phase.function
                ),
                format!(
                    "set doCheck = true on `{}` (a doCheck = false in commonArgs is meant for buildPackage; override it in the test phase)",
                    phase.name
                ),
            )
        })
        .collect()
}

/// `selection-mismatch`: phases select other packages or features than the deps-only
/// phase they inherit from; grouped by selection, with the deps-only arguments that
/// would serve each group.
pub(super) fn selection_mismatch(input: &FindingsInput) -> Vec<Finding> {
    let default_is_workspace = default_selection_is_workspace(input.metadata);
    let selection_of = |phase: &Phase| -> Vec<SelectionFlag> {
        let mut selection = package_selection(&input.invocations(phase));
        let picks_packages = selection.iter().any(SelectionFlag::names_packages);
        if default_is_workspace && !picks_packages {
            selection.insert(SelectionFlag::Workspace);
        }
        selection.into_iter().collect()
    };
    let mut findings = Vec::new();
    for deps in input
        .phases()
        .filter(|p| p.function == CraneFunction::BuildDepsOnly)
    {
        let own = selection_of(deps);
        let mut groups: BTreeMap<Vec<SelectionFlag>, Vec<&Phase>> = BTreeMap::new();
        for phase in input
            .phases()
            .filter(|p| p.artifacts_from.as_deref() == Some(deps.name.as_str()))
            // A phase that runs no cargo build (a custom tool) selects nothing.
            .filter(|p| !input.invocations(p).is_empty())
        {
            let selection = selection_of(phase);
            if selection != own {
                groups.entry(selection).or_default().push(phase);
            }
        }
        if groups.is_empty() {
            continue;
        }
        let missing = groups
            .values()
            .flatten()
            .any(|p| input.selection_missed(p) > 0);
        let missing_otherwise = groups.values().flatten().any(|p| input.missed(p) > 0);
        let describe = |selection: &[SelectionFlag]| {
            if selection.is_empty() {
                "cargo's default selection".to_string()
            } else if default_is_workspace && selection == [SelectionFlag::Workspace] {
                "the whole workspace".to_string()
            } else {
                flag_text(selection)
            }
        };
        let mut parts = Vec::new();
        let mut fixes = Vec::new();
        for (selection, phases) in &groups {
            let names: Vec<String> = phases.iter().map(|p| format!("`{}`", p.name)).collect();
            parts.push(format!(
                "{} use{} {}",
                and_list(&names),
                if names.len() == 1 { "s" } else { "" },
                describe(selection)
            ));
            fixes.push((and_list(&names), group_changes(deps, phases[0], selection)));
        }
        findings.push(finding(
            FindingId::SelectionMismatch,
            if missing { Severity::Warning } else { Severity::Info },
            input.location(deps),
            format!(
                "buildDepsOnly `{}` uses {}, but {}. Different package or feature selections resolve features differently, {}",
                deps.name,
                describe(&own),
                // The fix lists each group's selection when there are many.
                if parts.len() > MANY_GROUPS {
                    format!("the phases use {} other selections", parts.len())
                } else {
                    parts.join("; ")
                },
                if missing {
                    "so these phases rebuild dependencies."
                } else if missing_otherwise {
                    "though here none of these phases' misses comes from it (they have other causes, see each phase); a new dependency or feature can change that."
                } else {
                    "though here they happen to need the same units (no misses); a new dependency or feature can change that."
                }
            ),
            format!("{}. `cache-miss fix` checks which works.", selection_fix(deps, &fixes)),
        ));
    }
    findings
}

/// Above this many groups of phases, the finding counts them and its fix lists each
/// group's change in one sentence.
const MANY_GROUPS: usize = 3;

/// How to serve groups of phases, each named and with the attribute changes that carry its
/// selection (or the whole selection, when no attribute carries it): on the deps-only
/// phase or on a buildDepsOnly of the group's own; with many groups, one sentence that
/// lists each group's changes.
fn selection_fix(deps: &Phase, groups: &[(String, GroupChanges)]) -> String {
    if groups.len() > MANY_GROUPS {
        let each: Vec<String> = groups
            .iter()
            .map(|(names, changes)| format!("{names}: {}", changes.attrs()))
            .collect();
        return format!(
            "give buildDepsOnly `{}` one group's selection, or give each group a buildDepsOnly of its own with its selection ({}), or use one selection in every phase",
            deps.name,
            each.join("; ")
        );
    }
    let sentences: Vec<String> = groups
        .iter()
        .map(|(names, changes)| match changes {
            GroupChanges::Attrs(changes) => {
                let own = if names.contains(" and ") {
                    "their"
                } else {
                    "its"
                };
                format!(
                    "give buildDepsOnly `{}` the selection of {names}: {}; or give {names} a buildDepsOnly of {own} own with it",
                    deps.name,
                    changes.join(" and ")
                )
            }
            GroupChanges::Selection(args) => format!(
                "give {names} a buildDepsOnly with cargoExtraArgs = \"{args}\", or use one selection in every phase"
            ),
        })
        .collect();
    sentences.join("; ")
}

/// What gives a buildDepsOnly one group's selection.
enum GroupChanges {
    /// The attributes that carry it, as the user wrote them (`cargoExtraArgs = "…"`).
    Attrs(Vec<String>),
    /// No attribute carries it: the whole `--locked …` arguments.
    Selection(String),
}

impl GroupChanges {
    fn attrs(&self) -> String {
        match self {
            GroupChanges::Attrs(changes) => changes.join(" and "),
            GroupChanges::Selection(args) => format!("cargoExtraArgs = \"{args}\""),
        }
    }
}

/// The attributes that carry one group's selection, set on the deps-only phase.
fn group_changes(deps: &Phase, phase: &Phase, selection: &[SelectionFlag]) -> GroupChanges {
    let extra_args = |p: &Phase| {
        string_attr(p, "cargoExtraArgs")
            .unwrap_or(p.function.default_cargo_extra_args())
            .to_string()
    };
    let (deps_args, phase_args) = (extra_args(deps), extra_args(phase));
    let mut cargo_extra_args = deps_args.clone();
    let (phase_selection, deps_selection) =
        (selection_words(&phase_args), selection_words(&deps_args));
    if phase_selection != deps_selection {
        // deps' other arguments (`--locked`), the phase's selection.
        let others: Vec<String> = shell_words::split(&deps_args)
            .unwrap_or_default()
            .into_iter()
            .map(|w| shell_word(&w))
            .filter(|w| !deps_selection.contains(w))
            .collect();
        cargo_extra_args = [others, phase_selection].concat().join(" ");
    }
    let mut changes = Vec::new();
    for attr in CARGO_ARGS_ATTRS.iter().filter(|a| **a != "cargoExtraArgs") {
        let Some(value) = string_attr(phase, attr) else {
            continue;
        };
        let words = selection_words(value);
        if words.is_empty() || string_attr(deps, attr) == Some(value) {
            continue;
        }
        if deps.function.reads_attr(attr) {
            changes.push(format!("{attr} = \"{value}\""));
        } else {
            // The phase's own attribute (clippy's, nextest's): buildDepsOnly takes the
            // selection in its cargoExtraArgs instead.
            cargo_extra_args = format!("{cargo_extra_args} {}", words.join(" "));
        }
    }
    if cargo_extra_args != deps_args {
        changes.insert(
            0,
            format!("cargoExtraArgs = \"{}\"", cargo_extra_args.trim()),
        );
    }
    if changes.is_empty() {
        let args = format!("--locked {}", flag_text(selection))
            .trim_end()
            .to_string();
        return GroupChanges::Selection(args);
    }
    GroupChanges::Attrs(changes)
}

fn string_attr<'a>(phase: &'a Phase, attr: &str) -> Option<&'a str> {
    match phase.attrs.get(attr) {
        Some(AttrValue::Str(value)) => Some(value),
        _ => None,
    }
}

/// The package, feature and platform words of an arguments string, as written
/// (`-p cli`, `--features a,b`, `--workspace`).
fn selection_words(args: &str) -> Vec<String> {
    let words = shell_words::split(args).unwrap_or_default();
    package_selection_words(&words)
        .iter()
        .map(|w| shell_word(w))
        .collect()
}

/// Flags as a command line writes them: `-p cli --workspace`.
fn flag_text(flags: &[SelectionFlag]) -> String {
    let words: Vec<String> = flags.iter().map(ToString::to_string).collect();
    words.join(" ")
}

/// A word as a shell reads it back: quoted only when it has to be.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=,./:+@".contains(c));
    if plain {
        word.to_string()
    } else {
        shell_words::quote(word).into_owned()
    }
}

/// Whether cargo's default package selection is the whole workspace (a virtual manifest
/// without `default-members`, or default members that are all members).
fn default_selection_is_workspace(metadata: &cargo_metadata::Metadata) -> bool {
    if !metadata.workspace_default_members.is_available() {
        return metadata.root_package().is_none();
    }
    let defaults: BTreeSet<_> = metadata.workspace_default_members.iter().collect();
    let members: BTreeSet<_> = metadata.workspace_members.iter().collect();
    defaults == members
}
