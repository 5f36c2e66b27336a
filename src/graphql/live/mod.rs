//! Live updates in the schema: `Subscription.callLogEvents` (`subscription`), and the
//! feed that turns webhooks and polls into events of rendered call logs (`feed`). The
//! hub, limits and `[live]` are `crate::live`'s; the transports are `http`'s.

mod feed;
mod subscription;

pub use feed::LiveFeed;
pub use subscription::Subscription;
