//! Writing phase attributes as Nix, for snippets users paste into their flake.

use std::collections::BTreeMap;

use crate::phase::AttrValue;

/// A Nix string literal: `"..."`, or an indented string `''...''` for multi-line text.
pub fn string(text: &str) -> String {
    if text.contains('\n') {
        let body = text.replace("''", "'''").replace("${", "''${");
        let indented: Vec<String> = body.lines().map(|l| format!("    {l}")).collect();
        format!("''\n{}\n  ''", indented.join("\n"))
    } else {
        format!(
            "\"{}\"",
            text.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace("${", "\\${")
        )
    }
}

pub fn value(value: &AttrValue) -> String {
    match value {
        AttrValue::Str(s) => string(s),
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Null => "null".into(),
        AttrValue::List(items) => format!(
            "[ {} ]",
            items.iter().map(self::value).collect::<Vec<_>>().join(" ")
        ),
        AttrValue::Unknown(what) => format!("/* {what} */ null"),
    }
}

/// `craneLib.FUNCTION (commonArgs // { attrs })`, attributes one per line; `commonArgs`
/// stands for whatever the call passes today.
pub fn crane_call(function: &str, attrs: &BTreeMap<String, AttrValue>) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .map(|(k, v)| format!("  {k} = {};", value(v)))
        .collect();
    format!(
        "craneLib.{function} (commonArgs // {{\n{}\n}})",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a \"b\" ${c}"), "\"a \\\"b\\\" \\${c}\"");
        assert_eq!(
            string("cargo build\ncargo test"),
            "''\n    cargo build\n    cargo test\n  ''"
        );
    }

    #[test]
    fn crane_calls_list_attributes() {
        let mut attrs = BTreeMap::new();
        attrs.insert(
            "cargoExtraArgs".to_string(),
            AttrValue::Str("--locked -p cli".into()),
        );
        attrs.insert("doCheck".to_string(), AttrValue::Bool(true));
        assert_eq!(
            crane_call("buildDepsOnly", &attrs),
            "craneLib.buildDepsOnly (commonArgs // {\n  cargoExtraArgs = \"--locked -p cli\";\n  doCheck = true;\n})"
        );
    }
}
