//! Emulated Voximplant Management API (providers.md §3): form or query parameters, RS256
//! JWT verification (`kid`, `iss`, signature, expiry, `exp <= iat + 3600`), errors as
//! `{"error": {"code", "msg"}}` with HTTP 200, `count` over 1000 and `offset` over 10000
//! rejected; asynchronous audit and call history reports (GetAuditLogAsync,
//! GetCallHistoryAsync, GetHistoryReports, DownloadHistoryReport as gzip CSV).
//!
//! Dates are "in the selected timezone": the `timezone` parameter (UTC when absent)
//! decides how `from_date`/`to_date` are read and how answers are written, and listings
//! echo it. Its quirks (`Quirks`) set an account time zone used when none is asked, one
//! forced whatever is asked, other report CSV column names, and an exclusive `to_date`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use super::EmulatorConfig;
use super::data::{self, VoxAuditEntry, VoxSession};
use super::quirks::{Quirks, Shared, zone_offset_hours};

/// The emulator's service-account key pair (a demo key, not a secret).
pub const DEMO_PRIVATE_KEY: &str = include_str!("keys/demo.pem");
pub(super) const DEMO_PUBLIC_KEY: &str = include_str!("keys/demo.pub.pem");
/// A key pair Voximplant does not know: signs "bad signature" tokens in tests.
pub const OTHER_PRIVATE_KEY: &str = include_str!("keys/other.pem");
pub const DEMO_ACCOUNT_ID: u64 = 1_234_567;
pub const DEMO_KEY_ID: &str = "demo-key-id";

/// Error codes of Voximplant's HTTP API table (voximplant.com/docs/references/httpapi/
/// errors): 100 authorization failed, 101 invalid arguments, 103 unknown command.
pub(super) const AUTH_ERROR: i64 = 100;
pub(super) const BAD_PARAMETER: i64 = 101;
pub(super) const UNKNOWN_COMMAND: i64 = 103;

/// `credentials.json` for the demo service account (the flat layout).
pub fn demo_credentials() -> String {
    json!({"account_email": "demo@example.com", "account_id": DEMO_ACCOUNT_ID, "key_id": DEMO_KEY_ID,
        "private_key": DEMO_PRIVATE_KEY})
    .to_string()
}

pub(super) struct VoximplantState {
    key: DecodingKey,
    clock_skew: i64,
    /// A snapshot each request reads; live traffic appends (indices stay valid for reports).
    sessions: std::sync::RwLock<Arc<Vec<VoxSession>>>,
    audit: Vec<VoxAuditEntry>,
    report_delay: chrono::Duration,
    reports: Mutex<Vec<Report>>,
    quirks: Shared,
}

/// What a report lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReportKind {
    Audit,
    Calls,
}

impl ReportKind {
    /// Its `history_type` in GetHistoryReports.
    fn history_type(self) -> &'static str {
        match self {
            ReportKind::Audit => "audit",
            ReportKind::Calls => "calls",
        }
    }
}

/// Session columns of a call history report: `CallSessionInfoType` names
/// (providers.md §3.5 leaves the real layout unconfirmed).
const SESSION_COLUMNS: [&str; 13] = [
    "call_session_history_id",
    "account_id",
    "application_id",
    "application_name",
    "user_id",
    "rule_name",
    "start_date",
    "duration",
    "initiator_address",
    "media_server_address",
    "log_file_url",
    "finish_reason",
    "audio_quality",
];

/// An asynchronous report: its rows (indices into the audit log or the sessions) are
/// fixed when it is requested.
struct Report {
    id: u64,
    kind: ReportKind,
    created: DateTime<Utc>,
    ready_at: DateTime<Utc>,
    filters: Value,
    rows: Vec<usize>,
    download_count: u64,
    last_downloaded: Option<DateTime<Utc>>,
    /// The time zone its rows are written in.
    zone: Zone,
}

/// The time zone of one request: its name (echoed) and hours east of UTC.
#[derive(Debug, Clone)]
struct Zone {
    name: String,
    hours: i64,
}

