//! Prometheus metrics: what an operator's dashboards and alerts read.
//!
//! Series are kept by `metrics-exporter-prometheus`. Each `Application` owns its own
//! recorder (not the process-global one), so several gateways in one process (the tests)
//! never mix their counts; code records through the typed methods here, never by metric
//! name. Upstream series are registered once per provider and tenant, so recording them on
//! the request path is a few atomic adds. Histogram samples are folded into buckets by
//! `run_upkeep` (every second while serving) and by every render, so memory stays flat
//! between scrapes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::domain::Provider;
use crate::domain::TenantId;
use crate::telemetry::config::MetricsConfig;

const METADATA: Metadata<'static> = Metadata::new("switchboard", Level::INFO, Some(module_path!()));

/// Every series switchboard writes, with its help text (the README lists the same).
mod name {
    pub(super) const BUILD_INFO: &str = "switchboard_build_info";
    pub(super) const REQUESTS: &str = "switchboard_graphql_requests_total";
    pub(super) const REQUEST_SECONDS: &str = "switchboard_graphql_request_duration_seconds";
    pub(super) const ERRORS: &str = "switchboard_graphql_errors_total";
    pub(super) const IN_FLIGHT: &str = "switchboard_graphql_requests_in_flight";
    pub(super) const REJECTED: &str = "switchboard_requests_rejected_total";
    pub(super) const PANICS: &str = "switchboard_request_panics_total";
    pub(super) const REUSED: &str = "switchboard_responses_reused_total";
    pub(super) const PLANNED: &str = "switchboard_requests_planned_total";
    pub(super) const AUDIT_RECORDS: &str = "switchboard_audit_records_total";
    pub(super) const AUDIT_UNMASKED: &str = "switchboard_audit_unmasked_records_total";
    pub(super) const UPSTREAM_REQUESTS: &str = "switchboard_upstream_requests_total";
    pub(super) const UPSTREAM_SECONDS: &str = "switchboard_upstream_request_duration_seconds";
    pub(super) const UPSTREAM_ERRORS: &str = "switchboard_upstream_errors_total";
    pub(super) const UPSTREAM_RETRIES: &str = "switchboard_upstream_retries_total";
    pub(super) const CIRCUIT: &str = "switchboard_upstream_circuit_state";
    pub(super) const CACHE_REQUESTS: &str = "switchboard_cache_requests_total";
    pub(super) const CACHE_EVICTIONS: &str = "switchboard_cache_evictions_total";
    pub(super) const CACHE_ENTRIES: &str = "switchboard_cache_entries";
    pub(super) const CACHE_BYTES: &str = "switchboard_cache_weighted_bytes";
    pub(super) const BATCH_SIZE: &str = "switchboard_dataloader_batch_size";
    pub(super) const L2_REQUESTS: &str = "switchboard_cache_l2_requests_total";
    pub(super) const L2_WRITES: &str = "switchboard_cache_l2_writes_total";
    pub(super) const L2_LOCKS: &str = "switchboard_cache_l2_locks_total";
    pub(super) const L2_UP: &str = "switchboard_cache_l2_up";
    pub(super) const LIVE_SUBSCRIPTIONS: &str = "switchboard_live_subscriptions";
    pub(super) const LIVE_INGESTED: &str = "switchboard_live_events_ingested_total";
    pub(super) const LIVE_DUPLICATES: &str = "switchboard_live_events_duplicate_total";
    pub(super) const LIVE_DELIVERED: &str = "switchboard_live_events_delivered_total";
    pub(super) const LIVE_LAGGED: &str = "switchboard_live_lagged_subscribers_total";
    pub(super) const LIVE_WEBHOOK_REJECTED: &str = "switchboard_live_webhook_rejected_total";
}

/// Latency buckets in seconds: sub-millisecond cached answers to 30 s provider timeouts.
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const BATCH: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];

