//! `[live]`: live updates (`Subscription.callLogEvents`): how often providers are polled,
//! how many subscriptions a connection and a tenant may hold, each subscriber's buffer,
//! how long replayed webhooks are remembered, and the WebSocket's timers.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::settings::ConfigError;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Off: no subscriptions, no webhooks, no polling.
    pub enabled: bool,
    /// How often each tenant's providers are polled for new calls and for changes of calls
    /// still in progress; 0 turns polling off (webhooks only).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Subscriptions one WebSocket may run at once (more: close 4429).
    pub max_subscriptions_per_connection: usize,
    /// Subscriptions one tenant may hold at once, over every connection and transport.
    pub max_subscriptions_per_tenant: usize,
    /// Events a subscriber may fall behind before its subscription ends with
    /// `SUBSCRIPTION_LAGGED` (it resumes with `after`).
    pub buffer: usize,
    /// How long an event id is remembered, so a replayed webhook is delivered once.
    #[serde(with = "humantime_serde")]
    pub replay_window: Duration,
    /// Recent events each tenant keeps for `after` to resume from (beyond them, missed new
    /// calls are read from the timeline).
    pub history: usize,
    /// Most missed calls a resuming subscription reads from the timeline before it says
    /// to page `callLogs` instead.
    pub resume_max_items: usize,
    /// A WebSocket must send `connection_init` within this (else close 4408).
    #[serde(with = "humantime_serde")]
    pub connection_init_timeout: Duration,
    /// Keep-alive pings (WebSocket `ping`, SSE comment) on a quiet connection.
    #[serde(with = "humantime_serde")]
    pub keep_alive: Duration,
    /// Demo mode: the emulator starts calls and moves them through their statuses, and
    /// sends the providers' callbacks to the gateway.
    pub demo_traffic: bool,
    /// The gateway's URL as providers reach it (`https://gw.example.com`), when a proxy
    /// in between changes it: webhook signatures cover the URL the provider called.
    pub public_url: Option<url::Url>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            enabled: true,
            poll_interval: Duration::from_secs(5),
            max_subscriptions_per_connection: 50,
            max_subscriptions_per_tenant: 1000,
            buffer: 256,
            replay_window: Duration::from_secs(600),
            history: 4096,
            resume_max_items: 1000,
            connection_init_timeout: Duration::from_secs(3),
            keep_alive: Duration::from_secs(12),
            demo_traffic: true,
            public_url: None,
        }
    }
}

impl LiveConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, why: &str| Err(ConfigError::invalid(format!("live.{key}"), why));
        if self.max_subscriptions_per_connection == 0 {
            return invalid("max_subscriptions_per_connection", "must be at least 1");
        }
        if self.max_subscriptions_per_tenant == 0 {
            return invalid("max_subscriptions_per_tenant", "must be at least 1");
        }
        if self.buffer == 0 {
            return invalid("buffer", "must be at least 1");
        }
        if self.connection_init_timeout.is_zero() {
            return invalid("connection_init_timeout", "must be more than 0");
        }
        if self.keep_alive.is_zero() {
            return invalid("keep_alive", "must be more than 0");
        }
        if !self.poll_interval.is_zero() && self.poll_interval < Duration::from_millis(100) {
            return invalid("poll_interval", "must be 0 (off) or at least 100ms");
        }
        Ok(())
    }
}
