//! Field-level authorization (`[authorization]`): tokens from the test identity provider
//! with and without each scope (as an OAuth 2 `scope` string and as an array claim), phone
//! numbers masked in place and wherever a copy of them can reach a client, forbidden
//! fields null in place with `FORBIDDEN`, filters and cursors that cannot reveal what is
//! masked, answers kept per view, and the audit counters.

use std::collections::BTreeMap;

use crate::common::issuer::*;
use crate::common::*;
use serde_json::{Value, json};
use switchboard::config::{AuthorizationConfig, FieldRuleConfig, Otherwise, Requires};

const EVERYTHING: &str = "calls:numbers billing:read audit:read";

/// The README's rules.
fn rules(claim: &str) -> AuthorizationConfig {
    let rule = |scope: &str, otherwise| FieldRuleConfig {
        requires: Requires::One(scope.into()),
        otherwise,
    };
    AuthorizationConfig {
        scopes_claim: claim.into(),
        fields: BTreeMap::from([
            ("CallLog.from".to_string(), rule("calls:numbers", Otherwise::Mask)),
            ("CallLog.to".to_string(), rule("calls:numbers", Otherwise::Mask)),
            ("CallLog.cost".to_string(), rule("billing:read", Otherwise::Forbid)),
            (
                "Query.voximplantAuditLog".to_string(),
                rule("audit:read", Otherwise::Forbid),
            ),
        ]),
    }
}

const METRICS_KEY: &str = "metrics-key";

/// A gateway over all three emulated providers, signing in with `issuer`'s tokens, with
/// the README's rules read from `claim`.
async fn gateway(issuer: &TestIssuer, claim: &str) -> TestApp {
    issuer.add_rsa_key("k1", true);
    let (jwt, authorization) = (jwt_config(issuer), rules(claim));
    TestApp::spawn_with(small_emulator(), move |config, _| {
        config.auth.jwt = Some(jwt);
        config.authorization = Some(authorization);
        config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    })
    .await
}