/// The gateway's metrics (cheap to clone: one shared recorder).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    tenant_label: bool,
    max_operation_names: usize,
    /// Request series by operation name label, then operation type; registered once.
    operations: Mutex<HashMap<Arc<str>, OperationSeries>>,
    /// Cache series by cache kind; registered once.
    caches: std::sync::RwLock<HashMap<&'static str, Arc<CacheSeries>>>,
    process: metrics_process::Collector,
    in_flight: Gauge,
    panics: Counter,
    reused: Counter,
    planned: Counter,
}

/// The audit series of one rule (`Metrics::audit_series`).
#[derive(Clone)]
pub struct AuditSeries {
    pub records: Counter,
    pub unmasked: Counter,
}

impl std::fmt::Debug for AuditSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditSeries")
    }
}

/// The series of live updates: subscriptions open, events ingested by source, duplicates
/// dropped, events delivered, subscribers cut off for lagging, webhooks refused.
#[derive(Clone)]
pub struct LiveMetrics {
    pub subscriptions: Gauge,
    pub duplicates: Counter,
    pub delivered: Counter,
    pub lagged: Counter,
    metrics: Metrics,
}

impl LiveMetrics {
    /// An event taken in from `source` (`webhook_signalwire`, `poll`, `peer`, ...).
    pub fn ingested(&self, source: &'static str) {
        self.metrics
            .counter(name::LIVE_INGESTED, vec![Label::new("source", source)])
            .increment(1);
    }

    /// A webhook request of `provider` refused (bad signature or secret).
    pub fn webhook_rejected(&self, provider: &'static str) {
        self.metrics
            .counter(name::LIVE_WEBHOOK_REJECTED, vec![Label::new("provider", provider)])
            .increment(1);
    }
}

impl std::fmt::Debug for LiveMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveMetrics")
    }
}

/// How a GraphQL request ended, as the `outcome` label says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Data and no errors.
    Ok,
    /// Data with errors (a failing provider, a field error).
    Partial,
    /// No data: refused, invalid, or every field failed.
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Error => "error",
        }
    }
}

/// Why a request was refused before or instead of execution (`reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// `server.max_in_flight` requests were running.
    Overloaded,
    /// `server.max_connections` connections were open.
    Connections,
    /// The whole request passed `server.request_timeout`.
    Timeout,
    /// The body was over `graphql.max_body_bytes` or did not arrive in time.
    Body,
    /// The document broke a size, nesting, token, field or directive limit.
    DocumentLimits,
    /// The response would pass `graphql.max_response_bytes`.
    ResponseSize,
}

impl Rejection {
    fn as_str(self) -> &'static str {
        match self {
            Rejection::Overloaded => "overloaded",
            Rejection::Connections => "connections",
            Rejection::Timeout => "timeout",
            Rejection::Body => "body",
            Rejection::DocumentLimits => "document_limits",
            Rejection::ResponseSize => "response_size",
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(&MetricsConfig::default())
    }
}

