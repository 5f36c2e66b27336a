//! Emulated OneUptime Call Log API (providers.md §2): `ApiKey` checks (400/401/422 bodies),
//! `get-list` with `select`/`query`/`sort` and `skip`/`limit` (over 10000 or negative is
//! 400), `count`, `get-item` (`200 {}` for unknown ids), typed value wrappers on output.
//! Only the query operators the gateway sends are implemented; others are a 400. As in
//! OneUptime, `createdAt` is kept in microseconds and printed in milliseconds, and phone
//! values in a query are checked like OneUptime's `Phone` type (400 when refused). Its
//! quirk `oneuptime_ascending` ignores `sort` and lists oldest first.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::EmulatorConfig;
use super::data::{self, OneUptimeRecord};
use super::quirks::Shared;
use super::recent::Recent;

/// Every column of a OneUptime call log the emulator serves (what `select` may name).
pub const COLUMNS: [&str; 21] = [
    "_id",
    "createdAt",
    "updatedAt",
    "projectId",
    "toNumber",
    "fromNumber",
    "callData",
    "statusMessage",
    "status",
    "callCostInUSDCents",
    "incidentId",
    "userId",
    "alertId",
    "monitorId",
    "scheduledMaintenanceId",
    "statusPageId",
    "statusPageAnnouncementId",
    "onCallDutyPolicyId",
    "onCallDutyPolicyEscalationRuleId",
    "onCallDutyPolicyScheduleId",
    "teamId",
];

/// A OneUptime API key the emulator knows, with or without read permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneUptimeKey {
    pub key: String,
    pub can_read: bool,
}

pub(super) struct OneUptimeState {
    keys: Vec<OneUptimeKey>,
    /// Newest first: (createdAt, _id) descending.
    records: RwLock<Vec<OneUptimeRecord>>,
    requests: Recent<Value>,
    seed: u64,
    quirks: Shared,
}

type Failure = Box<Response>;

fn fail(status: StatusCode, message: &str) -> Failure {
    Box::new((status, Json(json!({ "error": message }))).into_response())
}

impl OneUptimeState {
    pub(super) fn new(config: &EmulatorConfig, quirks: Shared) -> Self {
        OneUptimeState {
            quirks,
            keys: config.oneuptime_api_keys.clone(),
            records: RwLock::new(data::oneuptime_call_logs(config.seed, config.oneuptime_call_logs)),
            requests: Recent::new(),
            seed: config.seed,
        }
    }

    pub(super) fn ids(&self) -> Vec<String> {
        self.records
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|r| r.id.clone())
            .collect()
    }

    /// Adds `n` logs newer than every existing one (calls arriving while a client pages).
    pub(super) fn insert_newest(&self, n: usize) {
        let mut records = self.records.write().unwrap_or_else(PoisonError::into_inner);
        let newest = records.first().map_or_else(Utc::now, |r| r.created_at);
        let mut fresh = data::oneuptime_newer_than(self.seed ^ records.len() as u64, newest, n);
        fresh.append(&mut records);
        *records = fresh;
    }

    /// Adds `record` as the newest log (a call placed now).
    pub(super) fn insert(&self, record: OneUptimeRecord) {
        let mut records = self.records.write().unwrap_or_else(PoisonError::into_inner);
        records.insert(0, record);
    }

    /// Changes a log's status (a live call ending); false when no log has `id`.
    pub(super) fn set_status(&self, id: &str, status: &str) -> bool {
        let mut records = self.records.write().unwrap_or_else(PoisonError::into_inner);
        let Some(record) = records.iter_mut().find(|r| r.id == id) else {
            return false;
        };
        record.status = status.to_string();
        record.updated_at = Utc::now();
        true
    }

    /// Bodies of the list/count requests received, oldest first.
    pub(super) fn requests(&self) -> Vec<Value> {
        self.requests.all()
    }

    fn record_request(&self, route: &str, body: &Value) {
        self.requests.push(json!({ "route": route, "body": body }));
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), Failure> {
        let Some(key) = headers.get("apikey").and_then(|v| v.to_str().ok()) else {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                "Authenticated user or a valid API key is needed to read record of Call Log.",
            ));
        };
        if Uuid::parse_str(key.trim()).is_err() {
            return Err(fail(StatusCode::BAD_REQUEST, "Invalid API Key"));
        }
        match self.keys.iter().find(|k| k.key == key.trim()) {
            None => Err(fail(StatusCode::BAD_REQUEST, "Invalid API Key")),
            Some(k) if !k.can_read => Err(fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "You do not have permissions to read Call Log. You need one of these permissions: Project Owner, Project Admin, Project Member, Read Call Log",
            )),
            Some(_) => Ok(()),
        }
    }
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(fail(StatusCode::BAD_REQUEST, "Invalid JSON body")),
    }
}

