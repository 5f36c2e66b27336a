//! Which operations compile to plans (what `tests/suite/plan.rs` runs both ways).

use super::compile::compile;
use crate::graphql::completion::{self, TypeIndex};

fn compiles(query: &str, operation: Option<&str>) -> bool {
    let types = TypeIndex::from_sdl(&crate::graphql::sdl());
    let mut document = async_graphql::parser::parse_query(query).expect("the query parses");
    completion::inject(&mut document);
    compile(&types, &document, operation).is_some()
}

const SHARED: &str = "__typename id provider nativeId from to direction status providerStatus createdAt startedAt endedAt durationSeconds";

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
        "{ node(id: \"x\") { ... on SignalWireVoiceLog { durationMs } } }",
        "{ node(id: \"x\") { ... on CallLog { cost { amount } } } }",
        "{ callLogs(first: 2) { edges { node { id } } } }",
        "{ oneUptimeCallLogs(first: 2) { totalCount } }",
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
