//! Emulated SignalWire logs API: Basic auth, `page_size` 1..=1000, `page_token` links
//! (absolute for voice, relative for video, as both forms occur), `created_*` filters,
//! `include_deleted`, and the documented error bodies. Its quirks (`Quirks`) make lists
//! ascending, links name another origin, `created_*` bounds inclusive or date-only, and
//! history end at a retention window with SignalWire's 422 `exceeds_history_logs_limit`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::data::{self, Record};
use super::quirks::{Quirks, Shared};
use super::recent::Recent;
use super::{BasicCredential, EmulatorConfig};

pub(super) struct SignalWireState {
    credentials: Vec<String>,
    quirks: Shared,
    /// Voice logs grow and change with live traffic (`traffic`).
    voice: std::sync::RwLock<Collection>,
    video: Collection,
    /// The `page_size` of the list requests received (tests check what the gateway
    /// reads).
    page_sizes: Recent<usize>,
}

struct Collection {
    path: &'static str,
    /// Newest first.
    records: Vec<Record>,
    by_id: HashMap<Uuid, usize>,
    absolute_links: bool,
}

impl Collection {
    fn new(path: &'static str, records: Vec<Record>, absolute_links: bool) -> Self {
        let by_id = records.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        Collection {
            path,
            records,
            by_id,
            absolute_links,
        }
    }
}

impl SignalWireState {
    pub(super) fn new(config: &EmulatorConfig, quirks: Shared) -> Self {
        let encode = |c: &BasicCredential| {
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.project_id, c.api_token))
        };
        SignalWireState {
            credentials: config.signalwire_credentials.iter().map(encode).collect(),
            quirks,
            voice: std::sync::RwLock::new(Collection::new(
                "/api/voice/logs",
                data::voice_logs(config.seed, config.signalwire_voice_logs),
                true,
            )),
            video: Collection::new(
                "/api/video/logs",
                data::video_logs(config.seed, config.signalwire_video_logs),
                false,
            ),
            page_sizes: Recent::new(),
        }
    }

    /// The `page_size` of the most recent list requests, oldest first.
    pub(super) fn page_sizes(&self) -> Vec<usize> {
        self.page_sizes.all()
    }

    pub(super) fn voice_ids(&self) -> Vec<String> {
        self.voice().records.iter().map(|r| r.id.to_string()).collect()
    }

    fn voice(&self) -> std::sync::RwLockReadGuard<'_, Collection> {
        self.voice.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a voice log newer than every other (a call starting now).
    pub(super) fn insert_voice_log(&self, record: Record) {
        let mut voice = self.voice.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        voice.records.insert(0, record);
        voice.by_id = voice.records.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    }

    /// Changes voice log `id`'s JSON with `change`; the JSON after it, if the log exists.
    pub(super) fn update_voice_log(
        &self,
        id: Uuid,
        change: impl FnOnce(&mut serde_json::Value),
    ) -> Option<serde_json::Value> {
        let mut voice = self.voice.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let index = *voice.by_id.get(&id)?;
        let record = &mut voice.records[index];
        change(&mut record.json);
        Some(record.json.clone())
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .is_some_and(|token| self.credentials.iter().any(|c| c == token))
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn invalid(attribute: &str, message: &str) -> Response {
    let body = json!({"errors": [{
        "type": "validation_error", "code": "invalid_parameter", "message": message,
        "attribute": attribute, "url": "https://signalwire.com/docs/apis/error-codes"
    }]});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// The 422 SignalWire answers for a date past the account's history retention
/// (`exceeds_history_logs_limit`, `type: account_error`; signalwire/docs `error-codes.mdx`).
fn past_retention(attribute: &str) -> Response {
    let body = json!({"errors": [{
        "type": "account_error", "code": "exceeds_history_logs_limit",
        "message": "This value exceeds the allowed date limit.",
        "attribute": attribute, "url": "https://signalwire.com/docs/apis/error-codes#exceeds_history_logs_limit"
    }]});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// The oldest instant still kept, when a retention window is set.
fn retention_cutoff(quirks: &Quirks) -> Option<DateTime<Utc>> {
    quirks
        .signalwire_retention_days
        .map(|days| data::anchor() - chrono::Duration::days(i64::from(days)))
}

/// `YYYY-MM-DD` (UTC midnight) or an RFC 3339 date-time; with the date-only quirk, the
/// date of a date-time.
fn parse_bound(value: &str, quirks: &Quirks) -> Option<DateTime<Utc>> {
    let t = parse_date(value)?;
    if quirks.signalwire_created_dates_only {
        return t.date_naive().and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    }
    Some(t)
}

/// `YYYY-MM-DD` (UTC midnight) or an RFC 3339 date-time.
fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
        })
}