/// Counter `name{rule="..."}` of `/metrics` (0 when not exported yet).
async fn rule_counter(app: &TestApp, name: &str, rule: &str) -> u64 {
    let text = app.metrics(METRICS_KEY).await;
    let series = format!("{name}{{rule=\"{rule}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series)?.parse().ok())
        .unwrap_or(0)
}

/// A token with `scopes` in claim `claim` (a string, or an array when `array`).
fn token(issuer: &TestIssuer, claim: &str, scopes: &str, array: bool) -> String {
    let mut claims = valid_claims();
    claims[claim] = match array {
        true => json!(scopes.split_whitespace().collect::<Vec<_>>()),
        false => json!(scopes),
    };
    issuer.sign("k1", &claims)
}

const PAGE: &str =
    "{ signalWireVoiceLogs(first: 5) { edges { node { id from to status cost { amount currency } } } } }";

fn is_masked_number(s: &str) -> bool {
    s.contains('•') && s.chars().filter(char::is_ascii_digit).nth(5).is_none()
}

#[tokio::test]
async fn numbers_are_masked_and_costs_forbidden_without_the_scopes_and_shown_with_them() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let admin = token(&issuer, "scope", EVERYTHING, false);
    let agent = token(&issuer, "scope", "calls:read", false);

    let full = app.query_with_key(PAGE, json!({}), Some(&admin)).await;
    let masked = app.query_with_key(PAGE, json!({}), Some(&agent)).await;
    assert!(full.get("errors").is_none(), "{full}");
    let full_edges = full["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap();
    let masked_edges = masked["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap();
    assert_eq!(full_edges.len(), 5);
    assert_eq!(masked_edges.len(), 5);
    for (i, (f, m)) in full_edges.iter().zip(masked_edges).enumerate() {
        let (f, m) = (&f["node"], &m["node"]);
        assert_eq!(f["id"], m["id"], "same records in the same order");
        assert_eq!(f["status"], m["status"]);
        for party in ["from", "to"] {
            let shown = f[party].as_str().unwrap();
            let hidden = m[party].as_str().unwrap();
            assert!(!shown.contains('•'), "{shown}");
            if shown.starts_with('+') {
                assert!(is_masked_number(hidden), "{hidden}");
                assert_eq!(&hidden[..3], &shown[..3]);
                assert_eq!(&hidden[hidden.len() - 2..], &shown[shown.len() - 2..]);
                assert_eq!(hidden.chars().count(), shown.chars().count());
            } else {
                assert_eq!(hidden, "•••", "{shown}");
            }
        }
        assert!(f["cost"].is_object(), "{f}");
        assert_eq!(m["cost"], Value::Null, "forbidden in place");
        let error = masked["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == json!(["signalWireVoiceLogs", "edges", i, "node", "cost"]))
            .unwrap_or_else(|| panic!("a FORBIDDEN error at edge {i}: {masked}"));
        assert_eq!(error["extensions"]["code"], "FORBIDDEN");
    }
    assert_eq!(error_codes(&masked).len(), 5, "one error per forbidden value: {masked}");
}

#[tokio::test]
async fn stats_cost_sums_follow_the_rule_of_call_log_cost_and_counts_stay() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let admin = token(&issuer, "scope", EVERYTHING, false);
    let agent = token(&issuer, "scope", "calls:read", false);
    let q = "{ callLogStats(groupBy: [PROVIDER]) { buckets { count cost { amount currency } } totals { count } } }";
    let full = app.query_with_key(q, json!({}), Some(&admin)).await;
    assert!(full.get("errors").is_none(), "{full}");
    let hidden = app.query_with_key(q, json!({}), Some(&agent)).await;
    let (f, h) = (&full["data"]["callLogStats"], &hidden["data"]["callLogStats"]);
    assert_eq!(f["totals"], h["totals"], "counts are not guarded");
    let buckets = h["buckets"].as_array().unwrap();
    assert!(f["buckets"][0]["cost"].is_array(), "{full}");
    assert!(buckets.iter().all(|b| b["cost"].is_null()), "{hidden}");
    assert_eq!(error_codes(&hidden), vec!["FORBIDDEN"; buckets.len()], "{hidden}");
    assert_eq!(
        hidden["errors"][0]["path"],
        json!(["callLogStats", "buckets", 0, "cost"])
    );
    // Filtering by number needs the number scope here too.
    let by_number = "{ callLogStats(filter: {number: \"+15550001111\"}, groupBy: []) { totals { count } } }";
    let refused = app.query_with_key(by_number, json!({}), Some(&agent)).await;
    assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{refused}");
}

#[tokio::test]
async fn exports_keep_masked_numbers_masked_and_forbidden_costs_out_and_are_audited() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let admin = token(&issuer, "scope", EVERYTHING, false);
    let agent = token(&issuer, "scope", "calls:read", false);
    let url = format!(
        "{}/export/call-logs?format=ndjson",
        app.url.trim_end_matches("/graphql")
    );
    let export = |key: String| {
        let request = app.http().get(&url).bearer_auth(key);
        async move {
            let text = request.send().await.unwrap().text().await.unwrap();
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let audited = rule_counter(&app, "switchboard_audit_records_total", "CallLog.from").await;
    let (full, hidden) = (export(admin).await, export(agent).await);
    assert_eq!(full.len(), hidden.len());
    assert!(full.iter().any(|r| r["cost"].is_object()));
    for (f, h) in full.iter().zip(&hidden) {
        assert_eq!(f["id"], h["id"]);
        assert!(h["cost"].is_null(), "{h}");
        for party in ["from", "to"] {
            if let Some(shown) = f[party].as_str().filter(|s| s.starts_with('+')) {
                let masked = h[party].as_str().unwrap();
                assert!(is_masked_number(masked), "{masked}");
                assert_eq!(&masked[..3], &shown[..3]);
            }
        }
    }
    assert_eq!(
        rule_counter(&app, "switchboard_audit_records_total", "CallLog.from").await,
        audited + 1,
        "the admin's export wrote one audit record; the masked one none"
    );
}

#[tokio::test]
async fn scopes_are_read_from_an_array_claim_and_a_forbidden_non_null_root_field_nulls_data() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scp").await;
    let audit = "{ voximplantAuditLog(first: 2) { edges { node { id } } } }";
    let auditor = token(&issuer, "scp", "audit:read calls:numbers", true);
    let agent = token(&issuer, "scp", "calls:numbers", true);
    let granted = app.query_with_key(audit, json!({}), Some(&auditor)).await;
    assert!(granted.get("errors").is_none(), "{granted}");
    assert_eq!(
        granted["data"]["voximplantAuditLog"]["edges"].as_array().unwrap().len(),
        2
    );
    // `voximplantAuditLog` is non-null: its null propagates to `data`, as the spec says.
    let refused = app.query_with_key(audit, json!({}), Some(&agent)).await;
    assert_eq!(refused["data"], Value::Null, "{refused}");
    assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
    assert_eq!(refused["errors"][0]["path"], json!(["voximplantAuditLog"]));

    let numbers = "{ callLogs(first: 3) { edges { node { from } } } }";
    let shown = app.query_with_key(numbers, json!({}), Some(&agent)).await;
    let first = shown["data"]["callLogs"]["edges"][0]["node"]["from"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!first.contains('•'), "the array claim granted calls:numbers: {shown}");
    // A claim of another shape grants nothing.
    let odd = {
        let mut claims = valid_claims();
        claims["scp"] = json!({"calls:numbers": true});
        issuer.sign("k1", &claims)
    };
    let masked = app.query_with_key(numbers, json!({}), Some(&odd)).await;
    let hidden = masked["data"]["callLogs"]["edges"][0]["node"]["from"].as_str().unwrap();
    assert!(is_masked_number(hidden) || hidden == "•••", "{masked}");
}

/// Every string and JSON field of every `CallLog` type, and of the objects below them,
/// as one `callLogs` query and one `node` query per type (built from introspection, so a
/// field added later is covered too).
async fn every_string_field(app: &TestApp, key: &str) -> Vec<String> {
    let schema = app
        .query_with_key(
            "{ __schema { types { name kind interfaces { name } fields { name args { name } type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } }",
            json!({}),
            Some(key),
        )
        .await;
    let types = schema["data"]["__schema"]["types"].as_array().unwrap().clone();
    let by_name = |name: &str| types.iter().find(|t| t["name"] == name).cloned();
    fn named(ty: &Value) -> (String, String) {
        let mut t = ty;
        while t["name"].is_null() {
            t = &t["ofType"];
        }
        (
            t["name"].as_str().unwrap().to_string(),
            t["kind"].as_str().unwrap().to_string(),
        )
    }
    let leaves = |ty: &Value| -> Vec<String> {
        ty["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| matches!(named(&f["type"]).0.as_str(), "String" | "JSON"))
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut selections = Vec::new();
    for ty in types.iter().filter(|t| {
        t["kind"] == "OBJECT"
            && t["interfaces"]
                .as_array()
                .is_some_and(|i| i.iter().any(|i| i["name"] == "CallLog"))
    }) {
        let mut fields = leaves(ty);
        for f in ty["fields"].as_array().unwrap() {
            let (inner, kind) = named(&f["type"]);
            let no_required_args = f["args"].as_array().unwrap().is_empty();
            if kind == "OBJECT" && no_required_args && !inner.ends_with("Connection") && inner != "Money" {
                let nested = leaves(&by_name(&inner).unwrap());
                if !nested.is_empty() {
                    fields.push(format!("{} {{ {} }}", f["name"].as_str().unwrap(), nested.join(" ")));
                }
            }
        }
        selections.push((ty["name"].as_str().unwrap().to_string(), fields.join(" ")));
    }
    assert!(selections.len() >= 5, "every CallLog type: {selections:?}");
    let fragments: String = selections
        .iter()
        .map(|(ty, fields)| format!(" ... on {ty} {{ {fields} }}"))
        .collect();
    let mut bodies = Vec::new();
    let timeline = format!("{{ callLogs(first: 40) {{ edges {{ node {{ __typename id{fragments} }} }} }} }}");
    let answer = app.query_with_key(&timeline, json!({}), Some(key)).await;
    let edges = answer["data"]["callLogs"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .clone();
    bodies.push(answer.to_string());
    // One of each type by id too (SignalWire's voice log `events` are read there).
    let mut seen = std::collections::BTreeSet::new();
    for edge in edges {
        if seen.insert(edge["node"]["__typename"].to_string()) {
            let one = format!("query($id: ID!) {{ node(id: $id) {{ id{fragments} }} }}");
            bodies.push(
                app.query_with_key(&one, json!({"id": edge["node"]["id"]}), Some(key))
                    .await
                    .to_string(),
            );
        }
    }
    bodies
}

/// The phone numbers in `text`: `+` and ten digits or more.
fn numbers_in(text: &str) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '+' {
            let digits: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_digit()).collect();
            if digits.len() >= 10 {
                found.insert(digits);
            }
        }
    }
    found
}

#[tokio::test]
async fn no_string_field_of_any_call_log_type_leaks_a_full_number_to_a_caller_without_the_scope() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let admin = every_string_field(&app, &token(&issuer, "scope", EVERYTHING, false)).await;
    let agent = every_string_field(&app, &token(&issuer, "scope", "calls:read", false)).await;
    let numbers: std::collections::BTreeSet<String> = admin.iter().flat_map(|b| numbers_in(b)).collect();
    assert!(numbers.len() >= 20, "the admin sees numbers: {numbers:?}");
    let restricted = agent.join("\n");
    assert!(!restricted.contains("\"errors\""), "{restricted}");
    for number in &numbers {
        assert!(!restricted.contains(number.as_str()), "{number} leaks: {restricted}");
    }
    assert!(restricted.contains('•'), "numbers are masked, not removed");
}

#[tokio::test]
async fn a_caller_without_the_scope_cannot_filter_by_number_and_cursors_bind_the_view() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let admin = token(&issuer, "scope", EVERYTHING, false);
    let agent = token(&issuer, "scope", "billing:read", false);
    for (query, field) in [
        (
            "{ callLogs(first: 1, filter: {number: \"+14155550123\"}) { edges { cursor } } }",
            "callLogs",
        ),
        (
            "{ oneUptimeCallLogs(first: 1, filter: {fromNumber: \"+14155550123\"}) { edges { cursor } } }",
            "oneUptimeCallLogs",
        ),
        (
            "{ oneUptimeCallLogs(first: 1, filter: {toNumber: \"+14155550123\"}) { edges { cursor } } }",
            "oneUptimeCallLogs",
        ),
        (
            "{ voximplantCallSessions(first: 1, filter: {remoteNumbers: [\"14155550123\"]}) { edges { cursor } } }",
            "voximplantCallSessions",
        ),
    ] {
        let allowed = app.query_with_key(query, json!({}), Some(&admin)).await;
        assert!(allowed.get("errors").is_none(), "{query}: {allowed}");
        let refused = app.query_with_key(query, json!({}), Some(&agent)).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{query}: {refused}");
        assert_eq!(refused["errors"][0]["path"], json!([field]));
        let upstream_before = app.upstream_total();
        app.query_with_key(query, json!({}), Some(&agent)).await;
        assert_eq!(app.upstream_total(), upstream_before, "a refused filter reads nothing");
    }
    let page =
        "query($after: String) { callLogs(first: 2, after: $after) { edges { node { id } } pageInfo { endCursor } } }";
    let first = app.query_with_key(page, json!({}), Some(&admin)).await;
    let cursor = first["data"]["callLogs"]["pageInfo"]["endCursor"].clone();
    let resumed = app.query_with_key(page, json!({"after": cursor}), Some(&agent)).await;
    assert_eq!(
        error_codes(&resumed),
        ["BAD_USER_INPUT"],
        "another view's cursor: {resumed}"
    );
    let own = app.query_with_key(page, json!({}), Some(&agent)).await;
    let cursor = own["data"]["callLogs"]["pageInfo"]["endCursor"].clone();
    let next = app.query_with_key(page, json!({"after": cursor}), Some(&agent)).await;
    assert!(next.get("errors").is_none(), "its own cursor resumes: {next}");
    let other_agent = token(&issuer, "scope", "billing:read", false);
    let shared = app
        .query_with_key(page, json!({"after": cursor}), Some(&other_agent))
        .await;
    assert!(
        shared.get("errors").is_none(),
        "a cursor binds the view, not the user: {shared}"
    );
}

