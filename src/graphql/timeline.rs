//! `callLogs`: the merged timeline (`crate::timeline`) as a GraphQL connection. This
//! module owns the filter input, the `CallLogConnection` type and the resolver; the read
//! loop, filter plan, counts and composite cursor are the timeline engine's, and the
//! streams are registered in `providers::STREAMS`.
//!
//! `CallLogConnection` is hand-written rather than async-graphql's `Connection` for one
//! reason: a page cut by the scan bound may hold no edge at all, yet the client must be
//! able to page on from where the scan stopped, so `endCursor` is the resume position
//! even then.

use async_graphql::connection::{CursorType, Edge, EmptyFields, PageInfo};
use async_graphql::{Context, InputObject, Object};

use super::LazyCursor;
use super::call_log::CallLog;
use super::connection::{Page, connection_fields, connection_names};
use super::error::GatewayError;
use super::flat::{Flat, FlatEdges};
use super::scope::{Env, RequestScope, scope};
use super::values::{CallDirection, CallStatus, Provider};
use crate::timeline::{self, Countable, PageRequest, Position, Timeline, TimelineStream};

/// The timeline `callLogs` reads: call logs rendered as `CallLog`, read with a request's
/// scope, failing with `GatewayError`.
#[derive(Debug, Clone, Copy)]
pub(super) struct CallLogs;

impl Timeline for CallLogs {
    type Cx = RequestScope;
    type Item = CallLog;
    type Error = GatewayError;

    fn streams() -> &'static [&'static dyn TimelineStream<Self>] {
        super::providers::STREAMS
    }

    fn configured(scope: &RequestScope, provider: crate::domain::Provider) -> bool {
        scope.tenant.services().iter().any(|s| s.provider() == provider)
    }
}

/// The timeline's root field (merged into `Query`).
#[derive(Default)]
pub(super) struct TimelineQuery;

connection_fields! {
    impl TimelineQuery {
        /// Every configured provider's call logs as one newest-first connection: SignalWire
        /// voice and video logs (deleted ones excluded), OneUptime call logs and Voximplant
        /// sessions (within Voximplant's look-back window unless `createdAfter` is given).
        /// A provider that fails is reported in `errors` (with `provider`) and resumed on the
        /// next page, which lists it in `catchingUp`; the others still answer. When every
        /// provider the page reads fails, the field fails (null, with each provider's error),
        /// so a loop paging until `hasNextPage` is false stops.
        fn call_logs as "callLogs"(ctx, filter: CallLogFilter, page) -> TimelineConnection {
            scope(ctx)?.check_filters("CallLogFilter", &[("number", filter.number.is_some())])?;
            call_logs(ctx, filter.into(), page).await
        }
    }
}

/// Reads one page; streams that failed become errors at the field's path.
pub(super) async fn call_logs(
    ctx: &(impl Env + ?Sized),
    filter: timeline::Filter,
    page: Page,
) -> Result<TimelineConnection, GatewayError> {
    let args = page.args::<Position<CallLogs>>(ctx, &filter)?;
    let request = PageRequest {
        filter,
        after: args.after.clone(),
        first: args.first,
        scan_bound: args.scan_bound,
    };
    let mut page = timeline::page(scope(ctx)?, request, |at| args.cursor(at)).await?;
    // No stream could make progress: the field fails, so a client paging until
    // `hasNextPage` is false stops instead of receiving this empty page forever.
    let fatal = page.stalled.then(|| page.failures.pop()).flatten();
    for e in page.failures {
        ctx.report(e);
    }
    if let Some(e) = fatal {
        return Err(e);
    }
    if page.cut {
        ctx.note_scan_cut();
    }
    Ok(TimelineConnection {
        edges: page.edges.into_iter().map(|(c, v)| Edge::new(c, Flat(v))).collect(),
        has_previous_page: page.has_previous,
        has_next_page: page.has_next,
        resume: page.has_next.then_some(page.resume),
        scan_cut: page.cut,
        catching_up: page.catching_up.into_iter().map(Provider::from).collect(),
        total: page.total,
    })
}

/// Filter of `callLogs`.
#[derive(InputObject, Default)]
pub struct CallLogFilter {
    /// Created after this instant (exclusive), applied by every provider.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_after: Option<crate::graphql::scalars::DateTime>,
    /// Created before this instant (exclusive), applied by every provider.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_before: Option<crate::graphql::scalars::DateTime>,
    /// Only these providers (default: every configured one).
    pub providers: Option<Vec<Provider>>,
    /// Only these normalized directions (applied in the gateway).
    pub directions: Option<Vec<CallDirection>>,
    /// Only these normalized statuses (OneUptime applies them itself; others in the gateway).
    pub statuses: Option<Vec<CallStatus>>,
    /// Calls whose `from` or `to` equals this number (applied in the gateway).
    pub number: Option<String>,
}