impl Metrics {
    pub fn new(config: &MetricsConfig) -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(name::BATCH_SIZE.into()), BATCH))
            .expect("the bucket lists are static and not empty")
            .build_recorder();
        let handle = recorder.handle();
        let process = metrics_process::Collector::default();
        metrics::with_local_recorder(&recorder, || process.describe());
        describe(&recorder);
        let build = recorder.register_gauge(
            &Key::from_parts(
                name::BUILD_INFO,
                vec![
                    Label::new("version", env!("CARGO_PKG_VERSION")),
                    Label::new("git_sha", env!("SWITCHBOARD_GIT_SHA")),
                ],
            ),
            &METADATA,
        );
        build.set(1.0);
        let plain = |name: &'static str| Key::from_static_name(name);
        Metrics(Arc::new(Inner {
            in_flight: recorder.register_gauge(&plain(name::IN_FLIGHT), &METADATA),
            panics: recorder.register_counter(&plain(name::PANICS), &METADATA),
            reused: recorder.register_counter(&plain(name::REUSED), &METADATA),
            planned: recorder.register_counter(&plain(name::PLANNED), &METADATA),
            recorder,
            handle,
            tenant_label: config.tenant_label,
            max_operation_names: config.max_operation_names,
            operations: Mutex::new(HashMap::new()),
            caches: std::sync::RwLock::default(),
            process,
        }))
    }

    /// The Prometheus text exposition of every series, process metrics included.
    pub fn render(&self) -> String {
        metrics::with_local_recorder(&self.0.recorder, || self.0.process.collect());
        self.0.handle.render()
    }

    /// Folds recorded histogram samples into their buckets (call every few seconds).
    pub fn run_upkeep(&self) {
        self.0.handle.run_upkeep();
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.0
            .recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        self.0
            .recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.0
            .recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }

    /// Sets the number of GraphQL requests executing now (read from the request guards'
    /// semaphore at scrape time, so requests pay nothing for it).
    pub fn in_flight(&self, requests: usize) {
        self.0.in_flight.set(requests as f64);
    }

    /// One finished GraphQL request. Its `operation_name` label is the operation's name
    /// while fewer than `max_operation_names` distinct names were seen, else `other`;
    /// `anonymous` for an unnamed operation; `unknown` (and so its type) when the request
    /// never got as far as selecting an operation (`operation_type` is `None`).
    pub fn request(&self, operation_type: Option<&'static str>, name: Option<&str>, outcome: Outcome, seconds: f64) {
        let label = match (operation_type, name) {
            (None, _) => "unknown",
            (Some(_), None) => "anonymous",
            (Some(_), Some(name)) => name,
        };
        let ty = OperationSeries::index(operation_type);
        let mut operations = self.0.operations.lock().unwrap_or_else(PoisonError::into_inner);
        let special = |l: &str| matches!(l, "unknown" | "anonymous" | "other");
        let full = || operations.keys().filter(|l| !special(l)).count() >= self.0.max_operation_names;
        let label = match special(label) || operations.contains_key(label) || !full() {
            true => label,
            false => "other",
        };
        let series = match operations.get_mut(label) {
            Some(series) => series,
            None => operations.entry(Arc::from(label)).or_default(),
        };
        let (requests, latency) = series.by_type[ty]
            .get_or_insert_with(|| self.request_series(operation_type.unwrap_or("unknown"), label))[outcome as usize]
            .clone();
        drop(operations);
        requests.increment(1);
        latency.record(seconds);
    }

    fn request_series(&self, operation_type: &'static str, label: &str) -> [(Counter, Histogram); 3] {
        [Outcome::Ok, Outcome::Partial, Outcome::Error].map(|outcome| {
            let labels = || {
                vec![
                    Label::new("operation_type", operation_type),
                    Label::new("operation_name", label.to_string()),
                    Label::new("outcome", outcome.as_str()),
                ]
            };
            (
                self.counter(name::REQUESTS, labels()),
                self.histogram(name::REQUEST_SECONDS, labels()),
            )
        })
    }

    /// One error in a response, by its `extensions.code`.
    pub fn graphql_error(&self, code: &str) {
        self.counter(name::ERRORS, vec![Label::new("code", code.to_string())])
            .increment(1);
    }

    pub fn rejected(&self, why: Rejection) {
        self.counter(name::REJECTED, vec![Label::new("reason", why.as_str())])
            .increment(1);
    }

    /// The audit series of one rule of `[authorization]` (registered once, at startup):
    /// audit records naming it, and the records they showed unmasked under it.
    pub fn audit_series(&self, rule: &str) -> AuditSeries {
        let labels = || vec![Label::new("rule", rule.to_string())];
        AuditSeries {
            records: self.counter(name::AUDIT_RECORDS, labels()),
            unmasked: self.counter(name::AUDIT_UNMASKED, labels()),
        }
    }

    /// The series of live updates (`live`), registered once per hub.
    pub fn live(&self) -> LiveMetrics {
        let plain = |name: &'static str| self.counter(name, Vec::new());
        LiveMetrics {
            subscriptions: self.gauge(name::LIVE_SUBSCRIPTIONS, Vec::new()),
            duplicates: plain(name::LIVE_DUPLICATES),
            delivered: plain(name::LIVE_DELIVERED),
            lagged: plain(name::LIVE_LAGGED),
            metrics: self.clone(),
        }
    }

    pub fn panicked(&self) {
        self.0.panics.increment(1);
    }

    /// A request answered with a kept rendered response.
    pub fn reused_response(&self) {
        self.0.reused.increment(1);
    }

    /// A request answered by a compiled plan (`graphql::plan`) instead of async-graphql.
    pub fn planned(&self) {
        self.0.planned.increment(1);
    }

    /// The series of one provider for one tenant, registered once.
    pub fn upstream(&self, provider: Provider, tenant: &TenantId) -> UpstreamMetrics {
        let mut base = vec![Label::new("provider", provider.as_str())];
        if self.0.tenant_label {
            base.push(Label::new("tenant", tenant.as_str().to_string()));
        }
        let with = |label: Label| {
            let mut labels = base.clone();
            labels.push(label);
            labels
        };
        let errors =
            ErrorClass::ALL.map(|class| self.counter(name::UPSTREAM_ERRORS, with(Label::new("class", class.as_str()))));
        UpstreamMetrics {
            requests: self.counter(name::UPSTREAM_REQUESTS, base.clone()),
            seconds: self.histogram(name::UPSTREAM_SECONDS, base.clone()),
            retries: self.counter(name::UPSTREAM_RETRIES, base.clone()),
            circuit: self.gauge(name::CIRCUIT, base),
            errors: Arc::new(errors),
        }
    }

    /// The series of cache kind `cache`, registered on first use.
    fn cache(&self, cache: &'static str) -> Arc<CacheSeries> {
        let known = self
            .0
            .caches
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(cache)
            .cloned();
        if let Some(series) = known {
            return series;
        }
        let mut caches = self.0.caches.write().unwrap_or_else(PoisonError::into_inner);
        let lookups = |name: &'static str, result: &'static str| {
            self.counter(name, vec![Label::new("cache", cache), Label::new("result", result)])
        };
        caches
            .entry(cache)
            .or_insert_with(|| {
                Arc::new(CacheSeries {
                    hits: lookups(name::CACHE_REQUESTS, "hit"),
                    misses: lookups(name::CACHE_REQUESTS, "miss"),
                    l2: L2Result::ALL.map(|r| lookups(name::L2_REQUESTS, r.as_str())),
                    entries: self.gauge(name::CACHE_ENTRIES, vec![Label::new("cache", cache)]),
                    bytes: self.gauge(name::CACHE_BYTES, vec![Label::new("cache", cache)]),
                })
            })
            .clone()
    }

    /// A cache read of `cache` (a cache kind): a hit, or a miss that loads.
    pub fn cache_lookup(&self, cache: &'static str, hit: bool) {
        let series = self.cache(cache);
        match hit {
            true => series.hits.increment(1),
            false => series.misses.increment(1),
        }
    }

    /// A read of the shared cache (Redis) for kind `cache`.
    pub fn cache_l2_lookup(&self, cache: &'static str, result: L2Result) {
        self.cache(cache).l2[result as usize].increment(1);
    }

    /// The shared cache's write, lock and health series, registered once.
    pub fn cache_l2(&self) -> L2Metrics {
        let labelled =
            |name: &'static str, result: &'static str| self.counter(name, vec![Label::new("result", result)]);
        L2Metrics {
            writes: L2Write::ALL.map(|w| labelled(name::L2_WRITES, w.as_str())),
            locks: L2Lock::ALL.map(|l| labelled(name::L2_LOCKS, l.as_str())),
            up: self.gauge(name::L2_UP, Vec::new()),
        }
    }

    /// An entry of `cache` stored (`+1`, `+bytes`) or removed (`-1`, `-bytes`).
    pub fn cache_size(&self, cache: &'static str, entries: f64, bytes: f64) {
        let series = self.cache(cache);
        series.entries.increment(entries);
        series.bytes.increment(bytes);
    }

    /// Sets the size of a cache that is counted as a whole (`documents`, `responses`).
    pub fn cache_entries(&self, cache: &'static str, entries: u64) {
        self.gauge(name::CACHE_ENTRIES, vec![Label::new("cache", cache)])
            .set(entries as f64);
    }

    /// An entry of `cache` removed for `cause` (`size`, `expired`, `replaced`, `explicit`).
    pub fn cache_evicted(&self, cache: &'static str, cause: &'static str) {
        self.counter(
            name::CACHE_EVICTIONS,
            vec![Label::new("cache", cache), Label::new("cause", cause)],
        )
        .increment(1);
    }

    /// Keys one DataLoader batch asked for.
    pub fn batch(&self, loader: &'static str, keys: usize) {
        self.histogram(name::BATCH_SIZE, vec![Label::new("loader", loader)])
            .record(keys as f64);
    }
}

