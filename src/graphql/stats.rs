//! `callLogStats`: the merged timeline's calls grouped by provider, status, direction and
//! period (`timeline::stats`), with counts, summed durations and exact cost sums per
//! currency, over the same filter as `callLogs`.
//!
//! Each stream is read to its end on its own (`Stream::sweep`, no merge), in parallel,
//! and its stats are cached per tenant, stream, filter and grouping like pages: for
//! `cache.page_ttl`, or `cache.final_ttl` once the filter's window has closed
//! (`createdBefore` in the past) and every call in it is final, so repeating last month's
//! stats costs no upstream call. A grouping by nothing or by provider that asks for counts
//! only takes a provider's own count (OneUptime's `/count`, Voximplant's `total_count`)
//! instead of reading its records, where no gateway-side filter applies.
//!
//! Bounds: what the providers can count is summed first, and a window over
//! `stats.max_items` is refused before any record is read; streams that cannot count are
//! stopped as soon as they pass it. Such an answer can need many upstream calls, so the
//! field widens its request's call budget (`graphql.max_upstream_calls`) to what
//! `stats.max_items` can need.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, SimpleObject};

use super::error::GatewayError;
use super::scalars::DateTime;
use super::scope::{RequestScope, scope};
use super::timeline::{CallLogFilter, CallLogs};
use super::values::{CallDirection, CallStatus, Money, Provider};
use crate::authz::Outcome;
use crate::cache::{Kind, TypeMismatch, Weigh};
use crate::timeline::stats::{Dimension, Grouping, Interval, Stats, Tally};
use crate::timeline::{self, Plan, ReadLimit, Stream, Swept};

/// Items each stream reads per window (its provider pages them upstream).
const WINDOW: usize = 500;

/// What bounds `callLogStats` (schema data, from `[stats]` and the providers' page sizes).
#[derive(Debug, Clone, Copy)]
pub struct StatsLimits {
    /// Most call logs one answer may read (`stats.max_items`).
    pub max_items: u64,
    /// The upstream calls reading `max_items` can need (the field's call budget).
    pub max_calls: u32,
    /// Items a gateway-side filter scans per window (`graphql.timeline_scan_bound`).
    pub scan_bound: usize,
}

/// The defaults: `stats.max_items` 1,000,000 at 100 items per upstream page.
impl Default for StatsLimits {
    fn default() -> Self {
        StatsLimits {
            max_items: 1_000_000,
            max_calls: 10_000 + 150 + 8,
            scan_bound: 1_000,
        }
    }
}

/// What calls are grouped by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CallLogDimension")]
pub(super) enum CallLogDimension {
    Provider,
    Status,
    Direction,
    /// The period of `interval` (in `timeZone`) the call was created in.
    Period,
}

/// How long a period of `callLogStats` is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(super) enum StatsInterval {
    Hour,
    Day,
    /// Starting on Monday.
    Week,
    Month,
}

impl From<CallLogDimension> for Dimension {
    fn from(d: CallLogDimension) -> Self {
        match d {
            CallLogDimension::Provider => Dimension::Provider,
            CallLogDimension::Status => Dimension::Status,
            CallLogDimension::Direction => Dimension::Direction,
            CallLogDimension::Period => Dimension::Period,
        }
    }
}

impl From<StatsInterval> for Interval {
    fn from(i: StatsInterval) -> Self {
        match i {
            StatsInterval::Hour => Interval::Hour,
            StatsInterval::Day => Interval::Day,
            StatsInterval::Week => Interval::Week,
            StatsInterval::Month => Interval::Month,
        }
    }
}

/// The root field (merged into `Query`).
#[derive(Default)]
pub(super) struct StatsQuery;