/// `limit`/`skip` from the query string (OneUptime reads them there first).
fn paging(params: &HashMap<String, String>) -> Result<(usize, usize), Failure> {
    let number = |name: &str| -> Result<Option<i64>, Failure> {
        match params.get(name).map(|v| v.parse::<i64>()) {
            None | Some(Err(_)) => Ok(None),
            Some(Ok(n)) if n < 0 => Err(fail(StatusCode::BAD_REQUEST, "positiveNumber cannot be less than 0")),
            Some(Ok(n)) => Ok(Some(n)),
        }
    };
    let limit = match number("limit")? {
        None | Some(0) => 10,
        Some(n) if n > 10_000 => return Err(fail(StatusCode::BAD_REQUEST, "Limit should be less than 10000")),
        Some(n) => n as usize,
    };
    Ok((number("skip")?.unwrap_or(0) as usize, limit))
}

/// A column's value, comparable with query values.
#[derive(Debug, PartialEq, PartialOrd)]
enum Cell {
    Null,
    Text(String),
    Number(f64),
    Time(DateTime<Utc>),
}

fn cell(record: &OneUptimeRecord, column: &str) -> Cell {
    match column {
        "createdAt" => Cell::Time(record.created_at),
        "updatedAt" => Cell::Time(record.updated_at),
        "callCostInUSDCents" => Cell::Number(record.cost_cents as f64),
        "status" => Cell::Text(record.status.clone()),
        "_id" => Cell::Text(record.id.clone()),
        other => match record.text(other) {
            Some(v) => Cell::Text(v.to_string()),
            None => Cell::Null,
        },
    }
}

/// A query value in the type of `like`.
fn operand(like: &Cell, value: &Value) -> Option<Cell> {
    match (like, value) {
        (_, Value::Null) => Some(Cell::Null),
        (Cell::Time(_), Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Cell::Time(t.with_timezone(&Utc))),
        (Cell::Number(_), v) => v.as_f64().or_else(|| v.as_str()?.parse().ok()).map(Cell::Number),
        (_, Value::String(s)) => Some(Cell::Text(s.clone())),
        (_, Value::Number(n)) => Some(Cell::Text(n.to_string())),
        (_, Value::Bool(b)) => Some(Cell::Text(b.to_string())),
        _ => None,
    }
}

/// OneUptime's `Phone` check (OneUptime/oneuptime `Common/Types/Phone.ts`): after a
/// trim, `^[+]?[(]?[0-9]{3}[)]?[-\s.]?[0-9]{3}[-\s.]?[0-9]{4,7}$`, written out by hand.
fn valid_phone(value: &str) -> bool {
    let v = value.trim().as_bytes();
    let mut i = 0;
    let optional = |i: &mut usize, pred: &dyn Fn(u8) -> bool| {
        if v.get(*i).is_some_and(|b| pred(*b)) {
            *i += 1;
        }
    };
    let digits = |i: &mut usize, min: usize, max: usize| -> bool {
        let start = *i;
        while *i < v.len() && *i - start < max && v[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start >= min
    };
    let separator = |b: u8| matches!(b, b'-' | b'.' | b' ' | b'\t' | b'\n' | b'\r');
    optional(&mut i, &|b| b == b'+');
    optional(&mut i, &|b| b == b'(');
    if !digits(&mut i, 3, 3) {
        return false;
    }
    optional(&mut i, &|b| b == b')');
    optional(&mut i, &separator);
    if !digits(&mut i, 3, 3) {
        return false;
    }
    optional(&mut i, &separator);
    digits(&mut i, 4, 7) && i == v.len()
}

/// A query on a phone column whose value OneUptime's `Phone` type refuses: 400.
fn check_phones(column: &str, condition: &Value) -> Result<(), Failure> {
    if !matches!(column, "fromNumber" | "toNumber") {
        return Ok(());
    }
    let values: Vec<&Value> = match condition {
        Value::Array(list) => list.iter().collect(),
        Value::Object(o) => match o.get("value") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(v) => vec![v],
            None => Vec::new(),
        },
        v => vec![v],
    };
    for value in values {
        if let Some(text) = value.as_str().filter(|t| !valid_phone(t)) {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                &format!("Phone is not in valid format: {}", text.trim()),
            ));
        }
    }
    Ok(())
}

