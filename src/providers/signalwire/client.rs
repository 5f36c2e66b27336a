//! HTTP to SignalWire: Basic auth, GET only, error bodies decoded per status.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::de::DeserializeOwned;
use url::Url;

use super::paging::PageRequest;
use super::wire::ErrorBody;
use crate::domain::Provider;
use crate::providers::signalwire::SignalWireConfig;
use crate::upstream::{RawResponse, UpstreamClient, UpstreamError, UpstreamErrorKind};

/// `created_*` query parameters: a 422 naming them is about the caller's filter.
const FILTER_ATTRIBUTES: [&str; 3] = ["created_after", "created_before", "created_on"];
/// The 422 code of a date past the account's history retention.
const RETENTION: &str = "exceeds_history_logs_limit";

/// What a 422 means.
enum Unprocessable {
    /// The record asked for by id is past retention: not found.
    Expired,
    Error(UpstreamError),
}

pub(super) struct Client {
    upstream: UpstreamClient,
    origin: Url,
    authorization: HeaderValue,
}

impl Client {
    pub(super) fn new(config: &SignalWireConfig, upstream: UpstreamClient) -> Self {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            config.project_id,
            config.api_token.expose()
        ));
        let mut authorization =
            HeaderValue::from_str(&format!("Basic {token}")).expect("base64 is a valid header value");
        authorization.set_sensitive(true);
        Client {
            upstream,
            origin: config.space_url.clone(),
            authorization,
        }
    }

    pub(super) fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    pub(super) fn origin(&self) -> &Url {
        &self.origin
    }

    /// GETs `request` (a path and query on the space) and decodes a 200 body as `T`;
    /// a 404 is `None`.
    pub(super) async fn get<T: DeserializeOwned>(&self, request: &PageRequest) -> Result<Option<T>, UpstreamError> {
        let url = request.url(&self.origin);
        let response = self
            .upstream
            .send(crate::upstream::Call::Read, |http| {
                http.get(url.clone())
                    .header(AUTHORIZATION, self.authorization.clone())
                    .header(ACCEPT, "application/json")
            })
            .await?;
        match response.status {
            StatusCode::OK => serde_json::from_slice(&response.body)
                .map(Some)
                .map_err(|e| self.error(UpstreamErrorKind::BadResponse, format!("GET {}: {e}", request.as_str()))),
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::UNPROCESSABLE_ENTITY => match self.unprocessable(request, &response) {
                // A record past retention is gone, as far as a by-id read can tell.
                Unprocessable::Expired => Ok(None),
                Unprocessable::Error(e) => Err(e),
            },
            status => Err(self.error(
                UpstreamErrorKind::BadResponse,
                format!("GET {}: unexpected HTTP {status}", request.as_str()),
            )),
        }
    }

    /// 422 `{"errors":[...]}`: a record past retention, a rate limit, an expired page
    /// token, a rejected filter value, or a request the gateway should never have built.
    ///
    /// Past retention SignalWire answers `exceeds_history_logs_limit` (`type:
    /// account_error`), naming `created_at` on a by-id read and `created_before` on a
    /// list (SignalWire's error code list, signalwire/docs `error-codes.mdx`).
    fn unprocessable(&self, request: &PageRequest, response: &RawResponse) -> Unprocessable {
        let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
        let detail = format!(
            "GET {}: HTTP 422 {}",
            request.as_str(),
            String::from_utf8_lossy(&response.body)
        );
        let has = |code: &str, attribute: Option<&str>| {
            body.errors
                .iter()
                .any(|e| e.code == code && attribute.is_none_or(|a| e.attribute.as_deref() == Some(a)))
        };
        let attribute = |names: &[&str]| {
            body.errors
                .iter()
                .any(|e| e.attribute.as_deref().is_some_and(|a| names.contains(&a)))
        };
        if has(RETENTION, Some("created_at")) {
            tracing::debug!(request = request.as_str(), "signalwire: record past history retention");
            return Unprocessable::Expired;
        }
        let kind = if has("rate_limit_exceeded", None) {
            UpstreamErrorKind::RateLimited {
                retry_after_seconds: None,
            }
        } else if has(RETENTION, None) {
            UpstreamErrorKind::PastRetention
        } else if attribute(&["page_token"]) {
            UpstreamErrorKind::CursorExpired
        } else if attribute(&FILTER_ATTRIBUTES) {
            UpstreamErrorKind::RejectedInput
        } else {
            UpstreamErrorKind::BadResponse
        };
        Unprocessable::Error(self.error(kind, detail))
    }

    fn error(&self, kind: UpstreamErrorKind, detail: String) -> UpstreamError {
        UpstreamError::new(Provider::SignalWire, kind, detail)
    }
}