#[tokio::test]
async fn kept_answers_and_etags_follow_the_view_and_every_unmasked_answer_is_audited() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let admin = token(&issuer, "scope", EVERYTHING, false);
    let agent = token(&issuer, "scope", "calls:read", false);
    let query = "{ signalWireVoiceLogs(first: 3) { edges { node { id from to } } } }";
    let reused = || app.counter(METRICS_KEY, "switchboard_responses_reused_total");

    let shown = app.query_with_key(query, json!({}), Some(&admin)).await;
    assert_eq!(
        rule_counter(&app, "switchboard_audit_records_total", "CallLog.from").await,
        1
    );
    assert_eq!(
        rule_counter(&app, "switchboard_audit_unmasked_records_total", "CallLog.from").await,
        3
    );
    assert_eq!(
        rule_counter(&app, "switchboard_audit_unmasked_records_total", "CallLog.to").await,
        3
    );
    let again = app.query_with_key(query, json!({}), Some(&admin)).await;
    assert_eq!(again, shown);
    let before = reused().await;
    assert_eq!(app.query_with_key(query, json!({}), Some(&admin)).await, shown);
    assert_eq!(reused().await, before + 1, "the admin's answer is kept and reused");
    assert_eq!(
        rule_counter(&app, "switchboard_audit_records_total", "CallLog.from").await,
        3,
        "a reused unmasked answer is audited again"
    );

    let masked = app.query_with_key(query, json!({}), Some(&agent)).await;
    assert_ne!(masked, shown, "a masked view never gets the unmasked answer");
    assert!(masked.to_string().contains('•'));
    app.query_with_key(query, json!({}), Some(&agent)).await;
    let before = reused().await;
    assert_eq!(app.query_with_key(query, json!({}), Some(&agent)).await, masked);
    assert_eq!(reused().await, before + 1, "the masked answer is kept for its view");
    assert_eq!(
        rule_counter(&app, "switchboard_audit_records_total", "CallLog.from").await,
        3,
        "masked answers write no audit record"
    );
    assert_eq!(
        app.query_with_key(query, json!({}), Some(&admin)).await,
        shown,
        "and the reverse"
    );

    // GET: the ETag of one view does not validate the other's answer.
    let get = |key: &str, tag: Option<&str>| {
        let mut request = app.http().get(&app.url).query(&[("query", query)]).bearer_auth(key);
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let admin_get = get(&admin, None).await.unwrap();
    let tag = admin_get.headers()["etag"].to_str().unwrap().to_string();
    let vary = admin_get.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
    assert!(vary.contains("authorization"), "{vary}");
    assert!(
        admin_get.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    assert_eq!(get(&admin, Some(&tag)).await.unwrap().status(), 304);
    let agent_get = get(&agent, Some(&tag)).await.unwrap();
    assert_eq!(agent_get.status(), 200, "another view's ETag is not this view's answer");
    let body: Value = agent_get.json().await.unwrap();
    assert_eq!(body, masked);
}

#[tokio::test]
async fn api_key_callers_get_every_scope_unless_their_tenant_lists_scopes() {
    let emulator = switchboard::emulator::Emulator::start(small_emulator()).await.unwrap();
    let credential = small_emulator().signalwire_credentials[0].clone();
    let mut config = base_config();
    for (name, scopes) in [("service", None), ("support", Some(vec!["calls:read".to_string()]))] {
        config.tenants.push(switchboard::config::TenantConfig {
            scopes,
            name: name.to_string(),
            api_key_sha256: Some(switchboard::tenancy::hash_api_key(&format!("{name}-key"))),
            providers: switchboard::config::ProvidersConfig {
                signalwire: Some(signalwire_config(&emulator, &credential)),
                ..Default::default()
            },
        });
    }
    config.authorization = Some(rules("scope"));
    let app = TestApp::start(config, emulator).await;
    let service = app.query_with_key(PAGE, json!({}), Some("service-key")).await;
    assert!(service.get("errors").is_none(), "{service}");
    assert!(!service.to_string().contains('•'));
    let support = app.query_with_key(PAGE, json!({}), Some("support-key")).await;
    assert_eq!(error_codes(&support).len(), 5, "cost is forbidden: {support}");
    let from = support["data"]["signalWireVoiceLogs"]["edges"][0]["node"]["from"]
        .as_str()
        .unwrap();
    assert!(from.contains('•'), "{from}");
}

#[tokio::test]
async fn without_authorization_every_caller_sees_every_field_and_nothing_is_audited() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("k1", true);
    let jwt = jwt_config(&issuer);
    let app = TestApp::spawn_with(small_emulator(), move |config, _| {
        config.auth.jwt = Some(jwt);
        config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    })
    .await;
    let answer = app
        .query_with_key(PAGE, json!({}), Some(&token(&issuer, "scope", "", false)))
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert!(!answer.to_string().contains('•'));
    assert!(
        !app.metrics(METRICS_KEY)
            .await
            .contains("switchboard_audit_records_total{")
    );
}

