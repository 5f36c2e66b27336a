//! A document's estimated cost: the upstream calls its operation can make, before it runs.
//!
//! Each field that reads upstream is priced from its arguments, and what is selected under
//! a list is multiplied by the list's length:
//! - a connection (`first`) reads `ceil(first / page_size)` upstream pages per stream it
//!   merges (`callLogs`: every configured stream, or those of `filter.providers`; with a
//!   filter applied in the gateway, up to `timeline_scan_bound` items per stream); its
//!   `edges` and `nodes` are `first` items;
//! - `nodes(ids)` can need one lookup per id (SignalWire has no batch read), and is that
//!   many items; `node`, `callLog` one lookup; `events` one call per log; `totalCount` one
//!   count per stream;
//! - a report mutation starts a job upstream and costs `REPORT_CALLS`;
//! - `callLogStats` reads whole streams, how much of them is unknown before it runs: it is
//!   priced at `STATS_PAGES` pages per stream, and charged what it read afterwards (a
//!   repeat from the cache costs the floor);
//! - `rateLimit`, `__typename` and introspection cost nothing.
//!
//! The estimate is capped at `graphql.max_upstream_calls` (no request can make more), and
//! priced in `demand::Cost` units. Fragments are priced once each (a fragment's cost is
//! linear in the multiplier it is spread under), so a fragment bomb is cheap to price.

use std::collections::HashMap;

use async_graphql::Value as ConstValue;
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::Value;

use crate::demand::Cost;

/// Upstream calls a report mutation is priced at (a job created, then polled).
pub const REPORT_CALLS: u64 = 10;

/// Upstream pages per stream a `callLogStats` is priced at before it runs.
pub const STATS_PAGES: u64 = 10;

/// The fields that are connections (paged with `first`/`after`, which may be left out).
const CONNECTIONS: &[&str] = &[
    "callLogs",
    "signalWireVoiceLogs",
    "signalWireVideoLogs",
    "oneUptimeCallLogs",
    "voximplantCallSessions",
    "voximplantAuditLog",
    "entries",
    "callSessions",
];

/// What prices depend on.
#[derive(Debug, Clone, Copy)]
pub struct CostModel {
    /// The smallest upstream page size of a configured provider.
    pub page_size: u64,
    /// `graphql.default_page_size` and `graphql.max_page_size`.
    pub default_first: u64,
    pub max_first: u64,
    /// Streams `callLogs` merges when every provider is configured.
    pub streams: u64,
    /// Items a gateway-side filter may scan per stream and page (`graphql.timeline_scan_bound`).
    pub scan_bound: u64,
    /// `graphql.max_upstream_calls`.
    pub max_calls: u64,
}

/// An operation's estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// Upstream calls it can make (capped at `max_calls`).
    pub calls: u64,
    /// Whether it reads any data (else it is free).
    pub reads: bool,
}

impl Estimate {
    pub fn cost(self) -> Cost {
        Cost::of_calls(self.calls, self.reads)
    }
}

/// Estimates `operation` of `doc` with `variables`.
pub fn estimate(
    model: &CostModel,
    doc: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
) -> Estimate {
    let mut walk = Walk {
        model,
        doc,
        variables,
        fragments: HashMap::new(),
    };
    let calls = walk.set(&operation.selection_set.node, 1);
    let reads = reads(doc, &operation.selection_set.node, 0);
    Estimate {
        calls: calls.min(model.max_calls),
        reads,
    }
}

/// Fields that cost nothing and read no data.
fn is_free(name: &str) -> bool {
    matches!(name, "rateLimit" | "__typename" | "__schema" | "__type")
}

/// Whether a root selection reads data (any field but the free ones).
fn reads(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> bool {
    depth < 8
        && set.items.iter().any(|item| match &item.node {
            Selection::Field(f) => !is_free(f.node.name.node.as_str()),
            Selection::InlineFragment(i) => reads(doc, &i.node.selection_set.node, depth + 1),
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.node.fragment_name.node)
                .is_some_and(|f| reads(doc, &f.node.selection_set.node, depth + 1)),
        })
}

struct Walk<'a> {
    model: &'a CostModel,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Calls per fragment at multiplier 1; `None` while being priced (a cycle prices as 0:
    /// validation refuses it anyway).
    fragments: HashMap<&'a str, Option<u64>>,
}

