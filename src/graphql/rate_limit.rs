//! `Query.rateLimit`: where the caller's cost budget stands (`[limits]`), so a frontend
//! can show it. Free: it makes no upstream call, a request selecting only it costs 0
//! (`graphql::cost`), and an answer holding it is never reused (its numbers change).

use async_graphql::{Context, Object, SimpleObject};

use super::scalars::DateTime;
use super::scope::RequestScope;

#[derive(Default)]
pub(super) struct RateLimitQuery;

#[Object]
impl RateLimitQuery {
    /// Where the caller's cost budget stands once this request was admitted: the tighter
    /// of its tenant's and its own (`limits.tenant_cost_per_minute`,
    /// `limits.user_cost_per_minute`). Costs nothing. Null when no budget is set.
    async fn rate_limit(&self, ctx: &Context<'_>) -> Option<RateLimit> {
        // Never kept for reuse: the expiry of "now" makes the answer stale at once.
        crate::request::observe_expiry(std::time::Instant::now());
        let standing = ctx.data::<RequestScope>().ok()?.standing?;
        let int = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
        Some(RateLimit {
            limit: int(standing.limit),
            remaining: int(standing.remaining),
            reset_at: DateTime(standing.reset_at().into()),
        })
    }
}

/// A cost budget: an upstream call costs 10, a request answered without one costs 1; it
/// refills continuously, wholly within a minute.
#[derive(SimpleObject)]
pub(super) struct RateLimit {
    /// Cost the budget holds when full (per minute).
    limit: i32,
    /// Cost left now.
    remaining: i32,
    /// When the budget is full again.
    reset_at: DateTime,
}
