//! The one shared HTTP layer every provider client goes through: a pooled `reqwest`
//! client, per-provider concurrency limits, retries with backoff (honouring
//! `Retry-After`), error classification and request counters.
//!
//! Providers decode their own bodies; this layer only decides what a status or a transport
//! failure means, so every provider reports failures with the same vocabulary.

pub mod budget;
mod client;
mod error;

pub use client::{RawResponse, UpstreamClient, build_http_client};
pub use error::{UpstreamError, UpstreamErrorKind};
