//! Progress for people and CI logs: a bar at a terminal, one line per finished step in
//! CI, nothing in a pipe.

use std::io::{IsTerminal, Write};

use cache_miss::Progress;

/// A bar at a terminal; in CI (`CI` set, not a terminal) one line per finished step with
/// its time; elsewhere (a pipe) nothing.
pub(crate) fn progress() -> Box<dyn Progress> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    if ci && !std::io::stderr().is_terminal() {
        Box::new(LogProgress::default())
    } else {
        Box::new(TerminalProgress::new())
    }
}

/// Progress for CI logs: a line per finished step, with the time since the previous one,
/// and a line per stage with its total, so a log shows where the minutes went.
#[derive(Default)]
struct LogProgress {
    stage: std::sync::Mutex<Option<LogStage>>,
}

struct LogStage {
    name: String,
    steps: usize,
    done: usize,
    started: std::time::Instant,
    last: std::time::Instant,
}

impl Progress for LogProgress {
    fn begin(&self, stage: &str, steps: usize) {
        let now = std::time::Instant::now();
        if let Ok(mut current) = self.stage.lock() {
            *current = Some(LogStage {
                name: stage.to_string(),
                steps,
                done: 0,
                started: now,
                last: now,
            });
        }
    }

    fn step(&self, what: &str) {
        let Ok(mut current) = self.stage.lock() else {
            return;
        };
        if let Some(stage) = current.as_mut() {
            let now = std::time::Instant::now();
            stage.done += 1;
            log_line(&format!(
                "{} {}/{}: {what} ({:.1} s)",
                stage.name,
                stage.done,
                stage.steps,
                (now - stage.last).as_secs_f64()
            ));
            stage.last = now;
        }
    }

    fn end(&self) {
        let Ok(mut current) = self.stage.lock() else {
            return;
        };
        if let Some(stage) = current.take() {
            log_line(&format!(
                "{}: {} step{} in {:.1} s",
                stage.name,
                stage.done,
                if stage.done == 1 { "" } else { "s" },
                stage.started.elapsed().as_secs_f64()
            ));
        }
    }
}

/// One line on stderr; a closed stderr is no reason to stop the work.
fn log_line(line: &str) {
    let line = cache_miss::escape_for_terminal(line);
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A progress bar on stderr, drawn only for a person at a terminal (not in CI logs or
/// pipes).
struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl TerminalProgress {
    fn new() -> TerminalProgress {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        TerminalProgress {
            bar: interactive.then(|| {
                let bar = indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::stderr(),
                );
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {pos}/{len}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }),
        }
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, stage: &str, steps: usize) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(steps as u64);
            bar.set_message(stage.to_string());
        }
    }

    fn step(&self, _what: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn end(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
