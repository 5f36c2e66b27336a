//! Events between replicas, over Redis: every event a replica takes in from a webhook or
//! its poller is published on one channel (`{key_prefix}:live`), and every replica hands
//! what it hears from the others to its own hub, whose event ids drop what it already has.
//! The same Redis holds each tenant's poll lease (`{key_prefix}:live:lease:{tenant}`): the
//! replica that holds it polls that tenant, the others do not, so N replicas cost the
//! providers one poller's requests.
//!
//! Redis being down costs no event a replica takes in itself: it publishes nothing, its
//! lease is unknown so it polls every tenant its subscribers watch, and it resubscribes
//! when Redis returns (what it missed meanwhile, its own poller finds).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::hub::{Event, EventKind};
use crate::domain::TenantId;

/// How long a command to Redis may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Takes or renews a lease when it is free or ours: 1 when we hold it now.
const LEASE: &str = r"
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0";

/// Whether this replica may poll a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// This replica holds the lease.
    Mine,
    /// Another replica holds it (and polls).
    Theirs,
    /// Redis did not answer: poll, as if alone.
    Unknown,
}

/// One event as it travels.
#[derive(Serialize, Deserialize)]
struct Wire<E> {
    /// The replica that published it.
    r: String,
    t: String,
    i: String,
    k: EventKind,
    a: DateTime<Utc>,
    p: E,
}

/// A replica's connection to the others.
pub struct Bus {
    client: redis::Client,
    commands: ConnectionManager,
    channel: String,
    leases: String,
    replica: String,
    up: AtomicBool,
}

impl Bus {
    /// The bus at Redis `url`, with keys under `prefix`. Connects on first use.
    pub fn connect(url: &str, prefix: &str) -> Result<Bus, String> {
        let client = redis::Client::open(url).map_err(|e| format!("{:?}", e.kind()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(0);
        let commands = client
            .get_connection_manager_lazy(config)
            .map_err(|e| format!("{:?}", e.kind()))?;
        Ok(Bus {
            client,
            commands,
            channel: format!("{prefix}:live"),
            leases: format!("{prefix}:live:lease:"),
            replica: uuid::Uuid::new_v4().to_string(),
            up: AtomicBool::new(true),
        })
    }

    /// Says once when Redis stops or starts answering.
    fn health(&self, up: bool, error: Option<&redis::RedisError>) {
        if self.up.swap(up, Ordering::AcqRel) != up {
            match error {
                Some(e) => {
                    tracing::warn!(error = %e, "live updates: Redis is not answering; this replica delivers what it takes in and polls by itself")
                }
                None => tracing::info!("live updates: Redis answers again; events are shared between replicas"),
            }
        }
    }

    /// Publishes `event` of `tenant` to the other replicas (nothing when Redis is down).
    pub async fn publish<E: Serialize>(&self, tenant: &TenantId, event: &Event<E>) {
        let wire = Wire {
            r: self.replica.clone(),
            t: tenant.as_str().to_string(),
            i: event.id.to_string(),
            k: event.kind,
            a: event.at,
            p: &event.payload,
        };
        let Ok(bytes) = rmp_serde::to_vec_named(&wire) else {
            return;
        };
        let mut commands = self.commands.clone();
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(bytes)
            .query_async(&mut commands)
            .await;
        match sent {
            Ok(_) => self.health(true, None),
            Err(e) => self.health(false, Some(&e)),
        }
    }

    /// Takes or renews `tenant`'s poll lease for `ttl`.
    pub async fn lease(&self, tenant: &TenantId, ttl: Duration) -> Lease {
        let mut commands = self.commands.clone();
        let key = format!("{}{}", self.leases, tenant.as_str());
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let taken: redis::RedisResult<i64> = redis::cmd("EVAL")
            .arg(LEASE)
            .arg(1)
            .arg(key)
            .arg(&self.replica)
            .arg(millis)
            .query_async(&mut commands)
            .await;
        match taken {
            Ok(1) => Lease::Mine,
            Ok(_) => Lease::Theirs,
            Err(e) => {
                self.health(false, Some(&e));
                Lease::Unknown
            }
        }
    }

    /// Hands every event the other replicas publish to `deliver`, resubscribing (with a
    /// growing pause, at most 5 s) whenever Redis drops the connection; until dropped.
    pub async fn listen<E: DeserializeOwned>(self: Arc<Self>, deliver: impl Fn(TenantId, Event<E>) + Send + Sync) {
        let mut pause = Duration::from_millis(100);
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&self.channel).await {
                    Ok(()) => {
                        self.health(true, None);
                        pause = Duration::from_millis(100);
                        let mut messages = pubsub.into_on_message();
                        while let Some(message) = messages.next().await {
                            let Ok(wire) = rmp_serde::from_slice::<Wire<E>>(message.get_payload_bytes()) else {
                                tracing::debug!("live updates: an event from Redis could not be read");
                                continue;
                            };
                            if wire.r == self.replica {
                                continue;
                            }
                            let event = Event {
                                id: wire.i.into(),
                                kind: wire.k,
                                at: wire.a,
                                payload: wire.p,
                            };
                            deliver(TenantId::new(&wire.t), event);
                        }
                        self.health(
                            false,
                            Some(&redis::RedisError::from((
                                redis::ErrorKind::Io,
                                "the subscription ended",
                            ))),
                        );
                    }
                    Err(e) => self.health(false, Some(&e)),
                },
                Err(e) => self.health(false, Some(&e)),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
