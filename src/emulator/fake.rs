//! The fake provider's upstream (feature `fake-provider`): five call logs behind a
//! bearer token, listed newest first with keyset paging, counted, read by id and in
//! batches.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The bearer token the fake accepts.
pub(super) const TOKEN: &str = "fake-token";

/// `(id, created_at, status, duration)`, newest first.
const CALLS: [(&str, &str, &str, i64); 5] = [
    ("fk-5", "2026-10-31T12:00:00Z", "in-progress", 0),
    ("fk-4", "2026-10-20T08:30:00Z", "completed", 61),
    ("fk-3", "2026-09-15T17:45:00Z", "failed", 0),
    ("fk-2", "2026-08-01T09:00:00Z", "completed", 305),
    ("fk-1", "2026-05-01T10:15:00Z", "completed", 12),
];

fn record(i: usize) -> Value {
    let (id, created_at, status, duration) = CALLS[i];
    json!({
        "id": id,
        "from": format!("+1555000{i:04}"),
        "to": "+15559990000",
        "status": status,
        "created_at": created_at,
        "duration": duration,
    })
}

pub(super) fn routes() -> Router {
    Router::new()
        .route("/fake/v1/calls", get(list))
        .route("/fake/v1/calls/count", get(count))
        .route("/fake/v1/calls/batch", get(batch))
        .route("/fake/v1/calls/{id}", get(one))
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The indices of the calls within `created_after`/`created_before` (exclusive), from
/// `start` on; or the 400 for unreadable dates.
fn within(params: &HashMap<String, String>, start: usize) -> Result<Vec<usize>, Box<Response>> {
    let date = |name: &str| params.get(name).map(|v| v.parse::<DateTime<Utc>>());
    let (after, before) = match (date("created_after").transpose(), date("created_before").transpose()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(Box::new(error(StatusCode::BAD_REQUEST, "dates must be RFC 3339"))),
    };
    let created = |i: usize| CALLS[i].1.parse::<DateTime<Utc>>().unwrap_or_default();
    Ok((start..CALLS.len())
        .filter(|&i| after.is_none_or(|t| created(i) > t) && before.is_none_or(|t| created(i) < t))
        .collect())
}

/// `GET /fake/v1/calls/count[?created_after=..][&created_before=..]`: `{"count": n}`.
async fn count(headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    match within(&params, 0) {
        Ok(matching) => Json(json!({ "count": matching.len() })).into_response(),
        Err(refused) => *refused,
    }
}

/// `GET /fake/v1/calls/batch?ids=a,b,c`: the calls that exist among them.
async fn batch(headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let ids: Vec<&str> = params.get("ids").map_or(Vec::new(), |v| v.split(',').collect());
    let calls: Vec<Value> = (0..CALLS.len())
        .filter(|&i| ids.contains(&CALLS[i].0))
        .map(record)
        .collect();
    Json(json!({ "calls": calls, "has_more": false })).into_response()
}

/// `GET /fake/v1/calls?limit=1..=50[&before=<id>][&created_after=..][&created_before=..]`.
async fn list(headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        Some(Ok(n)) if (1..=50).contains(&n) => n,
        _ => return error(StatusCode::BAD_REQUEST, "limit must be 1..50"),
    };
    let start = match params.get("before") {
        Some(id) => match CALLS.iter().position(|c| c.0 == id) {
            Some(i) => i + 1,
            None => return error(StatusCode::BAD_REQUEST, "unknown `before` id"),
        },
        None => 0,
    };
    let matching = match within(&params, start) {
        Ok(matching) => matching,
        Err(refused) => return *refused,
    };
    let calls: Vec<Value> = matching.iter().take(limit).map(|&i| record(i)).collect();
    Json(json!({ "calls": calls, "has_more": matching.len() > limit })).into_response()
}

/// `GET /fake/v1/calls/{id}`: the record, or 404.
async fn one(headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    match CALLS.iter().position(|c| c.0 == id) {
        Some(i) => Json(record(i)).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such call"),
    }
}

/// The fake's section of a config pointing at the emulator at `base` (demo mode).
pub(super) fn demo_config(base: &url::Url) -> crate::providers::fake::FakeConfig {
    crate::providers::fake::FakeConfig {
        base_url: base.clone(),
        token: crate::settings::Secret::new(TOKEN),
    }
}
