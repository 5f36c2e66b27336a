//! Verifying SignalWire's signed callbacks (status callbacks of calls and logs), as
//! SignalWire signs them: HMAC-SHA1 with the project's signing key, sent in
//! `X-SignalWire-Signature` (`X-Twilio-Signature` on the cXML compatibility surface).
//!
//! Two schemes, tried in this order, as SignalWire's own SDK validates them
//! (signalwire/signalwire-typescript `src/WebhookValidator.ts`, `validateWebhookSignature`):
//! - JSON callbacks (RELAY, SWML): the hex digest over the URL followed by the raw body;
//! - form-encoded callbacks (cXML, Twilio-compatible): the base64 digest over the URL
//!   followed by every parameter as `key` + `value`, sorted by key (repeated keys in their
//!   order), also tried with the standard port added to or removed from the URL, and with
//!   no parameters (JSON sent on the compatibility surface, whose URL then carries
//!   `bodySHA256`, the hex SHA-256 of the body, which must match).
//!
//! Digests are compared in constant time. The signature has no timestamp, so replays are
//! the caller's to drop (by event id).

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha1 = Hmac<Sha1>;

/// Whether `signature` is SignalWire's for a callback of `body` posted to `url` (the URL
/// exactly as SignalWire called it: scheme, host, port, path and query), signed with
/// `signing_key`.
pub fn verify(signing_key: &[u8], signature: &str, url: &str, body: &[u8]) -> bool {
    let signature = signature.trim();
    if signing_key.is_empty() || signature.is_empty() {
        return false;
    }
    // JSON: hex over URL + raw body.
    if let Ok(expected) = hex::decode(signature)
        && matches(signing_key, &[url.as_bytes(), body], &expected)
    {
        return true;
    }
    // Form-encoded: base64 over URL + sorted parameters (or none).
    use base64::Engine;
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return false;
    };
    let params = sorted_params(body);
    for candidate in urls(url) {
        for concatenated in [params.as_bytes(), b""] {
            if matches(signing_key, &[candidate.as_bytes(), concatenated], &expected)
                && body_hash_fits(&candidate, body)
            {
                return true;
            }
        }
    }
    false
}

/// Whether the HMAC-SHA1 of `parts` (concatenated) is `expected`, compared in constant time.
fn matches(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let Ok(mut mac) = HmacSha1::new_from_slice(key) else {
        return false;
    };
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected).is_ok()
}

/// A form body's parameters as `key` + `value`, sorted by key (stable: repeated keys keep
/// their order); empty when the body is not form data.
fn sorted_params(body: &[u8]) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs.into_iter().map(|(k, v)| k + &v).collect()
}

/// `url`, and `url` with its scheme's standard port added (when it has none) or removed
/// (when it has that one): proxies in between may show either form.
fn urls(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return out;
    };
    let standard = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return out,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let (host, port) = match host_port.rfind(':') {
        Some(colon)
            if !host_port[colon + 1..].is_empty()
                && host_port[colon + 1..].bytes().all(|b| b.is_ascii_digit())
                && !host_port[colon..].contains(']') =>
        {
            (&host_port[..colon], Some(&host_port[colon + 1..]))
        }
        _ => (host_port, None),
    };
    match port {
        None => out.push(format!("{scheme}://{userinfo}{host}:{standard}{tail}")),
        Some(port) if port == standard => out.push(format!("{scheme}://{userinfo}{host}{tail}")),
        Some(_) => {}
    }
    out
}

/// When the URL carries `bodySHA256`, whether it is the hex SHA-256 of `body`.
fn body_hash_fits(url: &str, body: &[u8]) -> bool {
    let Some((_, query)) = url.split_once('?') else {
        return true;
    };
    let query = query.split('#').next().unwrap_or("");
    match url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "bodySHA256") {
        None => true,
        Some((_, expected)) => {
            let actual = hex::encode(Sha256::digest(body));
            // Not secret: the body and its hash are both the caller's.
            actual.eq_ignore_ascii_case(&expected)
        }
    }
}

/// The webhook of `/webhooks/{tenant}/signalwire`: status callbacks of voice calls.
pub struct SignalWireWebhook;

pub const WEBHOOK: SignalWireWebhook = SignalWireWebhook;

/// The voice log a callback is about: a form (cXML) callback's `CallSid`; a JSON (RELAY)
/// callback's `params.segment_id` (what `/api/voice/logs/{id}` is keyed by, per its
/// spec) or else `params.call_id`, or a top-level `call_id`/`CallSid`. An id that is no
/// voice log's reads as not found, and the poller still finds the call.
fn call_id(body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let text = |v: &serde_json::Value, key: &str| v.get(key).and_then(|x| x.as_str()).map(str::to_string);
        let params = json.get("params").unwrap_or(&serde_json::Value::Null);
        return text(params, "segment_id")
            .or_else(|| text(params, "call_id"))
            .or_else(|| text(&json, "call_id"))
            .or_else(|| text(&json, "CallSid"));
    }
    url::form_urlencoded::parse(body)
        .find(|(key, _)| key == "CallSid")
        .map(|(_, value)| value.into_owned())
        .filter(|id| !id.is_empty())
}

