//! A phase's misses in the report: its root misses as one table, with what every row
//! shares said once above it, capped unless `--all`; and, folded, the cascade each root
//! miss drags in.

use std::collections::{BTreeMap, HashMap};

use super::{named_few, plural, shared_text};
use crate::costs::duration_text;
use crate::explain::MissReport;
use crate::phase::Note;
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
/// How many dependency paths a row names before counting the rest.
const ASKERS_NAMED: usize = 1;
/// How many root misses a phase's cascade names, and how many units under each: a
/// workspace of any size keeps its markdown far under GitHub's 1 MiB summary limit.
const CASCADE_ROOTS: usize = 25;
const CASCADE_UNITS: usize = 12;

/// The heading, counts, table, cascade and fix lines of one phase.
pub(super) fn phase_blocks(
    phase: &PhaseReport,
    shared: &BTreeMap<String, Vec<String>>,
    shown: RootRows,
) -> Vec<Block> {
    let mut blocks = Vec::new();
    if phase.status != PhaseStatus::Ok {
        return blocks;
    }
    let roots: Vec<_> = phase.misses.iter().filter(|m| m.is_root()).collect();
    let approximations: Vec<&Note> = phase
        .phase
        .approximations
        .iter()
        .filter(|a| !shared.contains_key(&shared_text(&phase.phase, a)))
        .collect();
    if !roots.is_empty() || !approximations.is_empty() || !phase.phase.notes.is_empty() {
        let from = phase
            .phase
            .artifacts_from
            .as_deref()
            .map(|f| format!(" <- {f}"))
            .unwrap_or_default();
        blocks.push(Block::Heading(format!(
            "{} ({}{from})",
            phase.phase.name, phase.phase.function
        )));
    }
    if !roots.is_empty() {
        blocks.push(Block::Lines(vec![format!(
            "{} of {} dependency units rebuilt: {} root miss{}, {} cascaded.",
            phase.units.missed,
            phase.units.needed,
            roots.len(),
            if roots.len() == 1 { "" } else { "es" },
            phase.units.missed - roots.len()
        )]));
        blocks
            .extend(super::phase_cost_sentence(phase).map(|s| Block::Lines(vec![format!("{s}.")])));
        blocks.extend(roots_table(phase, &roots, shown));
        blocks.extend(cascade_block(phase, &roots));
        blocks.push(Block::Lines(fix_lines(&roots)));
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

/// The columns a root-miss row can have, in order; `seconds` only when weighed.
const COLUMNS: [&str; 7] = [
    "unit", "reason", "detail", "cause", "asked by", "cascades", "seconds",
];
const REASON: usize = 1;
/// The columns whose text, when every row has the same, is said once above the table.
const SHAREABLE: [usize; 3] = [1, 2, 3];

/// What every row shares, said once; then the table of what differs, capped.
fn roots_table(phase: &PhaseReport, roots: &[&MissReport], shown: RootRows) -> Vec<Block> {
    let weighed = phase.costs.is_some();
    let mut groups = group_alike(roots, shown);
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
        .map(|group| row(phase, group, weighed, shown))
        .collect();
    let mut headers: Vec<String> = COLUMNS.map(String::from).to_vec();
    if !weighed {
        headers.pop();
    }
    let mut blocks = Vec::new();
    // Said once when every row (of all, shown or not) reads the same.
    let every: Vec<Vec<String>> = groups
        .iter()
        .map(|g| row(phase, g, weighed, shown))
        .collect();
    let mut above = Vec::new();
    let mut dropped = Vec::new();
    for column in SHAREABLE {
        let first = every.first().and_then(|r| r.get(column));
        if every.len() > 1
            && first.is_some_and(|f| !f.is_empty())
            && every.iter().all(|r| r.get(column) == first)
        {
            let label = headers.get(column).map_or("", String::as_str);
            above.push(format!("{label} of every row: {}", first.map_or("", |f| f)));
            dropped.push(column);
        }
    }
    // A column empty in every row shown says nothing.
    for column in 1..headers.len() {
        if rows
            .iter()
            .all(|r| r.get(column).is_none_or(String::is_empty))
        {
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
fn row(phase: &PhaseReport, group: &[&MissReport], weighed: bool, shown: RootRows) -> Vec<String> {
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
            named_few(&packages(group), "packages"),
            askers_text(&askers),
        ),
    };
    let mut row = vec![
        units,
        m.reason().to_string(),
        m.detail(),
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

/// One line per distinct fix, with the units it covers.
fn fix_lines(roots: &[&MissReport]) -> Vec<String> {
    let mut fixes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for miss in roots {
        fixes.entry(miss.fix_text()).or_default().push(miss.label());
    }
    let mut lines: Vec<String> = fixes
        .into_iter()
        .map(|(fix, mut units)| {
            units.dedup();
            format!("fix: {fix} [{}]", named_few(&units, "packages"))
        })
        .collect();
    lines.sort();
    lines
}

/// The units each root miss drags in, grouped by cause, folded (markdown and HTML only);
/// none when no root miss cascades.
fn cascade_block(phase: &PhaseReport, roots: &[&MissReport]) -> Option<Block> {
    let mut dragged: HashMap<&str, Vec<String>> = HashMap::new();
    for miss in phase.misses.iter().filter(|m| !m.is_root()) {
        if let Some(root) = miss.cascade_from.as_deref() {
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
        // A cascade names its root by label and mode.
        let units = dragged
            .get(format!("{} ({})", root.label(), root.mode).as_str())
            .cloned()
            .unwrap_or_default();
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
        let label = format!("{} ({})", root.label(), root.mode);
        phase.misses.iter().any(|m| {
            (std::ptr::eq(m, *root) || m.cascade_from.as_deref() == Some(label.as_str()))
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
fn group_alike<'a>(roots: &[&'a MissReport], shown: RootRows) -> Vec<Vec<&'a MissReport>> {
    let reads = |m: &MissReport| {
        (
            m.reason(),
            m.detail(),
            m.trigger_text(),
            match shown {
                RootRows::All => m.requested_by(),
                RootRows::Capped => Vec::new(),
            },
            m.fix_text(),
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
