//! HTTP to OneUptime: `ApiKey` header, POST JSON, `skip`/`limit` in the query string
//! (OneUptime echoes them only from there), both error body shapes decoded.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::wire::{CallLogWire, CountWire, ErrorWire, ListWire, SELECT};
use crate::domain::Provider;
use crate::providers::oneuptime::OneUptimeConfig;
use crate::upstream::{RawResponse, UpstreamClient, UpstreamError, UpstreamErrorKind};

pub(super) struct Client {
    upstream: UpstreamClient,
    /// `{base}/api/call-log` without a trailing slash.
    resource: String,
    api_key: HeaderValue,
}

/// The `select` object naming every documented column.
pub(super) fn select() -> Value {
    Value::Object(SELECT.iter().map(|c| (c.to_string(), Value::Bool(true))).collect())
}

impl Client {
    pub(super) fn new(config: &OneUptimeConfig, upstream: UpstreamClient) -> Self {
        // `OneUptimeConfig::validate` refused keys that are no header value at startup.
        let mut api_key = HeaderValue::from_str(config.api_key.expose().trim())
            .unwrap_or_else(|_| HeaderValue::from_static("invalid-api-key"));
        api_key.set_sensitive(true);
        Client {
            upstream,
            resource: format!("{}/api/call-log", config.base_url.as_str().trim_end_matches('/')),
            api_key,
        }
    }

    pub(super) fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    /// `POST /api/call-log/get-list?skip=&limit=` with `query`, `select` and `sort`.
    pub(super) async fn get_list<T: DeserializeOwned>(
        &self,
        query: Value,
        sort: Value,
        skip: u64,
        limit: u32,
    ) -> Result<ListWire<T>, UpstreamError> {
        let body = json!({ "query": query, "select": select(), "sort": sort });
        let path = format!("/get-list?skip={skip}&limit={limit}");
        self.post(&path, &body).await
    }

    /// `POST /api/call-log/count` with `query`.
    pub(super) async fn count(&self, query: Value) -> Result<u64, UpstreamError> {
        let counted: CountWire = self.post("/count", &json!({ "query": query })).await?;
        Ok(counted.count)
    }

    /// `POST /api/call-log/:id/get-item`; OneUptime answers `200 {}` for unknown ids.
    pub(super) async fn get_item(&self, id: &str) -> Result<Option<CallLogWire>, UpstreamError> {
        let value: Value = self
            .post(&format!("/{id}/get-item"), &json!({ "select": select() }))
            .await?;
        if value.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(None);
        }
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| self.error(UpstreamErrorKind::BadResponse, format!("get-item {id}: {e}")))
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, UpstreamError> {
        let url = format!("{}{path}", self.resource);
        let response = self
            .upstream
            .send(crate::upstream::Call::Read, |http| {
                http.post(&url)
                    .header("ApiKey", self.api_key.clone())
                    .header(ACCEPT, "application/json")
                    .header(CONTENT_TYPE, "application/json")
                    .json(body)
            })
            .await?;
        if response.status == StatusCode::OK {
            return serde_json::from_slice(&response.body)
                .map_err(|e| self.error(UpstreamErrorKind::BadResponse, format!("POST {path}: {e}")));
        }
        Err(self.classify(path, &response))
    }

    /// 400 with a key problem and 422 (missing permission) are credential problems;
    /// anything else means the gateway sent what OneUptime will not take.
    fn classify(&self, path: &str, response: &RawResponse) -> UpstreamError {
        let body: ErrorWire = serde_json::from_slice(&response.body).unwrap_or_default();
        let detail = format!("POST {path}: HTTP {} {:?}", response.status, body.text());
        let kind = match response.status {
            StatusCode::BAD_REQUEST if body.text().contains("API Key") => UpstreamErrorKind::Unauthorized,
            StatusCode::UNPROCESSABLE_ENTITY => UpstreamErrorKind::Unauthorized,
            _ => UpstreamErrorKind::BadResponse,
        };
        self.error(kind, detail)
    }

    fn error(&self, kind: UpstreamErrorKind, detail: String) -> UpstreamError {
        UpstreamError::new(Provider::OneUptime, kind, detail)
    }
}
