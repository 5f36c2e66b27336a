//! Which operations compile to plans (what `tests/suite/plan.rs` runs both ways).

use super::compile::compile;
use crate::graphql::completion::{self, TypeIndex};

fn compiles(query: &str, operation: Option<&str>) -> bool {
    let types = TypeIndex::from_sdl(&crate::graphql::sdl());
    let mut document = async_graphql::parser::parse_query(query).expect("the query parses");
    completion::inject(&mut document);
    compile(&types, None, &document, operation).is_some()
}

const SHARED: &str = "__typename id provider nativeId from to direction status providerStatus createdAt startedAt endedAt durationSeconds";
/// The own fields SignalWire's types list for plans (`providers::signalwire::OWN_FIELDS`).
const VOICE_OWN: &str = "voiceSource providerSource voiceType providerType lamlUrl providerDirection durationMs billingMs parentId events { __typename eventAt level providerLevel name details projectId logId }";
const VIDEO_OWN: &str = "providerSource videoType providerType url roomName locked";
const VOXIMPLANT_OWN: &str = "sessionId accountId applicationId applicationName userId ruleName audioQuality initiatorAddress mediaServerAddress logFileUrl finishReason customData";
const ONEUPTIME_OWN: &str = "projectId statusMessage callData callCostInUSDCents updatedAt incidentId userId alertId monitorId scheduledMaintenanceId statusPageId statusPageAnnouncementId onCallDutyPolicyId onCallDutyPolicyEscalationRuleId onCallDutyPolicyScheduleId teamId";

#[test]
fn lookups_and_provider_pages_of_shared_fields_compile() {
    for query in [
        "query($id: ID!) { node(id: $id) { ... on SignalWireVoiceLog { id from to status createdAt } } }".to_string(),
        format!("query($id: ID!) {{ callLog(id: $id) {{ {SHARED} }} }}"),
        "query Two($id: ID!) { a: node(id: $id) { id ... on Node { id } } __typename b: callLog(id: $id) { ...F } } fragment F on CallLog { status s: status createdAt ... on VoximplantCallSession { nativeId } }".into(),
        "{ signalWireVoiceLogs(first: 20) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename } edges { cursor __typename node { ... on SignalWireVoiceLog { id from to status createdAt } } } } }".into(),
        format!("query($first: Int = 7, $after: String) {{ signalWireVoiceLogs(first: $first, after: $after) {{ nodes {{ {SHARED} }} pageInfo {{ endCursor hasNextPage }} }} }}"),
        format!("{{ signalWireVideoLogs(first: 20, filter: {{includeDeleted: true}}) {{ __typename edges {{ node {{ {SHARED} }} }} }} }}"),
        format!("{{ oneUptimeCallLogs(first: 20) {{ edges {{ cursor node {{ {SHARED} }} }} }} }}"),
        "{ voximplantCallSessions(first: 20) { e: edges { node { ... on VoximplantCallSession { id status } ... on CallLog { i: id } } } } }".into(),
        "query { x: signalWireVoiceLogs(first: 3) { edges { cursor } } y: oneUptimeCallLogs(first: 2) { pageInfo { startCursor } } }".into(),
        format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on CallLog {{ {SHARED} }} }} }}"),
        "query($id: ID!) { node(id: $id) { ... on SignalWireVoiceLog { id status durationMs events { eventAt level name } } } }".into(),
        format!("query($id: ID!) {{ callLog(id: $id) {{ {SHARED} ... on SignalWireVoiceLog {{ {VOICE_OWN} }} ... on SignalWireVideoLog {{ {VIDEO_OWN} }} ... on OneUptimeCallLog {{ {ONEUPTIME_OWN} }} ... on VoximplantCallSession {{ {VOXIMPLANT_OWN} }} }} }}"),
        "{ signalWireVoiceLogs(first: 2) { nodes { ... on SignalWireVoiceLog { durationMs voiceType } } } }".into(),
        format!("query($f: CallLogFilter, $after: String) {{ callLogs(first: 7, filter: $f, after: $after) {{ pageInfo {{ endCursor hasNextPage }} edges {{ cursor node {{ {SHARED} ... on SignalWireVoiceLog {{ durationMs }} }} }} }} }}"),
        "{ oneUptimeCallLogs(first: 2) { totalCount n: totalCount } callLogs(first: 2) { totalCount } }".into(),
    ] {
        assert!(compiles(&query, None), "{query}");
    }
    assert!(compiles(
        "query A { node(id: \"x\") { id } } mutation B { requestVoximplantAuditLogReport { id } }",
        Some("A")
    ));
}

