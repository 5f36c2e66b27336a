//! `[auth]`: how end users sign in (OIDC JWTs besides gateway API keys).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::settings::ConfigError;

/// `[auth]`: how end users (browsers) sign in.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Accept JWTs from the team's identity provider; unset: gateway API keys only.
    pub jwt: Option<JwtConfig>,
}

/// `[auth.jwt]`: tokens of an OIDC identity provider, verified against its JWKS or a
/// static public key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// The `iss` every token must carry.
    pub issuer: String,
    /// Tokens must name one of these in `aud`.
    pub audiences: Vec<String>,
    /// Where the provider publishes its keys (`jwks_uri` of its OIDC discovery document).
    pub jwks_url: Option<Url>,
    /// A static public key (PEM, RSA or EC P-256) instead of a JWKS.
    pub public_key_pem: Option<String>,
    /// Signature algorithms accepted (`RS256`, `RS384`, `RS512`, `ES256`, `ES384`, `PS256`...).
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(with = "humantime_serde")]
    pub leeway: Duration,
    /// The claim whose string value names the tenant (`[[tenants]] name`); required when
    /// tenants are listed.
    pub tenant_claim: Option<String>,
    /// Also read the token from this cookie; requests that use it must send `csrf_header`.
    pub cookie: Option<String>,
    /// The header a cookie-authenticated request must carry (any non-empty value): a
    /// cross-site form or link cannot set it, and a script on another origin needs CORS.
    pub csrf_header: String,
    /// How long fetched keys are used before the JWKS is fetched again.
    #[serde(with = "humantime_serde")]
    pub jwks_ttl: Duration,
    /// Least time between two fetches caused by tokens with an unknown `kid`.
    #[serde(with = "humantime_serde")]
    pub jwks_min_refresh: Duration,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            issuer: String::new(),
            audiences: Vec::new(),
            jwks_url: None,
            public_key_pem: None,
            algorithms: vec!["RS256".into(), "ES256".into()],
            leeway: Duration::from_secs(30),
            tenant_claim: None,
            cookie: None,
            csrf_header: "x-switchboard-csrf".into(),
            jwks_ttl: Duration::from_secs(600),
            jwks_min_refresh: Duration::from_secs(10),
        }
    }
}

/// The algorithms `[auth.jwt] algorithms` may name.
pub const JWT_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

impl JwtConfig {
    /// Checks `[auth.jwt]`; `has_tenants`: whether `[[tenants]]` are listed.
    pub fn validate(&self, has_tenants: bool) -> Result<(), ConfigError> {
        let jwt = self;
        let invalid = |k: &str, problem: &str| ConfigError::Invalid {
            key: format!("auth.jwt.{k}"),
            problem: problem.to_string(),
        };
        if jwt.issuer.trim().is_empty() {
            return Err(invalid("issuer", "is required (the `iss` of your identity provider)"));
        }
        if jwt.audiences.iter().all(|a| a.trim().is_empty()) {
            return Err(invalid("audiences", "must name at least one audience"));
        }
        if jwt.jwks_url.is_some() == jwt.public_key_pem.is_some() {
            return Err(invalid(
                "jwks_url",
                "exactly one of `jwks_url` and `public_key_pem` must be set",
            ));
        }
        if let Some(url) = &jwt.jwks_url
            && (!matches!(url.scheme(), "http" | "https") || url.host().is_none())
        {
            return Err(invalid("jwks_url", "must be an http(s) URL with a host"));
        }
        if jwt.algorithms.is_empty() || jwt.algorithms.iter().any(|a| !JWT_ALGORITHMS.contains(&a.as_str())) {
            return Err(invalid(
                "algorithms",
                "must list algorithms among RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA",
            ));
        }
        if jwt.leeway > Duration::from_secs(300) {
            return Err(invalid("leeway", "must be at most 5m"));
        }
        match (&jwt.tenant_claim, has_tenants) {
            (None, true) => {
                return Err(invalid(
                    "tenant_claim",
                    "is required when tenants are listed (the claim that names a tenant)",
                ));
            }
            (Some(_), false) => {
                return Err(invalid(
                    "tenant_claim",
                    "names a tenant, but no [[tenants]] are listed (every valid token reaches the single tenant)",
                ));
            }
            _ => {}
        }
        if jwt.cookie.is_some() && axum::http::HeaderName::try_from(jwt.csrf_header.as_str()).is_err() {
            return Err(invalid("csrf_header", "is not a valid header name"));
        }
        Ok(())
    }
}
