//! Writing what the commands print: documents drawn in a format, stdout, and the GitHub
//! step summary.

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;

use crate::write_to;
use cache_miss::{Block, Format, github, html, markdown, table};

/// With `--format github` in a GitHub Actions job: the markdown report appended to the
/// job's summary page.
pub(crate) fn append_step_summary(blocks: &[Block]) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(markdown::render(blocks).as_bytes()))
        .map_err(|err| {
            anyhow::anyhow!(
                "GITHUB_STEP_SUMMARY {}: cannot append the report: {err}",
                path.display()
            )
        })
}

/// Tables or markdown (`--format github`: tables with workflow commands stopped); tables
/// wrap at the terminal's width (100 columns in logs and pipes) and colour only on a
/// terminal without NO_COLOR.
pub(crate) fn draw(blocks: &[Block], format: Format) -> String {
    if format == Format::Markdown {
        return markdown::render(blocks);
    }
    if format == Format::Html {
        return html::render(blocks);
    }
    if format == Format::Github {
        return github::log(&draw(blocks, Format::Table));
    }
    let terminal = std::io::stdout().is_terminal();
    let width = if terminal {
        comfy_table::Table::new()
            .width()
            .filter(|w| *w >= 60)
            .unwrap_or(100)
    } else {
        100
    };
    let style = table::TableStyle {
        width,
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    table::render(blocks, style)
}

/// Writes the output; a closed pipe (`| head`) is not an error worth reporting, any other
/// failure to write (a full disk, a closed or read-only stdout) is.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let stdout = std::io::stdout().lock();
    match write_to(stdout.as_fd(), text) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write the output: {err}"))
        }
        _ => Ok(()),
    }
}

/// Whether stdout and stderr are the same file or terminal (`> out 2>&1`, or both on a
/// terminal): a warning the printed output holds is then not said on stderr again.
pub(crate) fn stderr_is_stdout() -> bool {
    use std::os::unix::fs::MetadataExt;
    let metadata = |fd: std::os::fd::BorrowedFd<'_>| {
        let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
        file.metadata().ok()
    };
    match (
        metadata(std::io::stdout().as_fd()),
        metadata(std::io::stderr().as_fd()),
    ) {
        (Some(out), Some(err)) => out.dev() == err.dev() && out.ino() == err.ino(),
        _ => false,
    }
}
