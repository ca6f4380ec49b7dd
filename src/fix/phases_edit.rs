//! A proposal's edits on a phases file, with `toml_edit`: tables, comments and the order
//! of keys stay as they are; only the attributes the proposal sets change.

use toml_edit::{DocumentMut, Item, TableLike, Value};

use super::PhaseEdit;
use crate::phase::AttrValue;
use crate::text;

/// `text` (a phases file) with `edits` made.
pub(super) fn edit_phases_file(text: &str, edits: &[PhaseEdit]) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|err| format!("it does not parse: {err}"))?;
    let phases = doc
        .get_mut("phases")
        .and_then(Item::as_table_like_mut)
        .ok_or("it has no [phases] table")?;
    for edit in edits {
        match edit {
            PhaseEdit::Set { phase, attrs } => {
                let table = phase_table(phases, phase)?;
                for (name, value) in attrs {
                    set(table, name, value)?;
                }
            }
            PhaseEdit::NewDepsOnly {
                name,
                like,
                attrs,
                users,
            } => {
                if phases.contains_key(name) {
                    return Err(format!("it already has a phase {}", text::echo(name)));
                }
                let mut made = phases
                    .get(like)
                    .cloned()
                    .ok_or_else(|| format!("it has no phase {}", text::echo(like)))?;
                if let Item::Table(table) = &mut made {
                    // Written after every table, not in the place of the one it copies.
                    table.set_position(None);
                }
                let table = made
                    .as_table_like_mut()
                    .ok_or_else(|| format!("phase {} is not a table", text::echo(like)))?;
                for (attr, value) in attrs {
                    set(table, attr, value)?;
                }
                phases.insert(name, made);
                for user in users {
                    let table = phase_table(phases, user)?;
                    set(table, "cargoArtifacts", &AttrValue::Str(name.clone()))?;
                }
            }
        }
    }
    Ok(doc.to_string())
}

fn phase_table<'a>(
    phases: &'a mut dyn TableLike,
    name: &str,
) -> Result<&'a mut dyn TableLike, String> {
    phases
        .get_mut(name)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("it has no phase table {}", text::echo(name)))
}

/// Sets `name`, keeping the decoration (comments, spacing) of a value it replaces.
fn set(table: &mut dyn TableLike, name: &str, value: &AttrValue) -> Result<(), String> {
    let mut new = toml_value(value)?;
    if let Some(old) = table.get(name).and_then(Item::as_value) {
        *new.decor_mut() = old.decor().clone();
    }
    table.insert(name, Item::Value(new));
    Ok(())
}

fn toml_value(value: &AttrValue) -> Result<Value, String> {
    Ok(match value {
        AttrValue::Str(s) => s.as_str().into(),
        AttrValue::Bool(b) => (*b).into(),
        AttrValue::Int(i) => (*i).into(),
        AttrValue::Null => "".into(),
        AttrValue::List(items) => Value::Array(
            items
                .iter()
                .map(toml_value)
                .collect::<Result<toml_edit::Array, String>>()?,
        ),
        AttrValue::Unknown(what) => {
            return Err(format!(
                "a value not known statically ({})",
                text::echo(what)
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn sets_attributes_and_keeps_comments() {
        let text = "# phases\n[phases.deps]\nfunction = \"buildDepsOnly\" # deps\ndoCheck = false  # slow\n\n[phases.cli]\nfunction = \"buildPackage\"\ncargoArtifacts = \"deps\"\n";
        let edits = [PhaseEdit::Set {
            phase: "deps".into(),
            attrs: BTreeMap::from([
                ("doCheck".into(), AttrValue::Bool(true)),
                ("cargoExtraArgs".into(), AttrValue::Str("--locked".into())),
            ]),
        }];
        assert_eq!(
            edit_phases_file(text, &edits).unwrap(),
            "# phases\n[phases.deps]\nfunction = \"buildDepsOnly\" # deps\ndoCheck = true  # slow\ncargoExtraArgs = \"--locked\"\n\n[phases.cli]\nfunction = \"buildPackage\"\ncargoArtifacts = \"deps\"\n"
        );
    }
}
