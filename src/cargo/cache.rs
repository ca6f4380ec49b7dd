//! The resolution cache: cargo's answers (unit graphs, metadata, version lines) stored on
//! disk under a key made of everything the answer depends on (see [`super::inputs`]), so a
//! repeated run asks cargo nothing. Entries are written atomically (a temp file renamed into
//! place), carry a checksum of their answer, and are never trusted when it does not match:
//! such an entry is ignored, cargo asked again, and the entry rewritten. The cache is
//! bounded: past [`DEFAULT_LIMIT`] bytes the least recently used entries are removed.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// Where the cache lives, as the command line chose it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheLocation {
    /// `$XDG_CACHE_HOME/cache-miss`, else `~/.cache/cache-miss`.
    #[default]
    Default,
    /// `--cache-dir DIR`.
    Dir(PathBuf),
    /// `--no-cache`: every answer comes from cargo.
    Off,
}

/// How many bytes of answers the cache keeps before it evicts the least recently used.
pub const DEFAULT_LIMIT: u64 = 512 * 1024 * 1024;

/// The first bytes of every entry: the format, so another version's entries are never read.
const MAGIC: &[u8] = b"cache-miss resolution cache 1\n";

/// Temp files older than this are a crashed writer's: removed when the cache is pruned.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// A key: the SHA-256 of every input of one cargo answer. Produced by [`KeyBuilder::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

/// Collects the inputs of a key; each is a named field, so that no two different input
/// lists hash alike.
#[derive(Clone)]
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    pub fn new(question: &str) -> KeyBuilder {
        let mut builder = KeyBuilder(Sha256::new());
        builder.field("question", question.as_bytes());
        builder
    }

    pub fn field(&mut self, name: &str, value: &[u8]) -> &mut KeyBuilder {
        for part in [name.as_bytes(), value] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
        self
    }

    pub fn finish(self) -> CacheKey {
        CacheKey(self.0.finalize().into())
    }
}

