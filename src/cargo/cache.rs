//! The resolution cache: cargo's answers (unit graphs, metadata, version lines) stored on
//! disk under a key made of everything the answer depends on (see [`super::inputs`]), so a
//! repeated run asks cargo nothing. Entries are written atomically (a temp file renamed into
//! place), carry their full key and a checksum of key and answer, and are never trusted when
//! either does not match (an entry copied under another key is no answer for it): such an
//! entry is ignored, cargo asked again, and the entry rewritten. The cache is bounded: past
//! [`DEFAULT_LIMIT`] bytes the least recently used entries are removed, and eviction only
//! ever removes regular files inside the cache that carry the entry header, never following
//! a link. Only regular files are opened.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::regular;

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
pub(crate) const DEFAULT_LIMIT: u64 = 512 * 1024 * 1024;

/// The first bytes of every entry: the format, so another version's entries are never read.
const MAGIC: &[u8] = b"cache-miss resolution cache 2\n";

/// Temp files older than this are a crashed writer's: removed when the cache is pruned.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// A key: the SHA-256 of every input of one cargo answer. Produced by [`KeyBuilder::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

/// Collects the inputs of a key; each is a named field, so that no two different input
/// lists hash alike.
#[derive(Clone)]
pub(crate) struct KeyBuilder(Sha256);

impl KeyBuilder {
    pub(crate) fn new(question: &str) -> KeyBuilder {
        let mut builder = KeyBuilder(Sha256::new());
        builder.field("question", question.as_bytes());
        builder
    }

    pub(crate) fn field(&mut self, name: &str, value: &[u8]) -> &mut KeyBuilder {
        for part in [name.as_bytes(), value] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
        self
    }

    pub(crate) fn finish(self) -> CacheKey {
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
    /// The counts already in the run log.
    logged: Mutex<CacheStats>,
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
        warn_if_others_can_write(&dir);
        Ok(Some(ResolutionCache::at(&dir, DEFAULT_LIMIT)))
    }

    /// The directory the cache lives in (its entries are in a versioned directory below).
    pub fn dir(&self) -> &Path {
        self.root.parent().unwrap_or(&self.root)
    }

