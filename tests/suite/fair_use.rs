//! Fair use (`[limits]`): a request's estimated cost is reserved from its tenant's and its
//! user's budgets before it runs (429 `RATE_LIMITED` with `Retry-After`, nothing run), the
//! actual cost is settled after, and every answer says where the budget stands
//! (`extensions.cost`, `RateLimit-*` header fields, `Query.rateLimit`).

use crate::common::issuer::*;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn post(app: &TestApp, query: &str, variables: Value, token: Option<&str>) -> Answer {
    let mut request = app
        .http()
        .post(&app.url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap(),
    }
}

fn header(answer: &Answer, name: &str) -> u64 {
    answer
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", answer.headers))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

const PAGE: &str = "{ signalWireVoiceLogs(first: 5) { edges { node { id } } } }";

#[tokio::test]
async fn a_request_whose_estimate_is_over_what_is_left_gets_429_before_any_upstream_call() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.limits.tenant_cost_per_minute = 100).await;
    let page = post(&app, PAGE, json!({}), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let cost = &page.body["extensions"]["cost"];
    assert_eq!(cost["requested"], 10, "one upstream page: {cost}");
    assert_eq!(cost["actual"], 10, "{cost}");
    assert_eq!(cost["limit"], 100);
    assert_eq!(cost["remaining"], 90);
    assert!(cost["resetAt"].as_str().unwrap().ends_with('Z'), "{cost}");
    assert_eq!(header(&page, "ratelimit-limit"), 100);
    assert_eq!(header(&page, "ratelimit-remaining"), 90);
    assert!((1..=60).contains(&header(&page, "ratelimit-reset")));
    let ids: Vec<Value> = page.body["data"]["signalWireVoiceLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(ids.len(), 5);

    // Ten ids of SignalWire (no batch read) may cost ten calls: 100 > 90 left.
    let many: Vec<Value> = ids.iter().cycle().take(10).cloned().collect();
    let before = app.upstream_total();
    let refused = post(
        &app,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json!({ "ids": many }),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert_eq!(error_codes(&refused.body), ["RATE_LIMITED"]);
    let retry = header(&refused, "retry-after");
    assert!((1..=7).contains(&retry), "{retry}");
    assert_eq!(refused.body["errors"][0]["extensions"]["retryAfterSeconds"], retry);
    assert!(refused.body.get("data").is_none(), "nothing ran: {}", refused.body);
    assert_eq!(refused.body["extensions"]["cost"]["requested"], 100);
    assert_eq!(app.upstream_total(), before, "no upstream call for a refused request");

    // Free: the budget itself, even while the rest is refused.
    let left = post(&app, "{ rateLimit { limit remaining resetAt } }", json!({}), None).await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    assert_eq!(left.body["data"]["rateLimit"]["limit"], 100);
    assert_eq!(left.body["data"]["rateLimit"]["remaining"], 90);
    assert_eq!(left.body["extensions"]["cost"]["actual"], 0);

    // Fewer ids fit; a cached answer then costs the floor of 1.
    let fits = post(
        &app,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json!({ "ids": ids[..2] }),
        None,
    )
    .await;
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.body);
    assert_eq!(fits.body["extensions"]["cost"]["requested"], 20);
    assert_eq!(
        fits.body["extensions"]["cost"]["actual"], 1,
        "read from the cache: {}",
        fits.body
    );
    let again = post(&app, PAGE, json!({}), None).await;
    assert_eq!(again.body["extensions"]["cost"]["actual"], 1, "{}", again.body);
    assert_eq!(again.body["data"], page.body["data"], "the same answer, its cost aside");
}

#[tokio::test]
async fn one_tenant_spending_its_budget_leaves_the_other_tenants_answers_alone() {
    let app = TestApp::spawn_two_tenants_with(|c| c.limits.tenant_cost_per_minute = 30).await;
    let key = |name: &str| format!("{name}-key");
    let ids_of = |answer: &Answer| -> Vec<Value> {
        answer.body["data"]["signalWireVoiceLogs"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].clone())
            .collect()
    };
    let alice_page = post(&app, PAGE, json!({}), Some(&key("alice"))).await;
    let bob_page = post(&app, PAGE, json!({}), Some(&key("bob"))).await;
    assert_eq!(alice_page.body["extensions"]["cost"]["remaining"], 20);
    assert_eq!(bob_page.body["extensions"]["cost"]["remaining"], 20);
    let lookup = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    // Three ids may cost three calls (30): more than alice has left.
    let alice = post(
        &app,
        lookup,
        json!({ "ids": ids_of(&alice_page)[..3] }),
        Some(&key("alice")),
    )
    .await;
    assert_eq!(alice.status, StatusCode::TOO_MANY_REQUESTS, "{}", alice.body);
    for _ in 0..3 {
        let refused = post(
            &app,
            lookup,
            json!({ "ids": ids_of(&alice_page)[..3] }),
            Some(&key("alice")),
        )
        .await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    }
    // Bob's two ids (20) fit his own budget, whatever alice does.
    let bob = post(
        &app,
        lookup,
        json!({ "ids": ids_of(&bob_page)[..2] }),
        Some(&key("bob")),
    )
    .await;
    assert_eq!(bob.status, StatusCode::OK, "bob is not alice: {}", bob.body);
    assert_eq!(bob.body["data"]["nodes"][1]["id"], ids_of(&bob_page)[1]);
}