impl From<CallLogFilter> for timeline::Filter {
    fn from(f: CallLogFilter) -> Self {
        fn domain<G: Into<D>, D>(values: Option<Vec<G>>) -> Option<Vec<D>> {
            values.map(|v| v.into_iter().map(Into::into).collect())
        }
        timeline::Filter {
            created_after: f.created_after.map(|t| t.0),
            created_before: f.created_before.map(|t| t.0),
            providers: domain(f.providers),
            directions: domain(f.directions),
            statuses: domain(f.statuses),
            number: f.number,
        }
    }
}

connection_names!(TimelineNames, "CallLogConnection", "CallLogEdge");

type TimelineEdge = Edge<LazyCursor<Position<CallLogs>>, Flat<CallLog>, EmptyFields, TimelineNames>;

impl TimelineConnection {
    /// `totalCount`, for its resolver and for plans.
    async fn count(&self, env: &(impl Env + ?Sized)) -> Result<Option<i32>, GatewayError> {
        let total = match &self.total {
            Some(countable) => Some(countable.sum(scope(env)?).await?),
            None => None,
        };
        crate::graphql::values::opt_int32(total)
    }
}

impl TimelineConnection {
    /// The page's `(cursor, call log)` edges, and the cursor the next page starts from
    /// (None on the last page).
    pub(super) fn into_edges(self) -> (Vec<(String, CallLog)>, Option<String>) {
        let next = self
            .resume
            .as_ref()
            .or_else(|| self.edges.last().map(|e| &e.cursor))
            .map(CursorType::encode_cursor)
            .filter(|_| self.has_next_page);
        let edges = self
            .edges
            .into_iter()
            .map(|e| (e.cursor.encode_cursor(), e.node.0))
            .collect();
        (edges, next)
    }
}

impl crate::graphql::plan::PlanConnection for TimelineConnection {
    const CALL_LOGS: bool = true;
}

/// Plans draw `pageInfo`, `edges` and `nodes` of a timeline page as of any connection;
/// `endCursor` is the resume position, as `pageInfo` says.
impl crate::graphql::plan::RenderConnection for TimelineConnection {
    fn has_previous_page(&self) -> bool {
        self.has_previous_page
    }
    fn has_next_page(&self) -> bool {
        self.has_next_page
    }
    fn len(&self) -> usize {
        self.edges.len()
    }
    fn cursor(&self, i: usize) -> String {
        self.edges[i].cursor.encode_cursor()
    }
    fn end_cursor(&self) -> Option<String> {
        let last = self.edges.last().map(|e| &e.cursor);
        self.resume.as_ref().or(last).map(CursorType::encode_cursor)
    }
    fn node(&self, i: usize) -> Option<(&dyn crate::graphql::flat::SharedFields, std::borrow::Cow<'static, str>)> {
        use crate::graphql::flat::MaybeShared;
        let node = &self.edges[i].node.0;
        Some((node.shared()?, async_graphql::OutputType::introspection_type_name(node)))
    }
    fn total_count<'a>(
        &'a self,
        env: &'a crate::graphql::plan::FieldEnv<'a>,
    ) -> Option<crate::graphql::plan::CountFuture<'a>> {
        Some(Box::pin(self.count(env)))
    }
}

/// One page of the merged timeline.
pub(super) struct TimelineConnection {
    edges: Vec<TimelineEdge>,
    has_previous_page: bool,
    has_next_page: bool,
    /// Where the next page starts (kept only when there is a next page).
    resume: Option<LazyCursor<Position<CallLogs>>>,
    scan_cut: bool,
    catching_up: Vec<Provider>,
    total: Option<Countable<CallLogs>>,
}

#[Object(name = "CallLogConnection")]
impl TimelineConnection {
    /// Information to aid in pagination. On a page cut by the scan bound `endCursor` is
    /// where the scan stopped, even when `edges` is empty, so paging on continues the scan.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|e| e.cursor.encode_cursor()),
            end_cursor: self
                .resume
                .as_ref()
                .or_else(|| self.edges.last().map(|e| &e.cursor))
                .map(CursorType::encode_cursor),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> FlatEdges<'_, LazyCursor<Position<CallLogs>>, CallLog, TimelineNames> {
        FlatEdges(&self.edges)
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&CallLog> {
        self.edges.iter().map(|e| &e.node.0).collect()
    }

    /// True when a filter applied in the gateway hit its scan bound on this page: the page
    /// may hold fewer than `first` items (even none) although more follow (`hasNextPage`
    /// is true, and `endCursor` resumes the scan).
    async fn scan_cut(&self) -> bool {
        self.scan_cut
    }

    /// Providers that failed on an earlier page and were resumed from where they stopped:
    /// their items on this page are newer than the previous page's last item (they were
    /// missing then), so this page does not continue the previous one's order for them.
    /// Empty on every page without such late items; nothing is skipped or repeated.
    async fn catching_up(&self) -> &[Provider] {
        &self.catching_up
    }

    /// The number of call logs matching the filter across the included providers, when
    /// every one of them can count cheaply: OneUptime (one `/count` call) and Voximplant
    /// (one counted GetCallHistory in the session window). Null when SignalWire is
    /// included (it cannot count) or when `directions` or `number` (or, with Voximplant,
    /// `statuses`) are applied in the gateway, since provider counts would then be wrong.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        Ok(self.count(ctx).await?)
    }
}
