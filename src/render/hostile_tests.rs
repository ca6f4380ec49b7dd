//! Every renderer fed hostile names: no workflow command in a CI log but the report's own
//! annotations, no markup in markdown but the renderer's own, no control character on a
//! terminal.

use super::tests::sample;
use super::{graph, html, markdown, table};
use crate::findings::{Finding, FindingId, Severity};
use crate::fuzzing::workflow_commands;
use crate::located::SourceLocation;
use crate::report::Report;
use crate::report::display::{RootRows, document};
use crate::report::github;

const PIECES: &[&str] = &[
    "::set-output name=pwned::owned",
    "::",
    "##[add-mask]x",
    "x##[stop-commands]tok",
    "%0A::warning::fake",
    "%25",
    ",title=x:y",
    "<img src=https://evil.example/p.png>",
    "a`<img src=x>`",
    "|",
    "`",
    "[x](https://evil.example)",
    "\\",
    "&lt;",
    "\u{1b}[31m",
    "\u{1b}]0;t\u{7}",
    "\n",
    "\r",
    "\n::error::x",
    "\u{202e}",
    "\u{2066}",
    " ",
    "deps",
];

/// xorshift: the same names on every run.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn name(&mut self) -> String {
        (0..1 + self.below(4))
            .map(|_| PIECES[self.below(PIECES.len())])
            .collect()
    }
}

fn hostile_report(random: &mut Random) -> Report {
    let mut report = sample();
    report.workspace_root = random.name();
    let deps = random.name();
    report.phases[0].phase.name = deps.clone();
    report.phases[1].phase.name = random.name();
    report.phases[1].phase.artifacts_from = Some(deps);
    report.phases[1].phase.commands = vec![random.name()];
    for miss in &mut report.phases[1].misses {
        miss.package = random.name();
        miss.target = random.name();
    }
    report.findings.push(Finding {
        id: FindingId::BuildScriptEnv,
        severity: Severity::Warning,
        location: Some(SourceLocation::line(random.name(), 3)),
        message: random.name(),
        fix: random.name(),
    });
    report
}

fn check_terminal(out: &str, what: &str) {
    assert!(
        !out.chars().any(|c| c != '\n' && crate::text::is_unsafe(c)),
        "{what}: a control character:\n{out:?}"
    );
    assert_eq!(workflow_commands(out), vec![], "{what}:\n{out}");
}

/// Outside code fences, `<` opens only the renderer's own tags, no backtick or bracket is
/// live, and every table row has its header's number of cells.
fn check_markdown(out: &str) {
    const OWN_TAGS: [&str; 5] = ["<details>", "</details>", "<summary>", "</summary>", "<br>"];
    let mut fence: Option<String> = None;
    let mut columns = None;
    for line in out.lines() {
        if let Some(open) = &fence {
            if line == open {
                fence = None;
            }
            continue;
        }
        if line.starts_with("``") {
            fence = Some(line.chars().take_while(|&c| c == '`').collect());
            continue;
        }
        for (at, _) in line.match_indices('<') {
            let tail = line.get(at..).unwrap_or_default();
            assert!(
                OWN_TAGS.iter().any(|tag| tail.starts_with(tag)),
                "raw HTML: {line}"
            );
        }
        assert!(!line.contains(['`', '[']), "live markup: {line}");
        if line.starts_with("| ") {
            let cells = line.matches('|').count();
            match columns {
                None => columns = Some(cells),
                Some(n) => assert_eq!(cells, n, "a cell split: {line}"),
            }
        } else {
            columns = None;
        }
    }
}

/// The annotations are the only commands: each the report's own (a `cache-miss:` title,
/// known properties), then the human part with commands stopped and resumed once.
fn check_github(out: &str, expected_annotations: usize) {
    let commands = workflow_commands(out);
    let (annotations, rest) = commands.split_at(expected_annotations.min(commands.len()));
    for command in annotations {
        assert!(
            ["warning", "error", "notice"].contains(&command.name.as_str()),
            "{command:?}\n{out}"
        );
        for (key, value) in &command.properties {
            assert!(
                ["file", "line", "col", "title"].contains(&key.as_str()),
                "{command:?}"
            );
            if key == "title" {
                assert!(value.starts_with("cache-miss: "), "{command:?}");
            }
        }
    }
    assert_eq!(rest.len(), 2, "{rest:?}\n{out}");
    assert_eq!(rest[0].name, "stop-commands");
    assert_eq!(rest[1].name, rest[0].data, "{rest:?}");
    assert!(out.ends_with(&format!("::{}::\n", rest[0].data)));
}

/// A `touch` answer with hostile phase, file, unit and revision names.
fn hostile_touch(random: &mut Random) -> crate::touch::TouchReport {
    use crate::touch::{PhaseTouch, RebuildCause};
    let phase = |random: &mut Random, many: usize| PhaseTouch {
        name: random.name(),
        rebuilds: true,
        causes: {
            let inherits = RebuildCause::Inherits {
                phase: random.name(),
            };
            let mut causes: Vec<RebuildCause> = (0..many)
                .map(|_| RebuildCause::InSource {
                    file: format!("{}/{}", random.name(), random.name()),
                })
                .collect();
            causes.push(inherits);
            causes
        },
        recompiles: (0..many).map(|_| random.name()).collect(),
        resolution_changes: vec![random.name()],
        approximations: vec![random.name()],
        deps_only: many > 20,
        compiles_nothing: None,
        workspace_units: Default::default(),
    };
    crate::touch::TouchReport {
        workspace_root: random.name(),
        base: random.name(),
        to: Some(random.name()),
        files: (0..3).map(|_| random.name()).collect(),
        phases: vec![phase(random, 3), phase(random, 30)],
    }
}

