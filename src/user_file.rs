//! Files a user hands in (`--costs`, `--baseline`), which a pull request may control: read
//! only up to a documented size cap, so that a huge one is an error, not minutes and
//! gigabytes.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The largest `--costs` or `--baseline` file read: 64 MiB (a report of thousands of
/// misses is a few MiB).
pub(crate) const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The text of `path`, refused when over [`MAX_BYTES`] (without reading more than that).
pub(crate) fn read_capped(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).context("cannot read it")?;
    let too_large = |size: u64| {
        anyhow::anyhow!(
            "{} bytes, over the {} MiB that cache-miss reads",
            crate::text::thousands(size as usize),
            MAX_BYTES / (1024 * 1024)
        )
    };
    if let Ok(metadata) = file.metadata()
        && metadata.is_file()
        && metadata.len() > MAX_BYTES
    {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("cannot read it")?;
    if bytes.len() as u64 > MAX_BYTES {
        bail!(
            "more than {} MiB, the most cache-miss reads",
            MAX_BYTES / (1024 * 1024)
        );
    }
    String::from_utf8(bytes).context("cannot read it: not UTF-8 text")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_over_the_cap_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_BYTES + 1).unwrap();
        let err = read_capped(&big).unwrap_err().to_string();
        assert!(err.contains("67,108,865 bytes, over the 64 MiB"), "{err}");
        std::fs::write(&big, "{}").unwrap();
        assert_eq!(read_capped(&big).unwrap(), "{}");
    }
}
