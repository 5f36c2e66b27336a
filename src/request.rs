//! The request context: what one GraphQL request carries through every layer.
//!
//! Its upstream-call budget: one GraphQL request may cause at most
//! a configured number of upstream HTTP calls, retries included, so a small query (20
//! aliases of `nodes` with 100 ids each) cannot turn into thousands of provider calls.
//!
//! The budget travels as a tokio task-local set around the request's execution and around
//! every DataLoader batch task the request spawns (`spawn_in_budget`), so the one shared
//! upstream client can charge it without every provider method taking a parameter. Work
//! outside a request (report polling, background refreshes) runs without a budget.
//!
//! The same task-local also records how long the request's data stays fresh: every cache
//! read or fill reports when its entry expires (final records late, live calls and pages
//! soon), and the earliest of them bounds a GET response's `Cache-Control: max-age`
//! and how long the rendered response may be reused (`http::responses`).
//!
//! A leaf below `cache` and `upstream` (both charge or inform it), so neither imports
//! the other for it.

use std::future::Future;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

tokio::task_local! {
    static BUDGET: Arc<CallBudget>;
}

/// Upstream calls one request may still make.
#[derive(Debug)]
pub struct CallBudget {
    /// Raised, never lowered, by a field that needs more (`widen`).
    limit: AtomicU32,
    used: AtomicU32,
    /// When the first of the cached data the request used expires, as nanoseconds since
    /// `epoch()`; `u64::MAX`: it used none.
    fresh_until: AtomicU64,
    /// Cache reads that found their entry (the access log's `cache_hits`).
    cache_hits: AtomicU32,
    /// When the request must have its answer (`server.request_timeout` from its start):
    /// nothing upstream is waited for past it.
    deadline: Option<Instant>,
}

/// The request has used its whole budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted {
    pub limit: u32,
}

impl CallBudget {
    pub fn new(limit: u32) -> Arc<Self> {
        Self::until(limit, None)
    }

    /// A budget for a request that must answer by `deadline`.
    pub fn until(limit: u32, deadline: Option<Instant>) -> Arc<Self> {
        Arc::new(CallBudget {
            limit: AtomicU32::new(limit),
            used: AtomicU32::new(0),
            fresh_until: AtomicU64::new(u64::MAX),
            cache_hits: AtomicU32::new(0),
            deadline,
        })
    }

    /// How long everything the request read stays fresh from now; `None` when it read no
    /// data.
    pub fn fresh_for(&self) -> Option<Duration> {
        self.fresh_until()
            .map(|until| until.saturating_duration_since(Instant::now()))
    }

    /// When the first of the data the request read expires; `None` when it read none.
    pub fn fresh_until(&self) -> Option<Instant> {
        match self.fresh_until.load(Ordering::Relaxed) {
            u64::MAX => None,
            nanos => Some(epoch() + Duration::from_nanos(nanos)),
        }
    }

    /// Cache reads of the request that found their entry.
    pub fn cache_hits(&self) -> u32 {
        self.cache_hits.load(Ordering::Relaxed)
    }

    /// Calls charged so far (refused ones not included).
    pub fn used(&self) -> u32 {
        self.used.load(Ordering::Relaxed).min(self.limit())
    }

    fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    fn charge(&self) -> Result<(), BudgetExhausted> {
        let before = self.used.fetch_add(1, Ordering::Relaxed);
        let limit = self.limit();
        if before >= limit {
            // Undo so `used` cannot wrap however many fields keep trying.
            self.used.fetch_sub(1, Ordering::Relaxed);
            return Err(BudgetExhausted { limit });
        }
        Ok(())
    }

    /// Runs `future` with this budget as the current one.
    pub fn scope<F: Future>(self: &Arc<Self>, future: F) -> impl Future<Output = F::Output> {
        BUDGET.scope(self.clone(), future)
    }
}

/// The instant expiry times are counted from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Records that the current request used data that stays fresh until `expires`.
pub fn observe_expiry(expires: Instant) {
    let nanos = u64::try_from(expires.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX - 1);
    let _ = BUDGET.try_with(|b| b.fresh_until.fetch_min(nanos, Ordering::Relaxed));
}

/// Counts a cache hit for the current request, if there is one.
pub fn note_cache_hit() {
    let _ = BUDGET.try_with(|b| b.cache_hits.fetch_add(1, Ordering::Relaxed));
}

/// Whether the current request (if any) can still wait `wait` and meet its deadline.
pub fn can_wait(wait: Duration) -> bool {
    BUDGET
        .try_with(|b| b.deadline.is_none_or(|deadline| Instant::now() + wait < deadline))
        .unwrap_or(true)
}

/// Raises the current request's budget (if there is one) to at least `limit` calls: for a
/// field whose own bound is larger than the per-request one (`callLogStats`).
pub fn widen(limit: u32) {
    let _ = BUDGET.try_with(|b| b.limit.fetch_max(limit, Ordering::Relaxed));
}

/// Charges one upstream call to the current request's budget, if there is one.
pub fn charge() -> Result<(), BudgetExhausted> {
    BUDGET.try_with(|b| b.charge()).unwrap_or(Ok(()))
}

/// A spawner for DataLoaders that keeps the spawning request's budget in the new task.
pub fn spawn_in_budget(
    budget: Arc<CallBudget>,
) -> impl Fn(futures::future::BoxFuture<'static, ()>) -> tokio::task::JoinHandle<()> + Send + Sync + 'static {
    use tracing::Instrument;
    // The batch runs under the span of the field that started it (its upstream calls
    // then belong to that request's trace).
    move |task| {
        let task = crate::telemetry::request_id::inherit(BUDGET.scope(budget.clone(), task));
        tokio::spawn(task.in_current_span())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_past_the_limit_are_refused_inside_the_scope_and_spawned_tasks() {
        let budget = CallBudget::new(2);
        let spawn = spawn_in_budget(budget.clone());
        budget
            .scope(async {
                assert_eq!(charge(), Ok(()));
                let (tx, rx) = tokio::sync::oneshot::channel();
                spawn(Box::pin(async move {
                    let _ = tx.send((charge(), charge()));
                }))
                .await
                .unwrap();
                assert_eq!(rx.await.unwrap(), (Ok(()), Err(BudgetExhausted { limit: 2 })));
            })
            .await;
        assert_eq!(budget.used(), 2);
        assert_eq!(charge(), Ok(()), "no budget outside a request");
    }
}
