//! Places in the user's files, and what is said about them: a [`SourceLocation`]
//! (`file:line:column`), a [`LocatedError`] (a fault at such a place) and a [`Note`] (a
//! remark about a phase, with its place when known). Every stage that reads the user's
//! files points with these; they are printed only at the edge.

use std::fmt;

use serde::Serialize;

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
pub(crate) struct LocatedError {
    pub location: SourceLocation,
    pub message: String,
}

impl LocatedError {
    /// `err`, about the file `file` that `option` names, at the line and column of a
    /// JSON syntax error in its chain (the whole file for any other fault).
    pub(crate) fn in_json_file(
        option: &str,
        file: &std::path::Path,
        err: &anyhow::Error,
    ) -> LocatedError {
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
pub(crate) fn serialize_location<S: serde::Serializer>(
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
