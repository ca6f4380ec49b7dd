//! Reading files that cargo reads, or that the cache holds, without ever opening anything
//! but a regular file: a FIFO named `Cargo.toml` would block a reader forever, and opening
//! a device can have effects. What is not a regular file is said to be so, unread.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What is found at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// A regular file's contents.
    Contents(Vec<u8>),
    /// Nothing there, or nothing this user can read.
    Absent,
    /// Something other than a regular file or a directory: its kind ("a FIFO", ...).
    Special(&'static str),
    Dir,
    /// A symbolic link (only when links are not followed).
    Link,
}

/// The kind of a non-regular file, for messages.
pub(crate) fn special_kind(kind: fs::FileType) -> Option<&'static str> {
    if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        Some("a device")
    } else {
        None
    }
}

/// What is at `path`; `follow`: whether a symbolic link is read through (a link's target
/// must then be a regular file too).
pub(crate) fn read(path: &Path, follow: bool) -> Found {
    let meta = if follow {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    let Ok(meta) = meta else {
        return Found::Absent;
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Found::Link;
    }
    if kind.is_dir() {
        return Found::Dir;
    }
    if let Some(special) = special_kind(kind) {
        return Found::Special(special);
    }
    match open(path, follow).and_then(|mut file| {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map(|_| bytes)
    }) {
        Ok(bytes) => Found::Contents(bytes),
        Err(_) => Found::Absent,
    }
}

/// `path` opened for reading, when it is (still) a regular file: opened without blocking
/// and, unless `follow`, without following a link, then checked, so that a file swapped
/// for a FIFO after a look at it is not read either.
pub(crate) fn open(path: &Path, follow: bool) -> std::io::Result<File> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = File::options().read(true).custom_flags(flags).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// The contents of `path` when it is a regular file (links followed), `None` otherwise.
pub(crate) fn contents(path: &Path) -> Option<Vec<u8>> {
    match read(path, true) {
        Found::Contents(bytes) => Some(bytes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_named_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("Cargo.toml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert_eq!(read(&fifo, true), Found::Special("a FIFO"));
        assert!(open(&fifo, true).is_err());
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read(&link, true), Found::Contents(b"x".to_vec()));
        assert_eq!(read(&link, false), Found::Link);
        assert!(open(&link, false).is_err());
        assert_eq!(read(&dir.path().join("none"), true), Found::Absent);
    }
}
