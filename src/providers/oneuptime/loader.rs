//! Per-request DataLoader for OneUptime call logs: a batch of ids becomes one `get-list`
//! with `_id Includes [...]` (chunked only above the page size), after the cache.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use super::OneUptime;
use super::model::CallLog;
use crate::providers::{CachedLoader, Lookup};

/// Loads OneUptime call logs by native id.
pub struct CallLogLoader(pub Arc<OneUptime>);

impl Loader<String> for CallLogLoader {
    type Value = Lookup<CallLog>;
    type Error = Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Infallible> {
        self.0.cache.metrics().batch("oneuptime_call_log", keys.len());
        Ok(self.0.call_logs_by_id(keys).await)
    }
}

impl CachedLoader for CallLogLoader {
    type Record = CallLog;

    async fn cached(&self, key: &str) -> Option<Lookup<CallLog>> {
        self.0.cached_call_log(key).await
    }
}
