//! The phases file (`--phases FILE`): one TOML table per phase under `phases`, with
//! crane's attribute names.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use toml::Value;

use crate::located::{LocatedError, SourceLocation};
use crate::phase::{AttrValue, PhaseSpec};
use crate::text;

/// Reads a phases file into phase specs, in file order; `shown_as` names it in errors
/// and origins.
pub fn read_phases_file(path: &Path, shown_as: &str) -> Result<Vec<PhaseSpec>> {
    let text = std::fs::read_to_string(path).map_err(|err| LocatedError {
        location: SourceLocation::file(shown_as),
        message: format!("cannot read the phases file: {err}"),
    })?;
    parse_phases(&text, shown_as)
}

/// Parses phases-file text; `file` names it in errors and origins. Errors about one
/// place in the text are [`LocatedError`]s naming its line and (character) column.
pub(crate) fn parse_phases(text: &str, file: &str) -> Result<Vec<PhaseSpec>> {
    let places = Places::new(text, file);
    let spans = toml::de::DeTable::parse(text).map_err(|err| syntax_error(&err, &places))?;
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| syntax_error(&err, &places))?;
    let spans = spans.get_ref();
    let mut specs = Vec::new();
    for (key, value) in table {
        let at = places.of_key(spans, &[&key]);
        let Value::Table(phases) = value else {
            return Err(at.error(format!(
                "top-level {} is not a table; phases go under [phases.NAME]",
                text::echo(&key)
            )));
        };
        if key != "phases" {
            return Err(at.error(format!(
                "unknown top-level table {}; phases go under [phases.NAME]",
                text::echo(&key)
            )));
        }
        for (name, phase) in phases {
            let at = places.of_key(spans, &["phases", &name]);
            let Value::Table(attrs) = phase else {
                return Err(at.error(format!(
                    "phases.{} must be a table ([phases.NAME])",
                    text::echo(&name)
                )));
            };
            specs.push(phase_spec(&name, attrs, &places, spans)?);
        }
    }
    Ok(specs)
}

fn syntax_error(err: &toml::de::Error, places: &Places) -> anyhow::Error {
    let message = format!("invalid TOML: {}", err.message().trim());
    match err.span() {
        Some(span) => places.at(span.start).error(message),
        None => LocatedError {
            location: SourceLocation::file(places.file),
            message,
        }
        .into(),
    }
}

/// Where byte offsets of a text are, as users count: 1-based lines and characters.
struct Places<'t> {
    text: &'t str,
    file: &'t str,
    /// The byte offset each line starts at.
    line_starts: Vec<usize>,
}

impl<'t> Places<'t> {
    fn new(text: &'t str, file: &'t str) -> Places<'t> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Places {
            text,
            file,
            line_starts,
        }
    }

    fn at(&self, offset: usize) -> Place {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |before| before.chars().count() + 1);
        Place(SourceLocation {
            file: self.file.to_string(),
            line: Some(line),
            column: Some(column),
        })
    }

    /// Where the key at `path` (table names, then the key) is written; the whole file when
    /// the parser kept no span for it.
    fn of_key(&self, root: &toml::de::DeTable, path: &[&str]) -> Place {
        let mut table = root;
        let mut found = None;
        for key in path {
            let Some((k, v)) = table.get_key_value(*key) else {
                break;
            };
            found = Some(k.span().start);
            match v.get_ref() {
                toml::de::DeValue::Table(inner) => table = inner,
                _ => break,
            }
        }
        match found {
            Some(offset) => self.at(offset),
            None => Place(SourceLocation::file(self.file)),
        }
    }
}

/// A place in a phases file.
struct Place(SourceLocation);

impl Place {
    fn error(&self, message: String) -> anyhow::Error {
        LocatedError {
            location: self.0.clone(),
            message,
        }
        .into()
    }
}

fn phase_spec(
    name: &str,
    table: toml::Table,
    places: &Places,
    spans: &toml::de::DeTable,
) -> Result<PhaseSpec> {
    let header = places.of_key(spans, &["phases", name]).0;
    let mut spec = PhaseSpec {
        name: name.to_string(),
        origin: Some(header.without_column()),
        ..PhaseSpec::default()
    };
    for (attr, value) in table {
        let at = places.of_key(spans, &["phases", name, &attr]);
        if attr == "env" {
            spec.env = env_table(name, value, places, spans)?;
            continue;
        }
        let value = attr_value(&value).map_err(|why| {
            at.error(format!(
                "phase {}: attribute {}: {why}",
                text::echo(name),
                text::echo(&attr)
            ))
        })?;
        spec.attr_locations.insert(attr.clone(), at.0);
        spec.attrs.insert(attr, value);
    }
    Ok(spec)
}

fn env_table(
    phase: &str,
    value: Value,
    places: &Places,
    spans: &toml::de::DeTable,
) -> Result<BTreeMap<String, String>> {
    let Value::Table(table) = value else {
        return Err(places
            .of_key(spans, &["phases", phase, "env"])
            .error(format!(
                "phase {}: `env` must be a table of strings",
                text::echo(phase)
            )));
    };
    table
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name, s)),
            Value::Integer(i) => Ok((name, i.to_string())),
            Value::Boolean(b) => Ok((name, if b { "1".into() } else { String::new() })),
            other => Err(places
                .of_key(spans, &["phases", phase, "env", &name])
                .error(format!(
                    "phase {}: env.{} must be a string, found {}",
                    text::echo(phase),
                    text::echo(&name),
                    other.type_str()
                ))),
        })
        .collect()
}

