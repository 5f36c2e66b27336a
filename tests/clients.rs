//! The clients people use, run against the gateway (issue 12): graphql-js's own
//! introspection, schema building and validation (`tests/js/introspect.mjs`), and
//! GraphiQL in headless Chromium (`tests/js/graphiql.mjs`).
//!
//! They need Node.js, `npm ci --prefix tests/js` and (for the browser) Debian's
//! `chromium`. This test binary has its own harness (`harness = false`) so that it can
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
}

const CHECKS: [Check; 2] = [
    Check {
        name: "graphql_js_rebuilds_schema_graphql_from_introspection_and_validates_fragments_per_type",
        script: "introspect.mjs",
        needs_browser: false,
    },
    Check {
        name: "graphiql_runs_offline_in_headless_chromium_with_no_failed_request_or_console_error",
        script: "graphiql.mjs",
        needs_browser: true,
    },
];

/// What is missing for `check`, if anything.
fn missing(check: &Check) -> Option<String> {
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
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if check.needs_browser && !Path::new(&chromium).exists() {
        return Some(format!("no browser at {chromium} (Debian package `chromium`)"));
    }
    None
}

/// Runs `check` against a fresh gateway; the script's complaint on failure.
async fn run(check: &Check) -> Result<(), String> {
    let app = TestApp::spawn().await;
    let output = tokio::process::Command::new("node")
        .arg(Path::new(JS).join(check.script))
        .arg(&app.url)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .current_dir(JS)
        .output()
        .await
        .map_err(|e| format!("node did not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.success() && stdout.starts_with("ok:") {
        true => Ok(()),
        false => Err(format!("{stdout}\n{stderr}")),
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
