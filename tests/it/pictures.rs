//! The pictures as a person sees them: every fixture's Mermaid block rendered by the real
//! Mermaid library in headless Chromium, every DOT output accepted by Graphviz. They skip
//! (saying so) without the tools and fail under `CI` (`.ci/run` installs them).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{CommandExt, Fixture, cache_miss, require, require_tool};

macro_rules! fixture_names {
    ($($test:ident => $fixture:literal),* $(,)?) => {
        const FIXTURES: &[&str] = &[$($fixture),*];
    };
}
crate::common::with_every_fixture!(fixture_names);

/// A phase name made of everything that could break a diagram.
const HOSTILE_PHASE: &str = "a\\\"]:::misses --> b %% `c` <script>alert(1)</script> ünï [d] {e}";

fn run(fixture: &Fixture, args: &[&str]) -> String {
    let out = cache_miss()
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .success_stdout();
    String::from_utf8(out).expect("UTF-8")
}

/// The demo fixture with one of its phases named [`HOSTILE_PHASE`].
fn hostile_demo() -> Fixture {
    let fixture = Fixture::new("demo");
    let phases = fixture.root().join("phases.toml");
    let text = std::fs::read_to_string(&phases).unwrap();
    let key = format!(
        "[phases.\"{}\"]",
        HOSTILE_PHASE.replace('\\', "\\\\").replace('"', "\\\"")
    );
    std::fs::write(&phases, text.replace("[phases.clippy]", &key)).unwrap();
    fixture
}

/// Every fixture, and the demo with a hostile phase name.
fn fixtures() -> Vec<(String, Fixture)> {
    FIXTURES
        .iter()
        .map(|name| (name.to_string(), Fixture::new(name)))
        .chain([("hostile".to_string(), hostile_demo())])
        .collect()
}

fn phase_count(fixture: &Fixture) -> usize {
    let json: Value = serde_json::from_str(&run(fixture, &["report", "--format", "json"])).unwrap();
    json["phases"].as_array().expect("phases").len()
}

#[test]
fn graphviz_accepts_every_dot_output() {
    let Some(dot) = require_tool("dot", "apt-get install -y graphviz") else {
        return;
    };
    for (name, fixture) in fixtures() {
        let phases = phase_count(&fixture);
        for command in ["report", "fix"] {
            let graph = run(&fixture, &[command, "--format", "dot"]);
            let svg = pipe(&dot, &["-Tsvg"], &graph)
                .unwrap_or_else(|err| panic!("{name} {command}: dot -Tsvg: {err}\n{graph}"));
            assert_eq!(
                svg.matches("<g id=\"node").count(),
                phases,
                "{name} {command}: one node a phase\n{graph}"
            );
        }
    }
}

/// Runs `program ARGS` with `input` on stdin: its stdout, or its stderr as the error.
fn pipe(program: &Path, args: &[&str], input: &str) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Mermaid's browser bundle: `$MERMAID_JS`, else where `.ci/run` installs it.
fn mermaid_js() -> PathBuf {
    std::env::var_os("MERMAID_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home)
                .join(".cache/cache-miss/mermaid/node_modules/mermaid/dist/mermaid.min.js")
        })
}

