//! `switchboard doctor`'s checks of Voximplant: the service account is accepted, answers
//! come in the UTC asked for, `to_date` includes its own second (the listing's windows
//! rely on it), and, with the user's leave, the header of a small audit report (the
//! only request that creates something: one GetAuditLogAsync over the last hour).

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::Voximplant;
use super::client::is_utc;
use super::mapping::{format_timestamp, timestamp};
use super::reports::{AUDIT_OPTIONAL_COLUMNS, AUDIT_REQUIRED_COLUMNS, csv_header};
use crate::domain::Provider;
use crate::providers::doctor::{Check, Options, Verdict, describe};

const VOX: Provider = Provider::Voximplant;

/// The newest session of the look-back window: its id and start.
fn newest_session(result: Option<&Value>) -> Option<(u64, DateTime<Utc>)> {
    let session = result?.as_array()?.first()?;
    let id = session["call_session_history_id"].as_u64()?;
    let start = timestamp(session["start_date"].as_str()?).ok()?;
    Some((id, start))
}

impl Voximplant {
    pub(super) async fn doctor_checks(&self, options: &Options) -> Vec<Check> {
        let to = Utc::now();
        let from = crate::domain::time::shift(to, -self.lookback);
        let params = [
            ("from_date", format_timestamp(from)),
            ("to_date", format_timestamp(to)),
            ("desc_order", "true".to_string()),
            ("count", "1".to_string()),
            ("timezone", "UTC".to_string()),
        ];
        let checked = format!(
            "GetCallHistory from_date={} to_date={} count=1 timezone=UTC with a JWT of the service account",
            params[0].1, params[1].1
        );
        let envelope = match self.client.probe("GetCallHistory", &params).await {
            Ok(envelope) => envelope,
            Err(e) => return vec![Check::credentials_refused(VOX, checked, &e)],
        };
        let newest = newest_session(envelope.result.as_ref());
        let mut checks = vec![Check::new(
            VOX,
            "credentials",
            checked,
            Verdict::Pass,
            format!("a result with {} session(s)", usize::from(newest.is_some())),
        )];
        checks.push(Self::timezone(envelope.timezone.as_deref()));
        checks.push(self.to_date_inclusive(newest).await);
        checks.push(self.report_header(options).await);
        checks
    }

    /// The answer echoes the UTC it was asked for.
    fn timezone(echo: Option<&str>) -> Check {
        let checked = "GetCallHistory with timezone=UTC echoes timezone UTC (dates are \"in the selected timezone\")";
        match echo {
            Some(zone) if is_utc(zone) => {
                Check::new(VOX, "timezone", checked, Verdict::Pass, format!("timezone={zone:?}"))
            }
            Some(zone) => Check::new(
                VOX,
                "timezone",
                checked,
                Verdict::Fail,
                format!("timezone={zone:?}: every date would be off by its offset; the gateway refuses such answers"),
            ),
            None => Check::new(VOX, "timezone", checked, Verdict::Unknown, "no timezone in the answer"),
        }
    }

    /// A known session is found by a window whose `to_date` is its own start second.
    async fn to_date_inclusive(&self, newest: Option<(u64, DateTime<Utc>)>) -> Check {
        let check = "to-date-inclusive";
        let Some((id, start)) = newest else {
            return Check::new(
                VOX,
                check,
                "to_date=<a known session's start_date>",
                Verdict::Unknown,
                "no session in the look-back window to test with",
            );
        };
        let params = [
            ("from_date", format_timestamp(start - Duration::hours(1))),
            ("to_date", format_timestamp(start)),
            ("call_session_history_id", id.to_string()),
            ("timezone", "UTC".to_string()),
        ];
        let checked = format!(
            "GetCallHistory call_session_history_id={id} to_date={} (its start_date)",
            params[1].1
        );
        match self.client.probe("GetCallHistory", &params).await {
            Ok(envelope) => match newest_session(envelope.result.as_ref()) {
                Some((found, _)) if found == id => Check::new(
                    VOX,
                    check,
                    checked,
                    Verdict::Pass,
                    format!("session {id} listed: to_date is inclusive"),
                ),
                _ => Check::new(
                    VOX,
                    check,
                    checked,
                    Verdict::Fail,
                    format!("session {id} not listed: to_date excludes its own second"),
                ),
            },
            Err(e) => Check::failed_request(VOX, check, checked, &e),
        }
    }

