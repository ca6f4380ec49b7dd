//! Values of the static Nix evaluator: lazy thunks, environments, errors, and the
//! crane-specific values (crane libs, crane functions, crane derivations).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use rnix::ast::Expr;

use super::files::{FileId, Pos};
use crate::source_set::KnownFilter;

/// A thunk's identity, for tables keyed by thunk. Unique for the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ThunkId(u64);

static NEXT_THUNK: AtomicU64 = AtomicU64::new(0);

/// A lazily evaluated value.
#[derive(Clone)]
pub(crate) struct Thunk(Rc<ThunkCell>);

struct ThunkCell {
    id: ThunkId,
    state: RefCell<ThunkState>,
}

pub(crate) enum ThunkState {
    Pending(Expr, Env, FileId),
    /// `inherit (source) name;`: the attribute, selected when first needed; the text
    /// says what it is (`source.name`), the position where it is inherited.
    Select(Thunk, String, String, Option<Pos>),
    /// A function applied to an argument when first needed (`lib.fix f`).
    Apply(Value, Thunk, Pos, String),
    /// Being forced: forcing it again is an infinite recursion.
    Evaluating,
    Done(Value),
}

impl Thunk {
    fn new(state: ThunkState) -> Thunk {
        let id = ThunkId(NEXT_THUNK.fetch_add(1, Ordering::Relaxed));
        Thunk(Rc::new(ThunkCell {
            id,
            state: RefCell::new(state),
        }))
    }

    pub(crate) fn pending(expr: Expr, env: Env, file: FileId) -> Thunk {
        Thunk::new(ThunkState::Pending(expr, env, file))
    }

    /// `source.name` (written at `pos`), selected when first forced.
    pub(crate) fn select(source: Thunk, name: &str, described: &str, pos: Option<Pos>) -> Thunk {
        Thunk::new(ThunkState::Select(
            source,
            name.to_string(),
            described.to_string(),
            pos,
        ))
    }

    /// A thunk that is `function` applied to itself, when first forced (`lib.fix`).
    pub(crate) fn fix(function: Value, pos: Pos, text: &str) -> Thunk {
        let thunk = Thunk::new(ThunkState::Evaluating);
        thunk.set(ThunkState::Apply(
            function,
            thunk.clone(),
            pos,
            text.to_string(),
        ));
        thunk
    }

    /// `function` applied to `arg` when first forced (written at `pos` as `text`).
    pub(crate) fn applied(function: Value, arg: Thunk, pos: Pos, text: &str) -> Thunk {
        Thunk::new(ThunkState::Apply(function, arg, pos, text.to_string()))
    }

    pub(crate) fn value(value: Value) -> Thunk {
        Thunk::new(ThunkState::Done(value))
    }

    pub(crate) fn id(&self) -> ThunkId {
        self.0.id
    }

    /// The value if already evaluated.
    pub(crate) fn peek(&self) -> Option<Value> {
        match &*self.0.state.borrow() {
            ThunkState::Done(value) => Some(value.clone()),
            _ => None,
        }
    }

    /// The expression it will evaluate, as written, while it is not yet forced.
    pub(crate) fn expression_text(&self) -> Option<String> {
        match &*self.0.state.borrow() {
            ThunkState::Pending(expr, _, _) => Some(super::text_of(expr)),
            _ => None,
        }
    }

    /// Whether it is being forced right now.
    pub(crate) fn is_evaluating(&self) -> bool {
        matches!(*self.0.state.borrow(), ThunkState::Evaluating)
    }

    /// Its state, leaving it marked as being forced.
    pub(crate) fn start(&self) -> ThunkState {
        std::mem::replace(&mut *self.0.state.borrow_mut(), ThunkState::Evaluating)
    }

    pub(crate) fn set(&self, state: ThunkState) {
        *self.0.state.borrow_mut() = state;
    }
}

/// A scope: names to thunks, then the enclosing scope.
#[derive(Clone, Default)]
pub(crate) struct Env(pub Option<Rc<Scope>>);

pub(crate) struct Scope {
    pub names: RefCell<BTreeMap<String, Thunk>>,
    pub parent: Env,
    /// `with EXPR;` scopes answer any name (with an unknown value when the namespace is
    /// not an attribute set we know).
    pub with: Option<Thunk>,
}

impl Env {
    pub(crate) fn child(&self, names: BTreeMap<String, Thunk>) -> Env {
        Env(Some(Rc::new(Scope {
            names: RefCell::new(names),
            parent: self.clone(),
            with: None,
        })))
    }

