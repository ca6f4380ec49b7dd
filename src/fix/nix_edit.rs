//! Edits to crane calls in Nix text, made on rnix's syntax tree so that everything but
//! the attributes a proposal changes stays byte for byte: comments, formatting, the
//! order of bindings. Each edit is a replacement of a byte range of the original text.

use std::collections::BTreeSet;

use rnix::ast::{self, BinOpKind, Expr, HasEntry};
use rnix::{SyntaxNode, TextRange};
use rowan::ast::AstNode;

use crate::text;

/// Replace `start..end` of the original text with `text` (an insertion when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TextEdit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// A parsed Nix file to edit. Produced by [`NixFile::parse`].
pub(super) struct NixFile {
    text: String,
    root: SyntaxNode,
    /// One level of indentation as the file writes it.
    unit: String,
}

impl NixFile {
    pub(super) fn parse(text: &str) -> Result<NixFile, String> {
        let parsed = rnix::Root::parse(text);
        if let Some(error) = parsed.errors().first() {
            return Err(format!("it does not parse: {error}"));
        }
        Ok(NixFile {
            text: text.to_string(),
            root: parsed.syntax(),
            unit: indent_unit(text),
        })
    }

    /// The crane call of `function` that starts on `line` (1-based).
    pub(super) fn call_on_line(&self, line: usize, function: &str) -> Result<ast::Apply, String> {
        let calls: Vec<ast::Apply> = self
            .root
            .descendants()
            .filter_map(ast::Apply::cast)
            .filter(|apply| {
                let start = usize::from(apply.syntax().text_range().start());
                line_of(&self.text, start) == line && calls_function(apply, function)
            })
            .collect();
        match calls.as_slice() {
            [call] => Ok(call.clone()),
            [] => Err(format!("no call of `{function}` starts on that line")),
            _ => Err(format!(
                "{} calls of `{function}` start on that line",
                calls.len()
            )),
        }
    }

    /// Sets `attrs` (name, Nix expression) on the call's argument set: in the set written
    /// there, in the `// { … }` set of `commonArgs // { … }`, or by wrapping a bare variable
    /// as `variable // { … }`.
    pub(super) fn set_attrs(
        &self,
        call: &ast::Apply,
        attrs: &[(String, String)],
    ) -> Result<Vec<TextEdit>, String> {
        let written = call.argument().ok_or("the call has no argument written")?;
        let argument = strip_parens(written.clone());
        match &argument {
            Expr::AttrSet(set) => self.set_in(set, attrs),
            Expr::BinOp(op) if op.operator() == Some(BinOpKind::Update) => {
                match op.rhs().map(strip_parens) {
                    Some(Expr::AttrSet(set)) => self.set_in(&set, attrs),
                    _ => Err(format!(
                        "its argument {} ends in a computed set, not one written there",
                        self.shown(argument.syntax())
                    )),
                }
            }
            Expr::Ident(ident) => {
                let indent = self.line_indent(offset(call.syntax()));
                let inner = format!("{indent}{}", self.unit);
                let lines: Vec<String> = attrs
                    .iter()
                    .map(|(name, value)| format!("\n{inner}{}", entry(name, value, &inner)))
                    .collect();
                let range = written.syntax().text_range();
                Ok(vec![TextEdit {
                    start: range.start().into(),
                    end: range.end().into(),
                    text: format!(
                        "({} // {{{}\n{indent}}})",
                        ident.syntax().text(),
                        lines.concat()
                    ),
                }])
            }
            _ => Err(format!(
                "its argument {} is computed, not an attribute set written there",
                self.shown(argument.syntax())
            )),
        }
    }

