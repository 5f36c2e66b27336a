//! CORS for browser apps on other origins, from `[server.cors]`.
//!
//! Only origins on the allowlist (exact, or a pattern with one `*` standing for DNS
//! labels) get CORS headers; any other origin gets none, also on a preflight, so the
//! browser blocks it. Nothing is allowed by default. Credentials are off unless
//! configured, and never together with a wildcard origin.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::config::CorsConfig;

/// The compiled `[server.cors]` policy.
#[derive(Debug)]
pub(super) struct Cors {
    exact: Vec<String>,
    patterns: Vec<(String, String)>,
    any: bool,
    allow_headers: HeaderValue,
    max_age: HeaderValue,
    credentials: bool,
}

impl Cors {
    /// The policy, or `None` when no origin is allowed (then no middleware runs at all).
    pub(super) fn from_config(config: &CorsConfig) -> Option<Arc<Cors>> {
        if config.allow_origins.is_empty() {
            return None;
        }
        let mut cors = Cors {
            exact: Vec::new(),
            patterns: Vec::new(),
            any: false,
            allow_headers: HeaderValue::from_str(&config.allow_headers.join(", "))
                .unwrap_or(HeaderValue::from_static("content-type, authorization")),
            max_age: HeaderValue::from(config.max_age.as_secs()),
            credentials: config.allow_credentials,
        };
        for origin in &config.allow_origins {
            match origin.split_once('*') {
                _ if origin == "*" => cors.any = true,
                Some((prefix, suffix)) => cors.patterns.push((prefix.to_string(), suffix.to_string())),
                None => cors.exact.push(origin.trim_end_matches('/').to_string()),
            }
        }
        Some(Arc::new(cors))
    }

    /// Whether `origin` may call the gateway.
    pub(super) fn allows(&self, origin: &str) -> bool {
        if self.any || self.exact.iter().any(|o| o == origin) {
            return true;
        }
        self.patterns.iter().any(|(prefix, suffix)| {
            origin.len() > prefix.len() + suffix.len()
                && origin.starts_with(prefix.as_str())
                && origin.ends_with(suffix.as_str())
                && origin[prefix.len()..origin.len() - suffix.len()]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        })
    }

    fn allow(&self, headers: &mut HeaderMap, origin: &HeaderValue) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
}

/// The middleware: answers preflights, adds CORS headers for allowed origins.
pub(super) async fn layer(State(cors): State<Arc<Cors>>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| cors.allows(o));
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut response = (StatusCode::NO_CONTENT, Body::empty()).into_response();
        if let (true, Some(origin)) = (allowed, &origin) {
            let headers = response.headers_mut();
            cors.allow(headers, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, cors.allow_headers.clone());
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, cors.max_age.clone());
        }
        response
    } else {
        let mut response = next.run(request).await;
        if let (true, Some(origin)) = (allowed, &origin) {
            cors.allow(response.headers_mut(), origin);
            // What a page may read beyond the safelisted headers: an export's file name,
            // where its budget stands and when to retry.
            response.headers_mut().insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(
                    "Content-Disposition, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After",
                ),
            );
        }
        response
    };
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str]) -> Arc<Cors> {
        Cors::from_config(&CorsConfig {
            allow_origins: origins.iter().map(|o| o.to_string()).collect(),
            ..CorsConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn exact_origins_and_one_label_patterns_match_nothing_else() {
        let c = cors(&["https://app.example.com", "https://*.preview.example.com"]);
        assert!(c.allows("https://app.example.com"));
        assert!(!c.allows("https://app.example.com.evil.net"));
        assert!(!c.allows("http://app.example.com"));
        assert!(c.allows("https://pr-12.preview.example.com"));
        assert!(!c.allows("https://.preview.example.com"));
        assert!(!c.allows("https://evil.net/x.preview.example.com"));
        assert!(!c.allows("https://evil.net:1@x.preview.example.com"));
        assert!(
            Cors::from_config(&CorsConfig::default()).is_none(),
            "nothing allowed by default"
        );
    }
}
