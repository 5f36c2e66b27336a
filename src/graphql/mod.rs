//! The GraphQL contract (README, ARCHITECTURE.md): schema assembly, the `Node` and `CallLog`
//! interfaces, provider types, connections, global ids, cursors and error codes.
//!
//! Resolvers are one or two lines: they read the request scope and call a provider
//! service or loader; rendering domain values is all that happens here.

mod authorize;
mod call_log;
pub mod completion;
pub mod config;
mod connection;
pub mod cost;
mod cursor;
pub mod error;
pub mod export;
mod flat;
pub mod live;
mod lookup;
mod node;
pub mod plan;
mod providers;
mod query;
mod rate_limit;
pub mod scalars;
pub mod scope;
mod stats;
mod timeline;
mod values;

use async_graphql::Schema;

pub use connection::Paging;
pub use cursor::{CursorCodec, LazyCursor};
pub use live::{LiveFeed, Subscription};
pub use providers::{Mutation, Query};
pub use stats::StatsLimits;

use crate::graphql::config::GraphqlConfig;

/// Facts a request's resolvers leave for the HTTP layer to put in the response's
/// `extensions` (async-graphql resolvers cannot write those directly).
#[derive(Default)]
pub struct ResponseNotes {
    /// A `callLogs` page was cut by its bounded scan.
    pub scan_cut: std::sync::atomic::AtomicBool,
}

/// The gateway's schema type.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema twice: `full` validates every request with all of GraphQL's rules;
/// `revalidated` serves requests whose document, operation and variables already passed
/// them (`http::documents`), so it re-checks only what can change between such requests:
/// depth, complexity, fragment cycles and the parser's limits.
/// Beside them, the schema's types (for response completion) and the `Planner` that
/// compiles and runs plans for requests that passed validation (`plan`).
#[derive(Clone)]
pub struct Schemas {
    pub full: AppSchema,
    pub revalidated: AppSchema,
    pub types: std::sync::Arc<completion::TypeIndex>,
    pub planner: std::sync::Arc<plan::Planner>,
}

impl Schemas {
    /// Builds both with limits from config, a cursor key and the field rules of
    /// `[authorization]`, if any.
    pub fn build(
        config: &GraphqlConfig,
        stats: StatsLimits,
        cursor_key: &[u8],
        authz: Option<&std::sync::Arc<crate::authz::Authorization>>,
    ) -> Self {
        let full = build_schema(
            config,
            stats,
            cursor_key,
            async_graphql::ValidationMode::Strict,
            authz.is_some(),
        );
        let sdl = full.sdl();
        let types = std::sync::Arc::new(completion::TypeIndex::from_sdl(&sdl));
        let codec = CursorCodec::new(cursor_key);
        let planner = plan::Planner::new(&sdl, types.clone(), paging(config), codec, config.max_complexity)
            .with_authorization(authz.cloned());
        Schemas {
            full,
            revalidated: build_schema(
                config,
                stats,
                cursor_key,
                async_graphql::ValidationMode::Fast,
                authz.is_some(),
            ),
            types,
            planner: std::sync::Arc::new(planner),
        }
    }
}

/// Page-size limits from config.
pub fn paging(config: &GraphqlConfig) -> Paging {
    Paging {
        default_size: config.default_page_size,
        max_size: config.max_page_size,
        scan_bound: config.timeline_scan_bound.max(1),
        max_node_ids: config.max_node_ids,
    }
}

/// Builds the schema with limits from config, a cursor key and a validation mode;
/// `authorize`: with the extension that applies `[authorization.fields]`.
fn build_schema(
    config: &GraphqlConfig,
    stats: StatsLimits,
    cursor_key: &[u8],
    mode: async_graphql::ValidationMode,
    authorize: bool,
) -> AppSchema {
    let builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .validation_mode(mode)
        .data(paging(config))
        .data(CursorCodec::new(cursor_key))
        .data(stats)
        .limit_depth(config.max_depth)
        .limit_complexity(config.max_complexity)
        .limit_recursive_depth(config.max_depth.max(32));
    let builder = match config.introspection {
        true => builder,
        false => builder.disable_introspection(),
    };
    let builder = match authorize {
        true => builder.extension(authorize::Authorize),
        false => builder,
    };
    builder.finish()
}

/// The schema's SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl_with_options(
            async_graphql::SDLExportOptions::new()
                .include_specified_by()
                .use_space_ident()
                .indent_width(2),
        )
}

/// Streams `callLogs` merges when every provider is configured (what a page is priced by).
pub fn timeline_streams() -> u64 {
    providers::STREAMS.len() as u64
}
