//! A phase's misses in the report: its root misses as one table, with what every row
//! shares said once above it, capped unless `--all`; and, folded, the cascade each root
//! miss drags in.

use std::collections::{BTreeMap, HashMap};

use super::{named_at_most, plural, shared_text};
use crate::costs::duration_text;
use crate::diff::UnitId;
use crate::explain::{MissReport, UnitNames};
use crate::located::Note;
use crate::render::document::Block;
use crate::report::costs::root_seconds;
use crate::report::{PhaseReport, PhaseStatus};

/// How many root misses a phase's table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootRows {
    /// At most [`ROWS_SHOWN`] rows, the rest counted (the default).
    Capped,
    /// Every one (`--all`).
    All,
}

/// How many rows of root misses a phase's table shows by default.
const ROWS_SHOWN: usize = 10;
/// How many packages a row or a fix line names before counting the rest.
const PACKAGES_NAMED: usize = 3;
/// How many dependency paths a row names before counting the rest.
const ASKERS_NAMED: usize = 1;
/// How many root misses a phase's cascade names, and how many units under each: a
/// workspace of any size keeps its markdown far under GitHub's 1 MiB summary limit.
const CASCADE_ROOTS: usize = 25;
const CASCADE_UNITS: usize = 12;

/// What earlier phases of the report already printed, so that a later phase names the
/// phase instead of repeating it: each fix line's text, and each table of root misses
/// with its fix lines.
#[derive(Default)]
pub(super) struct Said {
    fixes: BTreeMap<String, String>,
    misses: BTreeMap<String, String>,
}

/// The heading with the counts, and the table, cascade and fix lines of one phase.
pub(super) fn phase_blocks(
    phase: &PhaseReport,
    shared: &BTreeMap<String, Vec<String>>,
    shown: RootRows,
    said: &mut Said,
) -> Vec<Block> {
    let mut blocks = Vec::new();
    if phase.status != PhaseStatus::Ok {
        return blocks;
    }
    let roots: Vec<_> = phase.misses.iter().filter(|m| m.is_root()).collect();
    let names = UnitNames::of(&phase.misses);
    let approximations: Vec<&Note> = phase
        .phase
        .approximations
        .iter()
        .filter(|a| !shared.contains_key(&shared_text(&phase.phase, a)))
        .collect();
    if !roots.is_empty() || !approximations.is_empty() || !phase.phase.notes.is_empty() {
        blocks.push(Block::Heading(heading(phase, roots.len())));
    }
    if !roots.is_empty() {
        blocks
            .extend(super::phase_cost_sentence(phase).map(|s| Block::Lines(vec![format!("{s}.")])));
        let table = roots_table(phase, &roots, &names, shown);
        let fixes = fix_lines(&phase.phase.name, &roots, &names, &mut said.fixes);
        let printed = format!("{:?}{fixes:?}", unfolded(&table));
        match said.misses.get(&printed) {
            Some(first) => blocks.push(Block::Lines(vec![format!(
                "the same root misses, causes and fixes as `{first}`."
            )])),
            None => {
                said.misses.insert(printed, phase.phase.name.clone());
                blocks.extend(table);
                blocks.extend(cascade_block(phase, &roots));
                blocks.push(Block::Lines(fixes));
            }
        }
    }
    let mut remarks: Vec<String> = approximations
        .iter()
        .map(|a| format!("approximate: {a}"))
        .collect();
    remarks.extend(phase.phase.notes.iter().map(|n| format!("note: {n}")));
    if !remarks.is_empty() {
        blocks.push(Block::Lines(remarks));
    }
    blocks
}

/// The blocks with each fold's content in its place, its summary (which names the phase)
/// left out.
fn unfolded(blocks: &[Block]) -> Vec<&Block> {
    blocks
        .iter()
        .flat_map(|block| match block {
            Block::Fold { blocks, .. } => unfolded(blocks),
            other => vec![other],
        })
        .collect()
}

