//! The live feed: turns what sources report into `CallLog` events on the hub.
//!
//! A source says which call may have changed (a webhook names one; the poller reads the
//! head of every stream and re-reads the calls still in progress); the feed reads that
//! call's record fresh from its provider (through services whose cache keeps nothing, so
//! a 30-second page cache cannot hide a change) and compares its status with the one it
//! saw last: a call never seen is `CREATED`, a changed status is `UPDATED`, the same status
//! again is nothing. An event's id is the call's global id and its status, so a replayed
//! webhook, or one change reported by a webhook and by the poller, is delivered once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use futures::StreamExt;

use super::super::call_log::CallLog;
use super::super::connection::Paging;
use super::super::error::GatewayError;
use super::super::flat::SharedFields;
use super::super::scope::RequestScope;
use super::super::timeline::CallLogs;
use crate::authz::{Access, Granted};
use crate::domain::{CallLogCore, GlobalId, NodeKind, TenantId};
use crate::live::{Bus, Event, EventKind, Hub, HubLimits, Lease, LiveConfig};
use crate::request::CallBudget;
use crate::telemetry::metrics::Metrics;
use crate::tenancy::{Tenant, Tenants};
use crate::timeline::{self, PageRequest};

/// Calls still in progress re-read per poll, at most (per tenant).
const MAX_LIVE_CALLS: usize = 1000;
/// Statuses remembered per tenant (a call older than these is `CREATED` if it reappears).
const MAX_KNOWN_CALLS: u64 = 100_000;
/// Upstream calls one poll of one tenant may make.
const POLL_BUDGET: u32 = 10_000;

/// The hub, and what the feed knows of each tenant's calls.
pub struct LiveFeed {
    hub: Hub<CallLog>,
    /// Each tenant's services over a cache that keeps nothing (fresh reads).
    fresh: Arc<Tenants>,
    config: LiveConfig,
    paging: Paging,
    calls: Mutex<HashMap<TenantId, Arc<TenantCalls>>>,
    /// Wakes the poller at once (tests, and a webhook that could not be read).
    poke: tokio::sync::Notify,
    /// The other replicas (with `[cache.redis]`).
    bus: Option<Arc<Bus>>,
}

/// What the feed knows of one tenant's calls.
struct TenantCalls {
    /// Each seen call's status key, by global id.
    known: moka::sync::Cache<String, Arc<str>>,
    /// Calls not yet final, to re-read on each poll.
    live: Mutex<HashSet<String>>,
    /// Since when calls are news: set when the tenant's first subscription started (or
    /// the poller found it had some), cleared when it has none. Until the poller has read
    /// the heads once after that, only calls created since then are news; the rest is
    /// history it only remembers.
    watching: Mutex<Option<Watching>>,
}

#[derive(Debug, Clone, Copy)]
struct Watching {
    since: chrono::DateTime<Utc>,
    seeded: bool,
}

impl TenantCalls {
    /// Remembers call `id`'s `status`, and re-reads it on each poll while it is not final.
    fn remember(&self, id: String, core: &CallLogCore, status: Arc<str>) {
        self.known.insert(id.clone(), status);
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if core.is_final() {
            live.remove(&id);
        } else if live.len() < MAX_LIVE_CALLS {
            live.insert(id);
        }
    }
}

/// A call's status as events compare it: the normalized status and the provider's own.
fn status_key(core: &CallLogCore) -> Arc<str> {
    format!("{:?}:{}", core.status, core.provider_status.as_deref().unwrap_or("")).into()
}

impl LiveFeed {
    /// `fresh`: the tenants built over a cache that keeps nothing; `bus`: the other
    /// replicas, when they share Redis.
    pub fn new(
        config: &LiveConfig,
        fresh: Arc<Tenants>,
        paging: Paging,
        metrics: &Metrics,
        bus: Option<Arc<Bus>>,
    ) -> Arc<LiveFeed> {
        Arc::new(LiveFeed {
            hub: Hub::new(HubLimits::from(config), metrics.live()),
            fresh,
            config: config.clone(),
            paging,
            calls: Mutex::default(),
            poke: tokio::sync::Notify::new(),
            bus,
        })
    }

