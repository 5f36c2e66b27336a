//! Who resolves which global ids: each provider's GraphQL module registers a `NodeSource`
//! for its node kinds in `providers::SOURCES`, and `node`, `nodes` and `callLog` decode an id and ask
//! its source, without naming a provider.

use std::sync::Arc;

use async_graphql::ID;
use async_graphql::dataloader::DataLoader;
use futures::future::BoxFuture;

use super::call_log::Node;
use super::error::GatewayError;
use super::providers::SOURCES;
use super::scope::{ProviderScope, RequestScope};
use crate::domain::{GlobalId, NodeKind};
use crate::providers::CachedLoader;

/// What `NodeSource::load` returns.
pub(super) type NodeFuture<'a> = BoxFuture<'a, Result<Option<Node>, GatewayError>>;

/// A provider's GraphQL side of `node(id)`.
pub(super) trait NodeSource: Sync {
    /// The kinds it resolves.
    fn kinds(&self) -> &'static [NodeKind];
    /// The node `id` names (one of `kinds`), through the request's loaders and so the
    /// cache; `None` when it does not exist.
    fn load<'a>(&'a self, scope: &'a RequestScope, id: GlobalId) -> NodeFuture<'a>;
}

/// The source of one node kind read through a DataLoader of a provider's request scope
/// `S` (and so batched per request and answered from the cache when it can be).
pub(super) struct Loaded<S, L: CachedLoader> {
    pub kinds: &'static [NodeKind],
    /// The loader in the provider's part of the request scope.
    pub loader: fn(&S) -> &DataLoader<L>,
    /// How a found record is rendered.
    pub render: fn(Arc<L::Record>) -> Node,
}

impl<S: ProviderScope, L: CachedLoader + Send + Sync + 'static> NodeSource for Loaded<S, L> {
    fn kinds(&self) -> &'static [NodeKind] {
        self.kinds
    }
    fn load<'a>(&'a self, scope: &'a RequestScope, id: GlobalId) -> NodeFuture<'a> {
        Box::pin(async move {
            let loader = (self.loader)(scope.get::<S>()?);
            super::lookup::load(loader, id.native_id, self.render).await
        })
    }
}

/// Decodes a global id and finds who resolves it; an id of no known kind is
/// `BAD_USER_INPUT`.
pub(super) fn decode(id: &ID) -> Result<(GlobalId, &'static dyn NodeSource), GatewayError> {
    let found = std::cell::Cell::new(None);
    let id = GlobalId::decode(id, |tag| {
        SOURCES.iter().find_map(|&source| {
            let kind = source.kinds().iter().find(|k| k.tag() == tag)?;
            found.set(Some(source));
            Some(*kind)
        })
    })
    .map_err(|e| GatewayError::bad_input(format!("invalid id {:?}: {e}", id.as_str())))?;
    let source = found
        .get()
        .ok_or_else(|| GatewayError::internal("a decoded id kind has no source"))?;
    Ok((id, source))
}

/// The call log `id` names, read through `scope`'s loaders; `None` when it does not
/// exist (or the kind is no call log's).
pub(super) async fn load_call_log(
    scope: &RequestScope,
    id: GlobalId,
) -> Result<Option<super::call_log::CallLog>, GatewayError> {
    let source = SOURCES
        .iter()
        .find(|source| source.kinds().contains(&id.kind))
        .ok_or_else(|| GatewayError::internal("a node kind has no source"))?;
    Ok(source.load(scope, id).await?.and_then(Node::into_call_log))
}

/// `load_call_log` of a global id in its encoded form.
pub(super) async fn load_call_log_by_global(
    scope: &RequestScope,
    id: &str,
) -> Result<Option<super::call_log::CallLog>, GatewayError> {
    let (id, _) = decode(&ID(id.to_string()))?;
    load_call_log(scope, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_source() {
        let mut tags: Vec<&str> = SOURCES.iter().flat_map(|s| s.kinds()).map(|k| k.tag()).collect();
        let all = tags.len();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), all, "a tag is claimed twice");
    }
}