#[tokio::test]
async fn a_root_connection_rule_holds_for_its_nodes_read_by_id() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let auditor = token(&issuer, "scope", EVERYTHING, false);
    let agent = token(&issuer, "scope", "calls:numbers", false);
    let page = app
        .query_with_key(
            "{ voximplantAuditLog(first: 1) { edges { node { id cmdName } } } }",
            json!({}),
            Some(&auditor),
        )
        .await;
    let id = page["data"]["voximplantAuditLog"]["edges"][0]["node"]["id"].clone();
    let by_id = "query($id: ID!) { node(id: $id) { id ... on VoximplantAuditLogEntry { cmdName cmdArgs } } }";
    let shown = app.query_with_key(by_id, json!({"id": id}), Some(&auditor)).await;
    assert!(shown["data"]["node"]["cmdName"].is_string(), "{shown}");
    let refused = app.query_with_key(by_id, json!({"id": id}), Some(&agent)).await;
    assert_eq!(refused["data"]["node"], Value::Null, "{refused}");
    let codes = error_codes(&refused);
    assert!(!codes.is_empty() && codes.iter().all(|c| c == "FORBIDDEN"), "{refused}");
    assert!(
        !refused
            .to_string()
            .contains(shown["data"]["node"]["cmdName"].as_str().unwrap())
    );
}