/// `clippy (cargoClippy <- deps): 17 of 20 dependency units rebuilt, 15 root misses, 2
/// cascaded`; the name and function alone when nothing is missed.
fn heading(phase: &PhaseReport, roots: usize) -> String {
    let from = phase
        .phase
        .artifacts_from
        .as_deref()
        .map(|f| format!(" <- {f}"))
        .unwrap_or_default();
    let name = format!("{} ({}{from})", phase.phase.name, phase.phase.function);
    if roots == 0 {
        return name;
    }
    format!(
        "{name}: {} of {} dependency units rebuilt, {roots} root miss{}, {} cascaded",
        phase.units.missed,
        phase.units.needed,
        if roots == 1 { "" } else { "es" },
        phase.units.missed - roots
    )
}

/// The columns a root-miss row can have, in order; `seconds` only when weighed.
const COLUMNS: [&str; 7] = [
    "unit", "reason", "detail", "cause", "asked by", "cascades", "seconds",
];
const REASON: usize = 1;
const CAUSE: usize = 3;
const CASCADES: usize = 5;
/// The columns whose text, when every row has the same, is said once above the table.
const SHAREABLE: [usize; 3] = [1, 2, 3];

/// What every row shares, said once; then the table of what differs, capped.
fn roots_table(
    phase: &PhaseReport,
    roots: &[&MissReport],
    names: &UnitNames,
    shown: RootRows,
) -> Vec<Block> {
    let weighed = phase.costs.is_some();
    let mut groups = group_alike(roots, names, shown);
    let cascades = |group: &Vec<&MissReport>| group.iter().map(|m| m.cascaded).sum::<usize>();
    let seconds = |group: &Vec<&MissReport>| {
        group
            .iter()
            .fold(0.0, |total, m| total + root_seconds(phase, m))
    };
    // Most cascades first, then costliest; a stable sort keeps report order among equals.
    groups.sort_by(|a, b| {
        cascades(b)
            .cmp(&cascades(a))
            .then_with(|| seconds(b).total_cmp(&seconds(a)))
    });
    let count = match shown {
        RootRows::Capped => groups.len().min(ROWS_SHOWN),
        RootRows::All => groups.len(),
    };
    let rows: Vec<Vec<String>> = groups
        .iter()
        .take(count)
        .map(|group| row(phase, group, names, weighed, shown))
        .collect();
    let mut headers: Vec<String> = COLUMNS.map(String::from).to_vec();
    if !weighed {
        headers.pop();
    }
    let mut blocks = Vec::new();
    // Said once when every row (of all, shown or not) reads the same.
    let every: Vec<Vec<String>> = groups
        .iter()
        .map(|g| row(phase, g, names, weighed, shown))
        .collect();
    let mut above = Vec::new();
    let mut dropped = Vec::new();
    for column in SHAREABLE {
        let first = every.first().and_then(|r| r.get(column));
        // A lone row's cause is said above too: it is the longest cell.
        if (every.len() > 1 || column == CAUSE)
            && first.is_some_and(|f| !f.is_empty())
            && every.iter().all(|r| r.get(column) == first)
        {
            let label = headers.get(column).map_or("", String::as_str);
            let text = first.map_or("", |f| f);
            above.push(if every.len() > 1 {
                format!("{label} of every row: {text}")
            } else {
                format!("{label}: {text}")
            });
            dropped.push(column);
        }
    }
    // A column empty in every row shown says nothing, nor do cascades that are all 0.
    for column in 1..headers.len() {
        if rows.iter().all(|r| {
            r.get(column)
                .is_none_or(|cell| cell.is_empty() || (column == CASCADES && cell == "0"))
        }) {
            dropped.push(column);
        }
    }
    dropped.sort_unstable();
    dropped.dedup();
    let keep = |i: &usize| !dropped.contains(i);
    let pick = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(i))
            .map(|(_, c)| c.clone())
            .collect()
    };
    if !above.is_empty() {
        blocks.push(Block::Lines(above));
    }
    let emphasized = keep(&REASON).then(|| (0..REASON).filter(keep).count());
    let mut folded = vec![Block::Table {
        headers: pick(&headers),
        rows: rows.iter().map(|r| pick(r)).collect(),
        emphasized,
    }];
    if groups.len() > count {
        let hidden: usize = groups.iter().skip(count).map(Vec::len).sum();
        folded.push(Block::Lines(vec![format!(
            "and {hidden} more root miss{} (`--all`; `--format json` lists every one)",
            if hidden == 1 { "" } else { "es" }
        )]));
    }
    blocks.push(Block::Fold {
        summary: format!(
            "{}: {} root miss{}",
            phase.phase.name,
            roots.len(),
            if roots.len() == 1 { "" } else { "es" }
        ),
        blocks: folded,
    });
    blocks
}