    /// The header of a one-hour audit report names the columns the report parser reads.
    async fn report_header(&self, options: &Options) -> Check {
        let check = "report-csv-header";
        let to = Utc::now();
        let from = to - Duration::hours(1);
        let checked = format!(
            "GetAuditLogAsync from_date={} to_date={}, GetHistoryReports until completed, DownloadHistoryReport: its header has {}",
            format_timestamp(from),
            format_timestamp(to),
            AUDIT_REQUIRED_COLUMNS.join(", ")
        );
        if !options.report {
            return Check::new(VOX, check, checked, Verdict::Unknown, "skipped (--no-report)");
        }
        (options.announce)(&format!(
            "voximplant ({}): requesting one audit log report (GetAuditLogAsync over the last hour); skip with --no-report",
            self.tenant.as_str()
        ));
        let params = [
            ("from_date", format_timestamp(from)),
            ("to_date", format_timestamp(to)),
            ("with_header", "true".to_string()),
            ("output", "csv".to_string()),
        ];
        let id = match self.client.create::<Value>("GetAuditLogAsync", &params).await {
            Ok(envelope) => match envelope.history_report_id {
                Some(id) => id,
                None => {
                    return Check::new(
                        VOX,
                        check,
                        checked,
                        Verdict::Fail,
                        "GetAuditLogAsync answered without history_report_id",
                    );
                }
            },
            Err(e) => return Check::failed_request(VOX, check, checked, &e),
        };
        let deadline = tokio::time::Instant::now() + options.report_wait;
        loop {
            let status = self
                .client
                .probe("GetHistoryReports", &[("history_report_id", id.to_string())])
                .await;
            let completed = match status {
                Ok(envelope) => envelope
                    .result
                    .as_ref()
                    .and_then(Value::as_array)
                    .is_some_and(|reports| {
                        reports
                            .iter()
                            .any(|r| r["history_report_id"].as_u64() == Some(id) && !r["completed"].is_null())
                    }),
                Err(e) => return Check::failed_request(VOX, check, checked, &e),
            };
            if completed {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Check::new(
                    VOX,
                    check,
                    checked,
                    Verdict::Unknown,
                    format!("report {id} not completed within {} s", options.report_wait.as_secs()),
                );
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        let body = match self
            .client
            .download("DownloadHistoryReport", &[("history_report_id", id.to_string())])
            .await
        {
            Ok(body) => body,
            Err(e) => return Check::failed_request(VOX, check, checked, &e),
        };
        let header = match csv_header(&body, self.max_report_bytes) {
            Ok(header) => header,
            Err(e) => return Check::new(VOX, check, checked, Verdict::Fail, describe(&e)),
        };
        let has = |c: &&str| header.iter().any(|h| h == c);
        let missing: Vec<&str> = AUDIT_REQUIRED_COLUMNS.iter().filter(|c| !has(c)).copied().collect();
        let unread: Vec<&str> = AUDIT_OPTIONAL_COLUMNS.iter().filter(|c| !has(c)).copied().collect();
        let answered = format!("report {id} header: {}", header.join(","));
        match (missing.is_empty(), unread.is_empty()) {
            (true, true) => Check::new(VOX, check, checked, Verdict::Pass, answered),
            (true, false) => Check::new(
                VOX,
                check,
                checked,
                Verdict::Pass,
                format!("{answered} (without {}: those fields stay empty)", unread.join(", ")),
            ),
            (false, _) => Check::new(
                VOX,
                check,
                checked,
                Verdict::Fail,
                format!(
                    "{answered}: no {} column, so audit reports cannot be read",
                    missing.join(", ")
                ),
            ),
        }
    }
}
