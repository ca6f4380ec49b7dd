//! `cache-miss cache info` and `cache-miss cache clean`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::output::print;
use cache_miss::CacheLocation;

#[derive(Subcommand)]
pub(crate) enum CacheAction {
    /// Where the cache is, its size and entries, and how the last runs used it.
    Info(CacheDirArg),
    /// Remove every entry.
    Clean(CacheDirArg),
}

#[derive(Args)]
pub(crate) struct CacheDirArg {
    /// The cache directory. Default: $XDG_CACHE_HOME/cache-miss, else ~/.cache/cache-miss.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

impl CacheDirArg {
    fn location(&self) -> CacheLocation {
        self.cache_dir
            .clone()
            .map_or(CacheLocation::Default, CacheLocation::Dir)
    }
}

pub(crate) fn run(action: CacheAction) -> anyhow::Result<ExitCode> {
    print(&match action {
        CacheAction::Info(arg) => cache_miss::cache_info(&arg.location())?,
        CacheAction::Clean(arg) => cache_miss::clean_cache(&arg.location())?,
    })?;
    Ok(ExitCode::SUCCESS)
}
