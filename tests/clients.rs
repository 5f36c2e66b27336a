//! The clients people use, run against the gateway: graphql-js's own
//! introspection, schema building and validation (`tests/js/introspect.mjs`), GraphiQL in
//! headless Chromium (`tests/js/graphiql.mjs`, a query and a subscription), graphql-ws and
//! graphql-sse following live calls (`tests/js/live.mjs`), the GraphQL over HTTP spec's
//! audit suite (`graphql-http`'s `auditServer`, `tests/js/audit.mjs`: every audit must
//! pass, warnings and notices included), and the sample frontend (`examples/web`:
//! React, Apollo Client, trusted documents, a JWT; a second user without the scope for phone numbers sees them masked) in headless Chromium
//! (`tests/js/webapp.mjs`).
//!
//! They need Node.js, `npm ci --prefix tests/js` (and `--prefix examples/web` for the
//! sample app, which this test builds) and (for the browser) Debian's `chromium`. This test binary has its own harness (`harness = false`) so that it can
//! tell three outcomes apart: each check runs when its tools are here, and otherwise
//! reports itself `skipped`, by name and with the missing tool, never `ok`. `bash .ci/run`
//! installs all three, so CI runs every check.

mod common;

use std::path::Path;
use std::process::ExitCode;

use common::*;

const JS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");

/// One check: its name, the tools it needs, and the script it runs with the gateway URL.
struct Check {
    name: &'static str,
    script: &'static str,
    needs_browser: bool,
    /// Runs the sample app (built here) against a gateway set up for it.
    web_app: bool,
}

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/web");

const CHECKS: [Check; 5] = [
    Check {
        name: "graphql_js_rebuilds_schema_graphql_from_introspection_and_validates_fragments_per_type",
        script: "introspect.mjs",
        needs_browser: false,
        web_app: false,
    },
    Check {
        name: "graphiql_runs_offline_in_headless_chromium_with_no_failed_request_or_console_error",
        script: "graphiql.mjs",
        needs_browser: true,
        web_app: false,
    },
    Check {
        name: "graphql_ws_and_graphql_sse_clients_follow_a_live_call_from_created_to_updated",
        script: "live.mjs",
        needs_browser: false,
        web_app: false,
    },
    Check {
        name: "graphql_http_audit_server_passes_every_audit_of_the_graphql_over_http_spec",
        script: "audit.mjs",
        needs_browser: false,
        web_app: false,
    },
    Check {
        name: "sample_web_app_scrolls_opens_details_shows_provider_faults_and_masks_numbers_for_a_user_without_the_scope",
        script: "webapp.mjs",
        needs_browser: true,
        web_app: true,
    },
];