    /// Hands the other replicas' events to this replica's subscribers, until dropped
    /// (nothing to do without Redis).
    pub async fn run_bus(self: Arc<Self>) {
        let Some(bus) = self.bus.clone() else { return };
        let feed = self.clone();
        bus.listen(move |tenant, event| feed.receive(&tenant, event)).await;
    }

    /// An event another replica took in: remembered (so this replica's own sources do not
    /// report the change again) and delivered, once.
    fn receive(&self, tenant: &TenantId, event: Event<CallLog>) {
        let core = event.payload.core();
        self.calls(tenant)
            .remember(event.payload.global_id(), core, status_key(core));
        self.hub.publish(tenant, event, "peer");
    }

    pub(super) fn hub(&self) -> &Hub<CallLog> {
        &self.hub
    }

    /// The live series (webhook refusals are counted by the HTTP layer).
    pub fn hub_metrics(&self) -> &crate::telemetry::metrics::LiveMetrics {
        self.hub.metrics()
    }

    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// Subscriptions open now.
    pub fn subscriptions(&self) -> usize {
        self.hub.subscriptions()
    }

    /// Follows the feed's closing (true once `close` was called).
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.hub.closing()
    }

    /// Ends every subscription (shutdown).
    pub fn close(&self) {
        self.hub.close();
    }

    fn calls(&self, tenant: &TenantId) -> Arc<TenantCalls> {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls
            .entry(tenant.clone())
            .or_insert_with(|| {
                Arc::new(TenantCalls {
                    known: moka::sync::Cache::new(MAX_KNOWN_CALLS),
                    live: Mutex::default(),
                    watching: Mutex::default(),
                })
            })
            .clone()
    }

    /// Records `log`'s status and publishes the event it makes, if any; whether one was
    /// delivered.
    pub(super) fn observe(&self, tenant: &TenantId, log: CallLog, source: &'static str) -> bool {
        let Some((id, kind)) = self.note(tenant, &log) else {
            return false;
        };
        let event = Event {
            id: id.into(),
            kind,
            at: Utc::now(),
            payload: log,
        };
        let Some(event) = self.hub.publish(tenant, event, source) else {
            return false;
        };
        if let Some(bus) = self.bus.clone() {
            let tenant = tenant.clone();
            tokio::spawn(async move { bus.publish(&tenant, &event).await });
        }
        true
    }

    /// Remembers `log`'s status; the event id and kind when it is news.
    fn note(&self, tenant: &TenantId, log: &CallLog) -> Option<(String, EventKind)> {
        let calls = self.calls(tenant);
        let core = log.core();
        let id = log.global_id();
        let status = status_key(core);
        let kind = match calls.known.get(&id) {
            None => EventKind::Created,
            Some(seen) if seen != status => EventKind::Updated,
            Some(_) => return None,
        };
        let event_id = format!("{id}/{status}");
        calls.remember(id, core, status);
        Some((event_id, kind))
    }

    /// The fresh tenant of `tenant`.
    fn fresh(&self, tenant: &TenantId) -> Result<&Arc<Tenant>, GatewayError> {
        self.fresh
            .by_name(tenant.as_str())
            .ok_or_else(|| GatewayError::internal("a live event names a tenant the feed does not have"))
    }

    /// A scope that reads `tenant`'s providers fresh, seeing every field (events are
    /// rendered per subscriber, under that subscriber's rules).
    fn scope(tenant: &Arc<Tenant>, budget: &Arc<CallBudget>) -> RequestScope {
        let access = Access::new(None, &Granted::Everything, None, None);
        RequestScope::new(tenant.clone(), access, budget)
    }

    /// A source says call `native_id` of `kind` may have changed: reads it fresh and
    /// publishes what changed. `Ok(false)`: nothing new (or no such call).
    pub async fn hint(
        &self,
        tenant: &TenantId,
        kind: NodeKind,
        native_id: &str,
        source: &'static str,
    ) -> Result<bool, GatewayError> {
        let fresh = self.fresh(tenant)?.clone();
        let id = GlobalId {
            kind,
            native_id: native_id.to_string(),
        };
        let budget = CallBudget::new(POLL_BUDGET);
        let scope = Self::scope(&fresh, &budget);
        let found = budget.scope(super::super::node::load_call_log(&scope, id)).await?;
        Ok(found.is_some_and(|log| self.observe(tenant, log, source)))
    }

    /// A subscription of `tenant` started: calls created from now on are news, and the
    /// poller runs at once (so a tenant's first subscriber does not wait a whole interval).
    pub(super) fn watch(&self, tenant: &TenantId) {
        let calls = self.calls(tenant);
        let mut watching = calls.watching.lock().unwrap_or_else(PoisonError::into_inner);
        if watching.is_none() {
            *watching = Some(Watching {
                since: Utc::now() - chrono::Duration::seconds(1),
                seeded: false,
            });
        }
        drop(watching);
        self.poke();
    }

    /// One poll of every tenant with a subscriber: the head of each stream, then the calls
    /// in progress. A tenant nobody subscribes to costs no upstream call.
    pub async fn poll_all(&self) {
        let tenants: Vec<_> = self
            .fresh
            .all()
            .into_iter()
            .filter(|tenant| {
                let watched = self.hub.subscribers(&tenant.id) > 0;
                if !watched {
                    *self
                        .calls(&tenant.id)
                        .watching
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = None;
                }
                watched
            })
            .collect();
        futures::future::join_all(tenants.iter().map(|tenant| self.poll(tenant))).await;
    }

    /// One poll of one tenant, unless another replica holds its lease.
    async fn poll(&self, tenant: &Arc<Tenant>) {
        if let Some(bus) = &self.bus {
            let ttl = self.config.poll_interval.max(std::time::Duration::from_millis(100)) * 3;
            if bus.lease(&tenant.id, ttl).await == Lease::Theirs {
                return;
            }
        }
        let budget = CallBudget::new(POLL_BUDGET);
        let scope = Self::scope(tenant, &budget);
        let calls = self.calls(&tenant.id);
        let request = PageRequest::<CallLogs> {
            filter: timeline::Filter::default(),
            after: None,
            first: self.paging.default_size.max(1),
            scan_bound: self.paging.scan_bound,
        };
        let page = match budget.scope(timeline::page(&scope, request, |_| ())).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(tenant = tenant.id.as_str(), error = %e, "live poll: the timeline could not be read");
                return;
            }
        };
        for failure in &page.failures {
            tracing::debug!(tenant = tenant.id.as_str(), error = ?failure.message, "live poll: a provider failed");
        }
        let watching = {
            let mut watching = calls.watching.lock().unwrap_or_else(PoisonError::into_inner);
            let now = *watching.get_or_insert(Watching {
                since: Utc::now(),
                seeded: false,
            });
            if let Some(w) = watching.as_mut() {
                w.seeded = true;
            }
            now
        };
        let mut in_head = HashSet::new();
        // Oldest first, so subscribers see new calls in the order they were made.
        for (_, log) in page.edges.into_iter().rev() {
            in_head.insert(log.global_id());
            if watching.seeded || log.core().created_at >= watching.since {
                self.observe(&tenant.id, log, "poll");
            } else {
                self.note(&tenant.id, &log);
            }
        }
        let stale: Vec<String> = {
            let live = calls.live.lock().unwrap_or_else(PoisonError::into_inner);
            live.iter().filter(|id| !in_head.contains(*id)).cloned().collect()
        };
        let reads = futures::stream::iter(stale)
            .map(|id| {
                let scope = &scope;
                async move {
                    (
                        id.clone(),
                        super::super::node::load_call_log_by_global(scope, &id).await,
                    )
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>();
        for (id, read) in budget.scope(reads).await {
            match read {
                Ok(Some(log)) => {
                    self.observe(&tenant.id, log, "poll");
                }
                // Gone upstream: stop re-reading it.
                Ok(None) => {
                    calls.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
                }
                Err(e) => {
                    tracing::debug!(tenant = tenant.id.as_str(), call = id, error = ?e.message, "live poll: a call could not be re-read")
                }
            }
        }
    }

    /// Polls every `live.poll_interval` (and when poked) until the hub closes.
    pub async fn run_poller(self: Arc<Self>) {
        if self.config.poll_interval.is_zero() {
            return;
        }
        let mut closing = self.hub.closing();
        loop {
            self.poll_all().await;
            tokio::select! {
                () = tokio::time::sleep(self.config.poll_interval) => {}
                () = self.poke.notified() => {}
                _ = closing.wait_for(|closed| *closed) => return,
            }
        }
    }

    /// Wakes the poller now.
    pub fn poke(&self) {
        self.poke.notify_one();
    }
}