/// One cache kind's series.
struct CacheSeries {
    hits: Counter,
    misses: Counter,
    l2: [Counter; 4],
    entries: Gauge,
    bytes: Gauge,
}

/// How a read of the shared cache ended (`result` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Result {
    Hit = 0,
    Miss = 1,
    /// Redis failed or timed out, or the value could not be read.
    Error = 2,
    /// Not asked: the breaker is open after a recent failure.
    Skipped = 3,
}

impl L2Result {
    const ALL: [L2Result; 4] = [L2Result::Hit, L2Result::Miss, L2Result::Error, L2Result::Skipped];

    fn as_str(self) -> &'static str {
        match self {
            L2Result::Hit => "hit",
            L2Result::Miss => "miss",
            L2Result::Error => "error",
            L2Result::Skipped => "skipped",
        }
    }
}

/// How a write to the shared cache ended (`result` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Write {
    Ok = 0,
    Error = 1,
    /// Not sent: the breaker is open.
    Skipped = 2,
    /// Not sent: the value is over `cache.redis.max_value_bytes`.
    TooLarge = 3,
}

impl L2Write {
    const ALL: [L2Write; 4] = [L2Write::Ok, L2Write::Error, L2Write::Skipped, L2Write::TooLarge];

    fn as_str(self) -> &'static str {
        match self {
            L2Write::Ok => "ok",
            L2Write::Error => "error",
            L2Write::Skipped => "skipped",
            L2Write::TooLarge => "too_large",
        }
    }
}