impl Zone {
    /// The zone a request is answered in: a forced one, else the one asked, else the
    /// account's (UTC unless a quirk sets one). An unknown name is refused with 101.
    fn of(p: &HashMap<String, String>, quirks: &Quirks) -> Result<Zone, Box<Response>> {
        let name = quirks
            .voximplant_forced_timezone
            .clone()
            .or_else(|| p.get("timezone").cloned())
            .or_else(|| quirks.voximplant_default_timezone.clone())
            .unwrap_or_else(|| "UTC".to_string());
        match zone_offset_hours(&name) {
            Some(hours) => Ok(Zone { name, hours }),
            None => Err(Box::new(error(BAD_PARAMETER, "Invalid argument: timezone"))),
        }
    }

    /// A `YYYY-MM-DD HH:mm:ss` string of this zone, rewritten in UTC (requests) or
    /// the other way (`east` true: answers).
    fn shift(&self, raw: &str, east: bool) -> Option<String> {
        let hours = if east { self.hours } else { -self.hours };
        parse_time(raw).map(|t| stamp(t + chrono::Duration::hours(hours)))
    }

    /// Every timestamp of an answer's records written in this zone.
    fn localize(&self, value: &mut Value) {
        if self.hours == 0 {
            return;
        }
        match value {
            Value::Array(items) => items.iter_mut().for_each(|v| self.localize(v)),
            Value::Object(fields) => {
                for (key, v) in fields.iter_mut() {
                    match (key.as_str(), &*v) {
                        ("start_date" | "start_time" | "used_at" | "requested", Value::String(raw)) => {
                            if let Some(local) = self.shift(raw, true) {
                                *v = Value::String(local);
                            }
                        }
                        _ => self.localize(v),
                    }
                }
            }
            _ => {}
        }
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: u64,
    iat: i64,
    exp: i64,
}

fn error(code: i64, msg: &str) -> Response {
    Json(json!({"error": {"code": code, "msg": msg}})).into_response()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

impl VoximplantState {
    pub(super) fn new(config: &EmulatorConfig, quirks: Shared) -> Self {
        VoximplantState {
            quirks,
            key: DecodingKey::from_rsa_pem(DEMO_PUBLIC_KEY.as_bytes()).expect("the embedded demo public key is valid"),
            clock_skew: config.voximplant_clock_skew_seconds,
            sessions: std::sync::RwLock::new(Arc::new(data::voximplant_sessions(
                config.seed,
                config.voximplant_sessions,
                config.voximplant_span_seconds,
            ))),
            audit: data::voximplant_audit_log(
                config.seed,
                config.voximplant_audit_entries,
                config.voximplant_span_seconds,
            ),
            report_delay: chrono::Duration::seconds(config.voximplant_report_delay_seconds),
            reports: Mutex::new(Vec::new()),
        }
    }

    /// Marks every report completed now (tests control time this way, without sleeping).
    pub(super) fn complete_reports(&self) {
        let now = Utc::now();
        for report in self.reports.lock().unwrap_or_else(PoisonError::into_inner).iter_mut() {
            report.ready_at = report.ready_at.min(now);
        }
    }

    fn audit_log_async(&self, p: &HashMap<String, String>) -> Response {
        let (from, to) = match required_window(p) {
            Ok(window) => window,
            Err(refused) => return *refused,
        };
        let index: HashMap<u64, usize> = self.audit.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let rows = self
            .audit_matching(p, from, to)
            .iter()
            .filter_map(|e| index.get(&e.id).copied())
            .collect();
        self.new_report(ReportKind::Audit, p, rows)
    }

    fn call_history_async(&self, p: &HashMap<String, String>) -> Response {
        let (from, to) = match required_window(p) {
            Ok(window) => window,
            Err(refused) => return *refused,
        };
        let sessions = self.sessions();
        let matching = match self.sessions_matching(&sessions, p, from, to) {
            Ok(matching) => matching,
            Err(refused) => return *refused,
        };
        let index: HashMap<u64, usize> = sessions.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let rows = matching.iter().filter_map(|s| index.get(&s.id).copied()).collect();
        self.new_report(ReportKind::Calls, p, rows)
    }

    /// Stores a report of `rows` (newest first as matched), ready after the configured
    /// delay.
    fn new_report(&self, kind: ReportKind, p: &HashMap<String, String>, mut rows: Vec<usize>) -> Response {
        let zone = match Zone::of(p, &self.quirks.get()) {
            Ok(zone) => zone,
            Err(refused) => return *refused,
        };
        if p.get("desc_order").is_none_or(|v| v != "true") {
            rows.reverse();
        }
        let now = Utc::now();
        let mut reports = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        let id = 234_254 + reports.len() as u64;
        let filters = json!(
            p.iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
        );
        reports.push(Report {
            id,
            kind,
            created: now,
            ready_at: now + self.report_delay,
            filters,
            rows,
            download_count: 0,
            last_downloaded: None,
            zone,
        });
        Json(json!({"result": 1, "history_report_id": id})).into_response()
    }

    fn history_reports(&self, p: &HashMap<String, String>) -> Response {
        let wanted: Option<u64> = p.get("history_report_id").and_then(|v| v.parse().ok());
        let now = Utc::now();
        let reports = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        let result: Vec<Value> = reports
            .iter()
            .filter(|r| wanted.is_none_or(|w| w == r.id))
            .map(|r| {
                let size = r.rows.len() as f64 * 0.0002;
                let store_until = (r.created + chrono::Duration::days(7)).format("%Y-%m-%d").to_string();
                let mut v = json!({
                    "history_report_id": r.id, "history_type": r.kind.history_type(), "created": stamp(r.created),
                    "format": "csv", "file_name": format!("{}_{}.csv", r.kind.history_type(), r.id), "file_size": size, "download_size": size / 4.0,
                    "download_count": r.download_count, "store_until": store_until,
                    "filters": r.filters, "calculated_data": {},
                });
                if now >= r.ready_at {
                    v["completed"] = json!(stamp(r.ready_at));
                }
                if let Some(at) = r.last_downloaded {
                    v["last_downloaded"] = json!(stamp(at));
                }
                v
            })
            .collect();
        Json(json!({"result": result, "total_count": result.len(), "count": result.len()})).into_response()
    }

    fn download(&self, p: &HashMap<String, String>) -> Response {
        let wanted: Option<u64> = p.get("history_report_id").and_then(|v| v.parse().ok());
        let mut reports = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(report) = reports.iter_mut().find(|r| Some(r.id) == wanted) else {
            return error(BAD_PARAMETER, "Invalid parameter value: history_report_id");
        };
        let now = Utc::now();
        if now < report.ready_at {
            return error(BAD_PARAMETER, "The report is not ready yet");
        }
        report.download_count += 1;
        report.last_downloaded = Some(now);
        let other_header = self.quirks.get().voximplant_other_csv_header;
        let csv = match report.kind {
            ReportKind::Audit => self.audit_csv(&report.rows, &report.zone, other_header),
            ReportKind::Calls => self.calls_csv(&report.rows, &report.zone, other_header),
        };
        let gz = match csv {
            Ok(bytes) => bytes,
            Err(e) => return error(500, &format!("Internal error: {e}")),
        };
        // Both forms occur in practice: a gzip transfer encoding, or a raw .gz file.
        if report.id % 2 == 0 {
            (
                [(header::CONTENT_TYPE, "text/csv"), (header::CONTENT_ENCODING, "gzip")],
                gz,
            )
                .into_response()
        } else {
            ([(header::CONTENT_TYPE, "application/octet-stream")], gz).into_response()
        }
    }

    /// Audit entries as gzipped CSV with a header row.
    fn audit_csv(&self, rows: &[usize], zone: &Zone, other_header: bool) -> std::io::Result<Vec<u8>> {
        const COLUMNS: [&str; 9] = [
            "audit_log_id",
            "account_id",
            "subuser_id",
            "subuser_name",
            "requested",
            "ip",
            "cmd_name",
            "cmd_args",
            "cmd_result",
        ];
        let rows = rows.iter().map(|&i| self.audit[i].json.clone());
        gzipped_csv(&COLUMNS, rows, zone, other_header)
    }

    /// Sessions as gzipped CSV with a header row, one row per session.
    fn calls_csv(&self, rows: &[usize], zone: &Zone, other_header: bool) -> std::io::Result<Vec<u8>> {
        let sessions = self.sessions();
        let rows = rows.iter().map(|&i| sessions[i].base.clone());
        gzipped_csv(&SESSION_COLUMNS, rows, zone, other_header)
    }

    /// `(id, start)` of every session, newest first.
    pub(super) fn session_keys(&self) -> Vec<(u64, DateTime<Utc>)> {
        let mut keys: Vec<_> = self.sessions().iter().map(|s| (s.id, s.start)).collect();
        keys.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        keys
    }

    /// The sessions now (a snapshot).
    fn sessions(&self) -> Arc<Vec<VoxSession>> {
        self.sessions.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Adds a session (one starting now); its id.
    pub(super) fn insert_session(&self, make: impl FnOnce(u64) -> VoxSession) -> u64 {
        let mut sessions = self.sessions.write().unwrap_or_else(PoisonError::into_inner);
        let id = sessions.iter().map(|s| s.id).max().unwrap_or(3_000_000_000) + 1;
        let mut grown = Vec::clone(&sessions);
        grown.push(make(id));
        *sessions = Arc::new(grown);
        id
    }

    /// Checks the bearer JWT; the error is the reason, answered as an auth error body.
    fn authorize(&self, headers: &HeaderMap) -> Result<(), String> {
        let fail = |why: &str| why.to_string();
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| fail("no bearer token"))?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| fail("malformed token"))?;
        if header.kid.as_deref() != Some(DEMO_KEY_ID) {
            return Err(fail("unknown key id"));
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &validation)
            .map_err(|_| fail("bad signature"))?
            .claims;
        let now = Utc::now().timestamp() + self.clock_skew;
        if claims.iss != DEMO_ACCOUNT_ID {
            return Err(fail("iss is not this account"));
        }
        if claims.exp <= now {
            return Err(fail("token expired"));
        }
        if claims.exp - claims.iat > 3600 {
            return Err(fail("exp is more than iat + 3600"));
        }
        Ok(())
    }

    pub(super) fn audit_keys(&self) -> Vec<(u64, DateTime<Utc>)> {
        self.audit.iter().map(|e| (e.id, e.requested)).collect()
    }

    /// Matching audit entries, newest first.
    fn audit_matching(
        &self,
        p: &HashMap<String, String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<&VoxAuditEntry> {
        let list =
            |name: &str| -> Option<Vec<String>> { p.get(name).map(|v| v.split(';').map(str::to_string).collect()) };
        let ids: Option<Vec<u64>> = list("audit_log_id").map(|v| v.iter().filter_map(|s| s.parse().ok()).collect());
        let cmds = list("filtered_cmd");
        let ips = list("filtered_ip");
        self.audit
            .iter()
            .filter(|e| e.requested >= from && e.requested <= to)
            .filter(|e| ids.as_ref().is_none_or(|ids| ids.contains(&e.id)))
            .filter(|e| cmds.as_ref().is_none_or(|c| c.contains(&e.cmd_name)))
            .filter(|e| ips.as_ref().is_none_or(|i| i.contains(&e.ip)))
            .filter(|e| {
                p.get("filtered_admin_user_id")
                    .is_none_or(|a| e.admin_user_id.as_ref() == Some(a))
            })
            .filter(|e| p.get("advanced_filters").is_none_or(|r| e.related.contains(r)))
            .collect()
    }

    fn audit_log(&self, p: &HashMap<String, String>) -> Response {
        let (from, to, count, offset) = match window_and_paging(p, 100) {
            Ok(v) => v,
            Err(refused) => return *refused,
        };
        let matching = self.audit_matching(p, from, to);
        let desc = p.get("desc_order").is_some_and(|v| v == "true");
        let ordered: Box<dyn Iterator<Item = &&VoxAuditEntry>> = if desc {
            Box::new(matching.iter())
        } else {
            Box::new(matching.iter().rev())
        };
        let mut result: Vec<Value> = ordered.skip(offset).take(count).map(|e| e.json.clone()).collect();
        let zone = match Zone::of(p, &self.quirks.get()) {
            Ok(zone) => zone,
            Err(refused) => return *refused,
        };
        result.iter_mut().for_each(|v| zone.localize(v));
        let mut body = json!({"result": result, "count": result.len(), "timezone": zone.name});
        if p.get("with_total_count").is_some_and(|v| v == "true") {
            body["total_count"] = json!(matching.len());
        }
        Json(body).into_response()
    }

    /// Sessions in `from..=to` matching the filter parameters, newest first.
    fn sessions_matching<'a>(
        &self,
        sessions: &'a [VoxSession],
        p: &HashMap<String, String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<&'a VoxSession>, Box<Response>> {
        let list =
            |name: &str| -> Option<Vec<String>> { p.get(name).map(|v| v.split(';').map(str::to_string).collect()) };
        let ids: Option<Vec<u64>> =
            list("call_session_history_id").map(|v| v.iter().filter_map(|s| s.parse().ok()).collect());
        if ids.as_ref().is_some_and(|ids| ids.len() > 1000) {
            return Err(Box::new(error(
                BAD_PARAMETER,
                "Invalid parameter value: call_session_history_id (at most 1000 ids)",
            )));
        }
        if p.contains_key("application_id") && p.contains_key("application_name") {
            return Err(Box::new(error(
                BAD_PARAMETER,
                "application_id and application_name are mutually exclusive",
            )));
        }
        let users: Option<Vec<u64>> = list("user_id").map(|v| v.iter().filter_map(|s| s.parse().ok()).collect());
        let remote = list("remote_number");
        let local = list("local_number");
        let mut matching: Vec<&VoxSession> = sessions
            .iter()
            .filter(|s| s.start >= from && s.start <= to)
            .filter(|s| ids.as_ref().is_none_or(|ids| ids.contains(&s.id)))
            .filter(|s| {
                p.get("application_id")
                    .is_none_or(|a| a.parse() == Ok(s.application_id))
            })
            .filter(|s| p.get("application_name").is_none_or(|a| *a == s.application_name))
            .filter(|s| users.as_ref().is_none_or(|u| u.contains(&s.user_id)))
            .filter(|s| {
                remote
                    .as_ref()
                    .is_none_or(|r| s.remote_numbers.iter().any(|n| r.contains(n)))
            })
            .filter(|s| {
                local
                    .as_ref()
                    .is_none_or(|l| s.local_numbers.iter().any(|n| l.contains(n)))
            })
            .collect();
        // Live sessions are appended after the seeded ones: newest first again.
        matching.sort_by(|a, b| b.start.cmp(&a.start).then(b.id.cmp(&a.id)));
        Ok(matching)
    }

    fn call_history(&self, p: &HashMap<String, String>) -> Response {
        let (from, to, count, offset) = match window_and_paging(p, 20) {
            Ok(v) => v,
            Err(refused) => return *refused,
        };
        let sessions = self.sessions();
        let matching = match self.sessions_matching(&sessions, p, from, to) {
            Ok(matching) => matching,
            Err(refused) => return *refused,
        };
        let flag = |name: &str| p.get(name).is_some_and(|v| v == "true");
        let ordered: Box<dyn Iterator<Item = &&VoxSession>> = if flag("desc_order") {
            Box::new(matching.iter())
        } else {
            Box::new(matching.iter().rev())
        };
        let zone = match Zone::of(p, &self.quirks.get()) {
            Ok(zone) => zone,
            Err(refused) => return *refused,
        };
        let result: Vec<Value> = ordered
            .skip(offset)
            .take(count)
            .map(|s| {
                let mut v = s.base.clone();
                if flag("with_calls") {
                    v["calls"] = s.calls.clone();
                }
                if flag("with_records") {
                    v["records"] = s.records.clone();
                }
                if flag("with_other_resources") {
                    v["other_resource_usage"] = s.other.clone();
                }
                zone.localize(&mut v);
                v
            })
            .collect();
        let mut body = json!({"result": result, "count": result.len(), "timezone": zone.name});
        if flag("with_total_count") {
            body["total_count"] = json!(matching.len());
        }
        Json(body).into_response()
    }
}

/// `from_date`/`to_date` of a report request (both required).
fn required_window(p: &HashMap<String, String>) -> Result<(DateTime<Utc>, DateTime<Utc>), Box<Response>> {
    match (
        p.get("from_date").and_then(|v| parse_time(v)),
        p.get("to_date").and_then(|v| parse_time(v)),
    ) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(Box::new(error(
            BAD_PARAMETER,
            "from_date and to_date are required (YYYY-MM-DD HH:mm:ss)",
        ))),
    }
}