    pub(crate) fn with_namespace(&self, namespace: Thunk) -> Env {
        Env(Some(Rc::new(Scope {
            names: RefCell::new(BTreeMap::new()),
            parent: self.clone(),
            with: Some(namespace),
        })))
    }

    /// A named binding (not `with` namespaces), innermost first.
    pub(crate) fn lookup(&self, name: &str) -> Option<Thunk> {
        let mut scope = self.0.as_ref();
        while let Some(current) = scope {
            if let Some(thunk) = current.names.borrow().get(name) {
                return Some(thunk.clone());
            }
            scope = current.parent.0.as_ref();
        }
        None
    }

    /// The `with` namespaces, innermost first.
    pub(crate) fn namespaces(&self) -> Vec<Thunk> {
        let mut found = Vec::new();
        let mut scope = self.0.as_ref();
        while let Some(current) = scope {
            if let Some(with) = &current.with {
                found.push(with.clone());
            }
            scope = current.parent.0.as_ref();
        }
        found
    }
}

/// An attribute set; `partial` names merged-in parts that could not be known.
#[derive(Clone, Default)]
pub(crate) struct AttrSetValue {
    pub entries: BTreeMap<String, Thunk>,
    pub partial: Vec<String>,
}

impl AttrSetValue {
    /// A set of exactly these attributes.
    pub(crate) fn known(entries: BTreeMap<String, Thunk>) -> AttrSetValue {
        AttrSetValue {
            entries,
            partial: Vec::new(),
        }
    }

    /// Whether every attribute it has is known: none merged in from an unknown value,
    /// and no name the evaluator could not know (`${system}`). Only then does selecting
    /// a name it lacks fail, as in Nix.
    pub(crate) fn is_complete(&self) -> bool {
        self.partial.is_empty() && !self.entries.keys().any(|k| k.contains("${"))
    }
}

/// A function defined in Nix.
pub(crate) struct Closure {
    pub lambda: rnix::ast::Lambda,
    pub env: Env,
    pub file: FileId,
}

/// A builtin function with no arguments applied yet.
pub(super) fn builtin(b: Builtin) -> Value {
    Value::Builtin(b, Rc::new(Vec::new()))
}

/// Functions the evaluator implements itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Import,
    CallPackage,
    /// `callPackage` of a cross or static package set (`pkgsStatic`, `pkgsCross.x`,
    /// `import nixpkgs { crossSystem = …; }`): the set as named, and its value as written.
    CrossCallPackage(Rc<(String, String)>),
    RemoveAttrs,
    Map,
    ListToAttrs,
    AttrNames,
    GenAttrs,
    MapAttrs,
    OptionalString,
    Optional,
    Optionals,
    OptionalAttrs,
    NameValuePair,
    MapAttrsRenamed,
    /// `lib.concatMapAttrs`.
    ConcatMapAttrs,
    AttrValues,
    Flatten,
    Elem,
    ElemAt,
    GetAttr,
    Throw,
    Abort,
    TryEval,
    /// `lib.makeOverridable f` is `f` here.
    MakeOverridable,
    /// `lib.recurseIntoAttrs set`: the set, marked for `nix flake check`.
    RecurseIntoAttrs,
    FunctionArgs,
    IntersectAttrs,
    Fix,
    RecursiveUpdate,
    ToString,
    ConcatStringsSep,
    /// `builtins.readFile`.
    ReadFile,
    /// `builtins.fromTOML`.
    FromToml,
    /// `lib.importTOML`.
    ImportToml,
    /// crane's `crateNameFromCargoToml`.
    CrateNameFromCargoToml,
    /// `lib.path.append`.
    PathAppend,
    /// A crane derivation's `overrideAttrs`.
    OverrideAttrs(DerivationId),
    /// flake-parts' `mkFlake`.
    MkFlake,
    /// The definitions of one module option (a list), merged as the module system does.
    MergeDefinitions,
    /// A file called with a set of arguments (`true`: as `callPackage` calls it, with
    /// more arguments than are known): blueprint's packages, checks and lib.
    CallFile(std::path::PathBuf, bool),
    /// `crane.mkLib`: makes a crane lib from `pkgs`.
    MkLib,
    /// A function making a source from a local directory (`craneLib.cleanCargoSource`,
    /// `lib.cleanSource`, `lib.fileset.toSource`, `builtins.path`, ...), by name.
    Source(String),
    /// A crane lib's `overrideToolchain` (true: another toolchain) or `overrideScope`
    /// (false: the same one), with the lib's toolchain.
    CraneLibOverride(Toolchain, bool),
    /// `lib.fileset.NAME` (or crane's `craneLib.fileset.NAME`, named `crane:NAME`).
    FileSet(String),
    /// A known `path: type:` source filter called as a function (`filterCargoSources`,
    /// `cleanSourceFilter`).
    PathFilter(String),
    /// The string functions source filters are written with.
    BaseNameOf,
    DirOf,
    HasSuffix,
    HasPrefix,
    HasInfix,
    RemovePrefix,
    /// `builtins.replaceStrings from to s`.
    ReplaceStrings,
    /// `lib.toUpper`, `lib.toLower`.
    ToUpper,
    ToLower,
    Match,
    Any,
    All,
    /// `file.hasExt` of a `lib.fileset.fileFilter` predicate, with the file's name.
    HasExt,
    /// The list and set functions of `collections`.
    ReadDir,
    Filter,
    FilterAttrs,
    Unique,
    ConcatMap,
    ConcatLists,
    Head,
    Length,
    /// `builtins.foldl'`.
    FoldLeft,
    /// `lib.mapAttrsToList`.
    MapAttrsToList,
    RemoveSuffix,
    /// numtide `nix-filter`'s functions (`filter`, `inDirectory`, `matchExt`, ...), by name.
    NixFilter(String),
}

