//! Limits on the shape of a GraphQL document, checked before async-graphql parses,
//! validates or executes it.
//!
//! The parser and the validator recurse, and the validator expands fragments in place, so
//! a small document can overflow a worker's stack (`[[[[...]]]]` 2,000 deep) or make it
//! walk billions of fields (a fragment spread twice per level, 30 levels). So:
//! - `scan` reads the raw text once, without recursion, and refuses excessive nesting of
//!   `[`, `{` and `(` and too many tokens, before anything parses it;
//! - `shape` walks the parsed document with memoised fragment counts and a bounded depth
//!   (fragment spreads count as a level), and refuses too many executed fields (every
//!   spread expanded, `__typename` and aliases included) and repeated or excessive
//!   directives.

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};

/// The limits, from `[graphql]` config.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Deepest nesting of `[`, `{`, `(` in the text, and of selection sets plus fragment
    /// spreads in the document.
    pub max_nesting: usize,
    /// Most lexical tokens in the text.
    pub max_tokens: usize,
    /// Most fields the selected operation executes, fragments expanded.
    pub max_fields: usize,
    /// Most directives in the whole document.
    pub max_directives: usize,
    /// Whether `__schema` and `__type` may be asked (`graphql.introspection`).
    pub introspection: bool,
}

/// Why a document is refused; the message is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the query nests brackets more than {0} deep")]
    Nesting(usize),
    #[error("the query has more than {0} tokens")]
    Tokens(usize),
    #[error("the query executes {found} fields (fragments expanded); at most {max} are allowed")]
    Fields { found: usize, max: usize },
    #[error("the query has more than {0} directives")]
    Directives(usize),
    #[error("the directive @{0} appears twice at one location")]
    RepeatedDirective(String),
    #[error("introspection is turned off on this gateway (graphql.introspection)")]
    Introspection,
}

/// One pass over the raw text: bracket nesting and token count, skipping strings, block
/// strings and comments. Linear time, constant stack.
pub fn scan(text: &str, limits: &DocumentLimits) -> Result<(), LimitError> {
    let bytes = text.as_bytes();
    let (mut depth, mut tokens, mut i) = (0usize, 0usize, 0usize);
    let count = |tokens: &mut usize| -> Result<(), LimitError> {
        *tokens += 1;
        if *tokens > limits.max_tokens {
            return Err(LimitError::Tokens(limits.max_tokens));
        }
        Ok(())
    };
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                count(&mut tokens)?;
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 3;
                continue;
            }
            b'"' => {
                count(&mut tokens)?;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'[' | b'{' | b'(' => {
                count(&mut tokens)?;
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(LimitError::Nesting(limits.max_nesting));
                }
            }
            b']' | b'}' | b')' => {
                count(&mut tokens)?;
                depth = depth.saturating_sub(1);
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                count(&mut tokens)?;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
                continue;
            }
            b if b.is_ascii_whitespace() || b == b',' => {}
            b'.' if bytes[i..].starts_with(b"...") => {
                count(&mut tokens)?;
                i += 3;
                continue;
            }
            _ => count(&mut tokens)?,
        }
        i += 1;
    }
    Ok(())
}

/// Checks the parsed document: executed fields of each operation (the verdict does not
/// depend on which one runs, so it can be cached with the document), nesting through
/// fragments, and directives.
pub fn shape(doc: &ExecutableDocument, limits: &DocumentLimits) -> Result<(), LimitError> {
    let mut walk = Walk {
        doc,
        limits,
        fragments: HashMap::new(),
    };
    let mut directives = 0usize;
    let mut fields = 0usize;
    for (_, op) in doc.operations.iter() {
        walk.directives(&op.node.directives, &mut directives)?;
        fields = fields.max(walk.count(&op.node.selection_set.node, 1)?);
    }
    for fragment in doc.fragments.values() {
        walk.directives(&fragment.node.directives, &mut directives)?;
        directive_walk(&walk, &fragment.node.selection_set.node, &mut directives)?;
    }
    for (_, op) in doc.operations.iter() {
        directive_walk(&walk, &op.node.selection_set.node, &mut directives)?;
    }
    if fields > limits.max_fields {
        return Err(LimitError::Fields {
            found: fields,
            max: limits.max_fields,
        });
    }
    Ok(())
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a DocumentLimits,
    /// Executed fields per fragment; `None` while being counted (a cycle counts as 0:
    /// validation rejects cycles later, this walk must only terminate).
    fragments: HashMap<&'a str, Option<usize>>,
}