/// What a replica that missed a key did about other replicas fetching it (`result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Lock {
    /// It took the fetch lock and fetched.
    Acquired = 0,
    /// Another replica held the lock and stored the value while this one waited.
    Filled = 1,
    /// It waited, the value did not come (timeout, or the holder failed), so it fetched.
    GaveUp = 2,
}

impl L2Lock {
    const ALL: [L2Lock; 3] = [L2Lock::Acquired, L2Lock::Filled, L2Lock::GaveUp];

    fn as_str(self) -> &'static str {
        match self {
            L2Lock::Acquired => "acquired",
            L2Lock::Filled => "filled",
            L2Lock::GaveUp => "gave_up",
        }
    }
}

/// The shared cache's own series.
#[derive(Clone)]
pub struct L2Metrics {
    writes: [Counter; 4],
    locks: [Counter; 3],
    up: Gauge,
}

impl L2Metrics {
    pub fn written(&self, result: L2Write, values: u64) {
        self.writes[result as usize].increment(values);
    }

    pub fn locked(&self, result: L2Lock) {
        self.locks[result as usize].increment(1);
    }

    /// Whether Redis answers (1) or the breaker is open (0).
    pub fn up(&self, up: bool) {
        self.up.set(if up { 1.0 } else { 0.0 });
    }
}

/// The request series of one operation name, by operation type and outcome (registered
/// on first use, so a request records through two atomic handles).
#[derive(Default)]
struct OperationSeries {
    by_type: [Option<[(Counter, Histogram); 3]>; 4],
}

