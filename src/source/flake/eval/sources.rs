//! Sources made from local directories, as the evaluator keeps them: the filter chain
//! (`cleanSourceWith`, `builtins.path { filter; }`, crane's and nixpkgs' filters, a user's
//! own `path: type: …`), `lib.fileset` expressions, crane's `mkDummySrc`; and their
//! evaluation into a [`SourceSet`] over the files Nix would copy, a user's filter applied
//! per path by this evaluator. Also the string functions such filters are written with
//! (`builtins.match`, `baseNameOf`, `lib.hasSuffix`, ...).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use super::Evaluator;
use super::files::Pos;
use super::value::{
    AttrSetValue, Builtin, FilePredicate, FileSetExpr, PathFilter, SourceExpr, Thunk, Value,
};
use crate::source_set::filters::base_name;
use crate::source_set::{
    Decision, EntryType, KnownFilter, SourceKind, SourceSet, SourceTree, Undecided, Walked, walk,
};

/// Evaluation steps one source's filters may take over all its paths (a few hundred
/// thousand paths of a usual filter); well under the evaluation's own budget, so that a
/// filter never ends the evaluation of the flake.
const FILTER_STEPS: u64 = super::budget::MAX_STEPS / 2;

/// The inputs a crane call may take besides `src`, as given (unforced).
pub(crate) struct GivenInputs {
    /// The call is a buildDepsOnly (only it takes `dummySrc`).
    pub deps_only: bool,
    pub dummy_src: Option<Thunk>,
    pub cargo_lock: Option<Thunk>,
    pub cargo_vendor_dir: Option<Thunk>,
}

/// crane's `craneLib.fileset.*` functions, by name.
pub(super) const CRANE_FILESETS: &[&str] = &[
    "commonCargoSources",
    "cargoTomlAndLock",
    "rust",
    "toml",
    "configToml",
];

/// nixpkgs `lib.fileset.*` functions the evaluator implements.
pub(super) const LIB_FILESETS: &[&str] = &[
    "unions",
    "union",
    "intersection",
    "difference",
    "fileFilter",
    "gitTracked",
    "maybeMissing",
];

/// Arity of a `Builtin::FileSet` function.
pub(super) fn fileset_arity(name: &str) -> usize {
    match name {
        "union" | "intersection" | "difference" | "fileFilter" => 2,
        _ => 1,
    }
}

impl Evaluator {
    /// How the source value `value` is made, for a source function's argument.
    pub(super) fn source_expr(&mut self, value: &Value) -> Rc<SourceExpr> {
        Rc::new(match value {
            Value::Path(path, _) => SourceExpr::Dir(path.clone()),
            Value::Source(_, _, expr) => return expr.clone(),
            Value::Attrs(set) => match self.self_dir_of(set) {
                Some(dir) => SourceExpr::Dir(dir),
                None => SourceExpr::Unknown,
            },
            Value::Str(text) if text.starts_with('/') => SourceExpr::Dir(PathBuf::from(text)),
            _ => SourceExpr::Unknown,
        })
    }

    /// A filter value (`filter = …;`).
    pub(super) fn path_filter(&mut self, value: Value) -> PathFilter {
        match &value {
            Value::Builtin(Builtin::PathFilter(name), args) if args.is_empty() => {
                match name.as_str() {
                    "filterCargoSources" => PathFilter::Known(KnownFilter::CargoSources),
                    _ => PathFilter::Known(KnownFilter::CleanSource),
                }
            }
            _ => PathFilter::Function(value),
        }
    }

