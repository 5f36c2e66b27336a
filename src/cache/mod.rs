//! The gateway's one moka cache, shared by every provider and tenant, with an optional
//! Redis behind it that replicas share (`l2`).
//!
//! Keys always start with the tenant, so two credential sets never see each other's data.
//! Entries carry their own TTL (final call logs live for hours, live calls for seconds,
//! not-found answers briefly) and a byte weight, so the cache is bounded by memory rather
//! than by entry count. Concurrent misses of one key run the fetch once (`try_get_with`);
//! with Redis, that fetch first asks Redis, and what it fetches goes to both levels.

pub mod config;
mod envelope;
pub mod l2;

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tracing::Instrument;

use serde::Serialize;
use serde::de::DeserializeOwned;

use moka::Expiry;
use moka::future::Cache as Moka;
use moka::notification::RemovalCause;

use crate::cache::config::CacheConfig;
use crate::domain::{Provider, TenantId};
use crate::request::{note_cache_hit, observe_expiry};
use crate::telemetry::metrics::Metrics;

/// A kind of cached value: its name (part of every key) and, at compile time, the Rust
/// type of its values. Each provider declares its kinds as constants; a key made from a
/// kind reads and writes only that type.
pub struct Kind<V> {
    name: &'static str,
    _value: PhantomData<fn() -> V>,
}

impl<V> Kind<V> {
    pub const fn new(name: &'static str) -> Self {
        Kind {
            name,
            _value: PhantomData,
        }
    }

    /// The key of `key` among this kind's values of `tenant` at `provider`.
    pub fn key(&self, tenant: &TenantId, provider: Provider, key: impl Into<Box<str>>) -> Key<V> {
        Key {
            raw: CacheKey {
                tenant: tenant.clone(),
                provider,
                kind: self.name,
                key: key.into(),
            },
            _value: PhantomData,
        }
    }
}

impl<V> std::fmt::Debug for Kind<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A typed cache key: tenant, provider, kind, then the key.
pub struct Key<V> {
    raw: CacheKey,
    _value: PhantomData<fn() -> V>,
}

impl<V> Clone for Key<V> {
    fn clone(&self) -> Self {
        Key {
            raw: self.raw.clone(),
            _value: PhantomData,
        }
    }
}

/// What moka stores a key as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    tenant: TenantId,
    provider: Provider,
    kind: &'static str,
    key: Box<str>,
}

/// A value that knows its approximate size in bytes.
pub trait Weigh: Send + Sync + 'static {
    fn weight(&self) -> usize;
}

/// What the cache holds: values that weigh themselves (for the local bound) and serialize
/// (for the shared level).
pub trait Cacheable: Weigh + Serialize + DeserializeOwned {}
impl<T: Weigh + Serialize + DeserializeOwned> Cacheable for T {}

impl<T: Weigh> Weigh for Option<T> {
    fn weight(&self) -> usize {
        self.as_ref().map_or(0, Weigh::weight)
    }
}

impl<T: Weigh> Weigh for Arc<T> {
    fn weight(&self) -> usize {
        (**self).weight()
    }
}

/// A cached count (`totalCount`) or instant.
impl Weigh for u64 {
    fn weight(&self) -> usize {
        8
    }
}

impl Weigh for i64 {
    fn weight(&self) -> usize {
        8
    }
}

impl<T: Weigh> Weigh for Vec<T> {
    fn weight(&self) -> usize {
        self.iter().map(Weigh::weight).sum::<usize>() + 16
    }
}

/// Bytes of an optional string (for `Weigh` impls).
pub fn opt_len(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::len)
}

impl Weigh for crate::domain::CallLogCore {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.native_id.len()
            + opt_len(&self.from)
            + opt_len(&self.to)
            + opt_len(&self.provider_status)
    }
}

/// What one entry costs beyond its key text and value, measured with
/// `examples/cache_rss.rs`: moka's bookkeeping (hash-table slot, entry info, access and
/// write deque nodes, timer-wheel node for the per-entry TTL), the `CacheKey` and `Entry`
/// structs, and the value's `Arc` allocation.
const ENTRY_OVERHEAD: u64 = 480;

/// `Weigh` impls count the bytes of a value's fields and strings; the allocator adds a
/// header and rounding to every allocation, and JSON trees (`callData`, event `details`)
/// take more than their text. Measured real cost / estimate on the emulator's records.
const VALUE_SLACK_NUM: u64 = 3;
const VALUE_SLACK_DEN: u64 = 2;

