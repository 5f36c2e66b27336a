//! `callLogs`: the merged, newest-first timeline over every configured provider.
//!
//! Each provider collection is a stream read from its own cursor machinery (and so its
//! cache); parts of the filter a provider cannot apply are applied here with a bounded
//! scan. The cursor carries every stream's position. A failing provider does not fail the
//! query: its items are absent, `errors` names it, and the next page resumes it from where
//! it stopped (its items newer than the page already shown then arrive on that later
//! page, so there is no gap and no duplicate, but that page is not in order across the
//! recovery).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, InputObject, Object};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::join_all;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::call_log::CallLog;
use super::connection::{PageArgs, connection_names};
use super::error::GatewayError;
use super::scope::{RequestScope, scope};
use super::values::{CallDirection, CallStatus, Provider};
use super::{oneuptime, signalwire, voximplant};
use crate::domain::{self, CallLogCore};
use crate::providers::{oneuptime as ou, signalwire as sw, voximplant as vx};
use crate::timeline::{StreamBatch, StreamItem, merge};

/// Items one stream may scan per page for filters applied in the gateway.
const SCAN_BOUND: usize = 1_000;
/// Rounds a page may take when bounded scans keep finding nothing.
const MAX_ROUNDS: usize = 20;

/// The streams of the timeline, in a fixed order (also the cursor's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Stream {
    SignalWireVoice,
    SignalWireVideo,
    OneUptime,
    Voximplant,
}

impl Stream {
    const ALL: [Stream; 4] = [
        Stream::SignalWireVoice,
        Stream::SignalWireVideo,
        Stream::OneUptime,
        Stream::Voximplant,
    ];

    fn provider(self) -> domain::Provider {
        match self {
            Stream::SignalWireVoice | Stream::SignalWireVideo => domain::Provider::SignalWire,
            Stream::OneUptime => domain::Provider::OneUptime,
            Stream::Voximplant => domain::Provider::Voximplant,
        }
    }

    fn configured(self, scope: &RequestScope) -> bool {
        match self.provider() {
            domain::Provider::SignalWire => scope.signalwire().is_ok(),
            domain::Provider::OneUptime => scope.oneuptime().is_ok(),
            domain::Provider::Voximplant => scope.voximplant().is_ok(),
        }
    }
}

/// One stream's state in the composite cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StreamState {
    #[serde(rename = "s")]
    stream: Stream,
    /// The provider cursor's position (its own serialized form).
    #[serde(rename = "p")]
    position: Option<Value>,
    /// The stream has nothing more.
    #[serde(rename = "d")]
    done: bool,
}

/// Filter of `callLogs`.
#[derive(InputObject, Default)]
pub struct CallLogFilter {
    /// Created after this instant (exclusive), applied by every provider.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this instant (exclusive), applied by every provider.
    pub created_before: Option<DateTime<Utc>>,
    /// Only these providers (default: every configured one).
    pub providers: Option<Vec<Provider>>,
    /// Only these normalized directions (applied in the gateway).
    pub directions: Option<Vec<CallDirection>>,
    /// Only these normalized statuses (OneUptime applies them itself; others in the gateway).
    pub statuses: Option<Vec<CallStatus>>,
    /// Calls whose `from` or `to` equals this number (applied in the gateway).
    pub number: Option<String>,
}

/// What the gateway checks itself.
#[derive(Debug, Clone, Default)]
struct PostFilter {
    directions: Option<Vec<CallDirection>>,
    statuses: Option<Vec<CallStatus>>,
    number: Option<String>,
}

impl PostFilter {
    fn is_empty(&self) -> bool {
        self.directions.is_none() && self.statuses.is_none() && self.number.is_none()
    }

    fn matches(&self, core: &CallLogCore) -> bool {
        self.directions
            .as_ref()
            .is_none_or(|d| d.contains(&core.direction.into()))
            && self.statuses.as_ref().is_none_or(|s| s.contains(&core.status.into()))
            && self
                .number
                .as_ref()
                .is_none_or(|n| core.from.as_deref() == Some(n.as_str()) || core.to.as_deref() == Some(n.as_str()))
    }
}

struct Plan {
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    post: PostFilter,
    /// OneUptime's raw statuses for the normalized ones asked (None = no status filter).
    oneuptime_statuses: Option<Vec<String>>,
}

impl CallLogFilter {
    fn canonical(&self) -> String {
        let stamp = |t: &Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            stamp(&self.created_after),
            stamp(&self.created_before),
            self.providers,
            self.directions,
            self.statuses,
            self.number
        )
    }
}

fn oneuptime_statuses(statuses: &[CallStatus]) -> Vec<String> {
    let mut raw = Vec::new();
    for s in statuses {
        match s {
            CallStatus::Completed => raw.push("Success"),
            CallStatus::Failed => raw.extend(["Error", "Low Balance"]),
            CallStatus::NoAnswer => raw.push("Missed Call"),
            CallStatus::Busy => raw.push("Busy"),
            _ => {}
        }
    }
    raw.into_iter().map(str::to_string).collect()
}