/// JSON objects as gzipped CSV: a header row of `columns` (or, with the quirk, names
/// as a spreadsheet export might write them: `Audit log id`), then one row per object in
/// `zone` (strings as they are, other values as JSON, null as an empty cell).
fn gzipped_csv(
    columns: &[&str],
    rows: impl Iterator<Item = Value>,
    zone: &Zone,
    other_header: bool,
) -> std::io::Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    if other_header {
        csv.write_record(columns.iter().map(|c| {
            let spaced = c.replace('_', " ");
            let mut chars = spaced.chars();
            chars
                .next()
                .map(|f| f.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        }))?;
    } else {
        csv.write_record(columns)?;
    }
    for mut row in rows {
        zone.localize(&mut row);
        csv.write_record(columns.iter().map(|k| match &row[*k] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }))?;
    }
    let plain = csv.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &plain)?;
    gz.finish()
}

/// `from_date`, `to_date`, `count`, `offset` of a listing request.
type Listing = (DateTime<Utc>, DateTime<Utc>, usize, usize);

/// `from_date`/`to_date` (required) and `count` (<= 1000) / `offset` (<= 10000).
fn window_and_paging(p: &HashMap<String, String>, default_count: u64) -> Result<Listing, Box<Response>> {
    let error = |code, msg: &str| Box::new(error(code, msg));
    let (Some(from), Some(to)) = (
        p.get("from_date").and_then(|v| parse_time(v)),
        p.get("to_date").and_then(|v| parse_time(v)),
    ) else {
        return Err(error(
            BAD_PARAMETER,
            "from_date and to_date are required (YYYY-MM-DD HH:mm:ss)",
        ));
    };
    let number = |name: &str, default: u64| p.get(name).map_or(Ok(default), |v| v.parse::<u64>());
    let (Ok(count), Ok(offset)) = (number("count", default_count), number("offset", 0)) else {
        return Err(error(BAD_PARAMETER, "count and offset must be integers"));
    };
    if count > 1000 {
        return Err(error(
            BAD_PARAMETER,
            "Invalid parameter value: count (the maximum value is 1000)",
        ));
    }
    if offset > 10_000 {
        return Err(error(
            BAD_PARAMETER,
            "Invalid parameter value: offset (the maximum value is 10000)",
        ));
    }
    Ok((from, to, count as usize, offset as usize))
}