#[Object]
impl StatsQuery {
    /// The calls `callLogs` lists for `filter`, grouped by `groupBy` (a bucket per
    /// distinct key; no dimension: one bucket of everything, none when nothing matched), with counts equal to paging
    /// `callLogs` to its end. `PERIOD` needs `interval`: periods start at the hour, at
    /// midnight, on Monday or on the first of the month in `timeZone` (an IANA name such as
    /// "Europe/Berlin"; default UTC). A provider that fails is reported in `errors` (with
    /// `provider`) and `complete` is false; the others still count. A window of more than
    /// `stats.max_items` call logs is refused (`BAD_USER_INPUT`).
    async fn call_log_stats(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        group_by: Vec<CallLogDimension>,
        interval: Option<StatsInterval>,
        time_zone: Option<String>,
    ) -> Result<CallLogStats, GatewayError> {
        let filter = filter.unwrap_or_default();
        scope(ctx)?.check_filters("CallLogFilter", &[("number", filter.number.is_some())])?;
        let dimensions: Vec<Dimension> = group_by.into_iter().map(Into::into).collect();
        let grouping = Grouping::new(&dimensions, interval.map(Into::into), time_zone.as_deref())
            .map_err(|e| GatewayError::bad_input(e.to_string()))?;
        let wanted = Wanted::of(ctx);
        call_log_stats(ctx, filter.into(), grouping, wanted).await
    }
}

/// What the selection asks beyond counts.
#[derive(Clone, Copy)]
struct Wanted {
    sums: bool,
}

impl Wanted {
    fn of(ctx: &Context<'_>) -> Self {
        let look = ctx.look_ahead();
        let sums = ["buckets", "totals"].iter().any(|part| {
            let part = look.field(part);
            part.field("durationSeconds").exists() || part.field("cost").exists()
        });
        Wanted { sums }
    }
}

/// Counts every stream; refuses an answer over `max_items`; reads (or counts) each stream.
async fn call_log_stats(
    ctx: &Context<'_>,
    filter: timeline::Filter,
    grouping: Grouping,
    wanted: Wanted,
) -> Result<CallLogStats, GatewayError> {
    let limits = *ctx
        .data::<StatsLimits>()
        .map_err(|_| GatewayError::internal("stats limits missing from the schema data"))?;
    let scope = scope(ctx)?;
    crate::request::widen(limits.max_calls);
    let key = cache_key(&filter, &grouping);
    let reads = Plan::new(dates_only(&filter), limits.scan_bound);
    let (streams, plan) = timeline::streams::<CallLogs>(scope, filter, limits.scan_bound)?;
    let counts = counts(scope, &streams, &plan, &reads).await;
    let known: u64 = counts.iter().flatten().map(|c| c.reads).sum();
    if known > limits.max_items {
        return Err(over_limit(known, limits.max_items, "would read"));
    }
    let limit = ReadLimit::new(limits.max_items);
    let answers = futures::future::join_all(streams.iter().zip(&counts).map(|(stream, count)| {
        let exact = count.as_ref().and_then(|c| c.exact);
        let shortcut = exact.filter(|_| !wanted.sums && grouping.needs_only_provider());
        let (plan, limit, key) = (&plan, &limit, &key);
        async move {
            match shortcut {
                Some(n) => {
                    let mut stats = Stats::default();
                    stats.add_count(&grouping, stream.provider(), n);
                    Ok(Arc::new(stats))
                }
                None => stream_stats(scope, *stream, plan, &grouping, limit, key).await,
            }
        }
    }))
    .await;
    let mut stats = Stats::default();
    let mut complete = true;
    for answer in answers {
        match answer {
            Ok(part) => stats.merge(&part),
            Err(Failure::OverLimit) => {
                return Err(over_limit(limit.scanned(), limits.max_items, "read more than"));
            }
            Err(Failure::Upstream(e)) => {
                complete = false;
                super::error::report(ctx, e);
            }
        }
    }
    Ok(CallLogStats { stats, complete })
}

/// What the providers count of a stream: the items it would scan (under the dates alone,
/// an upper bound when the gateway filters), and its exact count under the whole filter
/// where it can count that.
struct Count {
    reads: u64,
    exact: Option<u64>,
}

