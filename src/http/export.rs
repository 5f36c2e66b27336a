//! `GET /export/call-logs?format=ndjson|csv&filter=<CallLogFilter as JSON>&after=<cursor>`:
//! every call log `callLogs` lists for a filter, newest first, as a file.
//!
//! The rows come from `graphql::export` (the `callLogs` resolver's pages, authorized as
//! GraphQL authorizes them); this module owns the HTTP side: the caller (the same
//! authentication and tenancy as `/graphql`), the query parameters, the two formats, the
//! file name, the budgets, and a body that reads the next page only when the client has
//! taken the previous one. So memory does not grow with the export, and a client that
//! disconnects drops the body, which stops the reads.
//!
//! - NDJSON (`application/x-ndjson`): one object per call log with `__typename`, the
//!   shared `CallLog` fields as GraphQL renders them, `cost` (`{amount, currency}` or
//!   null) and `cursor` (the `callLogs` cursor after it: `after=` resumes there).
//! - CSV (`text/csv`, RFC 4180): a header line, then a row per call log, the same fields
//!   (`cost` as `costAmount` and `costCurrency`).
//!
//! An export that cannot finish (a provider fails, the budget runs out) ends with one last
//! line saying so, never as a silently short file: in NDJSON an object with
//! `"__typename": "ExportError"`, its `errors` (each with `extensions.code` and
//! `provider`) and `resumeAfter`; in CSV a record whose only field starts with
//! `# INCOMPLETE:`. Each page is charged to the caller's budgets (`[limits]`) before it
//! is read and settled after.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;

use super::AppState;
use super::demand::{Charge, Refusal};
use crate::auth::Caller;
use crate::demand::{Cost, Standing};
use crate::graphql::error::{ErrorCode, GatewayError};
use crate::graphql::export::{ExportReader, FIELDS, Filter, Row, Stopped, parse_filter};
use crate::graphql::scope::RequestScope;
use crate::request::CallBudget;

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