impl<'a> Walk<'a> {
    /// Fields `set` executes at `depth`, saturating; fails past the nesting limit.
    fn count(&mut self, set: &'a SelectionSet, depth: usize) -> Result<usize, LimitError> {
        if depth > self.limits.max_nesting {
            return Err(LimitError::Nesting(self.limits.max_nesting));
        }
        let mut total = 0usize;
        for item in &set.items {
            let n = match &item.node {
                // Introspection is answered from the schema, never upstream: its fields are
                // bounded by depth and the response cap, not counted here (the standard
                // introspection query executes about 230).
                Selection::Field(f) if matches!(f.node.name.node.as_str(), "__schema" | "__type") => {
                    if !self.limits.introspection {
                        return Err(LimitError::Introspection);
                    }
                    1
                }
                Selection::Field(f) => 1usize.saturating_add(self.count(&f.node.selection_set.node, depth + 1)?),
                Selection::InlineFragment(i) => self.count(&i.node.selection_set.node, depth + 1)?,
                Selection::FragmentSpread(s) => self.fragment(s.node.fragment_name.node.as_str(), depth + 1)?,
            };
            total = total.saturating_add(n);
            // Stop early: the answer is already "too many".
            if total > self.limits.max_fields {
                return Ok(total);
            }
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str, depth: usize) -> Result<usize, LimitError> {
        match self.fragments.get(name) {
            Some(Some(n)) => return Ok(*n),
            Some(None) => return Ok(0),
            None => {}
        }
        let Some(definition) = self.doc.fragments.get(name) else {
            return Ok(0);
        };
        self.fragments.insert(name, None);
        let n = self.count(&definition.node.selection_set.node, depth)?;
        self.fragments.insert(name, Some(n));
        Ok(n)
    }

    /// Adds `list` to the document's directive count; refuses a directive repeated at one
    /// location (every directive an executable document may use is non-repeatable).
    fn directives(&self, list: &[Positioned<Directive>], total: &mut usize) -> Result<(), LimitError> {
        *total = total.saturating_add(list.len());
        if *total > self.limits.max_directives {
            return Err(LimitError::Directives(self.limits.max_directives));
        }
        for (i, d) in list.iter().enumerate() {
            if list[..i].iter().any(|e| e.node.name.node == d.node.name.node) {
                return Err(LimitError::RepeatedDirective(d.node.name.node.to_string()));
            }
        }
        Ok(())
    }
}

/// Directives of every selection in `set` (depth is bounded: `count` ran first).
fn directive_walk(walk: &Walk<'_>, set: &SelectionSet, total: &mut usize) -> Result<(), LimitError> {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                walk.directives(&f.node.directives, total)?;
                directive_walk(walk, &f.node.selection_set.node, total)?;
            }
            Selection::InlineFragment(i) => {
                walk.directives(&i.node.directives, total)?;
                directive_walk(walk, &i.node.selection_set.node, total)?;
            }
            Selection::FragmentSpread(s) => walk.directives(&s.node.directives, total)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_nesting: 10,
        max_tokens: 100,
        max_fields: 20,
        max_directives: 5,
        introspection: true,
    };

    #[test]
    fn nesting_is_refused_before_parsing_but_brackets_in_strings_and_comments_do_not_count() {
        let deep = format!("{{ nodes(ids: {}{}) {{ id }} }}", "[".repeat(2000), "]".repeat(2000));
        assert_eq!(scan(&deep, &LIMITS), Err(LimitError::Nesting(10)));
        let quoted = format!(
            "{{ a(s: \"{}\", t: \"\"\"{}\"\"\") # {}\n }}",
            "[".repeat(50),
            "{".repeat(50),
            "(".repeat(50)
        );
        assert_eq!(scan(&quoted, &LIMITS), Ok(()));
    }

    #[test]
    fn tokens_are_counted() {
        let many = format!("{{ {} }}", "a ".repeat(200));
        assert_eq!(scan(&many, &LIMITS), Err(LimitError::Tokens(100)));
    }

    #[test]
    fn fragments_count_once_per_spread() {
        let doc = parse_query(
            "{ ...F ...F ...F } fragment F on Query { a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename g: __typename }",
        )
        .unwrap();
        assert_eq!(shape(&doc, &LIMITS), Err(LimitError::Fields { found: 21, max: 20 }));
    }

    #[test]
    fn a_fragment_bomb_is_counted_in_linear_time() {
        let mut q = String::from("{ ...F0 } fragment F30 on Query { __typename }");
        for i in 0..30 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        let doc = parse_query(&q).unwrap();
        let limits = DocumentLimits {
            max_nesting: 64,
            ..LIMITS
        };
        assert!(matches!(shape(&doc, &limits), Err(LimitError::Fields { .. })));
    }

    #[test]
    fn fragment_chains_count_as_nesting_and_cycles_terminate() {
        let mut q = String::from("{ ...F0 }");
        for i in 0..50 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
        }
        let doc = parse_query(&q).unwrap();
        assert_eq!(shape(&doc, &LIMITS), Err(LimitError::Nesting(10)));
        let cycle = parse_query("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }").unwrap();
        assert_eq!(shape(&cycle, &LIMITS), Ok(()));
    }

    #[test]
    fn introspection_fields_are_not_counted() {
        let limits = DocumentLimits {
            max_fields: 3,
            max_nesting: 64,
            ..LIMITS
        };
        let doc = parse_query("{ __schema { types { name fields { name type { name ofType { name } } } } } }").unwrap();
        assert_eq!(shape(&doc, &limits), Ok(()));
    }

    #[test]
    fn repeated_and_excessive_directives_are_refused() {
        let doc = parse_query("{ __typename @include(if: true) @include(if: true) }").unwrap();
        assert_eq!(
            shape(&doc, &LIMITS),
            Err(LimitError::RepeatedDirective("include".into()))
        );
        let doc = parse_query("{ a: __typename @skip(if: false) b: __typename @skip(if: false) c: __typename @skip(if: false) d: __typename @skip(if: false) e: __typename @skip(if: false) f: __typename @skip(if: false) }").unwrap();
        assert_eq!(shape(&doc, &LIMITS), Err(LimitError::Directives(5)));
    }

    #[test]
    fn every_operation_of_the_document_is_held_to_the_field_limit() {
        let doc = parse_query(format!(
            "query Small {{ __typename }} query Big {{ {} }}",
            "__typename ".repeat(25)
        ))
        .unwrap();
        assert!(shape(&doc, &LIMITS).is_err());
        let doc = parse_query("query A { a: __typename } query B { b: __typename }").unwrap();
        assert_eq!(shape(&doc, &LIMITS), Ok(()));
    }
}
