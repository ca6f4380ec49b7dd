//! The flake's files: parsing them, and saying where something is written in them
//! (`file:line` and `file:line:column`).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rnix::ast::Expr;
use rowan::ast::AstNode;

use crate::located::{LocatedError, SourceLocation};
use crate::source::flake::check;

/// One of the flake's parsed files, by the order it was read in (the flake's own file
/// first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FileId(u32);

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where in the flake's files something is: the file and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub file: FileId,
    pub offset: usize,
}

impl Pos {
    /// Where `node` starts in `file`.
    pub(crate) fn of(node: &impl AstNode, file: FileId) -> Pos {
        Pos {
            file,
            offset: usize::from(node.syntax().text_range().start()),
        }
    }
}

/// A parsed file of the flake.
pub(crate) struct SourceFile {
    pub path: PathBuf,
    /// The path as shown to users, relative to the flake's directory.
    pub shown: String,
    pub text: String,
    /// The parsed file, for looking through it again.
    pub syntax: rnix::SyntaxNode,
}

/// The files read so far, the flake's directory they are shown relative to, and the
/// directory files may be read from.
pub(crate) struct Files {
    files: Vec<SourceFile>,
    pub base_dir: PathBuf,
    /// What Nix copies with the flake: the git repository holding it (a flake in a
    /// subdirectory of a repository is copied with the whole repository, so `../x` is
    /// still inside), else the flake's directory. Nothing outside it is ever read.
    pub readable: PathBuf,
}

impl Files {
    pub(crate) fn new(base_dir: &Path) -> Files {
        let readable = base_dir
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .unwrap_or(base_dir);
        Files {
            files: Vec::new(),
            base_dir: base_dir.to_path_buf(),
            readable: readable.to_path_buf(),
        }
    }

    pub(crate) fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file read, with its id.
    pub(crate) fn all(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, file)| (FileId(i as u32), file))
    }

    /// The flake's own file (the first one read).
    pub(crate) fn first(&self) -> Option<&SourceFile> {
        self.files.first()
    }

    /// The directory a file is in (relative paths in it resolve there).
    pub(crate) fn dir_of(&self, id: FileId) -> PathBuf {
        self.get(id)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Parses a file; a syntax error or an undefined variable is a [`LocatedError`] at
    /// `file:line:column`, as Nix reports it before evaluating anything.
    pub(crate) fn parse(&mut self, text: &str, path: &Path) -> Result<(FileId, Expr)> {
        let shown = path
            .strip_prefix(&self.base_dir)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.display().to_string());
        let at = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            let location = SourceLocation {
                column: Some(column),
                ..SourceLocation::line(shown.as_str(), line)
            };
            anyhow::Error::new(LocatedError { location, message })
        };
        if let Some((offset, message)) = check::too_deep(text) {
            return Err(at(offset, format!("syntax error: {message}")));
        }
        let parsed = rnix::Root::parse(text);
        if !parsed.errors().is_empty() {
            let (offset, message) = check::syntax_error(text, &parsed.syntax(), parsed.errors());
            let message = format!("syntax error: {message}");
            return Err(match offset {
                Some(offset) => at(offset, message),
                None => whole_file(&shown, message),
            });
        }
        if let Some((offset, name)) = check::undefined_variable(&parsed.syntax()) {
            return Err(at(offset, format!("undefined variable `{name}`")));
        }
        let expr = parsed
            .tree()
            .expr()
            .ok_or_else(|| whole_file(&shown, "the file has no expression".to_string()))?;
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            shown,
            text: text.to_string(),
            syntax: parsed.syntax(),
        });
        Ok((FileId(self.files.len() as u32 - 1), expr))
    }

    /// `file:line` of a position.
    pub(crate) fn location(&self, pos: Pos) -> SourceLocation {
        self.place(pos).without_column()
    }

    /// The file (as shown), line and column of a position.
    pub(crate) fn place(&self, pos: Pos) -> SourceLocation {
        let file = self.get(pos.file);
        let (line, column) = line_column(&file.text, pos.offset);
        SourceLocation {
            file: file.shown.clone(),
            line: Some(line),
            column: Some(column),
        }
    }
}

/// A fault of a whole file (no line of its own).
fn whole_file(shown: &str, message: String) -> anyhow::Error {
    anyhow::Error::new(LocatedError {
        location: SourceLocation::file(shown),
        message,
    })
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = before.len() - line_start + 1;
    (line, column)
}

/// Why a file of the flake cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    Missing,
    /// Not a regular file (a FIFO, a device, a socket, a directory): never opened.
    NotRegular(&'static str),
    TooLarge(u64),
    NotUtf8,
    Other(String),
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Missing => write!(f, "no such file"),
            Unreadable::NotRegular(kind) => write!(f, "not a regular file ({kind})"),
            Unreadable::TooLarge(len) => write!(
                f,
                "{} MiB, larger than the {} MiB a flake file may be",
                len >> 20,
                MAX_FILE >> 20
            ),
            Unreadable::NotUtf8 => write!(f, "not UTF-8 text"),
            Unreadable::Other(error) => write!(f, "{error}"),
        }
    }
}

/// The most a flake file (or a file read with `readFile`) may hold.
pub(crate) const MAX_FILE: u64 = 16 << 20;

/// Reads a regular file of at most [`MAX_FILE`] bytes as text. Anything else (`/dev/zero`,
/// a FIFO, a socket) is refused by its type before it is opened, so reading never blocks
/// or runs away.
pub(crate) fn read_regular(path: &Path) -> Result<String, Unreadable> {
    use std::io::Read;
    let metadata = std::fs::metadata(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => Unreadable::Missing,
        _ => Unreadable::Other(err.to_string()),
    })?;
    if !metadata.is_file() {
        return Err(Unreadable::NotRegular(file_kind(&metadata.file_type())));
    }
    if metadata.len() > MAX_FILE {
        return Err(Unreadable::TooLarge(metadata.len()));
    }
    let file = std::fs::File::open(path).map_err(|err| Unreadable::Other(err.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| Unreadable::Other(err.to_string()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Unreadable::TooLarge(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| Unreadable::NotUtf8)
}

/// What kind of file something that is not a regular file is.
#[cfg(unix)]
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Where a path of the flake really is: `..` and symbolic links resolved. `None` when it
/// does not exist.
pub(crate) fn resolved(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok()
}