impl Format {
    fn parse(value: Option<&str>) -> Result<Self, GatewayError> {
        match value {
            Some("ndjson") => Ok(Format::Ndjson),
            Some("csv") => Ok(Format::Csv),
            _ => Err(GatewayError::bad_input("`format` must be `ndjson` or `csv`")),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8; header=present",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

/// The query parameters an export takes.
const PARAMETERS: [&str; 3] = ["format", "filter", "after"];

/// The route's handler.
pub(super) async fn call_logs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let guarded = state.guards.clone();
    guarded.run(start(state, headers, params)).await
}

/// Checks the caller and the parameters, reads the first page (so a refused cursor is a
/// 400, not a broken file), and answers with the rest as a streamed body.
async fn start(state: AppState, headers: HeaderMap, params: HashMap<String, String>) -> Response {
    let caller = match state.auth.authenticate(&headers).await {
        Ok(caller) => caller,
        Err(refusal) => return super::graphql::unauthenticated(&refusal),
    };
    let (format, filter, after) = match parameters(&params) {
        Ok(parsed) => parsed,
        Err(e) => return super::error_body(StatusCode::BAD_REQUEST, e),
    };
    let name = file_name(&filter, format);
    let streams = filter.providers.as_ref().map(|p| p.len() as u64);
    let access = super::access(&state, &caller);
    // No per-request call cap and no deadline: an export reads as long as it is taken.
    let budget = CallBudget::until(u32::MAX, None);
    let scope = RequestScope::new(caller.tenant.clone(), access, &budget);
    let reader = match ExportReader::new(scope, &state.schemas.planner, filter, after) {
        Ok(reader) => reader,
        Err(e) => return super::error_body(status_of(&e), e),
    };
    let mut export = Export {
        state,
        caller,
        budget,
        reader,
        format,
        rows: 0,
        finished: false,
        streams,
        standing: None,
        refusal: None,
    };
    // Refused before its first row: an answer with the refusal's status, not a file.
    let first = export.page().await;
    if let Some(refusal) = export.refusal.take() {
        return refusal.response();
    }
    if let Chunk::Stopped(stopped) = &first
        && let Some(e) = stopped.errors.iter().find(|e| refused_before_reading(e))
    {
        return super::error_body(status_of(e), e.clone());
    }
    let mut head = Vec::new();
    if format == Format::Csv {
        csv_header(&mut head);
    }
    let standing = export.standing.take();
    let first = first.into_bytes(&mut export, head);
    let rest = futures::stream::unfold(export, |mut export| async move {
        if export.finished {
            return None;
        }
        let chunk = export.page().await;
        let bytes = chunk.into_bytes(&mut export, Vec::new());
        Some((Ok::<_, std::convert::Infallible>(bytes), export))
    });
    // Fused: the body may be polled again once it has ended.
    let body = futures::stream::once(async move { Ok(first) }).chain(rest).fuse();
    let mut response = Body::from_stream(body).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        out.insert(header::CONTENT_DISPOSITION, disposition);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    out.insert(header::VARY, HeaderValue::from_static("Authorization, Cookie"));
    if let Some(standing) = standing {
        super::demand::headers(out, &standing);
    }
    response
}

/// An error that means nothing was read: the request itself is at fault (or refused).
fn refused_before_reading(e: &GatewayError) -> bool {
    matches!(
        e.code,
        ErrorCode::BadUserInput | ErrorCode::Forbidden | ErrorCode::ProviderNotConfigured
    )
}

fn status_of(e: &GatewayError) -> StatusCode {
    match e.code {
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `format`, `filter` (JSON) and `after`; any other parameter is refused.
fn parameters(params: &HashMap<String, String>) -> Result<(Format, Filter, Option<String>), GatewayError> {
    if let Some(unknown) = params.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        let unknown: String = unknown.chars().take(64).collect();
        return Err(GatewayError::bad_input(format!(
            "unknown parameter `{unknown}` (an export takes format, filter and after)"
        )));
    }
    let format = Format::parse(params.get("format").map(String::as_str))?;
    let json = params
        .get("filter")
        .map(|text| serde_json::from_str::<serde_json::Value>(text))
        .transpose()
        .map_err(|e| GatewayError::bad_input(format!("`filter` is not JSON: {e}")))?;
    let filter = parse_filter(json)?;
    Ok((format, filter, params.get("after").cloned()))
}

/// `call-logs[-providers][-from][-to].<format>`, from the filter (ASCII only).
fn file_name(filter: &Filter, format: Format) -> String {
    let mut name = String::from("call-logs");
    if let Some(providers) = &filter.providers {
        for p in providers {
            name.push('-');
            name.push_str(&p.as_str().to_ascii_lowercase());
        }
    }
    if let Some(t) = filter.created_after {
        name.push_str(&t.format("-from-%Y-%m-%d").to_string());
    }
    if let Some(t) = filter.created_before {
        name.push_str(&t.format("-to-%Y-%m-%d").to_string());
    }
    name.retain(|c| c.is_ascii_alphanumeric() || c == '-');
    format!("{name}.{}", format.extension())
}

/// An export in progress: what reads its pages and what it has written.
struct Export {
    state: AppState,
    caller: Caller,
    budget: Arc<CallBudget>,
    reader: ExportReader,
    format: Format,
    rows: u64,
    finished: bool,
    /// Providers the filter names (None: every configured one).
    streams: Option<u64>,
    /// Where the caller's budget stood after the last page (for the first page's headers).
    standing: Option<Standing>,
    /// Why the budgets refused the last page, if they did (the first page's refusal is
    /// answered as a 429 of its own).
    refusal: Option<Refusal>,
}

/// However the export ended (finished, or dropped when the client went away), one audit
/// record of what it showed unmasked.
impl Drop for Export {
    fn drop(&mut self) {
        let access = &self.reader.scope().access;
        super::graphql::audit(&self.caller.tenant, access, &access.take_tally(), Some("export"));
    }
}

/// What one page gave.
enum Chunk {
    Rows(Vec<Row>),
    Stopped(Stopped),
    End,
}

impl Export {
    /// Reads the next page, charged to the caller's budgets.
    async fn page(&mut self) -> Chunk {
        if self.reader.is_done() {
            return Chunk::End;
        }
        let charge = match self.admit().await {
            Ok(charge) => charge,
            Err(refusal) => {
                let stopped = Stopped {
                    errors: vec![refusal.error()],
                    resume_after: self.reader.resume_after(),
                };
                self.refusal = Some(refusal);
                return Chunk::Stopped(stopped);
            }
        };
        let before = self.budget.used();
        let page = self.budget.scope(self.reader.next_page()).await;
        if let (Some(demand), Some(charge)) = (&self.state.demand, &charge) {
            let calls = self.budget.used().saturating_sub(before);
            self.standing = Some(demand.settle(charge, Cost::of_calls(u64::from(calls), true)).await);
        }
        match page {
            Ok(Some(rows)) => Chunk::Rows(rows),
            Ok(None) => Chunk::End,
            Err(stopped) => Chunk::Stopped(stopped),
        }
    }

    /// Reserves a page's estimate (its streams' upstream pages), when budgets are set.
    async fn admit(&self) -> Result<Option<Charge>, Refusal> {
        let Some(demand) = &self.state.demand else {
            return Ok(None);
        };
        let model = &demand.model;
        // Each provider has at most two streams (SignalWire: voice and video).
        let streams = self
            .streams
            .map_or(model.streams, |providers| (providers * 2).min(model.streams));
        let calls = streams * (crate::graphql::export::PAGE as u64).div_ceil(model.page_size.max(1));
        demand.admit(&self.caller, Cost::of_calls(calls, true)).await.map(Some)
    }
}

impl Chunk {
    /// The bytes of this chunk after `head`; a stop writes its last line and ends the
    /// export, as does the end.
    fn into_bytes(self, export: &mut Export, mut out: Vec<u8>) -> Bytes {
        match self {
            Chunk::Rows(rows) => {
                export.rows += rows.len() as u64;
                for row in &rows {
                    match export.format {
                        Format::Ndjson => ndjson_row(&mut out, row),
                        Format::Csv => csv_row(&mut out, row),
                    }
                }
            }
            Chunk::Stopped(stopped) => {
                export.finished = true;
                match export.format {
                    Format::Ndjson => ndjson_error(&mut out, &stopped),
                    Format::Csv => csv_trailer(&mut out, &stopped),
                }
            }
            Chunk::End => export.finished = true,
        }
        Bytes::from(out)
    }
}

/// `__typename`, the shared fields, `cost` and `cursor`, as CSV columns.
fn csv_header(out: &mut Vec<u8>) {
    let mut names = vec!["__typename"];
    names.extend(FIELDS);
    names.extend(["costAmount", "costCurrency", "cursor"]);
    write_csv(out, &names);
}

/// One row as an RFC 4180 record: text as it is, numbers and enum names as GraphQL writes
/// them, null as an empty field.
fn csv_row(out: &mut Vec<u8>, row: &Row) {
    let mut cells: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(FIELDS.len() + 4);
    cells.push(row.type_name.as_ref().into());
    cells.extend(row.values.iter().map(cell));
    let (amount, currency) = row.cost.as_ref().map_or(("", ""), |(a, c)| (a.as_str(), *c));
    cells.extend([amount.into(), currency.into(), row.cursor.as_str().into()]);
    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
    write_csv(out, &cells);
}

fn cell(value: &async_graphql::Value) -> std::borrow::Cow<'_, str> {
    use async_graphql::Value;
    match value {
        Value::Null => "".into(),
        Value::String(s) => s.as_str().into(),
        Value::Enum(name) => name.as_str().into(),
        Value::Number(n) => n.to_string().into(),
        Value::Boolean(b) => b.to_string().into(),
        other => other.to_string().into(),
    }
}

/// The last record of a CSV export that could not finish: one field saying why and where
/// to resume.
fn csv_trailer(out: &mut Vec<u8>, stopped: &Stopped) {
    let why: Vec<String> = stopped
        .errors
        .iter()
        .map(|e| match e.provider {
            Some(p) => format!("{} {}: {}", p.as_str().to_ascii_uppercase(), e.code.as_str(), e.message),
            None => format!("{}: {}", e.code.as_str(), e.message),
        })
        .collect();
    let resume = match &stopped.resume_after {
        Some(cursor) => format!("resume with after={cursor}"),
        None => "resume by exporting again".into(),
    };
    write_csv(out, &[format!("# INCOMPLETE: {}; {resume}", why.join(" | "))]);
}

fn write_csv<S: AsRef<[u8]>>(out: &mut Vec<u8>, record: &[S]) {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(record);
    let _ = writer.flush();
}

/// One row as a JSON object on its own line.
fn ndjson_row(out: &mut Vec<u8>, row: &Row) {
    out.extend_from_slice(b"{\"__typename\":");
    json(out, &*row.type_name);
    for (name, value) in FIELDS.iter().zip(&row.values) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        json(out, value);
    }
    out.extend_from_slice(b",\"cost\":");
    match &row.cost {
        Some((amount, currency)) => {
            out.extend_from_slice(b"{\"amount\":");
            json(out, amount);
            out.extend_from_slice(b",\"currency\":");
            json(out, currency);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"cursor\":");
    json(out, &row.cursor);
    out.extend_from_slice(b"}\n");
}

/// The last line of an NDJSON export that could not finish.
fn ndjson_error(out: &mut Vec<u8>, stopped: &Stopped) {
    let errors: Vec<async_graphql::ServerError> = stopped.errors.iter().map(GatewayError::server_error).collect();
    let line = serde_json::json!({
        "__typename": "ExportError",
        "errors": errors,
        "resumeAfter": stopped.resume_after,
    });
    json(out, &line);
    out.push(b'\n');
}

fn json(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    // Serializing strings and GraphQL values to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}
