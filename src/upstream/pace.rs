//! A provider's request rate per tenant (`providers.<name>.max_requests_per_second`): the
//! gateway stays under the account's documented API limit instead of letting the provider
//! answer 429. Requests are spaced evenly (GCRA without a burst, so no second ever holds
//! more than the rate); one that would have to queue longer than `upstream.max_retry_wait`,
//! or past its request's deadline, is refused at once with `UPSTREAM_RATE_LIMITED`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Even spacing of one provider's requests for one tenant.
#[derive(Debug)]
pub(super) struct Pace {
    interval: Duration,
    /// When the next request may go (the theoretical arrival time).
    next: Mutex<Option<Instant>>,
}

impl Pace {
    /// At most `per_second` requests per second (a positive rate).
    pub(super) fn new(per_second: f64) -> Pace {
        Pace {
            interval: Duration::from_secs_f64(1.0 / per_second.max(1e-3)),
            next: Mutex::new(None),
        }
    }

    /// Takes the next free slot if it starts within `max_wait`: how long to wait for it;
    /// else how long until a slot would be free (nothing is taken).
    pub(super) fn reserve(
        &self,
        max_wait: Duration,
        can_wait: impl Fn(Duration) -> bool,
    ) -> Result<Duration, Duration> {
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = next.map_or(now, |at| at.max(now));
        let wait = start - now;
        if wait > max_wait || (!wait.is_zero() && !can_wait(wait)) {
            return Err(wait);
        }
        *next = Some(start + self.interval);
        Ok(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_evenly_and_one_that_would_queue_too_long_is_refused() {
        let pace = Pace::new(10.0);
        let max = Duration::from_millis(250);
        let waits: Vec<_> = (0..3).map(|_| pace.reserve(max, |_| true)).collect();
        assert_eq!(
            waits,
            [
                Ok(Duration::ZERO),
                Ok(Duration::from_millis(100)),
                Ok(Duration::from_millis(200))
            ]
        );
        assert_eq!(pace.reserve(max, |_| true), Err(Duration::from_millis(300)));
        assert_eq!(pace.reserve(max, |_| false), Err(Duration::from_millis(300)));
        tokio::time::advance(Duration::from_millis(300)).await;
        assert_eq!(pace.reserve(max, |_| true), Ok(Duration::ZERO));
        assert_eq!(
            pace.reserve(max, |_| false),
            Err(Duration::from_millis(100)),
            "past its deadline"
        );
    }
}