impl crate::providers::webhooks::Webhook for SignalWireWebhook {
    fn name(&self) -> &'static str {
        "signalwire"
    }

    fn source(&self) -> &'static str {
        "webhook_signalwire"
    }

    fn receive(
        &self,
        providers: &crate::providers::ProvidersConfig,
        delivery: &crate::providers::webhooks::Delivery<'_>,
    ) -> Result<Vec<crate::providers::webhooks::Hint>, crate::providers::webhooks::WebhookError> {
        use crate::providers::webhooks::{Hint, WebhookError};
        let key = providers
            .signalwire
            .as_ref()
            .and_then(|c| c.signing_key.as_ref())
            .ok_or(WebhookError::NotConfigured)?;
        let signature = ["x-signalwire-signature", "x-twilio-signature"]
            .iter()
            .find_map(|name| delivery.headers.get(*name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !verify(key.expose().as_bytes(), signature, delivery.url, delivery.body) {
            return Err(WebhookError::Refused);
        }
        let id = call_id(delivery.body).ok_or(WebhookError::Unreadable("the callback names no call (`CallSid`)"))?;
        Ok(vec![Hint {
            kind: super::VOICE_LOG,
            native_id: id,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected signatures computed apart from this code (Python's `hmac` and `hashlib`).
    const KEY: &[u8] = b"PSK_test_signing_key";
    const JSON_SIGNATURE: &str = "7b36ddbd1d30ee50d0d1ecd58b7f4fbcd29b68f6";
    const FORM_SIGNATURE: &str = "fIWXFe2+yjiZ/Kx9ig2q2zysKJg=";
    const BODY_HASH_SIGNATURE: &str = "XBSzanjfqSSZtfRsqKqzhriHwoU=";

    #[test]
    fn a_json_callback_is_signed_in_hex_over_the_url_and_the_raw_body() {
        let url = "https://gateway.example.com/webhooks/default/signalwire";
        let body = br#"{"event_type":"calling.call.state","params":{"call_id":"c-1","call_state":"ended"}}"#;
        assert!(verify(KEY, JSON_SIGNATURE, url, body));
        assert!(
            !verify(KEY, JSON_SIGNATURE, url, &body[..body.len() - 1]),
            "a changed body"
        );
        assert!(!verify(KEY, JSON_SIGNATURE, &format!("{url}?x=1"), body), "another URL");
        assert!(!verify(b"another key", JSON_SIGNATURE, url, body), "another key");
    }

    #[test]
    fn a_form_callback_is_signed_in_base64_over_the_url_and_the_sorted_parameters() {
        let url = "https://gateway.example.com/webhooks/default/signalwire?tenant=a";
        let body = b"To=%2B18005551212&CallStatus=completed&From=%2B12349013030&CallSid=CA123";
        assert!(verify(KEY, FORM_SIGNATURE, url, body));
        // The same parameters in another order are the same callback.
        let reordered = b"CallSid=CA123&From=%2B12349013030&CallStatus=completed&To=%2B18005551212";
        assert!(verify(KEY, FORM_SIGNATURE, url, reordered));
        let tampered = b"To=%2B18005551212&CallStatus=failed&From=%2B12349013030&CallSid=CA123";
        assert!(!verify(KEY, FORM_SIGNATURE, url, tampered));
        // Signed with the standard port shown, verified without it (and the reverse).
        let with_port = "https://gateway.example.com:443/webhooks/default/signalwire?tenant=a";
        assert!(verify(KEY, FORM_SIGNATURE, with_port, body));
        assert!(!verify(
            KEY,
            FORM_SIGNATURE,
            "https://gateway.example.com:8443/webhooks/default/signalwire?tenant=a",
            body
        ));
    }

    #[test]
    fn json_on_the_compatibility_surface_is_held_to_its_body_hash() {
        let body = br#"{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}"#;
        let url = format!(
            "https://example.com/myapp?bodySHA256={}",
            hex::encode(Sha256::digest(body))
        );
        assert!(verify(KEY, BODY_HASH_SIGNATURE, &url, body));
        assert!(!verify(
            KEY,
            BODY_HASH_SIGNATURE,
            &url,
            br#"{"CallSid":"CA0","Caller":"+12349013030"}"#
        ));
    }

    #[test]
    fn the_call_a_callback_is_about_comes_from_its_call_sid_or_its_segment() {
        assert_eq!(call_id(b"CallStatus=ringing&CallSid=abc").as_deref(), Some("abc"));
        assert_eq!(
            call_id(br#"{"event_type":"calling.call.state","params":{"call_id":"c","segment_id":"s"}}"#).as_deref(),
            Some("s")
        );
        assert_eq!(call_id(br#"{"params":{"call_id":"c"}}"#).as_deref(), Some("c"));
        assert_eq!(call_id(b"CallStatus=ringing"), None);
    }

    #[test]
    fn nothing_verifies_without_a_signature_or_a_key() {
        assert!(!verify(KEY, "", "https://x.example/", b"{}"));
        assert!(!verify(b"", JSON_SIGNATURE, "https://x.example/", b"{}"));
        assert!(!verify(KEY, "not base64 or hex!", "https://x.example/", b"{}"));
    }

    #[test]
    fn standard_ports_are_added_or_removed_and_others_kept() {
        assert_eq!(
            urls("https://a.example/p?q"),
            ["https://a.example/p?q", "https://a.example:443/p?q"]
        );
        assert_eq!(
            urls("http://a.example:80/p"),
            ["http://a.example:80/p", "http://a.example/p"]
        );
        assert_eq!(urls("http://a.example:8080/p"), ["http://a.example:8080/p"]);
        assert_eq!(
            urls("https://u@[::1]:443/"),
            ["https://u@[::1]:443/", "https://u@[::1]/"]
        );
    }
}