/// The weight of an entry: an estimate of the bytes it really holds, so the cache's bound
/// (`max_bytes`) bounds the memory it uses.
fn weigh(key: &CacheKey, value_weight: u32) -> u32 {
    let key_bytes = key.key.len() as u64 + 16;
    let value = u64::from(value_weight) * VALUE_SLACK_NUM / VALUE_SLACK_DEN;
    u32::try_from(ENTRY_OVERHEAD + key_bytes + value).unwrap_or(u32::MAX)
}

#[derive(Clone)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    weight: u32,
    ttl: Duration,
    /// When it expires, by the clock requests compare with (moka's own clock starts the
    /// TTL a little later, so the entry never outlives this).
    expires: std::time::Instant,
}

struct PerEntryTtl;

impl Expiry<CacheKey, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &CacheKey, value: &Entry, _now: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
    fn expire_after_update(
        &self,
        _key: &CacheKey,
        value: &Entry,
        _now: Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// TTL choices, from config.
#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    pub final_record: Duration,
    pub live_record: Duration,
    pub not_found: Duration,
    pub page: Duration,
}

impl Ttls {
    /// TTL of a by-id answer: long once the call is over, short while it may still change.
    pub fn for_record(&self, found: Option<bool>) -> Duration {
        match found {
            None => self.not_found,
            Some(true) => self.final_record,
            Some(false) => self.live_record,
        }
    }
}

/// The shared, tenant-scoped, byte-bounded cache.
#[derive(Clone)]
pub struct Cache {
    inner: Moka<CacheKey, Entry>,
    ttls: Ttls,
    metrics: Metrics,
    /// The Redis level replicas share, when configured.
    shared: Option<Arc<l2::L2>>,
}

/// Entries the cache's table is sized for at start: growing moka's concurrent table
/// rehashes every entry each time it doubles, which made filling a cold cache (list pages
/// priming their records) cost three times the inserts themselves. One slot per 4 KiB of
/// `max_bytes`, at most 16,384 (about 128 KiB of table).
fn initial_entries(max_bytes: u64) -> usize {
    usize::try_from(max_bytes / 4096).unwrap_or(usize::MAX).min(16_384)
}

impl Cache {
    /// A cache whose series go to metrics nobody reads (tests, tools).
    pub fn new(config: &CacheConfig) -> Self {
        Cache::observed(config, &Metrics::default())
    }

    /// A cache that counts hits and misses, entries, bytes and evictions per kind in
    /// `metrics`.
    pub fn observed(config: &CacheConfig, metrics: &Metrics) -> Self {
        let removed = metrics.clone();
        let inner = Moka::builder()
            .max_capacity(config.max_bytes)
            .initial_capacity(initial_entries(config.max_bytes))
            .weigher(|key: &CacheKey, entry: &Entry| weigh(key, entry.weight))
            .expire_after(PerEntryTtl)
            .eviction_listener(move |key: Arc<CacheKey>, entry: Entry, cause| {
                let cause = match cause {
                    RemovalCause::Size => "size",
                    RemovalCause::Expired => "expired",
                    RemovalCause::Replaced => "replaced",
                    RemovalCause::Explicit => "explicit",
                };
                removed.cache_evicted(key.kind, cause);
                removed.cache_size(key.kind, -1.0, -f64::from(weigh(&key, entry.weight)));
            })
            .build();
        Cache {
            metrics: metrics.clone(),
            shared: None,
            inner,
            ttls: Ttls {
                final_record: config.final_ttl,
                live_record: config.live_ttl,
                not_found: config.not_found_ttl,
                page: config.page_ttl,
            },
        }
    }

    /// This cache with `shared` (Redis) as its second level.
    pub fn with_shared(mut self, shared: l2::L2) -> Self {
        self.shared = Some(Arc::new(shared));
        self
    }

    /// Whether nothing fetched is kept for a later request: no local bytes (`max_bytes`
    /// 0; the local level still makes concurrent misses of one key share one fetch) and
    /// no Redis.
    pub fn keeps_nothing(&self) -> bool {
        self.inner.policy().max_capacity() == Some(0) && self.shared.is_none()
    }

