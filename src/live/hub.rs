//! The hub: per tenant, one broadcast channel of call events, the ids of events already
//! taken in (a replayed webhook, or one change seen by a webhook and by the poller, is
//! delivered once), the last events for `after` to resume from, and the count of
//! subscriptions against `live.max_subscriptions_per_tenant`.
//!
//! Generic over the event's payload so it names no GraphQL type: the GraphQL layer puts
//! rendered call logs in it. A subscriber that falls `live.buffer` events behind is told
//! so (`Next::Lagged`) instead of slowing the publisher or growing a queue.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, watch};

use super::LiveError;
use super::config::LiveConfig;
use crate::domain::TenantId;
use crate::telemetry::metrics::LiveMetrics;

/// What happened to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EventKind {
    /// A call the gateway had not seen.
    Created,
    /// A call it had seen changed (its status).
    Updated,
}

/// One event of a tenant.
#[derive(Debug, Clone)]
pub struct Event<E> {
    /// Names the change (the same change from two sources has one id).
    pub id: Arc<str>,
    pub kind: EventKind,
    /// When the gateway took it in (what event cursors order by).
    pub at: DateTime<Utc>,
    pub payload: E,
}

/// The sizes and windows the hub works with (from `[live]`).
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    pub buffer: usize,
    pub max_per_tenant: usize,
    pub replay_window: Duration,
    pub history: usize,
}

impl From<&LiveConfig> for HubLimits {
    fn from(config: &LiveConfig) -> Self {
        HubLimits {
            buffer: config.buffer,
            max_per_tenant: config.max_subscriptions_per_tenant,
            replay_window: config.replay_window,
            history: config.history,
        }
    }
}

/// Every tenant's channel.
pub struct Hub<E> {
    channels: Mutex<HashMap<TenantId, Arc<Channel<E>>>>,
    limits: HubLimits,
    metrics: LiveMetrics,
    closing: watch::Sender<bool>,
}

struct Channel<E> {
    sender: broadcast::Sender<Arc<Event<E>>>,
    history: Mutex<History<E>>,
    seen: moka::sync::Cache<Arc<str>, ()>,
    subscribers: Arc<AtomicUsize>,
}

/// The last events of a tenant, and since when they are all there: the channel's start,
/// or the instant of the newest event dropped to keep the history bounded.
struct History<E> {
    events: VecDeque<Arc<Event<E>>>,
    complete_since: DateTime<Utc>,
}

/// What a subscriber receives next.
#[derive(Debug)]
pub enum Next<E> {
    Event(Arc<Event<E>>),
    /// It fell this many events behind; the subscription should end.
    Lagged(u64),
    /// The gateway is shutting down.
    Closed,
}