/// A TOML value as a crane attribute; what crane has no such value for, why not.
fn attr_value(value: &Value) -> Result<AttrValue, String> {
    Ok(match value {
        Value::String(s) => AttrValue::Str(s.clone()),
        Value::Boolean(b) => AttrValue::Bool(*b),
        Value::Integer(i) => AttrValue::Int(*i),
        Value::Array(items) => {
            AttrValue::List(items.iter().map(attr_value).collect::<Result<_, _>>()?)
        }
        other => {
            return Err(format!(
                "{} values are not crane attributes",
                other.type_str()
            ));
        }
    })
}

/// Writes phase specs as a phases file: `read_phases_file` reads it back to the same
/// attributes and environment. What the schema has no place for (where a phase was found,
/// its toolchain, what is approximate, values not known statically) becomes comments.
pub fn write_phases_file(specs: &[PhaseSpec]) -> String {
    let mut out = String::new();
    for spec in specs {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&spec_comments(spec));
        let mut table = toml::Table::new();
        for (attr, value) in &spec.attrs {
            if let Some(value) = toml_value(attr, value) {
                table.insert(attr.clone(), value);
            }
        }
        if !spec.env.is_empty() {
            let env = spec
                .env
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            table.insert("env".to_string(), Value::Table(env));
        }
        let phases = toml::Table::from_iter([(spec.name.clone(), Value::Table(table))]);
        let document = toml::Table::from_iter([("phases".to_string(), Value::Table(phases))]);
        // A table of strings, booleans, integers and arrays always serializes.
        out.push_str(&visible_toml(
            toml::to_string(&document).unwrap_or_default(),
        ));
    }
    out
}

/// `toml` with the characters its writer leaves raw (C1 controls such as the terminal's
/// CSI, bidirectional overrides, line separators) as `\uXXXX` escapes, when that reads
/// back to the same values (it does in basic strings, not in literal ones).
fn visible_toml(toml: String) -> String {
    if !toml.chars().any(text::is_unsafe) {
        return toml;
    }
    let mut escaped = String::with_capacity(toml.len());
    for c in toml.chars() {
        if text::is_unsafe(c) && c != '\n' && c != '\t' {
            escaped.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            escaped.push(c);
        }
    }
    let same = matches!(
        (toml.parse::<toml::Table>(), escaped.parse::<toml::Table>()),
        (Ok(a), Ok(b)) if a == b
    );
    if same { escaped } else { toml }
}

fn spec_comments(spec: &PhaseSpec) -> String {
    let mut lines = Vec::new();
    if let Some(origin) = &spec.origin {
        lines.push(format!("defined at {origin}"));
    }
    if let Some(toolchain) = &spec.toolchain {
        lines.push(format!("toolchain: {toolchain}"));
    }
    if let Some(failure) = &spec.not_evaluable {
        lines.push(format!(
            "not evaluable by Nix: {}: {}",
            failure.location, failure.message
        ));
    }
    lines.extend(
        spec.approximations
            .iter()
            .map(|a| format!("approximate: {a}")),
    );
    lines.extend(
        spec.attrs
            .iter()
            .filter(|(attr, v)| toml_value(attr, v).is_none())
            .map(|(attr, v)| match contains_unknown(v) {
                true => format!("{attr} = {v} (not known statically)"),
                false => format!("{attr} = {v} (a phases file cannot say this)"),
            }),
    );
    lines
        .iter()
        .map(|line| format!("# {}\n", text::one_line(line)))
        .collect()
}

fn contains_unknown(value: &AttrValue) -> bool {
    match value {
        AttrValue::Unknown(_) => true,
        AttrValue::List(items) => items.iter().any(contains_unknown),
        _ => false,
    }
}

/// The TOML form of an attribute; `None` for what the schema cannot hold.
fn toml_value(attr: &str, value: &AttrValue) -> Option<Value> {
    Some(match value {
        AttrValue::Str(s) => Value::String(s.clone()),
        AttrValue::Bool(b) => Value::Boolean(*b),
        AttrValue::Int(i) => Value::Integer(*i),
        AttrValue::List(items) if !items.iter().any(contains_unknown) => Value::Array(
            items
                .iter()
                .filter_map(|item| toml_value(attr, item))
                .collect(),
        ),
        // The phases file says "no artifacts" with an empty string.
        AttrValue::Null if attr == "cargoArtifacts" => Value::String(String::new()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_phases_in_file_order_with_env_and_origins() {
        let text = r#"
[phases.deps]
function = "buildDepsOnly"
doCheck = false

[phases.app]
function = "buildPackage"
cargoArtifacts = "deps"
CARGO_PROFILE_RELEASE_LTO = "fat"

[phases.app.env]
RUSTFLAGS = "--cfg loom"
"#;
        let specs = parse_phases(text, "phases.toml").unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].name, "deps");
        assert_eq!(specs[0].attrs["doCheck"], AttrValue::Bool(false));
        assert_eq!(
            specs[0].origin,
            Some(SourceLocation::line("phases.toml", 2))
        );
        assert_eq!(specs[1].name, "app");
        assert_eq!(specs[1].env["RUSTFLAGS"], "--cfg loom");
        assert_eq!(
            specs[1].attrs["CARGO_PROFILE_RELEASE_LTO"],
            AttrValue::Str("fat".into())
        );
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let err = parse_phases("[phases.deps]\nfunction = \n", "p.toml").unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.starts_with("p.toml:2:12: invalid TOML"),
            "{message}"
        );
    }

    #[test]
    fn rejects_tables_outside_phases() {
        let err =
            parse_phases("[phase.deps]\nfunction = \"buildDepsOnly\"\n", "p.toml").unwrap_err();
        assert!(format!("{err:#}").contains("unknown top-level table `phase`"));
    }
}