    /// The metrics this cache counts in (providers add their batch sizes).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn ttls(&self) -> &Ttls {
        &self.ttls
    }

    /// Returns the cached value, or runs `fetch` once for all concurrent callers of `key`.
    /// `fetch` yields the value and its TTL; errors are not cached.
    pub async fn get_or_fetch<V, E, F>(&self, key: Key<V>, fetch: F) -> Result<Arc<V>, E>
    where
        V: Cacheable,
        E: Clone + Send + Sync + 'static + From<TypeMismatch>,
        F: Future<Output = Result<(V, Duration), E>>,
    {
        let key = key.raw;
        let (provider, kind) = (key.provider, key.kind);
        let loaded = AtomicBool::new(false);
        // An upstream fetch is a large future (the HTTP client's, retries, the shared
        // tier's): boxed once here, moka moves a pointer through its own futures instead
        // of copying kilobytes at each step (memcpy was 9% of a by-id miss's CPU).
        let fetch = Box::pin(fetch);
        let entry = self
            .inner
            .try_get_with(key.clone(), async {
                loaded.store(true, Ordering::Relaxed);
                let entry = match &self.shared {
                    Some(shared) => self.load_shared(shared, &key, fetch).await?,
                    None => {
                        let (value, ttl) = load_span(kind, provider, fetch).await?;
                        Entry::new(value, ttl)
                    }
                };
                self.stored(&key, &entry);
                Ok::<_, E>(entry)
            })
            .await
            .map_err(|e: Arc<E>| (*e).clone())?;
        let hit = !loaded.load(Ordering::Relaxed);
        self.metrics.cache_lookup(kind, hit);
        if hit {
            note_cache_hit();
        }
        observe_expiry(entry.expires);
        match entry.value.downcast::<V>() {
            Ok(value) => Ok(value),
            Err(_) => {
                // Kinds map to one type each; a mismatch is a bug. Drop the entry so it heals.
                tracing::error!(kind, "cache entry of unexpected type; evicting");
                self.inner.invalidate(&key).await;
                Err(E::from(TypeMismatch { provider, kind }))
            }
        }
    }

    /// A local miss with a shared level: Redis's value, or (after waiting for a replica
    /// already fetching it, if any) `fetch`'s, which is then written to Redis as well.
    async fn load_shared<V, E, F>(&self, shared: &l2::L2, key: &CacheKey, fetch: F) -> Result<Entry, E>
    where
        V: Cacheable,
        F: Future<Output = Result<(V, Duration), E>>,
    {
        if let Some(entry) = shared.load::<V>(key).await {
            note_cache_hit();
            return Ok(entry);
        }
        let lock = shared.lock(key).await;
        if matches!(lock, l2::Lock::Busy)
            && let Some(entry) = shared.wait_for::<V>(key).await
        {
            note_cache_hit();
            return Ok(entry);
        }
        match load_span(key.kind, key.provider, fetch).await {
            Ok((value, ttl)) => {
                let encoded = shared.encode(&value, ttl);
                let values = encoded.as_deref().map(|bytes| (key, bytes, ttl));
                shared.store(values, Some((key, &lock))).await;
                Ok(Entry::new(value, ttl))
            }
            Err(e) => {
                shared.store(None, Some((key, &lock))).await;
                Err(e)
            }
        }
    }

    /// The locally cached value of `key`, if any (no fetch; Redis is asked by
    /// `get_or_fetch`).
    pub async fn get<V: Weigh>(&self, key: &Key<V>) -> Option<Arc<V>> {
        // Only hits count here: a miss is counted where it loads (`get_or_fetch`).
        let entry = self.inner.get(&key.raw).await?;
        self.metrics.cache_lookup(key.raw.kind, true);
        note_cache_hit();
        observe_expiry(entry.expires);
        entry.value.downcast::<V>().ok()
    }

    /// Stores a value fetched elsewhere (a batch's answer), in Redis too when shared.
    pub async fn insert<V: Cacheable>(&self, key: Key<V>, value: V, ttl: Duration) {
        if self.keeps_nothing() {
            return;
        }
        let kind = key.raw.kind;
        let encoded = self.shared.as_ref().and_then(|shared| shared.encode(&value, ttl));
        if let (Some(shared), Some(bytes)) = (&self.shared, encoded) {
            shared.store([(&key.raw, bytes.as_slice(), ttl)], None).await;
        }
        let bytes = self.put(key.raw, Entry::new(value, ttl)).await;
        self.metrics.cache_size(kind, 1.0, bytes);
    }

    /// Stores an entry and returns its weighed bytes, for the caller to count (its
    /// removal is counted by the eviction listener).
    async fn put(&self, key: CacheKey, entry: Entry) -> f64 {
        observe_expiry(entry.expires);
        let bytes = f64::from(weigh(&key, entry.weight));
        self.inner.insert(key, entry).await;
        bytes
    }

    /// Counts an entry about to be stored by a load (`get_or_fetch`).
    fn stored(&self, key: &CacheKey, entry: &Entry) {
        self.metrics
            .cache_size(key.kind, 1.0, f64::from(weigh(key, entry.weight)));
    }

    /// Stores a by-id answer (found or not) for as long as it stays true: a record for
    /// `final_ttl` once `is_final` says it cannot change, else `live_ttl`; a miss for
    /// `not_found_ttl`. Batch loads and list pages (which prime the by-id entries, so a
    /// detail opened from a list costs no upstream call) store records through this.
    pub async fn remember<T: Cacheable>(
        &self,
        key: Key<Option<Arc<T>>>,
        record: Option<Arc<T>>,
        is_final: impl FnOnce(&T) -> bool,
    ) {
        let ttl = self.ttls.for_record(record.as_deref().map(is_final));
        self.insert(key, record, ttl).await;
    }

    /// Primes the by-id entries of a list page's records, so a detail opened from a list
    /// costs no upstream call (each record for as long as `remember` keeps it).
    pub async fn prime<T: Cacheable>(
        &self,
        records: &[Arc<T>],
        key: impl Fn(&T) -> Key<Option<Arc<T>>>,
        is_final: impl Fn(&T) -> bool,
    ) {
        if self.keeps_nothing() {
            return;
        }
        // Counted once per page, not per record: priming is on the list path's hot loop.
        let (mut entries, mut bytes, mut kind) = (0.0, 0.0, None);
        let mut shared = Vec::new();
        for record in records {
            let key = key(record).raw;
            let ttl = self.ttls.for_record(Some(is_final(record)));
            kind = Some(key.kind);
            entries += 1.0;
            let value = Some(record.clone());
            if let Some(bytes) = self.shared.as_ref().and_then(|s| s.encode(&value, ttl)) {
                shared.push((key.clone(), bytes, ttl));
            }
            bytes += self.put(key, Entry::new(value, ttl)).await;
        }
        if let Some(kind) = kind {
            self.metrics.cache_size(kind, entries, bytes);
        }
        if let Some(l2) = &self.shared {
            // One round trip for the page's records.
            l2.store(shared.iter().map(|(k, b, t)| (k, b.as_slice(), *t)), None)
                .await;
        }
    }

    /// Runs moka's pending maintenance, so evictions are counted (before a scrape).
    pub async fn settle(&self) {
        self.inner.run_pending_tasks().await;
    }

    /// Number of live entries (for metrics and tests; approximate until maintenance runs).
    pub fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }

    /// Total weight of the live entries in bytes, as bounded by `max_bytes`
    /// (approximate until maintenance runs).
    pub fn weighted_bytes(&self) -> u64 {
        self.inner.weighted_size()
    }
}

