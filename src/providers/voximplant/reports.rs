//! The asynchronous history-report flow (seed GetAuditLogAsync, providers.md §3.5):
//! request a report (GetAuditLogAsync or GetCallHistoryAsync), read its status from
//! GetHistoryReports, and once it is completed download it once (DownloadHistoryReport:
//! gzip or plain CSV, columns from the header row), cache the parsed rows per tenant and
//! page them.
//!
//! Call history CSV columns are not documented (providers.md §3.5), so a call report is
//! read for the two columns a session needs to be loaded by id (`call_session_history_id`,
//! `start_date`); the sessions themselves come typed from GetCallHistory.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::audit::AuditFilter;
use super::mapping::{format_timestamp, timestamp};
use super::model::AuditLogEntry;
use super::wire::HistoryReportWire;
use super::{SessionFilter, Voximplant};
use crate::cache::{Kind, Weigh};
use crate::domain::Provider;
use crate::upstream::UpstreamError;

const REPORT: Kind<Option<Arc<HistoryReport>>> = Kind::new("report");
const REPORT_ROWS: Kind<ReportRows> = Kind::new("report-rows");
const CALL_REPORT_ROWS: Kind<ReportSessions> = Kind::new("call-report-rows");

/// A history report as GetHistoryReports describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryReport {
    pub id: u64,
    pub history_type: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub completed: Option<DateTime<Utc>>,
    pub format: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<f64>,
    pub download_size: Option<f64>,
    pub download_count: Option<u64>,
    pub last_downloaded: Option<DateTime<Utc>>,
    pub store_until: Option<NaiveDate>,
}

impl Weigh for HistoryReport {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>() + self.file_name.as_ref().map_or(0, String::len) + 16
    }
}

/// The parsed rows of a downloaded report.
#[derive(Serialize, Deserialize)]
pub struct ReportRows(pub Vec<Arc<AuditLogEntry>>);

impl Weigh for ReportRows {
    fn weight(&self) -> usize {
        self.0.iter().map(|e| e.weight() + 8).sum::<usize>() + 24
    }
}

/// A session a call history report lists: what loading it by id needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    pub id: u64,
    pub start: DateTime<Utc>,
}

/// The sessions of a downloaded call history report, in file order.
#[derive(Serialize, Deserialize)]
pub struct ReportSessions(pub Vec<SessionRef>);

impl Weigh for ReportSessions {
    fn weight(&self) -> usize {
        self.0.len() * std::mem::size_of::<SessionRef>() + 24
    }
}

fn bad(detail: impl Into<String>) -> UpstreamError {
    UpstreamError::bad_response(Provider::Voximplant, detail)
}

fn optional_time(raw: Option<String>) -> Result<Option<DateTime<Utc>>, UpstreamError> {
    raw.filter(|s| !s.trim().is_empty())
        .map(|s| timestamp(&s).map_err(|e| bad(e.to_string())))
        .transpose()
}

fn report(w: HistoryReportWire) -> Result<HistoryReport, UpstreamError> {
    Ok(HistoryReport {
        id: w.history_report_id,
        history_type: w.history_type,
        created: optional_time(w.created)?,
        completed: optional_time(w.completed)?,
        format: w.format,
        file_name: w.file_name,
        file_size: w.file_size,
        download_size: w.download_size,
        download_count: w.download_count,
        last_downloaded: optional_time(w.last_downloaded)?,
        store_until: w
            .store_until
            .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok()),
    })
}

/// A report file read as CSV: its rows and its columns by lower-case header name.
struct CsvReport {
    columns: HashMap<String, usize>,
    rows: Vec<csv::StringRecord>,
}

