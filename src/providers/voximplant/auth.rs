//! Service-account auth (providers.md §3.2): `credentials.json` (flat, or the raw
//! `CreateKey` answer `{"result": {...}}`), RS256 JWTs with `kid` = key id and
//! `iss` = account id, cached and renewed before they expire.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// Why credentials cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    #[error("credentials are not JSON with account_id, key_id and private_key: {0}")]
    Shape(String),
    #[error("private_key is not an RSA private key in PEM form")]
    Key,
}

#[derive(Deserialize)]
struct Flat {
    account_id: u64,
    key_id: String,
    private_key: String,
    #[serde(default)]
    #[allow(dead_code)]
    account_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Layout {
    Wrapped { result: Flat },
    Flat(Flat),
}

/// A parsed service account. `Debug` never shows the key.
#[derive(Clone)]
pub struct ServiceAccount {
    pub account_id: u64,
    pub key_id: String,
    key: EncodingKey,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("account_id", &self.account_id)
            .field("key_id", &self.key_id)
            .field("key", &"***")
            .finish()
    }
}

impl ServiceAccount {
    /// Parses either layout of `credentials.json`.
    pub fn from_json(json: &str) -> Result<Self, CredentialsError> {
        let flat = match serde_json::from_str::<Layout>(json) {
            Ok(Layout::Wrapped { result }) | Ok(Layout::Flat(result)) => result,
            Err(e) => return Err(CredentialsError::Shape(e.to_string())),
        };
        let key = EncodingKey::from_rsa_pem(flat.private_key.as_bytes()).map_err(|_| CredentialsError::Key)?;
        Ok(ServiceAccount {
            account_id: flat.account_id,
            key_id: flat.key_id,
            key,
        })
    }
}

#[derive(Serialize)]
struct Claims {
    iss: u64,
    iat: i64,
    exp: i64,
}

/// Seconds since the epoch; injectable so tests control time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp())
}

/// Mints JWTs and reuses each until a quarter of its lifetime remains.
pub struct TokenSource {
    account: ServiceAccount,
    lifetime: i64,
    clock: Clock,
    current: Mutex<Option<(String, i64)>>,
}

impl TokenSource {
    pub fn new(account: ServiceAccount, lifetime_seconds: i64, clock: Clock) -> Self {
        TokenSource {
            account,
            lifetime: lifetime_seconds.clamp(20, 3600),
            clock,
            current: Mutex::new(None),
        }
    }

    /// A valid bearer token (a cached one while enough of it remains).
    pub fn token(&self) -> Result<String, jsonwebtoken::errors::Error> {
        let now = (self.clock)();
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((token, _)) = current.as_ref().filter(|(_, exp)| exp - now > self.lifetime / 4) {
            return Ok(token.clone());
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.account.key_id.clone());
        let claims = Claims {
            iss: self.account.account_id,
            iat: now,
            exp: now + self.lifetime,
        };
        let token = jsonwebtoken::encode(&header, &claims, &self.account.key)?;
        *current = Some((token.clone(), claims.exp));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    const KEY: &str = include_str!("../../emulator/keys/demo.pem");

    fn credentials() -> String {
        serde_json::json!({"account_email": "a@example.com", "account_id": 1234567, "key_id": "kid-1", "private_key": KEY})
            .to_string()
    }

    #[test]
    fn both_credentials_layouts_parse_and_debug_hides_the_key() {
        let flat = ServiceAccount::from_json(&credentials()).unwrap();
        let wrapped = ServiceAccount::from_json(&format!("{{\"result\": {}}}", credentials())).unwrap();
        assert_eq!((flat.account_id, flat.key_id.as_str()), (1234567, "kid-1"));
        assert_eq!((wrapped.account_id, wrapped.key_id.as_str()), (1234567, "kid-1"));
        assert!(!format!("{flat:?}").contains("PRIVATE"));
        assert!(ServiceAccount::from_json("{}").is_err());
        let bad_key = serde_json::json!({"account_id": 1, "key_id": "k", "private_key": "nope"}).to_string();
        assert_eq!(ServiceAccount::from_json(&bad_key).unwrap_err(), CredentialsError::Key);
    }

    #[test]
    fn tokens_carry_kid_iss_and_a_short_exp() {
        let source = TokenSource::new(
            ServiceAccount::from_json(&credentials()).unwrap(),
            300,
            Arc::new(|| 1_000),
        );
        let token = source.token().unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (Algorithm::RS256, Some("kid-1")));
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(include_bytes!("../../emulator/keys/demo.pub.pem")).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims, serde_json::json!({"iss": 1234567, "iat": 1000, "exp": 1300}));
    }

    #[test]
    fn a_token_is_reused_until_near_expiry_then_renewed() {
        let now = Arc::new(AtomicI64::new(10_000));
        let clock_now = now.clone();
        let source = TokenSource::new(
            ServiceAccount::from_json(&credentials()).unwrap(),
            300,
            Arc::new(move || clock_now.load(Ordering::SeqCst)),
        );
        let first = source.token().unwrap();
        now.store(10_000 + 200, Ordering::SeqCst);
        assert_eq!(source.token().unwrap(), first, "100 s of 300 left: reused");
        now.store(10_000 + 230, Ordering::SeqCst);
        let renewed = source.token().unwrap();
        assert_ne!(renewed, first, "70 s left (< a quarter): renewed");
        now.store(10_000 + 240, Ordering::SeqCst);
        assert_eq!(source.token().unwrap(), renewed);
    }
}