impl Entry {
    fn new<V: Weigh>(value: V, ttl: Duration) -> Self {
        let weight = u32::try_from(value.weight()).unwrap_or(u32::MAX);
        Entry {
            value: Arc::new(value),
            weight,
            ttl,
            expires: std::time::Instant::now() + ttl,
        }
    }
}

/// `fetch` inside a `cache.load` span when traces are exported (a miss that loads).
async fn load_span<T>(kind: &'static str, provider: Provider, fetch: impl Future<Output = T>) -> T {
    if !crate::telemetry::otel::enabled() {
        return fetch.await;
    }
    let span = tracing::info_span!(
        "cache.load",
        otel.kind = "internal",
        cache.kind = kind,
        provider = provider.as_str()
    );
    fetch.instrument(span).await
}

/// A cached value had another type than its kind promises. Typed keys rule this out unless
/// two kinds of one provider share a name; should it happen, it is reported, not a panic.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cache entry of kind {kind} has an unexpected type")]
pub struct TypeMismatch {
    pub provider: Provider,
    pub kind: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> Cache {
        Cache::new(&CacheConfig::default())
    }

    #[test]
    fn final_records_live_long_live_calls_briefly_and_misses_in_between() {
        let ttls = *cache().ttls();
        assert_eq!(ttls.for_record(Some(true)), CacheConfig::default().final_ttl);
        assert_eq!(ttls.for_record(Some(false)), CacheConfig::default().live_ttl);
        assert_eq!(ttls.for_record(None), CacheConfig::default().not_found_ttl);
        assert!(ttls.for_record(Some(false)) < ttls.for_record(Some(true)));
    }

