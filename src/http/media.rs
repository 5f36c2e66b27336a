//! Which media type a GraphQL answer is written in, as GraphQL over HTTP says ("Body",
//! "Legacy watershed", "Status Codes"): `application/graphql-response+json` when the
//! client's `Accept` prefers it, `application/json` otherwise.
//!
//! - The `Accept` header is read with its q-values: the acceptable type of the highest q
//!   wins, the first listed among equals. A wildcard (`*/*`, `application/*`) allowing
//!   both gives `application/json` (the type every client parses), and a type given
//!   `q=0` is refused even where a wildcard would allow it.
//! - No `Accept` (or an empty one) is read as `application/json`, the legacy default,
//!   which every client sending no `Accept` today expects (the spec's watershed turns that
//!   default to the new type from 2025; its own audit suite, `graphql-http`, still expects
//!   `application/json`, and so do curl scripts).
//! - An `Accept` that allows neither is answered `406 Not Acceptable` (RECOMMENDED).
//! - Under `application/graphql-response+json` a response without a `data` entry (a
//!   request that did not parse, validate or coerce its variables, or was refused before
//!   running) has a 4xx status: one the gateway would answer 200 is answered 400. Under
//!   `application/json` statuses stay as they were (200 for every well-formed request).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

/// The media types a GraphQL answer can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    /// `application/graphql-response+json`.
    GraphqlResponse,
    /// `application/json`.
    Json,
}

/// A response without a `data` entry: a request error or a refusal (set by whoever builds
/// one, read by `Media::apply`).
#[derive(Debug, Clone, Copy)]
pub(super) struct NoData;

/// The client accepts no media type the gateway writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NotAcceptable;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

impl Media {
    /// The media type `headers`' `Accept` asks for.
    pub(super) fn negotiate(headers: &HeaderMap) -> Result<Media, NotAcceptable> {
        let mut ranges = Vec::new();
        for value in headers.get_all(header::ACCEPT) {
            let Ok(text) = value.to_str() else { continue };
            ranges.extend(text.split(',').filter_map(Range::parse));
        }
        if ranges.is_empty() {
            return Ok(Media::Json);
        }
        // The q a type gets: its own range's, else the most specific wildcard's.
        let quality = |media: Media| {
            let best = ranges
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.specificity(media).map(|s| (s, r.q, i)))
                .max_by_key(|&(specificity, _, i)| (specificity, std::cmp::Reverse(i)));
            best.map(|(_, q, i)| (q, i))
        };
        let candidates = [Media::GraphqlResponse, Media::Json]
            .into_iter()
            .filter_map(|m| quality(m).map(|(q, i)| (m, q, i)))
            .filter(|&(_, q, _)| q > 0);
        // Highest q first; among equals, the one listed first; one wildcard allowing both
        // gives application/json.
        candidates
            .max_by_key(|&(media, q, i)| (q, std::cmp::Reverse(i), media == Media::Json))
            .map(|(media, _, _)| media)
            .ok_or(NotAcceptable)
    }

    /// Its `Content-Type`.
    pub(super) fn content_type(self) -> HeaderValue {
        match self {
            Media::GraphqlResponse => HeaderValue::from_static("application/graphql-response+json; charset=utf-8"),
            Media::Json => HeaderValue::from_static("application/json"),
        }
    }

    /// Writes `response` (a GraphQL answer in JSON, or a refusal) in this media type: its
    /// `Content-Type`, and under `application/graphql-response+json` a 400 for a response
    /// without `data` that would have been a 200.
    pub(super) fn apply(self, response: &mut Response) {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept"));
        if self == Media::Json {
            return;
        }
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if is_json {
            response.headers_mut().insert(header::CONTENT_TYPE, self.content_type());
        }
        if response.status() == StatusCode::OK && response.extensions().get::<NoData>().is_some() {
            *response.status_mut() = StatusCode::BAD_REQUEST;
        }
    }
}

/// One media range of an `Accept` header: its type and subtype (lower case) and q in
/// thousandths.
struct Range {
    kind: String,
    q: u16,
}