#[test]
fn what_plans_do_not_draw_is_left_to_async_graphql() {
    for query in [
        "{ node(id: \"x\") @include(if: true) { id } }",
        "{ node(id: \"x\") { ... on CallLog @skip(if: false) { id } } }",
        "{ node(id: \"x\") { ... on SignalWireVoiceLog { chargeDetails { description } } } }",
        "{ node(id: \"x\") { ... on SignalWireVoiceLog { parent { id } } } }",
        "{ node(id: \"x\") { ... on SignalWireVoiceLog { events { name n: name } events { level } } } }",
        "{ signalWireVoiceLogs(first: 2) { nodes { ... on SignalWireVoiceLog { events { name } } } } }",
        "{ nodes(ids: [\"x\"]) { ... on SignalWireVoiceLog { events { name } } } }",
        "{ node(id: \"x\") { ... on VoximplantCallSession { calls { remoteNumber } } } }",
        "{ node(id: \"x\") { ... on CallLog { cost { amount } } } }",
        "{ callLogs(first: 2) { scanCut edges { node { id } } } }",
        "{ callLogs(first: 2) { edges { node { ... on SignalWireVoiceLog { events { name } } } } } }",
        "{ voximplantAuditLog(first: 2) { edges { node { id } } } }",
        "{ signalWireVoiceLogs(first: 2) { edges { node { id } } edges { cursor } } }",
        "{ a: node(id: \"x\") { id } a: node(id: \"x\") { id } }",
        "{ __schema { queryType { name } } }",
        "mutation { requestVoximplantAuditLogReport { id } }",
        "query A { __typename } query B { __typename }",
    ] {
        assert!(!compiles(query, None), "{query}");
    }
}

fn parse_type(ty: &str) -> async_graphql::parser::types::Type {
    async_graphql::parser::types::Type::new(ty).expect("a type")
}

#[test]
fn variable_values_fit_their_types_as_validation_checks_them() {
    let inputs = super::inputs::InputTypes::from_sdl(&crate::graphql::sdl());
    let value = |json: serde_json::Value| async_graphql::Value::from_json(json).expect("JSON");
    use serde_json::json;
    for (ty, given, fits) in [
        ("ID!", json!("U2lnbmFs"), true),
        ("ID!", json!(5), true),
        ("ID!", json!(5.5), false),
        ("ID!", json!(u64::MAX), false),
        ("ID!", json!(null), false),
        ("ID", json!(null), true),
        ("ID!", json!(true), false),
        ("Int", json!(3), true),
        ("Int", json!(null), true),
        ("Int", json!(2_147_483_648_i64), false),
        ("Int", json!("3"), false),
        ("Int", json!(1.5), false),
        ("String", json!("c"), true),
        ("String", json!(1), false),
        ("[ID!]!", json!(["a", "b"]), true),
        ("[ID!]!", json!("a"), true),
        ("[ID!]!", json!(["a", null]), false),
        ("[ID!]!", json!(null), false),
        ("[ID!]!", json!([]), true),
        ("SignalWireLogFilter", json!({"includeDeleted": true}), true),
        ("SignalWireLogFilter", json!({}), true),
        ("SignalWireLogFilter", json!({"includeDeleted": null}), false),
        ("SignalWireLogFilter", json!({"bogus": 1}), false),
        ("SignalWireLogFilter", json!("x"), false),
        (
            "SignalWireLogFilter",
            json!({"createdAfter": "2026-01-01T00:00:00Z"}),
            true,
        ),
        ("SignalWireLogFilter", json!({"createdAfter": "yesterday"}), false),
        ("SignalWireLogFilter", json!({"createdOn": "2026-01-01"}), true),
        ("SignalWireLogFilter", json!({"createdOn": 20260101}), false),
        ("CallLogFilter", json!({"providers": ["SIGNALWIRE"]}), true),
        ("CallLogFilter", json!({"providers": "ONEUPTIME"}), true),
        ("CallLogFilter", json!({"providers": ["NOPE"]}), false),
        ("NoSuchType", json!("x"), false),
    ] {
        assert_eq!(
            inputs.fits(&value(given.clone()), &parse_type(ty)),
            fits,
            "{given} as {ty}"
        );
    }
}