impl CsvReport {
    /// A report body: gunzipped when it is a raw `.gz` (to at most `max` bytes), then CSV
    /// with a header row.
    fn read(body: &[u8], max: usize) -> Result<Self, UpstreamError> {
        let text = if body.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .take(max as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("report gzip: {e}")))?;
            if out.len() > max {
                return Err(bad(format!("report larger than {max} bytes once decompressed")));
            }
            out
        } else {
            body.to_vec()
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_slice());
        let columns = reader
            .headers()
            .map_err(|e| bad(format!("report CSV header: {e}")))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
            .collect();
        let rows = reader
            .records()
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("report CSV row: {e}")))?;
        Ok(CsvReport { columns, rows })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns.get(name).copied()
    }
}

/// The cell of `col` in `record`, trimmed; `None` when absent or empty.
fn cell(record: &csv::StringRecord, col: Option<usize>) -> Option<&str> {
    col.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty())
}

/// The columns of an audit report the parser needs; it reads the others
/// (`AUDIT_OPTIONAL_COLUMNS`) when present.
pub(super) const AUDIT_REQUIRED_COLUMNS: [&str; 3] = ["audit_log_id", "requested", "cmd_name"];
pub(super) const AUDIT_OPTIONAL_COLUMNS: [&str; 6] = [
    "account_id",
    "subuser_id",
    "subuser_name",
    "ip",
    "cmd_args",
    "cmd_result",
];

/// The header row of a report file (gunzipped when needed), as written.
pub(super) fn csv_header(body: &[u8], max: usize) -> Result<Vec<String>, UpstreamError> {
    let report = CsvReport::read(body, max)?;
    let mut columns: Vec<(usize, String)> = report.columns.into_iter().map(|(name, i)| (i, name)).collect();
    columns.sort();
    Ok(columns.into_iter().map(|(_, name)| name).collect())
}

/// The entries of an audit report.
pub(super) fn parse_audit_csv(body: &[u8], max: usize) -> Result<Vec<AuditLogEntry>, UpstreamError> {
    let report = CsvReport::read(body, max)?;
    let column = |name: &str| report.column(name);
    let [id, at, cmd] = AUDIT_REQUIRED_COLUMNS;
    let (Some(id_col), Some(at_col), Some(cmd_col)) = (column(id), column(at), column(cmd)) else {
        return Err(bad("report CSV lacks audit_log_id, requested or cmd_name"));
    };
    let mut entries = Vec::new();
    for record in &report.rows {
        let text = |col: Option<usize>| cell(record, col);
        let number = |col: Option<usize>| text(col).and_then(|s| s.parse::<u64>().ok());
        let json = |col: Option<usize>| {
            text(col).map_or(Value::Null, |s| {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
            })
        };
        entries.push(AuditLogEntry {
            id: number(Some(id_col)).ok_or_else(|| bad("report row without a numeric audit_log_id"))?,
            account_id: number(column("account_id")),
            subuser_id: number(column("subuser_id")),
            subuser_name: text(column("subuser_name")).map(str::to_string),
            requested: timestamp(text(Some(at_col)).unwrap_or("")).map_err(|e| bad(e.to_string()))?,
            ip: text(column("ip")).map(str::to_string),
            cmd_name: text(Some(cmd_col)).unwrap_or("").to_string(),
            cmd_args: json(column("cmd_args")),
            cmd_result: json(column("cmd_result")),
        });
    }
    Ok(entries)
}

/// The sessions of a call history report (one row per session, newest first as asked).
/// A session listed on several rows (one per call) is kept once.
pub(super) fn parse_call_csv(body: &[u8], max: usize) -> Result<Vec<SessionRef>, UpstreamError> {
    let report = CsvReport::read(body, max)?;
    let (Some(id_col), Some(start_col)) = (report.column("call_session_history_id"), report.column("start_date"))
    else {
        return Err(bad("call report CSV lacks call_session_history_id or start_date"));
    };
    let mut seen = std::collections::HashSet::new();
    let mut sessions = Vec::new();
    for record in &report.rows {
        let id = cell(record, Some(id_col))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("call report row without a numeric call_session_history_id"))?;
        let start = timestamp(cell(record, Some(start_col)).unwrap_or("")).map_err(|e| bad(e.to_string()))?;
        if seen.insert(id) {
            sessions.push(SessionRef { id, start });
        }
    }
    Ok(sessions)
}

