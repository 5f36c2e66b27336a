//! Keyset paging over OneUptime's `skip`/`limit`: each upstream page is anchored at the
//! millisecond of the last emitted row (`createdAt < t + 1 ms`), sorted `createdAt DESC,
//! _id DESC`, so rows inserted at the top never shift a page.
//!
//! OneUptime stores `createdAt` in microseconds and prints milliseconds
//! (OneUptime/oneuptime `Common/Utils/JSONFunctions.ts`, `toISOString()`), so within one
//! printed millisecond its order is by the microseconds the gateway never sees. A position
//! therefore remembers every id it emitted in its millisecond, and a page anchored there
//! skips exactly those; `skip` only grows past a page made entirely of rows already seen.
//! A cursor also remembers the upstream page its edge came from, so resuming mid-page
//! re-reads that page from the cache instead of asking for a new one.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::CallLog;
use crate::cache::Weigh;
use crate::domain::Provider;
use crate::upstream::UpstreamError;

/// The last edge a cursor points at, and the upstream page it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "t")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "k")]
    pub id: String,
    /// The other ids emitted with the same printed `createdAt`, before this one.
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    pub same_millisecond: Vec<String>,
    /// The upstream page holding this edge, so resuming re-reads it from the cache.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageRef>,
}

/// Which upstream page: rows up to the printed millisecond `anchor` (none: the first
/// page), `skip` rows in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRef {
    #[serde(rename = "a")]
    pub anchor: Option<DateTime<Utc>>,
    #[serde(rename = "s")]
    pub skip: u64,
}

impl Position {
    /// The position just after `log`, which follows `previous` (if any).
    fn of(log: &CallLog, page: PageRef, previous: Option<&Position>) -> Self {
        let same_millisecond = match previous {
            Some(p) if p.created_at == log.core.created_at => {
                let mut ids = p.same_millisecond.clone();
                ids.push(p.id.clone());
                ids
            }
            _ => Vec::new(),
        };
        Position {
            created_at: log.core.created_at,
            id: log.core.native_id.clone(),
            same_millisecond,
            page: Some(page),
        }
    }

    /// Whether `log` was emitted at or before this position: it is newer, or of the same
    /// printed millisecond and one of the ids emitted there.
    fn covers(&self, log: &CallLog) -> bool {
        match log.core.created_at.cmp(&self.created_at) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                let id = log.core.native_id.as_str();
                id == self.id || self.same_millisecond.iter().any(|s| s == id)
            }
        }
    }

    /// The page to resume from: the one this edge came from (cached), or, for cursors
    /// that do not say, the page anchored at this edge.
    fn resume_page(&self) -> PageRef {
        self.page.unwrap_or(PageRef {
            anchor: Some(self.created_at),
            skip: 0,
        })
    }
}

/// One upstream page as cached.
#[derive(Debug, Serialize, Deserialize)]
pub struct Page {
    pub items: Vec<Arc<CallLog>>,
    /// Whether OneUptime returned a full page (more may follow).
    pub full: bool,
    /// Records OneUptime sent, readable or not (what `skip` advances by).
    pub raw_len: usize,
    /// Records that could not be read, each with the index in `items` it would have had.
    pub unreadable: Vec<(usize, String)>,
}

impl Weigh for Page {
    fn weight(&self) -> usize {
        self.items.iter().map(|i| i.weight() + 8).sum::<usize>()
            + self.unreadable.iter().map(|(_, id)| id.len() + 32).sum::<usize>()
            + 48
    }
}

/// A connection page of call logs.
pub type Window = crate::providers::Window<Position, CallLog>;

/// Collects `first` logs after `after`, reading one more to know `has_next`.
/// `fetch(anchor, skip)` returns the upstream page of rows up to and including the
/// printed millisecond `anchor`.
pub async fn window<F, Fut>(after: Option<Position>, first: usize, mut fetch: F) -> Result<Window, UpstreamError>
where
    F: FnMut(Option<DateTime<Utc>>, u64) -> Fut,
    Fut: Future<Output = Result<Arc<Page>, UpstreamError>>,
{
    // Rows at or before `seen` were emitted already; `page` is the next upstream page.
    let mut page_ref = after
        .as_ref()
        .map_or(PageRef { anchor: None, skip: 0 }, Position::resume_page);
    // Whether `page_ref` is anchored at `seen` itself (keyset), not at an earlier edge.
    let mut keyset = after.as_ref().is_none_or(|p| p.page.is_none());
    let mut seen = after;
    let mut edges: Vec<(Position, Arc<CallLog>)> = Vec::with_capacity(first + 1);
    let mut error = None;
    for _ in 0..MAX_PAGES_PER_WINDOW {
        let page = fetch(page_ref.anchor, page_ref.skip).await?;
        // An unreadable record is reported by the window that moves past its place.
        let passed = |at: usize, error: &mut Option<UpstreamError>| {
            if let Some((_, id)) = page.unreadable.iter().find(|(i, _)| *i == at) {
                error.get_or_insert_with(|| UpstreamError::bad_record(Provider::OneUptime, id));
            }
        };
        let mut emitted = false;
        for (i, log) in page.items.iter().enumerate() {
            if seen.as_ref().is_some_and(|a| a.covers(log)) {
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
            let position = Position::of(log, page_ref, edges.last().map(|(p, _)| p).or(seen.as_ref()));
            edges.push((position, log.clone()));
            emitted = true;
        }
        passed(page.items.len(), &mut error);
        if !page.full {
            return Ok(Window {
                edges,
                has_next: false,
                error,
            });
        }
        if emitted || !keyset {
            // Anchor at the last row seen (a resumed page fully seen moves here too, as
            // skipping past it could skip rows deleted meanwhile).
            seen = edges.last().map(|(p, _)| p.clone()).or(seen);
            page_ref = PageRef {
                anchor: seen.as_ref().map(|p| p.created_at),
                skip: 0,
            };
            keyset = true;
        } else {
            page_ref.skip += page.raw_len as u64;
        }
    }
    Err(UpstreamError::bad_response(
        Provider::OneUptime,
        format!("more than {MAX_PAGES_PER_WINDOW} upstream pages for one window"),
    ))
}

/// Most upstream pages one window may read: an upstream that ignores `skip` or the
/// keyset bound must fail the query, not loop forever.
const MAX_PAGES_PER_WINDOW: usize = 1_000;
