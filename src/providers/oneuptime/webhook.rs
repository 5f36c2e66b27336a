//! OneUptime's push: a workflow (OneUptime's "Workflows", a "Webhook" component triggered
//! when a Call Log is created) posts JSON naming the call log to
//! `/webhooks/{tenant}/oneuptime`, with the tenant's shared secret in `X-Webhook-Secret`.
//! OneUptime does not sign workflow requests, so the secret is the authentication; it is
//! compared in constant time. The body's call log id is read from `callLogId`, `_id` or
//! `id`, at the top level or under `data` (a workflow may pass the triggering record on).

use serde_json::Value;

use crate::providers::ProvidersConfig;
use crate::providers::webhooks::{Delivery, Hint, Webhook, WebhookError, constant_time_eq};

/// The header carrying the shared secret.
pub const SECRET_HEADER: &str = "x-webhook-secret";

pub struct OneUptimeWebhook;

pub const WEBHOOK: OneUptimeWebhook = OneUptimeWebhook;

/// The call log id a workflow's body names.
fn call_log_id(body: &Value) -> Option<String> {
    let pick = |object: &Value| {
        ["callLogId", "_id", "id"]
            .iter()
            .find_map(|key| object.get(key).and_then(Value::as_str).map(str::to_string))
    };
    pick(body).or_else(|| body.get("data").and_then(pick))
}

impl Webhook for OneUptimeWebhook {
    fn name(&self) -> &'static str {
        "oneuptime"
    }

    fn source(&self) -> &'static str {
        "webhook_oneuptime"
    }

    fn receive(&self, providers: &ProvidersConfig, delivery: &Delivery<'_>) -> Result<Vec<Hint>, WebhookError> {
        let secret = providers
            .oneuptime
            .as_ref()
            .and_then(|c| c.webhook_secret.as_ref())
            .ok_or(WebhookError::NotConfigured)?;
        let given = delivery
            .headers
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if given.is_empty() || !constant_time_eq(given, secret.expose().as_bytes()) {
            return Err(WebhookError::Refused);
        }
        let body: Value =
            serde_json::from_slice(delivery.body).map_err(|_| WebhookError::Unreadable("the body is not JSON"))?;
        let id = call_log_id(&body).ok_or(WebhookError::Unreadable(
            "the body names no call log (`callLogId`, `_id` or `id`)",
        ))?;
        Ok(vec![Hint {
            kind: super::CALL_LOG,
            native_id: id,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_call_log_id_is_read_from_the_usual_keys_or_under_data() {
        assert_eq!(call_log_id(&json!({"callLogId": "a"})).as_deref(), Some("a"));
        assert_eq!(call_log_id(&json!({"data": {"_id": "b"}})).as_deref(), Some("b"));
        assert_eq!(
            call_log_id(&json!({"id": "c", "data": {"_id": "b"}})).as_deref(),
            Some("c")
        );
        assert_eq!(call_log_id(&json!({"other": 1})), None);
    }
}