impl Voximplant {
    /// GetAuditLogAsync for `filter`'s window; returns the new report's id.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "voximplant", tenant = self.tenant.as_str()))]
    pub async fn request_audit_report(&self, filter: &AuditFilter) -> Result<u64, UpstreamError> {
        let (from, to) = self.audit_window_of(filter, None).await;
        let mut params = filter.params(from, to);
        params.extend([("with_header", "true".to_string()), ("output", "csv".to_string())]);
        let env = self.client.create::<Value>("GetAuditLogAsync", &params).await?;
        env.history_report_id
            .ok_or_else(|| bad("GetAuditLogAsync answered without history_report_id"))
    }

    /// GetCallHistoryAsync for `filter`'s window (the listing's rules); returns the new
    /// report's id.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "voximplant", tenant = self.tenant.as_str()))]
    pub async fn request_call_history_report(&self, filter: &SessionFilter) -> Result<u64, UpstreamError> {
        let (from, to) = self.window_of(filter, None).await;
        let mut params = vec![
            ("from_date", format_timestamp(from)),
            ("to_date", format_timestamp(to)),
            ("desc_order", "true".to_string()),
            ("with_header", "true".to_string()),
            ("output", "csv".to_string()),
        ];
        params.extend(filter.params());
        let env = self.client.create::<Value>("GetCallHistoryAsync", &params).await?;
        env.history_report_id
            .ok_or_else(|| bad("GetCallHistoryAsync answered without history_report_id"))
    }

    /// A report's status (GetHistoryReports): cached for long once completed, briefly
    /// while pending.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "voximplant", tenant = self.tenant.as_str()))]
    pub async fn report(&self, id: u64) -> Result<Option<Arc<HistoryReport>>, UpstreamError> {
        let key = REPORT.key(&self.tenant, Provider::Voximplant, id.to_string());
        let found = self
            .cache
            .get_or_fetch(key, async {
                let params = [("history_report_id", id.to_string())];
                let env = self
                    .client
                    .call::<Vec<HistoryReportWire>>("GetHistoryReports", &params)
                    .await?;
                let found = env
                    .result
                    .unwrap_or_default()
                    .into_iter()
                    .find(|r| r.history_report_id == id);
                let report = found.map(report).transpose()?.map(Arc::new);
                let ttl = self
                    .cache
                    .ttls()
                    .for_record(report.as_ref().map(|r| r.completed.is_some()));
                Ok::<_, UpstreamError>((report, ttl))
            })
            .await?;
        Ok((*found).clone())
    }

    /// The rows of a completed audit report, downloaded once per tenant and cached.
    pub async fn audit_report_rows(&self, id: u64) -> Result<Arc<ReportRows>, UpstreamError> {
        self.downloaded(&REPORT_ROWS, id, |body, max| {
            Ok(ReportRows(
                parse_audit_csv(body, max)?.into_iter().map(Arc::new).collect(),
            ))
        })
        .await
    }

    /// The sessions of a completed call history report, downloaded once per tenant and
    /// cached.
    pub async fn call_report_sessions(&self, id: u64) -> Result<Arc<ReportSessions>, UpstreamError> {
        self.downloaded(&CALL_REPORT_ROWS, id, |body, max| {
            Ok(ReportSessions(parse_call_csv(body, max)?))
        })
        .await
    }