/// One row: every [`COLUMNS`] cell (`seconds` when weighed). Capped, a row names each
/// package once, with how many of its units it holds, and its first dependency paths.
fn row(
    phase: &PhaseReport,
    group: &[&MissReport],
    names: &UnitNames,
    weighed: bool,
    shown: RootRows,
) -> Vec<String> {
    let Some(m) = group.first() else {
        return Vec::new();
    };
    let mut askers: Vec<String> = Vec::new();
    for request in group.iter().flat_map(|m| &m.requests) {
        let text = request.to_string();
        if !askers.contains(&text) {
            askers.push(text);
        }
    }
    let (units, askers) = match shown {
        RootRows::All => (
            group
                .iter()
                .map(|m| m.label_with_mode())
                .collect::<Vec<_>>()
                .join(", "),
            askers.join("\n"),
        ),
        RootRows::Capped => (
            named_at_most(&packages(group), PACKAGES_NAMED, "packages"),
            askers_text(&askers),
        ),
    };
    let mut row = vec![
        units,
        m.reason().to_string(),
        match shown {
            RootRows::All => m.detail(names),
            RootRows::Capped => m.detail_brief(names),
        },
        m.trigger_short_text().unwrap_or_default(),
        askers,
        group.iter().map(|m| m.cascaded).sum::<usize>().to_string(),
    ];
    if weighed {
        row.push(group_seconds_text(phase, group));
    }
    row
}

/// `envwatch@0.1.0 (3 units)`, `leaf@1.0.0 (build)`: each package of `group` once, in
/// order.
fn packages(group: &[&MissReport]) -> Vec<String> {
    let mut named: Vec<(String, Vec<&MissReport>)> = Vec::new();
    for miss in group {
        let package = format!("{}@{}", miss.package, miss.version);
        match named.iter_mut().find(|(p, _)| *p == package) {
            Some((_, units)) => units.push(miss),
            None => named.push((package, vec![miss])),
        }
    }
    named
        .into_iter()
        .map(|(package, units)| match units.as_slice() {
            [one] => one.label_with_mode(),
            _ => format!("{package} ({} units)", units.len()),
        })
        .collect()
}

/// The first dependency paths, one a line, and how many more there are.
fn askers_text(askers: &[String]) -> String {
    let mut lines: Vec<String> = askers.iter().take(ASKERS_NAMED).cloned().collect();
    if askers.len() > ASKERS_NAMED {
        lines.push(format!("and {} more", askers.len() - ASKERS_NAMED));
    }
    lines.join("\n")
}

/// One line per distinct fix, with the units it covers when there are several; a fix
/// already printed for an earlier phase names that phase.
fn fix_lines(
    phase: &str,
    roots: &[&MissReport],
    names: &UnitNames,
    fixes_said: &mut BTreeMap<String, String>,
) -> Vec<String> {
    let mut fixes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for miss in roots {
        fixes
            .entry(miss.fix_text(names))
            .or_default()
            .push(miss.label());
    }
    let one_fix = fixes.len() == 1;
    let mut lines: Vec<String> = fixes
        .into_iter()
        .map(|(fix, mut units)| {
            units.dedup();
            // A phase's only fix covers every row of the table above.
            let units = if one_fix {
                String::new()
            } else {
                format!(" [{}]", named_at_most(&units, PACKAGES_NAMED, "packages"))
            };
            match fixes_said.get(&fix) {
                Some(first) => format!("fix: the same as for `{first}`{units}"),
                None => {
                    fixes_said.insert(fix.clone(), phase.to_string());
                    format!("fix: {fix}{units}")
                }
            }
        })
        .collect();
    lines.sort();
    lines
}

