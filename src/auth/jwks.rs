//! The identity provider's signing keys: a JWKS fetched over HTTP and cached (fetched
//! again after `jwks_ttl`, or early when a token names a `kid` the set lacks, at most once
//! per `jwks_min_refresh` so forged `kid`s cannot hammer the provider), or one static key.
//!
//! A key the set cannot use (another `kty`, `use: enc`, a malformed entry) is skipped, not
//! fatal: identity providers publish keys for other consumers too. A failed fetch keeps
//! the keys already known.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::time::Instant;
use url::Url;

/// Largest JWKS document read.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// One key a token may be verified with.
pub(super) struct VerifyingKey {
    pub key: DecodingKey,
    /// The algorithm the key is published for (`alg` of the JWK), when it says.
    pub alg: Option<Algorithm>,
}

impl VerifyingKey {
    fn fits(&self, alg: Algorithm) -> bool {
        self.alg.is_none_or(|a| a == alg)
    }
}

/// Where keys come from.
pub(super) enum KeySource {
    Static(Arc<VerifyingKey>),
    Remote(Box<RemoteKeys>),
}

impl KeySource {
    /// A static public key in PEM (RSA, EC or Ed25519).
    pub(super) fn from_pem(pem: &str) -> Result<KeySource, String> {
        let bytes = pem.as_bytes();
        let key = DecodingKey::from_rsa_pem(bytes)
            .or_else(|_| DecodingKey::from_ec_pem(bytes))
            .or_else(|_| DecodingKey::from_ed_pem(bytes))
            .map_err(|_| "auth.jwt.public_key_pem is not an RSA, EC or Ed25519 public key in PEM".to_string())?;
        Ok(KeySource::Static(Arc::new(VerifyingKey { key, alg: None })))
    }

    /// The key for a token's `kid` and `alg`, fetching the JWKS when needed.
    pub(super) async fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerifyingKey>> {
        match self {
            KeySource::Static(key) => Some(key.clone()),
            KeySource::Remote(remote) => remote.find(kid, alg).await,
        }
    }
}

/// A JWKS URL and what was last fetched from it.
pub(super) struct RemoteKeys {
    url: Url,
    http: reqwest::Client,
    ttl: Duration,
    min_refresh: Duration,
    set: RwLock<KeySet>,
    /// One fetch at a time; waiters then read what it brought.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    unnamed: Vec<Arc<VerifyingKey>>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
}

impl KeySet {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).filter(|k| k.fits(alg)).cloned(),
            // A token without `kid` is accepted only when one key could have signed it.
            None => {
                let mut fitting = self.by_kid.values().chain(&self.unnamed).filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Some(key.clone()),
                    _ => None,
                }
            }
        }
    }

    fn fresh(&self, now: Instant, ttl: Duration) -> bool {
        self.fetched.is_some_and(|at| now.duration_since(at) < ttl)
    }
}

impl RemoteKeys {
    pub(super) fn new(url: Url, http: reqwest::Client, ttl: Duration, min_refresh: Duration) -> RemoteKeys {
        RemoteKeys {
            url,
            http,
            ttl,
            min_refresh,
            set: RwLock::new(KeySet::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&KeySet) -> T) -> T {
        f(&self.set.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    async fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerifyingKey>> {
        let known = |now| self.read(|set| set.fresh(now, self.ttl).then(|| set.lookup(kid, alg)).flatten());
        if let Some(key) = known(Instant::now()) {
            return Some(key);
        }
        let _one_fetch = self.fetching.lock().await;
        let now = Instant::now();
        if let Some(key) = known(now) {
            return Some(key);
        }
        let may_fetch = self.read(|set| {
            set.attempted
                .is_none_or(|at| now.duration_since(at) >= self.min_refresh)
        });
        if may_fetch {
            let fetched = self.fetch().await;
            let mut set = self.set.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            set.attempted = Some(now);
            match fetched {
                Ok(fresh) => {
                    *set = KeySet {
                        fetched: Some(now),
                        attempted: Some(now),
                        ..fresh
                    }
                }
                Err(why) => {
                    tracing::warn!(url = %self.url, error = %why, "could not fetch the JWKS; keeping the keys already known")
                }
            }
        }
        // Keys past their TTL still verify while the provider cannot be reached.
        self.read(|set| set.lookup(kid, alg))
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let mut response = self
            .http
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwks(&body)
    }
}

/// The signing keys of a JWKS document; entries it cannot use are skipped.
fn parse_jwks(body: &[u8]) -> Result<KeySet, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(body).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut set = KeySet::default();
    for entry in document.keys {
        if entry.get("use").and_then(|u| u.as_str()).is_some_and(|u| u != "sig") {
            continue;
        }
        // Public keys only: a shared secret (`oct`) has no place in a published set.
        if !matches!(entry.get("kty").and_then(|k| k.as_str()), Some("RSA" | "EC" | "OKP")) {
            continue;
        }
        let alg = match entry.get("alg").and_then(|a| a.as_str()) {
            Some(name) => match name.parse::<Algorithm>() {
                Ok(alg) => Some(alg),
                Err(_) => continue,
            },
            None => None,
        };
        let kid = entry.get("kid").and_then(|k| k.as_str()).map(str::to_string);
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry) else {
            continue;
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let key = Arc::new(VerifyingKey { key, alg });
        match kid {
            Some(kid) => {
                set.by_kid.insert(kid, key);
            }
            None => set.unnamed.push(key),
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_the_gateway_cannot_use_are_skipped_and_the_rest_kept() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "whatever", "kid": "odd"},
            {"kty": "RSA", "kid": "bad-alg", "alg": "XX999", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "sig", "alg": "RS256", "use": "sig", "n": "AQAB", "e": "AQAB"},
        ]});
        let set = parse_jwks(body.to_string().as_bytes()).expect("parses");
        let mut kids: Vec<_> = set.by_kid.keys().cloned().collect();
        kids.sort();
        assert!(kids.contains(&"sig".to_string()), "{kids:?}");
        assert!(!kids.contains(&"enc".to_string()) && !kids.contains(&"odd".to_string()));
        assert!(!kids.contains(&"bad-alg".to_string()));
        assert!(set.lookup(Some("sig"), Algorithm::RS256).is_some());
        assert!(
            set.lookup(Some("sig"), Algorithm::ES256).is_none(),
            "a key is used only for its alg"
        );
    }

    #[test]
    fn a_token_without_kid_needs_exactly_one_fitting_key() {
        let key = |alg| {
            Arc::new(VerifyingKey {
                key: DecodingKey::from_secret(b"x").expect("an HMAC key"),
                alg: Some(alg),
            })
        };
        let mut set = KeySet::default();
        set.by_kid.insert("a".into(), key(Algorithm::RS256));
        assert!(set.lookup(None, Algorithm::RS256).is_some());
        set.by_kid.insert("b".into(), key(Algorithm::RS256));
        assert!(set.lookup(None, Algorithm::RS256).is_none());
        set.by_kid.insert("c".into(), key(Algorithm::ES256));
        assert!(set.lookup(None, Algorithm::ES256).is_some());
    }
}
