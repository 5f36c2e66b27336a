//! Loading one id through a request's DataLoader and rendering the answer: found, not
//! found (`null`), or the provider's error with its code.

use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};

use super::error::GatewayError;
use crate::providers::Lookup;

/// Loads `id` and renders a found record with `render`.
pub async fn load<L, T, R>(
    loader: &DataLoader<L>,
    id: String,
    render: impl FnOnce(Arc<T>) -> R,
) -> Result<Option<R>, GatewayError>
where
    L: Loader<String, Value = Lookup<T>, Error = Infallible>,
    T: Send + Sync + 'static,
{
    let Ok(answer) = loader.load_one(id).await;
    match answer {
        None => Ok(None),
        Some(lookup) => Ok(lookup?.map(render)),
    }
}
