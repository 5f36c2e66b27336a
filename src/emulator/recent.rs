//! What the emulator remembers of the requests it received, for tests to check what the
//! gateway sent: the most recent ones only. Demo mode runs the emulator inside the
//! gateway's process for as long as it serves, so an unbounded log would grow its memory
//! with every list request.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Entries kept; older ones are dropped as new ones come.
const KEPT: usize = 1_000;

/// The last `KEPT` entries pushed, oldest first.
pub(super) struct Recent<T>(Mutex<VecDeque<T>>);

impl<T: Clone> Recent<T> {
    pub(super) fn new() -> Self {
        Recent(Mutex::new(VecDeque::new()))
    }

    pub(super) fn push(&self, entry: T) {
        let mut entries = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() == KEPT {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The entries kept, oldest first.
    pub(super) fn all(&self) -> Vec<T> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_most_recent_entries_are_kept_oldest_first() {
        let recent = Recent::new();
        for i in 0..KEPT + 5 {
            recent.push(i);
        }
        let all = recent.all();
        assert_eq!(all.len(), KEPT);
        assert_eq!(all.first(), Some(&5));
        assert_eq!(all.last(), Some(&(KEPT + 4)));
    }
}
