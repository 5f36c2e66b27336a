//! switchboard: a GraphQL gateway over telecom call-log REST APIs.
//!
//! Map of the crate (data flows top to bottom):
//! - `http`: axum routes, request hygiene, tenant resolution, per-request loaders.
//! - `graphql`: the schema, resolvers (one or two lines each), ids, cursors, error codes.
//! - `providers`: one module per provider: client, private wire types, mapping, paging.
//! - `upstream`: the shared HTTP client, retries, error classification.
//! - `cache`: the tenant-scoped moka cache.
//! - `domain`: provider-neutral types.
//! - `emulator`: fake providers for demo mode, tests and benchmarks.
//! - `app`, `config`, `telemetry`: wiring.

pub mod app;
pub mod cache;
pub mod config;
pub mod domain;
pub mod emulator;
pub mod graphql;
pub mod http;
pub mod providers;
pub mod telemetry;
pub mod tenancy;
pub mod timeline;
pub mod upstream;

pub use app::{Application, use_emulator};
pub use config::Config;
