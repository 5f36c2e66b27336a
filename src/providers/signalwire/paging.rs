//! SignalWire paging: follow `links.next` verbatim, and cut connection windows out of
//! cached upstream pages.
//!
//! A connection position is (the upstream page request, the index in that page), so a
//! cursor pointing mid-page resumes from the cached page instead of calling upstream.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::cache::Weigh;
use crate::domain::Provider;
use crate::upstream::UpstreamError;

/// An upstream request: a path and query on the space's origin (`/api/voice/logs?...`).
/// Shared, not copied: every edge of a window holds its page's request (`Position`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageRequest(Arc<str>);

impl PageRequest {
    /// Builds a request from a path and query pairs.
    pub fn new<'a>(path: &str, query: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in query {
            serializer.append_pair(k, &v);
        }
        let query = serializer.finish();
        if query.is_empty() {
            PageRequest(path.into())
        } else {
            PageRequest(format!("{path}?{query}").into())
        }
    }

    /// Resolves a `links.next` value, absolute or relative, to a path and query on the
    /// space origin. A link naming another host keeps only its path and query, as the
    /// official SDKs do (signalwire-python `rest/_pagination.py`, signalwire-rust
    /// `src/rest/http_client.rs`): requests, and the credentials they carry, only ever go
    /// to the configured space.
    pub fn from_link(origin: &Url, link: &str) -> Result<Self, UpstreamError> {
        let resolved = origin
            .join(link)
            .map_err(|e| UpstreamError::bad_response(Provider::SignalWire, format!("links.next {link:?}: {e}")))?;
        if resolved.origin() != origin.origin() {
            tracing::debug!(
                link,
                "signalwire: links.next names another origin; its path is followed on the space"
            );
        }
        Ok(PageRequest(match resolved.query() {
            Some(q) => format!("{}?{q}", resolved.path()).into(),
            None => resolved.path().into(),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn url(&self, origin: &Url) -> Url {
        let mut url = origin.clone();
        match self.0.split_once('?') {
            Some((path, query)) => {
                url.set_path(path);
                url.set_query(Some(query));
            }
            None => {
                url.set_path(&self.0);
                url.set_query(None);
            }
        }
        url
    }
}

/// One upstream page, as cached.
#[derive(Debug, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<Arc<T>>,
    pub next: Option<PageRequest>,
    /// Records that could not be read, each with the index in `items` it would have had
    /// (the readable records around it are kept).
    pub unreadable: Vec<(usize, String)>,
}

impl<T: Weigh> Weigh for Page<T> {
    fn weight(&self) -> usize {
        self.items.iter().map(|i| i.weight() + 8).sum::<usize>()
            + self.next.as_ref().map_or(0, |n| n.0.len())
            + self.unreadable.iter().map(|(_, id)| id.len() + 32).sum::<usize>()
            + 48
    }
}

/// Where an edge sits upstream; what a cursor carries.
///
/// The id lets a resume find its item again when the page was refetched and shifted
/// (the first page has no `page_token` anchor, so new calls push its items down).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "p")]
    pub page: PageRequest,
    #[serde(rename = "i")]
    pub index: usize,
    #[serde(rename = "k")]
    pub id: String,
}

/// Items that know their provider id and creation time.
pub trait Keyed {
    fn key(&self) -> &str;
    /// Lists are newest first, so a page reached through `links.next` that starts with
    /// an item newer than the last one before it leads back: a cycle.
    fn created_at(&self) -> DateTime<Utc>;
}

/// A connection page cut from upstream pages. When a later page fails once edges are
/// in hand, they are kept beside the error (`has_next` stays true, unless the links cycle).
pub type Window<T> = crate::providers::Window<Position, T>;

/// Most upstream pages one window may read (guards against an upstream that links pages
/// in a loop or sends endless empty pages).
const MAX_PAGES_PER_WINDOW: usize = 1_000;

/// Collects `first` items after `after` (or from `first_page`), reading one item more to
/// know `has_next` exactly.
///
/// `links.next` revisiting a page of this window, or leading to newer logs than the page
/// before it, is a cycle: `UPSTREAM_BAD_RESPONSE`. A page that fails (or cycles) after
/// some items are in hand does not fail them: they come back with the error.
pub async fn window<T: Keyed, F, Fut>(
    first_page: PageRequest,
    after: Option<Position>,
    first: usize,
    mut fetch: F,
) -> Result<Window<T>, UpstreamError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Arc<Page<T>>, UpstreamError>>,
{
    let (mut request, mut index, mut resume_key) = match after {
        Some(p) => (p.page, p.index + 1, Some(p.id)),
        None => (first_page, 0, None),
    };
    let mut edges = Vec::with_capacity(first + 1);
    let mut visited = std::collections::HashSet::new();
    let mut unreadable: Option<UpstreamError> = None;
    let mut oldest_seen: Option<DateTime<Utc>> = None;
    for _ in 0..MAX_PAGES_PER_WINDOW {
        let page = match fetch(request.clone()).await {
            Ok(page) => page,
            Err(e) if !edges.is_empty() => {
                return Ok(Window {
                    edges,
                    has_next: true,
                    // The fetch failure decides `has_next`; it is the one reported.
                    error: Some(e),
                });
            }
            Err(e) => return Err(e),
        };
        visited.insert(request.clone());
        if let (Some(oldest), Some(newest)) = (oldest_seen, page.items.first())
            && newest.created_at() > oldest
        {
            // Either the links cycle or the list is not newest first: both break the
            // order the gateway merges by, so nothing is merged out of order.
            let evidence = format!(
                "{} starts at {} after a page ending at {oldest}",
                request.as_str(),
                newest.created_at()
            );
            crate::providers::assumptions::broken(Provider::SignalWire, "lists newest first", &evidence);
            return cycle(edges, "links.next leads back to newer logs");
        }
        oldest_seen = page.items.last().map(|i| i.created_at()).or(oldest_seen);
        if let Some(found) = resume_key
            .take()
            .and_then(|key| page.items.iter().position(|item| item.key() == key))
        {
            index = found + 1;
        }
        // An unreadable record is reported by the window that passes its place.
        let passed = |at: usize, error: &mut Option<UpstreamError>| {
            if let Some((_, id)) = page.unreadable.iter().find(|(i, _)| *i == at) {
                error.get_or_insert_with(|| UpstreamError::bad_record(Provider::SignalWire, id));
            }
        };
        for (i, item) in page.items.iter().enumerate().skip(index) {
            if edges.len() == first {
                return Ok(Window {
                    edges,
                    has_next: true,
                    error: unreadable,
                });
            }
            passed(i, &mut unreadable);
            let position = Position {
                page: request.clone(),
                index: i,
                id: item.key().to_string(),
            };
            edges.push((position, item.clone()));
        }
        if index <= page.items.len() {
            passed(page.items.len(), &mut unreadable);
        }
        match &page.next {
            Some(next) if visited.contains(next) => return cycle(edges, "links.next revisits a page"),
            Some(next) => {
                request = next.clone();
                index = 0;
            }
            None => {
                return Ok(Window {
                    edges,
                    has_next: false,
                    error: unreadable,
                });
            }
        }
    }
    Err(UpstreamError::bad_response(
        Provider::SignalWire,
        format!("more than {MAX_PAGES_PER_WINDOW} upstream pages for one window"),
    ))
}

/// Links that cycle: nothing past them can be reached, so the window ends with the error
/// (beside the items in hand, if any).
fn cycle<T>(edges: Vec<(Position, Arc<T>)>, detail: &str) -> Result<Window<T>, UpstreamError> {
    let error = UpstreamError::bad_response(Provider::SignalWire, detail);
    match edges.is_empty() {
        true => Err(error),
        false => Ok(Window {
            edges,
            has_next: false,
            error: Some(error),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Url {
        Url::parse("https://example.signalwire.com").unwrap()
    }

    #[test]
    fn absolute_and_relative_links_resolve_to_the_same_request() {
        let abs = PageRequest::from_link(
            &origin(),
            "https://example.signalwire.com/api/voice/logs?page_token=PA1",
        )
        .unwrap();
        let rel = PageRequest::from_link(&origin(), "/api/voice/logs?page_token=PA1").unwrap();
        assert_eq!(abs, rel);
        assert_eq!(abs.as_str(), "/api/voice/logs?page_token=PA1");
    }

    #[test]
    fn links_to_another_host_keep_only_their_path_and_query() {
        // As signalwire-python `rest/_pagination.py` and signalwire-rust
        // `src/rest/http_client.rs` do: the configured origin stays.
        let request = PageRequest::from_link(
            &origin(),
            "https://api.other.example:8443/api/voice/logs?page_token=PA2",
        )
        .unwrap();
        assert_eq!(request.as_str(), "/api/voice/logs?page_token=PA2");
        assert_eq!(
            request.url(&origin()).as_str(),
            "https://example.signalwire.com/api/voice/logs?page_token=PA2"
        );
    }

    impl Keyed for String {
        fn key(&self) -> &str {
            self
        }
        /// Item "n" is n minutes before a fixed instant (lists are newest first).
        fn created_at(&self) -> DateTime<Utc> {
            let minutes = self
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .unwrap_or(0);
            DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(1) - chrono::Duration::minutes(minutes)
        }
    }

    fn page(items: &[&str], next: Option<&str>) -> Arc<Page<String>> {
        Arc::new(Page {
            items: items.iter().map(|s| Arc::new(s.to_string())).collect(),
            next: next.map(|n| PageRequest(n.into())),
            unreadable: Vec::new(),
        })
    }

    fn pages() -> Vec<Arc<Page<String>>> {
        vec![
            page(&["1", "2", "3"], Some("b")),
            page(&[], Some("c")),
            page(&["4", "5"], None),
        ]
    }

    async fn collect(after: Option<Position>, first: usize) -> Window<String> {
        collect_from(pages(), after, first).await
    }

    async fn collect_from(pages: Vec<Arc<Page<String>>>, after: Option<Position>, first: usize) -> Window<String> {
        window(PageRequest("a".into()), after, first, |req| {
            let page = pages[match req.as_str() {
                "a" => 0,
                "b" => 1,
                _ => 2,
            }]
            .clone();
            async move { Ok(page) }
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn windows_of_any_size_cover_every_item_once() {
        for size in 1..=6 {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let w = collect(after.clone(), size).await;
                seen.extend(w.edges.iter().map(|(_, v)| v.to_string()));
                after = w.edges.last().map(|(p, _)| p.clone());
                if !w.has_next {
                    break;
                }
            }
            assert_eq!(seen, ["1", "2", "3", "4", "5"], "size {size}");
        }
    }

    #[tokio::test]
    async fn a_resume_finds_its_item_again_when_the_page_shifted() {
        let first = collect(None, 2).await;
        let after = first.edges.last().unwrap().0.clone();
        assert_eq!(after.id, "2");
        // The page was refetched after two new calls arrived at the top.
        let shifted = vec![
            page(&["n1", "n2", "1", "2", "3"], Some("b")),
            page(&[], Some("c")),
            page(&["4", "5"], None),
        ];
        let next = collect_from(shifted, Some(after), 2).await;
        let ids: Vec<&str> = next.edges.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(ids, ["3", "4"], "no repeat of 1 and 2");
    }

    /// A window over pages by name (`a`, `b`, ...); a name missing from `pages` fails
    /// with 503.
    async fn over(
        pages: &[(&str, Arc<Page<String>>)],
        after: Option<Position>,
        first: usize,
    ) -> Result<Window<String>, UpstreamError> {
        window(PageRequest("a".into()), after, first, |req| {
            let page = pages
                .iter()
                .find(|(name, _)| *name == req.as_str())
                .map(|(_, p)| p.clone());
            async move {
                page.ok_or_else(|| {
                    UpstreamError::new(
                        Provider::SignalWire,
                        crate::upstream::UpstreamErrorKind::Unavailable,
                        "503",
                    )
                })
            }
        })
        .await
    }

    /// Pages a -> b -> c whose `next` link leads back to b.
    fn cycle_back_to_b() -> [(&'static str, Arc<Page<String>>); 3] {
        [
            ("a", page(&["1"], Some("b"))),
            ("b", page(&["2"], Some("c"))),
            ("c", page(&["3"], Some("b"))),
        ]
    }

    fn ids(window: &Window<String>) -> Vec<&str> {
        window.edges.iter().map(|(_, v)| v.as_str()).collect()
    }

    #[tokio::test]
    async fn links_that_revisit_a_page_end_the_window_with_a_bad_response_beside_the_items() {
        let pages = cycle_back_to_b();
        let w = over(&pages, None, 20).await.expect("the items in hand");
        assert_eq!(ids(&w), ["1", "2", "3"]);
        assert!(!w.has_next, "nothing past a cycle can be reached");
        let error = w.error.expect("the cycle is reported");
        assert_eq!(error.kind, crate::upstream::UpstreamErrorKind::BadResponse);
    }

    #[tokio::test]
    async fn a_resumed_window_whose_next_page_goes_back_in_time_fails_instead_of_repeating() {
        let pages = cycle_back_to_b();
        let after = Position {
            page: PageRequest("c".into()),
            index: 0,
            id: "3".into(),
        };
        let error = over(&pages, Some(after), 5).await.expect_err("no item of b again");
        assert_eq!(error.kind, crate::upstream::UpstreamErrorKind::BadResponse);
    }

    #[tokio::test]
    async fn a_failing_look_ahead_keeps_the_items_in_hand_and_reports_the_error() {
        let pages = [("a", page(&["1", "2"], Some("b")))];
        let w = over(&pages, None, 3).await.expect("the items in hand");
        assert_eq!(ids(&w), ["1", "2"]);
        assert!(w.has_next, "the failed page is still to be read");
        assert_eq!(
            w.error.expect("reported").kind,
            crate::upstream::UpstreamErrorKind::Unavailable
        );
        let nothing_in_hand = over(
            &pages,
            Some(Position {
                page: PageRequest("a".into()),
                index: 1,
                id: "2".into(),
            }),
            3,
        )
        .await;
        assert!(nothing_in_hand.is_err(), "with no item in hand the window fails");
    }
}
