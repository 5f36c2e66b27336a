//! Live updates (`Subscription.callLogEvents`, ARCHITECTURE.md "Live updates"): the
//! per-tenant event hub every source publishes to and every subscription reads from, and
//! `[live]`. What an event carries (a rendered call log), where events come from (signed
//! webhooks, the poller) and the transports (graphql-transport-ws, graphql-sse) live in
//! `graphql::live` and `http`; this layer names none of them.

pub mod bus;
pub mod config;
pub mod hub;

pub use bus::{Bus, Lease};
pub use config::LiveConfig;
pub use hub::{Event, EventKind, Hub, HubLimits, Next, Subscriber};

/// Why a subscription could not start.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LiveError {
    #[error("this tenant already holds {limit} subscriptions (live.max_subscriptions_per_tenant)")]
    TooManySubscriptions { limit: usize },
    #[error("the gateway is shutting down")]
    ShuttingDown,
}
