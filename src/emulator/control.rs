//! Request counting and fault injection for the emulator, plus its `/__emulator/` routes:
//! `GET stats`, `POST reset`, `POST faults` (JSON `Fault`), `DELETE faults`, and
//! `GET`/`POST quirks` (JSON `Quirks`: how the providers behave, see `quirks.rs`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Wait before answering normally.
    Latency { millis: u64 },
    /// Answer with this status and the provider's error body (429 may carry Retry-After).
    Status {
        status: u16,
        retry_after_seconds: Option<u64>,
    },
    /// Answer like `Status`, with `Retry-After` as an HTTP-date `seconds` from now (the
    /// other form RFC 9110 §10.2.3 allows).
    RetryAfterDate { status: u16, seconds: u64 },
    /// Answer 200 with a body that is not valid JSON.
    Malformed,
    /// Start a 200 response and drop the connection mid-body.
    DropConnection,
    /// Answer with this status and JSON body instead (records with the wrong id, pages
    /// linking in a cycle, envelopes without `result`, ...).
    Body { status: u16, body: serde_json::Value },
    /// Answer 200 with a JSON body of about `bytes` bytes (a string field), streamed.
    Huge { bytes: usize },
    /// Answer 200 with a raw gzip file that inflates to `bytes` bytes (a report download).
    GzipBomb { bytes: usize },
}

/// A fault for requests whose path starts with `path_prefix` (whose path and query, when
/// the prefix holds a `?`), `times` times (or forever).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(default)]
    pub path_prefix: String,
    #[serde(default)]
    pub times: Option<u32>,
}

impl Fault {
    pub fn always(kind: FaultKind) -> Self {
        Fault {
            kind,
            path_prefix: String::new(),
            times: None,
        }
    }

    /// Limits the fault to paths starting with `prefix`.
    pub fn on(mut self, prefix: &str) -> Self {
        self.path_prefix = prefix.to_string();
        self
    }
}

/// Requests counted per route (`GET /api/voice/logs/{id}`) and per credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub routes: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Stats {
    pub fn total(&self) -> u64 {
        self.routes.values().flat_map(|c| c.values()).sum()
    }

    /// Requests to one route, all credentials.
    pub fn route(&self, route: &str) -> u64 {
        self.routes.get(route).map_or(0, |c| c.values().sum())
    }

    /// Requests made with one credential (SignalWire project id), all routes.
    pub fn credential(&self, credential: &str) -> u64 {
        self.routes.values().filter_map(|c| c.get(credential)).sum()
    }
}

#[derive(Default)]
pub(super) struct Control {
    stats: Mutex<Stats>,
    faults: Mutex<Vec<Fault>>,
    /// The `traceparent` headers of the last requests that carried one (newest last).
    traceparents: Mutex<std::collections::VecDeque<String>>,
}

/// How many `traceparent` values are kept.
const KEPT_TRACEPARENTS: usize = 64;

impl Control {
    pub(super) fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(super) fn traceparents(&self) -> Vec<String> {
        let kept = self.traceparents.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter().cloned().collect()
    }

    fn keep_traceparent(&self, request: &Request) {
        if let Some(value) = request.headers().get("traceparent").and_then(|v| v.to_str().ok()) {
            let mut kept = self.traceparents.lock().unwrap_or_else(PoisonError::into_inner);
            if kept.len() == KEPT_TRACEPARENTS {
                kept.pop_front();
            }
            kept.push_back(value.to_string());
        }
    }

    pub(super) fn reset(&self) {
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner) = Stats::default();
        self.traceparents.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.clear_faults();
    }

    pub(super) fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).push(fault);
    }

    pub(super) fn clear_faults(&self) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn count(&self, route: String, credential: String) {
        let mut stats = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        *stats.routes.entry(route).or_default().entry(credential).or_default() += 1;
    }

    /// Takes the first matching fault, using up one of its `times`.
    fn take_fault(&self, path: &str) -> Option<FaultKind> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let (bare, _) = path.split_once('?').unwrap_or((path, ""));
        let matches = |f: &Fault| match f.path_prefix.contains('?') {
            true => path.starts_with(&f.path_prefix),
            false => bare.starts_with(&f.path_prefix),
        };
        let i = faults.iter().position(matches)?;
        let kind = faults[i].kind.clone();
        if let Some(times) = &mut faults[i].times {
            *times -= 1;
            if *times == 0 {
                faults.remove(i);
            }
        }
        Some(kind)
    }
}

