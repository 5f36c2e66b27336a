//! Test harness: an emulator and a gateway on loopback port 0, and helpers to query the
//! gateway and read the emulator's request counters.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use serde_json::{Value, json};
use switchboard::Application;
use switchboard::config::{Config, OneUptimeConfig, Secret, SignalWireConfig, VoximplantConfig};
use switchboard::emulator::{BasicCredential, DEMO_ONEUPTIME_KEY, Emulator, EmulatorConfig};
use tokio::sync::oneshot;

/// The global id of the SignalWire voice log `native`.
pub fn voice_id(native: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("SignalWireVoiceLog:{native}"))
}

pub mod issuer;
pub mod ws;

pub const VOICE_LIST: &str = "GET /api/voice/logs";
pub const VOICE_GET: &str = "GET /api/voice/logs/{id}";
pub const VOICE_EVENTS: &str = "GET /api/voice/logs/{id}/events";
pub const VIDEO_LIST: &str = "GET /api/video/logs";
pub const VIDEO_GET: &str = "GET /api/video/logs/{id}";

pub struct TestApp {
    /// The gateway's `/graphql` URL (empty for an in-memory gateway).
    pub url: String,
    pub emulator: Emulator,
    http: reqwest::Client,
    /// Where queries go: a socket, or the router called in memory.
    transport: Transport,
}

enum Transport {
    Socket { _stop: oneshot::Sender<()> },
    InMemory(axum::Router),
}

pub fn small_emulator() -> EmulatorConfig {
    EmulatorConfig {
        signalwire_voice_logs: 600,
        signalwire_video_logs: 120,
        oneuptime_call_logs: 700,
        voximplant_sessions: 800,
        voximplant_audit_entries: 500,
        ..EmulatorConfig::default()
    }
}

/// Voximplant settings pointing at `emulator` with the demo service account; the
/// look-back covers the whole seeded data set.
pub fn voximplant_config(emulator: &Emulator) -> VoximplantConfig {
    VoximplantConfig {
        base_url: emulator.base_url(),
        credentials_file: None,
        credentials_json: Some(Secret::new(switchboard::emulator::demo_credentials())),
        currency: "USD".into(),
        lookback: Duration::from_secs(3650 * 24 * 3600),
        page_size: 100,
        token_lifetime: Duration::from_secs(300),
        concurrency: 8,
        max_requests_per_second: None,
        max_report_bytes: 64 * 1024 * 1024,
    }
}

/// OneUptime settings pointing at `emulator` with the demo key.
pub fn oneuptime_config(emulator: &Emulator) -> OneUptimeConfig {
    OneUptimeConfig {
        base_url: emulator.base_url(),
        api_key: Secret::new(DEMO_ONEUPTIME_KEY),
        page_size: 50,
        concurrency: 8,
        // OneUptime's documented limit, as by default.
        max_requests_per_second: Some(100.0),
        webhook_secret: None,
    }
}

/// SignalWire settings pointing at `emulator` with its default credential.
pub fn signalwire_config(emulator: &Emulator, credential: &BasicCredential) -> SignalWireConfig {
    SignalWireConfig {
        space_url: emulator.base_url(),
        project_id: credential.project_id.clone(),
        api_token: Secret::new(credential.api_token.clone()),
        page_size: 50,
        concurrency: 16,
        max_requests_per_second: None,
        signing_key: None,
    }
}

/// A config for tests: port 0, a fixed cursor key, fast retries.
pub fn base_config() -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.graphql.cursor_secret = Some(Secret::new("test-cursor-key"));
    config.upstream.retry_base_delay = Duration::from_millis(1);
    config
}

impl TestApp {
    /// Emulator with `emulator_config`, gateway with the single-tenant SignalWire config,
    /// adjusted by `tweak`.
    pub async fn spawn_with(emulator_config: EmulatorConfig, tweak: impl FnOnce(&mut Config, &Emulator)) -> TestApp {
        let (config, emulator) = configured(emulator_config, tweak).await;
        Self::start(config, emulator).await
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_with(small_emulator(), |_, _| {}).await
    }

    /// Two tenants, `alice` and `bob`, each with its own SignalWire project at the
    /// emulator; callers send `alice-key` or `bob-key`.
    pub async fn spawn_two_tenants() -> TestApp {
        Self::spawn_two_tenants_with(|_| {}).await
    }

