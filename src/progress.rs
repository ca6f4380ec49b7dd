//! How long-running work tells the user where it is. The library only reports steps; the
//! binary decides how (a bar at a terminal, nothing in a pipe).

/// Receives the steps of a long run. Every method does nothing unless implemented.
pub trait Progress: Sync {
    /// A stage of `steps` steps begins (`resolving unit graphs`, `replaying`).
    fn begin(&self, _stage: &str, _steps: usize) {}
    /// One step of the current stage is done; `what` names it.
    fn step(&self, _what: &str) {}
    /// The current stage ended.
    fn end(&self) {}
}

/// Progress that nobody watches (tests, nested analyses).
pub struct Silent;

impl Progress for Silent {}

/// A stage of [`Progress`] that ends when dropped, so that an error or an interruption
/// clears it as the normal end does.
pub(crate) struct Stage<'a> {
    progress: &'a dyn Progress,
}

impl<'a> Stage<'a> {
    pub(crate) fn begin(progress: &'a dyn Progress, name: &str, steps: usize) -> Stage<'a> {
        progress.begin(name, steps);
        Stage { progress }
    }
}

impl Drop for Stage<'_> {
    fn drop(&mut self) {
        self.progress.end();
    }
}