#[tokio::test]
async fn one_user_spending_their_budget_leaves_another_user_of_the_tenant_alone() {
    let issuer = TestIssuer::start().await;
    issuer.add_rsa_key("k", true);
    let jwt = jwt_config(&issuer);
    let app = TestApp::spawn_with(small_emulator(), move |c, _| {
        c.auth.jwt = Some(jwt);
        c.limits.tenant_cost_per_minute = 1_000;
        c.limits.user_cost_per_minute = 20;
    })
    .await;
    let token = |sub: &str| {
        let mut claims = valid_claims();
        claims["sub"] = json!(sub);
        issuer.sign("k", &claims)
    };
    let (ann, ben) = (token("ann"), token("ben"));
    let page = |first: u32| format!("{{ signalWireVoiceLogs(first: {first}) {{ edges {{ node {{ id }} }} }} }}");
    assert_eq!(post(&app, &page(1), json!({}), Some(&ann)).await.status, StatusCode::OK);
    assert_eq!(post(&app, &page(2), json!({}), Some(&ann)).await.status, StatusCode::OK);
    let third = post(&app, &page(3), json!({}), Some(&ann)).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{}", third.body);
    assert_eq!(
        header(&third, "ratelimit-limit"),
        20,
        "the user's budget is the tighter"
    );
    let other = post(&app, &page(3), json!({}), Some(&ben)).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    // The tenant's cache already holds the page: ben pays the floor of 1.
    assert_eq!(other.body["extensions"]["cost"]["remaining"], 19, "{}", other.body);
}

#[tokio::test]
async fn without_limits_answers_carry_no_cost_and_rate_limit_is_null() {
    let app = TestApp::spawn().await;
    let page = post(&app, PAGE, json!({}), None).await;
    assert!(page.body.get("extensions").is_none(), "{}", page.body);
    assert!(page.headers.get("ratelimit-limit").is_none());
    let left = post(&app, "{ rateLimit { remaining } }", json!({}), None).await;
    assert_eq!(left.body["data"]["rateLimit"], Value::Null);
}

#[tokio::test]
async fn a_get_answer_revalidates_with_304_although_its_cost_changed() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.limits.tenant_cost_per_minute = 1_000).await;
    let get = |etag: Option<String>| {
        let mut request = app.http().get(&app.url).query(&[("query", PAGE)]);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let first = get(None).await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["extensions"]["cost"]["actual"], 10);
    let second = get(None).await.unwrap();
    assert_eq!(
        second.headers()["etag"].to_str().unwrap(),
        etag,
        "the ETag is the data's"
    );
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["extensions"]["cost"]["actual"], 1, "{second}");
    let revalidated = get(Some(etag)).await.unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(revalidated.headers()["ratelimit-limit"], "1000");
}
