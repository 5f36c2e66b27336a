//! The lookups by global id (`node`, `nodes`, `callLog`), merged into the root `Query`
//! (`providers::Query`) with the timeline and each provider's connection fields.

use async_graphql::{Context, ID, Object};
use futures::future::join_all;

use super::call_log::{CallLog, Node};
use super::error::GatewayError;
use super::flat::Flat;
use super::node::decode;
use super::scope::{Env, scope};

#[derive(Default)]
pub(super) struct ByIdQuery;

#[Object]
impl ByIdQuery {
    /// Fetches any object by its global id; null when it does not exist.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Flat<Node>>> {
        Ok(node(ctx, &id).await?.map(Flat))
    }

    /// Fetches objects by global id, in the order given (null where one does not exist).
    /// At most `graphql.max_node_ids` (default 100) ids per call. Ids of one
    /// provider are batched; one provider failing only nulls its items and adds an error
    /// naming it.
    #[graphql(complexity = "crate::graphql::connection::ids_complexity(ids.len(), child_complexity)")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> async_graphql::Result<Vec<Option<Flat<Node>>>> {
        check_batch_size(ctx, ids.len())?;
        let results = join_all(ids.iter().map(|id| node(ctx, id))).await;
        Ok(results
            .into_iter()
            .enumerate()
            .map(|(i, r)| partial(ctx, i, r).map(Flat))
            .collect())
    }

    /// Fetches a call log by its global id; null when it does not exist.
    async fn call_log(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Flat<CallLog>>> {
        Ok(call_log(ctx, &id).await?.map(Flat))
    }
}

/// Resolves any global id through the source of its kind (and so the request's loaders
/// and the cache).
pub(super) async fn node(env: &(impl Env + ?Sized), id: &ID) -> Result<Option<Node>, GatewayError> {
    let (id, source) = decode(id)?;
    source.load(scope(env)?, id).await
}

/// Resolves the global id of a call log; the id of another kind of node is refused
/// without an upstream call.
pub(super) async fn call_log(env: &(impl Env + ?Sized), id: &ID) -> Result<Option<CallLog>, GatewayError> {
    let (id, source) = decode(id)?;
    if !id.kind.is_call_log() {
        return Err(GatewayError::bad_input("the id is not a call log's"));
    }
    Ok(source.load(scope(env)?, id).await?.and_then(Node::into_call_log))
}

/// Keeps a list item's failure as an error entry (with the item's path) and a null item,
/// not a failed list.
fn partial<T>(ctx: &Context<'_>, index: usize, result: Result<Option<T>, GatewayError>) -> Option<T> {
    result.unwrap_or_else(|e| {
        let mut error = ctx.set_error_path(async_graphql::Error::from(e).into_server_error(ctx.item.pos));
        error.path.push(async_graphql::PathSegment::Index(index));
        ctx.add_error(error);
        None
    })
}

pub(super) fn check_batch_size(env: &(impl Env + ?Sized), len: usize) -> Result<(), GatewayError> {
    let max = env.paging().map(|p| p.max_node_ids).unwrap_or(100);
    if len > max {
        return Err(GatewayError::bad_input(format!(
            "`ids` may hold at most {max} ids, got {len}"
        )));
    }
    Ok(())
}