#[tokio::test]
async fn introspection_shows_the_whole_schema_and_says_which_scope_each_guarded_field_needs() {
    let issuer = TestIssuer::start().await;
    let app = gateway(&issuer, "scope").await;
    let agent = token(&issuer, "scope", "", false);
    let query = "{ __schema { types { name fields { name description } } } }";
    let answer = app.query_with_key(query, json!({}), Some(&agent)).await;
    let types = answer["data"]["__schema"]["types"].as_array().unwrap();
    let description = |ty: &str, field: &str| -> String {
        let ty = types.iter().find(|t| t["name"] == ty).unwrap();
        let field = ty["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == field)
            .unwrap();
        field["description"].as_str().unwrap_or("").to_string()
    };
    for ty in ["CallLog", "SignalWireVoiceLog", "OneUptimeCallLog"] {
        let from = description(ty, "from");
        assert!(from.starts_with("Calling party"), "{from}");
        assert!(from.contains("`calls:numbers`") && from.contains("masked"), "{from}");
        assert!(description(ty, "cost").contains("`billing:read`"));
        assert!(!description(ty, "status").contains("Authorization"));
    }
    assert!(description("VoximplantCall", "remoteNumber").contains("`calls:numbers`"));
    assert!(description("Query", "voximplantAuditLog").contains("`audit:read`"));
    let single = app
        .query_with_key(
            "{ __type(name: \"SignalWireVoiceLog\") { name fields { name description } } }",
            json!({}),
            Some(&agent),
        )
        .await;
    assert!(
        single["data"]["__type"]["fields"]
            .to_string()
            .contains("`calls:numbers`"),
        "{single}"
    );
    let plain = TestApp::spawn().await;
    let all = plain.query(query, json!({})).await;
    assert_eq!(
        all["data"]["__schema"]["types"].as_array().unwrap().len(),
        types.len(),
        "every type is shown"
    );
}

#[tokio::test]
async fn compiled_plans_mask_and_count_exactly_as_the_resolvers_do() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("k1", true);
    let (jwt, authorization) = (jwt_config(&issuer), rules("scope"));
    let app = TestApp::spawn_with(small_emulator(), move |config, _| {
        config.auth.jwt = Some(jwt);
        config.authorization = Some(authorization);
        config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
        config.cache.max_response_bytes = 0;
    })
    .await;
    let planned = || app.counter(METRICS_KEY, "switchboard_requests_planned_total");
    let unmasked = || rule_counter(&app, "switchboard_audit_unmasked_records_total", "CallLog.to");
    for query in [
        "{ signalWireVoiceLogs(first: 4) { edges { cursor node { id from to status } } } }",
        "{ callLogs(first: 6) { edges { node { __typename id from ... on CallLog { to } } } } }",
    ] {
        for scopes in ["calls:numbers", "calls:read"] {
            let key = token(&issuer, "scope", scopes, false);
            // The first run validates (async-graphql); the next ones run the plan.
            let (before, counted) = (planned().await, unmasked().await);
            let executed = app.query_with_key(query, json!({}), Some(&key)).await;
            let after_first = unmasked().await;
            let from_plan = app.query_with_key(query, json!({}), Some(&key)).await;
            assert!(planned().await > before, "{query} ({scopes}) ran a plan");
            assert_eq!(from_plan, executed, "{query} ({scopes})");
            let shown = after_first - counted;
            assert_eq!(unmasked().await - after_first, shown, "both paths count alike: {query}");
            match scopes {
                "calls:numbers" => assert!(shown > 0 && !executed.to_string().contains('•')),
                _ => assert!(shown == 0 && executed.to_string().contains('•')),
            }
        }
    }
    // A view that forbids a selected field is answered by the resolvers, in place.
    let cost = "{ signalWireVoiceLogs(first: 2) { edges { node { id cost { amount } } } } }";
    let key = token(&issuer, "scope", "calls:read", false);
    app.query_with_key(cost, json!({}), Some(&key)).await;
    let again = app.query_with_key(cost, json!({}), Some(&key)).await;
    assert_eq!(error_codes(&again), ["FORBIDDEN", "FORBIDDEN"], "{again}");
}