    /// `spawn_two_tenants`, with `tweak` applied to the config.
    pub async fn spawn_two_tenants_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let credentials: Vec<(&str, BasicCredential)> = ["alice", "bob"]
            .into_iter()
            .map(|name| {
                (
                    name,
                    BasicCredential {
                        project_id: format!("{name}-project"),
                        api_token: format!("{name}-token"),
                    },
                )
            })
            .collect();
        let mut emulator_config = small_emulator();
        emulator_config.signalwire_credentials = credentials.iter().map(|(_, c)| c.clone()).collect();
        let emulator = Emulator::start(emulator_config).await.expect("emulator starts");
        let mut config = base_config();
        for (name, credential) in &credentials {
            config.tenants.push(switchboard::config::TenantConfig {
                scopes: None,
                name: name.to_string(),
                api_key_sha256: Some(switchboard::tenancy::hash_api_key(&format!("{name}-key"))),
                providers: switchboard::config::ProvidersConfig {
                    signalwire: Some(signalwire_config(&emulator, credential)),
                    ..Default::default()
                },
            });
        }
        tweak(&mut config);
        Self::start(config, emulator).await
    }

    pub async fn start(config: Config, emulator: Emulator) -> TestApp {
        let (base, stop) = serve(config).await;
        TestApp {
            url: format!("{base}/graphql"),
            emulator,
            http: reqwest::Client::new(),
            transport: Transport::Socket { _stop: stop },
        }
    }

    /// The in-memory tier: the gateway is built without binding a port (`Gateway::prepare`)
    /// and `query` calls its router directly; only the emulator listens. For tests of
    /// GraphQL behaviour, where the gateway's socket adds nothing.
    pub async fn start_in_memory(config: Config, emulator: Emulator) -> TestApp {
        let gateway = switchboard::Gateway::prepare(config).await.expect("gateway builds");
        TestApp {
            url: String::new(),
            emulator,
            http: reqwest::Client::new(),
            transport: Transport::InMemory(gateway.router()),
        }
    }

    /// `spawn_with`, in memory (`start_in_memory`).
    pub async fn in_memory_with(
        emulator_config: EmulatorConfig,
        tweak: impl FnOnce(&mut Config, &Emulator),
    ) -> TestApp {
        let (config, emulator) = configured(emulator_config, tweak).await;
        Self::start_in_memory(config, emulator).await
    }

    /// `spawn`, in memory (`start_in_memory`).
    pub async fn in_memory() -> TestApp {
        Self::in_memory_with(small_emulator(), |_, _| {}).await
    }

    /// POSTs a query and returns the whole response body.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        self.query_with_key(query, variables, None).await
    }

    pub async fn query_with_key(&self, query: &str, variables: Value, key: Option<&str>) -> Value {
        if let Transport::InMemory(router) = &self.transport {
            return in_memory_query(router, json!({"query": query, "variables": variables}), key).await;
        }
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({"query": query, "variables": variables}));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("gateway answers");
        response.json().await.expect("gateway answers JSON")
    }

    /// The `/metrics` text, read with the metrics key `key` (the scheme in lower case: it
    /// is case-insensitive).
    pub async fn metrics(&self, key: &str) -> String {
        let base = self.url.trim_end_matches("/graphql");
        let request = self.http.get(format!("{base}/metrics"));
        let response = request.header("authorization", format!("bearer {key}")).send().await;
        response.expect("gateway answers").text().await.expect("a text body")
    }

    /// Counter `name` (a series without labels) of `/metrics`, read with the metrics key
    /// `key`, over either transport.
    pub async fn counter(&self, key: &str, name: &str) -> u64 {
        let text = match &self.transport {
            Transport::InMemory(router) => {
                use tower::ServiceExt;
                let request = axum::http::Request::get("/metrics")
                    .header("authorization", format!("Bearer {key}"))
                    .body(axum::body::Body::empty())
                    .expect("a request");
                let response = router.clone().oneshot(request).await.expect("gateway answers");
                let body = axum::body::to_bytes(response.into_body(), 16 << 20)
                    .await
                    .expect("a body");
                String::from_utf8(body.to_vec()).expect("text")
            }
            _ => self.metrics(key).await,
        };
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} is exported"))
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Upstream requests the emulator saw on `route` since the last reset.
    pub fn upstream(&self, route: &str) -> u64 {
        self.emulator.stats().route(route)
    }

    pub fn upstream_total(&self) -> u64 {
        self.emulator.stats().total()
    }
}

/// An emulator with `emulator_config` and the single-tenant config of all three providers
/// at it, adjusted by `tweak`.
async fn configured(emulator_config: EmulatorConfig, tweak: impl FnOnce(&mut Config, &Emulator)) -> (Config, Emulator) {
    let credential = emulator_config.signalwire_credentials[0].clone();
    let emulator = Emulator::start(emulator_config).await.expect("emulator starts");
    let mut config = base_config();
    config.providers.signalwire = Some(signalwire_config(&emulator, &credential));
    config.providers.oneuptime = Some(oneuptime_config(&emulator));
    config.providers.voximplant = Some(voximplant_config(&emulator));
    tweak(&mut config, &emulator);
    (config, emulator)
}

impl TestApp {
    /// POSTs a query (in memory) and returns the response body as it was sent.
    pub async fn query_bytes(&self, query: &str, variables: Value) -> bytes::Bytes {
        let Transport::InMemory(router) = &self.transport else {
            panic!("query_bytes needs the in-memory tier");
        };
        in_memory_bytes(router, json!({"query": query, "variables": variables}), None).await
    }
}

/// POSTs `body` to `/graphql` through `router`, in memory.
async fn in_memory_query(router: &axum::Router, body: Value, key: Option<&str>) -> Value {
    let body = in_memory_bytes(router, body, key).await;
    serde_json::from_slice(&body).expect("gateway answers JSON")
}