impl OperationSeries {
    fn index(operation_type: Option<&str>) -> usize {
        match operation_type {
            Some("query") => 0,
            Some("mutation") => 1,
            Some("subscription") => 2,
            _ => 3,
        }
    }
}

/// What an upstream failure is counted as (`class` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Timeout,
    /// Refused or reset connection, TLS failure, or a 5xx.
    Unavailable,
    RateLimited,
    Unauthorized,
    BadResponse,
    /// Not sent: the circuit was open.
    CircuitOpen,
    /// Not sent: the request's upstream-call budget was used up.
    Budget,
}

impl ErrorClass {
    const ALL: [ErrorClass; 7] = [
        ErrorClass::Timeout,
        ErrorClass::Unavailable,
        ErrorClass::RateLimited,
        ErrorClass::Unauthorized,
        ErrorClass::BadResponse,
        ErrorClass::CircuitOpen,
        ErrorClass::Budget,
    ];

    fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Timeout => "timeout",
            ErrorClass::Unavailable => "unavailable",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Unauthorized => "unauthorized",
            ErrorClass::BadResponse => "bad_response",
            ErrorClass::CircuitOpen => "circuit_open",
            ErrorClass::Budget => "budget",
        }
    }
}

/// One provider's upstream series for one tenant.
#[derive(Clone)]
pub struct UpstreamMetrics {
    requests: Counter,
    seconds: Histogram,
    retries: Counter,
    circuit: Gauge,
    errors: Arc<[Counter; 7]>,
}

impl UpstreamMetrics {
    /// One request sent (and answered or failed) after `seconds`.
    pub fn sent(&self, seconds: f64) {
        self.requests.increment(1);
        self.seconds.record(seconds);
    }

    pub fn failed(&self, class: ErrorClass) {
        let i = ErrorClass::ALL.iter().position(|c| *c == class).unwrap_or(0);
        self.errors[i].increment(1);
    }

    pub fn retried(&self) {
        self.retries.increment(1);
    }

    /// The breaker's state as the upstream layer numbers it (0 closed, 1 half-open,
    /// 2 open: `upstream::breaker::BreakerState::gauge`).
    pub fn circuit(&self, state: f64) {
        self.circuit.set(state);
    }
}

