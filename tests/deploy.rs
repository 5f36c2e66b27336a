//! The container deployment, read the way Docker Compose reads it, so it cannot
//! drift from the README's demo: `docker-compose.yml` starts the emulator, Redis, two
//! gateway replicas, a load balancer on one port and Prometheus, each with a health check;
//! the replicas' config (`deploy/demo/switchboard.toml`) is the built-in demo against the
//! emulator service, shares Redis, cursors and the scrape port, and answers the README's
//! first query; `docker-compose.real.yml` is the same deployment from an env file. Building
//! the image needs Docker and is not done here.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::json;
use serde_yaml_ng::Value;
use switchboard::config::Config;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo(path)).expect("the compose file exists");
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn services(compose: &Value) -> &serde_yaml_ng::Mapping {
    compose["services"].as_mapping().expect("a services map")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn names(map: &serde_yaml_ng::Mapping) -> BTreeSet<String> {
    map.keys().filter_map(|k| k.as_str().map(str::to_string)).collect()
}

/// The demo config as the replicas load it (no `SWITCHBOARD__` variables are set here).
fn demo_config() -> Config {
    Config::load(Some(&repo("deploy/demo/switchboard.toml"))).expect("the demo config loads")
}

#[test]
fn compose_runs_the_emulator_redis_two_replicas_a_balancer_and_prometheus_each_health_checked() {
    let compose = yaml("docker-compose.yml");
    let services = services(&compose);
    let expected = ["emulator", "redis", "gateway-1", "gateway-2", "lb", "prometheus"];
    assert_eq!(names(services), expected.iter().map(|s| s.to_string()).collect());
    for (name, service) in services {
        let test = strings(&service["healthcheck"]["test"]);
        assert!(
            test.first().is_some_and(|t| t == "CMD") && test.len() > 1,
            "{name:?} health check: {test:?}"
        );
    }
    // One port for GraphiQL: the balancer's. The replicas publish nothing.
    let published: Vec<(String, Vec<String>)> = services
        .iter()
        .map(|(name, s)| (name.as_str().unwrap_or_default().to_string(), strings(&s["ports"])))
        .filter(|(_, ports)| !ports.is_empty())
        .collect();
    assert_eq!(
        published,
        vec![
            ("lb".to_string(), vec!["4000:4000".to_string()]),
            ("prometheus".to_string(), vec!["127.0.0.1:9090:9090".to_string()]),
        ]
    );
    // Both replicas: the same image and config, started after the emulator and Redis are
    // healthy, checked on the port the config listens on.
    let listen = demo_config().server.listen.port();
    for replica in ["gateway-1", "gateway-2"] {
        let gateway = &services[replica];
        assert_eq!(
            strings(&gateway["command"]),
            ["serve", "--config", "/etc/switchboard/switchboard.toml"]
        );
        assert_eq!(strings(&gateway["volumes"]), ["./deploy/demo:/etc/switchboard:ro"]);
        for dependency in ["emulator", "redis"] {
            assert_eq!(gateway["depends_on"][dependency]["condition"], "service_healthy");
        }
        let health = strings(&gateway["healthcheck"]["test"]);
        assert!(
            health.contains(&format!("http://127.0.0.1:{listen}/readyz")),
            "{health:?}"
        );
    }
    assert_eq!(
        strings(&services["emulator"]["command"]),
        ["emulate", "--listen", "0.0.0.0:4010"]
    );
}

#[test]
fn the_replicas_config_is_the_built_in_demo_against_the_emulator_service() {
    let config = demo_config();
    let base = url::Url::parse("http://emulator:4010").unwrap();
    let mut expected = serde_json::to_value(switchboard::emulator::demo_providers(&base)).unwrap();
    let mut actual = serde_json::to_value(&config.providers).unwrap();
    // The service account as JSON, whatever its spacing.
    for value in [&mut expected, &mut actual] {
        let credentials = &mut value["voximplant"]["credentials_json"];
        *credentials = serde_json::from_str(credentials.as_str().expect("inline credentials")).unwrap();
    }
    assert_eq!(actual, expected);
    assert!(config.tenants.is_empty());

    // Shared by the replicas: Redis (the compose service), the cursor key, the scrape port.
    let redis = config.cache.redis.as_ref().expect("[cache.redis]");
    assert_eq!(redis.url.expose(), "redis://redis:6379");
    assert!(
        config.graphql.cursor_secret.is_some(),
        "replicas must sign cursors alike"
    );
    let admin = config
        .server
        .admin_listen
        .expect("an admin listener for Prometheus")
        .port();
    let prometheus = yaml("deploy/prometheus.yml");
    let targets = strings(&prometheus["scrape_configs"][0]["static_configs"][0]["targets"]);
    assert_eq!(targets, [format!("gateway-1:{admin}"), format!("gateway-2:{admin}")]);

    // The balancer sends to both replicas on the port they listen on.
    let nginx = std::fs::read_to_string(repo("deploy/nginx.conf")).unwrap();
    let listen = config.server.listen.port();
    let servers: Vec<&str> = nginx
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("server ")?
                .strip_suffix(';')?
                .split_whitespace()
                .next()
        })
        .collect();
    assert_eq!(servers, [format!("gateway-1:{listen}"), format!("gateway-2:{listen}")]);
}

