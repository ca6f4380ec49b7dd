//! Golden files: every fixture's report and fix JSON, and every fixture flake's phases
//! written as a phases file. A change in behaviour shows as a snapshot diff to review
//! (`cargo insta review`), never as a silent change.

use std::path::Path;

use crate::common::{CommandExt, Fixture, cache_miss, fixtures_dir};

/// What differs from machine to machine, written as placeholders: the temp dir the
/// fixture was copied to as `[TMP]`, and in a table's header the cargo that resolved it
/// (the machine's, and how the test runner picked it) as `[CARGO]`. The JSON's `cargo`
/// object is redacted where a snapshot is taken.
fn machine_independent(fixture: &Fixture) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let tmp = fixture.dir.path().display().to_string();
    settings.add_filter(&regex::escape(&tmp), "[TMP]");
    settings.add_filter(r"(?m)^cargo: .*$", "cargo: [CARGO]");
    settings
}

fn run_on(fixture: &Fixture, args: &[&str], flake: Option<&Path>) -> String {
    let mut command = cache_miss();
    command
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest());
    if let Some(flake) = flake {
        command.arg("--flake").arg(flake);
    }
    String::from_utf8(command.success_stdout()).expect("UTF-8 output")
}

/// JSON as the tool printed it, its keys in their order (serde_json's `Value` sorts
/// them), for insta's JSON snapshots and redactions.
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

fn json(text: &str) -> Json {
    serde_json::from_str(text).expect("JSON output")
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(text) => serializer.serialize_str(text),
            Json::Array(items) => serializer.collect_seq(items),
            Json::Object(fields) => serializer.collect_map(fields.iter().map(|(k, v)| (k, v))),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .ok_or_else(|| E::custom("not a JSON number"))
    }
    fn visit_str<E>(self, text: &str) -> Result<Json, E> {
        Ok(Json::String(text.to_string()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = Vec::new();
        while let Some(field) = map.next_entry()? {
            fields.push(field);
        }
        Ok(Json::Object(fields))
    }
}

macro_rules! fixture_goldens {
    ($($test:ident => $fixture:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let fixture = Fixture::new($fixture);
            machine_independent(&fixture).bind(|| {
                let report = json(&run_on(&fixture, &["report", "--format", "json"], None));
                insta::assert_json_snapshot!(concat!("report-", $fixture), report, {
                    ".cargo" => "[CARGO]"
                });
                let fix = run_on(&fixture, &["fix", "--format", "json"], None);
                insta::assert_snapshot!(concat!("fix-", $fixture), fix);
            });
        }
    )*};
}

crate::common::with_every_fixture!(fixture_goldens);

macro_rules! flake_goldens {
    ($($test:ident => $case:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let demo = Fixture::new("demo");
            let flake = fixtures_dir().join("flakes").join($case).join("flake.nix");
            let args = ["phases", "--format", "toml", "--system", "x86_64-linux"];
            let phases = run_on(&demo, &args, Some(&flake));
            machine_independent(&demo).bind(|| {
                insta::assert_snapshot!(concat!("phases-flake-", $case), phases);
            });
        }
    )*};
}

flake_goldens! {
    flake_quickstart => "quickstart",
    flake_quickstart_workspace => "quickstart-workspace",
    flake_common_args => "common-args",
    flake_per_member => "per-member",
    flake_mkpkg => "mkpkg",
    flake_per_package_deps => "per-package-deps",
    flake_imported => "imported",
    flake_flake_parts => "flake-parts",
    flake_unresolved => "unresolved",
    flake_toolchain => "toolchain",
    flake_nixpkgs_helpers => "nixpkgs-helpers",
    flake_flake_utils_self => "flake-utils-self",
    flake_merged_conditional => "merged-conditional",
    flake_not_evaluable => "not-evaluable",
    flake_blueprint => "blueprint",
    flake_flake_parts_modules => "flake-parts-modules",
    flake_path_arithmetic => "path-arithmetic",
    flake_utils_variants => "flake-utils-variants",
    flake_cross_packages => "cross-packages",
}

/// The phases file the flake reader writes reads back to the same phases.
#[test]
fn written_phases_files_read_back_to_the_same_phases() {
    let demo = Fixture::new("demo");
    for case in ["common-args", "per-package-deps", "toolchain"] {
        let flake = fixtures_dir().join("flakes").join(case).join("flake.nix");
        let toml = run_on(&demo, &["phases", "--format", "toml"], Some(&flake));
        let file = demo.dir.path().join(format!("{case}.toml"));
        std::fs::write(&file, toml).expect("write phases file");
        let from_flake = run_on(&demo, &["phases", "--format", "json"], Some(&flake));
        let mut command = cache_miss();
        command
            .args(["phases", "--format", "json", "--manifest-path"])
            .arg(demo.manifest())
            .arg("--phases")
            .arg(&file);
        let from_file = String::from_utf8(command.success_stdout()).expect("UTF-8 output");
        let commands = |json: &str| {
            let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
            value["phases"]
                .as_array()
                .expect("phases")
                .iter()
                .map(|p| (p["name"].clone(), p["commands"].clone(), p["env"].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(commands(&from_flake), commands(&from_file), "{case}");
    }
}

/// A workspace at real size (twelve members, eleven phases, 130 misses): the table report
/// fits in 200 lines. It says each phase's shared cause once, shows at most 10 rows a
/// phase, names an earlier phase instead of repeating its fix or its whole table, and keeps
/// the long details for `--all` (which shows every row) and JSON.
#[test]
fn large_report_fits_on_a_screen() {
    let fixture = Fixture::new("large");
    let report = run_on(&fixture, &["report"], None);
    let all = run_on(&fixture, &["report", "--all"], None);
    assert!(
        report.lines().count() < 200,
        "{} lines:\n{report}",
        report.lines().count()
    );
    assert!(all.lines().count() > report.lines().count());
    assert!(report.contains("cause of every row: this phase: the default members (12)"));
    assert!(report.contains("the default members (12): member-01, member-02,"));
    assert!(report.contains("the same root misses, causes and fixes as `nextest`."));
    assert!(report.contains("fix: the same as for `clippy`"));
    assert!(
        all.contains("debug_assertions") && !report.contains("debug_assertions"),
        "the profile settings that differ are listed with --all only"
    );
    machine_independent(&fixture).bind(|| {
        insta::assert_snapshot!("report-table-large", report);
    });
}