impl<E: Clone + Send + Sync + 'static> Hub<E> {
    pub fn new(limits: HubLimits, metrics: LiveMetrics) -> Self {
        Hub {
            channels: Mutex::default(),
            limits,
            metrics,
            closing: watch::Sender::new(false),
        }
    }

    pub fn metrics(&self) -> &LiveMetrics {
        &self.metrics
    }

    fn channel(&self, tenant: &TenantId) -> Arc<Channel<E>> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .entry(tenant.clone())
            .or_insert_with(|| {
                Arc::new(Channel {
                    sender: broadcast::Sender::new(self.limits.buffer),
                    history: Mutex::new(History {
                        events: VecDeque::new(),
                        complete_since: Utc::now(),
                    }),
                    seen: moka::sync::Cache::builder()
                        .max_capacity(100_000)
                        .time_to_live(self.limits.replay_window)
                        .build(),
                    subscribers: Arc::default(),
                })
            })
            .clone()
    }

    /// Whether the event `id` of `tenant` was taken in within the replay window.
    pub fn has_seen(&self, tenant: &TenantId, id: &str) -> bool {
        self.channel(tenant).seen.contains_key(id)
    }

    /// Takes in an event from `source` and hands it to the tenant's subscribers; `None`
    /// (and nothing delivered) when its id was taken in before.
    pub fn publish(&self, tenant: &TenantId, event: Event<E>, source: &'static str) -> Option<Arc<Event<E>>> {
        let channel = self.channel(tenant);
        let fresh = channel.seen.entry(event.id.clone()).or_insert(()).is_fresh();
        if !fresh {
            self.metrics.duplicates.increment(1);
            return None;
        }
        self.metrics.ingested(source);
        let event = Arc::new(event);
        {
            let mut history = channel.history.lock().unwrap_or_else(PoisonError::into_inner);
            if history.events.len() >= self.limits.history.max(1)
                && let Some(dropped) = history.events.pop_front()
            {
                history.complete_since = history.complete_since.max(dropped.at);
            }
            history.events.push_back(event.clone());
        }
        // No subscriber is not an error: the event stays in the history.
        let _ = channel.sender.send(event.clone());
        Some(event)
    }

    /// A new subscription of `tenant`; refused past `max_subscriptions_per_tenant` or
    /// while shutting down.
    pub fn subscribe(&self, tenant: &TenantId) -> Result<Subscriber<E>, LiveError> {
        if *self.closing.borrow() {
            return Err(LiveError::ShuttingDown);
        }
        let channel = self.channel(tenant);
        let max = self.limits.max_per_tenant;
        channel
            .subscribers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1))
            .map_err(|_| LiveError::TooManySubscriptions { limit: max })?;
        self.metrics.subscriptions.increment(1.0);
        Ok(Subscriber {
            receiver: channel.sender.subscribe(),
            closing: self.closing.subscribe(),
            _slot: Slot {
                count: channel.subscribers.clone(),
                metrics: self.metrics.clone(),
            },
            metrics: self.metrics.clone(),
        })
    }

    /// The tenant's kept events after the event `after_id` at `after` (or, when that one is
    /// no longer kept, after the instant), oldest first; and whether they are all the
    /// events since `after` (not when this replica started recording after it, or dropped
    /// events since to stay bounded).
    pub fn since(&self, tenant: &TenantId, after: DateTime<Utc>, after_id: Option<&str>) -> (Vec<Arc<Event<E>>>, bool) {
        let channel = self.channel(tenant);
        let history = channel.history.lock().unwrap_or_else(PoisonError::into_inner);
        let events = &history.events;
        let found = after_id.and_then(|id| events.iter().position(|e| &*e.id == id));
        let start = match found {
            Some(i) => i + 1,
            None => events.partition_point(|e| e.at <= after),
        };
        let whole = found.is_some() || history.complete_since <= after;
        (events.range(start..).cloned().collect(), whole)
    }

    /// Ends every subscription (shutdown); new ones are refused.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Subscriptions of `tenant` open now.
    pub fn subscribers(&self, tenant: &TenantId) -> usize {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .get(tenant)
            .map_or(0, |c| c.subscribers.load(Ordering::Acquire))
    }

    /// Follows the hub's closing (true once `close` was called).
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Subscriptions open now, over every tenant.
    pub fn subscriptions(&self) -> usize {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.values().map(|c| c.subscribers.load(Ordering::Acquire)).sum()
    }
}

/// One subscription's receiving end (its slot is released when it is dropped).
pub struct Subscriber<E> {
    receiver: broadcast::Receiver<Arc<Event<E>>>,
    closing: watch::Receiver<bool>,
    _slot: Slot,
    metrics: LiveMetrics,
}

impl<E: Clone + Send + Sync + 'static> Subscriber<E> {
    /// The next event, a lag, or the end.
    pub async fn next(&mut self) -> Next<E> {
        if *self.closing.borrow() {
            return Next::Closed;
        }
        tokio::select! {
            received = self.receiver.recv() => match received {
                Ok(event) => {
                    self.metrics.delivered.increment(1);
                    Next::Event(event)
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    self.metrics.lagged.increment(1);
                    Next::Lagged(missed)
                }
                Err(broadcast::error::RecvError::Closed) => Next::Closed,
            },
            _ = self.closing.wait_for(|closing| *closing) => Next::Closed,
        }
    }
}

/// A subscription's place in its tenant's count.
struct Slot {
    count: Arc<AtomicUsize>,
    metrics: LiveMetrics,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
        self.metrics.subscriptions.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::metrics::Metrics;

    fn hub(buffer: usize, max: usize) -> Hub<u32> {
        let limits = HubLimits {
            buffer,
            max_per_tenant: max,
            replay_window: Duration::from_secs(60),
            history: 8,
        };
        Hub::new(limits, Metrics::default().live())
    }

