//! numtide's nix-filter (`nix-filter { root; include; exclude; }` and its matchers
//! `inDirectory`, `matchExt`, `matchName`, `isDirectory`, `and`, `or_`, `not`, ...) as a
//! source the evaluator keeps, its matchers read into [`Matcher`]s.

use std::path::Path;
use std::rc::Rc;

use super::Evaluator;
use super::files::Pos;
use super::value::{AttrSetValue, Builtin, PathFilter, SourceExpr, Thunk, Value, builtin};
use crate::source_set::filters::Matcher;
use crate::source_set::tree::normalize;
use crate::source_set::{EntryType, KnownFilter};

/// numtide `nix-filter`'s functions; a matcher is `args: path: type: bool` after its own
/// arguments.
const NIX_FILTER_FUNCTIONS: &[(&str, usize)] = &[
    ("filter", 1),
    ("__functor", 1),
    ("inDirectory", 4),
    ("matchExt", 4),
    ("matchName", 4),
    ("isDirectory", 3),
    ("traceUnmatched", 3),
    ("and", 5),
    ("or_", 5),
    ("or", 5),
    ("debugMatch", 5),
];

/// Arity of a `Builtin::NixFilter` function.
pub(super) fn nix_filter_arity(name: &str) -> usize {
    NIX_FILTER_FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(1, |(_, arity)| *arity)
}

/// `nix-filter`, `inputs.nix-filter`, `nix-filter.lib`, `pkgs.nix-filter` (its overlay):
/// numtide's nix-filter, which is called as a function too.
pub(super) fn is_nix_filter(text: &str) -> bool {
    let lib = text.strip_suffix(".lib").unwrap_or(text);
    let last = lib.rsplit('.').next().unwrap_or(lib);
    matches!(last, "nix-filter" | "nixFilter" | "nix_filter")
}

/// `BASE.NAME` when it is nix-filter's lib or one of its functions.
pub(super) fn nix_filter_attr(base: &str, name: &str) -> Option<Value> {
    if is_nix_filter(&format!("{base}.{name}")) && (name == "lib" || !is_nix_filter(base)) {
        return Some(nix_filter_lib());
    }
    if !is_nix_filter(base) {
        return None;
    }
    NIX_FILTER_FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, _)| builtin(Builtin::NixFilter(n.to_string())))
}

/// nix-filter's lib: its functions, callable as `filter` through `__functor`.
fn nix_filter_lib() -> Value {
    let entries = NIX_FILTER_FUNCTIONS
        .iter()
        .map(|(name, _)| {
            let function = builtin(Builtin::NixFilter(name.to_string()));
            (name.to_string(), Thunk::value(function))
        })
        .collect();
    Value::Attrs(Rc::new(AttrSetValue::known(entries)))
}