fn decode<P: DeserializeOwned>(position: &Option<Value>) -> Result<Option<P>, GatewayError> {
    position
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| GatewayError::bad_input("invalid cursor: a provider position does not decode"))
}

fn encode<P: Serialize>(position: &P) -> Value {
    serde_json::to_value(position).unwrap_or(Value::Null)
}

type Batch = StreamBatch<CallLog, Value>;

/// One provider window, rendered: (position, core, view) per item, and whether more follow.
type Rendered = (Vec<(Value, CallLogCore, CallLog)>, bool);

async fn window(
    scope: &RequestScope,
    stream: Stream,
    plan: &Plan,
    position: &Option<Value>,
    n: usize,
) -> Result<Rendered, GatewayError> {
    Ok(match stream {
        Stream::SignalWireVoice | Stream::SignalWireVideo => {
            let filter = sw::ListFilter {
                created_after: plan.created_after,
                created_before: plan.created_before,
                include_deleted: false,
            };
            let service = &scope.signalwire()?.service;
            let after = decode::<sw::paging::Position>(position)?;
            if stream == Stream::SignalWireVoice {
                let w = service.voice_logs(&filter, after, n).await?;
                let items = w
                    .edges
                    .into_iter()
                    .map(|(p, l)| (encode(&p), l.core().clone(), signalwire::voice_log(l)))
                    .collect();
                (items, w.has_next)
            } else {
                let w = service.video_logs(&filter, after, n).await?;
                let items = w
                    .edges
                    .into_iter()
                    .map(|(p, l)| (encode(&p), l.core().clone(), signalwire::video_log(l)))
                    .collect();
                (items, w.has_next)
            }
        }
        Stream::OneUptime => {
            let filter = ou::ListFilter {
                created_after: plan.created_after,
                created_before: plan.created_before,
                statuses: plan.oneuptime_statuses.clone().unwrap_or_default(),
                ..ou::ListFilter::default()
            };
            let w = scope
                .oneuptime()?
                .service
                .call_logs(&filter, decode(position)?, n)
                .await?;
            let items = w
                .edges
                .into_iter()
                .map(|(p, l)| (encode(&p), l.core.clone(), oneuptime::call_log(l)))
                .collect();
            (items, w.has_next)
        }
        Stream::Voximplant => {
            let filter = vx::SessionFilter {
                created_after: plan.created_after,
                created_before: plan.created_before,
                ..vx::SessionFilter::default()
            };
            let w = scope
                .voximplant()?
                .service
                .sessions(&filter, decode(position)?, n)
                .await?;
            let items = w
                .edges
                .into_iter()
                .map(|(p, s)| (encode(&p), s.core.clone(), voximplant::call_session(s)))
                .collect();
            (items, w.has_next)
        }
    })
}

/// Reads up to `n` matching items of one stream from `position`, scanning at most
/// `SCAN_BOUND` items when the gateway filters.
async fn read(
    scope: &RequestScope,
    stream: Stream,
    plan: &Plan,
    mut position: Option<Value>,
    n: usize,
) -> Result<Batch, GatewayError> {
    if plan.oneuptime_statuses.as_ref().is_some_and(Vec::is_empty) && stream == Stream::OneUptime {
        return Ok(StreamBatch {
            items: Vec::new(),
            has_more: false,
            frontier: None,
            scanned_to: None,
        });
    }
    let mut items = Vec::new();
    let mut scanned = 0;
    loop {
        let (window, has_more) = window(scope, stream, plan, &position, n).await?;
        let mut oldest = None;
        for (p, core, view) in window {
            scanned += 1;
            position = Some(p.clone());
            oldest = Some(core.created_at);
            if plan.post.matches(&core) {
                let key = format!("{}:{}", core.provider.as_str(), core.native_id);
                items.push(StreamItem {
                    created_at: core.created_at,
                    key,
                    position: p,
                    item: view,
                });
            }
        }
        if items.len() >= n || !has_more {
            return Ok(StreamBatch {
                items,
                has_more,
                frontier: None,
                scanned_to: None,
            });
        }
        if plan.post.is_empty() || scanned >= SCAN_BOUND {
            return Ok(StreamBatch {
                items,
                has_more,
                frontier: oldest.filter(|_| !plan.post.is_empty()),
                scanned_to: position,
            });
        }
    }
}

/// Whether the timeline's scan was cut; also reported as the `timelineScanCut` extension.
pub struct TimelineInfo {
    scan_cut: bool,
}

#[Object]
impl TimelineInfo {
    /// True when a filter applied in the gateway hit its scan bound on this page: the page
    /// may hold fewer than `first` items although more follow (`hasNextPage` is true).
    async fn scan_cut(&self) -> bool {
        self.scan_cut
    }
    /// Always null: SignalWire cannot count cheaply, and filters applied in the gateway
    /// make provider counts inexact, so the timeline does not pretend to know.
    async fn total_count(&self) -> Option<i64> {
        None
    }
}