/// Rewrites `from_date`/`to_date` from the request's time zone into UTC (what the data
/// is kept in); with the exclusive-`to_date` quirk, `to_date` moves a second earlier.
fn dates_in_utc(p: &mut HashMap<String, String>, quirks: &Quirks) -> Result<(), Box<Response>> {
    let zone = Zone::of(p, quirks)?;
    for name in ["from_date", "to_date"] {
        if let Some(utc) = p.get(name).and_then(|raw| zone.shift(raw, false)) {
            p.insert(name.to_string(), utc);
        }
    }
    if quirks.voximplant_to_date_exclusive
        && let Some(earlier) = p
            .get("to_date")
            .and_then(|raw| parse_time(raw))
            .map(|t| stamp(t - chrono::Duration::seconds(1)))
    {
        p.insert("to_date".to_string(), earlier);
    }
    Ok(())
}

/// Parameters from the query string and a form body (both are used by real clients).
fn params(query: HashMap<String, String>, body: &Bytes) -> HashMap<String, String> {
    let mut all = query;
    all.extend(url::form_urlencoded::parse(body).into_owned());
    all
}

async fn method(
    State(state): State<Arc<VoximplantState>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Err(why) = state.authorize(&headers) {
        return error(AUTH_ERROR, &format!("Authorization failed: {why}"));
    }
    let mut p = params(query, &body);
    if let Err(refused) = dates_in_utc(&mut p, &state.quirks.get()) {
        return *refused;
    }
    match method.as_str() {
        "GetCallHistory" => state.call_history(&p),
        "GetAuditLog" => state.audit_log(&p),
        "GetAuditLogAsync" => state.audit_log_async(&p),
        "GetCallHistoryAsync" => state.call_history_async(&p),
        "GetHistoryReports" => state.history_reports(&p),
        "DownloadHistoryReport" => state.download(&p),
        other => error(UNKNOWN_COMMAND, &format!("Unknown command {other}")),
    }
}

pub(super) fn routes(state: Arc<VoximplantState>) -> Router {
    Router::new()
        .route("/platform_api/{method}", post(method))
        .with_state(state)
}

/// Voximplant's section of a config pointing at the emulator at `base` (demo mode).
pub(super) fn demo_config(base: &url::Url) -> crate::providers::voximplant::VoximplantConfig {
    use std::time::Duration;
    crate::providers::voximplant::VoximplantConfig {
        base_url: base.clone(),
        credentials_file: None,
        credentials_json: Some(crate::settings::Secret::new(demo_credentials())),
        currency: "USD".into(),
        // The seeded data ends on a fixed date; look far enough back to show it.
        lookback: Duration::from_secs(3650 * 24 * 3600),
        page_size: 100,
        token_lifetime: Duration::from_secs(300),
        concurrency: 8,
        max_requests_per_second: None,
        max_report_bytes: 64 * 1024 * 1024,
    }
}
