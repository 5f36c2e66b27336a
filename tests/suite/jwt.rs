//! End users sign in with a JWT from the team's identity provider: RS256 and
//! ES256 against a JWKS the test serves (refreshed on an unknown `kid`), or a static key;
//! `iss`, `aud`, `exp`, `nbf`, the tenant claim and the cookie + CSRF header rules. Every
//! refusal is the same 401 `UNAUTHENTICATED`, whatever check failed.

use crate::common::issuer::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::config::Config;

const QUERY: &str = "{ signalWireVoiceLogs(first: 1) { edges { node { id } } } }";

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: Value,
}

async fn ask(app: &TestApp, headers: &[(&str, &str)]) -> Answer {
    let mut request = app.http().post(&app.url).json(&json!({ "query": QUERY }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        challenge: response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string()),
        body: response.json().await.unwrap(),
    }
}

async fn with_token(app: &TestApp, token: &str) -> Answer {
    ask(app, &[("authorization", &format!("Bearer {token}"))]).await
}

fn served(answer: &Answer) -> bool {
    answer.status == StatusCode::OK && answer.body["data"]["signalWireVoiceLogs"]["edges"][0]["node"]["id"].is_string()
}

/// The one refusal every bad token gets: nothing says which check failed.
fn assert_invalid_token(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    assert_eq!(error_codes(&answer.body), ["UNAUTHENTICATED"]);
    assert_eq!(answer.body["errors"][0]["message"], "the API key or token is not valid");
    assert_eq!(
        answer.challenge.as_deref(),
        Some("Bearer realm=\"switchboard\", error=\"invalid_token\"")
    );
}

/// A single-tenant gateway that requires JWTs from `issuer`.
async fn gateway(issuer: &TestIssuer, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let jwt = jwt_config(issuer);
    TestApp::spawn_with(small_emulator(), move |config, _| {
        config.auth.jwt = Some(jwt);
        tweak(config);
    })
    .await
}

/// A gateway with `tenants` (name, gateway API key), each with SignalWire at the emulator,
/// named in tokens by `claim`.
async fn tenant_gateway(issuer: &TestIssuer, tenants: &[(&str, Option<&str>)], claim: &str) -> TestApp {
    let emulator_config = small_emulator();
    let credential = emulator_config.signalwire_credentials[0].clone();
    let emulator = switchboard::emulator::Emulator::start(emulator_config).await.unwrap();
    let mut config = base_config();
    for (name, key) in tenants {
        config.tenants.push(switchboard::config::TenantConfig {
            scopes: None,
            name: name.to_string(),
            api_key_sha256: key.map(switchboard::tenancy::hash_api_key),
            providers: switchboard::config::ProvidersConfig {
                signalwire: Some(signalwire_config(&emulator, &credential)),
                ..Default::default()
            },
        });
    }
    let mut jwt = jwt_config(issuer);
    jwt.tenant_claim = Some(claim.into());
    config.auth.jwt = Some(jwt);
    TestApp::start(config, emulator).await
}

#[tokio::test]
async fn rs256_and_es256_tokens_from_the_jwks_are_accepted_and_no_token_is_refused() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("rsa-1", true);
    issuer.add_ec_key("ec-1", true);
    let app = gateway(&issuer, |_| {}).await;

    assert!(served(&with_token(&app, &issuer.sign("rsa-1", &valid_claims())).await));
    assert!(served(&with_token(&app, &issuer.sign("ec-1", &valid_claims())).await));
    assert_eq!(issuer.fetches(), 1, "the JWKS is fetched once and cached");

    let none = ask(&app, &[]).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_codes(&none.body), ["UNAUTHENTICATED"]);
    assert_eq!(none.challenge.as_deref(), Some("Bearer realm=\"switchboard\""));
    assert_invalid_token(&with_token(&app, "not-a-key").await);
    assert_invalid_token(&with_token(&app, "a.b.c").await);
}

#[tokio::test]
async fn expired_not_yet_valid_wrong_issuer_and_wrong_audience_are_all_the_same_401() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("k", true);
    let app = gateway(&issuer, |_| {}).await;
    let with = |patch: Value| {
        let mut claims = valid_claims();
        claims
            .as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        issuer.sign("k", &claims)
    };

    assert_invalid_token(&with_token(&app, &with(json!({"exp": now() - 120}))).await);
    assert_invalid_token(&with_token(&app, &with(json!({"nbf": now() + 120}))).await);
    assert_invalid_token(&with_token(&app, &with(json!({"iss": "https://evil.example/"}))).await);
    assert_invalid_token(&with_token(&app, &with(json!({"aud": "another-app"}))).await);
    let mut no_exp = valid_claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_invalid_token(&with_token(&app, &issuer.sign("k", &no_exp)).await);

    // Inside the 30 s leeway a just-expired token still passes (clocks drift).
    assert!(served(&with_token(&app, &with(json!({"exp": now() - 5}))).await));
    assert!(served(
        &with_token(&app, &with(json!({"aud": ["other", AUDIENCE]}))).await
    ));
}

