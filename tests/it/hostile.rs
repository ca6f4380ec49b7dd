//! Hostile and careless input: output that cannot be turned against the reader, errors of
//! a readable size, linear time on long chains and cells, exit code 2 on every failure to
//! write, and the fuzz targets' entry points under deterministic random input.

use crate::common;

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Fixture;
use predicates::prelude::*;
use serde_json::Value;

fn run(fixture: &Fixture, args: &[&str]) -> assert_cmd::assert::Assert {
    common::cache_miss()
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .assert()
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// A one-line TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn a_phase_name_cannot_end_the_comment_of_a_nix_snippet() {
    let evil = "x\n  evil = true; #";
    let phases = fs::read_to_string(common::fixtures_dir().join("select/phases.toml"))
        .unwrap()
        .replace("[phases.deps]", &format!("[phases.{}]", toml_string(evil)))
        .replace("\"deps\"", &toml_string(evil));
    let fixture = Fixture::with_phases("select", &phases);
    for format in ["table", "markdown", "json"] {
        let assert = run(&fixture, &["fix", "--format", format]).success();
        let out = stdout_of(&assert);
        let nix: Vec<String> = if format == "json" {
            let json: Value = serde_json::from_str(&out).unwrap();
            json["proposals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["nix"].as_str().unwrap().to_string())
                .collect()
        } else {
            vec![out.clone()]
        };
        assert!(!nix.is_empty(), "{out}");
        for snippet in nix {
            assert!(
                !snippet.lines().any(|l| l.trim_start().starts_with("evil")),
                "{format}: a live injected line:\n{snippet}"
            );
            assert!(
                snippet.contains("# buildDepsOnly `x\\n  evil = true; #`"),
                "{format}:\n{snippet}"
            );
        }
    }
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let evil = "x\u{1b}]0;pwned\u{7}\u{0}\r\u{9b}31m";
    let fixture = Fixture::with_phases(
        "clean",
        &format!(
            "[phases.{}]\nfunction = \"buildDepsOnly\"\n\n[phases.{0}.env]\nGREETING = {}\n",
            toml_string(evil),
            toml_string("hi\u{1b}[2J")
        ),
    );
    for args in [
        &["phases"][..],
        &["phases", "--format", "markdown"],
        &["phases", "--format", "toml"],
        &["report"],
        &["report", "--format", "markdown"],
    ] {
        let assert = run(&fixture, args).success();
        let out = stdout_of(&assert);
        assert!(
            !out.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{args:?}: {out:?}"
        );
        let shown = if args.contains(&"toml") {
            "\\u001B]0;pwned\\u0007"
        } else {
            "\\u{1b}]0;pwned\\u{7}"
        };
        assert!(out.contains(shown), "{args:?}: {out}");
    }
}

#[test]
fn errors_show_long_values_cut_with_their_size() {
    let huge = "d".repeat(5 * 1024 * 1024);
    let fixture = Fixture::with_phases(
        "clean",
        &format!(
            "[phases.deps]\nfunction = \"buildDepsOnly\"\n\n[phases.app]\nfunction = \"cargoBuild\"\ncargoArtifacts = \"{huge}\"\n"
        ),
    );
    let assert = run(&fixture, &["report"]).code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("a 5,242,880-byte string starting `ddd"),
        "{}",
        &stderr[..stderr.len().min(500)]
    );
    assert!(stderr.len() < 1000, "{} bytes of error", stderr.len());
}

#[test]
fn a_long_typo_is_not_compared_with_every_attribute() {
    let typo = "x".repeat(1_000_000);
    let fixture = Fixture::with_phases(
        "clean",
        &format!("[phases.deps]\nfunction = \"buildDepsOnly\"\n{typo} = 1\n"),
    );
    let started = Instant::now();
    let assert = run(&fixture, &["phases"]).code(2);
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("unknown attribute a 1,000,000-byte string"),
        "{stderr}"
    );
    assert!(stderr.contains("phases.toml:3:1"), "{stderr}");
}

/// `deps` and `length` phases each taking the artifacts of the one before.
fn chain(length: usize) -> String {
    let mut text = String::from("[phases.deps]\nfunction = \"buildDepsOnly\"\n");
    let mut previous = "deps".to_string();
    for i in 0..length {
        text.push_str(&format!(
            "\n[phases.p{i}]\nfunction = \"cargoClippy\"\ncargoArtifacts = \"{previous}\"\n"
        ));
        previous = format!("p{i}");
    }
    text
}

