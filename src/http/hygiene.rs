//! Checks on a GraphQL request before it runs: accepted content types
//! and queries only over GET. Limits on the document's shape are in `limits`.

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType};
use axum::http::{HeaderMap, header};

/// Whether a POST's content type is one we execute (JSON only: no CSRF-able simple
/// requests like `text/plain` or forms).
pub(super) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || essence == "application/graphql-response+json"
}

/// Whether the operation that would run is a mutation or subscription.
pub(super) fn selects_non_query(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    selected(doc, operation_name).any(|(_, op)| op.node.ty != OperationType::Query)
}

/// The operations `operation_name` may select: the one of that name, or all of them when
/// no name is given.
fn selected<'d>(
    doc: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> impl Iterator<Item = (Option<&'d async_graphql::Name>, &'d Positioned<OperationDefinition>)> {
    doc.operations
        .iter()
        .filter(move |(name, _)| match (operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        })
}

/// The operation a request selects, with its name: the one named, or the only one.
fn chosen<'d>(
    doc: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(Option<&'d async_graphql::Name>, &'d OperationDefinition)> {
    let mut selected = selected(doc, operation_name);
    let (name, op) = selected.next()?;
    if operation_name.is_none() && selected.next().is_some() {
        return None;
    }
    Some((name, &op.node))
}

/// The operation a request selects: the one named, or the only one.
pub(super) fn definition<'d>(
    doc: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    chosen(doc, operation_name).map(|(_, op)| op)
}

/// The type (`query`, `mutation`, `subscription`) and name of the operation a request
/// selects: the one named, or the only one; `None` when there is no such operation.
pub(super) fn operation<'d>(
    doc: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(&'static str, Option<&'d str>)> {
    let (name, op) = chosen(doc, operation_name)?;
    let ty = match op.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    Some((ty, name.map(|n| n.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn the_selected_operation_has_a_type_and_an_ambiguous_choice_has_none() {
        let doc = parse_query("query Q { __typename } mutation M { x }").unwrap();
        assert_eq!(operation(&doc, Some("Q")), Some(("query", Some("Q"))));
        assert_eq!(operation(&doc, Some("M")), Some(("mutation", Some("M"))));
        assert_eq!(operation(&doc, Some("X")), None);
        assert_eq!(operation(&doc, None), None);
        let single = parse_query("{ __typename }").unwrap();
        assert_eq!(operation(&single, None), Some(("query", None)));
        let named = parse_query("query Only { __typename }").unwrap();
        assert_eq!(operation(&named, None), Some(("query", Some("Only"))));
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
