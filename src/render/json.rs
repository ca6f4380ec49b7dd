//! The JSON output contract, version 1 (see DESIGN.md): other tools rely on it.

use serde::Serialize;

/// The version of every `--format json` document (the contract in `schemas/`).
pub const VERSION: u32 = 1;

/// `value` as the pretty JSON every command prints, with its final newline. Serializing
/// plain data with string keys cannot fail.
pub(crate) fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

#[derive(Serialize)]
struct JsonError<'a> {
    version: u32,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: String,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
}

/// A failed command under `--format json`: `{"version": 1, "error": {"message", "file",
/// "line", "column"}}`, the place `null` where no error of the chain names one.
pub fn render_error(err: &anyhow::Error) -> String {
    let location = crate::phase::error_location(err);
    let json = JsonError {
        version: VERSION,
        error: ErrorBody {
            message: format!("{err:#}"),
            file: location.map(|l| l.file.as_str()),
            line: location.and_then(|l| l.line),
            column: location.and_then(|l| l.column),
        },
    };
    pretty(&json)
}