#[test]
fn long_artifact_chains_take_linear_time() {
    let fixture = Fixture::with_phases("clean", &chain(20_000));
    let started = Instant::now();
    let assert = run(&fixture, &["phases", "--format", "json"]).success();
    let listed = started.elapsed();
    let json: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(json["phases"].as_array().unwrap().len(), 20_001);
    // Loading and checking 20,000 phases was hours before (cubic cycle check).
    assert!(listed < Duration::from_secs(60), "{listed:?}");

    // A whole report on the same chain: each phase's diff is made once per distinct set
    // of cargo calls, not per phase (a 20,000-phase chain took over 30 s in a release
    // build when every phase rebuilt its inherited units from the whole chain above it).
    let started = Instant::now();
    let report = fixture.report_json(&[]);
    let reported = started.elapsed();
    let phases = report["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 20_001);
    assert_eq!(common::phase(&report, "p19999")["units"]["missed"], 0);
    assert!(
        common::phase(&report, "p19999")["units"]["cached"]
            .as_u64()
            .is_some_and(|cached| cached > 0)
    );
    assert!(reported < Duration::from_secs(60), "{reported:?}");
}

#[test]
fn a_cell_of_a_million_characters_is_laid_out() {
    let name = "n".repeat(1_000_000);
    let fixture = Fixture::with_phases(
        "clean",
        &format!("[phases.{name}]\nfunction = \"buildDepsOnly\"\n"),
    );
    let started = Instant::now();
    let assert = run(&fixture, &["phases"]).success();
    assert!(started.elapsed() < Duration::from_secs(30));
    let out = stdout_of(&assert);
    assert!(
        out.lines().all(|l| l.chars().count() <= 200),
        "a line too long"
    );
}

#[test]
fn a_stdout_that_cannot_be_written_exits_2() {
    let fixture = Fixture::new("clean");
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    run_with(&fixture, Stdio::from(full), Stdio::piped())
        .code(2)
        .stderr(predicate::str::contains("cannot write the output"))
        .stderr(predicate::str::contains("panicked").not());
    let read_only = fs::File::open(fixture.manifest()).unwrap();
    run_with(&fixture, Stdio::from(read_only), Stdio::piped())
        .code(2)
        .stderr(predicate::str::contains("cannot write the output"));
}

#[test]
fn a_stderr_that_cannot_be_written_exits_2_without_a_panic() {
    // An error, and stderr on a full disk or read-only: still 2, not 101.
    let fixture = Fixture::with_phases("clean", "[phases.deps]\nfunction = \"buildDepOnly\"\n");
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    run_with(&fixture, Stdio::piped(), Stdio::from(full)).code(2);
    let read_only = fs::File::open(fixture.manifest()).unwrap();
    run_with(&fixture, Stdio::piped(), Stdio::from(read_only)).code(2);
    // A warning that cannot be said is a failure too.
    let fixture = Fixture::new("clean");
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    command(
        &["report", "--timings"],
        &fixture,
        Stdio::piped(),
        Stdio::from(full),
    )
    .code(2);
}

fn run_with(fixture: &Fixture, stdout: Stdio, stderr: Stdio) -> assert_cmd::assert::Assert {
    command(&["phases"], fixture, stdout, stderr)
}

fn command(
    args: &[&str],
    fixture: &Fixture,
    stdout: Stdio,
    stderr: Stdio,
) -> assert_cmd::assert::Assert {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("cache-miss"));
    command
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .env("CARGO_TERM_COLOR", "never")
        .stdout(stdout)
        .stderr(stderr);
    let output = command.output().unwrap();
    assert_cmd::assert::Assert::new(output)
}

