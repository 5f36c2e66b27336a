//! CORS from `[server.cors]`: listed origins get CORS headers, others none
//! (preflights included), preflights are cacheable, credentials only when configured.

use crate::common::*;
use reqwest::StatusCode;
use std::time::Duration;

const APP: &str = "https://app.example.com";

async fn app_with(credentials: bool) -> TestApp {
    TestApp::spawn_with(small_emulator(), move |c, _| {
        c.server.cors.allow_origins = vec![APP.into(), "https://*.preview.example.com".into()];
        c.server.cors.allow_headers = vec!["content-type".into(), "authorization".into(), "x-csrf-token".into()];
        c.server.cors.max_age = Duration::from_secs(900);
        c.server.cors.allow_credentials = credentials;
    })
    .await
}

async fn post_from(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http()
        .post(&app.url)
        .header("origin", origin)
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap()
}

async fn preflight_from(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http()
        .request(reqwest::Method::OPTIONS, &app.url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, authorization")
        .send()
        .await
        .unwrap()
}

fn cors_headers(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn an_allowed_origin_gets_cors_headers_and_a_cacheable_preflight() {
    let app = app_with(false).await;
    for origin in [APP, "https://pr-7.preview.example.com"] {
        let r = post_from(&app, origin).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["access-control-allow-origin"], origin);
        assert!(r.headers().get("access-control-allow-credentials").is_none());
        assert!(r.headers().get_all("vary").iter().any(|v| v == "origin"));
        let p = preflight_from(&app, origin).await;
        assert_eq!(p.status(), StatusCode::NO_CONTENT);
        assert_eq!(p.headers()["access-control-allow-origin"], origin);
        assert_eq!(p.headers()["access-control-allow-methods"], "GET, POST");
        assert_eq!(
            p.headers()["access-control-allow-headers"],
            "content-type, authorization, x-csrf-token"
        );
        assert_eq!(p.headers()["access-control-max-age"], "900");
    }
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers_not_even_on_a_preflight() {
    let app = app_with(true).await;
    for origin in ["https://evil.example.net", "https://app.example.com.evil.net", "null"] {
        let r = post_from(&app, origin).await;
        assert!(cors_headers(&r).is_empty(), "{origin}: {:?}", cors_headers(&r));
        let p = preflight_from(&app, origin).await;
        assert!(cors_headers(&p).is_empty(), "{origin}: {:?}", cors_headers(&p));
    }
}

#[tokio::test]
async fn credentials_are_allowed_only_when_configured() {
    let app = app_with(true).await;
    let r = post_from(&app, APP).await;
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    let p = preflight_from(&app, APP).await;
    assert_eq!(p.headers()["access-control-allow-credentials"], "true");
}

#[tokio::test]
async fn nothing_is_allowed_by_default() {
    let app = TestApp::spawn().await;
    let r = post_from(&app, APP).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(cors_headers(&r).is_empty(), "{:?}", cors_headers(&r));
    let mut config = switchboard::Config::default();
    config.server.cors.allow_origins = vec!["*".into()];
    config.server.cors.allow_credentials = true;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("server.cors.allow_credentials"), "{err}");
}
