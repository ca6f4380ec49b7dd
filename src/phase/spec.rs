//! A phase as its source states it, before crane's defaults are applied.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

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

/// A place in a source file as users read it: the file (relative to the flake or as
/// given) and, where known, the 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceLocation {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl SourceLocation {
    /// A whole file.
    pub fn file(file: impl Into<String>) -> SourceLocation {
        SourceLocation {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    /// `file:line`, with no column.
    pub fn line(file: impl Into<String>, line: usize) -> SourceLocation {
        SourceLocation {
            line: Some(line),
            ..SourceLocation::file(file)
        }
    }

    /// The same place, without its column.
    pub fn without_column(&self) -> SourceLocation {
        SourceLocation {
            column: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// A fault at a known place in a source file (a phases file's attribute, a syntax error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct LocatedError {
    pub location: SourceLocation,
    pub message: String,
}

impl LocatedError {
    /// `err`, about the file `file` that `option` names, at the line and column of a
    /// JSON syntax error in its chain (the whole file for any other fault).
    pub fn in_json_file(option: &str, file: &std::path::Path, err: &anyhow::Error) -> LocatedError {
        let syntax = err
            .chain()
            .find_map(|cause| cause.downcast_ref::<serde_json::Error>())
            .filter(|json| json.line() > 0);
        LocatedError {
            location: SourceLocation {
                file: file.display().to_string(),
                line: syntax.map(serde_json::Error::line),
                column: syntax.map(serde_json::Error::column),
            },
            message: format!("{option}: {err:#}"),
        }
    }
}

/// `file:line[:column]` in the JSON, where a location is a plain string.
pub fn serialize_location<S: serde::Serializer>(
    location: &Option<SourceLocation>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match location {
        Some(location) => serializer.collect_str(location),
        None => serializer.serialize_none(),
    }
}

/// A remark about a phase, and where in its source it comes from. Kept typed until it is
/// shown; never parsed back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    pub location: Option<SourceLocation>,
    pub text: String,
}

impl Note {
    pub fn at(location: SourceLocation, text: impl Into<String>) -> Note {
        Note {
            location: Some(location),
            text: text.into(),
        }
    }

    /// A note about the phase as a whole, with no place of its own.
    pub fn new(text: impl Into<String>) -> Note {
        Note {
            location: None,
            text: text.into(),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{location}: {}", self.text),
            None => f.write_str(&self.text),
        }
    }
}

/// As `file:line: text` in the JSON.
impl Serialize for Note {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