impl Range {
    fn parse(text: &str) -> Option<Range> {
        let mut parts = text.split(';');
        let kind = parts.next()?.trim().to_ascii_lowercase();
        if kind.is_empty() {
            return None;
        }
        let mut q = 1000;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                q = parse_q(value.trim())?;
            }
        }
        Some(Range { kind, q })
    }

    /// How specifically this range names `media` (2: by name, 1: `application/*`, 0:
    /// `*/*`), or None when it does not.
    fn specificity(&self, media: Media) -> Option<u8> {
        let name = match media {
            Media::GraphqlResponse => GRAPHQL_RESPONSE,
            Media::Json => "application/json",
        };
        match self.kind.as_str() {
            k if k == name => Some(2),
            "application/*" => Some(1),
            "*/*" => Some(0),
            _ => None,
        }
    }
}

/// An RFC 9110 qvalue ("0" to "1" with at most three decimals) in thousandths; None when
/// it is not one (the range is then ignored).
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(accept: &[&str]) -> Result<Media, NotAcceptable> {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(header::ACCEPT, value.parse().unwrap());
        }
        Media::negotiate(&headers)
    }

    #[test]
    fn the_preferred_acceptable_type_wins_by_q_then_by_order() {
        use Media::*;
        assert_eq!(media(&[]), Ok(Json), "no Accept: the legacy default");
        assert_eq!(media(&[""]), Ok(Json));
        assert_eq!(media(&["application/json"]), Ok(Json));
        assert_eq!(media(&["*/*"]), Ok(Json));
        assert_eq!(media(&["application/*"]), Ok(Json));
        assert_eq!(media(&["application/graphql-response+json"]), Ok(GraphqlResponse));
        // Apollo Client 4's default.
        assert_eq!(
            media(&["application/graphql-response+json,application/json;q=0.9"]),
            Ok(GraphqlResponse)
        );
        assert_eq!(
            media(&["application/json, application/graphql-response+json"]),
            Ok(Json),
            "equal q: the first listed"
        );
        assert_eq!(
            media(&["application/json;q=0.5, application/graphql-response+json;q=0.8"]),
            Ok(GraphqlResponse)
        );
        assert_eq!(
            media(&["APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8"]),
            Ok(GraphqlResponse)
        );
        assert_eq!(
            media(&["text/html", "application/graphql-response+json"]),
            Ok(GraphqlResponse),
            "several Accept fields are one list"
        );
        // A browser's navigation.
        assert_eq!(
            media(&["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]),
            Ok(Json)
        );
    }

    #[test]
    fn a_type_refused_with_q_zero_stays_refused_and_nothing_acceptable_is_406() {
        use Media::*;
        assert_eq!(media(&["application/json;q=0, */*"]), Ok(GraphqlResponse));
        assert_eq!(
            media(&["application/json;q=0, application/graphql-response+json"]),
            Ok(GraphqlResponse)
        );
        assert_eq!(media(&["text/html"]), Err(NotAcceptable));
        assert_eq!(media(&["application/graphql-response+json;q=0"]), Err(NotAcceptable));
        assert_eq!(
            media(&["application/json;q=2"]),
            Ok(Json),
            "not a qvalue: the range is ignored, and no range is as no Accept"
        );
        assert_eq!(media(&["text/html, application/json;q=x"]), Err(NotAcceptable));
        assert_eq!(media(&["application/json;q=0.001"]), Ok(Json));
    }

    #[test]
    fn under_the_graphql_type_an_answer_without_data_is_400_and_others_keep_their_status() {
        let answer = |status: StatusCode, no_data: bool| {
            let mut r = Response::new(axum::body::Body::empty());
            *r.status_mut() = status;
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if no_data {
                r.extensions_mut().insert(NoData);
            }
            r
        };
        let mut refused = answer(StatusCode::OK, true);
        Media::GraphqlResponse.apply(&mut refused);
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            refused.headers()[header::CONTENT_TYPE],
            "application/graphql-response+json; charset=utf-8"
        );
        let mut data = answer(StatusCode::OK, false);
        Media::GraphqlResponse.apply(&mut data);
        assert_eq!(data.status(), StatusCode::OK);
        let mut limited = answer(StatusCode::TOO_MANY_REQUESTS, true);
        Media::GraphqlResponse.apply(&mut limited);
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        let mut legacy = answer(StatusCode::OK, true);
        Media::Json.apply(&mut legacy);
        assert_eq!(legacy.status(), StatusCode::OK, "application/json keeps 200");
        assert_eq!(legacy.headers()[header::CONTENT_TYPE], "application/json");
    }
}
