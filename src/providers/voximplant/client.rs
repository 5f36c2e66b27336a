//! HTTP to Voximplant's Management API: form-encoded POSTs to `/platform_api/<Method>`
//! with a Bearer JWT; errors are read from the body (usually HTTP 200) before `result`.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::de::DeserializeOwned;

use super::auth::TokenSource;
use super::wire::{ApiError, Envelope};
use crate::domain::Provider;
use crate::upstream::{Call, UpstreamClient, UpstreamError, UpstreamErrorKind};

/// Codes the gateway reads as "the credentials were refused". Voximplant's code table is
/// not public (providers.md §3.3), so the message is checked as well.
const AUTH_CODES: [i64; 5] = [100, 101, 102, 103, 104];
const AUTH_WORDS: [&str; 6] = ["authoriz", "authentic", "jwt", "token", "credential", "permission"];

pub(super) struct Client {
    upstream: UpstreamClient,
    base: String,
    tokens: TokenSource,
}

/// The error of an envelope (`error`, else the first of `errors`), if any.
fn first_error<T>(envelope: &Envelope<T>) -> Option<ApiError> {
    envelope
        .error
        .clone()
        .or_else(|| envelope.errors.as_ref().and_then(|e| e.first().cloned()))
}

/// Classifies an error body.
fn classify(error: &ApiError) -> UpstreamErrorKind {
    let msg = error.msg.to_ascii_lowercase();
    if AUTH_CODES.contains(&error.code) || AUTH_WORDS.iter().any(|w| msg.contains(w)) {
        UpstreamErrorKind::Unauthorized
    } else if error.code == 429 || msg.contains("rate limit") || msg.contains("too many") {
        UpstreamErrorKind::RateLimited {
            retry_after_seconds: None,
        }
    } else {
        UpstreamErrorKind::BadResponse
    }
}

impl Client {
    pub fn new(upstream: UpstreamClient, base: &url::Url, tokens: TokenSource) -> Self {
        Client {
            upstream,
            base: format!("{}/platform_api", base.as_str().trim_end_matches('/')),
            tokens,
        }
    }

    pub fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    async fn send(
        &self,
        call: Call,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<crate::upstream::RawResponse, UpstreamError> {
        let token = self
            .tokens
            .token()
            .map_err(|e| self.error(UpstreamErrorKind::Internal, format!("signing a JWT: {e}")))?;
        let url = format!("{}/{method}", self.base);
        let bearer = format!("Bearer {token}");
        self.upstream
            .send(call, |http| {
                http.post(&url)
                    .header(AUTHORIZATION, bearer.as_str())
                    .header(ACCEPT, "application/json")
                    .form(params)
            })
            .await
    }

    /// Calls a reading `method` (retried on transient failures) and returns its envelope
    /// once no error is in it.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<Envelope<T>, UpstreamError> {
        self.call_as(Call::Read, method, params).await
    }

    /// Calls a `method` that creates something (GetAuditLogAsync, GetCallHistoryAsync
    /// start a report job): sent once, never retried, so a lost answer cannot create a
    /// duplicate job.
    pub async fn create<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<Envelope<T>, UpstreamError> {
        self.call_as(Call::Create, method, params).await
    }

    async fn call_as<T: DeserializeOwned>(
        &self,
        call: Call,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<Envelope<T>, UpstreamError> {
        let response = self.send(call, method, params).await?;
        if response.status != StatusCode::OK {
            return Err(self.error(
                UpstreamErrorKind::BadResponse,
                format!("{method}: HTTP {}", response.status),
            ));
        }
        let envelope: Envelope<T> = serde_json::from_slice(&response.body)
            .map_err(|e| self.error(UpstreamErrorKind::BadResponse, format!("{method}: {e}")))?;
        if let Some(error) = first_error(&envelope) {
            return Err(self.api_error(method, &error));
        }
        // Reading a missing `result` as "no rows" would cache every asked id as absent.
        if envelope.result.is_none() {
            return Err(self.error(
                UpstreamErrorKind::BadResponse,
                format!("{method}: an answer with neither `result` nor `error`"),
            ));
        }
        Ok(envelope)
    }

    /// Calls a method that answers with a file (DownloadHistoryReport): the raw bytes,
    /// unless the body is a JSON error. A `Content-Encoding: gzip` transfer is already
    /// decoded by the HTTP client (which sends `Accept-Encoding: gzip` itself).
    pub async fn download(&self, method: &str, params: &[(&str, String)]) -> Result<Bytes, UpstreamError> {
        let response = self.send(Call::Read, method, params).await?;
        if response.status != StatusCode::OK {
            return Err(self.error(
                UpstreamErrorKind::BadResponse,
                format!("{method}: HTTP {}", response.status),
            ));
        }
        let envelope = (response.body.first() == Some(&b'{'))
            .then(|| serde_json::from_slice::<Envelope<serde_json::Value>>(&response.body).ok())
            .flatten();
        if let Some(error) = envelope.as_ref().and_then(first_error) {
            return Err(self.api_error(method, &error));
        }
        Ok(response.body)
    }

    fn api_error(&self, method: &str, error: &ApiError) -> UpstreamError {
        self.error(
            classify(error),
            format!("{method}: error {} {:?}", error.code, error.msg),
        )
    }

    fn error(&self, kind: UpstreamErrorKind, detail: String) -> UpstreamError {
        UpstreamError::new(Provider::Voximplant, kind, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: i64, msg: &str) -> ApiError {
        ApiError { code, msg: msg.into() }
    }

    #[test]
    fn auth_and_rate_limit_errors_are_recognised_by_code_or_message() {
        assert_eq!(classify(&err(100, "whatever")), UpstreamErrorKind::Unauthorized);
        assert_eq!(
            classify(&err(7, "Authorization failed: JWT expired")),
            UpstreamErrorKind::Unauthorized
        );
        assert_eq!(
            classify(&err(429, "slow down")),
            UpstreamErrorKind::RateLimited {
                retry_after_seconds: None
            }
        );
        assert_eq!(
            classify(&err(8, "Too many requests")),
            UpstreamErrorKind::RateLimited {
                retry_after_seconds: None
            }
        );
        assert_eq!(
            classify(&err(301, "Invalid parameter: offset")),
            UpstreamErrorKind::BadResponse
        );
    }
}