#[test]
fn json_errors_are_json_on_stdout_with_the_attribute_line_and_character_column() {
    // A type error points at the attribute's own line, not the `[phases.deps]` header.
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\ndoCheck = \"yes\"\n",
    );
    let error = json_error(&fixture, &["report"]);
    assert_eq!(error["file"], "phases.toml");
    assert_eq!(error["line"], 3);
    assert_eq!(error["column"], 1);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("attribute `doCheck` must be a boolean"),
        "{error}"
    );
    // Columns count characters: `é` is two bytes.
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\nname = \"é\" x\n",
    );
    let error = json_error(&fixture, &["phases"]);
    assert_eq!(error["line"], 3);
    assert_eq!(error["column"], 12, "{error}");
    // TOML values crane has no use for name their line too.
    let fixture = Fixture::with_phases(
        "clean",
        "[phases.deps]\nfunction = \"buildDepsOnly\"\n\ncargoExtraArgs = 1.5\n",
    );
    let error = json_error(&fixture, &["fix"]);
    assert_eq!(error["line"], 4, "{error}");
    // An error with no place in a file still is a JSON object.
    let error = json_error(&Fixture::new("clean"), &["report", "--only", "nothing"]);
    assert!(error["file"].is_null(), "{error}");
}

fn json_error(fixture: &Fixture, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let assert = run(fixture, &all).code(2);
    let json: Value = serde_json::from_str(&stdout_of(&assert)).expect("a JSON error");
    assert_eq!(json["version"], 1);
    json["error"].clone()
}

#[test]
fn set_addresses_quoted_phase_names_and_refuses_a_whole_env() {
    let fixture = Fixture::with_phases(
        "dev-deps",
        &fs::read_to_string(common::fixtures_dir().join("dev-deps/phases.toml"))
            .unwrap()
            .replace("[phases.deps]", "[phases.\"my.deps\"]")
            .replace("\"deps\"", "\"my.deps\""),
    );
    let report = fixture.report_json(&["--set", "\"my.deps\".doCheck=true"]);
    assert_eq!(common::phase(&report, "tests")["missed_before"], 2);
    assert_eq!(common::phase(&report, "tests")["units"]["missed"], 0);
    run(&fixture, &["report", "--set", "tests.env=x"])
        .code(2)
        .stderr(predicate::str::contains(
            "set one with PHASE.env.NAME=VALUE",
        ));
    run(&fixture, &["report", "--set", "\"unclosed.doCheck=true"])
        .code(2)
        .stderr(predicate::str::contains("quote a phase name"));
}

#[test]
fn a_phase_with_an_empty_name_is_an_error() {
    let fixture = Fixture::with_phases("clean", "[phases.\"\"]\nfunction = \"buildDepsOnly\"\n");
    run(&fixture, &["phases"])
        .code(2)
        .stderr(predicate::str::contains(
            "a phase has an empty name (phases.toml:1)",
        ));
}

#[test]
fn a_path_dependency_outside_the_workspace_is_a_finding() {
    let fixture = crate::common::with_outside_path_dependency();
    let report = fixture.report_json(&[]);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "path-dependency-outside-workspace")
        .unwrap_or_else(|| panic!("no finding: {}", report["findings"]));
    assert_eq!(finding["severity"], "error");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("the path dependency `outside`"),
        "{finding}"
    );
}

/// xorshift64*: the same inputs on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that matter to the readers: quotes, brackets, escapes, operators, keywords.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "''",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    "${",
    "$",
    "\\",
    "\n",
    "=",
    ".",
    ",",
    ";",
    "#",
    "//",
    "rec ",
    "let ",
    "in ",
    "with ",
    "inherit ",
    "import ./x.nix",
    "<<EOF\n",
    "&&",
    "|",
    "`",
    "cargo ",
    "--release",
    "0",
    "-1",
    "9999999999999999999",
    "\u{0}",
    "\u{1b}",
    "é",
    "…",
    "𝄞",
    "e\u{301}",
    "中",
    "|",
    "{\"index\":99}",
    "null",
    "true",
    "[[",
    "]]",
];

/// A seed changed by a few random edits: deletions, duplications, token insertions.
fn mutate(seed: &str, random: &mut Random) -> String {
    let mut text: Vec<char> = seed.chars().collect();
    for _ in 0..1 + random.below(8) {
        let at = random.below(text.len() + 1);
        match random.below(4) {
            0 if !text.is_empty() => {
                let end = (at + random.below(16)).min(text.len());
                text.drain(at.min(end)..end);
            }
            1 if !text.is_empty() => {
                let start = random.below(text.len());
                let end = (start + random.below(64)).min(text.len());
                let piece: Vec<char> = text[start..end].to_vec();
                text.splice(at..at, piece);
            }
            _ => {
                let token = TOKENS[random.below(TOKENS.len())];
                text.splice(at..at, token.chars());
            }
        }
    }
    text.into_iter().collect()
}

