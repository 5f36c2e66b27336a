//! Voximplant's asynchronous history reports in GraphQL: the
//! `requestVoximplantAuditLogReport` and `requestVoximplantCallHistoryReport` mutations
//! and the `VoximplantHistoryReport` node, whose `entries` (audit) or `callSessions`
//! (calls) page the downloaded report once it is completed.

use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use serde::{Deserialize, Serialize};

use super::audit::{VoximplantAuditLogEntry, VoximplantAuditLogFilter};
use super::{VoximplantCallSession, VoximplantCallSessionFilter};
use crate::domain::{NodeKind, Provider, encode_id};
use crate::graphql::LazyCursor;
use crate::graphql::call_log::Node;
use crate::graphql::connection::{PageArgs, connection_names};
use crate::graphql::error::GatewayError;
use crate::graphql::node::{NodeFuture, NodeSource};
use crate::graphql::scalars::{Date, DateTime};
use crate::graphql::scope::scope;
use crate::graphql::values::numeric_id;
use crate::providers::voximplant::reports::HistoryReport;
use crate::providers::voximplant::{HISTORY_REPORT, session_key};
use crate::upstream::UpstreamError;

/// Whether a report can be read yet.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum VoximplantReportStatus {
    /// Voximplant is still preparing it; poll `status` (via `node(id)`).
    Pending,
    /// Ready: `entries` downloads it (once) and pages it.
    Completed,
}

/// An asynchronous Voximplant history report (GetHistoryReports).
pub(crate) struct VoximplantHistoryReport(pub Arc<HistoryReport>);

/// A position in a downloaded report.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct RowIndex(usize);

connection_names!(
    EntryNames,
    "VoximplantReportEntryConnection",
    "VoximplantReportEntryEdge"
);
connection_names!(
    SessionNames,
    "VoximplantReportCallSessionConnection",
    "VoximplantReportCallSessionEdge"
);

/// `totalCount` of a downloaded report: its row count, known once the file is parsed.
#[derive(SimpleObject)]
pub(crate) struct ReportTotal {
    /// Number of rows (entries or sessions) in the report.
    total_count: i32,
}

impl ReportTotal {
    fn of(rows: usize) -> Self {
        ReportTotal {
            // The rows are held in memory after a size-limited download: far below 2^31.
            total_count: i32::try_from(rows).unwrap_or(i32::MAX),
        }
    }
}

/// The connection type of `VoximplantHistoryReport.entries`.
pub(crate) type EntryConnection =
    Connection<LazyCursor<RowIndex>, VoximplantAuditLogEntry, ReportTotal, EmptyFields, EntryNames, EntryNames>;

/// The connection type of `VoximplantHistoryReport.callSessions`.
pub(crate) type SessionConnection =
    Connection<LazyCursor<RowIndex>, VoximplantCallSession, ReportTotal, EmptyFields, SessionNames, SessionNames>;

impl VoximplantHistoryReport {
    /// `first`/`after` over the rows of this report, read as `history_type` rows.
    fn page_args(
        &self,
        ctx: &Context<'_>,
        history_type: &str,
        connection: &'static str,
        first: Option<i32>,
        after: Option<&str>,
    ) -> Result<PageArgs<RowIndex>, GatewayError> {
        self.readable(history_type)?;
        PageArgs::parse(ctx, connection, &format!("report:{}", self.0.id), first, after)
    }

    /// A report can be read only as what it lists.
    fn readable(&self, history_type: &str) -> Result<(), GatewayError> {
        match self.0.history_type.as_deref() {
            Some(t) if t != history_type => Err(GatewayError::bad_input(format!(
                "this is a `{t}` report; it has no {history_type} rows"
            ))),
            _ => Ok(()),
        }
    }

    /// The rows `first`/`after` select out of `total`, and whether more follow.
    fn rows(&self, args: &PageArgs<RowIndex>, total: usize) -> (std::ops::Range<usize>, bool) {
        let start = args.after.as_ref().map_or(0, |RowIndex(i)| i + 1).min(total);
        let end = (start + args.first).min(total);
        (start..end, end < total)
    }
}

