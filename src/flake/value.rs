//! Values of the static Nix evaluator: lazy thunks, environments, and the crane-specific
//! values (crane libs, crane functions, crane derivations).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use rnix::ast::Expr;

/// Where in the flake's files something is: index into the evaluator's files, offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub file: usize,
    pub offset: usize,
}

/// A lazily evaluated value.
#[derive(Clone)]
pub struct Thunk(pub Rc<RefCell<ThunkState>>);

pub enum ThunkState {
    Pending(Expr, Env, usize),
    /// `inherit (source) name;`: the attribute, selected when first needed; the text
    /// says what it is (`source.name`).
    Select(Thunk, String, String),
    /// A function applied to an argument when first needed (`lib.fix f`).
    Apply(Value, Thunk, Pos, String),
    /// Being forced: forcing it again is an infinite recursion.
    Evaluating,
    Done(Value),
}

impl Thunk {
    pub fn pending(expr: Expr, env: Env, file: usize) -> Thunk {
        Thunk(Rc::new(RefCell::new(ThunkState::Pending(expr, env, file))))
    }

    /// `source.name`, selected when first forced.
    pub fn select(source: Thunk, name: &str, described: &str) -> Thunk {
        Thunk(Rc::new(RefCell::new(ThunkState::Select(
            source,
            name.to_string(),
            described.to_string(),
        ))))
    }

    /// A thunk that is `function` applied to itself, when first forced (`lib.fix`).
    pub fn fix(function: Value, pos: Pos, text: &str) -> Thunk {
        let thunk = Thunk(Rc::new(RefCell::new(ThunkState::Evaluating)));
        *thunk.0.borrow_mut() = ThunkState::Apply(function, thunk.clone(), pos, text.to_string());
        thunk
    }

    /// Identity of the thunk (for tables keyed by thunk).
    pub fn key(&self) -> usize {
        Rc::as_ptr(&self.0) as usize
    }

    pub fn value(value: Value) -> Thunk {
        Thunk(Rc::new(RefCell::new(ThunkState::Done(value))))
    }

    /// The value if already evaluated.
    pub fn peek(&self) -> Option<Value> {
        match &*self.0.borrow() {
            ThunkState::Done(value) => Some(value.clone()),
            _ => None,
        }
    }
}

/// A scope: names to thunks, then the enclosing scope.
#[derive(Clone, Default)]
pub struct Env(pub Option<Rc<Scope>>);

pub struct Scope {
    pub names: RefCell<BTreeMap<String, Thunk>>,
    pub parent: Env,
    /// `with EXPR;` scopes answer any name (with an unknown value when the namespace is
    /// not an attribute set we know).
    pub with: Option<Thunk>,
}

impl Env {
    pub fn child(&self, names: BTreeMap<String, Thunk>) -> Env {
        Env(Some(Rc::new(Scope {
            names: RefCell::new(names),
            parent: self.clone(),
            with: None,
        })))
    }

    pub fn with_namespace(&self, namespace: Thunk) -> Env {
        Env(Some(Rc::new(Scope {
            names: RefCell::new(BTreeMap::new()),
            parent: self.clone(),
            with: Some(namespace),
        })))
    }

    /// A named binding (not `with` namespaces), innermost first.
    pub fn lookup(&self, name: &str) -> Option<Thunk> {
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
    pub fn namespaces(&self) -> Vec<Thunk> {
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
pub struct AttrSetValue {
    pub entries: BTreeMap<String, Thunk>,
    pub partial: Vec<String>,
}

/// A function defined in Nix.
pub struct Closure {
    pub lambda: rnix::ast::Lambda,
    pub env: Env,
    pub file: usize,
}

/// Functions the evaluator implements itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Builtin {
    Import,
    CallPackage,
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
    AttrValues,
    Flatten,
    Elem,
    /// `lib.makeOverridable f` is `f` here.
    MakeOverridable,
    FunctionArgs,
    IntersectAttrs,
    Fix,
    RecursiveUpdate,
    ToString,
    ConcatStringsSep,
    /// `crane.mkLib`: makes a crane lib from `pkgs`.
    MkLib,
    /// A function making a source from a local directory (`craneLib.cleanCargoSource`,
    /// `lib.cleanSource`, `lib.fileset.toSource`, `builtins.path`, ...), by name.
    Source(String),
    /// A crane lib's `overrideToolchain` (true: another toolchain) or `overrideScope`
    /// (false: the same one), with the lib's toolchain.
    CraneLibOverride(Toolchain, bool),
}

/// Which crane lib (and so which toolchain) something is made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// As written: `crane.mkLib`, `(crane.mkLib pkgs).overrideToolchain (p: …)`.
    pub text: String,
    /// Equal for libs that are the same: the base lib, where it was overridden and with
    /// what. Two libs written alike in different places (or with different arguments)
    /// differ here.
    pub key: String,
    /// Where it was overridden (none for a lib as made).
    pub origin: Option<Pos>,
}

impl Toolchain {
    /// A lib known by its text alone (`crane.mkLib`, a `craneLib` argument).
    pub fn named(text: &str) -> Toolchain {
        Toolchain {
            text: text.to_string(),
            key: text.to_string(),
            origin: None,
        }
    }
}

/// A crane call: `craneLib.FUNCTION { ... }`.
pub struct CraneDerivation {
    pub id: usize,
    pub function: String,
    pub args: AttrSetValue,
    pub pos: Pos,
    /// Which crane lib (and so toolchain) made it.
    pub toolchain: Toolchain,
}

#[derive(Clone)]
pub enum Value {
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
    /// directory and the expression as written. Otherwise as unknown as its text.
    Source(PathBuf, String),
    /// Something the static evaluator cannot know; the text says what (usually the
    /// expression as written).
    Unknown(String),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
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
        }
    }
}
