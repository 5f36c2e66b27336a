//! `/graphql` over WebSocket: the `graphql-transport-ws` protocol (`transport_ws` decides
//! each step), run on an upgraded connection. Credentials come from `connection_init`'s
//! payload only (`Authorization`, as over HTTP): a browser sends cookies with any
//! page's WebSocket, so cookies of the upgrade request are ignored. A token's `exp`
//! closes the socket with 4403 within a second of it. Each operation runs as its own task
//! that sends its results to the socket's loop; the loop is the only writer.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::AppState;
use super::server::ConnectionHold;
use super::transport_ws::{CloseCode, Operation, SUBPROTOCOL, Session, Step};
use crate::graphql::error::GatewayError;

/// How long one write may wait for a client that does not read.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes a socket reads at once.
const SOCKET_BUFFER: usize = 4096;

/// What an operation's task tells the socket's loop.
enum Outcome {
    Next(String, Value),
    /// The operation ended: completed, or refused before it started (its errors).
    Done(String, Option<Value>),
}

/// Whether a GET asks to become a WebSocket.
pub(super) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Accepts the upgrade; the socket is served with `graphql-transport-ws` (or closed with
/// 4406 when the client did not ask for it).
pub(super) fn upgrade(state: AppState, upgrade: WebSocketUpgrade, hold: Option<ConnectionHold>) -> Response {
    // Small buffers: tungstenite's defaults (128 KiB to read, 128 KiB to write) made an
    // idle subscription cost about 150 KiB; messages here are small and rare, and a larger
    // one still reads whole (up to `max_body_bytes`), just in more steps.
    let upgrade = upgrade
        .protocols([SUBPROTOCOL])
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(0)
        .max_message_size(state.limits.max_body_bytes)
        .max_frame_size(state.limits.max_body_bytes);
    let speaks_protocol = upgrade.selected_protocol().is_some();
    upgrade.on_upgrade(move |socket| async move {
        // The connection stays busy while the socket is open: the HTTP idle and header
        // deadlines no longer apply to it.
        let _busy = hold.as_ref().map(ConnectionHold::hold);
        let _open = state.live_connections.open();
        match speaks_protocol {
            true => serve(state, socket).await,
            false => {
                close(
                    socket,
                    CloseCode::SubprotocolNotAcceptable,
                    "Subprotocol not acceptable",
                )
                .await;
            }
        }
    })
}

async fn close(mut socket: WebSocket, code: CloseCode, reason: &str) {
    let frame = CloseFrame {
        code: code.code(),
        reason: Utf8Bytes::from(reason),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// The headers `connection_init`'s payload stands for: its string fields, by name
/// (`Authorization`, as a client would send it over HTTP).
fn payload_headers(payload: Option<&Value>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let Some(Value::Object(fields)) = payload else {
        return headers;
    };
    for (name, value) in fields {
        if let (Ok(name), Some(Ok(value))) = (
            header::HeaderName::try_from(name.as_str()),
            value.as_str().map(HeaderValue::from_str),
        ) && name != header::COOKIE
        {
            headers.insert(name, value);
        }
    }
    headers
}

/// When a token's `exp` (seconds since the epoch) passes, as a deadline.
fn expiry(expires: Option<u64>) -> Option<tokio::time::Instant> {
    let exp = expires?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let left = Duration::from_secs(exp).saturating_sub(now);
    Some(tokio::time::Instant::now() + left)
}

/// Serves one socket until it closes, the protocol closes it, or the gateway shuts down.
async fn serve(state: AppState, mut socket: WebSocket) {
    let live = state
        .live
        .as_ref()
        .map(|feed| feed.config().clone())
        .unwrap_or_default();
    let mut session = Session::new(live.max_subscriptions_per_connection);
    let (sender, mut outcomes) = mpsc::channel::<Outcome>(64);
    let mut running: HashMap<String, AbortHandle> = HashMap::new();
    let mut caller = None;
    let init = tokio::time::sleep(live.connection_init_timeout);
    tokio::pin!(init);
    let expires = tokio::time::sleep(Duration::from_secs(365 * 86_400));
    tokio::pin!(expires);
    let mut keep_alive = tokio::time::interval(live.keep_alive);
    keep_alive.reset();
    let mut initialising = true;
    // Live updates closing (shutdown) end every subscription; then the socket closes.
    let mut closing = match &state.live {
        Some(feed) => feed.closing(),
        None => tokio::sync::watch::channel(false).1,
    };
    let mut draining = false;
    loop {
        let step = tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => session.receive(text.as_str()),
                Some(Ok(Message::Binary(_))) => session.receive("binary frames are not the protocol's"),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Step::Nothing,
                // The client closes: its close frame is answered (tungstenite queues the
                // reply; a flush sends it), then the socket is done.
                Some(Ok(Message::Close(_))) => {
                    let _ = futures::SinkExt::flush(&mut socket).await;
                    break;
                }
                Some(Err(_)) | None => break,
            },
            Some(outcome) = outcomes.recv() => match outcome {
                Outcome::Next(id, payload) => match session.next(&id, &payload) {
                    Some(frame) => Step::Send(frame),
                    None => Step::Nothing,
                },
                Outcome::Done(id, errors) => {
                    running.remove(&id);
                    match session.finish(&id, errors.as_ref()) {
                        Some(frame) => Step::Send(frame),
                        None => Step::Nothing,
                    }
                }
            },
            () = &mut init, if initialising => {
                initialising = false;
                session.init_timed_out()
            }
            () = &mut expires, if caller.is_some() => session.expired(),
            _ = keep_alive.tick() => Step::Send(r#"{"type":"ping"}"#.to_string()),
            _ = async { closing.wait_for(|closed| *closed).await.map(|_| ()) }, if !draining => {
                draining = true;
                Step::Nothing
            }
        };
        let step = match step {
            Step::Authenticate(payload) => {
                let accepted = match state.auth.authenticate(&payload_headers(payload.as_ref())).await {
                    Ok(who) => {
                        if let Some(at) = expiry(who.expires) {
                            expires.as_mut().reset(at);
                        }
                        caller = Some(who);
                        true
                    }
                    Err(refusal) => {
                        tracing::debug!(reason = %refusal.message(), "WebSocket connection_init refused");
                        false
                    }
                };
                initialising &= !accepted;
                session.authenticated(accepted)
            }
            step => step,
        };
        match step {
            Step::Nothing | Step::Authenticate(_) => {}
            Step::Send(frame) => {
                // A client that stops reading is dropped once a write has waited this long
                // (its subscriptions end; it resumes with `after` when it reconnects).
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(frame.into()))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    break;
                }
            }
            Step::Start { id, operation } => {
                let Some(who) = caller.clone() else { continue };
                let task = tokio::spawn(run(state.clone(), who, id.clone(), operation, sender.clone()));
                running.insert(id, task.abort_handle());
            }
            Step::Stop(id) => {
                if let Some(task) = running.remove(&id) {
                    task.abort();
                }
            }
            Step::Close(code, reason) => {
                close(socket, code, &reason).await;
                return abort_all(running);
            }
        }
        // Shutting down: once the last operation has completed, the socket closes.
        if draining && running.is_empty() {
            let frame = CloseFrame {
                code: 1001,
                reason: Utf8Bytes::from_static("the gateway is shutting down"),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
            return;
        }
    }
    abort_all(running);
}

fn abort_all(running: HashMap<String, AbortHandle>) {
    for task in running.into_values() {
        task.abort();
    }
}

/// Runs one operation, sending each result and then its end to the socket's loop.
async fn run(
    state: AppState,
    caller: crate::auth::Caller,
    id: String,
    operation: Operation,
    out: mpsc::Sender<Outcome>,
) {
    // The trusted-documents policy and APQ apply as over HTTP.
    let source = super::persisted::QuerySource {
        query: operation.query,
        document_id: operation.document_id.as_deref(),
        extensions: operation.extensions.as_ref(),
    };
    let query = match state.persisted.resolve(source) {
        Ok(Some(query)) => query,
        Ok(None) => {
            let error = GatewayError::bad_input("the operation has no query");
            let _ = out.send(Outcome::Done(id, Some(super::live::errors_of(&error)))).await;
            return;
        }
        Err(e) => {
            let (_, code, message) = super::graphql::persisted_refusal(&e);
            let error = GatewayError::new(code, message);
            let _ = out.send(Outcome::Done(id, Some(super::live::errors_of(&error)))).await;
            return;
        }
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = operation.operation_name {
        request = request.operation_name(name);
    }
    let variables = operation.variables;
    match super::live::start(&state, &caller, request, variables).await {
        Err(refused) => {
            let _ = out.send(Outcome::Done(id, Some(refused.0))).await;
        }
        Ok(mut results) => {
            while let Some(result) = results.next().await {
                if out.send(Outcome::Next(id.clone(), result)).await.is_err() {
                    return;
                }
            }
            let _ = out.send(Outcome::Done(id, None)).await;
        }
    }
}
