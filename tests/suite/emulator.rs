//! The emulator's own contract: documented limits and bodies, and its HTTP control API
//! (what external benchmarks and other gateways use).

use crate::common::json_of;
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
    let r: Value = json_of(get("/api/voice/logs?page_size=1000&include_deleted=true", true)).await;
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

    let stats: Value = json_of(http.get(base.join("/__emulator/stats").unwrap())).await;
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

const KEY: &str = switchboard::emulator::DEMO_ONEUPTIME_KEY;

async fn oneuptime(emulator: &Emulator, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(emulator.base_url().join(path).unwrap())
        .json(&body);
    if let Some(key) = key {
        request = request.header("ApiKey", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn oneuptime_routes_check_keys_limits_select_query_and_sort_as_documented() {
    let mut config = small();
    config.oneuptime_call_logs = 200;
    config.oneuptime_api_keys.push(switchboard::emulator::OneUptimeKey {
        key: "9b2f7d4e-1111-4222-8333-444455556666".into(),
        can_read: false,
    });
    let emulator = Emulator::start(config).await.unwrap();
    let list = "/api/call-log/get-list";
    let (status, body) = oneuptime(&emulator, list, None, json!({})).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap().contains("valid API key")),
        (401, true)
    );
    let (status, body) = oneuptime(&emulator, list, Some("nope"), json!({})).await;
    assert_eq!((status, body), (400, json!({"error": "Invalid API Key"})));
    let (status, _) = oneuptime(&emulator, list, Some("9b2f7d4e-1111-4222-8333-444455556666"), json!({})).await;
    assert_eq!(status, 422, "a key without read permission");

    let (status, body) = oneuptime(&emulator, &format!("{list}?limit=10001"), Some(KEY), json!({})).await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "Limit should be less than 10000"}))
    );
    assert_eq!(
        oneuptime(&emulator, &format!("{list}?limit=10000"), Some(KEY), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        oneuptime(&emulator, &format!("{list}?skip=-1"), Some(KEY), json!({}))
            .await
            .0,
        400
    );
    assert_eq!(
        oneuptime(&emulator, &format!("{list}?limit=-5"), Some(KEY), json!({}))
            .await
            .0,
        400
    );

    let (_, body) = oneuptime(&emulator, list, Some(KEY), json!({})).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 10, "default limit");
    assert_eq!(
        body["data"][0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["_id"],
        "no select: only _id"
    );
    assert_eq!(body["count"], 200);

    let select = json!({"select": {"createdAt": true, "fromNumber": true, "status": true}});
    let (_, body) = oneuptime(&emulator, &format!("{list}?limit=3"), Some(KEY), select).await;
    assert_eq!(body["data"][0]["createdAt"]["_type"], "DateTime");
    assert_eq!(body["data"][0]["fromNumber"]["_type"], "Phone");
    let (status, _) = oneuptime(&emulator, list, Some(KEY), json!({"select": {"colour": true}})).await;
    assert_eq!(status, 400, "unknown select column");
    let (status, _) = oneuptime(&emulator, list, Some(KEY), json!({"query": {"colour": "red"}})).await;
    assert_eq!(status, 400, "unknown query column");
    let (status, _) = oneuptime(
        &emulator,
        list,
        Some(KEY),
        json!({"query": {"status": {"_type": "Search", "value": "x"}}}),
    )
    .await;
    assert_eq!(status, 400, "operators the gateway does not send are refused");

    let asc = json!({"select": {"createdAt": true}, "sort": {"createdAt": "ASC"}, "query": {"status": {"_type": "Includes", "value": ["Busy"]}}});
    let (_, body) = oneuptime(&emulator, &format!("{list}?limit=1000"), Some(KEY), asc).await;
    let times: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["createdAt"]["value"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "ascending");
    let (_, counted) = oneuptime(
        &emulator,
        "/api/call-log/count",
        Some(KEY),
        json!({"query": {"status": "Busy"}}),
    )
    .await;
    assert_eq!(counted["count"].as_u64().unwrap() as usize, times.len());

    let id = emulator.oneuptime_call_log_ids()[0].clone();
    let (status, item) = oneuptime(
        &emulator,
        &format!("/api/call-log/{id}/get-item"),
        Some(KEY),
        json!({"select": {"status": true}}),
    )
    .await;
    assert_eq!((status, item["_id"].as_str()), (200, Some(id.as_str())));
    let unknown = "/api/call-log/00000000-0000-4000-8000-000000000000/get-item";
    assert_eq!(
        oneuptime(&emulator, unknown, Some(KEY), json!({})).await,
        (200, json!({}))
    );
    assert_eq!(
        oneuptime(&emulator, "/api/call-log/xyz/get-item", Some(KEY), json!({}))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn voximplant_rejects_unsigned_requests_and_counts_or_offsets_over_the_caps() {
    let emulator = Emulator::start(EmulatorConfig {
        voximplant_sessions: 300,
        ..small()
    })
    .await
    .unwrap();
    let url = emulator.base_url().join("/platform_api/GetCallHistory").unwrap();
    let r: Value = json_of(reqwest::Client::new().post(url.clone())).await;
    assert_eq!(r["error"]["code"], 100, "no bearer token: an error in a 200 body");
    // A gateway-signed request is the easiest valid token: reuse the gateway's signer.
    let account =
        switchboard::providers::voximplant::auth::ServiceAccount::from_json(&switchboard::emulator::demo_credentials())
            .unwrap();
    let tokens = switchboard::providers::voximplant::auth::TokenSource::new(
        account,
        60,
        switchboard::providers::voximplant::auth::system_clock(),
    );
    let call = |params: Vec<(&'static str, &'static str)>| {
        let url = url.clone();
        let token = tokens.token().unwrap();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .form(&params)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let window = vec![("from_date", "2020-01-01 00:00:00"), ("to_date", "2030-01-01 00:00:00")];
    let ok = call([window.clone(), vec![("count", "1000"), ("with_total_count", "true")]].concat()).await;
    assert_eq!(ok["total_count"], 300);
    assert_eq!(ok["result"].as_array().unwrap().len(), 300);
    assert!(ok["result"][0]["calls"].is_null(), "calls only with with_calls=true");
    let too_many = call([window.clone(), vec![("count", "1001")]].concat()).await;
    // 101: invalid arguments (voximplant.com/docs/references/httpapi/errors).
    assert_eq!(too_many["error"]["code"], 101);
    let too_far = call([window.clone(), vec![("offset", "10001")]].concat()).await;
    assert_eq!(too_far["error"]["code"], 101);
    assert!(
        call(vec![("count", "5")]).await["error"].is_object(),
        "from_date/to_date are required"
    );
}