    /// Edits in an attribute set written in the file: an attribute it has gets the new
    /// value, the others are added after its last entry, indented as that entry is.
    fn set_in(
        &self,
        set: &ast::AttrSet,
        attrs: &[(String, String)],
    ) -> Result<Vec<TextEdit>, String> {
        let mut edits = Vec::new();
        let mut added = Vec::new();
        for (name, value) in attrs {
            if let Some(inherit) = set
                .inherits()
                .find(|i| i.attrs().any(|a| attr_text(&a).as_deref() == Some(name)))
            {
                edits.push(self.uninherit(&inherit, name, value)?);
                continue;
            }
            let own = set.attrpath_values().find(|binding| {
                let path: Vec<ast::Attr> = binding
                    .attrpath()
                    .map(|p| p.attrs().collect())
                    .unwrap_or_default();
                matches!(path.as_slice(), [one] if attr_text(one).as_deref() == Some(name))
            });
            match own.and_then(|binding| binding.value()) {
                Some(old) => {
                    let indent = self.line_indent(offset(old.syntax()));
                    let range = old.syntax().text_range();
                    edits.push(TextEdit {
                        start: range.start().into(),
                        end: range.end().into(),
                        text: reindent(value, &indent),
                    });
                }
                None => added.push((name, value)),
            }
        }
        if added.is_empty() {
            return Ok(edits);
        }
        let set_range = set.syntax().text_range();
        let multi_line = self.text_of(set_range).contains('\n');
        let last = set.entries().last();
        let open = set
            .l_curly_token()
            .map_or(usize::from(set_range.start()) + 1, |t| {
                usize::from(t.text_range().end())
            });
        let set_indent = self.line_indent(offset(set.syntax()));
        // A one-line set stays on one line, unless a value takes several lines: then the
        // new entries go on lines of their own, and the closing brace on its own line.
        let breaks = !multi_line && added.iter().any(|(_, v)| v.contains('\n'));
        let (at, end, indent) = match (&last, multi_line) {
            (Some(last), true) => {
                let end = usize::from(last.syntax().text_range().end());
                let at = self.after_line_comment(end, true);
                (at, at, self.line_indent(offset(last.syntax())))
            }
            (last, _) => {
                let at = last
                    .as_ref()
                    .map_or(open, |l| usize::from(l.syntax().text_range().end()));
                let close = set
                    .r_curly_token()
                    .map_or(at, |t| usize::from(t.text_range().start()));
                let end = if breaks { close } else { at };
                (at, end, format!("{set_indent}{}", self.unit))
            }
        };
        let mut text: String = added
            .iter()
            .map(|(name, value)| match multi_line || breaks {
                true => format!("\n{indent}{}", entry(name, value, &indent)),
                false => format!(" {}", entry(name, value, "")),
            })
            .collect();
        if breaks {
            text.push_str(&format!("\n{set_indent}"));
        }
        edits.push(TextEdit {
            start: at,
            end,
            text,
        });
        Ok(edits)
    }

    /// `inherit … name …;` no longer gives `name`: an `inherit` of that name alone becomes
    /// `name = value;`; from a longer one the name is taken out and the caller adds it.
    fn uninherit(
        &self,
        inherit: &ast::Inherit,
        name: &str,
        value: &str,
    ) -> Result<TextEdit, String> {
        let attrs: Vec<ast::Attr> = inherit.attrs().collect();
        let indent = self.line_indent(offset(inherit.syntax()));
        if attrs.len() == 1 {
            let range = inherit.syntax().text_range();
            return Ok(TextEdit {
                start: range.start().into(),
                end: range.end().into(),
                text: entry(name, value, &indent),
            });
        }
        Err(format!(
            "its argument set inherits {} among other names",
            text::echo(name)
        ))
    }

    /// A new binding `name = FUNCTION (ARGUMENT // { attrs });` after the one whose value is
    /// `call`, in the same `let` (or `rec` set). The name actually used (made unique there)
    /// and the edit; with the range in which the name is in scope.
    pub(super) fn add_binding_after(
        &self,
        call: &ast::Apply,
        name: &str,
        attrs: &[(String, String)],
        made: &BTreeSet<String>,
    ) -> Result<(String, TextEdit, TextRange), String> {
        let binding = call
            .syntax()
            .ancestors()
            .find_map(ast::AttrpathValue::cast)
            .filter(|b| {
                b.value()
                    .map(strip_parens)
                    .is_some_and(|v| v.syntax() == call.syntax())
            })
            .ok_or("the call is not the value of a binding")?;
        let holder = binding
            .syntax()
            .parent()
            .ok_or("the binding has no parent")?;
        let bound: BTreeSet<String> = match (
            ast::LetIn::cast(holder.clone()),
            ast::AttrSet::cast(holder.clone()),
        ) {
            (Some(let_in), _) => bound_names(&let_in),
            (_, Some(set)) if set.rec_token().is_some() => bound_names(&set),
            _ => {
                return Err(
                    "the call is bound in an attribute set that is neither `let` nor `rec`".into(),
                );
            }
        };
        let mut unique = name.to_string();
        let mut n = 2;
        while bound.contains(&unique) || made.contains(&unique) {
            unique = format!("{name}{n}");
            n += 1;
        }
        let function = call.lambda().ok_or("the call has no function")?;
        let argument = call
            .argument()
            .map(strip_parens)
            .ok_or("the call has no argument written")?;
        let indent = self.line_indent(offset(binding.syntax()));
        let inner = format!("{indent}{}", self.unit);
        let lines: String = attrs
            .iter()
            .map(|(name, value)| format!("\n{inner}{}", entry(name, value, &inner)))
            .collect();
        let at = self.after_line_comment(usize::from(binding.syntax().text_range().end()), true);
        let text = format!(
            "\n{indent}{unique} = {} ({} // {{{lines}\n{indent}}});",
            function.syntax().text(),
            argument.syntax().text(),
        );
        Ok((
            unique,
            TextEdit {
                start: at,
                end: at,
                text,
            },
            holder.text_range(),
        ))
    }