#[tokio::test]
async fn a_token_with_an_unknown_kid_refetches_the_jwks_and_then_verifies() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("old", true);
    issuer.add_rsa_key("new", false);
    let app = gateway(&issuer, |_| {}).await;
    assert!(served(&with_token(&app, &issuer.sign("old", &valid_claims())).await));
    assert_eq!(issuer.fetches(), 1);

    // The identity provider rotates: the new key is published after the gateway cached the set.
    issuer.publish("new");
    assert!(served(&with_token(&app, &issuer.sign("new", &valid_claims())).await));
    assert_eq!(issuer.fetches(), 2, "an unknown kid causes one refetch");
    assert!(served(&with_token(&app, &issuer.sign("new", &valid_claims())).await));
    assert_eq!(issuer.fetches(), 2, "and the new key is then cached");
}

#[tokio::test]
async fn forged_kids_cannot_make_the_gateway_hammer_the_identity_provider() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("real", true);
    issuer.add_rsa_key("forged", false);
    let app = gateway(&issuer, |config| {
        config.auth.jwt.as_mut().unwrap().jwks_min_refresh = std::time::Duration::from_secs(3600);
    })
    .await;
    assert!(served(&with_token(&app, &issuer.sign("real", &valid_claims())).await));
    for _ in 0..5 {
        assert_invalid_token(&with_token(&app, &issuer.sign("forged", &valid_claims())).await);
    }
    assert_eq!(issuer.fetches(), 1, "refetches are spaced by jwks_min_refresh");
}

#[tokio::test]
async fn the_tenant_claim_picks_the_tenant_and_a_token_without_it_is_refused() {
    let issuer = TestIssuer::start().await;
    issuer.add_ec_key("k", true);
    let app = tenant_gateway(
        &issuer,
        &[("acme", None), ("globex", None)],
        "https://switchboard.example/tenant",
    )
    .await;
    let with_tenant = |tenant: Value| {
        let mut claims = valid_claims();
        claims["https://switchboard.example/tenant"] = tenant;
        issuer.sign("k", &claims)
    };

    assert!(served(&with_token(&app, &with_tenant(json!("acme"))).await));
    let calls = app.upstream(VOICE_LIST);
    assert!(served(&with_token(&app, &with_tenant(json!("globex"))).await));
    assert_eq!(
        app.upstream(VOICE_LIST),
        calls + 1,
        "another tenant has its own cache: one more upstream call"
    );
    assert!(served(&with_token(&app, &with_tenant(json!("acme"))).await));
    assert_eq!(app.upstream(VOICE_LIST), calls + 1, "the first tenant's page is cached");

    assert_invalid_token(&with_token(&app, &issuer.sign("k", &valid_claims())).await);
    assert_invalid_token(&with_token(&app, &with_tenant(json!("initech"))).await);
    assert_invalid_token(&with_token(&app, &with_tenant(json!(42))).await);
}

#[tokio::test]
async fn a_cookie_token_needs_the_csrf_header() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("k", true);
    let app = gateway(&issuer, |config| {
        config.auth.jwt.as_mut().unwrap().cookie = Some("sb_session".into());
    })
    .await;
    let cookie = format!("theme=dark; sb_session={}", issuer.sign("k", &valid_claims()));

    let without = ask(&app, &[("cookie", &cookie)]).await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_codes(&without.body), ["UNAUTHENTICATED"]);
    assert!(
        without.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("x-switchboard-csrf"),
        "{}",
        without.body
    );
    assert_eq!(
        without.challenge.as_deref(),
        Some("Bearer realm=\"switchboard\", error=\"invalid_request\"")
    );
    assert!(served(
        &ask(&app, &[("cookie", &cookie), ("x-switchboard-csrf", "1")]).await
    ));

    let expired = format!(
        "sb_session={}",
        issuer.sign("k", &json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now() - 600}))
    );
    assert_invalid_token(&ask(&app, &[("cookie", &expired), ("x-switchboard-csrf", "1")]).await);
}

#[tokio::test]
async fn a_static_public_key_verifies_without_any_jwks() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("k", false);
    issuer.add_rsa_key("other", false);
    let pem = issuer.public_pem("k");
    let app = gateway(&issuer, move |config| {
        let jwt = config.auth.jwt.as_mut().unwrap();
        jwt.jwks_url = None;
        jwt.public_key_pem = Some(pem);
    })
    .await;
    assert!(served(&with_token(&app, &issuer.sign("k", &valid_claims())).await));
    assert_invalid_token(&with_token(&app, &issuer.sign("other", &valid_claims())).await);
    assert_eq!(issuer.fetches(), 0);
}

#[tokio::test]
async fn gateway_api_keys_keep_working_beside_jwts() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("k", true);
    let app = tenant_gateway(&issuer, &[("acme", Some("acme-server-key"))], "tenant").await;
    assert!(served(&with_token(&app, "acme-server-key").await));
    let mut claims = valid_claims();
    claims["tenant"] = json!("acme");
    assert!(served(&with_token(&app, &issuer.sign("k", &claims)).await));
    assert_invalid_token(&with_token(&app, "acme-wrong-key").await);
}
