//! Clean interruption of a replay. While a replay runs, SIGINT, SIGTERM, SIGHUP and
//! SIGQUIT do not end cache-miss at once: they stop the running cargo (started in its own
//! process group, so rustc, the rustc wrapper and build scripts stop with it) and make the
//! replay end with [`Interrupted`], so that its temp dir is removed (or kept, with
//! `--keep`) as after any failure. Outside the terminal's foreground group, cargo gets
//! neither Ctrl-C and Ctrl-\ nor the hangup of a closed terminal: cache-miss passes them on.

use std::process::Child;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::parallel::lock;

/// The signals that interrupt a replay.
const SIGNALS: [i32; 4] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT];

/// How long the stopped cargo's process group gets to end after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// The replay was stopped by a signal. The process should exit with [`Self::exit_code`].
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

/// What the signal thread and the replay share.
#[derive(Default)]
struct State {
    /// The first signal received.
    signal: Option<i32>,
    /// The process group of the cargo running now.
    group: Option<Pid>,
}

/// Catches [`SIGNALS`] from [`Interruption::install`] until dropped; afterwards they end
/// the process again, as by default.
pub struct Interruption {
    state: Arc<Mutex<State>>,
    handle: Handle,
    /// Set on drop: the signals' default action applies again.
    default_again: Arc<AtomicBool>,
}

impl Interruption {
    pub fn install() -> Result<Interruption> {
        let default_again = Arc::new(AtomicBool::new(false));
        for signal in SIGNALS {
            signal_hook::flag::register_conditional_default(signal, default_again.clone())
                .context("cannot install the signal handlers")?;
        }
        let mut signals = Signals::new(SIGNALS).context("cannot install the signal handlers")?;
        let handle = signals.handle();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        // Not joined: after SIGTERM, a stopped build script whose zombie nobody reaps
        // (pid 1 in some containers) keeps the group alive until the SIGKILL; cache-miss
        // need not wait for that to exit.
        std::thread::spawn(move || {
            for signal in signals.forever() {
                let group = {
                    let mut state = lock(&shared);
                    state.signal.get_or_insert(signal);
                    state.group
                };
                if let Some(group) = group {
                    stop_group(group);
                }
            }
        });
        Ok(Interruption {
            state,
            handle,
            default_again,
        })
    }

    /// An error when a signal has arrived: the replay stops at the next step.
    pub fn check(&self) -> Result<(), Interrupted> {
        match lock(&self.state).signal {
            Some(signal) => Err(Interrupted { signal }),
            None => Ok(()),
        }
    }

    /// Registers `child` (the leader of its own process group) as the cargo to stop on a
    /// signal; when one has already arrived, starts stopping it now. Call
    /// [`Self::release`] once the child has been waited for.
    pub fn watch(&self, child: &Child) {
        let group = Pid::from_child(child);
        let signalled = {
            let mut state = lock(&self.state);
            state.group = Some(group);
            state.signal.is_some()
        };
        if signalled {
            std::thread::spawn(move || stop_group(group));
        }
    }

    /// The watched cargo has ended: a signal stops no group now.
    pub fn release(&self) {
        lock(&self.state).group = None;
    }
}

impl Drop for Interruption {
    fn drop(&mut self) {
        self.default_again
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.handle.close();
    }
}

/// SIGTERM to the whole group, then SIGKILL to whatever is left of it after [`GRACE`].
/// Errors mean the group is already gone.
fn stop_group(group: Pid) {
    let _ = kill_process_group(group, Signal::TERM);
    let started = Instant::now();
    while started.elapsed() < GRACE {
        if test_kill_process_group(group).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = kill_process_group(group, Signal::KILL);
}
