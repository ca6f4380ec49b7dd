//! A phase as its source states it, before crane's defaults are applied.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::located::{Note, SourceLocation};

/// One attribute value as written in a phase source (TOML table or Nix attribute set).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Bool(bool),
    Int(i64),
    List(Vec<AttrValue>),
    Null,
    /// A value the source reader could not determine statically; the text says what it was.
    Unknown(String),
}

impl AttrValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::Str(_) => "a string",
            AttrValue::Bool(_) => "a boolean",
            AttrValue::Int(_) => "an integer",
            AttrValue::List(_) => "a list",
            AttrValue::Null => "null",
            AttrValue::Unknown(_) => "an unknown value",
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Str(s) => write!(f, "{s:?}"),
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Int(i) => write!(f, "{i}"),
            AttrValue::List(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            AttrValue::Null => write!(f, "null"),
            AttrValue::Unknown(what) => write!(f, "<{what}>"),
        }
    }
}

/// A phase as read from a phases file or a flake: crane's attribute names and values,
/// exactly as given. Produced by `phase::toml::read_phases_file` (and the flake reader);
/// turned into a [`super::Phase`] by [`super::PhaseSet::from_specs`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseSpec {
    pub name: String,
    /// Every attribute of the crane call, `function` and `cargoArtifacts` included.
    /// `cargoArtifacts` names another phase (or is `Null`/empty for none).
    pub attrs: BTreeMap<String, AttrValue>,
    /// The `env` attribute set of the call.
    pub env: BTreeMap<String, String>,
    /// Where the phase is defined.
    pub origin: Option<SourceLocation>,
    /// Things the reader could not determine exactly (where, and which attribute).
    pub approximations: Vec<Note>,
    /// Which crane lib (and so toolchain) builds it, when the source says (flakes).
    pub toolchain: Option<String>,
    /// The Rust release that toolchain is, when the source names one (bindings followed).
    pub toolchain_release: Option<String>,
    /// The channel that toolchain follows when it names no release (bindings followed).
    pub toolchain_channel: Option<&'static str>,
    /// The name the flake binds that crane lib to (`stableCrane`), for fixes written in the
    /// flake's own terms.
    pub crane_lib: Option<String>,
    /// The absolute local directory its `src` is made from, when the source says (a
    /// flake's `src = craneLib.cleanCargoSource ./x;`): which workspace it builds.
    pub src_dir: Option<PathBuf>,
    /// Its `src` as files, when the flake reader could evaluate it.
    pub source: Option<std::sync::Arc<crate::source_set::SourceSet>>,
    /// Where each attribute is written (its name's line and column), when the source
    /// says (phases files).
    pub attr_locations: BTreeMap<String, SourceLocation>,
    /// Set when Nix can never build the phase: its definition fails to evaluate (a
    /// `throw`, a missing attribute, ...). Such a phase is listed, not analysed.
    pub not_evaluable: Option<NotEvaluable>,
    /// The other flake outputs that are this same derivation (`packages.default` beside
    /// `packages.cli`), when the source says (`--nix`).
    pub aliases: Vec<String>,
}

/// Why a phase fails to evaluate in Nix, and where. Produced by the flake reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotEvaluable {
    /// Nix's error message (`attribute 'x' missing`).
    pub message: String,
    pub location: SourceLocation,
}