impl<'a> Walk<'a> {
    /// Calls `set` can make when it is selected `times` times.
    fn set(&mut self, set: &'a SelectionSet, times: u64) -> u64 {
        let mut total = 0u64;
        for item in &set.items {
            let calls = match &item.node {
                Selection::Field(f) => self.field(
                    &f.node.name.node,
                    f.node.arguments.as_slice(),
                    &f.node.selection_set.node,
                    times,
                ),
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node, times),
                Selection::FragmentSpread(s) => self.fragment(&s.node.fragment_name.node).saturating_mul(times),
            };
            total = total.saturating_add(calls);
        }
        total
    }

    fn fragment(&mut self, name: &'a str) -> u64 {
        match self.fragments.get(name) {
            Some(Some(calls)) => return *calls,
            Some(None) => return 0,
            None => {}
        }
        let Some(definition) = self.doc.fragments.get(name) else {
            return 0;
        };
        self.fragments.insert(name, None);
        let calls = self.set(&definition.node.selection_set.node, 1);
        self.fragments.insert(name, Some(calls));
        calls
    }

    /// A field's own calls plus its selection's, selected `times` times.
    fn field(
        &mut self,
        name: &str,
        arguments: &[(Positioned<Name>, Positioned<Value>)],
        selection: &'a SelectionSet,
        times: u64,
    ) -> u64 {
        let argument = |wanted: &str| {
            arguments
                .iter()
                .find(|(n, _)| n.node.as_str() == wanted)
                .map(|(_, v)| &v.node)
        };
        let model = self.model;
        let is_connection = CONNECTIONS.contains(&name) || argument("first").is_some() || argument("after").is_some();
        let (own, items) = match name {
            n if is_free(n) => return 0,
            // A connection's `edges`/`nodes` (their items are counted by `connection`) and
            // an edge's `node`: no call of their own.
            "edges" | "node" if arguments.is_empty() => (0, 1),
            "nodes" if argument("ids").is_none() => (0, 1),
            "nodes" => {
                let ids = argument("ids").map_or(0, |v| self.list_len(v));
                (ids, ids)
            }
            "node" | "callLog" => (1, 1),
            "events" => (1, 1),
            "totalCount" => (model.streams, 1),
            "callLogStats" => (self.streams(argument("filter")).saturating_mul(STATS_PAGES), 1),
            "requestVoximplantAuditLogReport" | "requestVoximplantCallHistoryReport" => (REPORT_CALLS, 1),
            _ if is_connection => {
                let first = argument("first")
                    .and_then(|v| self.number(v))
                    .unwrap_or(model.default_first)
                    .clamp(1, model.max_first.max(1));
                let filter = argument("filter");
                let (streams, scanned) = if name == "callLogs" {
                    (self.streams(filter), self.filters_in_gateway(filter))
                } else {
                    (1, false)
                };
                let reach = if scanned { first.max(model.scan_bound) } else { first };
                (streams.saturating_mul(reach.div_ceil(model.page_size.max(1))), first)
            }
            _ => (0, 1),
        };
        let own = own.saturating_mul(times);
        let under = if is_connection {
            self.connection(selection, times, items)
        } else {
            self.set(selection, times.saturating_mul(items))
        };
        own.saturating_add(under)
    }

    /// Calls under a connection selected `times` times with `items` items each: its
    /// `edges` and `nodes` hold the items, its other fields are per connection.
    fn connection(&mut self, set: &'a SelectionSet, times: u64, items: u64) -> u64 {
        let mut total = 0u64;
        for item in &set.items {
            let calls = match &item.node {
                Selection::Field(f) if matches!(f.node.name.node.as_str(), "edges" | "nodes") => {
                    self.set(&f.node.selection_set.node, times.saturating_mul(items))
                }
                Selection::Field(f) => self.field(
                    &f.node.name.node,
                    f.node.arguments.as_slice(),
                    &f.node.selection_set.node,
                    times,
                ),
                Selection::InlineFragment(i) => self.connection(&i.node.selection_set.node, times, items),
                Selection::FragmentSpread(s) => match self.doc.fragments.get(&s.node.fragment_name.node) {
                    Some(f) => self.connection(&f.node.selection_set.node, times, items),
                    None => 0,
                },
            };
            total = total.saturating_add(calls);
        }
        total
    }

    fn number(&self, value: &Value) -> Option<u64> {
        match value {
            Value::Number(n) => n.as_u64(),
            Value::Variable(name) => match self.variables.get(name)? {
                ConstValue::Number(n) => n.as_u64(),
                _ => None,
            },
            _ => None,
        }
    }

    fn list_len(&self, value: &Value) -> u64 {
        match value {
            Value::List(items) => items.len() as u64,
            Value::Variable(name) => match self.variables.get(name) {
                Some(ConstValue::List(items)) => items.len() as u64,
                Some(ConstValue::Null) | None => 0,
                Some(_) => 1,
            },
            _ => 1,
        }
    }

    /// A filter's entry, from a literal object or a variable's.
    fn entry(&self, filter: Option<&Value>, key: &str) -> Option<Entry> {
        match filter? {
            Value::Object(map) => map.get(key).map(|v| match v {
                Value::Null => Entry::Null,
                Value::List(items) => Entry::List(items.len() as u64),
                Value::Variable(name) => match self.variables.get(name) {
                    Some(ConstValue::List(items)) => Entry::List(items.len() as u64),
                    Some(ConstValue::Null) | None => Entry::Null,
                    Some(_) => Entry::Some,
                },
                _ => Entry::Some,
            }),
            Value::Variable(name) => match self.variables.get(name)? {
                ConstValue::Object(map) => map.get(key).map(|v| match v {
                    ConstValue::Null => Entry::Null,
                    ConstValue::List(items) => Entry::List(items.len() as u64),
                    _ => Entry::Some,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    /// Streams `callLogs` merges under `filter`.
    fn streams(&self, filter: Option<&Value>) -> u64 {
        match self.entry(filter, "providers") {
            // Each provider has at most two streams (SignalWire: voice and video).
            Some(Entry::List(n)) => n.saturating_mul(2).min(self.model.streams),
            _ => self.model.streams,
        }
    }

    /// Whether `filter` has a part only the gateway applies (then a page can scan).
    fn filters_in_gateway(&self, filter: Option<&Value>) -> bool {
        ["directions", "statuses", "number"]
            .iter()
            .any(|key| matches!(self.entry(filter, key), Some(Entry::List(_) | Entry::Some)))
    }
}

/// What a filter has under a key.
enum Entry {
    Null,
    List(u64),
    Some,
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const MODEL: CostModel = CostModel {
        page_size: 100,
        default_first: 20,
        max_first: 100,
        streams: 4,
        scan_bound: 1_000,
        max_calls: 150,
    };

    fn calls(query: &str, variables: serde_json::Value) -> Estimate {
        let doc = parse_query(query).expect("parses");
        let (_, op) = doc.operations.iter().next().expect("an operation");
        let variables = Variables::from_json(variables);
        estimate(&MODEL, &doc, &op.node, &variables)
    }

    #[test]
    fn a_page_costs_one_upstream_page_per_stream_it_merges() {
        let page = calls(
            "{ callLogs(first: 20) { edges { node { id } } } }",
            serde_json::json!({}),
        );
        assert_eq!(page, Estimate { calls: 4, reads: true });
        assert_eq!(page.cost(), Cost(40));
        let one = calls(
            "query($p: [Provider!]) { callLogs(first: 100, filter: {providers: $p}) { nodes { id } } }",
            serde_json::json!({"p": ["ONEUPTIME"]}),
        );
        assert_eq!(one.calls, 2, "one provider: at most two streams");
        let scanned = calls(
            "{ callLogs(filter: {number: \"+1555\"}) { totalCount nodes { id } } }",
            serde_json::json!({}),
        );
        assert_eq!(scanned.calls, 4 * 10 + 4, "the scan bound, then a count per stream");
    }

    #[test]
    fn stats_are_priced_at_ten_pages_per_stream_they_read() {
        let all = calls(
            "{ callLogStats(groupBy: [PROVIDER]) { buckets { count } totals { count cost { amount } } } }",
            serde_json::json!({}),
        );
        assert_eq!(all.calls, 4 * STATS_PAGES);
        let one = calls(
            "{ callLogStats(filter: {providers: [VOXIMPLANT]}, groupBy: []) { totals { count } } }",
            serde_json::json!({}),
        );
        assert_eq!(one.calls, 2 * STATS_PAGES, "one provider: at most two streams");
    }

    #[test]
    fn lists_multiply_what_is_selected_under_them_and_fragments_are_priced_once() {
        let events = calls(
            "{ signalWireVoiceLogs(first: 50) { edges { node { ...E } } } } fragment E on SignalWireVoiceLog { events { type } }",
            serde_json::json!({}),
        );
        assert_eq!(events.calls, 1 + 50, "one page, then one events call per log");
        let ids = calls(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } node(id: \"x\") { id } }",
            serde_json::json!({"ids": ["a", "b", "c"]}),
        );
        assert_eq!(ids.calls, 4);
        let bomb = format!(
            "{{ ...F0 }} {}",
            (0..30)
                .map(|i| format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1))
                .collect::<String>()
                + "fragment F30 on Query { node(id: \"x\") { id } }"
        );
        assert_eq!(calls(&bomb, serde_json::json!({})).calls, MODEL.max_calls, "capped");
    }

    #[test]
    fn free_fields_cost_nothing_a_cached_read_one_and_a_report_much() {
        let free = calls("{ rateLimit { remaining } __typename }", serde_json::json!({}));
        assert_eq!(free.cost(), Cost(0));
        let report = calls(
            "mutation { requestVoximplantCallHistoryReport { id } }",
            serde_json::json!({}),
        );
        assert_eq!(report.cost(), Cost(REPORT_CALLS * 10));
        let plain = calls("{ viewer { tenant } }", serde_json::json!({}));
        assert_eq!(plain.cost(), Cost(1));
    }

    #[test]
    fn every_connection_of_the_schema_is_priced_as_one() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let schema = async_graphql::parser::parse_schema(include_str!("../../schema.graphql")).expect("the SDL parses");
        let mut connections = Vec::new();
        for definition in &schema.definitions {
            if let TypeSystemDefinition::Type(ty) = definition
                && let TypeKind::Object(object) = &ty.node.kind
            {
                for field in &object.fields {
                    let returns = field.node.ty.node.to_string();
                    if returns.trim_end_matches('!').ends_with("Connection") {
                        connections.push(field.node.name.node.to_string());
                    }
                }
            }
        }
        connections.sort();
        let mut priced: Vec<String> = CONNECTIONS.iter().map(|c| c.to_string()).collect();
        priced.sort();
        assert_eq!(connections, priced);
    }
}
