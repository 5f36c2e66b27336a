//! `[cache]`: the local cache's size and TTLs, and the optional Redis level.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::settings::{ConfigError, Secret};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Upper bound of the cache's estimated size in bytes (records and pages together).
    /// 0 keeps nothing: concurrent misses of one key still share one fetch, and list
    /// pages prime no by-id entries.
    pub max_bytes: u64,
    /// TTL of records whose call has ended (immutable upstream).
    #[serde(with = "humantime_serde")]
    pub final_ttl: Duration,
    /// TTL of records of calls still in progress.
    #[serde(with = "humantime_serde")]
    pub live_ttl: Duration,
    /// TTL of "no such id" answers.
    #[serde(with = "humantime_serde")]
    pub not_found_ttl: Duration,
    /// TTL of upstream list pages.
    #[serde(with = "humantime_serde")]
    pub page_ttl: Duration,
    /// Bytes of rendered responses kept per tenant, query and variables for as long as all
    /// the data in them stays fresh (`http::responses`); 0 turns that off, and so does a
    /// `max_bytes` of 0.
    pub max_response_bytes: u64,
    /// `[cache.redis]`: a Redis that replicas share as a second cache level (off when absent).
    pub redis: Option<RedisConfig>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_bytes: 64 * 1024 * 1024,
            final_ttl: Duration::from_secs(6 * 3600),
            live_ttl: Duration::from_secs(5),
            not_found_ttl: Duration::from_secs(30),
            page_ttl: Duration::from_secs(30),
            max_response_bytes: 16 * 1024 * 1024,
            redis: None,
        }
    }
}

/// The shared second cache level (`cache::l2`). Redis only saves upstream calls: when it
/// is slow or down the gateway answers from its own cache and the providers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (TLS, `rediss://`, is not built in).
    pub url: Secret,
    /// First part of every key, so deployments can share one Redis.
    #[serde(default = "RedisConfig::default_key_prefix")]
    pub key_prefix: String,
    /// How long one Redis command may take before it counts as failed.
    #[serde(default = "RedisConfig::default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How long connecting may take.
    #[serde(default = "RedisConfig::default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// After a failure, Redis is left alone this long (the breaker is open) before it is
    /// tried again.
    #[serde(default = "RedisConfig::default_retry_after", with = "humantime_serde")]
    pub retry_after: Duration,
    /// Values larger than this (serialized) stay in the local cache only.
    #[serde(default = "RedisConfig::default_max_value_bytes")]
    pub max_value_bytes: usize,
    /// How long a replica that misses a key waits for another replica already fetching it
    /// before fetching it itself; 0 turns the cross-replica lock off.
    #[serde(default = "RedisConfig::default_lock_wait", with = "humantime_serde")]
    pub lock_wait: Duration,
    /// How long a fetch lock lives when its holder never releases it (a crash).
    #[serde(default = "RedisConfig::default_lock_ttl", with = "humantime_serde")]
    pub lock_ttl: Duration,
}

impl RedisConfig {
    fn default_key_prefix() -> String {
        "switchboard".into()
    }
    fn default_timeout() -> Duration {
        Duration::from_millis(100)
    }
    fn default_connect_timeout() -> Duration {
        Duration::from_millis(250)
    }
    fn default_retry_after() -> Duration {
        Duration::from_secs(5)
    }
    fn default_max_value_bytes() -> usize {
        1024 * 1024
    }
    fn default_lock_wait() -> Duration {
        Duration::from_secs(2)
    }
    fn default_lock_ttl() -> Duration {
        Duration::from_secs(15)
    }

    /// Settings for `url` with every default.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: Secret::new(url),
            key_prefix: Self::default_key_prefix(),
            timeout: Self::default_timeout(),
            connect_timeout: Self::default_connect_timeout(),
            retry_after: Self::default_retry_after(),
            max_value_bytes: Self::default_max_value_bytes(),
            lock_wait: Self::default_lock_wait(),
            lock_ttl: Self::default_lock_ttl(),
        }
    }
}

impl RedisConfig {
    /// Checks `[cache.redis]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let redis = self;
        let invalid = |k: &str, problem: &str| ConfigError::Invalid {
            key: format!("cache.redis.{k}"),
            problem: problem.to_string(),
        };
        match Url::parse(redis.url.expose()) {
            Ok(url) if url.scheme() == "redis" && url.host().is_some() => {}
            // The URL may hold a password: never echo it.
            _ => return Err(invalid("url", "must be a redis://host:port URL")),
        }
        if redis.key_prefix.is_empty() || redis.key_prefix.contains(char::is_whitespace) {
            return Err(invalid("key_prefix", "must be a non-empty word"));
        }
        if redis.timeout.is_zero() || redis.connect_timeout.is_zero() {
            return Err(invalid("timeout", "timeout and connect_timeout must be above 0"));
        }
        if redis.max_value_bytes == 0 {
            return Err(invalid("max_value_bytes", "must be at least 1"));
        }
        if redis.lock_ttl < redis.lock_wait {
            return Err(invalid("lock_ttl", "must be at least lock_wait"));
        }
        Ok(())
    }
}

impl CacheConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        match &self.redis {
            Some(redis) => redis.validate(),
            None => Ok(()),
        }
    }
}
