//! Voximplant's asynchronous history reports in GraphQL: the
//! `requestVoximplantAuditLogReport` mutation and the `VoximplantHistoryReport` node,
//! whose `entries` page the downloaded report once it is completed.

use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::connection::{PageArgs, connection_names};
use super::error::GatewayError;
use super::scope::scope;
use super::voximplant_audit::{VoximplantAuditLogEntry, VoximplantAuditLogFilter};
use crate::domain::{NodeKind, encode_id};
use crate::providers::voximplant::reports::HistoryReport;

/// Whether a report can be read yet.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum VoximplantReportStatus {
    /// Voximplant is still preparing it; poll `status` (via `node(id)`).
    Pending,
    /// Ready: `entries` downloads it (once) and pages it.
    Completed,
}

/// An asynchronous Voximplant history report (GetHistoryReports).
pub struct VoximplantHistoryReport(pub Arc<HistoryReport>);

/// A position in a downloaded report.
#[derive(Serialize, Deserialize)]
pub struct RowIndex(usize);

connection_names!(
    EntryNames,
    "VoximplantReportEntryConnection",
    "VoximplantReportEntryEdge"
);

/// `totalCount` of a downloaded report: its row count, known once the file is parsed.
#[derive(SimpleObject)]
pub struct ReportTotal {
    /// Number of entries in the report.
    total_count: i64,
}

/// The connection type of `VoximplantHistoryReport.entries`.
pub type EntryConnection =
    Connection<String, VoximplantAuditLogEntry, ReportTotal, EmptyFields, EntryNames, EntryNames>;

#[Object]
impl VoximplantHistoryReport {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        ID(encode_id(NodeKind::VoximplantHistoryReport, &self.0.id.to_string()))
    }
    /// `history_report_id`.
    async fn report_id(&self) -> i64 {
        i64::try_from(self.0.id).unwrap_or(i64::MAX)
    }
    /// `calls`, `calls_brief`, `audit`, ...
    #[graphql(name = "type")]
    async fn history_type(&self) -> Option<&str> {
        self.0.history_type.as_deref()
    }
    /// PENDING until Voximplant has prepared the file.
    async fn status(&self) -> VoximplantReportStatus {
        if self.0.completed.is_some() {
            VoximplantReportStatus::Completed
        } else {
            VoximplantReportStatus::Pending
        }
    }
    async fn created_at(&self) -> Option<DateTime<Utc>> {
        self.0.created
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed
    }
    /// `csv`.
    async fn format(&self) -> Option<&str> {
        self.0.format.as_deref()
    }
    async fn file_name(&self) -> Option<&str> {
        self.0.file_name.as_deref()
    }
    async fn file_size(&self) -> Option<f64> {
        self.0.file_size
    }
    /// Size of the gzipped download.
    async fn download_size(&self) -> Option<f64> {
        self.0.download_size
    }
    async fn download_count(&self) -> Option<i64> {
        self.0.download_count.and_then(|c| i64::try_from(c).ok())
    }
    async fn last_downloaded_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_downloaded
    }
    /// Voximplant deletes the file after this day.
    async fn store_until(&self) -> Option<NaiveDate> {
        self.0.store_until
    }
    /// The report's audit log entries, in file order. The file is downloaded once per
    /// tenant and cached; asking before the report is COMPLETED is BAD_USER_INPUT.
    async fn entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EntryConnection> {
        if self.0.completed.is_none() {
            return Err(GatewayError::bad_input("the report is still being prepared; poll its `status`").into());
        }
        if self.0.history_type.as_deref().is_some_and(|t| t != "audit") {
            return Err(GatewayError::bad_input("only audit reports can be read as entries").into());
        }
        let connection = format!("report:{}", self.0.id);
        let args = PageArgs::<RowIndex>::parse(ctx, "voximplantReportEntries", connection, first, after.as_deref())?;
        let rows = scope(ctx)?.voximplant()?.service.audit_report_rows(self.0.id).await?;
        let start = args.after.as_ref().map_or(0, |RowIndex(i)| i + 1);
        let end = (start + args.first).min(rows.0.len());
        let items = (start..end).map(|i| (RowIndex(i), rows.0[i].clone()));
        let total = ReportTotal {
            total_count: i64::try_from(rows.0.len()).unwrap_or(i64::MAX),
        };
        Ok(args.connection_with(items, end < rows.0.len(), VoximplantAuditLogEntry, total))
    }
}

/// The root mutation type.
#[derive(Default)]
pub struct Mutation;

#[Object]
impl Mutation {
    /// Starts an asynchronous audit log report (GetAuditLogAsync) for large exports and
    /// returns it, PENDING at first. Poll it with `node(id)`; once COMPLETED, read
    /// `entries`. The date window follows `voximplantAuditLog`'s rules.
    async fn request_voximplant_audit_log_report(
        &self,
        ctx: &Context<'_>,
        filter: Option<VoximplantAuditLogFilter>,
    ) -> async_graphql::Result<VoximplantHistoryReport> {
        let service = &scope(ctx)?.voximplant()?.service;
        let id = service
            .request_audit_report(&filter.unwrap_or_default().into_domain())
            .await?;
        let report = service.report(id).await?;
        Ok(VoximplantHistoryReport(
            report.ok_or_else(|| GatewayError::internal("a new report is not listed"))?,
        ))
    }
}