    /// A cache in `dir` that keeps at most `limit` bytes of entries.
    pub fn at(dir: &Path, limit: u64) -> ResolutionCache {
        ResolutionCache {
            root: dir.join("v1"),
            limit,
            size: Mutex::new(None),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            logged: Mutex::new(CacheStats::default()),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Adds the hits and misses not yet logged to the run log `cache info` shows.
    pub fn log_use(&self) {
        let stats = self.stats();
        let Ok(mut logged) = self.logged.lock() else {
            return;
        };
        let unlogged = CacheStats {
            hits: stats.hits - logged.hits,
            misses: stats.misses - logged.misses,
        };
        super::cache_admin::log_run(self, unlogged);
        *logged = stats;
    }

    fn entry_path(&self, key: &CacheKey) -> PathBuf {
        let hex = key.hex();
        // Hex digits are ASCII: the split is on a character boundary.
        let (shard, rest) = hex.split_at_checked(2).unwrap_or(("", &hex));
        self.root.join(shard).join(rest)
    }

    /// The stored answer for `key`, if there is one whose key and checksum hold. A hit
    /// marks the entry as recently used.
    pub fn get(&self, key: &CacheKey) -> Option<Vec<u8>> {
        let answer = self.get_if_stored(key);
        if answer.is_none() {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// [`ResolutionCache::get`] for a value derived from an answer: a hit counts as the
    /// answer's, and its absence is no miss (the answer itself is looked up next).
    pub(crate) fn get_if_stored(&self, key: &CacheKey) -> Option<Vec<u8>> {
        let path = self.entry_path(key);
        let answer = regular::open(&path, false)
            .ok()
            .and_then(|mut file| {
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).ok().map(|_| bytes)
            })
            .and_then(|bytes| verified_answer(key, bytes))?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        let now = fs::File::options()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
            .and_then(|file| file.set_modified(SystemTime::now()));
        drop(now);
        Some(answer)
    }

    /// Stores `answer` under `key`: written to a temp file beside the entries and renamed
    /// into place, so a reader sees the old entry, the new one, or none. A cache that
    /// cannot be written is no cache; the run goes on.
    pub fn put(&self, key: &CacheKey, answer: &[u8]) {
        let path = self.entry_path(key);
        let mut entry = Vec::with_capacity(MAGIC.len() + 130 + answer.len());
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(key.hex().as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(checksum(key, answer).as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(answer);
        let written = (|| -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(&self.root);
            fs::create_dir_all(dir)?;
            // A shard replaced by a link would put the entry somewhere else.
            if !fs::symlink_metadata(dir)?.is_dir() {
                return Err(std::io::Error::other("a shard that is no directory"));
            }
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

    /// Every entry with its size and last use: the regular files in the shard directories
    /// (real directories, not links) that start with the entry header. Nothing else in
    /// the cache directory is an entry, and nothing else is ever removed.
    pub(crate) fn entries(&self) -> Vec<Entry> {
        let mut entries = Vec::new();
        let Ok(shards) = fs::read_dir(&self.root) else {
            return entries;
        };
        for shard in shards.flatten() {
            // `DirEntry::file_type` does not follow links: a linked shard is not walked.
            if !shard.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                if !file.file_type().is_ok_and(|kind| kind.is_file()) {
                    continue;
                }
                let path = file.path();
                let Ok(mut opened) = regular::open(&path, false) else {
                    continue;
                };
                let mut header = vec![0; MAGIC.len()];
                let is_entry = opened.read_exact(&mut header).is_ok() && header == MAGIC;
                if let (true, Ok(meta)) = (is_entry, opened.metadata()) {
                    entries.push(Entry {
                        path,
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
            // A temp file of `put`: a regular file (not a link) named by `tempfile`.
            let is_temp = temp.file_name().to_string_lossy().starts_with(".tmp")
                && temp.file_type().is_ok_and(|kind| kind.is_file());
            let old = temp
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < stale);
            if is_temp && old {
                let _ = fs::remove_file(temp.path());
            }
        }
        total
    }
}

pub(crate) struct Entry {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    used: SystemTime,
}

/// Each run's hits and misses go to the run log `cache info` shows.
impl Drop for ResolutionCache {
    fn drop(&mut self) {
        self.log_use();
    }
}

/// The checksum an entry carries: of its key and its answer.
fn checksum(key: &CacheKey, answer: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(key.as_bytes());
    digest.update(answer);
    hex(&digest.finalize())
}

/// The answer of a stored entry, when its format holds, it is the entry of `key`, and its
/// checksum holds.
fn verified_answer(key: &CacheKey, mut entry: Vec<u8>) -> Option<Vec<u8>> {
    let rest = entry.strip_prefix(MAGIC)?;
    let (stored_key, rest) = (rest.get(..64)?, rest.get(64..)?);
    let rest = rest.strip_prefix(b"\n")?;
    let (stored_sum, rest) = (rest.get(..64)?, rest.get(64..)?);
    let answer = rest.strip_prefix(b"\n")?;
    let holds =
        stored_key == key.hex().as_bytes() && stored_sum == checksum(key, answer).as_bytes();
    let header = entry.len() - answer.len();
    holds.then(|| {
        // The answer moved to the front in place: no second copy of a large answer.
        entry.drain(..header);
        entry
    })
}

/// A cache directory others can write to can be made to answer for them: said on stderr.
fn warn_if_others_can_write(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = fs::metadata(dir) else {
        return;
    };
    if meta.permissions().mode() & 0o022 != 0 {
        let line = format!(
            "cache-miss: warning: the cache directory {} is writable by other users, who could plant answers; make it writable only by you (chmod go-w)",
            dir.display()
        );
        let _ = writeln!(std::io::stderr().lock(), "{}", crate::text::terminal(&line));
    }
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
        let cache = ResolutionCache::at(dir.path(), 4800);
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
        assert!(total <= 4800, "{total}");
    }

    #[test]
    fn an_entry_copied_under_another_key_is_no_answer() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResolutionCache::at(dir.path(), DEFAULT_LIMIT);
        cache.put(&key("a"), b"answer of a");
        let other = cache.entry_path(&key("b"));
        fs::create_dir_all(other.parent().unwrap()).unwrap();
        fs::copy(cache.entry_path(&key("a")), &other).unwrap();
        assert_eq!(cache.get(&key("b")), None);
        assert_eq!(cache.get(&key("a")).as_deref(), Some(&b"answer of a"[..]));
    }

    #[test]
    fn eviction_removes_only_entries_and_follows_no_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        let cache_dir = dir.path().join("cache");
        let cache = ResolutionCache::at(&cache_dir, 2500);
        cache.put(&key("a"), &[b'x'; 1000]);
        // An entry-like file outside, reached through a linked shard; a stray file inside;
        // a link to an outside entry inside a shard.
        let planted = outside.join("entry");
        fs::copy(cache.entry_path(&key("a")), &planted).unwrap();
        std::os::unix::fs::symlink(&outside, cache_dir.join("v1/zz")).unwrap();
        let shard = cache.entry_path(&key("a")).parent().unwrap().to_path_buf();
        fs::write(shard.join("notes"), vec![b'n'; 5000]).unwrap();
        std::os::unix::fs::symlink(&planted, shard.join("linked")).unwrap();
        for name in ["b", "c", "d"] {
            cache.put(&key(name), &[b'x'; 1000]);
        }
        assert!(planted.is_file(), "a file outside the cache was removed");
        assert!(shard.join("notes").is_file(), "a non-entry was removed");
        assert!(fs::symlink_metadata(shard.join("linked")).is_ok());
        assert!(cache.entries().len() < 4, "nothing was evicted");
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
