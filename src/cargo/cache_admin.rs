//! `cache-miss cache info` and `cache-miss cache clean`: what the resolution cache holds and
//! how it served the last runs, and emptying it. Both touch only what [`ResolutionCache`]
//! counts as its own: entries (regular files with the entry header) and its run log.

use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};

use super::cache::{CacheLocation, CacheStats, ResolutionCache};
use super::regular;

/// The file, in the cache directory, that each run's hit and miss counts are appended to.
const RUN_LOG: &str = "runs.log";

/// How many runs `cache info` shows, and (twice that) the log keeps.
const RUNS_SHOWN: usize = 10;

/// Appends one run's counts to the cache's run log (a cache that cannot be written is no
/// cache: nothing is said).
pub(crate) fn log_run(cache: &ResolutionCache, stats: CacheStats) {
    if stats.hits + stats.misses == 0 {
        return;
    }
    let path = cache.dir().join(RUN_LOG);
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let line = format!(
        "{seconds} {} {} {}\n",
        std::process::id(),
        stats.hits,
        stats.misses
    );
    let mut lines = read_log(&path);
    lines.push(line.trim_end().to_string());
    let keep = lines.len().saturating_sub(RUNS_SHOWN * 20);
    let text: String = lines.iter().skip(keep).map(|l| format!("{l}\n")).collect();
    let written = (|| -> std::io::Result<()> {
        let mut temp = tempfile::NamedTempFile::new_in(cache.dir())?;
        temp.write_all(text.as_bytes())?;
        temp.persist(&path).map_err(|err| err.error)?;
        Ok(())
    })();
    drop(written);
}

/// The run log's lines (none when it is absent or no regular file).
fn read_log(path: &std::path::Path) -> Vec<String> {
    let mut text = String::new();
    if let Ok(mut file) = regular::open(path, false) {
        let _ = file.read_to_string(&mut text);
    }
    text.lines().map(str::to_string).collect()
}

/// One run as the log holds it: a process's counts, summed over its caches.
struct Run {
    seconds: u64,
    pid: u64,
    stats: CacheStats,
}

fn runs(path: &std::path::Path) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for line in read_log(path) {
        let numbers: Vec<u64> = line.split(' ').filter_map(|n| n.parse().ok()).collect();
        let [seconds, pid, hits, misses] = numbers[..] else {
            continue;
        };
        let (hits, misses) = (hits as usize, misses as usize);
        match runs.last_mut() {
            Some(last) if last.pid == pid && seconds.abs_diff(last.seconds) < 3600 => {
                last.stats.hits += hits;
                last.stats.misses += misses;
            }
            _ => runs.push(Run {
                seconds,
                pid,
                stats: CacheStats { hits, misses },
            }),
        }
    }
    runs
}

/// The cache at `location`, which `cache info` and `cache clean` need one of.
fn open(location: &CacheLocation) -> Result<ResolutionCache> {
    match ResolutionCache::open(location)? {
        Some(cache) => Ok(cache),
        None => bail!("no cache directory: set HOME or XDG_CACHE_HOME, or give --cache-dir"),
    }
}

/// `cache info`: where the cache is, its size, its entries, and the last runs' hits and
/// misses.
pub fn info(location: &CacheLocation) -> Result<String> {
    let cache = open(location)?;
    let entries = cache.entries();
    let bytes: u64 = entries.iter().map(|e| e.size).sum();
    let mut text = format!(
        "cache directory: {}\nentries: {}\nsize: {} bytes (at most {} MiB are kept)\n",
        crate::text::path(cache.dir()),
        crate::text::thousands(entries.len()),
        crate::text::thousands(bytes as usize),
        super::cache::DEFAULT_LIMIT / (1024 * 1024),
    );
    let runs = runs(&cache.dir().join(RUN_LOG));
    if runs.is_empty() {
        text.push_str("last runs: none recorded\n");
    } else {
        text.push_str("last runs (newest last; answers from the cache / from cargo):\n");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for run in runs.iter().skip(runs.len().saturating_sub(RUNS_SHOWN)) {
            text.push_str(&format!(
                "  {} ago: {} / {}\n",
                ago(now.saturating_sub(run.seconds)),
                run.stats.hits,
                run.stats.misses
            ));
        }
    }
    Ok(text)
}

fn ago(seconds: u64) -> String {
    match seconds {
        0..120 => format!("{seconds} s"),
        120..7200 => format!("{} min", seconds / 60),
        7200..172_800 => format!("{} h", seconds / 3600),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// `cache clean`: removes every entry and the run log; says what was removed.
pub fn clean(location: &CacheLocation) -> Result<String> {
    let cache = open(location)?;
    let entries = cache.entries();
    let mut removed = 0;
    let mut bytes = 0;
    let mut shards: Vec<PathBuf> = Vec::new();
    for entry in &entries {
        if fs::remove_file(&entry.path).is_ok() {
            removed += 1;
            bytes += entry.size;
            shards.extend(entry.path.parent().map(PathBuf::from));
        }
    }
    for shard in shards {
        // Only an empty real directory goes: `remove_dir` removes no link, no content.
        let _ = fs::remove_dir(shard);
    }
    let log = cache.dir().join(RUN_LOG);
    if fs::symlink_metadata(&log).is_ok_and(|meta| meta.is_file()) {
        fs::remove_file(&log).ok();
    }
    Ok(format!(
        "removed {} entries ({} bytes) from {}\n",
        crate::text::thousands(removed),
        crate::text::thousands(bytes as usize),
        crate::text::path(cache.dir())
    ))
}
