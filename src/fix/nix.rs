//! Writing phase attributes as Nix, for snippets users paste into their flake. Every
//! value from the input is escaped so that no input can end a string, a comment or an
//! attribute name early, and no control character reaches the reader's terminal.

use std::collections::BTreeMap;

use crate::phase::AttrValue;
use crate::text;

/// A Nix string literal: `"..."`, or an indented string `''...''` for multi-line text.
/// Text with control characters Nix strings cannot escape is decoded from JSON.
pub(crate) fn string(text: &str) -> String {
    if text.chars().any(needs_json) {
        return from_json(text);
    }
    if text.contains('\n') && !text.contains('\r') {
        let body = text
            .replace("''", "'''")
            .replace("${", "''${")
            .replace('\t', "''\\t");
        let indented: Vec<String> = body.lines().map(|l| format!("    {l}")).collect();
        format!("''\n{}\n  ''", indented.join("\n"))
    } else {
        quoted(text)
    }
}

/// Characters Nix strings hold but cannot escape (terminal escapes, NUL), or that reorder
/// or break what the reader sees (bidirectional overrides, line separators).
fn needs_json(c: char) -> bool {
    text::is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t')
}

/// `"..."` with Nix's escapes.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `(builtins.fromJSON "\"...\"")`: the exact value, every character printable.
fn from_json(text: &str) -> String {
    let mut json = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            _ if text::is_unsafe(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    json.push_str(&format!("\\u{unit:04x}"));
                }
            }
            _ => json.push(c),
        }
    }
    json.push('"');
    format!("(builtins.fromJSON {})", quoted(&json))
}

/// An attribute name: bare when it is a plain identifier, else a quoted string.
pub(crate) fn attr_name(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''));
    if plain {
        name.to_string()
    } else if name.chars().any(needs_json) {
        // Indented strings cannot name attributes; an interpolation can.
        format!("${{{}}}", from_json(name))
    } else {
        quoted(name)
    }
}

/// A `# ...` comment: one line whatever `text` holds.
pub(crate) fn comment(text: &str) -> String {
    format!("# {}", text::one_line(text))
}

pub(crate) fn value(value: &AttrValue) -> String {
    match value {
        AttrValue::Str(s) => string(s),
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Null => "null".into(),
        AttrValue::List(items) => format!(
            "[ {} ]",
            items.iter().map(self::value).collect::<Vec<_>>().join(" ")
        ),
        AttrValue::Unknown(what) => {
            format!("/* {} */ null", text::one_line(what).replace("*/", "* /"))
        }
    }
}

/// `craneLib.FUNCTION (commonArgs // { attrs })`, attributes one per line; `commonArgs`
/// stands for whatever the call passes today.
pub(crate) fn crane_call(function: &str, attrs: &BTreeMap<String, AttrValue>) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .map(|(k, v)| format!("  {} = {};", attr_name(k), value(v)))
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
        assert_eq!(string("a\r\nb"), "\"a\\r\\nb\"");
        assert_eq!(string("x''y\n${z}"), "''\n    x'''y\n    ''${z}\n  ''");
    }

    #[test]
    fn control_characters_are_decoded_from_json() {
        assert_eq!(
            string("\x1b]0;pwned\x07"),
            r#"(builtins.fromJSON "\"\\u001b]0;pwned\\u0007\"")"#
        );
        assert_eq!(
            string("\u{202E}a\0"),
            r#"(builtins.fromJSON "\"\\u202ea\\u0000\"")"#
        );
    }

    #[test]
    fn comments_and_names_cannot_be_ended_by_their_text() {
        assert_eq!(
            comment("buildDepsOnly `x\n  evil = true; #`"),
            "# buildDepsOnly `x\\n  evil = true; #`"
        );
        assert_eq!(
            attr_name("CARGO_PROFILE_RELEASE_LTO"),
            "CARGO_PROFILE_RELEASE_LTO"
        );
        assert_eq!(attr_name("A\n= 1; b"), "\"A\\n= 1; b\"");
        assert_eq!(
            value(&AttrValue::Unknown("a */ evil /*".into())),
            "/* a * / evil /* */ null"
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