/// Each stream's counts, where its provider can count (`None` where it cannot, or the
/// count failed: the read then finds out).
async fn counts(scope: &RequestScope, streams: &[Stream<CallLogs>], plan: &Plan, reads: &Plan) -> Vec<Option<Count>> {
    futures::future::join_all(streams.iter().map(|stream| async move {
        if stream.can_count(plan) {
            let n = stream.count(scope, plan).await.ok()?;
            return Some(Count {
                reads: n,
                exact: Some(n),
            });
        }
        if stream.excluded(plan) {
            return Some(Count {
                reads: 0,
                exact: Some(0),
            });
        }
        if stream.can_count(reads) {
            let n = stream.count(scope, reads).await.ok()?;
            return Some(Count { reads: n, exact: None });
        }
        None
    }))
    .await
}

/// The filter with only what every provider applies upstream (dates, providers).
fn dates_only(filter: &timeline::Filter) -> timeline::Filter {
    timeline::Filter {
        created_after: filter.created_after,
        created_before: filter.created_before,
        providers: filter.providers.clone(),
        ..timeline::Filter::default()
    }
}

fn over_limit(items: u64, max: u64, verb: &str) -> GatewayError {
    GatewayError::bad_input(format!(
        "callLogStats {verb} {items} call logs, more than stats.max_items ({max}); narrow `filter` (createdAfter/createdBefore, providers)"
    ))
}

/// Why one stream's stats are missing.
#[derive(Debug, Clone)]
enum Failure {
    Upstream(GatewayError),
    OverLimit,
}

impl From<TypeMismatch> for Failure {
    fn from(e: TypeMismatch) -> Self {
        Failure::Upstream(GatewayError::internal(&e.to_string()))
    }
}

/// One stream's stats as the cache weighs them: a bucket's key and sums, and the map's node.
impl Weigh for Stats {
    fn weight(&self) -> usize {
        64 + self.len() * 160
    }
}

const STATS: Kind<Stats> = Kind::new("call-log-stats");

/// The cache key of one stream's stats, beside its name: the filter (canonical) and the
/// grouping.
fn cache_key(filter: &timeline::Filter, grouping: &Grouping) -> String {
    let filter = timeline::Filter {
        providers: None,
        ..filter.clone()
    };
    format!(
        "{}|{}",
        super::connection::canonical_filter(&filter),
        grouping.describe()
    )
}

/// One stream's stats, from the cache or read to its end.
async fn stream_stats(
    scope: &RequestScope,
    stream: Stream<CallLogs>,
    plan: &Plan,
    grouping: &Grouping,
    limit: &ReadLimit,
    key: &str,
) -> Result<Arc<Stats>, Failure> {
    let cache = &scope.tenant.cache;
    let key = STATS.key(&scope.tenant.id, stream.provider(), format!("{stream:?}|{key}"));
    cache
        .get_or_fetch(key, async {
            let mut stats = Stats::default();
            let swept = stream
                .sweep(scope, plan, WINDOW, limit, |log| {
                    if let Some(core) = core(&log) {
                        stats.add(grouping, core);
                    }
                })
                .await;
            match swept {
                Swept::Done => {
                    let closed = plan.created_before.is_some_and(|t| t <= chrono::Utc::now());
                    let ttls = cache.ttls();
                    let ttl = match closed && stats.is_final() {
                        true => ttls.final_record,
                        false => ttls.page,
                    };
                    Ok((stats, ttl))
                }
                Swept::Failed(e) => Err(Failure::Upstream(e)),
                Swept::OverLimit => Err(Failure::OverLimit),
            }
        })
        .await
}

/// The domain call a timeline item renders.
fn core(log: &super::call_log::CallLog) -> Option<&crate::domain::CallLogCore> {
    use super::flat::MaybeShared;
    log.shared().map(|s| s.core())
}

/// The answer of `callLogStats`.
pub(super) struct CallLogStats {
    stats: Stats,
    complete: bool,
}

