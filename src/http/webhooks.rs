//! `POST /webhooks/{tenant}/{provider}`: a provider's push (`providers::webhooks`),
//! authenticated with the tenant's secret for it, handed to the live feed, which reads
//! each named call fresh and publishes what changed. Answers:
//! - 204: taken (a replay, or a change already seen, is taken and delivers nothing);
//! - 202: authentic, but the call could not be read now (the poller will find it);
//! - 403: the signature or secret does not match; nothing changes;
//! - 404: no such tenant, provider webhook, or secret configured (or live updates off);
//! - 400: authentic, but naming no call.
//!
//! Signatures cover the URL the provider called. Behind a proxy that rewrites it, set
//! `live.public_url` (the gateway's URL as providers reach it); otherwise the URL is
//! rebuilt from `Host` and `X-Forwarded-Proto`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::refuse;
use crate::graphql::error::ErrorCode;
use crate::providers::webhooks::{Delivery, WEBHOOKS, WebhookError};

/// The URL the provider called, as it called it.
fn called_url(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    if let Some(base) = state.live.as_ref().and_then(|f| f.config().public_url.clone()) {
        return format!("{}{path}", base.as_str().trim_end_matches('/'));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = match headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{path}")
}

pub(super) async fn receive(
    State(state): State<AppState>,
    Path((tenant, provider)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let not_found = |what: &str| refuse(StatusCode::NOT_FOUND, ErrorCode::BadUserInput, what);
    let Some(feed) = &state.live else {
        return not_found("live updates are turned off (live.enabled = false)");
    };
    let Some(webhook) = WEBHOOKS.iter().find(|w| w.name() == provider) else {
        return not_found("no such provider webhook");
    };
    let Some(tenant) = state.auth.tenants().by_name(&tenant) else {
        return not_found("no such tenant");
    };
    let url = called_url(&state, &headers, &uri);
    let delivery = Delivery {
        headers: &headers,
        url: &url,
        body: &body,
    };
    let hints = match webhook.receive(&tenant.providers, &delivery) {
        Ok(hints) => hints,
        Err(WebhookError::NotConfigured) => return not_found("this webhook is not configured for this tenant"),
        Err(WebhookError::Refused) => {
            feed.hub_metrics().webhook_rejected(webhook.name());
            tracing::info!(
                tenant = tenant.id.as_str(),
                provider = webhook.name(),
                "webhook refused: bad signature or secret"
            );
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "the signature or secret does not match",
            );
        }
        Err(WebhookError::Unreadable(why)) => return refuse(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, why),
    };
    let mut unread = false;
    for hint in hints {
        if let Err(e) = feed
            .hint(&tenant.id, hint.kind, &hint.native_id, webhook.source())
            .await
        {
            tracing::debug!(tenant = tenant.id.as_str(), call = hint.native_id, error = ?e.message, "webhook: the call could not be read; the poller will");
            unread = true;
        }
    }
    match unread {
        true => {
            feed.poke();
            StatusCode::ACCEPTED.into_response()
        }
        false => StatusCode::NO_CONTENT.into_response(),
    }
}
