//! `/graphql` as server-sent events, as graphql-sse's "distinct connections mode" defines
//! them: a `POST` with `Accept: text/event-stream` is authenticated and read like any POST,
//! then answered with an event stream: a `next` event per result (errors that stop the
//! operation before it runs are a `next` too, as the protocol asks, not a 400) and a
//! final `complete`. The client ends a subscription by closing the connection. A comment
//! line every `live.keep_alive` keeps proxies from timing the stream out.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream::BoxStream;

use super::AppState;
use super::graphql::{build_request, read_post, unauthenticated};

/// Whether the client asks for an event stream.
pub(super) fn wants_events(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/event-stream"))
        })
}

fn next_event(payload: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: next\ndata: {payload}\n\n"))
}

const COMPLETE: &[u8] = b"event: complete\ndata:\n\n";
const KEEP_ALIVE: &[u8] = b":\n\n";

/// Answers a POST that asked for an event stream.
pub(super) async fn post(state: AppState, headers: HeaderMap, body: Body) -> Response {
    let body = match read_post(&state, &headers, body).await {
        Ok(body) => body,
        Err(refusal) => return *refusal,
    };
    let caller = match state.auth.authenticate(&headers).await {
        Ok(caller) => caller,
        Err(refusal) => return unauthenticated(&refusal),
    };
    let request = match build_request(&state, body) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let results = match super::live::start(&state, &caller, request, None).await {
        Ok(results) => results,
        Err(refused) => futures::stream::once(async move { serde_json::json!({ "errors": refused.0 }) }).boxed(),
    };
    let keep_alive = state
        .live
        .as_ref()
        .map_or(Duration::from_secs(12), |f| f.config().keep_alive);
    // The connection is not held busy: while the client reads, every write (an event, or
    // the keep-alive comment every `live.keep_alive`, kept under `server.idle_timeout`)
    // moves its idle deadline on; a client that stops reading is cut at that deadline.
    let events = stream(results, keep_alive);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        ),
    ];
    (StatusCode::OK, headers, Body::from_stream(events)).into_response()
}

/// The event stream of `results`: `next` per result, keep-alive comments between, then
/// `complete`.
fn stream(
    results: BoxStream<'static, serde_json::Value>,
    keep_alive: Duration,
) -> BoxStream<'static, Result<Bytes, Infallible>> {
    struct State {
        results: BoxStream<'static, serde_json::Value>,
        keep_alive: Duration,
        done: bool,
    }
    let state = State {
        results,
        keep_alive,
        done: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let chunk = tokio::select! {
            result = state.results.next() => match result {
                Some(payload) => next_event(&payload),
                None => {
                    state.done = true;
                    Bytes::from_static(COMPLETE)
                }
            },
            () = tokio::time::sleep(state.keep_alive) => Bytes::from_static(KEEP_ALIVE),
        };
        Some((Ok(chunk), state))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_stream_is_asked_for_among_other_types_and_with_parameters() {
        let with = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            wants_events(&headers)
        };
        assert!(with("text/event-stream"));
        assert!(with("application/json, Text/Event-Stream;q=0.9"));
        assert!(!with("application/json"));
        assert!(!with("text/event-streaming"));
    }

    #[tokio::test]
    async fn results_become_next_events_then_complete() {
        let results = futures::stream::iter([serde_json::json!({"data": {"a": 1}})]).boxed();
        let chunks: Vec<_> = stream(results, Duration::from_secs(60))
            .map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
            .collect()
            .await;
        assert_eq!(
            chunks,
            [
                "event: next\ndata: {\"data\":{\"a\":1}}\n\n",
                "event: complete\ndata:\n\n"
            ]
        );
    }
}
