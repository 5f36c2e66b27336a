//! The rows of `GET /export/call-logs`: the pages `callLogs` lists for a filter, read one
//! after another through the same resolver body (so the same items, in the same
//! newest-first order, with the same cursors), each call log as a row of the fields
//! every `CallLog` shares, rendered and authorized as GraphQL renders them: a masked
//! number stays masked, a forbidden field is null, and what was shown unmasked is
//! counted for the audit record.
//!
//! A page is read only when the previous one was taken (`ExportReader::next_page`), so
//! whoever drives it (the HTTP body) decides the pace, and dropping the reader stops the
//! reads. A page on which a provider failed is not handed out: the export ends there with
//! the failure and the cursor to resume from, rather than leave that provider's calls out.

use std::borrow::Cow;
use std::sync::Mutex;

use async_graphql::{InputType, OutputType, Value};

use super::Paging;
use super::connection::Page;
use super::cursor::CursorCodec;
use super::error::GatewayError;
use super::flat::{MaybeShared, shared};
use super::scope::{Env, RequestScope};
use super::timeline::{CallLogFilter, call_logs};
use crate::authz::Outcome;

/// An export's filter: the timeline's (what `CallLogFilter` converts into).
pub type Filter = crate::timeline::Filter;

/// Call logs per page of an export: larger than a `callLogs` page, since each page of the
/// merged timeline reads ahead in every stream (and, without a cache, reads a provider
/// page again for the part of it the previous page left).
pub const PAGE: usize = 500;

/// The shared `CallLog` fields of a row, in column order (`cost` follows them): those the
/// flat path renders for every call log.
pub const FIELDS: &[&str] = super::flat::SHARED_FIELDS;

/// One call log: its GraphQL type, each of `FIELDS` as GraphQL renders it, its cost, and
/// the `callLogs` cursor that resumes after it.
pub struct Row {
    pub type_name: Cow<'static, str>,
    pub values: Vec<Value>,
    /// `(amount, currency)`; None when the call has none or the caller may not see it.
    pub cost: Option<(String, &'static str)>,
    pub cursor: String,
}

/// Why an export stops before its end.
#[derive(Debug)]
pub struct Stopped {
    /// What failed (each with its provider).
    pub errors: Vec<GatewayError>,
    /// The cursor of the last row handed out (`after=` resumes there); None before any.
    pub resume_after: Option<String>,
}

/// The export of one filter for one caller, page by page.
pub struct ExportReader {
    env: ExportEnv,
    filter: crate::timeline::Filter,
    after: Option<String>,
    done: bool,
}

/// What the `callLogs` body reads of its request, for an export.
struct ExportEnv {
    scope: RequestScope,
    paging: Paging,
    codec: CursorCodec,
    reported: Mutex<Vec<GatewayError>>,
}

impl Env for ExportEnv {
    fn request(&self) -> Result<&RequestScope, GatewayError> {
        Ok(&self.scope)
    }
    fn paging(&self) -> Result<&Paging, GatewayError> {
        Ok(&self.paging)
    }
    fn codec(&self) -> Result<&CursorCodec, GatewayError> {
        Ok(&self.codec)
    }
    fn report(&self, error: GatewayError) {
        self.reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(error);
    }
    fn note_scan_cut(&self) {}
}

/// Parses a `CallLogFilter` given as JSON (a query parameter), with the checks GraphQL
/// makes of the input (types, enum names, date ranges); `BAD_USER_INPUT` when it fails.
pub fn parse_filter(json: Option<serde_json::Value>) -> Result<Filter, GatewayError> {
    let value = json
        .map(Value::from_json)
        .transpose()
        .map_err(|e| GatewayError::bad_input(format!("`filter` is not a CallLogFilter: {e}")))?;
    let filter = <Option<CallLogFilter> as InputType>::parse(value).map_err(|e| {
        GatewayError::bad_input(format!(
            "`filter` is not a CallLogFilter: {}",
            e.into_server_error(Default::default()).message
        ))
    })?;
    Ok(filter.unwrap_or_default().into())
}

impl ExportReader {
    /// An export of `filter` from `after` (a `callLogs` cursor of the same filter and
    /// caller), read with `scope`. A filter by number the caller may not use is
    /// `FORBIDDEN`.
    pub fn new(
        scope: RequestScope,
        planner: &super::plan::Planner,
        filter: crate::timeline::Filter,
        after: Option<String>,
    ) -> Result<Self, GatewayError> {
        scope.check_filters("CallLogFilter", &[("number", filter.number.is_some())])?;
        Ok(ExportReader {
            env: ExportEnv {
                scope,
                paging: Paging {
                    max_size: PAGE,
                    ..*planner.paging()
                },
                codec: planner.codec().clone(),
                reported: Mutex::new(Vec::new()),
            },
            filter,
            after,
            done: false,
        })
    }

    /// Whether the last page was handed out (or the export stopped).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The cursor the next page starts from (None before the first row).
    pub fn resume_after(&self) -> Option<String> {
        self.after.clone()
    }

    /// The request scope the export reads with (its access holds the audit's counts).
    pub fn scope(&self) -> &RequestScope {
        &self.env.scope
    }

    /// The next page's rows; `Ok(None)` at the end; `Err` when the export cannot go on (a
    /// refused cursor, or a provider that failed on this page: none of its rows are
    /// handed out). Checks the cursor on the first call, before anything is read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Row>>, Stopped> {
        if self.done {
            return Ok(None);
        }
        let page = Page {
            connection: "callLogs",
            first: i32::try_from(PAGE).ok(),
            after: self.after.clone(),
        };
        let stop = |errors, after: &Option<String>| Stopped {
            errors,
            resume_after: after.clone(),
        };
        let connection = match call_logs(&self.env, self.filter.clone(), page).await {
            Ok(connection) => connection,
            Err(e) => {
                self.done = true;
                return Err(stop(vec![e], &self.after));
            }
        };
        let reported = std::mem::take(
            &mut *self
                .env
                .reported
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !reported.is_empty() {
            self.done = true;
            return Err(stop(reported, &self.after));
        }
        let (edges, next) = connection.into_edges();
        let rows: Vec<Row> = edges
            .iter()
            .map(|(cursor, log)| self.row(log, cursor.clone()))
            .collect();
        match next {
            Some(resume) => self.after = Some(resume),
            None => self.done = true,
        }
        Ok(Some(rows))
    }

    /// One call log as a row, under the caller's rules.
    fn row(&self, log: &super::call_log::CallLog, cursor: String) -> Row {
        let type_name = log.introspection_type_name();
        let access = &self.env.scope.access;
        let shared_fields = log.shared();
        let outcome = |field: &str| {
            access.outcome(&type_name, field).map(|(outcome, guard)| {
                if matches!(outcome, Outcome::Show) {
                    access.shown(guard);
                }
                outcome
            })
        };
        let values = FIELDS
            .iter()
            .map(|field| {
                let value = shared_fields.and_then(|s| shared(s, field)).unwrap_or(Value::Null);
                match (outcome(field), value) {
                    (Some(Outcome::Forbid), _) => Value::Null,
                    (Some(Outcome::Mask(masking)), Value::String(s)) => Value::String(masking.apply(&s)),
                    (_, value) => value,
                }
            })
            .collect();
        let cost = shared_fields
            .and_then(|s| s.core().cost.as_ref())
            .filter(|_| !matches!(outcome("cost"), Some(Outcome::Forbid | Outcome::Mask(_))))
            .map(|money| (money.amount.to_string(), money.currency));
        Row {
            type_name,
            values,
            cost,
            cursor,
        }
    }
}