    /// DownloadHistoryReport once per tenant and report; the parsed file is cached for
    /// long (a completed report never changes). Decompressing and parsing run on the
    /// blocking pool, off the async workers.
    #[tracing::instrument(level = "debug", skip(self, parse), fields(provider = "voximplant", tenant = self.tenant.as_str()))]
    async fn downloaded<T: crate::cache::Cacheable>(
        &self,
        kind: &Kind<T>,
        id: u64,
        parse: impl FnOnce(&[u8], usize) -> Result<T, UpstreamError> + Send + 'static,
    ) -> Result<Arc<T>, UpstreamError> {
        let key = kind.key(&self.tenant, Provider::Voximplant, id.to_string());
        self.cache
            .get_or_fetch(key, async {
                let body = self
                    .client
                    .download("DownloadHistoryReport", &[("history_report_id", id.to_string())])
                    .await?;
                let max = self.max_report_bytes;
                let parsed = tokio::task::spawn_blocking(move || parse(&body, max))
                    .await
                    .map_err(|e| {
                        UpstreamError::new(
                            Provider::Voximplant,
                            crate::upstream::UpstreamErrorKind::Internal,
                            e.to_string(),
                        )
                    })??;
                Ok::<_, UpstreamError>((parsed, self.cache.ttls().final_record))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const CSV: &str = "audit_log_id,account_id,requested,ip,cmd_name,cmd_args,cmd_result\n\
        58,1,2018-02-04 19:35:13,192.168.0.12,AddSkill,\"{\"\"skill_name\"\":\"\"manager\"\"}\",\"{\"\"skill_id\"\":152}\"\n\
        57,1,2018-02-04 19:30:00,192.168.0.12,DelUser,masked,\n";

    #[test]
    fn plain_and_gzipped_csv_reports_parse_by_header_name() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(CSV.as_bytes()).unwrap();
        let gzipped = gz.finish().unwrap();
        for body in [CSV.as_bytes().to_vec(), gzipped] {
            let rows = parse_audit_csv(&body, 1 << 20).unwrap();
            assert_eq!(rows.len(), 2);
            assert_eq!((rows[0].id, rows[0].cmd_name.as_str()), (58, "AddSkill"));
            assert_eq!(rows[0].cmd_args["skill_name"], "manager");
            assert_eq!(rows[0].cmd_result["skill_id"], 152);
            assert_eq!(rows[0].requested.to_rfc3339(), "2018-02-04T19:35:13+00:00");
            assert_eq!(
                rows[1].cmd_args,
                Value::String("masked".into()),
                "non-JSON cells stay text"
            );
            assert_eq!(rows[1].cmd_result, Value::Null);
        }
    }

    #[test]
    fn call_reports_read_session_ids_and_starts_by_header_and_keep_each_session_once() {
        let csv = "start_date,duration,call_session_history_id,remote_number\n\
            2024-05-29 15:05:26,60,3000000012,+15551230001\n\
            2024-05-29 15:05:26,60,3000000012,+15551230002\n\
            2024-05-29 15:01:00,5,3000000011,\n";
        let sessions = parse_call_csv(csv.as_bytes(), 1 << 20).unwrap();
        let at = |s: &str| timestamp(s).unwrap();
        assert_eq!(
            sessions,
            [
                SessionRef {
                    id: 3_000_000_012,
                    start: at("2024-05-29 15:05:26")
                },
                SessionRef {
                    id: 3_000_000_011,
                    start: at("2024-05-29 15:01:00")
                },
            ],
            "one session per id, in file order, whatever rows its calls took"
        );
        assert!(
            parse_call_csv(b"call_session_history_id\n1\n", 1 << 20).is_err(),
            "no start_date"
        );
        assert!(parse_call_csv(b"call_session_history_id,start_date\nx,2024-05-29 15:01:00\n", 1 << 20).is_err());
    }

    #[test]
    fn reordered_columns_still_parse() {
        let csv = "cmd_name,requested,audit_log_id\nAddUser,2020-01-01 00:00:00,9\n";
        let rows = parse_audit_csv(csv.as_bytes(), 1 << 20).unwrap();
        assert_eq!((rows[0].id, rows[0].cmd_name.as_str()), (9, "AddUser"));
        assert!(
            parse_audit_csv(b"a,b\n1,2\n", 1 << 20).is_err(),
            "missing required columns"
        );
    }
}
