//! Work on a few threads, and locks that outlive a panicking holder.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// How many threads work on a list: the cores, at least 2 (cargo waits on files and
/// locks), at most 8, and no more than there are items.
fn workers(items: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8)
        .min(items.max(1))
}

/// Runs `job` on every item on a few threads; results keep the items' order. `done` is
/// called after each item.
pub(crate) fn run_parallel<T: Sync, R: Send>(
    items: &[T],
    done: &(dyn Fn(&T) + Sync),
    job: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = workers(items.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = job(item);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(result);
                    }
                    done(item);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// A lock whose holder cannot leave its value half-made: a panic there ends the run.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Items waiting for one of a few threads, to which a job may add more while the others
/// run: work that becomes known as other work finishes starts at once, in one queue.
pub(crate) struct WorkQueue<T> {
    state: Mutex<QueueState<T>>,
    changed: Condvar,
}

struct QueueState<T> {
    waiting: VecDeque<T>,
    /// Items taken and not yet done: each may still add items.
    busy: usize,
}

impl<T> WorkQueue<T> {
    /// Adds `item` before the waiting ones: the next free thread takes it.
    pub(crate) fn push(&self, item: T) {
        lock(&self.state).waiting.push_front(item);
        self.changed.notify_one();
    }

    /// The next item, waiting while others are busy (they may add some); `None` when
    /// nothing waits and nothing is busy.
    fn take(&self) -> Option<T> {
        let mut state = lock(&self.state);
        loop {
            if let Some(item) = state.waiting.pop_front() {
                state.busy += 1;
                return Some(item);
            }
            if state.busy == 0 {
                return None;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn done(&self) {
        lock(&self.state).busy -= 1;
        self.changed.notify_all();
    }
}

/// Runs `job` on `first` and on every item a job adds to the queue, on a few threads;
/// returns when no item waits and none is being worked on.
pub(crate) fn run_queue<T: Send>(first: Vec<T>, job: impl Fn(T, &WorkQueue<T>) + Sync) {
    // Not capped by the first items: a job may add more.
    let workers = workers(usize::MAX);
    let queue = WorkQueue {
        state: Mutex::new(QueueState {
            waiting: first.into(),
            busy: 0,
        }),
        changed: Condvar::new(),
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(item) = queue.take() {
                    // Done also when the job panics: the others then stop waiting for it.
                    let finished = Finished(&queue);
                    job(item, &queue);
                    drop(finished);
                }
            });
        }
    });
}

/// Marks a taken item done when dropped.
struct Finished<'a, T>(&'a WorkQueue<T>);

impl<T> Drop for Finished<'_, T> {
    fn drop(&mut self) {
        self.0.done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_added_while_the_queue_runs_are_worked_on() {
        let seen = Mutex::new(Vec::new());
        run_queue(vec![3_u32, 5], |n, queue| {
            lock(&seen).push(n);
            if n > 0 {
                queue.push(n - 1);
            }
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, [0, 0, 1, 1, 2, 2, 3, 3, 4, 5]);
    }
}