fn matches(record: &OneUptimeRecord, column: &str, condition: &Value) -> Result<bool, Failure> {
    let have = cell(record, column);
    let bad = |what: &str| fail(StatusCode::BAD_REQUEST, &format!("Invalid query on {column}: {what}"));
    let compare = |value: &Value| -> Result<Option<Ordering>, Failure> {
        let want = operand(&have, value).ok_or_else(|| bad("value of the wrong type"))?;
        Ok(have.partial_cmp(&want))
    };
    let one_of = |values: &Value| -> Result<bool, Failure> {
        let list = values
            .as_array()
            .ok_or_else(|| bad("Includes needs an array `value`"))?;
        for v in list {
            if compare(v)? == Some(Ordering::Equal) {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let Some(op) = condition.get("_type").and_then(Value::as_str) else {
        return match condition {
            Value::Null => Ok(have == Cell::Null),
            Value::Array(_) => one_of(condition),
            Value::Object(_) => Err(bad("unknown object")),
            v => Ok(compare(v)? == Some(Ordering::Equal)),
        };
    };
    let value = condition.get("value").unwrap_or(&Value::Null);
    let ord = |v: &Value| compare(v);
    Ok(match op {
        "EqualTo" => ord(value)? == Some(Ordering::Equal),
        "NotEqual" => ord(value)? != Some(Ordering::Equal),
        "GreaterThan" => ord(value)? == Some(Ordering::Greater),
        "GreaterThanOrEqual" => matches!(ord(value)?, Some(Ordering::Greater | Ordering::Equal)),
        "LessThan" => ord(value)? == Some(Ordering::Less),
        "LessThanOrEqual" => matches!(ord(value)?, Some(Ordering::Less | Ordering::Equal)),
        "InBetween" => {
            let start = condition.get("startValue").unwrap_or(&Value::Null);
            let end = condition.get("endValue").unwrap_or(&Value::Null);
            matches!(ord(start)?, Some(Ordering::Greater | Ordering::Equal))
                && matches!(ord(end)?, Some(Ordering::Less | Ordering::Equal))
        }
        "Includes" => one_of(value)?,
        "IsNull" => have == Cell::Null,
        "NotNull" => have != Cell::Null,
        other => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                &format!("Query operator {other} is not supported by the emulator"),
            ));
        }
    })
}

fn select_columns(body: &Map<String, Value>) -> Result<Vec<&'static str>, Failure> {
    let Some(select) = body.get("select").and_then(Value::as_object) else {
        return Ok(vec!["_id"]);
    };
    let mut columns = vec!["_id"];
    for (key, on) in select {
        let Some(column) = COLUMNS.iter().find(|c| **c == key) else {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                &format!("Invalid select clause. Cannot select on \"{key}\"."),
            ));
        };
        if on.as_bool() == Some(true) && !columns.contains(column) {
            columns.push(column);
        }
    }
    Ok(columns)
}

fn filtered(state: &OneUptimeState, body: &Map<String, Value>) -> Result<Vec<OneUptimeRecord>, Failure> {
    let query = body
        .get("query")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (column, condition) in &query {
        if !COLUMNS.contains(&column.as_str()) {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                &format!("Invalid column on Call Log - {column}. Column does not exist."),
            ));
        }
        check_phones(column, condition)?;
    }
    let records = state.records.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = Vec::new();
    for record in records.iter() {
        let mut keep = true;
        for (column, condition) in &query {
            if !matches(record, column, condition)? {
                keep = false;
                break;
            }
        }
        if keep {
            out.push(record.clone());
        }
    }
    Ok(out)
}