/// What is missing for `check`, if anything.
fn missing(check: &Check) -> Option<String> {
    if cfg!(feature = "fake-provider") {
        return Some("this build has the fake fourth provider, so its schema is not schema.graphql".into());
    }
    let runs = |program: &str| {
        std::process::Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !runs("node") {
        return Some("Node.js is not installed (`node` not found)".into());
    }
    if !Path::new(JS).join("node_modules").is_dir() {
        return Some("tests/js/node_modules is missing (run `npm ci --prefix tests/js`)".into());
    }
    if check.web_app && !Path::new(WEB).join("node_modules").is_dir() {
        return Some("examples/web/node_modules is missing (run `npm ci --prefix examples/web`)".into());
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if check.needs_browser && !Path::new(&chromium).exists() {
        return Some(format!("no browser at {chromium} (Debian package `chromium`)"));
    }
    None
}

/// Runs `check` against a fresh gateway; the script's complaint on failure.
async fn run(check: &Check) -> Result<(), String> {
    if check.web_app {
        return web_app::run(check.script).await;
    }
    let app = live_app().await;
    node(
        check.script,
        &[&app.url, concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")],
    )
    .await
}

/// A gateway whose emulator makes live traffic and calls its webhooks back, signed.
async fn live_app() -> TestApp {
    use switchboard::emulator::{Callbacks, DEMO_ONEUPTIME_WEBHOOK_SECRET, DEMO_SIGNALWIRE_SIGNING_KEY};
    let app = TestApp::spawn_with(small_emulator(), |config, _| {
        if let Some(sw) = config.providers.signalwire.as_mut() {
            sw.signing_key = Some(switchboard::settings::Secret::new(DEMO_SIGNALWIRE_SIGNING_KEY));
        }
        if let Some(ou) = config.providers.oneuptime.as_mut() {
            ou.webhook_secret = Some(switchboard::settings::Secret::new(DEMO_ONEUPTIME_WEBHOOK_SECRET));
        }
    })
    .await;
    app.emulator
        .set_callbacks(Callbacks::to_gateway(app.url.trim_end_matches("/graphql"), "default"));
    // A call starts or moves on every 200 ms, for as long as the emulator runs.
    let _traffic = app.emulator.start_traffic(std::time::Duration::from_millis(200));
    app
}

/// Runs `tests/js/<script>` with `args`; it must print `ok: ...`.
async fn node(script: &str, args: &[&str]) -> Result<(), String> {
    let output = tokio::process::Command::new("node")
        .arg(Path::new(JS).join(script))
        .args(args)
        .current_dir(JS)
        .output()
        .await
        .map_err(|e| format!("node did not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.success() && stdout.starts_with("ok:") {
        true => {
            println!("  {}", stdout.trim());
            Ok(())
        }
        false => Err(format!("{stdout}\n{stderr}")),
    }
}

/// The sample frontend against the gateway the way a production BFF runs it: its origin
/// allowed by CORS, users signed in with JWTs of a test identity provider, only the
/// operations of the app's manifest allowed (trusted documents, `required`).
mod web_app {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use axum::extract::Request;
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Response};

    use super::common::issuer::{TestIssuer, jwt_config, valid_claims};
    use super::common::{TestApp, small_emulator};
    use super::{WEB, node};

    pub(super) async fn run(script: &str) -> Result<(), String> {
        build().await?;
        let site = serve(Path::new(WEB).join("dist")).await;
        let issuer = TestIssuer::start().await;
        issuer.add_rsa_key("web", true);
        let jwt = jwt_config(&issuer);
        let origin = site.trim_end_matches('/').to_string();
        let app = TestApp::spawn_with(small_emulator(), move |config, _| {
            config.server.cors.allow_origins = vec![origin];
            config.auth.jwt = Some(jwt);
            // Phone numbers need `calls:numbers`: the first user holds it, the second not.
            config.authorization = Some(
                serde_json::from_value(serde_json::json!({
                    "scopes_claim": "scope",
                    "fields": {
                        "CallLog.from": {"requires": "calls:numbers", "otherwise": "mask"},
                        "CallLog.to": {"requires": "calls:numbers", "otherwise": "mask"},
                    }
                }))
                .expect("rules"),
            );
            config.graphql.trusted_documents.mode = switchboard::config::TrustedDocumentsMode::Required;
            config.graphql.trusted_documents.manifest = Some(Path::new(WEB).join("persisted-query-manifest.json"));
            // Pages expire at once, so a fault injected at the emulator shows on the next
            // request instead of after the page TTL.
            config.cache.page_ttl = Duration::from_millis(1);
            if let Some(sw) = config.providers.signalwire.as_mut() {
                sw.signing_key = Some(switchboard::settings::Secret::new(
                    switchboard::emulator::DEMO_SIGNALWIRE_SIGNING_KEY,
                ));
            }
        })
        .await;
        // Its SignalWire project calls the gateway back (OneUptime's secret is not set there).
        app.emulator.set_callbacks(switchboard::emulator::Callbacks::to_gateway(
            app.url.trim_end_matches("/graphql"),
            "default",
        ));
        let signed = |sub: &str, scope: &str| {
            let mut claims = valid_claims();
            claims["sub"] = sub.into();
            claims["scope"] = scope.into();
            issuer.sign("web", &claims)
        };
        let page = format!(
            "{site}?gateway={}&token={}",
            app.url,
            signed("admin-1", "calls:numbers")
        );
        let masked = format!("{site}?gateway={}&token={}", app.url, signed("agent-2", "calls:read"));
        let emulator = app.emulator.base_url().to_string();
        node(script, &[&page, &app.url, &emulator, &masked]).await
    }

    /// `npm run build` in examples/web: types from schema.graphql, the manifest, the bundle.
    async fn build() -> Result<(), String> {
        let output = tokio::process::Command::new("npm")
            .args(["run", "build", "--silent"])
            .current_dir(WEB)
            .output()
            .await
            .map_err(|e| format!("npm did not start: {e}"))?;
        match output.status.success() {
            true => Ok(()),
            false => Err(format!(
                "examples/web does not build:\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )),
        }
    }

    /// Serves the files under `root` on a loopback port; returns the site's URL.
    async fn serve(root: PathBuf) -> String {
        let handler = move |request: Request| {
            let root = root.clone();
            async move { file(&root, request.uri().path()).await }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!("http://{}/", listener.local_addr().expect("an address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, axum::Router::new().fallback(handler)).await;
        });
        url
    }

    async fn file(root: &Path, path: &str) -> Response {
        let relative = match path.trim_start_matches('/') {
            "" => "index.html",
            p if p.split('/').any(|part| part == ".." || part.is_empty()) => {
                return StatusCode::NOT_FOUND.into_response();
            }
            p => p,
        };
        let kind = match relative.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("json" | "map") => "application/json",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        };
        match tokio::fs::read(root.join(relative)).await {
            Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    println!("\nrunning {} tests", CHECKS.len());
    for check in &CHECKS {
        if let Some(why) = missing(check) {
            println!("test {} ... skipped: {why}", check.name);
            skipped += 1;
            continue;
        }
        match runtime.block_on(run(check)) {
            Ok(()) => {
                println!("test {} ... ok", check.name);
                passed += 1;
            }
            Err(why) => {
                println!("test {} ... FAILED\n{why}", check.name);
                failed += 1;
            }
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed; {skipped} skipped\n");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
