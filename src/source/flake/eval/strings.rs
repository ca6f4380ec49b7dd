//! The string functions source filters (and other arguments) are written with:
//! `baseNameOf`, `dirOf`, `hasSuffix`, `removePrefix`, `removeSuffix`, `match`, `any`,
//! `all`, `file.hasExt`, and crane's and nixpkgs' known path filters called as functions.

use std::path::Path;
use std::rc::Rc;

use super::Evaluator;
use super::files::Pos;
use super::value::{Builtin, Thunk, Value};
use crate::source_set::EntryType;
use crate::source_set::filters::{base_name, nix_regex};

impl Evaluator {
    /// The string functions source filters are written with.
    pub(super) fn run_string_builtin(
        &mut self,
        builtin: &Builtin,
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Value {
        let unknown = || Value::Unknown(text.to_string());
        let string = |evaluator: &mut Evaluator, thunk: &Thunk| match evaluator.force(thunk) {
            Value::Str(s) => Some(s),
            Value::Path(path, _) => Some(path.to_string_lossy().into_owned()),
            _ => None,
        };
        match builtin {
            Builtin::BaseNameOf => string(self, &args[0]).map_or_else(unknown, |s| {
                Value::Str(base_name(Path::new(s.trim_end_matches('/'))).to_string())
            }),
            Builtin::DirOf => string(self, &args[0]).map_or_else(unknown, |s| {
                let parent = Path::new(&s)
                    .parent()
                    .map_or(".".into(), |p| p.to_string_lossy().into_owned());
                Value::Str(if parent.is_empty() {
                    ".".into()
                } else {
                    parent
                })
            }),
            Builtin::HasSuffix
            | Builtin::HasPrefix
            | Builtin::HasInfix
            | Builtin::RemovePrefix
            | Builtin::RemoveSuffix
            | Builtin::HasExt => {
                let (Some(a), Some(b)) = (string(self, &args[0]), string(self, &args[1])) else {
                    return unknown();
                };
                match builtin {
                    Builtin::HasSuffix => Value::Bool(b.ends_with(&a)),
                    Builtin::HasPrefix => Value::Bool(b.starts_with(&a)),
                    Builtin::HasInfix => Value::Bool(b.contains(&a)),
                    Builtin::HasExt => Value::Bool(has_ext(&a, &b)),
                    Builtin::RemoveSuffix => {
                        Value::Str(b.strip_suffix(&a).unwrap_or(&b).to_string())
                    }
                    _ => Value::Str(b.strip_prefix(&a).unwrap_or(&b).to_string()),
                }
            }
            Builtin::ToUpper | Builtin::ToLower => {
                string(self, &args[0]).map_or_else(unknown, |s| {
                    Value::Str(match builtin {
                        Builtin::ToUpper => s.to_ascii_uppercase(),
                        _ => s.to_ascii_lowercase(),
                    })
                })
            }
            Builtin::ReplaceStrings => {
                let mut strings = |thunk: &Thunk| -> Option<Vec<String>> {
                    let Value::List(items) = self.force(thunk) else {
                        return None;
                    };
                    items.iter().map(|item| string(self, item)).collect()
                };
                match (strings(&args[0]), strings(&args[1])) {
                    (Some(from), Some(to)) if from.len() == to.len() => string(self, &args[2])
                        .map_or_else(unknown, |s| Value::Str(replace_strings(&from, &to, &s))),
                    _ => unknown(),
                }
            }
            Builtin::Match => {
                let (Some(regex), Some(subject)) = (string(self, &args[0]), string(self, &args[1]))
                else {
                    return unknown();
                };
                let Some(re) = nix_regex(&regex) else {
                    return unknown();
                };
                if !re.is_match(&subject) {
                    return Value::Null;
                }
                match re.captures(&subject) {
                    None => Value::Null,
                    Some(captures) => Value::List(Rc::new(
                        captures
                            .iter()
                            .skip(1)
                            .map(|m| {
                                Thunk::value(
                                    m.map_or(Value::Null, |m| Value::Str(m.as_str().to_string())),
                                )
                            })
                            .collect(),
                    )),
                }
            }
            Builtin::Any | Builtin::All => {
                let function = self.force(&args[0]);
                let Value::List(items) = self.force(&args[1]) else {
                    return unknown();
                };
                let wanted = *builtin == Builtin::Any;
                let mut result = Some(!wanted);
                for item in items.iter() {
                    match self.apply(function.clone(), item.clone(), pos, text) {
                        Value::Bool(b) if b == wanted => return Value::Bool(wanted),
                        Value::Bool(_) => {}
                        failed @ Value::Error(_) => return failed,
                        _ => result = None,
                    }
                }
                result.map_or_else(unknown, Value::Bool)
            }
            Builtin::PathFilter(name) => {
                let (Some(path), Some(kind)) = (string(self, &args[0]), string(self, &args[1]))
                else {
                    return unknown();
                };
                let entry = match kind.as_str() {
                    "directory" => EntryType::Directory,
                    "symlink" => EntryType::Symlink,
                    _ => EntryType::Regular,
                };
                let path = Path::new(&path);
                Value::Bool(match name.as_str() {
                    "filterCargoSources" => crate::crane::filter::filter_cargo_sources(
                        path,
                        entry == EntryType::Directory,
                    ),
                    _ => crate::source_set::filters::clean_source_keeps(base_name(path), entry),
                })
            }
            _ => unknown(),
        }
    }
}

/// `builtins.replaceStrings from to s`, as Nix does it: at each position the first of
/// `from` that matches is replaced (an empty one inserts before each character).
fn replace_strings(from: &[String], to: &[String], s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let found = from
            .iter()
            .zip(to)
            .find_map(|(f, t)| Some((rest.strip_prefix(f.as_str())?, f.is_empty(), t)));
        if let Some((after, empty, replacement)) = found {
            out.push_str(replacement);
            if !empty {
                rest = after;
                continue;
            }
        }
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) => out.push(c),
            None => break,
        }
        rest = chars.as_str();
    }
    out
}

/// `file.hasExt ext`: the name ends with `.ext`.
pub(super) fn has_ext(name: &str, ext: &str) -> bool {
    name.strip_suffix(ext)
        .is_some_and(|stem| stem.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::replace_strings;

    #[test]
    fn replace_strings_replaces_as_nix_does() {
        let v = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            replace_strings(&v(&["-"]), &v(&["_"]), "x86_64-unknown-linux-gnu"),
            "x86_64_unknown_linux_gnu"
        );
        assert_eq!(
            replace_strings(&v(&["o", "oo"]), &v(&["0", "X"]), "foo"),
            "f00"
        );
        assert_eq!(replace_strings(&v(&[""]), &v(&["-"]), "ab"), "-a-b-");
        assert_eq!(replace_strings(&v(&["é"]), &v(&["e"]), "café"), "cafe");
    }
}
