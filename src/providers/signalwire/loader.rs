//! Per-request DataLoaders for SignalWire logs by id. SignalWire has no batch read, so a
//! batch becomes concurrent per-id GETs (deduplicated by the DataLoader, bounded by the
//! client's concurrency limit, and served from the cache where possible).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use futures::future::join_all;

use super::SignalWire;
use super::model::{VideoLog, VoiceLog};
use crate::providers::{CachedLoader, Lookup};

/// Loads voice logs by native id.
pub struct VoiceLogLoader(pub Arc<SignalWire>);

/// Loads video logs by native id.
pub struct VideoLogLoader(pub Arc<SignalWire>);

impl Loader<String> for VoiceLogLoader {
    type Value = Lookup<VoiceLog>;
    type Error = Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Infallible> {
        self.0.cache.metrics().batch("signalwire_voice_log", keys.len());
        // Boxed: a lookup is a large future, and `join_all` moves each one it holds.
        let results = join_all(keys.iter().map(|id| Box::pin(self.0.voice_log(id)))).await;
        Ok(keys.iter().cloned().zip(results).collect())
    }
}

impl CachedLoader for VoiceLogLoader {
    type Record = VoiceLog;
    const BATCHES: bool = false;

    async fn cached(&self, key: &str) -> Option<Lookup<VoiceLog>> {
        self.0.cached_voice_log(key).await
    }

    async fn load_alone(&self, key: &str) -> Lookup<VoiceLog> {
        self.0.cache.metrics().batch("signalwire_voice_log", 1);
        self.0.voice_log(key).await
    }
}

impl Loader<String> for VideoLogLoader {
    type Value = Lookup<VideoLog>;
    type Error = Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Infallible> {
        self.0.cache.metrics().batch("signalwire_video_log", keys.len());
        let results = join_all(keys.iter().map(|id| Box::pin(self.0.video_log(id)))).await;
        Ok(keys.iter().cloned().zip(results).collect())
    }
}

impl CachedLoader for VideoLogLoader {
    type Record = VideoLog;
    const BATCHES: bool = false;

    async fn cached(&self, key: &str) -> Option<Lookup<VideoLog>> {
        self.0.cached_video_log(key).await
    }

    async fn load_alone(&self, key: &str) -> Lookup<VideoLog> {
        self.0.cache.metrics().batch("signalwire_video_log", 1);
        self.0.video_log(key).await
    }
}
