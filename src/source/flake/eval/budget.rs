//! What one evaluation may spend: steps (like Nix's `max-call-depth`, but for the whole
//! evaluation), the size of one string or list, and the bytes all strings and lists
//! together hold. Hostile or runaway Nix (40 string doublings, a 2^24-element list, an
//! exponential recursion) ends in a clear error instead of exhausting the machine.

use super::Evaluator;
use super::files::Pos;
use super::value::Value;

/// Expressions evaluated in one run. The largest real flakes tried need well under a
/// million; this bound keeps a runaway recursion to a few seconds.
pub(super) const MAX_STEPS: u64 = 5_000_000;
/// Bytes in one string (a `readFile` of a big `Cargo.lock` is a few MiB).
pub(super) const MAX_STRING: usize = 16 << 20;
/// Elements in one list.
pub(super) const MAX_LIST: usize = 1 << 20;
/// Bytes all strings and lists made during the evaluation may hold together.
pub(super) const MAX_ALLOCATED: usize = 512 << 20;

/// What the evaluation has spent so far. Kept by the [`Evaluator`].
#[derive(Debug, Default)]
pub(super) struct Spent {
    pub steps: u64,
    pub allocated: usize,
}

impl Evaluator {
    /// Counts one evaluation step at `pos`; past the budget the evaluation stops there.
    pub(super) fn step(&mut self, pos: Pos, text: impl FnOnce() -> String) -> Option<Value> {
        self.spent.steps += 1;
        if self.spent.steps <= MAX_STEPS {
            return None;
        }
        Some(self.fail(
            pos,
            &format!(
                "evaluation budget exceeded: more than {MAX_STEPS} evaluation steps (at `{}`): an endless or exponential recursion, or more than cache-miss can follow",
                text()
            ),
        ))
    }

    /// Charges a new string of `len` bytes made at `pos`: an error value when it is longer
    /// than one string may be, or all strings and lists together would hold too much.
    pub(super) fn charge_string(&mut self, len: usize, pos: Pos) -> Option<Value> {
        if len > MAX_STRING {
            return Some(self.fail(
                pos,
                &format!(
                    "evaluation budget exceeded: a string of {} (more than {} allowed)",
                    size(len),
                    size(MAX_STRING)
                ),
            ));
        }
        self.charge(len, pos)
    }

    /// Charges a new list of `len` elements made at `pos`.
    pub(super) fn charge_list(&mut self, len: usize, pos: Pos) -> Option<Value> {
        if len > MAX_LIST {
            return Some(self.fail(
                pos,
                &format!(
                    "evaluation budget exceeded: a list of {len} elements (more than {MAX_LIST} allowed)"
                ),
            ));
        }
        self.charge(len * std::mem::size_of::<usize>(), pos)
    }

    fn charge(&mut self, bytes: usize, pos: Pos) -> Option<Value> {
        self.spent.allocated = self.spent.allocated.saturating_add(bytes);
        if self.spent.allocated <= MAX_ALLOCATED {
            return None;
        }
        Some(self.fail(
            pos,
            &format!(
                "evaluation budget exceeded: strings and lists holding more than {} in all",
                size(MAX_ALLOCATED)
            ),
        ))
    }
}

/// A byte count for people: `16 MiB`, `3 KiB`, `12 bytes`.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}
