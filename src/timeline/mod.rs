//! The merged cross-provider timeline (`callLogs`), provider-neutral: each provider
//! collection registers a stream (`TimelineStream`) that reads ahead from its own cursor;
//! `page` chooses the streams a filter asks for, reads them in parallel, `merge`s them
//! newest first and works out where each resumes (the composite cursor, `Position`);
//! `Countable` sums the stream counts when all can count; `Stream::sweep` reads one
//! stream to its end for answers about every item (`stats`).
//!
//! The engine is generic over what it yields (`Timeline`): it names no provider and no
//! GraphQL type. The GraphQL layer renders its pages as `CallLogConnection`.

mod count;
mod filter;
pub mod merge;
mod page;
mod position;
pub mod stats;
mod stream;
mod sweep;

pub use count::Countable;
pub use filter::{Filter, Plan, PostFilter};
pub use merge::{Merged, StreamBatch, StreamItem, merge};
pub use page::{Page, PageRequest, page};
pub use position::Position;
pub use stream::{CountFuture, Scanned, Stream, Timeline, TimelineStream, Window, WindowFuture, decode_position, scan};
pub use sweep::{ReadLimit, Swept, streams};

use crate::domain::Provider;

/// What the timeline itself can refuse (a stream's own failures are its `Timeline::Error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The filter asks for a provider the tenant has not configured.
    #[error("the provider {} is not configured", .0.as_str())]
    NotConfigured(Provider),
    /// A cursor's stream position does not decode as its provider's.
    #[error("invalid cursor: a provider position does not decode")]
    BadPosition,
    /// A stream was asked to count although it cannot (a bug).
    #[error("this timeline stream cannot count")]
    CannotCount,
    /// A provider said more items follow but its next window held none.
    #[error("{} said more call logs follow but sent none", .0.as_str())]
    NoProgress(Provider),
}
