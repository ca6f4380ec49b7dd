//! One signal handler for every command. Once [`handle_signals`] is installed, SIGINT,
//! SIGTERM, SIGHUP and SIGQUIT do not end cache-miss at once:
//!
//! - every child it starts through [`output`] or [`spawn`] (cargo, git, tar) leads its own
//!   process group, which the handler stops whole (SIGTERM, then SIGKILL after a grace
//!   period), so rustc, build scripts and wrappers stop with it;
//! - every temp dir made by [`temp_dir`] (cargo's scratch target dir, `touch`'s copy of the
//!   base revision) is removed;
//! - then the process exits with 128 + the signal's number (130 for SIGINT, 143 for
//!   SIGTERM).
//!
//! `verify`'s replay instead ends cooperatively while its [`Interruption`] lives: the
//! signal stops the children and the replay ends with [`Interrupted`] at its next step,
//! so that it removes (or, with `--keep`, keeps) its temp dir as after any failure.
//! Outside the terminal's foreground group, children get neither Ctrl-C and Ctrl-\ nor
//! the hangup of a closed terminal: cache-miss passes them on.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::parallel::lock;

/// The signals handled.
const SIGNALS: [i32; 4] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT];

/// How long a stopped process group gets to end after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// The run was stopped by a signal. The process should exit with [`Self::exit_code`].
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {}", signal_name(*.signal))]
pub struct Interrupted {
    pub signal: i32,
}

impl Interrupted {
    /// 128 + the signal number, as a shell reports a process ended by that signal.
    pub fn exit_code(&self) -> u8 {
        (128 + self.signal).clamp(0, 255) as u8
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        SIGQUIT => "SIGQUIT",
        _ => "a signal",
    }
}

/// What the signal thread and the workers share.
#[derive(Default)]
struct State {
    /// Whether [`handle_signals`] ran: only then are children put in groups of their own
    /// (without a handler, the terminal's Ctrl-C must reach them directly).
    installed: bool,
    /// The first signal received.
    signal: Option<i32>,
    /// How many [`Interruption`]s live: while any does, a signal does not exit.
    cooperative: usize,
    /// The process groups of the children running now, by leader.
    groups: HashSet<Pid>,
    /// The temp dirs to remove, by id.
    dirs: HashMap<u64, PathBuf>,
    next_dir: u64,
}

fn state() -> MutexGuard<'static, State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    lock(STATE.get_or_init(Mutex::default))
}

/// Installs the handler (once per process; later calls do nothing).
pub fn handle_signals() -> Result<()> {
    let mut state = state();
    if state.installed {
        return Ok(());
    }
    let mut signals = Signals::new(SIGNALS).context("cannot install the signal handlers")?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            on_signal(signal);
        }
    });
    state.installed = true;
    Ok(())
}

fn on_signal(signal: i32) {
    let mut state = state();
    state.signal.get_or_insert(signal);
    let groups: Vec<Pid> = state.groups.iter().copied().collect();
    if state.cooperative > 0 {
        // Not joined: a stopped build script whose zombie nobody reaps (pid 1 in some
        // containers) keeps its group alive until the SIGKILL; the replay need not wait.
        for group in groups {
            std::thread::spawn(move || stop_group(group));
        }
        return;
    }
    // The lock stays held: no child starts and no temp dir is made from now on.
    stop_groups(&groups);
    for dir in state.dirs.values() {
        let _ = std::fs::remove_dir_all(dir);
    }
    let first = state.signal.unwrap_or(signal);
    let interrupted = Interrupted { signal: first };
    let _ = std::io::stderr().write_all(format!("error: {interrupted}\n").as_bytes());
    std::process::exit(i32::from(interrupted.exit_code()));
}

/// SIGTERM to every group, SIGKILL to what is left of them after [`GRACE`], and a moment
/// for the killed to be reaped by the threads waiting for them.
fn stop_groups(groups: &[Pid]) {
    for &group in groups {
        let _ = kill_process_group(group, Signal::TERM);
    }
    let alive = || groups.iter().any(|&g| test_kill_process_group(g).is_ok());
    let started = Instant::now();
    while alive() && started.elapsed() < GRACE {
        std::thread::sleep(Duration::from_millis(20));
    }
    for &group in groups {
        let _ = kill_process_group(group, Signal::KILL);
    }
    let killed = Instant::now();
    while alive() && killed.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`stop_groups`] for one group.
