//! Who is calling: a gateway API key, or an end user's OIDC JWT
//! from the `Authorization` header or (when configured) a cookie, resolved to a tenant.
//!
//! A cookie is sent by the browser on its own, so a request authenticated by one must also
//! carry the configured CSRF header, which a cross-site form cannot set and a script on
//! another origin can set only where CORS allows it.

pub mod config;
mod jwks;
mod jwt;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, header};

use crate::auth::config::AuthConfig;
use crate::authz::Granted;
use crate::tenancy::{Tenant, Tenants};

/// Why a request has no tenant. Each maps to a 401 `UNAUTHENTICATED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials at all.
    Missing,
    /// An unknown key, or a token that failed any check.
    Invalid,
    /// A cookie token without the CSRF header.
    MissingCsrfHeader(HeaderName),
}

impl AuthError {
    /// The `WWW-Authenticate` challenge (RFC 6750 §3).
    pub fn challenge(&self) -> &'static str {
        match self {
            AuthError::Missing => "Bearer realm=\"switchboard\"",
            AuthError::Invalid => "Bearer realm=\"switchboard\", error=\"invalid_token\"",
            AuthError::MissingCsrfHeader(_) => "Bearer realm=\"switchboard\", error=\"invalid_request\"",
        }
    }

    /// What the client is told: never which check a token failed.
    pub fn message(&self) -> String {
        match self {
            AuthError::Missing => "send `Authorization: Bearer <API key or token>`".into(),
            AuthError::Invalid => "the API key or token is not valid".into(),
            AuthError::MissingCsrfHeader(name) => {
                format!("a request authenticated by cookie must send the `{name}` header")
            }
        }
    }
}

/// End-user tokens: how they are verified and where they may come from.
struct JwtAuth {
    verifier: jwt::JwtVerifier,
    cookie: Option<String>,
    csrf_header: HeaderName,
}

/// Who is calling: its tenant, who signed in (for a token), and the scopes it holds.
#[derive(Clone)]
pub struct Caller {
    pub tenant: Arc<Tenant>,
    /// The token's `sub`.
    pub subject: Option<Arc<str>>,
    /// The token's `azp`.
    pub party: Option<Arc<str>>,
    pub granted: Granted,
    /// The token's `exp` (seconds since the Unix epoch); `None` for API keys.
    pub expires: Option<u64>,
    /// Whether the caller sent the tenant's gateway API key.
    pub by_key: bool,
}

impl Caller {
    /// Whom a user budget (`[limits]`) charges: the token's `sub`, or the tenant's API key;
    /// `None` for a caller that is neither (an open single tenant).
    pub fn user(&self) -> Option<crate::demand::User<'_>> {
        match (&self.subject, self.by_key) {
            (Some(subject), _) => Some(crate::demand::User::Subject(subject)),
            (None, true) => Some(crate::demand::User::ApiKey),
            (None, false) => None,
        }
    }

    /// A caller that holds every scope (a trusted service, or no `[authorization]`).
    fn trusted(tenant: &Arc<Tenant>) -> Caller {
        Caller {
            tenant: tenant.clone(),
            subject: None,
            party: None,
            granted: Granted::Everything,
            expires: None,
            by_key: false,
        }
    }

    /// A caller with the tenant's API key: its `scopes`, or every scope.
    fn with_key(tenant: &Arc<Tenant>) -> Caller {
        let mut caller = Caller::trusted(tenant);
        caller.by_key = true;
        if let Some(scopes) = &tenant.key_scopes {
            caller.granted = Granted::Scopes(scopes.as_slice().into());
        }
        caller
    }
}

/// Resolves a request's credentials to its tenant.
pub struct Authenticator {
    tenants: Arc<Tenants>,
    jwt: Option<JwtAuth>,
}

impl Authenticator {
    /// `scopes_claim`: the token claim holding scopes, when `[authorization]` is configured.
    pub fn new(
        config: &AuthConfig,
        scopes_claim: Option<&str>,
        tenants: Arc<Tenants>,
        http: &reqwest::Client,
    ) -> Result<Authenticator, String> {
        let jwt = match &config.jwt {
            None => None,
            Some(jwt) => Some(JwtAuth {
                verifier: jwt::JwtVerifier::from_config(jwt, scopes_claim, http)?,
                cookie: jwt.cookie.clone(),
                csrf_header: HeaderName::try_from(jwt.csrf_header.as_str())
                    .map_err(|_| "auth.jwt.csrf_header is not a valid header name".to_string())?,
            }),
        };
        Ok(Authenticator { tenants, jwt })
    }

    pub fn tenants(&self) -> &Arc<Tenants> {
        &self.tenants
    }

    /// The caller and its tenant. Without gateway keys and JWTs, every request is the
    /// single tenant's, with every scope.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        if let Some(token) = bearer(headers) {
            if let Some(tenant) = self.tenants.by_key(token) {
                return Ok(Caller::with_key(tenant));
            }
            return match &self.jwt {
                Some(jwt) if looks_like_jwt(token) => Box::pin(self.by_token(jwt, token)).await,
                None => self.tenants.single().map(Caller::trusted).ok_or(AuthError::Invalid),
                Some(_) => Err(AuthError::Invalid),
            };
        }
        if let Some(jwt) = &self.jwt
            && let Some(token) = jwt.cookie.as_deref().and_then(|name| cookie(headers, name))
        {
            let csrf = headers.get(&jwt.csrf_header).is_some_and(|v| !v.as_bytes().is_empty());
            if !csrf {
                return Err(AuthError::MissingCsrfHeader(jwt.csrf_header.clone()));
            }
            return Box::pin(self.by_token(jwt, token)).await;
        }
        match (&self.jwt, self.tenants.single()) {
            (None, Some(single)) => Ok(Caller::trusted(single)),
            _ => Err(AuthError::Missing),
        }
    }

    async fn by_token(&self, jwt: &JwtAuth, token: &str) -> Result<Caller, AuthError> {
        let verified = jwt.verifier.verify(token).await.map_err(|why| {
            tracing::debug!(reason = %why, "JWT refused");
            AuthError::Invalid
        })?;
        let tenant = match &verified.tenant {
            Some(name) => self.tenants.by_name(name),
            None => self.tenants.single(),
        };
        let tenant = tenant.cloned().ok_or_else(|| {
            tracing::debug!(tenant = ?verified.tenant, "JWT names no configured tenant");
            AuthError::Invalid
        })?;
        Ok(Caller {
            tenant,
            subject: verified.subject.clone(),
            party: verified.party.clone(),
            granted: verified.granted.clone().unwrap_or(Granted::Everything),
            expires: verified.expires,
            by_key: false,
        })
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim_start();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Three base64url segments: a JWS in compact form (an API key is one opaque string).
fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// The value of cookie `name` in the request's `Cookie` headers (RFC 6265 §5.4).
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_cookie_is_found_among_several_and_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; theme=dark"));
        headers.append(header::COOKIE, HeaderValue::from_static("sb_token=\"x.y.z\"; b=2"));
        assert_eq!(cookie(&headers, "sb_token"), Some("x.y.z"));
        assert_eq!(cookie(&headers, "theme"), Some("dark"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn only_a_three_segment_token_is_taken_for_a_jwt() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("sk_live_123"));
        assert!(!looks_like_jwt("a.b"));
    }
}
