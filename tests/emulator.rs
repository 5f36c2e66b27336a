//! The emulator's own contract: documented limits and bodies, and its HTTP control API
//! (what external benchmarks and other gateways use).

use serde_json::{Value, json};
use switchboard::emulator::{Emulator, EmulatorConfig};

fn small() -> EmulatorConfig {
    EmulatorConfig {
        signalwire_voice_logs: 300,
        signalwire_video_logs: 30,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn signalwire_routes_enforce_auth_page_size_and_ids_as_documented() {
    let emulator = Emulator::start(small()).await.unwrap();
    let base = emulator.base_url();
    let http = reqwest::Client::new();
    let get = |path: &str, auth: bool| {
        let request = http.get(base.join(path).unwrap());
        if auth {
            request.basic_auth("demo-project", Some("demo-token"))
        } else {
            request
        }
    };
    let r = get("/api/voice/logs", false).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "Unauthorized"}));

    for size in ["0", "1001", "x"] {
        let r = get(&format!("/api/voice/logs?page_size={size}"), true)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "page_size={size}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["attribute"], "page_size");
        assert_eq!(body["errors"][0]["code"], "invalid_parameter");
    }
    let r: Value = get("/api/voice/logs?page_size=1000&include_deleted=true", true)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["data"].as_array().unwrap().len(),
        300,
        "every seeded log, deleted ones included"
    );
    assert!(r["links"]["next"].is_null(), "one page holds everything: no next link");

    assert_eq!(
        get("/api/voice/logs/not-a-uuid", true).send().await.unwrap().status(),
        422
    );
    let r = get("/api/voice/logs/00000000-0000-4000-8000-000000000000", true)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "Not Found"}));
}

#[tokio::test]
async fn control_routes_count_inject_and_reset() {
    let emulator = Emulator::start(small()).await.unwrap();
    let base = emulator.base_url();
    let http = reqwest::Client::new();
    let fault = json!({"kind": "status", "status": 503, "path_prefix": "/api/video", "times": 1});
    assert_eq!(
        http.post(base.join("/__emulator/faults").unwrap())
            .json(&fault)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let list = |path: &str| {
        http.get(base.join(path).unwrap())
            .basic_auth("demo-project", Some("demo-token"))
            .send()
    };
    assert_eq!(list("/api/video/logs").await.unwrap().status(), 503);
    assert_eq!(
        list("/api/video/logs").await.unwrap().status(),
        200,
        "the fault fired once"
    );
    assert_eq!(list("/api/voice/logs").await.unwrap().status(), 200);

    let stats: Value = http
        .get(base.join("/__emulator/stats").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["routes"]["GET /api/video/logs"]["demo-project"], 2);
    assert_eq!(stats["routes"]["GET /api/voice/logs"]["demo-project"], 1);
    assert_eq!(
        http.post(base.join("/__emulator/reset").unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(emulator.stats().total(), 0);
}