impl CacheKey {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn hex(&self) -> String {
        hex(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many answers came from the cache and how many from cargo in this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: usize,
    pub misses: usize,
}

/// The on-disk store of cargo's answers. Produced by [`ResolutionCache::open`].
#[derive(Debug)]
pub struct ResolutionCache {
    /// The versioned directory the entries live in.
    root: PathBuf,
    limit: u64,
    /// The bytes the entries take, once counted; `None` until the first write.
    size: Mutex<Option<u64>>,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl ResolutionCache {
    /// The cache at `location`, or `None` for `--no-cache`, or when the default location
    /// has no home to live in. An explicit `--cache-dir` that cannot be a directory is an
    /// error.
    pub fn open(location: &CacheLocation) -> Result<Option<ResolutionCache>> {
        let dir = match location {
            CacheLocation::Off => return Ok(None),
            CacheLocation::Dir(dir) => {
                fs::create_dir_all(dir).with_context(|| {
                    format!("--cache-dir {}: cannot create the directory", dir.display())
                })?;
                if !dir.is_dir() {
                    bail!("--cache-dir {}: not a directory", dir.display());
                }
                dir.clone()
            }
            CacheLocation::Default => match default_dir() {
                Some(dir) => dir,
                None => return Ok(None),
            },
        };
        Ok(Some(ResolutionCache::at(&dir, DEFAULT_LIMIT)))
    }

    /// A cache in `dir` that keeps at most `limit` bytes of entries.
    pub fn at(dir: &Path, limit: u64) -> ResolutionCache {
        ResolutionCache {
            root: dir.join("v1"),
            limit,
            size: Mutex::new(None),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    fn entry_path(&self, key: &CacheKey) -> PathBuf {
        let hex = key.hex();
        // Hex digits are ASCII: the split is on a character boundary.
        let (shard, rest) = hex.split_at_checked(2).unwrap_or(("", &hex));
        self.root.join(shard).join(rest)
    }

    /// The stored answer for `key`, if there is one whose checksum holds. A hit marks the
    /// entry as recently used.
    pub fn get(&self, key: &CacheKey) -> Option<Vec<u8>> {
        let path = self.entry_path(key);
        let answer = fs::read(&path)
            .ok()
            .and_then(|bytes| verified_answer(&bytes));
        match &answer {
            Some(_) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                let now = fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|file| file.set_modified(SystemTime::now()));
                drop(now);
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        answer
    }

    /// Stores `answer` under `key`: written to a temp file beside the entries and renamed
    /// into place, so a reader sees the old entry, the new one, or none. A cache that
    /// cannot be written is no cache; the run goes on.
    pub fn put(&self, key: &CacheKey, answer: &[u8]) {
        let path = self.entry_path(key);
        let mut entry = Vec::with_capacity(MAGIC.len() + 65 + answer.len());
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(hex(&Sha256::digest(answer)).as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(answer);
        let written = (|| -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(&self.root);
            fs::create_dir_all(dir)?;
            let mut temp = tempfile::NamedTempFile::new_in(&self.root)?;
            temp.write_all(&entry)?;
            temp.persist(&path).map_err(|err| err.error)?;
            Ok(())
        })();
        if written.is_ok() {
            self.account(entry.len() as u64);
        }
    }

    /// Adds a written entry's size; past the limit, evicts.
    fn account(&self, bytes: u64) {
        let Ok(mut size) = self.size.lock() else {
            return;
        };
        let total = match *size {
            Some(total) => total + bytes,
            None => self.entries().iter().map(|e| e.size).sum(),
        };
        *size = Some(if total > self.limit {
            self.evict()
        } else {
            total
        });
    }

    /// Every entry with its size and last use.
    fn entries(&self) -> Vec<Entry> {
        let mut entries = Vec::new();
        let Ok(shards) = fs::read_dir(&self.root) else {
            return entries;
        };
        for shard in shards.flatten() {
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                if let Ok(meta) = file.metadata() {
                    entries.push(Entry {
                        path: file.path(),
                        size: meta.len(),
                        used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    });
                }
            }
        }
        entries
    }

    /// Removes the least recently used entries until the rest take at most three quarters
    /// of the limit (so that eviction is not needed again at the next write), and temp
    /// files a crashed writer left; returns the bytes left.
    fn evict(&self) -> u64 {
        let mut entries = self.entries();
        entries.sort_by_key(|e| std::cmp::Reverse(e.used));
        let keep = self.limit / 4 * 3;
        let mut total = 0;
        for entry in entries {
            if total + entry.size <= keep {
                total += entry.size;
            } else {
                let _ = fs::remove_file(&entry.path);
            }
        }
        let stale = SystemTime::now() - STALE_TEMP;
        for temp in fs::read_dir(&self.root).into_iter().flatten().flatten() {
            let old = temp
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < stale);
            if old && temp.path().is_file() {
                let _ = fs::remove_file(temp.path());
            }
        }
        total
    }
}

struct Entry {
    path: PathBuf,
    size: u64,
    used: SystemTime,
}

/// The answer of a stored entry, when its format and checksum hold.
fn verified_answer(entry: &[u8]) -> Option<Vec<u8>> {
    let rest = entry.strip_prefix(MAGIC)?;
    let (checksum, answer) = (rest.get(..64)?, rest.get(65..)?);
    (rest.get(64) == Some(&b'\n') && checksum == hex(&Sha256::digest(answer)).as_bytes())
        .then(|| answer.to_vec())
}

/// `$XDG_CACHE_HOME/cache-miss` (an absolute `XDG_CACHE_HOME` only, as the XDG spec
/// says), else `$HOME/.cache/cache-miss`.
fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".cache"))
    })?;
    Some(base.join("cache-miss"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> CacheKey {
        let mut builder = KeyBuilder::new("test");
        builder.field("text", text.as_bytes());
        builder.finish()
    }

    #[test]
    fn fields_are_delimited() {
        let mut a = KeyBuilder::new("q");
        a.field("x", b"ab").field("y", b"c");
        let mut b = KeyBuilder::new("q");
        b.field("x", b"a").field("y", b"bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn stored_answers_come_back_and_corrupt_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResolutionCache::at(dir.path(), DEFAULT_LIMIT);
        assert_eq!(cache.get(&key("a")), None);
        cache.put(&key("a"), b"{\"units\":[]}");
        assert_eq!(
            cache.get(&key("a")).as_deref(),
            Some(&b"{\"units\":[]}"[..])
        );
        assert_eq!(cache.stats(), CacheStats { hits: 1, misses: 1 });
        let path = cache.entry_path(&key("a"));
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.get(&key("a")), None);
        fs::write(&path, b"garbage").unwrap();
        assert_eq!(cache.get(&key("a")), None);
        fs::write(&path, MAGIC).unwrap();
        assert_eq!(cache.get(&key("a")), None);
        cache.put(&key("a"), b"again");
        assert_eq!(cache.get(&key("a")).as_deref(), Some(&b"again"[..]));
    }

    #[test]
    fn the_least_recently_used_entries_are_evicted_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let answer = vec![b'x'; 1000];
        let cache = ResolutionCache::at(dir.path(), 4500);
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            cache.put(&key(name), &answer);
            let used = SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + i as u64);
            fs::File::options()
                .write(true)
                .open(cache.entry_path(&key(name)))
                .unwrap()
                .set_modified(used)
                .unwrap();
        }
        // `a` is the oldest but used now: `b` and `c` go when `e` passes the limit.
        assert!(cache.get(&key("a")).is_some());
        cache.put(&key("e"), &answer);
        let present: Vec<&str> = ["a", "b", "c", "d", "e"]
            .into_iter()
            .filter(|name| cache.entry_path(&key(name)).exists())
            .collect();
        assert_eq!(present, ["a", "d", "e"]);
        let total: u64 = cache.entries().iter().map(|e| e.size).sum();
        assert!(total <= 4500, "{total}");
    }

    #[test]
    fn an_explicit_cache_dir_that_is_a_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        let err = ResolutionCache::open(&CacheLocation::Dir(file)).unwrap_err();
        assert!(format!("{err:#}").contains("--cache-dir"), "{err:#}");
        assert!(
            ResolutionCache::open(&CacheLocation::Off)
                .unwrap()
                .is_none()
        );
    }
}
