//! Parsed GraphQL documents, cached by query text, with the validation verdicts reached
//! for them. Clients send the same few queries over and over; parsing one costs more than
//! executing a cached by-id lookup, and validating it about as much again. So a request
//! whose text was seen before gets a clone of the parsed document instead, and when the
//! same operation with the same variables already passed validation, it runs on the
//! schema that skips the rules that cannot have changed (`graphql::Schemas`). Only
//! documents that passed the shape limits (`limits`) are kept, so a cached one skips those
//! checks too.
//!
//! Validity is a function of the document, the operation and the variables' values (an
//! argument's value can come from a variable), and of nothing else: the schema is fixed for
//! the process. Depth and complexity limits are re-checked on every request anyway. An
//! operation that passed with some values is also remembered by name: with other values,
//! a plan checks the values' part of validation itself (`Plan::run`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;

use super::limits::{self, DocumentLimits, LimitError};
use crate::graphql::completion;
use crate::graphql::plan::{Plan, Planner};

/// Bytes the cache may hold, weighed as text plus parsed document.
const MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Verdicts one document keeps (one per operation and set of variables); the oldest goes.
const MAX_VERDICTS: usize = 16;
/// Longest verdict key kept (operation name and variables as JSON): requests with bigger
/// variables are validated every time rather than make the cache hold them.
const MAX_VERDICT_KEY_BYTES: usize = 512;

/// A parsed document takes many times its text (a positioned node per token); weigh both,
/// and the verdicts it may keep.
fn weigh(text: &str) -> u32 {
    let verdicts = MAX_VERDICTS * (MAX_VERDICT_KEY_BYTES / 4);
    u32::try_from(text.len().saturating_mul(17).saturating_add(1024 + verdicts)).unwrap_or(u32::MAX)
}

/// A parsed document (with response completion's hidden `__typename`s) and the operations
/// and variables it was found valid with.
pub struct Prepared {
    pub document: ExecutableDocument,
    valid: Mutex<VecDeque<Box<str>>>,
    /// The operations that passed validation with some variables (by name): with other
    /// values, only the values' part of validation is left to check (`Plan::run`).
    valid_operations: Mutex<Vec<Option<Box<str>>>>,
    /// The plans compiled for its operations, by name (`None` where none covers one).
    plans: Mutex<Vec<OperationPlan>>,
}

/// An operation's name and its plan, if one covers it.
type OperationPlan = (Option<Box<str>>, Option<Arc<Plan>>);

impl Prepared {
    fn new(document: ExecutableDocument) -> Self {
        Prepared {
            document,
            valid: Mutex::new(VecDeque::new()),
            valid_operations: Mutex::new(Vec::new()),
            plans: Mutex::new(Vec::new()),
        }
    }

    /// Gives `request` this document, for async-graphql to run without parsing it again.
    pub fn attach(&self, request: &mut async_graphql::Request) {
        request.set_parsed_query(self.document.clone());
    }

    /// The plan of `operation`, compiled the first time it is asked for.
    pub fn plan(&self, operation: Option<&str>, planner: &Planner) -> Option<Arc<Plan>> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, plan)) = plans.iter().find(|(name, _)| name.as_deref() == operation) {
            return plan.clone();
        }
        let plan = planner.compile(&self.document, operation).map(Arc::new);
        if plans.len() < MAX_VERDICTS {
            plans.push((operation.map(Box::from), plan.clone()));
        }
        plan
    }

    /// Whether the operation and variables that `key` names passed validation before.
    pub fn known_valid(&self, key: &VerdictKey) -> bool {
        let Some(key) = &key.0 else { return false };
        let valid = self.valid.lock().unwrap_or_else(|e| e.into_inner());
        valid.iter().any(|k| **k == **key)
    }

    /// Whether `operation` passed validation before, with whatever variables.
    pub fn operation_valid(&self, operation: Option<&str>) -> bool {
        let valid = self.valid_operations.lock().unwrap_or_else(|e| e.into_inner());
        valid.iter().any(|name| name.as_deref() == operation)
    }

    /// Records that `operation` with the variables that `key` names passed validation.
    pub fn mark_valid(&self, operation: Option<&str>, key: VerdictKey) {
        {
            let mut operations = self.valid_operations.lock().unwrap_or_else(|e| e.into_inner());
            if operations.len() < MAX_VERDICTS && !operations.iter().any(|name| name.as_deref() == operation) {
                operations.push(operation.map(Box::from));
            }
        }
        let Some(key) = key.0 else { return };
        let mut valid = self.valid.lock().unwrap_or_else(|e| e.into_inner());
        if valid.iter().any(|k| *k == key) {
            return;
        }
        if valid.len() == MAX_VERDICTS {
            valid.pop_front();
        }
        valid.push_back(key);
    }
}

/// What a validation verdict depends on besides the document: the operation name and the
/// variables (as JSON). `None` when the variables are too big to keep.
pub struct VerdictKey(Option<Box<str>>);

impl VerdictKey {
    pub fn of(request: &async_graphql::Request) -> Self {
        let mut key = request.operation_name.clone().unwrap_or_default();
        key.push('\0');
        if !request.variables.is_empty() {
            match serde_json::to_string(&request.variables) {
                Ok(json) => key.push_str(&json),
                Err(_) => return VerdictKey(None),
            }
        }
        VerdictKey((key.len() <= MAX_VERDICT_KEY_BYTES).then(|| key.into_boxed_str()))
    }
}