/// The first GraphQL example of the README.
fn readme_first_query() -> String {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let start = readme.find("```graphql\n").expect("a graphql block") + "```graphql\n".len();
    let end = readme[start..].find("```").expect("its end");
    readme[start..start + end].to_string()
}

#[tokio::test]
async fn the_replicas_config_answers_the_readme_query_from_every_provider() {
    let emulator = switchboard::emulator::Emulator::start(common::small_emulator())
        .await
        .unwrap();
    let mut config = demo_config();
    // The same settings, at this test's emulator and ports (and without Redis, which the
    // shared-cache tests cover).
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    config.cache.redis = None;
    let providers = &mut config.providers;
    providers.signalwire.as_mut().unwrap().space_url = emulator.base_url();
    providers.oneuptime.as_mut().unwrap().base_url = emulator.base_url();
    providers.voximplant.as_mut().unwrap().base_url = emulator.base_url();
    let app = common::TestApp::start(config, emulator).await;

    let response = app.query(&readme_first_query(), json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    let data = &response["data"];
    for list in [
        "callLogs",
        "signalWireVoiceLogs",
        "oneUptimeCallLogs",
        "voximplantCallSessions",
    ] {
        let edges = data[list]["edges"].as_array().map_or(0, Vec::len);
        assert!(edges > 0, "{list} is empty: {data}");
    }
}

#[test]
fn the_real_providers_compose_is_the_same_deployment_configured_from_an_env_file() {
    let demo = yaml("docker-compose.yml");
    let real = yaml("docker-compose.real.yml");
    let mut expected = names(services(&demo));
    expected.remove("emulator");
    assert_eq!(names(services(&real)), expected);
    for replica in ["gateway-1", "gateway-2"] {
        let gateway = &services(&real)[replica];
        assert_eq!(gateway["env_file"], "switchboard.env");
        assert_eq!(
            gateway["environment"]["SWITCHBOARD__CACHE__REDIS__URL"],
            "redis://redis:6379"
        );
        assert_eq!(gateway["healthcheck"], services(&demo)[replica]["healthcheck"]);
    }
    let example = std::fs::read_to_string(repo("deploy/switchboard.env.example")).unwrap();
    for key in [
        "SWITCHBOARD__GRAPHQL__CURSOR_SECRET=",
        "SWITCHBOARD__PROVIDERS__SIGNALWIRE__API_TOKEN=",
        "SWITCHBOARD__PROVIDERS__ONEUPTIME__API_KEY=",
        "SWITCHBOARD__PROVIDERS__VOXIMPLANT__CREDENTIALS_FILE=",
    ] {
        assert!(example.contains(key), "the env example names {key}");
    }
    let ignored = std::fs::read_to_string(repo(".gitignore")).unwrap();
    assert!(
        ignored.lines().any(|l| l == "/switchboard.env"),
        "the env file is never committed"
    );
}
