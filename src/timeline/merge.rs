//! K-way merge of provider streams, newest first.
//!
//! Each stream hands over a batch read ahead from its own cursor: items in its own order
//! (newest first), the position after each item, whether more follow, and, when a filtered
//! scan stopped early, its frontier (the oldest instant it has looked at). The merge never
//! emits an item older than a frontier, because the stream may still hold unseen items
//! newer than it; such a page is shorter and says it was cut.

use chrono::{DateTime, Utc};

/// One item of a stream, with the stream position just after it.
#[derive(Debug, Clone)]
pub struct StreamItem<T, P> {
    pub created_at: DateTime<Utc>,
    /// Tie-break among streams for equal `created_at` (the global id).
    pub key: String,
    pub position: P,
    pub item: T,
}

/// What one stream read ahead.
#[derive(Debug, Clone)]
pub struct StreamBatch<T, P> {
    pub items: Vec<StreamItem<T, P>>,
    /// More items follow the batch upstream.
    pub has_more: bool,
    /// Set when a filtered scan stopped before finding enough items: items older than
    /// this may still be hidden in the stream.
    pub frontier: Option<DateTime<Utc>>,
    /// The position after the last scanned item when the scan was cut (so the next page
    /// does not rescan filtered-out items).
    pub scanned_to: Option<P>,
}

/// A merged page: the items (with their stream and that stream's position after them),
/// each stream's final position (None = unchanged), and flags.
#[derive(Debug)]
pub struct Merged<T, P> {
    /// The emitted items, each with its stream's index.
    pub items: Vec<(usize, StreamItem<T, P>)>,
    /// For each stream: the position to resume from, if it moved.
    pub positions: Vec<Option<P>>,
    pub has_next: bool,
    /// For each stream: its batch still holds items the page did not use.
    pub remaining: Vec<bool>,
    /// The page was cut short by a bounded scan.
    pub cut: bool,
}

/// Merges up to `first` items from `batches` (newest first; ties by key, descending).
pub fn merge<T, P: Clone>(batches: Vec<StreamBatch<T, P>>, first: usize) -> Merged<T, P> {
    let frontier = batches.iter().filter_map(|b| b.frontier).max();
    let mut heads: Vec<std::iter::Peekable<std::vec::IntoIter<StreamItem<T, P>>>> = Vec::new();
    let mut more = Vec::new();
    let mut scanned = Vec::new();
    for b in batches {
        more.push(b.has_more || b.frontier.is_some());
        scanned.push(b.scanned_to);
        heads.push(b.items.into_iter().peekable());
    }
    let mut positions: Vec<Option<P>> = vec![None; heads.len()];
    let mut items = Vec::with_capacity(first);
    while items.len() < first {
        let best = heads
            .iter_mut()
            .enumerate()
            .filter_map(|(i, h)| h.peek().map(|item| (i, (item.created_at, item.key.as_str()))))
            .max_by(|a, b| a.1.cmp(&b.1))
            .map(|(i, (created_at, _))| (i, created_at));
        let Some((stream, created_at)) = best else { break };
        if frontier.is_some_and(|f| created_at < f) {
            break;
        }
        let Some(item) = heads[stream].next() else { break };
        positions[stream] = Some(item.position.clone());
        items.push((stream, item));
    }
    for (i, head) in heads.iter_mut().enumerate() {
        // A cut stream whose batch was fully used resumes after everything it scanned.
        if let Some(scanned_to) = scanned[i].take().filter(|_| head.peek().is_none()) {
            positions[i] = Some(scanned_to);
        }
    }
    // Short because a scan stopped early, whether or not any item was found before it.
    let cut = frontier.is_some() && items.len() < first;
    let remaining: Vec<bool> = heads.iter_mut().map(|h| h.peek().is_some()).collect();
    let has_next = remaining.iter().any(|r| *r) || more.iter().any(|m| *m);
    Merged {
        items,
        positions,
        has_next,
        remaining,
        cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).single().unwrap()
    }

    fn batch(stream: &str, times: &[i64], has_more: bool) -> StreamBatch<String, usize> {
        StreamBatch {
            items: times
                .iter()
                .enumerate()
                .map(|(i, t)| StreamItem {
                    created_at: at(*t),
                    key: format!("{stream}{i}"),
                    position: i,
                    item: format!("{stream}@{t}"),
                })
                .collect(),
            has_more,
            frontier: None,
            scanned_to: None,
        }
    }

    #[test]
    fn merges_newest_first_and_reports_each_streams_position() {
        let m = merge(vec![batch("a", &[10, 7, 3], false), batch("b", &[9, 8, 1], true)], 4);
        let got: Vec<&str> = m.items.iter().map(|(_, i)| i.item.as_str()).collect();
        assert_eq!(got, ["a@10", "b@9", "b@8", "a@7"]);
        assert_eq!(m.positions, vec![Some(1), Some(1)]);
        assert!(m.has_next);
    }

    #[test]
    fn an_unmoved_stream_keeps_its_position_and_the_end_is_detected() {
        let m = merge(vec![batch("a", &[10], false), batch("b", &[], false)], 5);
        assert_eq!(m.items.len(), 1);
        assert_eq!(m.positions, vec![Some(0), None]);
        assert!(!m.has_next);
    }

    #[test]
    fn a_cut_scan_stops_the_merge_at_its_frontier() {
        let mut cut = batch("b", &[9], true);
        cut.frontier = Some(at(6));
        cut.scanned_to = Some(40);
        let m = merge(vec![batch("a", &[10, 7, 5, 3], false), cut], 10);
        let got: Vec<&str> = m.items.iter().map(|(_, i)| i.item.as_str()).collect();
        assert_eq!(got, ["a@10", "b@9", "a@7"], "nothing older than the frontier (6)");
        assert!(m.cut && m.has_next);
        assert_eq!(
            m.positions,
            vec![Some(1), Some(40)],
            "the cut stream resumes after its scan"
        );
    }

    #[test]
    fn a_cut_scan_that_found_nothing_still_makes_a_cut_page_that_resumes_past_the_scan() {
        let mut cut = batch("b", &[], true);
        cut.frontier = Some(at(6));
        cut.scanned_to = Some(15);
        let m = merge(vec![cut, batch("a", &[5, 3], false)], 10);
        assert!(m.items.is_empty(), "a@5 is older than the frontier");
        assert!(m.cut && m.has_next);
        assert_eq!(m.positions, vec![Some(15), None]);
    }

    #[test]
    fn a_full_page_is_not_cut_even_when_a_scan_stopped_early() {
        let mut cut = batch("b", &[9], true);
        cut.frontier = Some(at(6));
        let m = merge(vec![batch("a", &[10, 7], false), cut], 3);
        assert_eq!(m.items.len(), 3);
        assert!(!m.cut && m.has_next);
    }
}
