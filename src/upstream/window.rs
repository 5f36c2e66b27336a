//! A provider's rate-limit window, per tenant: after it answers 429, until its
//! `Retry-After` (or a short backoff when it sends none) has passed.
//!
//! Provider rate limits are account-wide, so inside the window every request for that
//! provider would meet the same 429: a request waits for the window's end only when it
//! is short (`upstream.max_retry_wait`) and the request can still meet its deadline;
//! every other one is answered at once with `UPSTREAM_RATE_LIMITED` and the seconds
//! left (a partial result where other providers answer), instead of hanging or
//! spending quota on a refusal.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// When the provider accepts requests again; `None` outside a window.
#[derive(Debug, Default)]
pub(super) struct Window(Mutex<Option<Instant>>);

impl Window {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The provider asked for `wait` of quiet (a window already longer stays).
    pub(super) fn open_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut current = self.lock();
        if current.is_none_or(|at| at < until) {
            *current = Some(until);
        }
    }

    /// How long the window still lasts; `None` when it is over.
    pub(super) fn remaining(&self) -> Option<Duration> {
        let mut current = self.lock();
        let until = (*current)?;
        let now = Instant::now();
        if until <= now {
            *current = None;
            return None;
        }
        Some(until - now)
    }
}

/// Whole seconds of `wait`, rounded up (a client retrying earlier would meet the limit).
pub(super) fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_window_lasts_its_longest_wait_then_closes() {
        let window = Window::default();
        assert_eq!(window.remaining(), None);
        window.open_for(Duration::from_secs(3));
        window.open_for(Duration::from_secs(1));
        assert_eq!(
            window.remaining(),
            Some(Duration::from_secs(3)),
            "a shorter wait keeps the longer"
        );
        tokio::time::advance(Duration::from_millis(2_500)).await;
        assert_eq!(window.remaining().map(whole_seconds), Some(1));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(window.remaining(), None);
    }
}