    const TEXT: Kind<String> = Kind::new("text");

    impl Weigh for String {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    #[derive(Debug, Clone)]
    struct Failed;

    impl From<TypeMismatch> for Failed {
        fn from(_: TypeMismatch) -> Self {
            Failed
        }
    }

    #[tokio::test]
    async fn keys_of_two_tenants_never_collide() {
        let cache = cache();
        let key = |t: &str| TEXT.key(&TenantId::new(t), Provider::SignalWire, "same-id");
        let ttl = Duration::from_secs(60);
        let a = cache
            .get_or_fetch(key("a"), async { Ok::<_, Failed>(("A".to_string(), ttl)) })
            .await
            .unwrap();
        let b = cache
            .get_or_fetch(key("b"), async { Ok::<_, Failed>(("B".to_string(), ttl)) })
            .await
            .unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("A", "B"));
    }

    const RECORD: Kind<Option<Arc<String>>> = Kind::new("record");

    /// The `switchboard_cache_entries` gauge of kind `record`.
    fn record_entries(metrics: &Metrics) -> Option<f64> {
        let series = "switchboard_cache_entries{cache=\"record\"} ";
        metrics
            .render()
            .lines()
            .find_map(|l| l.strip_prefix(series)?.parse().ok())
    }

    #[tokio::test]
    async fn primed_and_replaced_records_keep_the_entry_gauge_equal_to_the_live_entries() {
        let metrics = Metrics::default();
        let cache = Cache::observed(&CacheConfig::default(), &metrics);
        let tenant = TenantId::new("t");
        let records: Vec<Arc<String>> = ["a", "b", "c"].map(|s| Arc::new(s.to_string())).into();
        let key = |r: &String| RECORD.key(&tenant, Provider::SignalWire, r.as_str());
        cache.prime(&records, key, |_| true).await;
        cache.settle().await;
        assert_eq!(record_entries(&metrics), Some(3.0));
        // The same records again replace the three entries: still three.
        cache.prime(&records, key, |_| true).await;
        cache.settle().await;
        assert_eq!(record_entries(&metrics), Some(3.0));
        assert_eq!(cache.entry_count(), 3);
    }

    #[tokio::test]
    async fn a_cache_of_zero_bytes_primes_nothing_from_a_list_page() {
        let metrics = Metrics::default();
        let off = Cache::observed(
            &CacheConfig {
                max_bytes: 0,
                ..CacheConfig::default()
            },
            &metrics,
        );
        assert!(off.keeps_nothing());
        assert!(!cache().keeps_nothing());
        let records: Vec<Arc<String>> = ["a", "b"].map(|s| Arc::new(s.to_string())).into();
        let key =
            |_: &String| -> Key<Option<Arc<String>>> { panic!("no entry is made for a cache that keeps nothing") };
        off.prime(&records, key, |_| true).await;
        off.settle().await;
        assert_eq!(off.entry_count(), 0);
        assert_eq!(record_entries(&metrics), None, "nothing was ever counted");
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let cache = cache();
        let key = TEXT.key(&TenantId::new("t"), Provider::SignalWire, "id");
        let ttl = Duration::from_secs(60);
        assert!(cache.get_or_fetch(key.clone(), async { Err(Failed) }).await.is_err());
        let ok = cache
            .get_or_fetch(key, async { Ok::<_, Failed>(("v".to_string(), ttl)) })
            .await
            .unwrap();
        assert_eq!(ok.as_str(), "v");
    }

    #[tokio::test]
    async fn entries_are_weighed_with_their_overhead_so_tiny_values_cannot_overfill_the_bound() {
        let max_bytes = 1024 * 1024;
        let cache = Cache::new(&CacheConfig {
            max_bytes,
            ..CacheConfig::default()
        });
        let ttl = Duration::from_secs(60);
        for i in 0..20_000 {
            let key = TEXT.key(&TenantId::new("t"), Provider::SignalWire, format!("{i:036}"));
            cache.insert(key, String::new(), ttl).await;
        }
        cache.inner.run_pending_tasks().await;
        assert!(cache.weighted_bytes() <= max_bytes);
        // Each empty value still costs its bookkeeping: about 2,000 fit in 1 MiB, not 10,000.
        assert!(
            cache.entry_count() <= max_bytes / ENTRY_OVERHEAD,
            "{} entries",
            cache.entry_count()
        );
    }
}