fn list(
    state: &SignalWireState,
    which: &Collection,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Response {
    if !state.authorized(headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let page_size = match params.get("page_size").map(|s| s.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return invalid("page_size", "page_size must be an integer between 1 and 1000"),
    };
    state.page_sizes.push(page_size);
    let page_number = match params.get("page_number").map(|s| s.parse::<u64>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid("page_number", "page_number must be a non-negative integer"),
    };
    let quirks = state.quirks.get();
    let mut bounds = [None, None];
    for (slot, name) in bounds.iter_mut().zip(["created_after", "created_before"]) {
        if let Some(raw) = params.get(name) {
            match parse_bound(raw, &quirks) {
                Some(t) => *slot = Some(t),
                None => return invalid(name, &format!("{name} must be a date or an ISO 8601 date-time")),
            }
        }
    }
    let [after, before] = bounds;
    let cutoff = retention_cutoff(&quirks);
    if let (Some(cutoff), Some(before)) = (cutoff, before)
        && before < cutoff
    {
        return past_retention("created_before");
    }
    // `created_on` names a UTC day; a date-time stands for its day.
    let on = match params.get("created_on") {
        None => None,
        Some(raw) => match parse_date(raw) {
            Some(t) => Some(t.date_naive()),
            None => return invalid("created_on", "created_on must be a date or an ISO 8601 date-time"),
        },
    };
    let include_deleted = params.get("include_deleted").is_some_and(|v| v == "true");
    let after_keeps = |t: DateTime<Utc>, a: DateTime<Utc>| match quirks.signalwire_created_after_inclusive {
        true => t >= a,
        false => t > a,
    };
    let mut visible: Vec<&Record> = which
        .records
        .iter()
        .filter(|r| include_deleted || !r.discarded)
        .filter(|r| cutoff.is_none_or(|c| r.created_at >= c))
        .filter(|r| after.is_none_or(|a| after_keeps(r.created_at, a)) && before.is_none_or(|b| r.created_at < b))
        .filter(|r| on.is_none_or(|day| r.created_at.date_naive() == day))
        .collect();
    if quirks.signalwire_ascending {
        visible.reverse();
    }
    // A page token names the first log of its page, so rows added later never shift it.
    let start = match params.get("page_token") {
        None if page_number > 0 => return invalid("page_token", "page_token is required when page_number > 0"),
        None => 0,
        Some(token) => {
            let Some(anchor) = token
                .strip_prefix("PA")
                .and_then(|id| Uuid::parse_str(id).ok())
                .and_then(|id| which.by_id.get(&id))
                .map(|&i| &which.records[i])
            else {
                return invalid("page_token", "page_token is invalid");
            };
            let key = (anchor.created_at, anchor.id);
            match quirks.signalwire_ascending {
                true => visible.partition_point(|r| (r.created_at, r.id) < key),
                false => visible.partition_point(|r| (r.created_at, r.id) > key),
            }
        }
    };
    let end = (start + page_size).min(visible.len());
    let data: Vec<&Value> = visible[start..end].iter().map(|r| &r.json).collect();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let link = |number: u64, token: Option<Uuid>| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("page_number", &number.to_string());
        query.append_pair("page_size", &page_size.to_string());
        for name in ["created_after", "created_before", "created_on", "include_deleted"] {
            if let Some(v) = params.get(name) {
                query.append_pair(name, v);
            }
        }
        if let Some(t) = token {
            query.append_pair("page_token", &format!("PA{t}"));
        }
        let path = format!("{}?{}", which.path, query.finish());
        match &quirks.signalwire_link_origin {
            Some(origin) => format!("{}{path}", origin.trim_end_matches('/')),
            None if which.absolute_links => format!("http://{host}{path}"),
            None => path,
        }
    };
    let mut links = json!({
        "self": link(page_number, visible.get(start).map(|r| r.id)),
        "first": link(0, None),
    });
    if let Some(next) = visible.get(end) {
        links["next"] = json!(link(page_number + 1, Some(next.id)));
    }
    if start > 0 {
        let prev_start = start.saturating_sub(page_size);
        links["prev"] = json!(link(
            page_number.saturating_sub(1),
            visible.get(prev_start).map(|r| r.id)
        ));
    }
    Json(json!({ "links": links, "data": data })).into_response()
}

fn find<'a>(
    state: &SignalWireState,
    which: &'a Collection,
    headers: &HeaderMap,
    id: &str,
) -> Result<&'a Record, Box<Response>> {
    if !state.authorized(headers) {
        return Err(Box::new(error(StatusCode::UNAUTHORIZED, "Unauthorized")));
    }
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(Box::new(invalid("id", "id must be a valid UUID")));
    };
    let record = which
        .by_id
        .get(&id)
        .map(|&i| &which.records[i])
        .ok_or_else(|| Box::new(error(StatusCode::NOT_FOUND, "Not Found")))?;
    if retention_cutoff(&state.quirks.get()).is_some_and(|c| record.created_at < c) {
        return Err(Box::new(past_retention("created_at")));
    }
    Ok(record)
}