    /// The source a source function makes (`name` as in `Builtin::Source`), from its
    /// arguments.
    pub(super) fn made_source(
        &mut self,
        name: &str,
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Rc<SourceExpr> {
        let filtered = |inner: Rc<SourceExpr>, filter: KnownFilter| {
            Rc::new(SourceExpr::Filtered(
                inner,
                PathFilter::Known(filter),
                text.to_string(),
                pos,
            ))
        };
        match name {
            "cleanSource" => {
                let inner = self.force(&args[0]);
                filtered(self.source_expr(&inner), KnownFilter::CleanSource)
            }
            "cleanCargoSource" => {
                let inner = self.force(&args[0]);
                let inner = self.source_expr(&inner);
                let clean = filtered(inner, KnownFilter::CleanSource);
                filtered(clean, KnownFilter::CargoSources)
            }
            "sourceFilesBySuffices" | "sourceByRegex" => {
                let inner = self.force(&args[0]);
                let inner = self.source_expr(&inner);
                match self.strings(&args[1]) {
                    Some(list) if name == "sourceByRegex" => {
                        filtered(inner, KnownFilter::Regex(list))
                    }
                    Some(list) => filtered(inner, KnownFilter::Suffices(list)),
                    None => Rc::new(SourceExpr::Unknown),
                }
            }
            "filterSource" => {
                let filter = self.force(&args[0]);
                let inner = self.force(&args[1]);
                let inner = self.source_expr(&inner);
                let filter = self.path_filter(filter);
                Rc::new(SourceExpr::Filtered(inner, filter, text.to_string(), pos))
            }
            // `{ src; filter; }`, `{ path; filter; }`, or a path.
            "cleanSourceWith" | "path" => match self.force(&args[0]) {
                Value::Attrs(set) => {
                    let key = if set.entries.contains_key("src") {
                        "src"
                    } else {
                        "path"
                    };
                    let inner = match set.entries.get(key).cloned() {
                        Some(inner) => {
                            let inner = self.force(&inner);
                            self.source_expr(&inner)
                        }
                        None => return Rc::new(SourceExpr::Unknown),
                    };
                    match set.entries.get("filter").cloned() {
                        Some(filter) => {
                            let filter = self.force(&filter);
                            let filter = self.path_filter(filter);
                            Rc::new(SourceExpr::Filtered(inner, filter, text.to_string(), pos))
                        }
                        None => inner,
                    }
                }
                other => self.source_expr(&other),
            },
            "toSource" => {
                let Value::Attrs(set) = self.force(&args[0]) else {
                    return Rc::new(SourceExpr::Unknown);
                };
                let root = set.entries.get("root").cloned().map(|r| self.force(&r));
                let fileset = set.entries.get("fileset").cloned().map(|f| self.force(&f));
                match (root, fileset) {
                    (Some(Value::Path(root, _)), Some(fileset)) => {
                        Rc::new(SourceExpr::ToSource(root, self.fileset_expr(&fileset), pos))
                    }
                    _ => Rc::new(SourceExpr::Unknown),
                }
            }
            "mkDummySrc" => match self.force(&args[0]) {
                Value::Attrs(set) => match set.entries.get("src").cloned() {
                    Some(src) => {
                        let src = self.force(&src);
                        Rc::new(SourceExpr::Dummy(self.source_expr(&src)))
                    }
                    None => Rc::new(SourceExpr::Unknown),
                },
                _ => Rc::new(SourceExpr::Unknown),
            },
            _ => Rc::new(SourceExpr::Unknown),
        }
    }

    /// A list of strings, when every element is known.
    fn strings(&mut self, list: &Thunk) -> Option<Vec<String>> {
        let Value::List(items) = self.force(list) else {
            return None;
        };
        items
            .iter()
            .map(|item| match self.force(item) {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// A file set value: a path is the files below it.
    fn fileset_expr(&mut self, value: &Value) -> Rc<FileSetExpr> {
        Rc::new(match value {
            Value::Path(path, _) => FileSetExpr::Path(path.clone()),
            Value::Source(_, _, expr) => match &**expr {
                SourceExpr::Files(set) => return set.clone(),
                _ => FileSetExpr::Unknown("a source where a file set was expected".into()),
            },
            Value::Unknown(what) => FileSetExpr::Unknown(what.clone()),
            other => FileSetExpr::Unknown(other.type_name().to_string()),
        })
    }

    /// `lib.fileset.NAME` or `craneLib.fileset.NAME` (`crane:NAME`) applied to `args`.
    pub(super) fn run_fileset(&mut self, name: &str, args: &[Thunk], text: &str) -> Value {
        let path = |evaluator: &mut Evaluator, thunk: &Thunk| match evaluator.force(thunk) {
            Value::Path(path, _) => Some(path),
            _ => None,
        };
        let set = match name {
            "unions" => match self.force(&args[0]) {
                Value::List(items) => {
                    let mut parts = Vec::new();
                    for item in items.iter() {
                        let value = self.force(item);
                        parts.push(self.fileset_expr(&value));
                    }
                    FileSetExpr::Union(parts)
                }
                _ => FileSetExpr::Unknown(text.to_string()),
            },
            "union" | "intersection" | "difference" => {
                let a = self.force(&args[0]);
                let b = self.force(&args[1]);
                let (a, b) = (self.fileset_expr(&a), self.fileset_expr(&b));
                match name {
                    "union" => FileSetExpr::Union(vec![a, b]),
                    "intersection" => FileSetExpr::Intersection(a, b),
                    _ => FileSetExpr::Difference(a, b),
                }
            }
            "fileFilter" => {
                let predicate = self.force(&args[0]);
                match path(self, &args[1]) {
                    Some(dir) => FileSetExpr::FileFilter(FilePredicate::Function(predicate), dir),
                    None => FileSetExpr::Unknown(text.to_string()),
                }
            }
            "gitTracked" | "maybeMissing" => match path(self, &args[0]) {
                Some(p) if name == "gitTracked" => FileSetExpr::GitTracked(p),
                Some(p) => FileSetExpr::MaybeMissing(p),
                None => FileSetExpr::Unknown(text.to_string()),
            },
            crane => match (crane.strip_prefix("crane:"), path(self, &args[0])) {
                (Some(function), Some(dir)) => crane_fileset(function, dir),
                _ => FileSetExpr::Unknown(text.to_string()),
            },
        };
        let dir = PathBuf::new();
        Value::Source(
            dir,
            text.to_string(),
            Rc::new(SourceExpr::Files(Rc::new(set))),
        )
    }

    /// A phase's source with the inputs crane takes besides `src` when they are given:
    /// a buildDepsOnly's `dummySrc` replaces its dummy of `src`; a `cargoLock` path and a
    /// local `cargoVendorDir`'s files are inputs as they are. What is not a plain path or
    /// source is said (the set is approximate).
    pub(crate) fn with_given_inputs(
        &mut self,
        source: Option<Arc<SourceSet>>,
        given: &GivenInputs,
    ) -> Option<SourceSet> {
        let mut source = source.map(|s| (*s).clone());
        if let Some(dummy) = given.dummy_src.as_ref().filter(|_| given.deps_only) {
            let value = self.force(dummy);
            match self.source_set(&value) {
                Some(mut set) => {
                    if set.kind != SourceKind::Dummy {
                        set.kind = SourceKind::DummyGiven;
                    }
                    source = Some(set);
                }
                None => {
                    let source = source.as_mut()?;
                    source.undecided.push(Undecided {
                        filter: "dummySrc".into(),
                        why: format!(
                            "it is {}, not a local source; taken as crane's dummy of src",
                            value.type_name()
                        ),
                        paths: 0,
                        example: None,
                    });
                }
            }
        }
        let source_mut = source.as_mut()?;
        for (key, thunk) in [
            ("cargoLock", &given.cargo_lock),
            ("cargoVendorDir", &given.cargo_vendor_dir),
        ] {
            let Some(thunk) = thunk else {
                continue;
            };
            match self.force(thunk) {
                Value::Path(path, _) if path.is_file() => source_mut.extra_inputs.push(path),
                Value::Path(path, _) if path.is_dir() => {
                    if let Some(tree) = self.tree_of(&path) {
                        source_mut.extra_inputs.extend(
                            tree.files_under(&path)
                                .into_iter()
                                .map(|(f, _)| path.join(f)),
                        );
                    }
                }
                Value::Null => {}
                other => source_mut.undecided.push(Undecided {
                    filter: key.to_string(),
                    why: format!(
                        "it is {}, not a local path: what it reads is not followed",
                        other.type_name()
                    ),
                    paths: 0,
                    example: None,
                }),
            }
        }
        source
    }

    /// The phase's source as files, when `value` is made from a local directory.
    pub(crate) fn source_set(&mut self, value: &Value) -> Option<SourceSet> {
        let (text, expr) = match value {
            Value::Source(_, text, expr) => (text.clone(), expr.clone()),
            Value::Path(_, text) => (text.clone(), self.source_expr(value)),
            Value::Attrs(set) => {
                let dir = self.self_dir_of(set)?;
                ("self".to_string(), Rc::new(SourceExpr::Dir(dir)))
            }
            _ => return None,
        };
        self.evaluate_source(&expr, &text)
    }

    fn evaluate_source(&mut self, expr: &SourceExpr, text: &str) -> Option<SourceSet> {
        match expr {
            SourceExpr::Dir(_) | SourceExpr::Filtered(..) => self.evaluate_chain(expr, text),
            SourceExpr::ToSource(root, set, pos) => {
                let tree = self.tree_of(root)?;
                let mut undecided = Vec::new();
                let files = self.evaluate_fileset(set, &tree, *pos, &mut undecided);
                let relative: BTreeSet<PathBuf> = files
                    .iter()
                    .filter_map(|f| f.strip_prefix(root).ok().map(Path::to_path_buf))
                    .collect();
                let dirs = relative
                    .iter()
                    .flat_map(|f| f.ancestors().skip(1).map(Path::to_path_buf))
                    .filter(|d| !d.as_os_str().is_empty())
                    .collect();
                let walked = Walked {
                    files: relative,
                    dirs,
                    undecided: Vec::new(),
                };
                let mut source =
                    SourceSet::new(root, text, SourceKind::Filtered, tree.listing, walked);
                source.undecided = undecided;
                Some(source)
            }
            SourceExpr::Dummy(inner) => {
                let mut source = self.evaluate_source(inner, text)?;
                source.kind = SourceKind::Dummy;
                Some(source)
            }
            SourceExpr::Files(_) | SourceExpr::Unknown => None,
        }
    }

    /// A directory and the filters over it, outermost first.
    fn evaluate_chain(&mut self, expr: &SourceExpr, text: &str) -> Option<SourceSet> {
        let mut filters: Vec<(&PathFilter, &str, Pos)> = Vec::new();
        let mut current = expr;
        let root = loop {
            match current {
                SourceExpr::Dir(dir) => break dir.clone(),
                SourceExpr::Filtered(inner, filter, written, pos) => {
                    filters.push((filter, written, *pos));
                    current = inner;
                }
                _ => return None,
            }
        };
        let tree = self.tree_of(&root)?;
        let files = tree.files_under(&root);
        let kind = chain_kind(filters.iter().map(|(f, _, _)| *f));
        let mut whys: BTreeMap<String, String> = BTreeMap::new();
        // Nix asks the outermost filter first (`filter path type && orig.filter path
        // type`); the answer is the same in any order, and the known rules are cheap, so
        // they go first and a function is only asked about paths they keep.
        filters.sort_by_key(|(filter, _, _)| matches!(filter, PathFilter::Function(_)));
        // A filter runs once per path: it has a budget of its own, not the flake's.
        let flake_steps = std::mem::take(&mut self.spent.steps);
        let walked = walk(&files, |relative, entry| {
            let mut decision = Decision::Keep;
            for (filter, written, pos) in &filters {
                let next = self.decide(filter, &root, relative, entry, *pos, written, &mut whys);
                decision = match decision {
                    Decision::Keep => next,
                    Decision::Undecided if next == Decision::Drop => Decision::Drop,
                    other => other,
                };
                if decision == Decision::Drop {
                    break;
                }
            }
            decision
        });
        self.spent.steps = flake_steps;
        let undecided = (!walked.undecided.is_empty()).then(|| Undecided {
            filter: whys
                .keys()
                .next()
                .cloned()
                .unwrap_or_else(|| text.to_string()),
            why: whys.values().next().cloned().unwrap_or_default(),
            paths: walked.undecided.len(),
            example: walked.undecided.first().cloned(),
        });
        let mut source = SourceSet::new(&root, text, kind, tree.listing, walked);
        source.undecided.extend(undecided);
        Some(source)
    }

    /// One filter's answer for one path (`relative` to `root`).
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        filter: &PathFilter,
        root: &Path,
        relative: &Path,
        entry: EntryType,
        pos: Pos,
        written: &str,
        whys: &mut BTreeMap<String, String>,
    ) -> Decision {
        match filter {
            PathFilter::Known(known) => known.keeps(relative, entry),
            PathFilter::Function(_) if self.spent.steps > FILTER_STEPS => {
                whys.entry(written.to_string()).or_insert_with(|| {
                    format!("its evaluation took more than {FILTER_STEPS} steps; the paths after are not asked")
                });
                Decision::Undecided
            }
            PathFilter::Function(function) => {
                let path = root.join(relative).to_string_lossy().into_owned();
                let with_path = self.apply(
                    function.clone(),
                    Thunk::value(Value::Str(path)),
                    pos,
                    written,
                );
                let result = self.apply(
                    with_path,
                    Thunk::value(Value::Str(entry.as_str().to_string())),
                    pos,
                    written,
                );
                match result {
                    Value::Bool(keep) => Decision::of(keep),
                    other => {
                        let why = match other {
                            Value::Error(error) => format!("it fails: {}", error.message),
                            Value::Unknown(what) => format!("`{what}` is not known statically"),
                            other => format!("it returns {}", other.type_name()),
                        };
                        whys.entry(written.to_string()).or_insert(why);
                        Decision::Undecided
                    }
                }
            }
        }
    }

    /// The files of a file set (absolute paths).
    fn evaluate_fileset(
        &mut self,
        set: &FileSetExpr,
        tree: &SourceTree,
        pos: Pos,
        undecided: &mut Vec<Undecided>,
    ) -> BTreeSet<PathBuf> {
        let under = |dir: &Path| -> BTreeSet<PathBuf> {
            let exact = dir.strip_prefix(&tree.root).ok().and_then(|rel| {
                tree.files
                    .binary_search_by(|(f, _)| f.as_path().cmp(rel))
                    .ok()
            });
            match exact {
                Some(_) => BTreeSet::from([dir.to_path_buf()]),
                None => tree
                    .files_under(dir)
                    .into_iter()
                    .map(|(f, _)| dir.join(f))
                    .collect(),
            }
        };
        match set {
            FileSetExpr::Path(path)
            | FileSetExpr::MaybeMissing(path)
            | FileSetExpr::GitTracked(path) => under(path),
            FileSetExpr::FileFilter(predicate, dir) => {
                let mut kept = BTreeSet::new();
                let mut unknown = Vec::new();
                for (file, entry) in tree.files_under(dir) {
                    match self.file_predicate(predicate, &file, entry, pos) {
                        Decision::Keep => {
                            kept.insert(dir.join(&file));
                        }
                        Decision::Undecided => {
                            unknown.push(file.clone());
                            kept.insert(dir.join(&file));
                        }
                        Decision::Drop => {}
                    }
                }
                if let Some(first) = unknown.first() {
                    undecided.push(Undecided {
                        filter: "lib.fileset.fileFilter".into(),
                        why: "its predicate is not known statically".into(),
                        paths: unknown.len(),
                        example: Some(first.clone()),
                    });
                }
                kept
            }
            FileSetExpr::Union(parts) => parts
                .iter()
                .flat_map(|p| self.evaluate_fileset(p, tree, pos, undecided))
                .collect(),
            FileSetExpr::Intersection(a, b) => {
                let b = self.evaluate_fileset(b, tree, pos, undecided);
                self.evaluate_fileset(a, tree, pos, undecided)
                    .intersection(&b)
                    .cloned()
                    .collect()
            }
            FileSetExpr::Difference(a, b) => {
                let b = self.evaluate_fileset(b, tree, pos, undecided);
                self.evaluate_fileset(a, tree, pos, undecided)
                    .difference(&b)
                    .cloned()
                    .collect()
            }
            FileSetExpr::Unknown(what) => {
                undecided.push(Undecided {
                    filter: what.clone(),
                    why: "this part of the file set is not known statically (left out)".into(),
                    paths: 0,
                    example: None,
                });
                BTreeSet::new()
            }
        }
    }

    /// A `fileFilter` predicate's answer for `file` (relative to the filtered directory).
    fn file_predicate(
        &mut self,
        predicate: &FilePredicate,
        file: &Path,
        entry: EntryType,
        pos: Pos,
    ) -> Decision {
        let name = base_name(file);
        match predicate {
            FilePredicate::Names(names) => Decision::of(names.iter().any(|n| n == name)),
            FilePredicate::Ext(ext) => Decision::of(super::strings::has_ext(name, ext)),
            FilePredicate::Function(function) => {
                let file_value = Value::Attrs(Rc::new(AttrSetValue::known(BTreeMap::from([
                    (
                        "name".to_string(),
                        Thunk::value(Value::Str(name.to_string())),
                    ),
                    (
                        "type".to_string(),
                        Thunk::value(Value::Str(entry.as_str().to_string())),
                    ),
                    (
                        "hasExt".to_string(),
                        Thunk::value(Value::Builtin(
                            Builtin::HasExt,
                            Rc::new(vec![Thunk::value(Value::Str(name.to_string()))]),
                        )),
                    ),
                ]))));
                match self.apply(
                    function.clone(),
                    Thunk::value(file_value),
                    pos,
                    "fileFilter",
                ) {
                    Value::Bool(keep) => Decision::of(keep),
                    _ => Decision::Undecided,
                }
            }
        }
    }

    /// The tree a directory belongs to, read once per repository or directory.
    pub(super) fn tree_of(&mut self, dir: &Path) -> Option<Rc<SourceTree>> {
        if let Some(tree) = self.source_trees.iter().find(|t| dir.starts_with(&t.root)) {
            return Some(tree.clone());
        }
        if !dir.exists() {
            return None;
        }
        let tree = Rc::new(SourceTree::read(dir).ok()?);
        self.source_trees.push(tree.clone());
        Some(tree)
    }
}

/// crane's `craneLib.fileset.NAME dir`, as its `lib/fileset/NAME.nix` defines it.
fn crane_fileset(function: &str, dir: PathBuf) -> FileSetExpr {
    let filter = |predicate| Rc::new(FileSetExpr::FileFilter(predicate, dir.clone()));
    let names =
        |names: &[&str]| FilePredicate::Names(names.iter().map(|n| n.to_string()).collect());
    match function {
        "cargoTomlAndLock" => FileSetExpr::FileFilter(names(&["Cargo.toml", "Cargo.lock"]), dir),
        "configToml" => FileSetExpr::FileFilter(names(&["config.toml"]), dir),
        "rust" => FileSetExpr::FileFilter(FilePredicate::Ext("rs".into()), dir),
        "toml" => FileSetExpr::FileFilter(FilePredicate::Ext("toml".into()), dir),
        "commonCargoSources" => FileSetExpr::Union(vec![
            filter(names(&["Cargo.toml", "Cargo.lock"])),
            filter(FilePredicate::Ext("rs".into())),
            filter(FilePredicate::Ext("toml".into())),
        ]),
        other => FileSetExpr::Unknown(format!("craneLib.fileset.{other}")),
    }
}

/// What a filter chain amounts to, for the findings.
fn chain_kind<'a>(filters: impl Iterator<Item = &'a PathFilter>) -> SourceKind {
    let mut kind = SourceKind::Unfiltered;
    for filter in filters {
        kind = match (kind, filter) {
            (_, PathFilter::Known(KnownFilter::CleanSource)) => kind,
            (
                SourceKind::Unfiltered | SourceKind::CargoOnly,
                PathFilter::Known(KnownFilter::CargoSources),
            ) => SourceKind::CargoOnly,
            _ => SourceKind::Filtered,
        };
    }
    kind
}