#[test]
fn hostile_names_reach_no_renderer_as_commands_or_markup() {
    let repo = tempfile::tempdir().unwrap();
    let paths = github::RepoPaths::discover(repo.path(), None);
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    for _ in 0..300 {
        let report = hostile_report(&mut random);
        let blocks = document(&report, RootRows::All);
        let style = table::TableStyle {
            width: 100,
            color: false,
        };
        let tables = table::render(&blocks, style);
        check_terminal(&tables, "table");
        let page = markdown::render(&blocks);
        check_markdown(&page);
        check_mermaid(&page, report.phases.len());
        check_dot(&graph::dot(
            &crate::report::display::phase_graph(&report),
            &random.name(),
        ));
        check_html(&html::render(&blocks));
        let annotations = github::annotations(&report, &paths, false);
        let log = annotations.clone() + &github::log(&tables);
        check_github(&log, annotations.lines().count());
        let touch = crate::touch::touch_document(&hostile_touch(&mut random), RootRows::All);
        let tables = table::render(&touch, style);
        check_terminal(&tables, "touch table");
        check_markdown(&markdown::render(&touch));
        check_github(&github::log(&tables), 0);
    }
}

/// The graph names a phase `"]:::x`, `a --> b`, `%% c`, `<script>`, … Each line of the
/// Mermaid block is one of the renderer's own statements, with labels holding only safe
/// characters and entity codes: nothing closes a label or starts a statement.
fn check_mermaid(page: &str, phases: usize) {
    let block = page
        .split_once("```mermaid\n")
        .and_then(|(_, rest)| rest.split_once("\n```\n"))
        .map(|(block, _)| block)
        .expect("a mermaid block");
    let node = regex::Regex::new(
        r#"^  p\d+\["[A-Za-z0-9 @._/(),#;]*<br/>[A-Za-z0-9 @._/(),#;]*<br/>[A-Za-z0-9 @._/(),#;]*"\]:::(depsonly|served|misses|notanalysed)$"#,
    )
    .unwrap();
    let edge = regex::Regex::new(r"^  p\d+ --> p\d+$").unwrap();
    let mut nodes = 0;
    for line in block.lines() {
        if node.is_match(line) {
            nodes += 1;
        } else {
            assert!(
                line == "flowchart LR" || edge.is_match(line) || line.starts_with("  classDef "),
                "not the renderer's own statement: {line:?}"
            );
        }
    }
    assert_eq!(nodes, phases, "{block}");
}

/// Each DOT line is the renderer's own; in a quoted string a `"` comes only escaped and
/// every backslash starts an escape the renderer wrote.
fn check_dot(dot: &str) {
    for line in dot.lines() {
        let mut chars = line.chars();
        let mut quotes = 0;
        while let Some(c) = chars.next() {
            match c {
                '\\' => assert!(
                    matches!(chars.next(), Some('\\' | '"' | 'n')),
                    "a bare escape: {line:?}"
                ),
                '"' => quotes += 1,
                c => assert!(!c.is_control(), "a control character: {line:?}"),
            }
        }
        assert_eq!(quotes % 2, 0, "an unclosed string: {line:?}");
    }
    assert!(dot.starts_with("digraph phases {\n") && dot.ends_with("}\n"));
}

#[test]
fn the_graph_escapes_every_name() {
    let mut report = sample();
    let names = [
        "a\"]:::misses\n  p9[\"x",
        "b --> c",
        "%% comment",
        "`code`",
        "<script>alert(1)</script>",
        "ünï 名前",
        "x\ny\r",
        "[brackets]{braces}",
        "d\\\"e",
    ];
    let template = report.phases[1].clone();
    report.phases.truncate(1);
    for name in names {
        let mut phase = template.clone();
        phase.phase.name = name.to_string();
        report.phases.push(phase);
    }
    let page = markdown::render(&document(&report, RootRows::Capped));
    check_markdown(&page);
    check_mermaid(&page, names.len() + 1);
    let html = html::render(&document(&report, RootRows::Capped));
    check_html(&html);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        page.contains("#60;script#62;alert(1)#60;/script#62;"),
        "{page}"
    );
    assert!(page.contains("#252;n#239; #21517;#21069;"), "{page}");
    let dot = graph::dot(&crate::report::display::phase_graph(&report), "t\"itle\\");
    check_dot(&dot);
    assert!(dot.contains(r#"label="a\"]:::misses"#), "{dot}");
}

/// The page holds no markup but the renderer's own (and layout-rs's SVG): hostile names'
/// `<img>`, `<script>` and links reach it escaped.
fn check_html(page: &str) {
    for tag in ["<script", "<img", "<a ", "<iframe", "javascript:"] {
        assert!(!page.contains(tag), "{tag} in the page");
    }
    for line in page.lines() {
        assert!(
            !line.contains(|c: char| c.is_control() && c != '\t'),
            "{line:?}"
        );
    }
}