connection_names!(TimelineNames, "CallLogConnection", "CallLogEdge");

pub type TimelineConnection = Connection<String, CallLog, TimelineInfo, EmptyFields, TimelineNames, TimelineNames>;

/// The timeline's root field (merged into `Query`).
#[derive(Default)]
pub struct TimelineQuery;

#[Object]
impl TimelineQuery {
    /// Every configured provider's call logs as one newest-first connection: SignalWire
    /// voice and video logs (deleted ones excluded), OneUptime call logs and Voximplant
    /// sessions (within Voximplant's look-back window unless `createdAfter` is given).
    /// A provider that fails is reported in `errors` (with `provider`) and resumed on the
    /// next page; the others still answer.
    async fn call_logs(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        #[graphql(desc = "Page size, 1 to the configured maximum (default 100); 20 when omitted.")] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<TimelineConnection> {
        Ok(timeline(ctx, filter.unwrap_or_default(), first, after).await?)
    }
}

async fn timeline(
    ctx: &Context<'_>,
    filter: CallLogFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<TimelineConnection, GatewayError> {
    let scope = scope(ctx)?;
    let args = PageArgs::<Vec<StreamState>>::parse(ctx, "callLogs", filter.canonical(), first, after.as_deref())?;
    let wanted: Vec<Stream> = match &filter.providers {
        Some(providers) => {
            let wanted: Vec<Stream> = Stream::ALL
                .into_iter()
                .filter(|s| providers.contains(&s.provider().into()))
                .collect();
            if let Some(missing) = wanted.iter().find(|s| !s.configured(scope)) {
                return Err(GatewayError::not_configured(missing.provider()));
            }
            wanted
        }
        None => Stream::ALL.into_iter().filter(|s| s.configured(scope)).collect(),
    };
    let mut states: Vec<StreamState> = match &args.after {
        Some(states) => states.clone(),
        None => wanted
            .iter()
            .map(|&stream| StreamState {
                stream,
                position: None,
                done: false,
            })
            .collect(),
    };
    let plan = Plan {
        created_after: filter.created_after,
        created_before: filter.created_before,
        oneuptime_statuses: filter.statuses.as_deref().map(oneuptime_statuses),
        post: PostFilter {
            directions: filter.directions,
            statuses: filter.statuses,
            number: filter.number,
        },
    };
    let mut cursors: Vec<String> = Vec::new();
    let mut views: Vec<CallLog> = Vec::new();
    let mut has_next = false;
    let mut cut = false;
    for _ in 0..MAX_ROUNDS {
        let need = args.first - views.len();
        let live: Vec<usize> = (0..states.len()).filter(|&i| !states[i].done).collect();
        let reads = join_all(
            live.iter()
                .map(|&i| read(scope, states[i].stream, &plan, states[i].position.clone(), need)),
        )
        .await;
        let mut batches = Vec::new();
        for (&i, result) in live.iter().zip(reads) {
            batches.push(result.unwrap_or_else(|e| {
                ctx.add_error(async_graphql::Error::from(e).into_server_error(ctx.item.pos));
                tracing::warn!(stream = ?states[i].stream, "timeline stream failed; it resumes on the next page");
                StreamBatch {
                    items: Vec::new(),
                    has_more: true,
                    frontier: None,
                    scanned_to: None,
                }
            }));
        }
        let exhausted: Vec<bool> = batches.iter().map(|b| !b.has_more && b.frontier.is_none()).collect();
        let merged = merge(batches, need);
        let emitted = merged.items.len();
        for (slot, view, position) in merged.items {
            states[live[slot]].position = Some(position);
            cursors.push(args.cursor(&states));
            views.push(view);
        }
        for (slot, position) in merged.positions.into_iter().enumerate() {
            if let Some(p) = position {
                states[live[slot]].position = Some(p);
            }
            // A stream whose batch ended upstream and was fully used is done.
            states[live[slot]].done |= exhausted[slot] && !merged.remaining[slot];
        }
        has_next = merged.has_next;
        cut = merged.cut;
        if emitted > 0 || !cut || !has_next || views.len() >= args.first {
            break;
        }
    }
    // The last edge's cursor includes what cut streams scanned past.
    if let Some(last) = cursors.last_mut() {
        *last = args.cursor(&states);
    }
    if let Some(notes) = ctx.data_opt::<Arc<super::ResponseNotes>>().filter(|_| cut) {
        notes.scan_cut.store(true, Ordering::Relaxed);
    }
    let mut connection =
        Connection::with_additional_fields(args.after.is_some(), has_next, TimelineInfo { scan_cut: cut });
    connection.edges = cursors.into_iter().zip(views).map(|(c, v)| Edge::new(c, v)).collect();
    Ok(connection)
}
