//! Entry points for the fuzz targets (`fuzz/`) and the property tests that run the same
//! paths in `cargo test`. Each takes untrusted text and must return (an error is fine)
//! without panicking, in time proportional to the input.

use std::path::Path;

use crate::cargo::invocation::Invocation;
use crate::cargo::unit_graph::UnitGraph;
use crate::diff::{DiffGraph, diff_phase};
use crate::phase::PhaseSet;
use crate::phase::shell::find_cargo_calls;
use crate::plan::plan_phases;
use crate::source::phases_file::{parse_phases, write_phases_file};

/// The phases-file reader, crane's semantics and the planner; whatever reads back is
/// written again and must read back to the same specs.
pub fn phases_file(text: &str) {
    let Ok(specs) = parse_phases(text, "fuzz.toml") else {
        return;
    };
    let written = write_phases_file(&specs);
    let reread = parse_phases(&written, "fuzz.toml")
        .unwrap_or_else(|err| panic!("a written phases file does not read back: {err:#}"));
    let attrs = |specs: &[crate::phase::PhaseSpec]| -> Vec<_> {
        specs
            .iter()
            .map(|s| (s.name.clone(), s.attrs.clone(), s.env.clone()))
            .collect()
    };
    assert_eq!(
        attrs(&specs),
        attrs(&reread),
        "round trip changed the phases"
    );
    if let Ok(set) = PhaseSet::from_specs(specs) {
        let plans = plan_phases(&set);
        for phase in &set.phases {
            set.artifact_chain(phase);
        }
        assert_eq!(plans.by_phase.len(), set.phases.len());
    }
}

/// The flake parser and evaluator, reading `text` as `flake.nix` in a directory that
/// does not exist (imports fail cleanly).
pub fn flake(text: &str) {
    let dir = Path::new("/nonexistent/cache-miss-fuzz");
    let _ = crate::source::flake::read_flake_str(text, &dir.join("flake.nix"), dir);
}

/// The shell lexer and the cargo-call finder, with and without known variables.
pub fn shell(text: &str) {
    find_cargo_calls(text, "release", &|_| None);
    find_cargo_calls(text, "dev", &|name| Some(format!("{name}-value --x")));
}

/// The unit-graph reader and the diff of the graph against itself and against nothing.
pub fn unit_graph(text: &str) {
    let Ok(graph) = UnitGraph::parse(text) else {
        return;
    };
    graph.lacks_git_commits();
    let invocation = Invocation {
        subcommand: "build",
        args: Vec::new(),
        env: Default::default(),
        instrumented_by: None,
        toolchain: None,
        rustup_toolchain: None,
        selection: Default::default(),
    };
    let diff_graph = DiffGraph::from_unit_graph(&graph, &invocation, "x86_64-unknown-linux-gnu");
    let same = diff_phase(&[&diff_graph], &[&diff_graph]);
    assert_eq!(same.counts.missed, 0, "a graph misses against itself");
    diff_phase(&[], &[&diff_graph]);
}

/// A workflow command the GitHub Actions runner would run from a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowCommand {
    pub name: String,
    /// `key=value` pairs, values decoded as the runner decodes them.
    pub properties: Vec<(String, String)>,
    /// The message, decoded.
    pub data: String,
}

/// The commands the Actions runner runs from `log`, read line by line as it reads them:
/// `::name props::data` where a line starts (after whitespace) with `::`, else a legacy
/// `##[name props]data` anywhere in the line; after `::stop-commands::TOKEN`, none until a
/// command named TOKEN (in any case). Stricter than the runner: every name counts, not
/// only the registered ones.
pub fn workflow_commands(log: &str) -> Vec<WorkflowCommand> {
    let mut commands = Vec::new();
    let mut stopped_until: Option<String> = None;
    for line in log.split(['\n', '\r']) {
        let Some(command) = parse_v2(line).or_else(|| parse_v1(line)) else {
            continue;
        };
        if let Some(token) = &stopped_until {
            if command.name.eq_ignore_ascii_case(token) {
                stopped_until = None;
                commands.push(command);
            }
            continue;
        }
        if command.name == "stop-commands" {
            stopped_until = Some(command.data.clone());
        }
        commands.push(command);
    }
    commands
}

fn parse_v2(line: &str) -> Option<WorkflowCommand> {
    let rest = line.trim_start().strip_prefix("::")?;
    let (info, data) = rest.split_once("::")?;
    let (name, properties) = info.split_once(' ').unwrap_or((info, ""));
    let properties = properties
        .trim()
        .split(',')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            let v = unescape(v)
                .replace("%3A", ":")
                .replace("%2C", ",")
                .replace("%25", "%");
            (k.to_string(), v)
        })
        .collect();
    Some(WorkflowCommand {
        name: name.to_string(),
        properties,
        data: unescape(data).replace("%25", "%"),
    })
}

fn parse_v1(line: &str) -> Option<WorkflowCommand> {
    let (_, command) = line.split_once("##[")?;
    let (info, data) = command.split_once(']')?;
    let name = info.split(' ').next().unwrap_or_default();
    Some(WorkflowCommand {
        name: name.to_string(),
        properties: Vec::new(),
        data: data.to_string(),
    })
}

/// The runner's data decoding, `%25` last so that `%250A` stays `%0A`.
fn unescape(text: &str) -> String {
    text.replace("%0D", "\r").replace("%0A", "\n")
}

/// Every width the renderers wrap or cut text at, and a few either side: the narrowest
/// terminals, table words (24), cut values (60), long words (64), cause details (100).
const LAYOUT_WIDTHS: &[u16] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 22, 23, 24, 25, 26, 40, 58, 59, 60, 61, 62, 63, 64, 65,
    66, 80, 98, 99, 100, 101, 102, 120,
];

/// The text helpers and the renderers on `text` as a heading, table cells (split at `|`),
/// lines and code, at every width in `LAYOUT_WIDTHS`; the release finder on it.
pub fn text_layout(text: &str) {
    use crate::render::document::Block;
    use crate::render::table::{TableStyle, render};
    let cells: Vec<String> = text.split('|').map(str::to_string).collect();
    let headers: Vec<String> = cells.iter().take(4).cloned().collect();
    let rows = cells
        .chunks(headers.len().max(1))
        .map(|row| {
            let mut row = row.to_vec();
            row.resize(headers.len(), text.to_string());
            row
        })
        .collect();
    let blocks = [
        Block::Heading(text.to_string()),
        Block::Table {
            headers,
            rows,
            emphasized: Some(0),
        },
        Block::Lines(vec![text.to_string(), crate::text::echo(text)]),
        Block::Code(text.to_string()),
    ];
    for &width in LAYOUT_WIDTHS {
        render(
            &blocks,
            TableStyle {
                width,
                color: width % 2 == 0,
            },
        );
    }
    crate::render::markdown::render(&blocks);
    crate::text::one_line(text);
    crate::report::rust_release_in(text);
    crate::crane::functions::floating_channel(text);
}