/// Runs `target` on every seed of its corpus and on `count` mutations of them; each call
/// must return (without a panic) within `limit`.
fn property(target: &str, run: fn(&str), count: usize) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    let limit = Duration::from_secs(5);
    let mut random = Random(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    let inputs = seeds.clone().into_iter().chain((0..count).map(|_| {
        let seed = &seeds[random.below(seeds.len())];
        mutate(seed, &mut random)
    }));
    for input in inputs {
        let started = Instant::now();
        run(&input);
        let took = started.elapsed();
        assert!(took < limit, "{target} took {took:?} on {input:?}");
    }
}

#[test]
fn phases_file_reader_survives_random_input() {
    property("phases_file", cache_miss::fuzzing::phases_file, 400);
}

#[test]
fn flake_reader_survives_random_input() {
    property("flake", cache_miss::fuzzing::flake, 300);
}

#[test]
fn shell_lexer_survives_random_input() {
    property("shell", cache_miss::fuzzing::shell, 400);
}

#[test]
fn text_layout_survives_random_multi_byte_input() {
    property("text_layout", cache_miss::fuzzing::text_layout, 300);
}

#[test]
fn unit_graph_reader_survives_random_input() {
    property("unit_graph", cache_miss::fuzzing::unit_graph, 400);
}

/// Multi-byte characters (2, 3 and 4 bytes, a combining accent, a wide character)
/// cycled into a name of `length` characters.
fn multi_byte_name(length: usize) -> String {
    const CHARS: &[&str] = &["é", "…", "𝄞", "a", "e\u{301}", "中", "-"];
    CHARS
        .iter()
        .cycle()
        .flat_map(|c| c.chars())
        .take(length)
        .collect()
}

/// Every width cache-miss cuts or wraps text at (names in errors, words in cells, cut
/// values, cause details, the narrowest terminal), and one character either side.
const CUT_WIDTHS: &[usize] = &[10, 24, 60, 64, 100];

/// The `select` fixture in a directory whose path is multi-byte, its packages renamed with
/// multi-byte names (the lock file updated), and `phases` as its phases file.
fn multi_byte_fixture(phases: &str) -> Fixture {
    let plain = Fixture::new("select");
    let name = "sélect…𝄞".to_string();
    fs::rename(plain.root(), plain.dir.path().join(&name)).unwrap();
    let fixture = Fixture {
        dir: plain.dir,
        name,
    };
    let rename = |file: &str, from: &str, to: &str| {
        let path = fixture.root().join(file);
        let text = fs::read_to_string(&path).unwrap().replace(from, to);
        fs::write(path, text).unwrap();
    };
    rename("cli/Cargo.toml", "name = \"cli\"", "name = \"clé_中\"");
    rename("app/Cargo.toml", "name = \"app\"", "name = \"appé\"");
    fs::write(fixture.root().join("phases.toml"), phases).unwrap();
    let status = std::process::Command::new("cargo")
        .args(["metadata", "--offline", "--format-version", "1"])
        .current_dir(fixture.root())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "cannot update the lock file");
    fixture
}

/// The panic found on a real flake was a byte offset inside `…`: the whole pipeline on
/// multi-byte names, paths and package names, at every width the output cuts text.
#[test]
fn multi_byte_text_at_every_cut_width_is_never_a_panic() {
    let mut phases = format!(
        "[phases.{}]\nfunction = \"buildDepsOnly\"\ncargoExtraArgs = \"--locked -p appé\"\ndoCheck = false\n",
        toml_string(&multi_byte_name(3))
    );
    let deps = toml_string(&multi_byte_name(3));
    for width in CUT_WIDTHS.iter().flat_map(|w| [w - 1, *w, w + 1]) {
        let name = toml_string(&multi_byte_name(width));
        phases.push_str(&format!(
            "\n[phases.{name}]\nfunction = \"cargoClippy\"\ncargoArtifacts = {deps}\ncargoExtraArgs = \"--locked -p clé_中\"\n\n[phases.{name}.env]\nNOTE = {name}\n"
        ));
    }
    let fixture = multi_byte_fixture(&phases);
    for args in [
        &["report"][..],
        &["report", "--format", "markdown"],
        &["report", "--format", "json"],
        &["report", "--format", "github"],
        &["phases"],
        &["phases", "--format", "toml"],
        &["fix"],
    ] {
        for columns in ["20", "80", "200"] {
            let assert = common::cache_miss()
                .env("COLUMNS", columns)
                .args(args)
                .arg("--manifest-path")
                .arg(fixture.manifest())
                .assert();
            let output = assert.get_output();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.code() == Some(0),
                "{args:?} at {columns} columns: {:?}\n{stderr}",
                output.status
            );
            assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
        }
    }
}