/// Which crane lib (and so which toolchain) something is made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Toolchain {
    /// As written: `crane.mkLib`, `(crane.mkLib pkgs).overrideToolchain (p: …)`.
    pub text: String,
    /// Equal for libs that are the same: the base lib, where it was overridden and with
    /// what. Two libs written alike in different places (or with different arguments)
    /// differ here.
    pub key: String,
    /// Where it was overridden (none for a lib as made); boxed, as most libs have none
    /// and every value holding a lib is as big as this.
    pub origin: Option<Box<Pos>>,
    /// The overlay of an `overrideScope (final: prev: { … })`, when one redefines crane's
    /// functions. It does not change the toolchain, so it is not part of `key`.
    pub scope: Option<ScopeOverlay>,
    /// The target of a lib made from a cross or static package set
    /// (`crane.mkLib pkgs.pkgsStatic`): crane builds for it (`CARGO_BUILD_TARGET`).
    pub target: Option<Rc<super::platform::CrossTarget>>,
    /// The Rust release its toolchain expression evaluates to, or the channel it follows,
    /// if it says (boxed: most libs have none).
    pub version: Option<Rc<ToolchainVersion>>,
}

/// What a crane lib's toolchain expression says of its Rust version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolchainVersion {
    /// A release: `1.70.0`.
    Release(String),
    /// The newest of a channel, no fixed release: `rust-overlay's latest stable`.
    Channel(&'static str),
}

/// `lib.overrideScope overlay`: the overlay function, the lib it overrides (`prev`) and
/// where it is applied.
#[derive(Clone)]
pub(crate) struct ScopeOverlay(pub Rc<Overlay>);

pub(crate) struct Overlay {
    pub function: Value,
    pub prev: Toolchain,
    pub pos: Pos,
}

impl PartialEq for ScopeOverlay {
    fn eq(&self, other: &ScopeOverlay) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ScopeOverlay {}

impl std::fmt::Debug for ScopeOverlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "overrideScope of {}", self.0.prev.text)
    }
}

impl Toolchain {
    /// A lib known by its text alone (`crane.mkLib`, a `craneLib` argument).
    pub(crate) fn named(text: &str) -> Toolchain {
        Toolchain {
            text: text.to_string(),
            key: text.to_string(),
            origin: None,
            scope: None,
            target: None,
            version: None,
        }
    }
}

/// A crane call's identity: the order it was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct DerivationId(pub usize);

/// A crane call: `craneLib.FUNCTION { ... }`.
pub(crate) struct CraneDerivation {
    pub id: DerivationId,
    pub function: String,
    pub args: AttrSetValue,
    /// Set when the arguments fail to evaluate (Nix can never build it).
    pub failure: Option<Rc<EvalError>>,
    pub pos: Pos,
    /// Which crane lib (and so toolchain) made it.
    pub toolchain: Toolchain,
    /// The crane call it was made from: the one it overrides (`overrideAttrs`), or the
    /// one a wrapper made for it (a crane function redefined in an overlay).
    pub made_from: Option<DerivationId>,
}

/// Which Nix error a failure is: `builtins.tryEval` catches only `throw` and `assert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Thrown,
    Assertion,
    Other,
}

/// Why a value fails to evaluate, in Nix's words, and where (known for every failure
/// but an infinite recursion of thunks no expression is written for).
#[derive(Debug, Clone)]
pub(crate) struct EvalError {
    pub kind: ErrorKind,
    pub message: String,
    pub pos: Option<Pos>,
}

