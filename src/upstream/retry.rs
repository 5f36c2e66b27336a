//! When a failed read may be tried again, and after how long.
//!
//! A retry budget per provider and tenant (as in Finagle and Envoy) keeps retries to a
//! fraction of requests: every request deposits `ratio` of a token, every retry takes a
//! whole one, and the balance never exceeds `reserve`, which is also where it starts. So
//! an isolated failure is retried at once, but a fault storm cannot multiply the load on
//! a struggling provider by more than `1 + ratio` (plus the reserve).
//!
//! Backoff is exponential with jitter ("equal jitter": half fixed, half random), so
//! callers that failed together do not retry together.

use std::sync::Mutex;
use std::time::Duration;

/// Retries allowed as a fraction of requests.
#[derive(Debug)]
pub(super) struct RetryBudget {
    ratio: f64,
    reserve: f64,
    balance: Mutex<f64>,
}

impl RetryBudget {
    pub(super) fn new(ratio: f64, reserve: u32) -> Self {
        let reserve = f64::from(reserve);
        RetryBudget {
            ratio: ratio.max(0.0),
            reserve,
            balance: Mutex::new(reserve),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, f64> {
        self.balance.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A request went out for the first time.
    pub(super) fn deposit(&self) {
        let mut balance = self.lock();
        *balance = (*balance + self.ratio).min(self.reserve.max(1.0));
    }

    /// Takes a retry's token; false when the budget is spent.
    pub(super) fn withdraw(&self) -> bool {
        let mut balance = self.lock();
        if *balance >= 1.0 {
            *balance -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The wait before retry number `attempt` (1-based): `base * 2^(attempt-1)`, half of it
/// fixed and half random.
pub(super) fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let half = full / 2;
    let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(rand::random_range(0..=jitter_nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_gets_the_reserve_then_a_ratio_of_requests() {
        let budget = RetryBudget::new(0.2, 10);
        let mut retries = 0;
        for _ in 0..100 {
            budget.deposit();
            if budget.withdraw() {
                retries += 1;
            }
        }
        // 10 from the reserve, then one retry per five requests.
        assert!((28..=30).contains(&retries), "{retries}");
    }

    #[test]
    fn backoff_doubles_and_stays_within_its_jitter_band() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4 {
            let full = base * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                let wait = backoff(base, attempt);
                assert!(wait >= full / 2 && wait <= full, "{wait:?} for attempt {attempt}");
            }
        }
    }
}
