//! Keyset paging over OneUptime's `skip`/`limit`: each upstream page is anchored at the
//! last emitted (createdAt, _id) with `createdAt <= t`, sorted `createdAt DESC, _id DESC`,
//! so rows inserted at the top never shift a page. Rows tied with the anchor form a prefix
//! of the page and are skipped; `skip` only grows past a page made entirely of such ties.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::CallLog;
use crate::cache::Weigh;
use crate::domain::Provider;
use crate::upstream::UpstreamError;

/// The last edge a cursor points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "t")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "k")]
    pub id: String,
}

impl Position {
    fn of(log: &CallLog) -> Self {
        Position {
            created_at: log.core.created_at,
            id: log.core.native_id.clone(),
        }
    }

    /// Whether `log` comes at or before this position in newest-first order.
    fn covers(&self, log: &CallLog) -> bool {
        (log.core.created_at, log.core.native_id.as_str()) >= (self.created_at, self.id.as_str())
    }
}

/// One upstream page as cached.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Arc<CallLog>>,
    /// Whether OneUptime returned a full page (more may follow).
    pub full: bool,
}

impl Weigh for Page {
    fn weight(&self) -> usize {
        self.items.iter().map(|i| i.weight() + 8).sum::<usize>() + 32
    }
}

/// A connection page.
#[derive(Debug)]
pub struct Window {
    pub edges: Vec<(Position, Arc<CallLog>)>,
    pub has_next: bool,
}

/// Collects `first` logs after `after`, reading one more to know `has_next`.
/// `fetch(anchor, skip)` returns the upstream page with `createdAt <= anchor`.
pub async fn window<F, Fut>(after: Option<Position>, first: usize, mut fetch: F) -> Result<Window, UpstreamError>
where
    F: FnMut(Option<DateTime<Utc>>, u64) -> Fut,
    Fut: Future<Output = Result<Arc<Page>, UpstreamError>>,
{
    let mut anchor = after;
    let mut skip = 0u64;
    let mut edges: Vec<(Position, Arc<CallLog>)> = Vec::with_capacity(first + 1);
    for _ in 0..MAX_PAGES_PER_WINDOW {
        let page = fetch(anchor.as_ref().map(|a| a.created_at), skip).await?;
        let mut emitted = false;
        for log in &page.items {
            if anchor.as_ref().is_some_and(|a| a.covers(log)) {
                continue;
            }
            if edges.len() == first {
                return Ok(Window { edges, has_next: true });
            }
            edges.push((Position::of(log), log.clone()));
            emitted = true;
        }
        if !page.full {
            return Ok(Window { edges, has_next: false });
        }
        if emitted {
            anchor = edges.last().map(|(p, _)| p.clone());
            skip = 0;
        } else {
            skip += page.items.len() as u64;
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