/// Calls counted per bucket, and over all of them.
#[Object]
impl CallLogStats {
    /// One bucket per distinct key, ordered by period, then provider, status and direction.
    async fn buckets(&self) -> Vec<CallLogStatsBucket<'_>> {
        self.stats
            .buckets()
            .map(|(key, tally)| CallLogStatsBucket {
                key: CallLogStatsKey {
                    provider: key.provider.map(Into::into),
                    status: key.status.map(Into::into),
                    direction: key.direction.map(Into::into),
                    period_start: key.period_start.map(DateTime),
                },
                tally,
            })
            .collect()
    }

    /// Every call counted, whatever its bucket.
    async fn totals(&self) -> CallLogStatsTally<'_> {
        CallLogStatsTally(self.stats.totals())
    }

    /// False when a provider failed (its error is in `errors`): the buckets then hold the
    /// other providers' calls only.
    async fn complete(&self) -> bool {
        self.complete
    }
}

/// A bucket's key: the value of each dimension grouped by; null for the others.
#[derive(SimpleObject)]
pub(super) struct CallLogStatsKey {
    provider: Option<Provider>,
    status: Option<CallStatus>,
    direction: Option<CallDirection>,
    /// The first instant of the bucket's period (UTC), when grouped by `PERIOD`.
    period_start: Option<DateTime>,
}

/// One bucket: its key and what its calls sum to.
pub(super) struct CallLogStatsBucket<'a> {
    key: CallLogStatsKey,
    tally: &'a Tally,
}

/// The calls of one key, and what they sum to.
#[Object]
impl<'a> CallLogStatsBucket<'a> {
    async fn key(&self) -> &CallLogStatsKey {
        &self.key
    }

    /// Calls in the bucket.
    async fn count(&self) -> i32 {
        count(self.tally)
    }

    /// Their durations summed, in whole seconds (a Float, since a sum can pass `Int`'s
    /// 2^31; calls without a duration add nothing).
    async fn duration_seconds(&self) -> f64 {
        self.tally.duration_seconds as f64
    }

    /// What they cost, summed exactly per currency (one entry per currency, by code).
    /// Under the rules of `CallLog.cost`: null with `FORBIDDEN` for a caller who may not
    /// see a call's cost.
    async fn cost(&self, ctx: &Context<'_>) -> Result<Option<Vec<Money>>, GatewayError> {
        cost(ctx, self.tally)
    }
}

/// What every call counted sums to.
pub(super) struct CallLogStatsTally<'a>(&'a Tally);

/// What every call counted sums to.
#[Object(name = "CallLogStatsTotals")]
impl<'a> CallLogStatsTally<'a> {
    /// Calls counted.
    async fn count(&self) -> i32 {
        count(self.0)
    }

    /// Their durations summed, in whole seconds.
    async fn duration_seconds(&self) -> f64 {
        self.0.duration_seconds as f64
    }

    /// What they cost, summed exactly per currency.
    async fn cost(&self, ctx: &Context<'_>) -> Result<Option<Vec<Money>>, GatewayError> {
        cost(ctx, self.0)
    }
}

/// A tally's count (bounded by `stats.max_items`, at most 2^31 - 1).
fn count(tally: &Tally) -> i32 {
    i32::try_from(tally.count).unwrap_or(i32::MAX)
}

/// A tally's cost sums, under the rules of `CallLog.cost` (`[authorization]`): a caller
/// that may not see a call's cost may not see their sum either (null in place, with a
/// `FORBIDDEN` error).
fn cost(ctx: &Context<'_>, tally: &Tally) -> Result<Option<Vec<Money>>, GatewayError> {
    let access = &scope(ctx)?.access;
    if let Some((outcome, guard)) = access.outcome("CallLog", "cost") {
        if matches!(outcome, Outcome::Forbid | Outcome::Mask(_)) {
            return Err(GatewayError::forbidden(
                "cost sums need the scope that `CallLog.cost` requires, which this caller does not hold",
            ));
        }
        access.shown(guard);
    }
    let sums = tally.cost.iter().map(|(currency, amount)| Money {
        amount: super::scalars::Decimal(*amount),
        currency,
    });
    Ok(Some(sums.collect()))
}
