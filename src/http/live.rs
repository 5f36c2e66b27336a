//! One operation over a streaming transport (graphql-transport-ws, graphql-sse): the
//! request built as `/graphql` builds it (document limits, the caller's tenant and view,
//! `[authorization]`), run with async-graphql's `execute_stream`, each result rendered as
//! the JSON payload of one `next` message. A subscription yields a result per event; a
//! query or mutation yields one. Each event gets its own upstream-call budget (a
//! provider-specific field of a call log may read its provider).

use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt};
use serde_json::Value;

use super::AppState;
use super::graphql::{is_request_error, tidy_errors};
use crate::auth::Caller;
use crate::graphql::completion;
use crate::graphql::error::{ErrorCode, GatewayError};
use crate::graphql::scope::RequestScope;
use crate::request::CallBudget;

/// A started operation: its results as JSON payloads, in order.
pub(super) type Results = BoxStream<'static, Value>;

/// Why an operation did not start: the errors of its single result (a document that does
/// not parse or validate, a limit, refused arguments), as `[{message, extensions}]`.
#[derive(Debug)]
pub(super) struct Refused(pub Value);

/// `[{message, extensions}]` of one error, as a refused operation's errors.
pub(super) fn errors_of(error: &GatewayError) -> Value {
    refused(error).0
}

fn refused(error: &GatewayError) -> Refused {
    Refused(serde_json::to_value([error.server_error()]).unwrap_or(Value::Null))
}

/// Starts `request` (its `variables` as sent) for `caller`: the results, or why it could
/// not start.
pub(super) async fn start(
    state: &AppState,
    caller: &Caller,
    mut request: async_graphql::Request,
    variables: Option<Value>,
) -> Result<Results, Refused> {
    if let Some(variables) = variables {
        // Held to the same bounds as over HTTP (the socket's message is JSON already).
        match super::variables::parse(&variables.to_string(), state.limits.variables) {
            Ok(Some(variables)) => request = request.variables(variables),
            Ok(None) => {}
            Err(e) => return Err(refused(&GatewayError::bad_input(e.to_string()))),
        }
    }
    let document = match state.documents.prepare(&mut request, &state.limits.document) {
        Ok(document) => document,
        Err(e) => {
            state
                .metrics
                .rejected(crate::telemetry::metrics::Rejection::DocumentLimits);
            return Err(refused(&GatewayError::bad_input(e.to_string())));
        }
    };
    if let Some(document) = &document {
        document.attach(&mut request);
    }
    // Starting an operation costs at least the floor (`[limits]`): a caller out of budget
    // opens no new subscription. Events are rendered from what the feed read.
    if let Some(demand) = &state.demand
        && let Err(refusal) = demand
            .admit(caller, crate::demand::Cost(crate::demand::cost::FLOOR))
            .await
    {
        return Err(refused(&refusal.error()));
    }
    let access = super::access(state, caller);
    let limit = state.limits.max_upstream_calls;
    let scope = RequestScope::new(caller.tenant.clone(), access.clone(), &CallBudget::new(limit));
    let operation_name = request.operation_name.clone();
    let variables = request.variables.clone();
    let mut request = request
        .data(scope)
        .data(Arc::new(crate::graphql::ResponseNotes::default()));
    if let Some(feed) = &state.live {
        request = request.data(feed.clone());
    }
    let mut results = state.schemas.full.execute_stream(request);
    // Parsing and validation run on the stream's first poll, before anything waits: a
    // result ready then with errors from before execution means the operation did not
    // start. A subscription that started is pending until its first event.
    let first = {
        let budget = CallBudget::new(limit);
        let mut next = std::pin::pin!(budget.scope(results.next()));
        match futures::poll!(next.as_mut()) {
            std::task::Poll::Ready(first) => Some(first),
            std::task::Poll::Pending => None,
        }
    };
    let first = match first {
        None => None,
        Some(None) => return Ok(futures::stream::empty().boxed()),
        Some(Some(mut first)) => {
            if first.data == async_graphql::Value::Null
                && !first.errors.is_empty()
                && first.errors.iter().all(is_request_error)
            {
                tidy_errors(&mut first.errors);
                return Err(Refused(serde_json::to_value(&first.errors).unwrap_or(Value::Null)));
            }
            Some(first)
        }
    };
    let types = state.types.clone();
    let tenant = caller.tenant.clone();
    let render = move |mut response: async_graphql::Response| {
        if let Some(document) = &document
            && response.data != async_graphql::Value::Null
            && !completion::complete(
                &document.document,
                operation_name.as_deref(),
                &variables,
                &types,
                &mut response.data,
            )
        {
            response.data = async_graphql::Value::Null;
        }
        tidy_errors(&mut response.errors);
        // Each result that showed guarded fields unmasked is audited on its own.
        super::graphql::audit(&tenant, &access, &access.take_tally(), operation_name.as_deref());
        serde_json::to_value(&response).unwrap_or_else(|_| {
            let error = GatewayError::new(ErrorCode::InternalServerError, "a result could not be rendered");
            serde_json::json!({"errors": [{"message": error.message, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})
        })
    };
    let first = first.map(&render);
    let rest = futures::stream::unfold((results, render), move |(mut results, render)| async move {
        let next = CallBudget::new(limit).scope(results.next()).await?;
        Some((render(next), (results, render)))
    });
    Ok(futures::stream::iter(first).chain(rest).boxed())
}

/// The WebSockets open now, so shutdown can wait for them to close (hyper no longer
/// tracks an upgraded connection).
#[derive(Clone)]
pub struct LiveConnections(Arc<tokio::sync::watch::Sender<usize>>);

impl Default for LiveConnections {
    fn default() -> Self {
        LiveConnections(Arc::new(tokio::sync::watch::Sender::new(0)))
    }
}

impl LiveConnections {
    /// Counts one more until the guard is dropped.
    pub(super) fn open(&self) -> impl Drop + Send + use<> {
        struct Open(Arc<tokio::sync::watch::Sender<usize>>);
        impl Drop for Open {
            fn drop(&mut self) {
                self.0.send_modify(|n| *n -= 1);
            }
        }
        self.0.send_modify(|n| *n += 1);
        Open(self.0.clone())
    }

    /// Waits until none is open.
    pub async fn closed(&self) {
        let _ = self.0.subscribe().wait_for(|n| *n == 0).await;
    }
}
