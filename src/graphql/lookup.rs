//! Loading one id through a request's DataLoader and rendering the answer: found, not
//! found (`null`), or the provider's error with its code.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;

use super::error::GatewayError;
use crate::providers::CachedLoader;

/// Loads `id` and renders a found record with `render`. A cached answer is used at once;
/// only misses go through the DataLoader's batch (and its short batching delay), and only
/// for a provider with a batch read (`CachedLoader::BATCHES`): the others load a miss at
/// once.
pub(super) async fn load<L, T, R>(
    loader: &DataLoader<L>,
    id: String,
    render: impl FnOnce(Arc<T>) -> R,
) -> Result<Option<R>, GatewayError>
where
    L: CachedLoader<Record = T>,
    T: Send + Sync + 'static,
{
    let answer = match loader.loader().cached(&id).await {
        Some(hit) => Some(hit),
        None if !L::BATCHES => Some(loader.loader().load_alone(&id).await),
        None => {
            let Ok(answer) = loader.load_one(id).await;
            answer
        }
    };
    match answer {
        None => Ok(None),
        Some(lookup) => Ok(lookup?.map(render)),
    }
}