/// A flake with multi-byte text in every place the reader keeps: comments, a toolchain
/// expression, pnames, extra args, environment values, phase attribute names.
#[test]
fn a_flake_full_of_multi_byte_text_is_never_a_panic() {
    let fixture = multi_byte_fixture("");
    fs::remove_file(fixture.root().join("phases.toml")).unwrap();
    let mut checks = String::new();
    for width in CUT_WIDTHS.iter().flat_map(|w| [w - 1, *w, w + 1]) {
        let name = multi_byte_name(width);
        checks.push_str(&format!(
            "        \"{name}\" = craneLib.cargoClippy (commonArgs // {{ inherit cargoArtifacts; pname = \"{name}\"; NOTE = \"{name}\"; cargoClippyExtraArgs = \"--all-targets -- -D {name}\"; }});\n"
        ));
    }
    let flake = format!(
        r#"{{
  description = "…é𝄞 a flake in many scripts: 中文";
  inputs.crane.url = "github:ipetkov/crane";
  outputs = {{ nixpkgs, crane, rust-overlay, ... }}:
    let
      pkgs = import nixpkgs {{ system = "x86_64-linux"; overlays = [ (import rust-overlay) ]; }};
      # a comment … with 𝄞
      craneLib = (crane.mkLib pkgs).overrideToolchain (p: p.rust-bin.fromRustupToolchain {{ targets = [ "…" ]; channel = "é"; }});
      commonArgs = {{ src = craneLib.cleanCargoSource ./.; pname = "appé…"; strictDeps = true; }};
      cargoArtifacts = craneLib.buildDepsOnly (commonArgs // {{ cargoExtraArgs = "--locked -p appé"; }});
    in
    {{
      packages.x86_64-linux.default = craneLib.buildPackage (commonArgs // {{ inherit cargoArtifacts; cargoExtraArgs = "--locked -p clé_中"; }});
      checks.x86_64-linux = {{
{checks}      }};
    }};
}}
"#
    );
    fs::write(fixture.root().join("flake.nix"), flake).unwrap();
    for args in [
        &["report"][..],
        &["report", "--format", "json"],
        &["phases"],
        &["fix"],
    ] {
        let assert = common::cache_miss()
            .args(args)
            .arg("--manifest-path")
            .arg(fixture.manifest())
            .assert();
        let output = assert.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.code() == Some(0),
            "{args:?}: {:?}\n{stderr}",
            output.status
        );
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
        assert!(
            args == ["fix"] || stdout.contains("𝄞"),
            "{args:?}: the phases are read:\n{stdout}"
        );
    }
}

/// The panic hook, the last line of defence: one line naming the bug's place, exit 2, and
/// a JSON error for a JSON reader.
#[test]
fn a_panic_is_an_internal_error_with_its_location_and_exit_2() {
    let fixture = Fixture::new("clean");
    for format in ["table", "json"] {
        let assert = common::cache_miss()
            .env("CACHE_MISS_TEST_PANIC", "1")
            .args(["report", "--format", format, "--manifest-path"])
            .arg(fixture.manifest())
            .assert()
            .code(2);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.starts_with("internal error, please report: cache-miss "),
            "{stderr}"
        );
        assert!(
            stderr.contains("panicked at src/main.rs:") && stderr.contains("asked for"),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        if format == "json" {
            let json: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
            assert!(json["error"]["message"].as_str().is_some(), "{json}");
        }
    }
}
