//! The one shared HTTP layer every provider client goes through: a pooled `reqwest`
//! client, per-provider concurrency limits, retries of reads with jittered backoff
//! (honouring `Retry-After`) within a retry budget, a circuit breaker per provider and
//! tenant, error classification and request counters.
//!
//! Providers decode their own bodies; this layer only decides what a status or a transport
//! failure means, so every provider reports failures with the same vocabulary.

pub mod breaker;
mod client;
pub mod config;
mod error;
mod pace;
mod retry;
mod window;

pub use client::{Call, Http, RawResponse, UpstreamClient, build_http_client};
pub use error::{UpstreamError, UpstreamErrorKind};