/// The complexity a plan counts for its variables is async-graphql's: the schema with
/// exactly that limit accepts the operation, and with one less refuses it as too complex.
#[tokio::test]
async fn plans_count_complexity_as_async_graphql_does() {
    use serde_json::json;
    let types = TypeIndex::from_sdl(&crate::graphql::sdl());
    let fragment = "fragment F on CallLog { status s: status createdAt ... on VoximplantCallSession { nativeId } }";
    for (query, variables) in [
        (
            "query($id: ID!) { node(id: $id) { ... on SignalWireVoiceLog { id from to status createdAt } } }".to_string(),
            json!({"id": "x"}),
        ),
        (
            format!("query($id: ID!) {{ a: node(id: $id) {{ id ... on Node {{ id }} }} __typename b: callLog(id: $id) {{ ...F }} c: callLog(id: $id) {{ ...F }} }} {fragment}"),
            json!({"id": "x"}),
        ),
        (
            format!("query($first: Int = 7, $after: String) {{ signalWireVoiceLogs(first: $first, after: $after) {{ nodes {{ {SHARED} }} pageInfo {{ endCursor hasNextPage }} }} }}"),
            json!({}),
        ),
        (
            format!("query($first: Int = 7, $after: String) {{ signalWireVoiceLogs(first: $first, after: $after) {{ nodes {{ {SHARED} }} pageInfo {{ endCursor hasNextPage }} }} }}"),
            json!({"first": 55}),
        ),
        (
            "query($f: Int) { x: signalWireVoiceLogs(first: $f) { edges { cursor node { ...F } } } y: oneUptimeCallLogs(first: 2) { pageInfo { startCursor } } } fragment F on CallLog { id ... on CallLog { status } }".into(),
            json!({"f": null}),
        ),
        (
            format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on CallLog {{ {SHARED} }} }} }}"),
            json!({"ids": ["a", "b", "c"]}),
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }".into(),
            json!({"ids": "a"}),
        ),
    ] {
        let mut document = async_graphql::parser::parse_query(&query).expect("the query parses");
        completion::inject(&mut document);
        let plan = compile(&types, None, &document, None).expect("a plan");
        let variables = async_graphql::Variables::from_json(variables);
        let counted = plan.complexity(&plan.arguments(&variables)).expect("arguments parse");
        for (limit, refused) in [(counted, false), (counted - 1, true)] {
            let config = crate::graphql::GraphqlConfig {
                max_complexity: limit,
                ..Default::default()
            };
            let schema = crate::graphql::build_schema(&config, Default::default(), b"key", async_graphql::ValidationMode::Strict, false);
            let mut request = async_graphql::Request::new(query.clone()).variables(variables.clone());
            request.set_parsed_query(document.clone());
            let response = schema.execute(request).await;
            let too_complex = response.errors.iter().any(|e| e.message == "Query is too complex.");
            assert_eq!(too_complex, refused, "{query}: counted {counted}, limit {limit}: {:?}", response.errors);
        }
    }
}