    /// Event times count from a minute after the test starts (after every channel began).
    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(Utc::now().timestamp() + 60 + secs, 0).unwrap()
    }

    fn event(id: &str, n: u32, secs: i64) -> Event<u32> {
        Event {
            id: id.into(),
            kind: EventKind::Created,
            at: at(secs),
            payload: n,
        }
    }

    fn tenant(name: &str) -> TenantId {
        TenantId::new(name)
    }

    #[tokio::test]
    async fn an_event_id_seen_before_is_delivered_once() {
        let hub = hub(16, 10);
        let t = tenant("a");
        let mut sub = hub.subscribe(&t).unwrap();
        assert!(hub.publish(&t, event("x", 1, 0), "test").is_some());
        assert!(hub.publish(&t, event("x", 2, 1), "test").is_none());
        assert!(hub.publish(&t, event("y", 3, 2), "test").is_some());
        let Next::Event(first) = sub.next().await else { panic!() };
        let Next::Event(second) = sub.next().await else {
            panic!()
        };
        assert_eq!((first.payload, second.payload), (1, 3));
    }

    #[tokio::test]
    async fn tenants_do_not_see_each_others_events() {
        let hub = hub(16, 10);
        let (a, b) = (tenant("a"), tenant("b"));
        let mut sub_b = hub.subscribe(&b).unwrap();
        hub.publish(&a, event("x", 1, 0), "test");
        hub.publish(&b, event("x", 2, 0), "test");
        let Next::Event(got) = sub_b.next().await else { panic!() };
        assert_eq!(got.payload, 2);
    }

    #[tokio::test]
    async fn a_subscriber_a_buffer_behind_is_told_it_lagged() {
        let hub = hub(4, 10);
        let t = tenant("a");
        let mut sub = hub.subscribe(&t).unwrap();
        for i in 0..6 {
            hub.publish(&t, event(&format!("e{i}"), i, i64::from(i)), "test");
        }
        assert!(matches!(sub.next().await, Next::Lagged(2)));
    }

    #[test]
    fn the_tenant_limit_counts_open_subscriptions_and_frees_a_slot_on_drop() {
        let hub = hub(4, 2);
        let t = tenant("a");
        let first = hub.subscribe(&t).unwrap();
        let _second = hub.subscribe(&t).unwrap();
        assert!(matches!(
            hub.subscribe(&t),
            Err(LiveError::TooManySubscriptions { limit: 2 })
        ));
        assert!(hub.subscribe(&tenant("b")).is_ok(), "another tenant has its own limit");
        drop(first);
        let _third = hub.subscribe(&t).expect("the dropped one freed its slot");
        assert_eq!(hub.subscriptions(), 2);
    }

    #[tokio::test]
    async fn closing_ends_every_subscription_and_refuses_new_ones() {
        let hub = hub(4, 2);
        let t = tenant("a");
        let mut sub = hub.subscribe(&t).unwrap();
        hub.close();
        assert!(matches!(sub.next().await, Next::Closed));
        assert!(matches!(hub.subscribe(&t), Err(LiveError::ShuttingDown)));
    }

    #[test]
    fn history_resumes_after_an_event_id_or_an_instant_and_says_when_it_no_longer_reaches_back() {
        let hub = hub(4, 2);
        let t = tenant("a");
        for i in 0..5 {
            hub.publish(&t, event(&format!("e{i}"), i, i64::from(i) * 10), "test");
        }
        let (after_e2, whole) = hub.since(&t, at(20), Some("e2"));
        assert_eq!(after_e2.iter().map(|e| e.payload).collect::<Vec<_>>(), [3, 4]);
        assert!(whole);
        let (after_15s, whole) = hub.since(&t, at(15), None);
        assert_eq!(after_15s.iter().map(|e| e.payload).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(whole);
        for i in 5..12 {
            hub.publish(&t, event(&format!("e{i}"), i, i64::from(i) * 10), "test");
        }
        let (_, whole) = hub.since(&t, at(15), None);
        assert!(!whole, "the history of 8 no longer reaches back to 15 s");
        let (_, whole) = hub.since(&t, Utc::now() - chrono::Duration::hours(1), None);
        assert!(!whole, "nothing was recorded before the channel began");
    }
}
