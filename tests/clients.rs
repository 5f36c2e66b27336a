//! The clients people use, run against the gateway (issue 12): graphql-js's own
//! introspection, schema building and validation (`tests/js/introspect.mjs`), and
//! GraphiQL in headless Chromium (`tests/js/graphiql.mjs`).
//!
//! These need Node.js, `npm ci --prefix tests/js` and (for the browser) Debian's
//! `chromium`; without them they are reported as ignored (by name), never as passed.
//! `bash .ci/run` installs all three and runs them with `cargo test -- --include-ignored`.

mod common;

use common::*;

#[tokio::test]
#[ignore = "needs Node.js and tests/js/node_modules (npm ci --prefix tests/js); bash .ci/run installs them and runs it"]
async fn graphql_js_rebuilds_schema_graphql_from_introspection_and_validates_fragments_per_type() {
    let app = TestApp::spawn().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
    let output = tokio::process::Command::new("node")
        .arg(format!("{dir}/introspect.mjs"))
        .arg(&app.url)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .current_dir(dir)
        .output()
        .await
        .expect("node runs (install Node.js, then npm ci --prefix tests/js)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "graphql-js check failed:\n{stdout}\n{stderr}");
    assert!(stdout.starts_with("ok:"), "{stdout}");
}

#[tokio::test]
#[ignore = "needs Chromium (/usr/bin/chromium, Debian package chromium), Node.js and tests/js/node_modules; bash .ci/run installs them and runs it"]
async fn graphiql_runs_offline_in_headless_chromium_with_no_failed_request_or_console_error() {
    let app = TestApp::spawn().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
    let output = tokio::process::Command::new("node")
        .arg(format!("{dir}/graphiql.mjs"))
        .arg(&app.url)
        .current_dir(dir)
        .output()
        .await
        .expect("node runs (install Node.js, then npm ci --prefix tests/js)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "GraphiQL in Chromium failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.starts_with("ok:"), "{stdout}");
}