#[Object]
impl VoximplantHistoryReport {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        ID(encode_id(HISTORY_REPORT, &self.0.id.to_string()))
    }
    /// `history_report_id`.
    async fn report_id(&self) -> async_graphql::ID {
        numeric_id(self.0.id)
    }
    /// `calls`, `calls_brief`, `audit`, ...
    #[graphql(name = "type")]
    async fn history_type(&self) -> Option<&str> {
        self.0.history_type.as_deref()
    }
    /// PENDING until Voximplant has prepared the file. (Named apart from `CallLog.status`,
    /// so a `node` query with fragments on both never asks one name with two types.)
    async fn report_status(&self) -> VoximplantReportStatus {
        if self.0.completed.is_some() {
            VoximplantReportStatus::Completed
        } else {
            VoximplantReportStatus::Pending
        }
    }
    /// When the report was requested (named apart from `CallLog.createdAt`, which is
    /// non-null).
    async fn report_created_at(&self) -> Option<DateTime> {
        self.0.created.map(DateTime)
    }
    async fn completed_at(&self) -> Option<DateTime> {
        self.0.completed.map(DateTime)
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
    async fn download_count(&self) -> async_graphql::Result<Option<i32>> {
        Ok(crate::graphql::values::opt_int32(self.0.download_count)?)
    }
    async fn last_downloaded_at(&self) -> Option<DateTime> {
        self.0.last_downloaded.map(DateTime)
    }
    /// Voximplant deletes the file after this day.
    async fn store_until(&self) -> Option<Date> {
        self.0.store_until.map(Date)
    }
    /// The report's audit log entries, in file order; null until the report is
    /// COMPLETED, so one query can poll `status` and read the entries. The file is
    /// downloaded once per tenant and cached. Asking a calls report is BAD_USER_INPUT.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, child_complexity)")]
    async fn entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<EntryConnection>> {
        if self.0.completed.is_none() {
            return Ok(None);
        }
        let args = self.page_args(ctx, "audit", "voximplantReportEntries", first, after.as_deref())?;
        let rows = scope(ctx)?
            .get::<super::VoximplantScope>()?
            .service
            .audit_report_rows(self.0.id)
            .await?;
        let (range, has_next) = self.rows(&args, rows.0.len());
        let items = range.map(|i| (RowIndex(i), rows.0[i].clone()));
        Ok(Some(args.connection_with(
            items,
            has_next,
            VoximplantAuditLogEntry,
            ReportTotal::of(rows.0.len()),
        )))
    }

    /// The sessions of a call history report, newest first. Each page's sessions are
    /// loaded typed, with their calls, by one GetCallHistory by id (cached like any
    /// session); null until the report is COMPLETED. The file is downloaded once per
    /// tenant and cached. Asking an audit report is BAD_USER_INPUT.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, child_complexity)")]
    async fn call_sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<SessionConnection>> {
        if self.0.completed.is_none() {
            return Ok(None);
        }
        let args = self.page_args(ctx, "calls", "voximplantReportCallSessions", first, after.as_deref())?;
        let voximplant = scope(ctx)?.get::<super::VoximplantScope>()?;
        let rows = voximplant.service.call_report_sessions(self.0.id).await?;
        let (range, has_next) = self.rows(&args, rows.0.len());
        let keys: Vec<String> = rows.0[range.clone()]
            .iter()
            .map(|r| session_key(r.id, r.start))
            .collect();
        let Ok(mut loaded) = voximplant.sessions.load_many(keys.iter().cloned()).await;
        let mut items = Vec::with_capacity(keys.len());
        for (i, key) in range.zip(keys) {
            match loaded.remove(&key) {
                Some(Ok(Some(session))) => items.push((RowIndex(i), session)),
                Some(Err(e)) => return Err(e.into()),
                _ => {
                    return Err(UpstreamError::bad_response(
                        Provider::Voximplant,
                        format!(
                            "call report {} lists session {key}, which GetCallHistory does not return",
                            self.0.id
                        ),
                    )
                    .into());
                }
            }
        }
        Ok(Some(args.connection_with(
            items,
            has_next,
            VoximplantCallSession,
            ReportTotal::of(rows.0.len()),
        )))
    }
}

/// Voximplant's mutations (merged into `Mutation`): its asynchronous reports.
#[derive(Default)]
pub(crate) struct VoximplantReportsMutation;

#[Object]
impl VoximplantReportsMutation {
    /// Starts an asynchronous audit log report (GetAuditLogAsync) for large exports and
    /// returns it, PENDING at first. Poll it with `node(id)`; once COMPLETED, read
    /// `entries`. The date window follows `voximplantAuditLog`'s rules.
    async fn request_voximplant_audit_log_report(
        &self,
        ctx: &Context<'_>,
        filter: Option<VoximplantAuditLogFilter>,
    ) -> async_graphql::Result<VoximplantHistoryReport> {
        let service = &scope(ctx)?.get::<super::VoximplantScope>()?.service;
        let id = service
            .request_audit_report(&filter.unwrap_or_default().into_domain())
            .await?;
        let report = service.report(id).await?;
        Ok(VoximplantHistoryReport(
            report.ok_or_else(|| GatewayError::internal("a new report is not listed"))?,
        ))
    }

    /// Starts an asynchronous call history report (GetCallHistoryAsync) for large exports
    /// and returns it, PENDING at first. Poll it with `node(id)`; once COMPLETED, read
    /// `callSessions`. The date window follows `voximplantCallSessions`' rules.
    async fn request_voximplant_call_history_report(
        &self,
        ctx: &Context<'_>,
        filter: Option<VoximplantCallSessionFilter>,
    ) -> async_graphql::Result<VoximplantHistoryReport> {
        let filter = filter.unwrap_or_default();
        filter.check(scope(ctx)?)?;
        let filter = filter.into_domain()?;
        let service = &scope(ctx)?.get::<super::VoximplantScope>()?.service;
        let id = service.request_call_history_report(&filter).await?;
        let report = service.report(id).await?;
        Ok(VoximplantHistoryReport(
            report.ok_or_else(|| GatewayError::internal("a new report is not listed"))?,
        ))
    }
}

/// Resolves the global ids of Voximplant history reports (`crate::graphql::node`).
pub(crate) struct Nodes;
pub(crate) const NODES: Nodes = Nodes;

impl NodeSource for Nodes {
    fn kinds(&self) -> &'static [NodeKind] {
        &[HISTORY_REPORT]
    }
    fn load<'a>(
        &'a self,
        scope: &'a crate::graphql::scope::RequestScope,
        id: crate::domain::GlobalId,
    ) -> NodeFuture<'a> {
        Box::pin(async move {
            let Ok(report_id) = id.native_id.parse::<u64>() else {
                return Ok(None);
            };
            let report = scope.get::<super::VoximplantScope>()?.service.report(report_id).await?;
            Ok(report.map(|r| Node::VoximplantHistoryReport(VoximplantHistoryReport(r))))
        })
    }
}
