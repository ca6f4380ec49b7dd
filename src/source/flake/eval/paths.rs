//! Paths as Nix computes them: `./${name}.nix`, `root + /sub/package.nix`, `toString`,
//! `lib.path.append`, paths inside strings (`"${./.}/x.nix"`, `"${self}/nix"`), and
//! imports of path values the evaluator cannot know (said, never silent).

use std::path::{Path, PathBuf};

use rnix::ast::{AstToken, InterpolPart, PathContent};

use super::Evaluator;
use super::files::{FileId, Pos};
use super::ops::to_text;
use super::value::{Env, Value};
use crate::located::Note;
use crate::source_set::tree::normalize;

impl Evaluator {
    /// A path as written (`./nix`, `/etc`, `./${name}.nix`): interpolations evaluated;
    /// relative paths resolve in the file's directory, `.` and `..` taken out.
    pub(super) fn eval_path(
        &mut self,
        parts: Vec<InterpolPart<PathContent>>,
        relative: bool,
        node_text: String,
        env: &Env,
        file: FileId,
    ) -> Value {
        let mut written = String::new();
        for part in parts {
            match part {
                InterpolPart::Literal(literal) => written.push_str(literal.syntax().text()),
                InterpolPart::Interpolation(interpol) => {
                    let value = interpol
                        .expr()
                        .map_or(Value::Null, |e| self.eval(&e, env, file));
                    match value {
                        failed @ Value::Error(_) => return failed,
                        Value::Path(path, _) => written.push_str(&path.display().to_string()),
                        other => match to_text(&other) {
                            Some(text) => written.push_str(&text),
                            None => return Value::Unknown(node_text),
                        },
                    }
                }
            }
        }
        let absolute = if relative {
            self.files.dir_of(file).join(&written)
        } else {
            PathBuf::from(&written)
        };
        Value::Path(normalize(&absolute), node_text)
    }

    /// A path or a string holding an absolute path (`toString ./x`, `"${self}/x.nix"`),
    /// as a path; `None` for anything else.
    pub(super) fn as_path(value: &Value) -> Option<(PathBuf, String)> {
        match value {
            Value::Path(path, written) => Some((path.clone(), written.clone())),
            Value::Str(text) if text.starts_with('/') => {
                Some((normalize(Path::new(text)), format!("{text:?}")))
            }
            Value::Source(dir, written, _) => Some((dir.clone(), written.clone())),
            _ => None,
        }
    }

    /// The text of a path inside a string: where it is (Nix copies it to the store first;
    /// the copy holds the same files).
    pub(super) fn path_text(&self, value: &Value) -> Option<String> {
        match value {
            Value::Path(path, _) | Value::Source(path, _, _) => Some(path.display().to_string()),
            Value::Attrs(set) => self.self_dir_of(set).map(|dir| dir.display().to_string()),
            _ => None,
        }
    }

    /// `lib.path.append root "sub/package.nix"`.
    pub(super) fn path_append(&mut self, base: &Value, sub: &Value, text: &str) -> Value {
        match (Evaluator::as_path(base), sub) {
            (Some((dir, _)), Value::Str(sub)) => {
                Value::Path(normalize(&dir.join(sub)), text.to_string())
            }
            _ => Value::Unknown(text.to_string()),
        }
    }

    /// An `import` (or `callPackage`) of a value that is not a path the evaluator knows:
    /// a warning naming it, unless it comes from a flake input (`import nixpkgs { … }`),
    /// which is never part of the flake.
    pub(super) fn unfollowed_import(&mut self, value: &Value, pos: Pos, text: &str) {
        let what = match value {
            Value::Unknown(what) => what.clone(),
            Value::PartialStr(_, missing) => missing
                .first()
                .map(|(_, text)| text.trim_start_matches("${").to_string())
                .unwrap_or_default(),
            Value::Error(_) => return,
            _ => text.to_string(),
        };
        let first = what
            .trim_start_matches(['(', '"', '$', '{'])
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '\''))
            .next()
            .unwrap_or_default();
        if first == "inputs" || self.input_names.contains(first) || what.starts_with('<') {
            return;
        }
        let warning = Note::at(
            self.location(pos),
            format!(
                "`{text}`: cannot follow this import (its path `{what}` is not known statically); crane calls in it are not seen"
            ),
        );
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The names of the flake's inputs: imports of their files are not the flake's.
    pub(super) fn note_input_names(&mut self, root: &Value) {
        let Value::Attrs(set) = root else { return };
        if let Some(inputs) = set.entries.get("inputs").cloned() {
            if let Value::Attrs(inputs) = self.speculatively(|e| e.force(&inputs)) {
                self.input_names.extend(inputs.entries.keys().cloned());
            }
        }
        if let Some(outputs) = set.entries.get("outputs").cloned() {
            if let Value::Lambda(closure) = self.speculatively(|e| e.force(&outputs)) {
                if let Some(rnix::ast::Param::Pattern(pattern)) = closure.lambda.param() {
                    for entry in pattern.pat_entries() {
                        if let Some(name) = entry.ident().and_then(|i| i.ident_token()) {
                            self.input_names.insert(name.text().to_string());
                        }
                    }
                    if let Some(bind) = pattern.pat_bind().and_then(|b| b.ident()) {
                        if let Some(token) = bind.ident_token() {
                            self.input_names.insert(token.text().to_string());
                        }
                    }
                }
            }
        }
    }
}

/// `lib.path.append`, by where it is selected from.
pub(super) fn is_path_append(base: &str, name: &str) -> bool {
    name == "append" && base.rsplit('.').next() == Some("path")
}

#[cfg(test)]
mod tests {
    use super::is_path_append;

    #[test]
    fn path_append_is_known_by_its_base() {
        assert!(is_path_append("lib.path", "append"));
        assert!(is_path_append("pkgs.lib.path", "append"));
        assert!(!is_path_append("lib.lists", "append"));
    }
}
