//! switchboard: a GraphQL gateway over telecom call-log REST APIs.
//!
//! Map of the crate (data flows top to bottom):
//! - `http`: the accept loop and its connection limits, axum routes, request guards
//!   (in-flight cap, deadline, panics), document limits, persisted queries.
//! - `auth`: who is calling (gateway API key or OIDC JWT), resolved to a tenant and scopes.
//! - `authz`: `[authorization]`: which fields each caller sees as they are, masked or not
//!   at all, and the audit record of unmasked answers.
//! - `graphql`: the schema, resolvers, ids, cursors, error codes; each provider's GraphQL
//!   types under `graphql::providers`, whose `mod.rs` is the GraphQL registry.
//! - `live`: live updates' per-tenant event hub, `[live]`, and the Redis bus between
//!   replicas; `graphql::live` fills it (webhooks, polling) and serves `callLogEvents`.
//! - `timeline`: the merged cross-provider timeline (streams, filter plan, merge, counts,
//!   composite cursor), naming no provider.
//! - `providers`: one module per provider: config section, client, private wire types,
//!   mapping, paging, loaders; `providers/mod.rs` registers them (`REGISTERED`, config
//!   sections) and `providers::registry` is the contract shared code sees.
//! - `upstream`: the shared HTTP client, retries, error classification.
//! - `request`: what one request carries through every layer (its upstream-call budget,
//!   the freshness of the data it read), as a task-local.
//! - `cache`: the tenant-scoped moka cache, and the optional Redis level replicas share.
//! - `domain`: provider-neutral types, and the range of dates the gateway handles.
//! - `emulator`: fake providers for demo mode, tests and benchmarks (cargo feature
//!   `emulator`, on by default); `demo` starts it when no credentials are configured.
//! - `app`, `config`, `telemetry`: wiring; `doctor`: `switchboard doctor`, which checks
//!   each provider's unsettled assumptions against a real account.
//!
//! ARCHITECTURE.md explains the layers, a request's path and the provider contract.

pub mod app;
pub mod auth;
pub mod authz;
pub mod cache;
pub mod config;
pub mod demand;
pub mod demo;
pub mod doctor;
pub mod domain;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod graphql;
pub mod http;
pub mod live;
pub mod providers;
pub mod request;
pub mod settings;
pub mod telemetry;
pub mod tenancy;
pub mod timeline;
pub mod upstream;

pub use app::{Application, Gateway, StartupError};
pub use config::Config;
#[cfg(feature = "emulator")]
pub use demo::use_emulator;