#[derive(Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A string with interpolations the evaluator cannot know: the known text (the
    /// unknown pieces left out) and each unknown piece's position and text.
    PartialStr(String, Rc<Vec<(Pos, String)>>),
    /// A path: the absolute location and the text it was written as.
    Path(PathBuf, String),
    List(Rc<Vec<Thunk>>),
    Attrs(Rc<AttrSetValue>),
    Lambda(Rc<Closure>),
    /// A builtin with the arguments applied so far.
    Builtin(Builtin, Rc<Vec<Thunk>>),
    /// A crane library.
    CraneLib(Toolchain),
    /// `craneLib.NAME`, not yet applied.
    CraneFunction(Toolchain, String),
    Derivation(Rc<CraneDerivation>),
    /// A source made from a local directory (`craneLib.cleanCargoSource ./x`): the
    /// directory, the expression as written, and how it is made (its filters). Otherwise as
    /// unknown as its text.
    Source(PathBuf, String, Rc<SourceExpr>),
    /// Something the static evaluator cannot know; the text says what (usually the
    /// expression as written).
    Unknown(String),
    /// A value that fails to evaluate, as it fails in Nix (`throw`, a missing attribute).
    Error(Rc<EvalError>),
}

impl Value {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) | Value::PartialStr(..) => "a string",
            Value::Path(..) => "a path",
            Value::List(_) => "a list",
            Value::Attrs(_) => "an attribute set",
            Value::Lambda(_) | Value::Builtin(..) | Value::CraneFunction(..) => "a function",
            Value::CraneLib(_) => "a crane lib",
            Value::Derivation(_) => "a derivation",
            Value::Source(..) => "a source",
            Value::Unknown(_) => "unknown",
            Value::Error(_) => "an error",
        }
    }

    /// A failure of `kind` at `pos`.
    pub(crate) fn error(kind: ErrorKind, message: String, pos: Option<Pos>) -> Value {
        Value::Error(Rc::new(EvalError { kind, message, pos }))
    }

    /// A value that is known not to be an attribute set (selecting from it fails).
    pub(crate) fn is_known_non_set(&self) -> bool {
        matches!(
            self,
            Value::Null
                | Value::Bool(_)
                | Value::Int(_)
                | Value::Float(_)
                | Value::Str(_)
                | Value::PartialStr(..)
                | Value::Path(..)
                | Value::List(_)
        )
    }
}

/// How a source value is made.
pub(crate) enum SourceExpr {
    /// A local directory as is (`./.`, `self`, `craneLib.path ./.`).
    Dir(PathBuf),
    /// A filter over a source (`cleanSourceWith`, `builtins.path { filter; }`, ...): the
    /// filter, as written, and where it was applied.
    Filtered(Rc<SourceExpr>, PathFilter, String, Pos),
    /// `lib.fileset.toSource { root; fileset; }`, and where it is called.
    ToSource(PathBuf, Rc<FileSetExpr>, Pos),
    /// A file set (`lib.fileset.unions [ … ]`); not a source until `toSource`.
    Files(Rc<FileSetExpr>),
    /// crane's `mkDummySrc { src; }`.
    Dummy(Rc<SourceExpr>),
    /// Made some way the evaluator does not know.
    Unknown,
}

/// A `path: type: bool` filter.
pub(crate) enum PathFilter {
    Known(KnownFilter),
    /// A function the evaluator applies per path.
    Function(Value),
}

/// A `lib.fileset` file set.
pub(crate) enum FileSetExpr {
    /// A path: the file, or every file below the directory (which must exist).
    Path(PathBuf),
    /// `lib.fileset.maybeMissing path`: as a path, or empty when it does not exist.
    MaybeMissing(PathBuf),
    /// `lib.fileset.fileFilter pred path`.
    FileFilter(FilePredicate, PathBuf),
    /// `lib.fileset.gitTracked path`.
    GitTracked(PathBuf),
    Union(Vec<Rc<FileSetExpr>>),
    Intersection(Rc<FileSetExpr>, Rc<FileSetExpr>),
    Difference(Rc<FileSetExpr>, Rc<FileSetExpr>),
    Unknown(String),
}

/// `file: bool` over `{ name; type; hasExt; }`.
pub(crate) enum FilePredicate {
    /// The name is one of these (crane's `cargoTomlAndLock`, `configToml`).
    Names(Vec<String>),
    /// `file.hasExt EXT` (crane's `rust`, `toml`).
    Ext(String),
    Function(Value),
}