fn sort(records: &mut [OneUptimeRecord], body: &Map<String, Value>) -> Result<(), Failure> {
    let mut keys: Vec<(String, bool)> = Vec::new();
    if let Some(sort) = body.get("sort").and_then(Value::as_object) {
        for (column, order) in sort {
            if !COLUMNS.contains(&column.as_str()) {
                return Err(fail(StatusCode::INTERNAL_SERVER_ERROR, "Server Error"));
            }
            let descending = match order {
                Value::String(s) => s.eq_ignore_ascii_case("desc"),
                Value::Number(n) => n.as_i64() == Some(-1),
                _ => false,
            };
            keys.push((column.clone(), descending));
        }
    }
    if keys.is_empty() {
        keys.push(("createdAt".into(), true));
    }
    records.sort_by(|a, b| {
        for (column, descending) in &keys {
            let ord = cell(a, column).partial_cmp(&cell(b, column)).unwrap_or(Ordering::Equal);
            let ord = if *descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
    Ok(())
}

async fn get_list(
    State(state): State<Arc<OneUptimeState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, Failure> {
        state.authorize(&headers)?;
        let body = parse_body(&body)?;
        state.record_request("get-list", &Value::Object(body.clone()));
        let (skip, limit) = paging(&params)?;
        let columns = select_columns(&body)?;
        let mut rows = filtered(&state, &body)?;
        sort(&mut rows, &body)?;
        if state.quirks.get().oneuptime_ascending {
            rows.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        }
        let data: Vec<Value> = rows.iter().skip(skip).take(limit).map(|r| r.render(&columns)).collect();
        Ok(Json(json!({ "data": data, "count": rows.len(), "skip": skip, "limit": limit })).into_response())
    };
    run().unwrap_or_else(|e| *e)
}

async fn count(State(state): State<Arc<OneUptimeState>>, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Result<Response, Failure> {
        state.authorize(&headers)?;
        let body = parse_body(&body)?;
        state.record_request("count", &Value::Object(body.clone()));
        Ok(Json(json!({ "count": filtered(&state, &body)?.len() })).into_response())
    };
    run().unwrap_or_else(|e| *e)
}

async fn get_item(
    State(state): State<Arc<OneUptimeState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, Failure> {
        state.authorize(&headers)?;
        let body = parse_body(&body)?;
        if Uuid::parse_str(&id).is_err() {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                &format!(
                    "Invalid ID format: \"{id}\". Expected a valid UUID (e.g., \"550e8400-e29b-41d4-a716-446655440000\")."
                ),
            ));
        }
        let columns = select_columns(&body)?;
        let records = state.records.read().unwrap_or_else(PoisonError::into_inner);
        let found = records.iter().find(|r| r.id.eq_ignore_ascii_case(&id));
        Ok(Json(found.map_or_else(|| json!({}), |r| r.render(&columns))).into_response())
    };
    run().unwrap_or_else(|e| *e)
}

pub(super) fn routes(state: Arc<OneUptimeState>) -> Router {
    Router::new()
        .route("/api/call-log/get-list", post(get_list).get(get_list))
        .route("/api/call-log/count", post(count))
        .route("/api/call-log/{id}/get-item", post(get_item).get(get_item))
        .with_state(state)
}

/// OneUptime's section of a config pointing at the emulator at `base` (demo mode).
pub(super) fn demo_config(base: &url::Url) -> crate::providers::oneuptime::OneUptimeConfig {
    crate::providers::oneuptime::OneUptimeConfig {
        base_url: base.clone(),
        api_key: crate::settings::Secret::new(super::DEMO_ONEUPTIME_KEY),
        page_size: 100,
        concurrency: 8,
        max_requests_per_second: Some(100.0),
        webhook_secret: Some(crate::settings::Secret::new(
            super::traffic::DEMO_ONEUPTIME_WEBHOOK_SECRET,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_phone;

    #[test]
    fn phones_are_checked_like_oneuptime_checks_them() {
        for ok in [
            "+14155550001",
            "(415) 555-0001",
            "415.555.0001",
            " +442071234567 ",
            "4155550001234",
        ] {
            assert!(valid_phone(ok), "{ok:?}");
        }
        for bad in [
            "+1555",
            "",
            "+1 415 555 0001",
            "41555500012345",
            "+1415555000x",
            "415--555-0001",
        ] {
            assert!(!valid_phone(bad), "{bad:?}");
        }
    }
}
