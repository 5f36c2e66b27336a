//! Checks on a GraphQL request before it runs (DESIGN.md §5b): accepted content types,
//! queries only over GET, and a cap on selected fields (aliases and `__typename`
//! included, which async-graphql's own limits do not count).

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use axum::http::{HeaderMap, header};

/// Whether a POST's content type is one we execute (JSON only: no CSRF-able simple
/// requests like `text/plain` or forms).
pub fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || essence == "application/graphql-response+json"
}

/// Whether the operation that would run is a mutation or subscription.
pub fn selects_non_query(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    doc.operations.iter().any(|(name, op)| {
        let selected = match (operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && op.node.ty != OperationType::Query
    })
}

/// Number of field selections in the whole document (every operation and fragment).
pub fn field_count(doc: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => 1 + count(&f.node.selection_set.node),
                Selection::InlineFragment(i) => count(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc.fragments.values().map(|f| count(&f.node.selection_set.node)).sum();
    operations + fragments
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn typename_aliases_are_counted() {
        let doc = parse_query("{ a: __typename b: __typename ...F } fragment F on Query { c: __typename }").unwrap();
        assert_eq!(field_count(&doc), 3);
    }

    #[test]
    fn mutations_are_detected_by_selected_operation() {
        let doc = parse_query("query Q { __typename } mutation M { x }").unwrap();
        assert!(!selects_non_query(&doc, Some("Q")));
        assert!(selects_non_query(&doc, Some("M")));
    }

    #[test]
    fn only_json_content_types_pass() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        assert!(is_json(&h));
    }
}
