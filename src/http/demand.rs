//! Fair use at the edge (`[limits]`, README "Fair use"): each request's estimated cost is
//! reserved from its tenant's and user's budgets before anything runs (429 `RATE_LIMITED`
//! with `Retry-After` when it does not fit), its actual cost settled after, and every
//! answer says where the budget stands: `extensions.cost` in the body and the
//! `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` header fields.
//!
//! Budgets and the cost unit are `demand`'s; the estimate is `graphql::cost`'s.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::observe::Facts;
use crate::auth::Caller;
use crate::demand::{Admission, Budgets, Cost, Payer, Standing, Ticket, User};
use crate::graphql::cost::CostModel;
use crate::graphql::error::{ErrorCode, GatewayError};

/// The budgets and what prices a document.
pub struct Demand {
    pub budgets: Budgets,
    pub model: CostModel,
}

/// Who pays, owned for the settlement after the request ran.
enum Owner {
    Subject(Arc<str>),
    ApiKey,
}

/// A request's reservation, settled once it ran.
pub(super) struct Charge {
    tenant: crate::domain::TenantId,
    user: Option<Owner>,
    ticket: Ticket,
}

impl Charge {
    /// The budget's standing after the reservation (what `rateLimit` shows).
    pub(super) fn standing(&self) -> Standing {
        self.ticket.standing
    }

    fn payer(&self) -> Payer<'_> {
        Payer {
            tenant: self.tenant.as_str(),
            user: self.user.as_ref().map(|owner| match owner {
                Owner::Subject(sub) => User::Subject(sub),
                Owner::ApiKey => User::ApiKey,
            }),
        }
    }
}

impl Demand {
    /// Reserves `estimate` for `caller`, or says why not.
    pub(super) async fn admit(&self, caller: &Caller, estimate: Cost) -> Result<Charge, Refusal> {
        let payer = Payer {
            tenant: caller.tenant.id.as_str(),
            user: caller.user(),
        };
        match self.budgets.admit(payer, estimate).await {
            Admission::Admitted(ticket) => Ok(Charge {
                tenant: caller.tenant.id.clone(),
                user: match (&caller.subject, caller.user()) {
                    (Some(sub), Some(User::Subject(_))) => Some(Owner::Subject(sub.clone())),
                    (_, Some(_)) => Some(Owner::ApiKey),
                    (_, None) => None,
                },
                ticket,
            }),
            Admission::Refused {
                retry_after_secs,
                standing,
            } => Err(Refusal {
                estimate,
                retry_after_secs,
                standing,
            }),
        }
    }

    /// Charges what the request really cost, and says where the budget stands now.
    pub(super) async fn settle(&self, charge: &Charge, actual: Cost) -> Standing {
        self.budgets.settle(charge.payer(), &charge.ticket, actual).await
    }
}

/// The `extensions.cost` object.
pub(super) fn cost_json(requested: Cost, actual: Cost, standing: &Standing) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut number = itoa::Buffer::new();
    for (key, value) in [
        (&b"{\"requested\":"[..], requested.0),
        (b",\"actual\":", actual.0),
        (b",\"limit\":", standing.limit),
        (b",\"remaining\":", standing.remaining),
    ] {
        out.extend_from_slice(key);
        out.extend_from_slice(number.format(value).as_bytes());
    }
    out.extend_from_slice(b",\"resetAt\":\"");
    let second = standing.full_at_us.max(standing.now_us).div_ceil(1_000_000);
    RESET_AT.with_borrow_mut(|(at, text)| {
        if *at != second || text.is_empty() {
            *at = second;
            let instant = std::time::UNIX_EPOCH + std::time::Duration::from_secs(second);
            *text = chrono::DateTime::<chrono::Utc>::from(instant).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        }
        out.extend_from_slice(text.as_bytes());
    });
    out.extend_from_slice(b"\"}");
    out
}

thread_local! {
    /// The last `resetAt` written on this thread (a second and its RFC 3339 text): most
    /// answers of one second share it.
    static RESET_AT: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((0, String::new())) };
}

/// A rendered answer (a JSON object whose `extensions`, when `extended`, is its last
/// entry) with `cost` in its extensions.
pub(super) fn with_cost(body: &[u8], extended: bool, cost: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + cost.len() + 24);
    if extended {
        // `...,"extensions":{...}}`: add to the object before its two closing braces.
        out.extend_from_slice(&body[..body.len() - 2]);
        out.extend_from_slice(b",\"cost\":");
        out.extend_from_slice(cost);
        out.extend_from_slice(b"}}");
    } else {
        out.extend_from_slice(&body[..body.len() - 1]);
        out.extend_from_slice(b",\"extensions\":{\"cost\":");
        out.extend_from_slice(cost);
        out.extend_from_slice(b"}}");
    }
    out
}

/// Sets the `RateLimit-*` header fields of `standing`.
pub(super) fn headers(headers: &mut HeaderMap, standing: &Standing) {
    const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
    const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
    const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
    headers.insert(LIMIT, HeaderValue::from(standing.limit));
    headers.insert(REMAINING, HeaderValue::from(standing.remaining));
    headers.insert(RESET, HeaderValue::from(standing.reset_in_secs()));
}

/// A request whose estimate does not fit what is left.
pub(super) struct Refusal {
    estimate: Cost,
    retry_after_secs: u64,
    standing: Standing,
}

impl Refusal {
    /// The error saying so, with when to retry.
    pub(super) fn error(&self) -> GatewayError {
        let Refusal {
            estimate,
            retry_after_secs,
            standing,
        } = self;
        GatewayError {
            retry_after_seconds: Some(*retry_after_secs),
            ..GatewayError::new(
                ErrorCode::RateLimited,
                format!(
                    "this request is estimated to cost {}, more than the {} left of this budget (limits); retry in {retry_after_secs} s",
                    estimate.0, standing.remaining
                ),
            )
        }
    }

    /// The 429 answer: nothing ran.
    pub(super) fn response(&self) -> Response {
        refused(self.error(), self.estimate, self.retry_after_secs, &self.standing)
    }
}

/// 429: the estimate does not fit; nothing ran.
fn refused(error: GatewayError, estimate: Cost, retry_after_secs: u64, standing: &Standing) -> Response {
    let mut body = serde_json::to_vec(&serde_json::json!({ "errors": [error.server_error()] })).unwrap_or_default();
    body = with_cost(&body, false, &cost_json(estimate, Cost(0), standing));
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::RETRY_AFTER, HeaderValue::from(retry_after_secs)),
        ],
        body,
    )
        .into_response();
    headers(response.headers_mut(), standing);
    response
        .extensions_mut()
        .insert(Facts::refused(ErrorCode::RateLimited.as_str()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_goes_into_the_extensions_whether_the_answer_has_them_or_not() {
        let plain = with_cost(br#"{"data":{"a":1}}"#, false, br#"{"actual":1}"#);
        assert_eq!(plain, br#"{"data":{"a":1},"extensions":{"cost":{"actual":1}}}"#);
        let extended = with_cost(
            br#"{"data":{"a":1},"extensions":{"timelineScanCut":true}}"#,
            true,
            br#"{"actual":1}"#,
        );
        assert_eq!(
            extended,
            br#"{"data":{"a":1},"extensions":{"timelineScanCut":true,"cost":{"actual":1}}}"#
        );
        for body in [plain, extended] {
            serde_json::from_slice::<serde_json::Value>(&body).expect("still JSON");
        }
    }
}
