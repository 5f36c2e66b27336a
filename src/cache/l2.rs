//! The optional shared second level of the cache: a Redis that replicas share.
//!
//! moka stays the first level; on its miss the cache asks Redis before the provider, and a
//! value fetched from the provider is written to both, so a record fetched through one
//! replica costs no upstream call on another. Keys carry the layout version (a deploy with
//! a changed record layout never reads old values) and the tenant's scope; values are the
//! compact `envelope` encoding with their absolute expiry, so every replica keeps a value
//! only as long as the one that fetched it decided (the status-aware TTLs).
//!
//! Redis only saves upstream calls; it is never needed to answer. Every command has a
//! short timeout; a failure opens a breaker for `retry_after`, during which Redis is not
//! asked at all, so a dead Redis adds no latency; failures are counted and logged at most
//! once per `LOG_EVERY`. Concurrent misses of one key on several replicas are fetched once:
//! the first takes a short `SET NX PX` lock, the others poll for its value for at most
//! `lock_wait`, then fetch themselves.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CacheKey, Entry, Weigh, envelope};
use crate::cache::config::RedisConfig;
use crate::telemetry::metrics::{L2Lock, L2Metrics, L2Result, L2Write, Metrics};

/// Bump when a cached type's serialized layout changes: older keys are then never read.
/// The crate version is part of the key too, so releases never share entries.
pub const LAYOUT: u32 = 2;

/// At most one outage line per this interval (with the count of failures it stands for).
const LOG_EVERY: Duration = Duration::from_secs(30);

/// How often a replica waiting on another's fetch looks for the value.
const LOCK_POLL: Duration = Duration::from_millis(20);

/// Releases a fetch lock only if it is still ours (it may have expired and been retaken).
const UNLOCK: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Why the shared cache could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cache.redis.url is not usable: {0}")]
pub struct L2Error(String);

/// The Redis second level.
pub struct L2 {
    conn: ConnectionManager,
    /// `{key_prefix}:v{LAYOUT}.{crate version}`: the start of every value key.
    values: Box<str>,
    /// The start of every lock key.
    locks: Box<str>,
    timeout: Duration,
    max_value_bytes: usize,
    lock_wait: Duration,
    lock_ttl: Duration,
    health: Health,
    metrics: Metrics,
    series: L2Metrics,
}

/// A fetch lock: held by us (with the token that releases it), or by another replica, or
/// not known because Redis did not answer.
pub(super) enum Lock {
    Held(String),
    Busy,
    Unknown,
}