    fn text_of(&self, range: TextRange) -> &str {
        self.text
            .get(usize::from(range.start())..usize::from(range.end()))
            .unwrap_or_default()
    }

    /// What a node says, on one line and short, for a message.
    fn shown(&self, node: &SyntaxNode) -> String {
        let words = self
            .text_of(node.text_range())
            .split_whitespace()
            .collect::<Vec<_>>();
        text::echo(&words.join(" "))
    }

    /// The whitespace that starts the line holding `at`.
    fn line_indent(&self, at: usize) -> String {
        let before = self.text.get(..at).unwrap_or_default();
        let line = before.rsplit('\n').next().unwrap_or_default();
        line.chars()
            .take_while(|c| matches!(c, ' ' | '\t'))
            .collect()
    }

    /// Where to add after an entry ending at `end`: past a `# comment` on its line, so the
    /// comment stays with the entry it is about.
    fn after_line_comment(&self, end: usize, multi_line: bool) -> usize {
        let rest = self.text.get(end..).unwrap_or_default();
        let line = rest.split('\n').next().unwrap_or_default();
        if multi_line
            && rest.contains('\n')
            && (line.trim().is_empty() || line.trim_start().starts_with('#'))
        {
            end + line.trim_end().len()
        } else {
            end
        }
    }
}

/// Applies non-overlapping edits of `text`.
pub(super) fn apply_edits(text: &str, edits: &[TextEdit]) -> Result<String, String> {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        if edit.start < at {
            return Err("two changes overlap in one place of the file".into());
        }
        out.push_str(
            text.get(at..edit.start)
                .ok_or("an edit is outside the file")?,
        );
        out.push_str(&edit.text);
        at = edit.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    Ok(out)
}

/// `name = value;`, a multi-line value indented from `indent`.
fn entry(name: &str, value: &str, indent: &str) -> String {
    format!(
        "{} = {};",
        super::nix::attr_name(name),
        reindent(value, indent)
    )
}

/// `value` written at `indent`: an indented string (`nix::string`'s shape, lines four
/// spaces in, the closing quotes two) gets its lines one level (two spaces) in from
/// `indent` and its closing quotes at `indent`.
fn reindent(value: &str, indent: &str) -> String {
    if let Some(body) = value
        .strip_prefix("''\n")
        .and_then(|v| v.strip_suffix("\n  ''"))
    {
        let lines: Vec<String> = body
            .split('\n')
            .map(|line| match line.strip_prefix("    ") {
                Some(rest) => format!("{indent}  {rest}"),
                None => line.to_string(),
            })
            .collect();
        return format!("''\n{}\n{indent}''", lines.join("\n"));
    }
    value.replace('\n', &format!("\n{indent}"))
}

/// The 1-based line holding byte `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(at)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn offset(node: &SyntaxNode) -> usize {
    usize::from(node.text_range().start())
}

fn strip_parens(mut expr: Expr) -> Expr {
    while let Expr::Paren(paren) = &expr {
        match paren.expr() {
            Some(inner) => expr = inner,
            None => break,
        }
    }
    expr
}

/// `X.function …`, `function …` (`inherit (craneLib) function;`).
fn calls_function(apply: &ast::Apply, function: &str) -> bool {
    match apply.lambda() {
        Some(Expr::Select(select)) => select
            .attrpath()
            .and_then(|p| p.attrs().last())
            .and_then(|a| attr_text(&a))
            .is_some_and(|name| name == function),
        Some(Expr::Ident(ident)) => ident.syntax().text() == function,
        _ => false,
    }
}