impl Evaluator {
    /// nix-filter's `NAME` applied to all its arguments: `filter { root; include; exclude; }`
    /// makes a source; a matcher given its path and type answers for it.
    pub(super) fn run_nix_filter(
        &mut self,
        name: &str,
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Value {
        match name {
            "__functor" => builtin(Builtin::NixFilter("filter".into())),
            "filter" => self.nix_filter_source(&args[0], pos, text),
            _ => {
                let split = args.len() - 3;
                let own = Value::Builtin(
                    Builtin::NixFilter(name.to_string()),
                    Rc::new(args[..split].to_vec()),
                );
                let Value::Attrs(call) = self.force(&args[split]) else {
                    return Value::Unknown(text.to_string());
                };
                let root = call.entries.get("root").cloned().map(|r| self.force(&r));
                let Some(Value::Path(root, _)) = root else {
                    return Value::Unknown(text.to_string());
                };
                let match_parents = match call.entries.get("matchParents").cloned() {
                    Some(thunk) => matches!(self.force(&thunk), Value::Bool(true)),
                    None => false,
                };
                let path = self.force(&args[split + 1]);
                let kind = self.force(&args[split + 2]);
                let (Value::Str(path), Value::Str(kind)) = (path, kind) else {
                    return Value::Unknown(text.to_string());
                };
                let kind = match kind.as_str() {
                    "directory" => EntryType::Directory,
                    "symlink" => EntryType::Symlink,
                    _ => EntryType::Regular,
                };
                let matcher = self.matcher(&own, &root);
                let Ok(relative) = Path::new(&path).strip_prefix(&root) else {
                    return Value::Bool(false);
                };
                matcher
                    .matches(relative, kind, match_parents)
                    .map_or_else(|| Value::Unknown(text.to_string()), Value::Bool)
            }
        }
    }

    /// `nix-filter { root; include ? all; exclude ? [ ]; name ? "source"; }`.
    fn nix_filter_source(&mut self, args: &Thunk, pos: Pos, text: &str) -> Value {
        let Value::Attrs(set) = self.force(args) else {
            return Value::Unknown(text.to_string());
        };
        let root = match set.entries.get("root").cloned() {
            Some(root) => {
                let root = self.force(&root);
                self.source_expr(&root)
            }
            None => return Value::Unknown(text.to_string()),
        };
        let SourceExpr::Dir(dir) = &*root else {
            return Value::Unknown(text.to_string());
        };
        let dir = dir.clone();
        let mut matchers = |key: &str, default: Matcher| -> Vec<Matcher> {
            let Some(list) = set.entries.get(key).cloned() else {
                return vec![default];
            };
            match self.force(&list) {
                Value::List(items) => items
                    .iter()
                    .map(|item| {
                        let value = self.force(item);
                        self.matcher(&value, &dir)
                    })
                    .collect(),
                other => vec![Matcher::Unknown(format!("{key} = {}", other.type_name()))],
            }
        };
        let include = matchers("include", Matcher::Always);
        let exclude = matchers("exclude", Matcher::Never);
        let filter = PathFilter::Known(KnownFilter::NixFilter { include, exclude });
        Value::Source(
            dir,
            text.to_string(),
            Rc::new(SourceExpr::Filtered(root, filter, text.to_string(), pos)),
        )
    }

    /// A nix-filter matcher value (a path, a string, or one of its functions partly
    /// applied) for a filter rooted at `root`.
    fn matcher(&mut self, value: &Value, root: &Path) -> Matcher {
        match value {
            Value::Path(path, _) => self.path_matcher(path, root),
            Value::Str(text) => {
                let path = normalize(&root.join(text));
                self.path_matcher(&path, root)
            }
            Value::Builtin(Builtin::NixFilter(name), args) => {
                let arg = |evaluator: &mut Evaluator, n: usize| evaluator.force(&args[n]);
                let string = |value: Value| match value {
                    Value::Str(text) => Some(text),
                    _ => None,
                };
                match (name.as_str(), args.len()) {
                    ("isDirectory", 0) => Matcher::IsDirectory,
                    ("traceUnmatched", 0) => Matcher::Never,
                    ("inDirectory", 1) => {
                        let dir = match arg(self, 0) {
                            Value::Path(path, _) => Some(path),
                            Value::Str(text) => Some(normalize(&root.join(text))),
                            _ => None,
                        };
                        match dir {
                            Some(dir) => Matcher::InDirectory(
                                dir.strip_prefix(root).ok().map(Path::to_path_buf),
                            ),
                            None => Matcher::Unknown("inDirectory".into()),
                        }
                    }
                    ("matchExt", 1) => string(arg(self, 0))
                        .map_or(Matcher::Unknown("matchExt".into()), Matcher::Ext),
                    ("matchName", 1) => string(arg(self, 0))
                        .map_or(Matcher::Unknown("matchName".into()), Matcher::Name),
                    ("and" | "or" | "or_", 2) => {
                        let (a, b) = (arg(self, 0), arg(self, 1));
                        let (a, b) = (self.matcher(&a, root), self.matcher(&b, root));
                        if name == "and" {
                            Matcher::And(Box::new(a), Box::new(b))
                        } else {
                            Matcher::Or(Box::new(a), Box::new(b))
                        }
                    }
                    ("debugMatch", 2) => {
                        let inner = arg(self, 1);
                        self.matcher(&inner, root)
                    }
                    _ => Matcher::Unknown(format!("nix-filter.{name}")),
                }
            }
            other => Matcher::Unknown(format!("a matcher that is {}", other.type_name())),
        }
    }

    /// nix-filter's `_toMatcher` of a path: a directory (one the source has files below)
    /// or a file.
    fn path_matcher(&mut self, path: &Path, root: &Path) -> Matcher {
        let is_dir = self.tree_of(root).is_some_and(|tree| {
            path == root
                || tree
                    .files_under(path)
                    .iter()
                    .any(|(file, _)| !file.as_os_str().is_empty())
        });
        Matcher::Path {
            path: path.strip_prefix(root).ok().map(Path::to_path_buf),
            is_dir,
        }
    }
}
