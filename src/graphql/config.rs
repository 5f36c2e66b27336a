//! `[graphql]`: page sizes, document limits, response caps, trusted documents.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::settings::{ConfigError, Secret};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphqlConfig {
    pub default_page_size: usize,
    pub max_page_size: usize,
    /// Deepest selection nesting (introspection included; 16 fits the standard
    /// introspection query of graphql-js and GraphiQL).
    pub max_depth: usize,
    /// Whether the schema answers introspection (`__schema`, `__type`); turn off in
    /// production if clients should not explore it.
    pub introspection: bool,
    /// Apollo's automatic persisted queries (hash-only requests after a first full one).
    pub apq: bool,
    /// Longest `Cache-Control: max-age` a GET answer gets (it is otherwise the shortest
    /// cache TTL of the data in it: `cache.final_ttl` for finished calls, `live_ttl`,
    /// `page_ttl`).
    #[serde(with = "humantime_serde")]
    pub http_max_age: Duration,
    /// Operations from a manifest built with the frontend (production BFFs).
    pub trusted_documents: TrustedDocumentsConfig,
    /// Complexity budget: each field costs 1, a connection multiplies its children by
    /// `first` (default 20), `nodes` by its number of ids.
    pub max_complexity: usize,
    /// Most fields the operation executes, fragments expanded, aliases and `__typename`
    /// included.
    #[serde(alias = "max_aliases")]
    pub max_fields: usize,
    /// Deepest nesting of `[`, `{`, `(` in the query text (checked before parsing), and of
    /// selection sets through fragment spreads.
    pub max_nesting: usize,
    /// Most lexical tokens in the query text.
    pub max_tokens: usize,
    /// Most directives in one document (a directive may appear once per location).
    pub max_directives: usize,
    pub max_body_bytes: usize,
    /// Largest response body; a bigger one is replaced by a `BAD_USER_INPUT` error.
    pub max_response_bytes: usize,
    /// Most upstream HTTP calls one request may cause (retries included); fields past it
    /// fail with `BAD_USER_INPUT`, the rest of the response is kept.
    pub max_upstream_calls: u32,
    /// Most ids one `nodes` call may take.
    pub max_node_ids: usize,
    /// Most values a request's `variables` may hold (every scalar, list item and object
    /// entry counts); more is `BAD_USER_INPUT`, refused while the body is read.
    pub max_variable_values: usize,
    /// Deepest nesting of lists and objects in a request's `variables`.
    pub max_variable_depth: usize,
    /// Key that signs cursors; random per process when unset (cursors then die on restart).
    pub cursor_secret: Option<Secret>,
    /// Items one `callLogs` stream may scan per page for filters applied in the gateway.
    pub timeline_scan_bound: usize,
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        GraphqlConfig {
            default_page_size: 20,
            max_page_size: 100,
            max_depth: 16,
            introspection: true,
            apq: true,
            http_max_age: Duration::from_secs(3600),
            trusted_documents: TrustedDocumentsConfig::default(),
            max_complexity: 20_000,
            max_fields: 200,
            max_nesting: 64,
            max_tokens: 10_000,
            max_directives: 50,
            max_body_bytes: 1024 * 1024,
            max_response_bytes: 8 * 1024 * 1024,
            max_upstream_calls: 150,
            max_node_ids: 100,
            max_variable_values: 1_000,
            max_variable_depth: 16,
            cursor_secret: None,
            timeline_scan_bound: 1_000,
        }
    }
}

/// `[stats]`: how much one `callLogStats` answer may read.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatsConfig {
    /// Most call logs one `callLogStats` answer may read (what the providers can count is
    /// checked before reading); a larger window is `BAD_USER_INPUT`.
    pub max_items: u64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig { max_items: 1_000_000 }
    }
}

impl StatsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_items == 0 || self.max_items > i32::MAX as u64 {
            return Err(ConfigError::invalid(
                "stats.max_items",
                "must be between 1 and 2147483647",
            ));
        }
        Ok(())
    }
}

/// `[graphql.trusted_documents]`: operations known ahead, from the manifest that
/// relay-compiler's `persistConfig` or Apollo's `generate-persisted-query-manifest` writes.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustedDocumentsConfig {
    pub mode: TrustedDocumentsMode,
    /// The manifest file (JSON); required unless `mode = "off"`.
    pub manifest: Option<std::path::PathBuf>,
}

/// Whether operations must come from the manifest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustedDocumentsMode {
    /// No manifest.
    #[default]
    Off,
    /// Manifest operations may be sent by id; any other query runs too.
    Allowed,
    /// Only manifest operations run (by id, or by their exact text); APQ registers nothing.
    Required,
}

impl GraphqlConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let g = self;
        if g.max_page_size == 0 || g.default_page_size == 0 || g.default_page_size > g.max_page_size {
            return Err(ConfigError::invalid(
                "graphql.default_page_size",
                "must be between 1 and graphql.max_page_size",
            ));
        }
        let positive = [
            ("graphql.max_fields", g.max_fields),
            ("graphql.max_nesting", g.max_nesting),
            ("graphql.max_tokens", g.max_tokens),
            ("graphql.max_body_bytes", g.max_body_bytes),
            ("graphql.max_response_bytes", g.max_response_bytes),
            ("graphql.max_node_ids", g.max_node_ids),
            ("graphql.max_variable_values", g.max_variable_values),
            ("graphql.max_variable_depth", g.max_variable_depth),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::invalid(*key, "must be at least 1"));
        }
        let trusted = &g.trusted_documents;
        if trusted.mode != TrustedDocumentsMode::Off && trusted.manifest.is_none() {
            return Err(ConfigError::invalid(
                "graphql.trusted_documents.manifest",
                "is required unless mode = \"off\"",
            ));
        }
        Ok(())
    }
}