fn describe(recorder: &PrometheusRecorder) {
    use name::*;
    let counters: [(&'static str, &'static str); 21] = [
        (
            LIVE_INGESTED,
            "Live call events taken in, by source (a webhook, the poller, another replica)",
        ),
        (
            LIVE_DUPLICATES,
            "Live call events dropped as already delivered (replayed webhooks, two sources of one change)",
        ),
        (
            LIVE_DELIVERED,
            "Live call events handed to subscribers (one per subscriber)",
        ),
        (
            LIVE_LAGGED,
            "Subscriptions ended with SUBSCRIPTION_LAGGED: the subscriber fell a buffer behind",
        ),
        (
            LIVE_WEBHOOK_REJECTED,
            "Provider webhooks refused (bad signature or secret), by provider",
        ),
        (
            REQUESTS,
            "GraphQL requests by operation type, operation name and outcome (ok, partial, error)",
        ),
        (ERRORS, "Errors in GraphQL responses, by extensions.code"),
        (REJECTED, "Requests refused by a limit, by reason"),
        (
            AUDIT_RECORDS,
            "Audit records of answers that showed a governed field unmasked, by the rule that granted it",
        ),
        (
            AUDIT_UNMASKED,
            "Records shown unmasked under a rule of [authorization.fields], by rule",
        ),
        (PANICS, "Requests that panicked (answered with a coded 500)"),
        (REUSED, "Requests answered with a kept rendered response"),
        (
            PLANNED,
            "Requests answered by a compiled plan instead of async-graphql's executor",
        ),
        (UPSTREAM_REQUESTS, "HTTP requests sent to providers, retries included"),
        (UPSTREAM_ERRORS, "Failed provider requests, by class"),
        (UPSTREAM_RETRIES, "Provider requests sent again after a failure"),
        (
            CACHE_REQUESTS,
            "Cache reads by cache kind: hits, and misses that loaded",
        ),
        (CACHE_EVICTIONS, "Cache entries removed, by cache kind and cause"),
        (
            L2_REQUESTS,
            "Shared cache (Redis) reads after a local miss, by cache kind and result",
        ),
        (L2_WRITES, "Values written to the shared cache (Redis), by result"),
        (
            L2_LOCKS,
            "Shared-cache misses coordinated with other replicas, by result",
        ),
    ];
    for (name, help) in counters {
        recorder.describe_counter(name.into(), None, help.into());
    }
    let gauges: [(&'static str, Option<Unit>, &'static str); 7] = [
        (LIVE_SUBSCRIPTIONS, None, "Subscriptions open now, over every transport"),
        (
            BUILD_INFO,
            None,
            "Version and git commit of the running build (always 1)",
        ),
        (IN_FLIGHT, None, "GraphQL requests executing now"),
        (
            L2_UP,
            None,
            "Shared cache (Redis): 1 answering, 0 failing (breaker open)",
        ),
        (CIRCUIT, None, "Provider circuit breaker: 0 closed, 1 half-open, 2 open"),
        (CACHE_ENTRIES, None, "Cache entries by cache kind"),
        (
            CACHE_BYTES,
            Some(Unit::Bytes),
            "Weighed bytes of cache entries by cache kind",
        ),
    ];
    for (name, unit, help) in gauges {
        recorder.describe_gauge(name.into(), unit, help.into());
    }
    let histograms: [(&'static str, Option<Unit>, &'static str); 3] = [
        (
            REQUEST_SECONDS,
            Some(Unit::Seconds),
            "GraphQL request latency, body read to response",
        ),
        (
            UPSTREAM_SECONDS,
            Some(Unit::Seconds),
            "Provider request latency, per attempt",
        ),
        (BATCH_SIZE, None, "Keys per DataLoader batch"),
    ];
    for (name, unit, help) in histograms {
        recorder.describe_histogram(name.into(), unit, help.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_past_the_cap_count_as_other_while_unnamed_and_unknown_keep_theirs() {
        let metrics = Metrics::new(&MetricsConfig {
            tenant_label: true,
            max_operation_names: 2,
        });
        for name in ["A", "B", "C", "D", "A"] {
            metrics.request(Some("query"), Some(name), Outcome::Ok, 0.001);
        }
        metrics.request(Some("query"), None, Outcome::Ok, 0.001);
        metrics.request(None, Some("Whatever"), Outcome::Error, 0.001);
        let text = metrics.render();
        let count = |labels: &str| {
            let series = format!("switchboard_graphql_requests_total{{{labels}}} ");
            text.lines().find_map(|l| l.strip_prefix(&series)?.parse::<u64>().ok())
        };
        for (labels, expected) in [
            (r#"operation_type="query",operation_name="A",outcome="ok""#, 2),
            (r#"operation_type="query",operation_name="B",outcome="ok""#, 1),
            (r#"operation_type="query",operation_name="other",outcome="ok""#, 2),
            (r#"operation_type="query",operation_name="anonymous",outcome="ok""#, 1),
            (
                r#"operation_type="unknown",operation_name="unknown",outcome="error""#,
                1,
            ),
        ] {
            assert_eq!(count(labels), Some(expected), "{labels}\n{text}");
        }
        assert!(!text.contains(r#"operation_name="C""#), "{text}");
    }

    #[test]
    fn label_values_are_escaped_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.request(Some("query"), Some("we\"ird\\name"), Outcome::Ok, 0.001);
        metrics.graphql_error("CODE\nWITH NEWLINE");
        let text = metrics.render();
        assert!(text.contains(r#"operation_name="we\"ird\\name""#), "{text}");
        assert!(text.contains(r#"code="CODE\nWITH NEWLINE""#), "{text}");
    }
}