/// The units each root miss drags in, grouped by cause, folded (markdown and HTML only);
/// none when no root miss cascades.
fn cascade_block(phase: &PhaseReport, roots: &[&MissReport]) -> Option<Block> {
    let mut dragged: HashMap<UnitId, Vec<String>> = HashMap::new();
    for miss in phase.misses.iter().filter(|m| !m.is_root()) {
        if let Some(root) = miss.cascade_from {
            dragged
                .entry(root)
                .or_default()
                .push(miss.label_with_mode());
        }
    }
    let mut cascading: Vec<&&MissReport> = roots.iter().filter(|r| r.cascaded > 0).collect();
    if cascading.is_empty() {
        return None;
    }
    cascading.sort_by_key(|r| std::cmp::Reverse(r.cascaded));
    let mut by_cause: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for root in cascading.iter().take(CASCADE_ROOTS) {
        let units = dragged.get(&root.unit_id).cloned().unwrap_or_default();
        let mut named: Vec<String> = units.iter().take(CASCADE_UNITS).cloned().collect();
        if root.cascaded > named.len() {
            named.push(format!("and {} more", root.cascaded - named.len()));
        }
        let cause = format!(
            "{}{}",
            root.reason(),
            root.trigger_short_text()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        );
        by_cause.entry(cause).or_default().push(format!(
            "  {} drags in {}: {}",
            root.label_with_mode(),
            root.cascaded,
            named.join(", ")
        ));
    }
    let mut lines = Vec::new();
    for (cause, roots) in by_cause {
        lines.push(format!("{cause}:"));
        lines.extend(roots);
    }
    if cascading.len() > CASCADE_ROOTS {
        lines.push(format!(
            "and {} more root misses that cascade (`--format json` lists every one)",
            cascading.len() - CASCADE_ROOTS
        ));
    }
    Some(Block::Detail {
        summary: format!(
            "{}: the cascade, {} unit{} dragged in by {} root miss{}",
            phase.phase.name,
            phase.units.missed - roots.len(),
            plural(phase.units.missed - roots.len()),
            cascading.len(),
            if cascading.len() == 1 { "" } else { "es" }
        ),
        blocks: vec![Block::Lines(lines)],
    })
}

/// A row's seconds with its cascades: `1.25 s`, or `unknown` when nothing in it was
/// measured.
fn group_seconds_text(phase: &PhaseReport, group: &[&MissReport]) -> String {
    let measured = group.iter().any(|root| {
        phase.misses.iter().any(|m| {
            (std::ptr::eq(m, *root) || m.cascade_from == Some(root.unit_id))
                && m.seconds.seconds().is_some()
        })
    });
    if !measured {
        return "unknown".to_string();
    }
    duration_text(
        group
            .iter()
            .fold(0.0, |total, m| total + root_seconds(phase, m)),
    )
}

/// Root misses that read the same (reason, detail, cause, fix) in one group, as
/// rustflags or toolchain misses of a whole phase do; with `--all`, their dependency
/// paths must read the same too. First appearance order.
fn group_alike<'a>(
    roots: &[&'a MissReport],
    names: &UnitNames,
    shown: RootRows,
) -> Vec<Vec<&'a MissReport>> {
    let reads = |m: &MissReport| {
        (
            m.reason(),
            match shown {
                RootRows::All => m.detail(names),
                RootRows::Capped => m.detail_brief(names),
            },
            m.trigger_text(),
            match shown {
                RootRows::All => m.requested_by(),
                RootRows::Capped => Vec::new(),
            },
            m.fix_text(names),
        )
    };
    let mut index: HashMap<_, usize> = HashMap::new();
    let mut groups: Vec<Vec<&MissReport>> = Vec::new();
    for &miss in roots {
        let next = groups.len();
        let group = *index.entry(reads(miss)).or_insert(next);
        if group == next {
            groups.push(Vec::new());
        }
        if let Some(members) = groups.get_mut(group) {
            members.push(miss);
        }
    }
    groups
}