/// POSTs `body` to `/graphql` through `router`, in memory; the response body.
async fn in_memory_bytes(router: &axum::Router, body: Value, key: Option<&str>) -> bytes::Bytes {
    use tower::ServiceExt;
    let mut request = axum::http::Request::post("/graphql").header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let request = request
        .body(axum::body::Body::from(body.to_string()))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("gateway answers");
    axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("a body")
}

/// Builds a gateway from `config` and runs it until the returned sender is dropped;
/// its base URL (`http://127.0.0.1:port`).
pub async fn serve(config: Config) -> (String, oneshot::Sender<()>) {
    let app = Application::build(config).await.expect("gateway builds");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (base, stop)
}

/// The `extensions.code` of every error of a response.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub const VOICE_PAGE: &str = r#"query($first: Int, $after: String, $filter: SignalWireLogFilter) {
  signalWireVoiceLogs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id nativeId createdAt status } }
  }
}"#;

pub const ONEUPTIME_PAGE: &str = r#"query($first: Int, $after: String, $filter: OneUptimeCallLogFilter) {
  oneUptimeCallLogs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id nativeId createdAt status } }
  }
}"#;

pub const SESSION_PAGE: &str = r#"query($first: Int, $after: String, $filter: VoximplantCallSessionFilter) {
  voximplantCallSessions(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id nativeId createdAt status } }
  }
}"#;

pub const AUDIT_PAGE: &str = r#"query($first: Int, $after: String, $filter: VoximplantAuditLogFilter) {
  voximplantAuditLog(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id nativeId: auditLogId cmdName ip } }
  }
}"#;

pub const VOXIMPLANT_HISTORY: &str = "POST /platform_api/GetCallHistory";

pub const ONEUPTIME_LIST: &str = "POST /api/call-log/get-list";
pub const ONEUPTIME_COUNT: &str = "POST /api/call-log/count";
pub const ONEUPTIME_ITEM: &str = "POST /api/call-log/{id}/get-item";

pub const VIDEO_PAGE: &str = r#"query($first: Int, $after: String, $filter: SignalWireLogFilter) {
  signalWireVideoLogs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id nativeId createdAt status } }
  }
}"#;

/// Pages `field` with pages of 5, `pages` + 1 times; returns the native ids seen and the
/// upstream calls to `route` after `pages` pages and after the last one.
pub async fn resume_pages_of_five(
    app: &TestApp,
    query: &str,
    field: &str,
    route: &str,
    pages: usize,
) -> (Vec<String>, [u64; 2]) {
    let (mut ids, mut after, mut calls) = (Vec::new(), Value::Null, [0; 2]);
    for page in 0..=pages {
        if page == pages {
            calls[0] = app.upstream(route);
        }
        let r = app.query(query, json!({"first": 5, "after": after})).await;
        let c = &r["data"][field];
        let edges = c["edges"].as_array().unwrap_or_else(|| panic!("no edges: {r}"));
        ids.extend(
            edges
                .iter()
                .map(|e| e["node"]["nativeId"].as_str().unwrap().to_string()),
        );
        after = c["pageInfo"]["endCursor"].clone();
    }
    calls[1] = app.upstream(route);
    (ids, calls)
}

/// Pages a connection to its end with page size `first`; returns the native ids in order.
/// Sends `request` and reads its answer as JSON (panics on a transport or JSON failure).
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// The ids of a `nodes { id }` answer, in order.
pub fn node_ids(response: &Value) -> Vec<&str> {
    response["data"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect()
}

pub async fn page_all(app: &TestApp, query: &str, field: &str, first: i64, filter: Value) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let response = app
            .query(query, json!({"first": first, "after": after, "filter": filter}))
            .await;
        let connection = &response["data"][field];
        assert!(response["errors"].is_null(), "errors while paging: {response}");
        let edges = connection["edges"].as_array().expect("edges");
        assert!(edges.len() <= first as usize);
        ids.extend(
            edges
                .iter()
                .map(|e| e["node"]["nativeId"].as_str().unwrap().to_string()),
        );
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        assert_eq!(edges.len(), first as usize, "a non-final page is full");
        after = connection["pageInfo"]["endCursor"].clone();
    }
    ids
}

/// Every node `callLogs` lists for `filter`, in order, paged 100 at a time; `nodes` is
/// the selection of each node. Fails on any error.
pub async fn call_logs_through(app: &TestApp, nodes: &str, filter: &Value) -> Vec<Value> {
    let query = format!(
        "query($after: String, $filter: CallLogFilter) {{ callLogs(first: 100, after: $after, filter: $filter) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {nodes} }} }} }}"
    );
    let (mut all, mut after) = (Vec::new(), Value::Null);
    loop {
        let r = app.query(&query, json!({"after": after, "filter": filter})).await;
        assert!(r["errors"].is_null(), "{r}");
        let c = &r["data"]["callLogs"];
        all.extend(c["nodes"].as_array().expect("nodes").iter().cloned());
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return all;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}