impl L2 {
    /// A shared cache at `config.url`. The connection is made on first use, so the gateway
    /// starts (and serves from L1) while Redis is still down.
    pub fn connect(config: &RedisConfig, metrics: &Metrics) -> Result<Self, L2Error> {
        let client = redis::Client::open(config.url.expose()).map_err(|e| L2Error(format!("{:?}", e.kind())))?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.timeout))
            // No reconnect loop inside a command: a refused connection fails at once with
            // its cause, and the breaker decides when the next command (which reconnects)
            // is sent.
            .set_number_of_retries(0);
        let conn = client
            .get_connection_manager_lazy(manager)
            .map_err(|e| L2Error(format!("{:?}", e.kind())))?;
        let series = metrics.cache_l2();
        series.up(true);
        let version = format!("v{LAYOUT}.{}", env!("CARGO_PKG_VERSION"));
        Ok(L2 {
            conn,
            values: format!("{}:{version}", config.key_prefix).into(),
            locks: format!("{}:lock:{version}", config.key_prefix).into(),
            timeout: config.timeout,
            max_value_bytes: config.max_value_bytes,
            lock_wait: config.lock_wait,
            lock_ttl: config.lock_ttl,
            health: Health::new(config.retry_after),
            metrics: metrics.clone(),
            series,
        })
    }

    /// The Redis key of a cache key: prefix and version, the tenant's scope, provider,
    /// kind, then the key itself (last, so whatever it holds cannot make two keys equal).
    fn key(&self, start: &str, key: &CacheKey) -> String {
        format!(
            "{start}:{}:{}:{}:{}",
            key.tenant.scope(),
            key.provider.as_str(),
            key.kind,
            key.key
        )
    }

    /// The value of `key`, if another replica (or this one) stored one that is still fresh.
    pub(super) async fn load<V: Weigh + DeserializeOwned>(&self, key: &CacheKey) -> Option<Entry> {
        let result = self.read(key).await;
        let (outcome, entry) = match result {
            Read::Skipped => (L2Result::Skipped, None),
            Read::Failed => (L2Result::Error, None),
            Read::Missing => (L2Result::Miss, None),
            Read::Found(bytes) => match envelope::decode::<V>(&bytes) {
                Ok(Some((value, ttl))) => (L2Result::Hit, Some(Entry::new(value, ttl))),
                // Expired between Redis's clock and ours: a miss.
                Ok(None) => (L2Result::Miss, None),
                Err(e) => {
                    tracing::debug!(kind = key.kind, error = %e, "unreadable shared cache value; fetching");
                    (L2Result::Error, None)
                }
            },
        };
        self.metrics.cache_l2_lookup(key.kind, outcome);
        entry
    }

    async fn read(&self, key: &CacheKey) -> Read {
        if !self.health.available() {
            return Read::Skipped;
        }
        let mut get = redis::cmd("GET");
        get.arg(self.key(&self.values, key));
        match self.run::<Option<Vec<u8>>>(&get).await {
            Some(Some(bytes)) => Read::Found(bytes),
            Some(None) => Read::Missing,
            None => Read::Failed,
        }
    }

    /// Encodes `value` for `store` when it fits `max_value_bytes` (else it stays local).
    pub(super) fn encode<V: Serialize>(&self, value: &V, ttl: Duration) -> Option<Vec<u8>> {
        match envelope::encode(value, ttl) {
            Ok(bytes) if bytes.len() <= self.max_value_bytes => Some(bytes),
            Ok(_) => {
                self.series.written(L2Write::TooLarge, 1);
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cache value could not be encoded for the shared cache");
                self.series.written(L2Write::Error, 1);
                None
            }
        }
    }

    /// Stores encoded values with their TTLs in one round trip, releasing `lock` after.
    pub(super) async fn store<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a CacheKey, &'a [u8], Duration)>,
        lock: Option<(&CacheKey, &Lock)>,
    ) {
        let release = lock.and_then(|(key, lock)| match lock {
            Lock::Held(token) => Some((self.key(&self.locks, key), token)),
            _ => None,
        });
        let mut pipe = redis::pipe();
        let mut count = 0;
        for (key, bytes, ttl) in values {
            count += 1;
            pipe.cmd("SET")
                .arg(self.key(&self.values, key))
                .arg(bytes)
                .arg("PX")
                .arg(millis(ttl))
                .ignore();
        }
        if count == 0 && release.is_none() {
            return;
        }
        if !self.health.available() {
            self.series.written(L2Write::Skipped, count);
            return;
        }
        if let Some((lock_key, token)) = release {
            pipe.cmd("EVAL").arg(UNLOCK).arg(1).arg(lock_key).arg(token).ignore();
        }
        let stored = self.run::<()>(&pipe).await.is_some();
        self.series
            .written(if stored { L2Write::Ok } else { L2Write::Error }, count);
    }

    /// Takes the fetch lock of `key`, or learns that another replica holds it.
    pub(super) async fn lock(&self, key: &CacheKey) -> Lock {
        if self.lock_wait.is_zero() || !self.health.available() {
            return Lock::Unknown;
        }
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut set = redis::cmd("SET");
        set.arg(self.key(&self.locks, key))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(millis(self.lock_ttl));
        match self.run::<Option<String>>(&set).await {
            Some(Some(_)) => {
                self.series.locked(L2Lock::Acquired);
                Lock::Held(token)
            }
            Some(None) => Lock::Busy,
            None => Lock::Unknown,
        }
    }

    /// Waits (at most `lock_wait`) for the replica holding `key`'s lock to store its value.
    /// `None` when it did not come: the lock expired or was released without a value (the
    /// fetch failed), the wait ran out, or Redis failed; the caller then fetches.
    pub(super) async fn wait_for<V: Weigh + DeserializeOwned>(&self, key: &CacheKey) -> Option<Entry> {
        let deadline = Instant::now() + self.lock_wait;
        let (value_key, lock_key) = (self.key(&self.values, key), self.key(&self.locks, key));
        while Instant::now() < deadline && self.health.available() {
            tokio::time::sleep(LOCK_POLL).await;
            let mut pipe = redis::pipe();
            pipe.cmd("GET").arg(&value_key).cmd("EXISTS").arg(&lock_key);
            match self.run::<(Option<Vec<u8>>, bool)>(&pipe).await {
                Some((Some(bytes), _)) => {
                    if let Ok(Some((value, ttl))) = envelope::decode::<V>(&bytes) {
                        self.series.locked(L2Lock::Filled);
                        self.metrics.cache_l2_lookup(key.kind, L2Result::Hit);
                        return Some(Entry::new(value, ttl));
                    }
                    break;
                }
                Some((None, true)) => continue,
                Some((None, false)) | None => break,
            }
        }
        self.series.locked(L2Lock::GaveUp);
        None
    }

    /// Runs one command or pipeline within `timeout`; `None` (counted, logged, breaker
    /// opened) when Redis failed.
    async fn run<T: redis::FromRedisValue>(&self, command: &(impl Command + ?Sized)) -> Option<T> {
        let mut conn = self.conn.clone();
        let outcome = tokio::time::timeout(self.timeout, command.send(&mut conn)).await;
        let failure = match outcome {
            Ok(Ok(value)) => match redis::from_redis_value::<T>(value) {
                Ok(value) => {
                    if self.health.succeeded() {
                        self.series.up(true);
                        tracing::info!("shared cache (Redis) answers again");
                    }
                    return Some(value);
                }
                Err(e) => e.to_string(),
            },
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {:?}", self.timeout),
        };
        self.series.up(false);
        if let Some(suppressed) = self.health.failed() {
            tracing::warn!(
                cause = %failure,
                failures_since_last_report = suppressed,
                retry_after = ?self.health.retry_after,
                "shared cache (Redis) unavailable; serving from the local cache and providers"
            );
        }
        None
    }
}

