//! HTTP caching of GET query responses: browsers and the frontend's HTTP layer
//! may reuse an answer for as long as the data in it stays fresh, and revalidate it
//! cheaply afterwards.
//!
//! - `Cache-Control: private, max-age=N`, N the shortest TTL of the cached data the
//!   request read (a finished call is final and cached long; a live call or a page short),
//!   capped by `graphql.http_max_age`. `private`: answers depend on the caller's
//!   credentials, so shared caches must not keep them.
//! - A response with any error is `no-store`: an error is never replayed from a cache.
//! - A weak `ETag` (the body's hash; weak because compression changes the bytes), and
//!   `If-None-Match` with it answers 304 without a body.
//! - `Vary: Accept-Encoding, Authorization, Cookie`: the body depends on all three.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};

const VARY: HeaderValue = HeaderValue::from_static("Accept-Encoding, Authorization, Cookie");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// What the gateway knows about a rendered GET answer.
pub(super) struct Freshness {
    /// Whether the response carries errors.
    pub has_errors: bool,
    /// How long the data it read stays fresh; `None`: it read no provider data.
    pub fresh_for: Option<Duration>,
    /// The longest max-age given (`graphql.http_max_age`).
    pub cap: Duration,
    /// The answer without what each response adds (its `extensions.cost`): its ETag is
    /// this one's, so a revalidation matches while the data is the same. `None`: the body.
    pub tagged: Option<bytes::Bytes>,
}

/// The response for a rendered GET answer `body`: 200 with caching headers, or 304 when
/// the client's `If-None-Match` names the same body.
pub(super) fn respond(request: &HeaderMap, body: bytes::Bytes, freshness: &Freshness) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::VARY, VARY);
    if freshness.has_errors {
        headers.insert(header::CACHE_CONTROL, NO_STORE);
        return with_body(headers, body);
    }
    // Rounded: data read a moment ago from an entry cached for an hour is fresh for an hour.
    let max_age = freshness
        .fresh_for
        .unwrap_or(freshness.cap)
        .min(freshness.cap)
        .as_secs_f64()
        .round() as u64;
    let cache_control = format!("private, max-age={max_age}");
    let tagged = freshness.tagged.as_ref().unwrap_or(&body);
    let etag = format!("W/\"{}\"", hex::encode(&Sha256::digest(tagged)[..16]));
    if let (Ok(cache_control), Ok(tag)) = (HeaderValue::from_str(&cache_control), HeaderValue::from_str(&etag)) {
        headers.insert(header::CACHE_CONTROL, cache_control);
        headers.insert(header::ETAG, tag);
    }
    if request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| matches(v, &etag))
    {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = headers;
        return response;
    }
    with_body(headers, body)
}

fn with_body(mut headers: HeaderMap, body: bytes::Bytes) -> Response {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = headers;
    response
}

/// `If-None-Match` (RFC 9110 §13.1.2): `*`, or a list of entity tags compared weakly.
fn matches(if_none_match: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let ours = opaque(etag);
    if_none_match.trim() == "*" || if_none_match.split(',').any(|tag| opaque(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(secs: Option<u64>) -> Freshness {
        Freshness {
            has_errors: false,
            fresh_for: secs.map(Duration::from_secs),
            cap: Duration::from_secs(3600),
            tagged: None,
        }
    }

    fn header(r: &Response, name: header::HeaderName) -> &str {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[test]
    fn max_age_is_the_data_ttl_capped_and_errors_are_never_stored() {
        let none = HeaderMap::new();
        let r = respond(&none, bytes::Bytes::from_static(b"{}"), &fresh(Some(5)));
        assert_eq!(header(&r, header::CACHE_CONTROL), "private, max-age=5");
        let r = respond(&none, bytes::Bytes::from_static(b"{}"), &fresh(Some(6 * 3600)));
        assert_eq!(header(&r, header::CACHE_CONTROL), "private, max-age=3600");
        let r = respond(&none, bytes::Bytes::from_static(b"{}"), &fresh(None));
        assert_eq!(header(&r, header::CACHE_CONTROL), "private, max-age=3600");
        let errors = Freshness {
            has_errors: true,
            ..fresh(Some(60))
        };
        let r = respond(&none, bytes::Bytes::from_static(b"{}"), &errors);
        assert_eq!(header(&r, header::CACHE_CONTROL), "no-store");
        assert!(r.headers().get(header::ETAG).is_none());
        assert_eq!(header(&r, header::VARY), "Accept-Encoding, Authorization, Cookie");
    }

    #[test]
    fn if_none_match_with_the_etag_is_a_304() {
        let first = respond(
            &HeaderMap::new(),
            bytes::Bytes::from_static(b"{\"a\":1}"),
            &fresh(Some(30)),
        );
        let etag = header(&first, header::ETAG).to_string();
        assert!(etag.starts_with("W/\""), "{etag}");
        for sent in [
            etag.clone(),
            etag.trim_start_matches("W/").to_string(),
            format!("\"x\", {etag}"),
            "*".into(),
        ] {
            let mut request = HeaderMap::new();
            request.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&sent).unwrap());
            let again = respond(&request, bytes::Bytes::from_static(b"{\"a\":1}"), &fresh(Some(30)));
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{sent}");
            assert_eq!(header(&again, header::ETAG), etag);
            let changed = respond(&request, bytes::Bytes::from_static(b"{\"a\":2}"), &fresh(Some(30)));
            assert_eq!(changed.status() == StatusCode::OK, sent != "*", "{sent}");
        }
    }
}