/// Query text -> parsed document; only documents that parsed are kept.
#[derive(Clone)]
pub struct Documents(moka::sync::Cache<Arc<str>, Arc<Prepared>>);

impl Default for Documents {
    fn default() -> Self {
        Documents(
            moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|text: &Arc<str>, _| weigh(text))
                .build(),
        )
    }
}

impl Documents {
    /// The request's parsed document: from the cache when its text was seen, else
    /// checked (`limits::scan` before parsing, `limits::shape` after), parsed, given the
    /// hidden `__typename` that response completion needs (`graphql::completion`), and
    /// kept. `None` when it does not parse (execution reports that). The request gets
    /// the document (`attach`) only if async-graphql is to run it: a compiled plan does
    /// not need that copy.
    pub fn prepare(
        &self,
        request: &mut async_graphql::Request,
        limits: &DocumentLimits,
    ) -> Result<Option<Arc<Prepared>>, LimitError> {
        if let Some(prepared) = self.0.get(request.query.as_str()) {
            return Ok(Some(prepared));
        }
        limits::scan(&request.query, limits)?;
        let Ok(parsed) = request.parsed_query() else {
            return Ok(None);
        };
        limits::shape(parsed, limits)?;
        let mut doc = parsed.clone();
        completion::inject(&mut doc);
        let prepared = Arc::new(Prepared::new(doc));
        self.0.insert(Arc::from(request.query.as_str()), prepared.clone());
        Ok(Some(prepared))
    }

    /// Number of cached documents (approximate until maintenance runs).
    pub fn entry_count(&self) -> u64 {
        self.0.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_nesting: 64,
        max_tokens: 1000,
        max_fields: 10,
        max_directives: 5,
        introspection: true,
    };

    #[test]
    fn a_document_over_the_limits_is_refused_and_not_kept() {
        let documents = Documents::default();
        let mut wide = async_graphql::Request::new(format!("{{ {} }}", "__typename ".repeat(11)));
        assert!(documents.prepare(&mut wide, &LIMITS).is_err());
        documents.0.run_pending_tasks();
        assert_eq!(documents.entry_count(), 0);
    }

    #[test]
    fn a_seen_query_reuses_its_parsed_document_and_a_broken_one_is_not_kept() {
        let documents = Documents::default();
        let query = "{ node(id: \"x\") { id } }";
        let mut first = async_graphql::Request::new(query);
        documents.prepare(&mut first, &LIMITS).unwrap();
        documents.0.run_pending_tasks();
        assert_eq!(documents.entry_count(), 1);
        let mut second = async_graphql::Request::new(query);
        let prepared = documents.prepare(&mut second, &LIMITS).unwrap().unwrap();
        prepared.attach(&mut second);
        assert_eq!(
            second.parsed_query().unwrap().operations.iter().count(),
            1,
            "the cached document is attached"
        );
        let mut broken = async_graphql::Request::new("{ node(");
        documents.prepare(&mut broken, &LIMITS).unwrap();
        documents.0.run_pending_tasks();
        assert_eq!(
            documents.entry_count(),
            1,
            "a document that does not parse is not cached"
        );
    }

    fn key(operation: &str, variables: serde_json::Value) -> VerdictKey {
        VerdictKey::of(
            &async_graphql::Request::new("{ __typename }")
                .operation_name(operation)
                .variables(async_graphql::Variables::from_json(variables)),
        )
    }

    #[test]
    fn a_verdict_holds_only_for_its_operation_and_variables_and_the_oldest_goes_first() {
        let prepared = Prepared::new(ExecutableDocument {
            operations: async_graphql::parser::types::DocumentOperations::Multiple(Default::default()),
            fragments: Default::default(),
        });
        prepared.mark_valid(Some("A"), key("A", serde_json::json!({"first": 1})));
        assert!(prepared.known_valid(&key("A", serde_json::json!({"first": 1}))));
        assert!(!prepared.known_valid(&key("A", serde_json::json!({"first": "1"}))));
        assert!(!prepared.known_valid(&key("B", serde_json::json!({"first": 1}))));
        assert!(prepared.operation_valid(Some("A")));
        assert!(!prepared.operation_valid(Some("B")) && !prepared.operation_valid(None));
        for n in 2..=MAX_VERDICTS as i64 {
            prepared.mark_valid(Some("A"), key("A", serde_json::json!({"first": n})));
        }
        assert!(
            prepared.known_valid(&key("A", serde_json::json!({"first": 1}))),
            "16 fit"
        );
        prepared.mark_valid(Some("A"), key("A", serde_json::json!({"first": 99})));
        assert!(
            !prepared.known_valid(&key("A", serde_json::json!({"first": 1}))),
            "the oldest went"
        );
        assert!(prepared.known_valid(&key("A", serde_json::json!({"first": 99}))));
    }

    #[test]
    fn requests_with_big_variables_are_never_taken_as_known_valid() {
        let prepared = Prepared::new(ExecutableDocument {
            operations: async_graphql::parser::types::DocumentOperations::Multiple(Default::default()),
            fragments: Default::default(),
        });
        let big = serde_json::json!({"ids": vec!["x".repeat(40); 20]});
        prepared.mark_valid(Some("A"), key("A", big.clone()));
        assert!(!prepared.known_valid(&key("A", big)));
        assert!(
            prepared.operation_valid(Some("A")),
            "the operation passed, whatever its values"
        );
    }
}