pub(super) fn routes(state: Arc<SignalWireState>) -> Router {
    type Params = Query<HashMap<String, String>>;
    Router::new()
        .route(
            "/api/voice/logs",
            get(
                |State(s): State<Arc<SignalWireState>>, h: HeaderMap, Query(p): Params| async move {
                    list(&s, &s.voice(), &h, &p)
                },
            ),
        )
        .route(
            "/api/video/logs",
            get(
                |State(s): State<Arc<SignalWireState>>, h: HeaderMap, Query(p): Params| async move {
                    list(&s, &s.video, &h, &p)
                },
            ),
        )
        .route(
            "/api/voice/logs/{id}",
            get(
                |State(s): State<Arc<SignalWireState>>, h: HeaderMap, Path(id): Path<String>| async move {
                    find(&s, &s.voice(), &h, &id)
                        .map(|r| Json(r.json.clone()))
                        .map_err(|e| *e)
                },
            ),
        )
        .route(
            "/api/voice/logs/{id}/events",
            get(
                |State(s): State<Arc<SignalWireState>>, h: HeaderMap, Path(id): Path<String>| async move {
                    find(&s, &s.voice(), &h, &id)
                        .map(|r| Json(data::voice_events(r)))
                        .map_err(|e| *e)
                },
            ),
        )
        .route(
            "/api/video/logs/{id}",
            get(
                |State(s): State<Arc<SignalWireState>>, h: HeaderMap, Path(id): Path<String>| async move {
                    find(&s, &s.video, &h, &id)
                        .map(|r| Json(r.json.clone()))
                        .map_err(|e| *e)
                },
            ),
        )
        .with_state(state)
}

/// SignalWire's section of a config pointing at the emulator at `base` (demo mode).
pub(super) fn demo_config(base: &url::Url) -> crate::providers::signalwire::SignalWireConfig {
    let credential = &EmulatorConfig::default().signalwire_credentials[0];
    crate::providers::signalwire::SignalWireConfig {
        space_url: base.clone(),
        project_id: credential.project_id.clone(),
        api_token: crate::settings::Secret::new(credential.api_token.clone()),
        page_size: 100,
        concurrency: 16,
        max_requests_per_second: None,
        signing_key: Some(crate::settings::Secret::new(
            super::traffic::DEMO_SIGNALWIRE_SIGNING_KEY,
        )),
    }
}