/// What one read of a value key found.
enum Read {
    Found(Vec<u8>),
    Missing,
    Failed,
    Skipped,
}

/// A single command or a pipeline, sent the same way.
trait Command {
    fn send<'a>(&'a self, conn: &'a mut ConnectionManager) -> redis::RedisFuture<'a, redis::Value>;
}

impl Command for redis::Cmd {
    fn send<'a>(&'a self, conn: &'a mut ConnectionManager) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(self.query_async(conn))
    }
}

impl Command for redis::Pipeline {
    fn send<'a>(&'a self, conn: &'a mut ConnectionManager) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(self.query_async(conn))
    }
}

fn whole_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A TTL for Redis's `PX`, which refuses 0.
fn millis(d: Duration) -> u64 {
    whole_millis(d).max(1)
}

/// The breaker and the outage log: after a failure Redis is not asked for `retry_after`;
/// failures are reported at most once per `LOG_EVERY`.
struct Health {
    started: Instant,
    retry_after: Duration,
    /// Milliseconds since `started` before which Redis is not asked.
    closed_from: AtomicU64,
    down: AtomicBool,
    report: Mutex<Report>,
}

struct Report {
    last: Option<Instant>,
    suppressed: u64,
}

impl Health {
    fn new(retry_after: Duration) -> Self {
        Health {
            started: Instant::now(),
            retry_after,
            closed_from: AtomicU64::new(0),
            down: AtomicBool::new(false),
            report: Mutex::new(Report {
                last: None,
                suppressed: 0,
            }),
        }
    }

    fn now(&self) -> u64 {
        whole_millis(self.started.elapsed())
    }

    fn available(&self) -> bool {
        self.now() >= self.closed_from.load(Ordering::Relaxed)
    }

    /// Records a success; true when it ends an outage (to say so once).
    fn succeeded(&self) -> bool {
        self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::Relaxed)
    }

    /// Records a failure and opens the breaker; `Some(failures this line stands for)`
    /// when it is time to log.
    fn failed(&self) -> Option<u64> {
        self.closed_from.store(
            self.now().saturating_add(whole_millis(self.retry_after)),
            Ordering::Relaxed,
        );
        self.down.store(true, Ordering::Relaxed);
        let mut report = self.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        report.suppressed += 1;
        if report.last.is_some_and(|last| last.elapsed() < LOG_EVERY) {
            return None;
        }
        report.last = Some(Instant::now());
        Some(std::mem::take(&mut report.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_opens_the_breaker_and_only_the_first_failure_of_an_interval_is_reported() {
        let health = Health::new(Duration::from_secs(60));
        assert!(health.available());
        assert_eq!(health.failed(), Some(1));
        assert!(!health.available(), "open for retry_after");
        assert_eq!(health.failed(), None, "the second failure is only counted");
        assert_eq!(health.failed(), None);
        assert!(health.succeeded(), "the first success ends the outage");
        assert!(!health.succeeded(), "and is reported once");
    }

    #[test]
    fn the_breaker_closes_again_after_retry_after() {
        let health = Health::new(Duration::ZERO);
        health.failed();
        assert!(health.available());
    }
}
