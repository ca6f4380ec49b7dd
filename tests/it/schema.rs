//! Every `--format json` document validates against its published JSON Schema
//! (`schemas/*.schema.json`, draft 2020-12), with a real validator.

use serde_json::Value;

use crate::common::{CommandExt, Fixture, cache_miss};

/// Asserts that `document` is valid under `schemas/<name>.schema.json`.
pub(crate) fn assert_valid(name: &str, document: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("{name}.schema.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    // `verify`'s schema refers to the report's: both are registered by their `$id`.
    let report_schema: Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_file_name("report.schema.json")).unwrap(),
    )
    .unwrap();
    let registry = jsonschema::Registry::new()
        .add(
            "https://cache-miss.dev/schemas/report.schema.json",
            report_schema,
        )
        .and_then(|registry| registry.prepare())
        .expect("the report schema registers");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        .build(&schema)
        .unwrap_or_else(|err| panic!("{}: not a schema: {err}", path.display()));
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: {}\n{document:#}",
        errors.join("\n")
    );
}

fn json_of(fixture: &Fixture, args: &[&str]) -> Value {
    let output = cache_miss()
        .args(args)
        .arg("--manifest-path")
        .arg(fixture.manifest())
        .args(["--format", "json"])
        .success_stdout();
    serde_json::from_slice(&output).unwrap()
}

macro_rules! schema_checks {
    ($($test:ident => $fixture:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let fixture = Fixture::new($fixture);
            assert_valid("report", &json_of(&fixture, &["report"]));
            assert_valid("phases", &json_of(&fixture, &["phases"]));
            assert_valid("fix", &json_of(&fixture, &["fix"]));
        }
    )*};
}

mod every_fixture {
    use super::*;
    crate::common::with_every_fixture!(schema_checks);
}

#[test]
fn an_error_is_a_json_error_document() {
    let fixture = Fixture::with_phases("demo", "[phases.deps]\nfunction = \"nope\"\n");
    let output = cache_miss()
        .args(["report", "--format", "json", "--manifest-path"])
        .arg(fixture.manifest())
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    assert_valid("error", &serde_json::from_slice(&output).unwrap());
}

#[test]
fn a_schema_rejects_what_breaks_the_contract() {
    let fixture = Fixture::new("demo");
    let mut report = json_of(&fixture, &["report"]);
    report["version"] = serde_json::json!(2);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(!jsonschema::draft202012::is_valid(&schema, &report));
}
