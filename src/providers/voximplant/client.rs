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

/// Voximplant's HTTP API error table (voximplant.com/docs/references/httpapi/errors):
/// 100 authorization failed, 101 invalid arguments, 102 missing `cmd`, 103 unknown
/// command, 104 forbidden command.
const AUTHORIZATION_FAILED: i64 = 100;
const INVALID_ARGUMENTS: i64 = 101;
const MISSING_COMMAND: i64 = 102;
const UNKNOWN_COMMAND: i64 = 103;
const FORBIDDEN_COMMAND: i64 = 104;
/// For codes outside the table, what the message says decides.
const AUTH_WORDS: [&str; 6] = ["authoriz", "authentic", "jwt", "token", "credential", "permission"];

/// Methods whose dates are "in the selected timezone" (their `timezone` parameter): the
/// gateway always selects UTC. The official SDKs assume UTC without saying so
/// (voximplant/apiclient-nodejs formats dates from `toISOString()`, apiclient-python
/// converts to UTC), which is right only while the account's zone is UTC.
const ZONED: [&str; 4] = [
    "GetCallHistory",
    "GetAuditLog",
    "GetCallHistoryAsync",
    "GetAuditLogAsync",
];
/// The zone the gateway asks for, and the names an echo of it may take.
const UTC: &str = "UTC";
const UTC_NAMES: [&str; 6] = ["utc", "etc/utc", "gmt", "etc/gmt", "z", "+00:00"];

/// Whether an echoed `timezone` names UTC.
pub(super) fn is_utc(zone: &str) -> bool {
    UTC_NAMES.contains(&zone.trim().to_ascii_lowercase().as_str())
}

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

/// Classifies an error body: by Voximplant's code table, else by its message.
fn classify(error: &ApiError) -> UpstreamErrorKind {
    match error.code {
        // The service account was refused, or its role may not call this method.
        AUTHORIZATION_FAILED | FORBIDDEN_COMMAND => return UpstreamErrorKind::Unauthorized,
        // A parameter value was refused: the filter values of the query (dates, numbers,
        // ids) are what the caller chose.
        INVALID_ARGUMENTS => return UpstreamErrorKind::RejectedInput,
        // The gateway named no method or one Voximplant does not have (a wrong base URL).
        MISSING_COMMAND | UNKNOWN_COMMAND => return UpstreamErrorKind::BadResponse,
        _ => {}
    }
    let msg = error.msg.to_ascii_lowercase();
    if AUTH_WORDS.iter().any(|w| msg.contains(w)) {
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
    pub(super) fn new(upstream: UpstreamClient, base: &url::Url, tokens: TokenSource) -> Self {
        Client {
            upstream,
            base: format!("{}/platform_api", base.as_str().trim_end_matches('/')),
            tokens,
        }
    }

    pub(super) fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    async fn send(
        &self,
        call: Call,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<crate::upstream::RawResponse, UpstreamError> {
        let zoned;
        let params = if ZONED.contains(&method) && !params.iter().any(|(k, _)| *k == "timezone") {
            zoned = [params, &[("timezone", UTC.to_string())]].concat();
            zoned.as_slice()
        } else {
            params
        };
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
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<Envelope<T>, UpstreamError> {
        self.call_as(Call::Read, method, params).await
    }

    /// Calls a `method` that creates something (GetAuditLogAsync, GetCallHistoryAsync
    /// start a report job): sent once, never retried, so a lost answer cannot create a
    /// duplicate job.
    pub(super) async fn create<T: DeserializeOwned>(
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
        let envelope = self.envelope(call, method, params).await?;
        if let Some(zone) = envelope.timezone.as_deref().filter(|z| !is_utc(z)) {
            // Every date of the answer would be shifted by the zone's offset.
            let evidence = format!("{method} asked for timezone=UTC and answered timezone={zone:?}");
            crate::providers::assumptions::broken(Provider::Voximplant, "dates in UTC", &evidence);
            return Err(self.error(UpstreamErrorKind::BadResponse, evidence));
        }
        Ok(envelope)
    }

    /// Calls a reading `method` and returns its envelope as the API sent it, with no
    /// check of its time zone (`switchboard doctor` reports the echo itself).
    pub(super) async fn probe(
        &self,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<Envelope<serde_json::Value>, UpstreamError> {
        self.envelope(Call::Read, method, params).await
    }

    /// The envelope of `method`'s answer once no error is in it and it has a `result`.
    async fn envelope<T: DeserializeOwned>(
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
    pub(super) async fn download(&self, method: &str, params: &[(&str, String)]) -> Result<Bytes, UpstreamError> {
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
    fn utc_echoes_are_recognised_and_other_zones_are_not() {
        for zone in ["UTC", "Etc/UTC", "utc", " GMT "] {
            assert!(is_utc(zone), "{zone}");
        }
        for zone in ["Europe/Moscow", "America/New_York", "+03:00", ""] {
            assert!(!is_utc(zone), "{zone}");
        }
    }

    #[test]
    fn codes_of_voximplants_error_table_are_read_as_it_defines_them() {
        // voximplant.com/docs/references/httpapi/errors
        assert_eq!(
            classify(&err(100, "Authorization failed")),
            UpstreamErrorKind::Unauthorized
        );
        assert_eq!(
            classify(&err(101, "Invalid argument: to_date; token")),
            UpstreamErrorKind::RejectedInput,
            "invalid arguments are no credential problem, whatever the message says"
        );
        assert_eq!(classify(&err(102, "Missing cmd")), UpstreamErrorKind::BadResponse);
        assert_eq!(classify(&err(103, "Unknown command")), UpstreamErrorKind::BadResponse);
        assert_eq!(
            classify(&err(104, "Forbidden command")),
            UpstreamErrorKind::Unauthorized
        );
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