/// An attribute name written plainly or as a string without interpolation.
fn attr_text(attr: &ast::Attr) -> Option<String> {
    match attr {
        ast::Attr::Ident(ident) => ident.ident_token().map(|t| t.text().to_string()),
        ast::Attr::Str(s) => {
            let parts: Vec<_> = s.normalized_parts();
            match parts.as_slice() {
                [ast::InterpolPart::Literal(text)] => Some(text.clone()),
                [] => Some(String::new()),
                _ => None,
            }
        }
        ast::Attr::Dynamic(_) => None,
    }
}

fn bound_names(node: &impl HasEntry) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for binding in node.attrpath_values() {
        if let Some(first) = binding.attrpath().and_then(|p| p.attrs().next()) {
            names.extend(attr_text(&first));
        }
    }
    for inherit in node.inherits() {
        names.extend(inherit.attrs().filter_map(|a| attr_text(&a)));
    }
    names
}

/// One level of indentation in `text`: its smallest indentation step, tabs if it indents
/// with tabs; two spaces when it has no indented line.
fn indent_unit(text: &str) -> String {
    if text.lines().any(|l| l.starts_with('\t')) {
        return "\t".into();
    }
    let smallest = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .filter(|&n| n > 0)
        .min()
        .unwrap_or(2);
    " ".repeat(smallest.min(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, line: usize, attrs: &[(&str, &str)]) -> String {
        let file = NixFile::parse(text).unwrap();
        let call = file.call_on_line(line, "buildDepsOnly").unwrap();
        let attrs: Vec<(String, String)> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        apply_edits(text, &file.set_attrs(&call, &attrs).unwrap()).unwrap()
    }

    #[test]
    fn adds_to_the_update_set_keeping_comments() {
        let text = "let\n  deps = craneLib.buildDepsOnly (commonArgs // {\n    doCheck = false; # slow\n  });\nin deps\n";
        assert_eq!(
            edit(
                text,
                2,
                &[("cargoExtraArgs", "\"--locked\""), ("doCheck", "true")]
            ),
            "let\n  deps = craneLib.buildDepsOnly (commonArgs // {\n    doCheck = true; # slow\n    cargoExtraArgs = \"--locked\";\n  });\nin deps\n"
        );
    }

    #[test]
    fn wraps_a_bare_variable() {
        let text = "let\n  deps = craneLib.buildDepsOnly commonArgs;\nin deps\n";
        assert_eq!(
            edit(text, 2, &[("doCheck", "true")]),
            "let\n  deps = craneLib.buildDepsOnly (commonArgs // {\n    doCheck = true;\n  });\nin deps\n"
        );
    }

    #[test]
    fn one_line_sets_stay_on_one_line() {
        let text = "craneLib.buildDepsOnly { src = ./.; }";
        assert_eq!(
            edit(text, 1, &[("doCheck", "true")]),
            "craneLib.buildDepsOnly { src = ./.; doCheck = true; }"
        );
    }

    #[test]
    fn a_computed_argument_is_refused() {
        let text = "craneLib.buildDepsOnly (mkArgs 1)";
        let file = NixFile::parse(text).unwrap();
        let call = file.call_on_line(1, "buildDepsOnly").unwrap();
        let err = file
            .set_attrs(&call, &[("a".into(), "1".into())])
            .unwrap_err();
        assert!(err.contains("computed"), "{err}");
    }

    #[test]
    fn a_new_binding_goes_after_the_old_one() {
        let text = "let\n  deps = craneLib.buildDepsOnly commonArgs;\n  x = 1;\nin deps\n";
        let file = NixFile::parse(text).unwrap();
        let call = file.call_on_line(2, "buildDepsOnly").unwrap();
        let (name, edit, _) = file
            .add_binding_after(
                &call,
                "x",
                &[("doCheck".into(), "false".into())],
                &BTreeSet::from(["x3".to_string()]),
            )
            .unwrap();
        assert_eq!(name, "x2");
        assert_eq!(
            apply_edits(text, &[edit]).unwrap(),
            "let\n  deps = craneLib.buildDepsOnly commonArgs;\n  x2 = craneLib.buildDepsOnly (commonArgs // {\n    doCheck = false;\n  });\n  x = 1;\nin deps\n"
        );
    }
}