fn stop_group(group: Pid) {
    stop_groups(&[group]);
}

/// A child started by [`spawn`]: its group is stopped on a signal until this is dropped
/// (after the child was waited for).
pub(crate) struct Watched {
    pub child: Child,
    group: Option<Pid>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(group) = self.group {
            state().groups.remove(&group);
        }
    }
}

/// Starts `command`, with the handler installed as the leader of its own process group.
/// Outside the terminal's foreground group nothing may read the terminal: give it a
/// standard input that is not the terminal's. After a signal, it does not start:
/// [`Interrupted`].
pub(crate) fn spawn(command: &mut Command) -> std::io::Result<Watched> {
    let mut state = state();
    if let Some(signal) = state.signal {
        return Err(std::io::Error::other(Interrupted { signal }));
    }
    if !state.installed {
        return Ok(Watched {
            child: command.spawn()?,
            group: None,
        });
    }
    command.process_group(0);
    let child = command.spawn()?;
    let group = Pid::from_child(&child);
    state.groups.insert(group);
    Ok(Watched {
        child,
        group: Some(group),
    })
}

/// [`Command::output`] through [`spawn`], with an empty standard input.
pub(crate) fn output(command: &mut Command) -> std::io::Result<Output> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut watched = spawn(command)?;
    let output = read_output(&mut watched.child);
    drop(watched);
    output
}

/// Waits for `child`, reading both pipes at once.
fn read_output(child: &mut Child) -> std::io::Result<Output> {
    use std::io::Read;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let (out, err) = (child.stdout.take(), child.stderr.take());
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            if let Some(mut err) = err {
                let _ = err.read_to_end(&mut stderr);
            }
        });
        if let Some(mut out) = out {
            let _ = out.read_to_end(&mut stdout);
        }
        let _ = reader.join();
    });
    let status = child.wait()?;
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// A temp dir that a signal removes; dropped, it is removed as a [`tempfile::TempDir`] is.
#[derive(Debug)]
pub struct TempDir {
    dir: Option<tempfile::TempDir>,
    id: u64,
}

impl TempDir {
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let mut state = state();
        state.dirs.remove(&self.id);
        // Removed while the lock is held, so that a signal never sees it half gone.
        self.dir.take();
    }
}

/// A new temp dir named `prefix…` in the system's temp dir. After a signal: [`Interrupted`].
pub(crate) fn temp_dir(prefix: &str) -> Result<TempDir> {
    let mut state = state();
    if let Some(signal) = state.signal {
        return Err(Interrupted { signal }.into());
    }
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .with_context(|| {
            format!(
                "cannot make a temp dir in {}",
                std::env::temp_dir().display()
            )
        })?;
    let id = state.next_dir;
    state.next_dir += 1;
    state.dirs.insert(id, dir.path().to_path_buf());
    Ok(TempDir { dir: Some(dir), id })
}

/// `verify`'s replay: while this lives, a signal stops the running children and makes
/// [`Interruption::check`] fail instead of exiting, so that the replay cleans up itself.
pub(crate) struct Interruption(());

impl Interruption {
    pub(crate) fn install() -> Result<Interruption> {
        handle_signals()?;
        state().cooperative += 1;
        Ok(Interruption(()))
    }

    /// An error when a signal has arrived: the replay stops at the next step.
    pub(crate) fn check(&self) -> Result<(), Interrupted> {
        match state().signal {
            Some(signal) => Err(Interrupted { signal }),
            None => Ok(()),
        }
    }

    /// Registers `child` (the leader of its own process group) as one to stop on a
    /// signal; when one has already arrived, starts stopping it now. Call
    /// [`Self::release`] once the child has been waited for.
    pub(crate) fn watch(&self, child: &Child) {
        let group = Pid::from_child(child);
        let signalled = {
            let mut state = state();
            state.groups.insert(group);
            state.signal.is_some()
        };
        if signalled {
            std::thread::spawn(move || stop_group(group));
        }
    }

    /// The watched child has ended: a signal stops its group no more.
    pub(crate) fn release(&self, child: &Child) {
        state().groups.remove(&Pid::from_child(child));
    }
}

impl Drop for Interruption {
    fn drop(&mut self) {
        state().cooperative -= 1;
    }
}