/// The flags that run Chromium headless here, offline, with a fresh profile in `profile`.
pub fn chromium(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn mermaid_draws_one_node_a_phase_for_every_fixture() {
    let Some(browser) = require_tool("chromium", "apt-get install -y chromium") else {
        return;
    };
    let js = mermaid_js();
    if !require(
        "the mermaid npm package",
        "npm install --prefix ~/.cache/cache-miss/mermaid mermaid (or set MERMAID_JS)",
        js.is_file(),
    ) {
        return;
    }
    let mut graphs = Vec::new();
    let mut expected = Vec::new();
    for (name, fixture) in fixtures() {
        let page = run(&fixture, &["report", "--format", "markdown"]);
        let block = page
            .split_once("```mermaid\n")
            .and_then(|(_, rest)| rest.split_once("```\n"))
            .map(|(block, _)| block.to_string())
            .unwrap_or_else(|| panic!("{name}: no mermaid block\n{page}"));
        graphs.push(serde_json::json!([name, block]));
        expected.push((name, phase_count(&fixture)));
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("mermaid.html");
    std::fs::write(&html, mermaid_page(&js, &Value::Array(graphs))).unwrap();
    let out = chromium(&browser, &dir.path().join("profile"))
        .arg("--virtual-time-budget=60000")
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .stderr(Stdio::null())
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let results = dom
        .split_once("RESULT")
        .and_then(|(_, rest)| rest.split_once("END"))
        .map(|(json, _)| {
            json.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .unwrap_or_else(|| panic!("no result from the page:\n{dom}"));
    let results: Vec<Value> = serde_json::from_str(&results).expect("results JSON");
    assert_eq!(results.len(), expected.len());
    for (result, (name, phases)) in results.iter().zip(&expected) {
        assert!(
            result["error"].is_null(),
            "{name}: mermaid: {}",
            result["error"]
        );
        assert_eq!(
            result["nodes"].as_u64(),
            Some(*phases as u64),
            "{name}: {result}"
        );
    }
}

/// A page that renders each `[name, text]` with Mermaid and writes, between `RESULT` and
/// `END`, each one's node count or error.
fn mermaid_page(js: &Path, graphs: &Value) -> String {
    format!(
        r#"<!doctype html><meta charset="utf-8"><script src="file://{}"></script>
<pre id="out">pending</pre>
<script>
const graphs = {graphs};
mermaid.initialize({{ startOnLoad: false, securityLevel: "strict" }});
(async () => {{
  const results = [];
  for (const [name, text] of graphs) {{
    try {{
      const {{ svg }} = await mermaid.render("g" + results.length, text);
      results.push({{ name, nodes: (svg.match(/<g class="node /g) || []).length }});
    }} catch (e) {{
      results.push({{ name, error: String(e && e.message || e) }});
    }}
  }}
  document.getElementById("out").textContent = "RESULT" + JSON.stringify(results) + "END";
}})();
</script>"#,
        js.display(),
        // No `</script>` in the data can end the script.
        graphs = graphs.to_string().replace("</", "<\\/")
    )
}

/// A screenshot of `page` in headless Chromium: the PNG's size in bytes.
fn screenshot(browser: &Path, dir: &Path, page: &Path, name: &str) -> u64 {
    let png = dir.join(format!("{name}.png"));
    let status = chromium(browser, &dir.join(format!("profile-{name}")))
        .arg("--window-size=1200,1000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("chromium runs");
    assert!(status.success(), "chromium --screenshot {name}");
    std::fs::metadata(&png).expect("a screenshot").len()
}

/// The HTML page needs no network and no script, and a screenshot of it is no blank page:
/// its PNG is several times a blank page's (a white page compresses to almost nothing).
#[test]
fn the_html_page_is_self_contained_and_not_blank() {
    let Some(browser) = require_tool("chromium", "apt-get install -y chromium") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.html");
    std::fs::write(&blank, "<!doctype html><html><body></body></html>").unwrap();
    let blank = screenshot(&browser, dir.path(), &blank, "blank");
    for (name, fixture) in [("demo", Fixture::new("demo")), ("hostile", hostile_demo())] {
        let page = run(&fixture, &["report", "--format", "html"]);
        assert!(
            !page.contains("<script") && !page.contains("<link"),
            "{name}: {page}"
        );
        let links: Vec<&str> = page.matches("http").collect();
        assert_eq!(
            links.len(),
            page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
            "{name}: only the SVG namespace names a URL"
        );
        assert_eq!(page.matches("<svg").count(), 1, "{name}: the graph");
        let file = dir.path().join(format!("{name}.html"));
        std::fs::write(&file, &page).unwrap();
        let shot = screenshot(&browser, dir.path(), &file, name);
        assert!(
            shot > 4 * blank,
            "{name}: {shot} bytes against a blank {blank}"
        );
    }
}

/// `verify` and `touch` draw no phase graph: `--format dot` is a clear error, exit 2,
/// before anything runs.
#[test]
fn dot_is_for_report_and_fix_only() {
    let fixture = Fixture::new("demo");
    for command in ["verify", "touch"] {
        cache_miss()
            .args([command, "--format", "dot", "--manifest-path"])
            .arg(fixture.manifest())
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "--format dot: `{command}` has no phase graph"
            )));
    }
}
