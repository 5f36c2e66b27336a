//! The timeline's streams: one per provider collection, each read through that
//! provider's own cursor machinery (and so its cache), with the gateway-side filter
//! applied under a bounded scan.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filter::{Plan, PostFilter};
use crate::domain::{self, CallLogCore};
use crate::graphql::call_log::CallLog;
use crate::graphql::error::GatewayError;
use crate::graphql::oneuptime::{self, OneUptimeScope};
use crate::graphql::scope::RequestScope;
use crate::graphql::signalwire::{self, SignalWireScope};
use crate::graphql::voximplant::{self, VoximplantScope};
use crate::providers::signalwire as sw;
use crate::timeline::{StreamBatch, StreamItem};

/// The streams of the timeline, in a fixed order (also the cursor's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Stream {
    SignalWireVoice,
    SignalWireVideo,
    OneUptime,
    Voximplant,
}

impl Stream {
    pub(super) const ALL: [Stream; 4] = [
        Stream::SignalWireVoice,
        Stream::SignalWireVideo,
        Stream::OneUptime,
        Stream::Voximplant,
    ];

    pub(super) fn provider(self) -> domain::Provider {
        match self {
            Stream::SignalWireVoice | Stream::SignalWireVideo => domain::Provider::SignalWire,
            Stream::OneUptime => domain::Provider::OneUptime,
            Stream::Voximplant => domain::Provider::Voximplant,
        }
    }

    pub(super) fn configured(self, scope: &RequestScope) -> bool {
        match self.provider() {
            domain::Provider::SignalWire => scope.has::<SignalWireScope>(),
            domain::Provider::OneUptime => scope.has::<OneUptimeScope>(),
            domain::Provider::Voximplant => scope.has::<VoximplantScope>(),
        }
    }
}

pub(super) fn decode<P: DeserializeOwned>(position: &Option<Value>) -> Result<Option<P>, GatewayError> {
    position
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| GatewayError::bad_input("invalid cursor: a provider position does not decode"))
}

fn encode<P: Serialize>(position: &P) -> Value {
    serde_json::to_value(position).unwrap_or(Value::Null)
}

pub(super) type Batch = StreamBatch<CallLog, Value>;

/// One scanned item: its stream position, its creation time, and its merge key and view
/// when it passes the gateway-side filter.
struct Scanned {
    position: Value,
    created_at: DateTime<Utc>,
    matched: Option<(String, CallLog)>,
}

/// One provider window, scanned, and whether more follow.
type Rendered = (Vec<Scanned>, bool);

/// Scans one provider window's `(position, log)` edges against the gateway-side filter;
/// only items that pass are rendered (and nothing of a log is copied to check it).
fn render<P: Serialize, L>(
    edges: Vec<(P, L)>,
    has_next: bool,
    post: &PostFilter,
    core: impl Fn(&L) -> &CallLogCore,
    view: impl Fn(L) -> CallLog,
) -> Rendered {
    let items = edges
        .into_iter()
        .map(|(p, l)| {
            let c = core(&l);
            let created_at = c.created_at;
            let key = post
                .matches(c)
                .then(|| format!("{}:{}", c.provider.as_str(), c.native_id));
            Scanned {
                position: encode(&p),
                created_at,
                matched: key.map(|k| (k, view(l))),
            }
        })
        .collect();
    (items, has_next)
}

async fn window(
    scope: &RequestScope,
    stream: Stream,
    plan: &Plan,
    position: &Option<Value>,
    n: usize,
) -> Result<Rendered, GatewayError> {
    Ok(match stream {
        Stream::SignalWireVoice | Stream::SignalWireVideo => {
            let filter = plan.signalwire();
            let service = &scope.get::<SignalWireScope>()?.service;
            let after = decode::<sw::paging::Position>(position)?;
            if stream == Stream::SignalWireVoice {
                let w = service.voice_logs(&filter, after, n).await?;
                render(w.edges, w.has_next, &plan.post, |l| l.core(), signalwire::voice_log)
            } else {
                let w = service.video_logs(&filter, after, n).await?;
                render(w.edges, w.has_next, &plan.post, |l| l.core(), signalwire::video_log)
            }
        }
        Stream::OneUptime => {
            let filter = plan.oneuptime();
            let w = scope
                .get::<OneUptimeScope>()?
                .service
                .call_logs(&filter, decode(position)?, n)
                .await?;
            render(w.edges, w.has_next, &plan.post, |l| &l.core, oneuptime::call_log)
        }
        Stream::Voximplant => {
            let filter = plan.voximplant();
            let w = scope
                .get::<VoximplantScope>()?
                .service
                .sessions(&filter, decode(position)?, n)
                .await?;
            render(w.edges, w.has_next, &plan.post, |s| &s.core, voximplant::call_session)
        }
    })
}

/// Reads up to `n` matching items of one stream from `position`, scanning at most
/// `plan.scan_bound` items when the gateway filters.
pub(super) async fn read(
    scope: &RequestScope,
    stream: Stream,
    plan: &Plan,
    mut position: Option<Value>,
    n: usize,
) -> Result<Batch, GatewayError> {
    if plan.oneuptime_empty() && stream == Stream::OneUptime {
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
        // A filtered scan never reads past its per-page budget.
        let take = if plan.post.is_empty() {
            n
        } else {
            n.min(plan.scan_bound - scanned)
        };
        let (window, has_more) = window(scope, stream, plan, &position, take).await?;
        let mut oldest = None;
        let last = window.len();
        for (i, seen) in window.into_iter().enumerate() {
            scanned += 1;
            oldest = Some(seen.created_at);
            // Where the scan stands: only the window's last position is kept.
            if i + 1 == last {
                position = Some(seen.position.clone());
            }
            if let Some((key, view)) = seen.matched {
                items.push(StreamItem {
                    created_at: seen.created_at,
                    key,
                    position: seen.position,
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
        if plan.post.is_empty() || scanned >= plan.scan_bound {
            return Ok(StreamBatch {
                items,
                has_more,
                frontier: oldest.filter(|_| !plan.post.is_empty()),
                scanned_to: position,
            });
        }
    }
}
