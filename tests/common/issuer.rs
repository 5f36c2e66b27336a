//! A tiny identity provider for tests: keys it generates (RSA and EC P-256), a JWKS it
//! serves on loopback port 0 (counting fetches, changeable at run time), and tokens it signs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const ISSUER: &str = "https://id.test.example/";
pub const AUDIENCE: &str = "switchboard-web";

struct SigningKey {
    key: EncodingKey,
    alg: Algorithm,
    jwk: Value,
    public_pem: Option<String>,
}

pub struct TestIssuer {
    pub jwks_url: String,
    keys: Mutex<HashMap<String, SigningKey>>,
    published: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicU64>,
    _stop: oneshot::Sender<()>,
}

impl TestIssuer {
    /// Serves an empty JWKS until keys are added.
    pub async fn start() -> TestIssuer {
        let published = Arc::new(Mutex::new(Vec::<Value>::new()));
        let fetches = Arc::new(AtomicU64::new(0));
        let (keys, count) = (published.clone(), fetches.clone());
        let router = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                count.fetch_add(1, Ordering::SeqCst);
                let body = json!({"keys": keys.lock().unwrap().clone()});
                async move { axum::Json(body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestIssuer {
            jwks_url: format!("http://{addr}/jwks.json"),
            keys: Mutex::new(HashMap::new()),
            published,
            fetches,
            _stop: stop,
        }
    }

    /// A new RSA key (RS256) named `kid`, published in the JWKS when `publish`.
    pub fn add_rsa_key(&self, kid: &str, publish: bool) {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let pem = private.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).expect("PEM");
        let public = private.to_public_key();
        let jwk = json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        });
        let public_pem = public.to_public_key_pem(rsa::pkcs8::LineEnding::LF).expect("PEM");
        self.add(
            kid,
            SigningKey {
                key: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key"),
                alg: Algorithm::RS256,
                jwk,
                public_pem: Some(public_pem),
            },
            publish,
        );
    }

    /// A new EC P-256 key (ES256) named `kid`, published in the JWKS when `publish`.
    pub fn add_ec_key(&self, kid: &str, publish: bool) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("EC key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("EC key");
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        self.add(
            kid,
            SigningKey {
                key: EncodingKey::from_ec_der(pkcs8.as_ref()),
                alg: Algorithm::ES256,
                jwk,
                public_pem: None,
            },
            publish,
        );
    }

    fn add(&self, kid: &str, key: SigningKey, publish: bool) {
        if publish {
            self.published.lock().unwrap().push(key.jwk.clone());
        }
        self.keys.lock().unwrap().insert(kid.to_string(), key);
    }

    /// Adds an already generated key to the JWKS (a key rotation).
    pub fn publish(&self, kid: &str) {
        let jwk = self.keys.lock().unwrap()[kid].jwk.clone();
        self.published.lock().unwrap().push(jwk);
    }

    /// The public key of RSA key `kid` in PEM (for a static-key config).
    pub fn public_pem(&self, kid: &str) -> String {
        self.keys.lock().unwrap()[kid].public_pem.clone().expect("an RSA key")
    }

    /// Times the JWKS was fetched.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// `claims` signed with key `kid` (its algorithm, `kid` in the header).
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let keys = self.keys.lock().unwrap();
        let key = &keys[kid];
        let mut header = Header::new(key.alg);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &key.key).expect("signs")
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims a valid token carries: this issuer, the audience, five minutes to live.
pub fn valid_claims() -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now(), "exp": now() + 300})
}

/// `[auth.jwt]` for this issuer's JWKS.
pub fn jwt_config(issuer: &TestIssuer) -> switchboard::config::JwtConfig {
    switchboard::config::JwtConfig {
        issuer: ISSUER.into(),
        audiences: vec![AUDIENCE.into()],
        jwks_url: Some(issuer.jwks_url.parse().unwrap()),
        jwks_min_refresh: std::time::Duration::ZERO,
        ..Default::default()
    }
}
