//! Paging GetCallHistory: `count`/`offset` inside a fixed `from_date`/`to_date` window
//! (fixed at the first page and carried in the cursor, so sessions that start later never
//! shift offsets). Offsets stop at 10,000 upstream; past that the window's upper bound
//! moves to the last seen `start_date` and the sessions already seen at that second are
//! skipped by id. A cursor remembers the offset of the upstream page its edge came from,
//! so resuming mid-page re-reads that page from the cache.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cache::Weigh;
use crate::domain::Provider;
use crate::upstream::UpstreamError;

/// Voximplant's largest accepted `offset`.
pub const MAX_OFFSET: u32 = 10_000;

/// Where an edge sits: its window, its offset in it, and the ids seen at its second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "f")]
    pub from: DateTime<Utc>,
    #[serde(rename = "t")]
    pub to: DateTime<Utc>,
    #[serde(rename = "o")]
    pub offset: u32,
    #[serde(rename = "s")]
    pub start: DateTime<Utc>,
    /// Ids already emitted whose start is `start` (normally one or two).
    #[serde(rename = "k")]
    pub seen_at_start: Vec<u64>,
    /// Offset of the upstream page holding this edge, so resuming re-reads that page
    /// from the cache instead of asking for one starting right after the edge.
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub page_offset: Option<u32>,
}

/// A record listed by date window: its numeric id and its timestamp (the sort key).
pub trait Dated {
    fn id(&self) -> u64;
    fn at(&self) -> DateTime<Utc>;
}

/// One upstream page.
#[derive(Debug, Serialize, Deserialize)]
pub struct Page<T> {
    /// The readable records, each with its index among the rows Voximplant sent (what
    /// offsets count).
    pub items: Vec<(u32, Arc<T>)>,
    pub full: bool,
    /// Rows Voximplant sent, readable or not.
    pub raw_len: u32,
    /// Rows that could not be read: their index among the rows sent, and their id.
    pub unreadable: Vec<(u32, String)>,
}

impl<T: Weigh> Weigh for Page<T> {
    fn weight(&self) -> usize {
        self.items.iter().map(|(_, i)| i.weight() + 12).sum::<usize>()
            + self.unreadable.iter().map(|(_, id)| id.len() + 32).sum::<usize>()
            + 48
    }
}

/// A connection page; an unreadable row it passed is skipped and reported beside it.
pub type Window<T> = crate::providers::Window<Position, T>;

const MAX_PAGES_PER_WINDOW: usize = 1_000;

/// Collects `first` records after `after` (or from the window `from..=to`), reading one
/// more to know `has_next`. `fetch(from, to, offset)` returns one upstream page.
pub async fn window<T: Dated, F, Fut>(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Option<Position>,
    first: usize,
    mut fetch: F,
) -> Result<Window<T>, UpstreamError>
where
    F: FnMut(DateTime<Utc>, DateTime<Utc>, u32) -> Fut,
    Fut: Future<Output = Result<Arc<Page<T>>, UpstreamError>>,
{
    let (from, mut to, mut offset, mut seen) = match &after {
        Some(p) => (
            p.from,
            p.to,
            p.page_offset.unwrap_or(p.offset + 1),
            Some((p.start, p.seen_at_start.clone())),
        ),
        None => (from, to, 0, None),
    };
    // Offsets below this were emitted already (the resumed page's head).
    let mut next_offset = after.map_or(0, |p| p.offset + 1);
    // Sessions to skip right after a window move: those already emitted at the new bound.
    let mut skip: Option<(DateTime<Utc>, Vec<u64>)> = None;
    let mut edges = Vec::with_capacity(first + 1);
    let mut error = None;
    for _ in 0..MAX_PAGES_PER_WINDOW {
        if offset > MAX_OFFSET {
            let Some((start, ids)) = seen.clone() else {
                return Err(bad("offset cap reached without a session to move the window to"));
            };
            if start == to && skip.is_some() {
                return Err(bad("more than 10,000 sessions share one second"));
            }
            to = start;
            offset = 0;
            next_offset = 0;
            skip = Some((start, ids));
        }
        let page = fetch(from, to, offset).await?;
        // An unreadable row is reported by the window that moves past it.
        let passed = |below: u32, error: &mut Option<UpstreamError>| {
            let unreported = |i: &u32| offset + *i >= next_offset && *i < below;
            if let Some((_, id)) = page.unreadable.iter().find(|(i, _)| unreported(i)) {
                error.get_or_insert_with(|| UpstreamError::bad_record(Provider::Voximplant, id));
            }
        };
        for &(i, ref record) in &page.items {
            let (id, start) = (record.id(), record.at());
            if offset + i < next_offset {
                continue;
            }
            if skip.as_ref().is_some_and(|(at, ids)| *at == start && ids.contains(&id)) {
                continue;
            }
            if edges.len() == first {
                return Ok(Window {
                    edges,
                    has_next: true,
                    error,
                });
            }
            passed(i, &mut error);
            seen = Some(match seen.take() {
                Some((at, mut ids)) if at == start => {
                    ids.push(id);
                    (at, ids)
                }
                _ => (start, vec![id]),
            });
            let seen_at_start = seen.as_ref().map(|(_, ids)| ids.clone()).unwrap_or_default();
            let position = Position {
                from,
                to,
                offset: offset + i,
                start,
                seen_at_start,
                page_offset: Some(offset),
            };
            edges.push((position, record.clone()));
        }
        passed(page.raw_len, &mut error);
        if !page.full {
            return Ok(Window {
                edges,
                has_next: false,
                error,
            });
        }
        offset += page.raw_len;
    }
    Err(bad("more than 1,000 upstream pages for one window"))
}

fn bad(detail: &str) -> UpstreamError {
    UpstreamError::bad_response(Provider::Voximplant, detail)
}