/// Who sent a request: the Basic user name, the OneUptime `ApiKey`, or `anonymous`.
fn credential_of(request: &Request) -> String {
    if let Some(key) = request.headers().get("apikey").and_then(|v| v.to_str().ok()) {
        return key.trim().to_string();
    }
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(user, _)| user.to_string()))
        .unwrap_or_else(|| "anonymous".to_string())
}

pub(super) async fn count_and_inject(State(control): State<Arc<Control>>, request: Request, next: Next) -> Response {
    // Voximplant's methods share one route template; count them by method.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .filter(|m| !m.as_str().contains("{method}"))
        .map_or_else(|| request.uri().path().to_string(), |m| m.as_str().to_string());
    control.count(format!("{} {route}", request.method()), credential_of(&request));
    control.keep_traceparent(&request);
    let target = request.uri().path_and_query().map_or("", |p| p.as_str()).to_string();
    match control.take_fault(&target) {
        None => next.run(request).await,
        Some(FaultKind::Latency { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(request).await
        }
        Some(FaultKind::Status {
            status,
            retry_after_seconds,
        }) => status_fault(
            status,
            retry_after_seconds.map(|s| s.to_string()),
            request.uri().path().starts_with("/api/call-log"),
        ),
        Some(FaultKind::RetryAfterDate { status, seconds }) => {
            let at = std::time::SystemTime::now() + Duration::from_secs(seconds);
            status_fault(
                status,
                Some(httpdate::fmt_http_date(at)),
                request.uri().path().starts_with("/api/call-log"),
            )
        }
        Some(FaultKind::Malformed) => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"links": {"self": "/"}, "data": [{"id": "#,
        )
            .into_response(),
        Some(FaultKind::Body { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, Json(body)).into_response()
        }
        Some(FaultKind::Huge { bytes }) => {
            const CHUNK: usize = 64 * 1024;
            let filler = (0..bytes / CHUNK + 1).map(|_| Ok::<_, std::io::Error>("x".repeat(CHUNK)));
            let stream = std::iter::once(Ok(r#"{"data": [], "filler": ""#.to_string()))
                .chain(filler)
                .chain(std::iter::once(Ok(r#""}"#.to_string())));
            Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures::stream::iter(stream)))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Some(FaultKind::GzipBomb { bytes }) => {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let zeros = vec![b'0'; 64 * 1024];
            for _ in 0..bytes / zeros.len() + 1 {
                let _ = gz.write_all(&zeros);
            }
            let body = gz.finish().unwrap_or_default();
            ([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response()
        }
        Some(FaultKind::DropConnection) => {
            let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
                Ok(r#"{"data": ["#),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected drop",
                )),
            ];
            Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

/// The documented error body for a status: SignalWire's `{"error"}` / 422 `{"errors"}`,
/// or OneUptime's `{"error"}`.
fn status_fault(status: u16, retry_after: Option<String>, oneuptime: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if status == StatusCode::UNPROCESSABLE_ENTITY && !oneuptime {
        serde_json::json!({"errors": [{
            "type": "validation_error", "code": "invalid_parameter",
            "message": "Injected validation failure", "attribute": null,
            "url": "https://signalwire.com/docs/apis/error-codes"
        }]})
    } else {
        serde_json::json!({"error": status.canonical_reason().unwrap_or("Error")})
    };
    let mut response = (status, Json(body)).into_response();
    if let Some(value) = retry_after.and_then(|s| s.parse().ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

pub(super) fn routes(control: Arc<Control>, quirks: super::quirks::Shared) -> Router {
    let quirks_route = Router::new()
        .route(
            "/__emulator/quirks",
            get(|State(q): State<super::quirks::Shared>| async move { Json(q.get()) }).post(
                |State(q): State<super::quirks::Shared>, Json(new): Json<super::Quirks>| async move {
                    q.set(new);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(quirks);
    Router::new()
        .route(
            "/__emulator/stats",
            get(|State(c): State<Arc<Control>>| async move { Json(c.stats()) }),
        )
        .route(
            "/__emulator/reset",
            post(|State(c): State<Arc<Control>>| async move {
                c.reset();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/__emulator/faults",
            post(|State(c): State<Arc<Control>>, Json(fault): Json<Fault>| async move {
                c.inject(fault);
                StatusCode::NO_CONTENT
            })
            .delete(|State(c): State<Arc<Control>>| async move {
                c.clear_faults();
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(control)
        .merge(quirks_route)
}
