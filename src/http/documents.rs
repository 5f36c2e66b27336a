//! Parsed GraphQL documents, cached by query text. Clients send the same few queries over
//! and over; parsing one costs more than executing a cached by-id lookup, so a request
//! whose text was seen before gets a clone of the parsed document instead. Only documents
//! that passed the shape limits (`limits`) are kept, so a cached one skips those checks
//! too. Validation still runs on every request (it depends on the variables).

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;

use super::limits::{self, DocumentLimits, LimitError};
use crate::graphql::completion;

/// Bytes the cache may hold, weighed as text plus parsed document.
const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// A parsed document takes many times its text (a positioned node per token); weigh both.
fn weigh(text: &str) -> u32 {
    u32::try_from(text.len().saturating_mul(17).saturating_add(1024)).unwrap_or(u32::MAX)
}

/// Query text -> parsed document; only documents that parsed are kept.
#[derive(Clone)]
pub struct Documents(moka::sync::Cache<Arc<str>, Arc<ExecutableDocument>>);

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
    /// Gives `request` its parsed document: from the cache when its text was seen, else
    /// checked (`limits::scan` before parsing, `limits::shape` after), parsed, given the
    /// hidden `__typename` that response completion needs (`graphql::completion`), and
    /// kept. Returns the document, or `None` when it does not parse (execution reports
    /// that).
    pub fn prepare(
        &self,
        request: &mut async_graphql::Request,
        limits: &DocumentLimits,
    ) -> Result<Option<Arc<ExecutableDocument>>, LimitError> {
        if let Some(doc) = self.0.get(request.query.as_str()) {
            request.set_parsed_query((*doc).clone());
            return Ok(Some(doc));
        }
        limits::scan(&request.query, limits)?;
        let Ok(parsed) = request.parsed_query() else {
            return Ok(None);
        };
        limits::shape(parsed, limits)?;
        let mut doc = parsed.clone();
        completion::inject(&mut doc);
        request.set_parsed_query(doc.clone());
        let doc = Arc::new(doc);
        self.0.insert(Arc::from(request.query.as_str()), doc.clone());
        Ok(Some(doc))
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
        documents.prepare(&mut second, &LIMITS).unwrap();
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
}
