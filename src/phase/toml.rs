//! The phases file (`--phases FILE`): one TOML table per phase under `phases`, with
//! crane's attribute names.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use toml::Value;

use super::spec::{AttrValue, PhaseSpec, SourceLocation};

/// Reads a phases file into phase specs, in file order; `shown_as` names it in errors
/// and origins.
pub fn read_phases_file(path: &Path, shown_as: &str) -> Result<Vec<PhaseSpec>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read phases file {}", path.display()))?;
    parse_phases(&text, shown_as)
}

/// Parses phases-file text; `file` names it in errors and origins.
pub fn parse_phases(text: &str, file: &str) -> Result<Vec<PhaseSpec>> {
    let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
        anyhow::anyhow!("{file}: invalid TOML: {}", one_line(&err, text))
    })?;
    let mut specs = Vec::new();
    for (key, value) in table {
        let Value::Table(phases) = value else {
            bail!("{file}: top-level `{key}` is not a table; phases go under [phases.NAME]");
        };
        if key != "phases" {
            bail!("{file}: unknown top-level table `{key}`; phases go under [phases.NAME]");
        }
        for (name, phase) in phases {
            let Value::Table(attrs) = phase else {
                bail!("{file}: `phases.{name}` must be a table ([phases.{name}])");
            };
            specs.push(phase_spec(&name, attrs, file, text)?);
        }
    }
    Ok(specs)
}

fn phase_spec(name: &str, table: toml::Table, file: &str, text: &str) -> Result<PhaseSpec> {
    let mut spec = PhaseSpec {
        name: name.to_string(),
        origin: header_line(text, name).map(|line| SourceLocation::line(file, line)),
        ..PhaseSpec::default()
    };
    for (attr, value) in table {
        if attr == "env" {
            spec.env = env_table(name, value, file)?;
            continue;
        }
        let value = attr_value(&value)
            .with_context(|| format!("{file}: phase `{name}`: attribute `{attr}`"))?;
        spec.attrs.insert(attr, value);
    }
    Ok(spec)
}

fn env_table(phase: &str, value: Value, file: &str) -> Result<BTreeMap<String, String>> {
    let Value::Table(table) = value else {
        bail!("{file}: phase `{phase}`: `env` must be a table of strings");
    };
    table
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name, s)),
            Value::Integer(i) => Ok((name, i.to_string())),
            Value::Boolean(b) => Ok((name, if b { "1".into() } else { String::new() })),
            other => bail!(
                "{file}: phase `{phase}`: env.{name} must be a string, found {}",
                other.type_str()
            ),
        })
        .collect()
}

fn attr_value(value: &Value) -> Result<AttrValue> {
    Ok(match value {
        Value::String(s) => AttrValue::Str(s.clone()),
        Value::Boolean(b) => AttrValue::Bool(*b),
        Value::Integer(i) => AttrValue::Int(*i),
        Value::Array(items) => {
            AttrValue::List(items.iter().map(attr_value).collect::<Result<_>>()?)
        }
        other => bail!("{} values are not crane attributes", other.type_str()),
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
        out.push_str(&toml::to_string(&document).unwrap_or_default());
    }
    out
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
        .map(|line| format!("# {}\n", line.replace(['\n', '\r'], " ")))
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

/// The 1-based line of `[phases.NAME]` (or a dotted key defining it), if written that way.
fn header_line(text: &str, name: &str) -> Option<usize> {
    let bare = format!("phases.{name}");
    let quoted = format!("phases.\"{name}\"");
    text.lines()
        .position(|line| {
            let line = line.trim();
            let header = line
                .strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .map(str::trim);
            header == Some(bare.as_str()) || header == Some(quoted.as_str())
        })
        .map(|i| i + 1)
}

/// toml's error as one line with its line and column.
fn one_line(err: &toml::de::Error, text: &str) -> String {
    let message = err.message().trim().to_string();
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
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
            message.starts_with("p.toml: invalid TOML: line 2, column"),
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
