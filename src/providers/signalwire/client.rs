//! HTTP to SignalWire: Basic auth, GET only, error bodies decoded per status.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::de::DeserializeOwned;
use url::Url;

use super::paging::PageRequest;
use super::wire::ErrorBody;
use crate::config::SignalWireConfig;
use crate::domain::Provider;
use crate::upstream::{RawResponse, UpstreamClient, UpstreamError, UpstreamErrorKind};

/// `created_*` query parameters: a 422 naming them is about the caller's filter.
const FILTER_ATTRIBUTES: [&str; 3] = ["created_after", "created_before", "created_on"];

pub(super) struct Client {
    upstream: UpstreamClient,
    origin: Url,
    authorization: HeaderValue,
}

impl Client {
    pub fn new(config: &SignalWireConfig, upstream: UpstreamClient) -> Self {
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

    pub fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    pub fn origin(&self) -> &Url {
        &self.origin
    }

    /// GETs `request` (a path and query on the space) and decodes a 200 body as `T`;
    /// a 404 is `None`.
    pub async fn get<T: DeserializeOwned>(&self, request: &PageRequest) -> Result<Option<T>, UpstreamError> {
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
            StatusCode::UNPROCESSABLE_ENTITY => Err(self.unprocessable(request, &response)),
            status => Err(self.error(
                UpstreamErrorKind::BadResponse,
                format!("GET {}: unexpected HTTP {status}", request.as_str()),
            )),
        }
    }

    /// 422 `{"errors":[...]}`: a rate limit, a rejected filter value, or a request the
    /// gateway should never have built.
    fn unprocessable(&self, request: &PageRequest, response: &RawResponse) -> UpstreamError {
        let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
        let detail = format!(
            "GET {}: HTTP 422 {}",
            request.as_str(),
            String::from_utf8_lossy(&response.body)
        );
        let kind = if body.errors.iter().any(|e| e.code == "rate_limit_exceeded") {
            UpstreamErrorKind::RateLimited {
                retry_after_seconds: None,
            }
        } else if body.errors.iter().any(|e| {
            e.code == "exceeds_history_logs_limit"
                || e.attribute.as_deref().is_some_and(|a| FILTER_ATTRIBUTES.contains(&a))
        }) {
            UpstreamErrorKind::RejectedInput
        } else {
            UpstreamErrorKind::BadResponse
        };
        self.error(kind, detail)
    }

    fn error(&self, kind: UpstreamErrorKind, detail: String) -> UpstreamError {
        UpstreamError::new(Provider::SignalWire, kind, detail)
    }
}
