//! A narrower execution path for the fields every `CallLog` shares.
//!
//! async-graphql resolves each field of each object as its own boxed future and merges
//! the answers one at a time. For a page of call logs that selects only plain shared
//! fields (`id`, `status`, `createdAt`, ...), that machinery costs more than the values
//! themselves. `Flat<T>` is `T` as GraphQL sees it (same type, same schema), but it
//! renders such a selection in one pass over the selection set, straight from the log's
//! `CallLogCore`.
//!
//! Anything else takes async-graphql's own path for the whole object, so answers and
//! errors stay exactly what they were: a fragment, a directive, an argument, a nested or
//! provider-specific field, or a value that would be an error. A test compares both paths
//! field by field.

use std::borrow::Cow;

use async_graphql::connection::{CursorType, Edge, EdgeNameType, EmptyFields};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, InputType, OutputType, Positioned, ScalarType, ServerResult, Value};

use super::scalars::DateTime;
use super::values;
use crate::domain::CallLogCore;

/// What the flat path reads of a call log: its shared fields' source.
pub(super) trait SharedFields {
    fn core(&self) -> &CallLogCore;
    /// Its global id, as the `id` field renders it.
    fn global_id(&self) -> String;
}

/// `T` rendered through the flat path when its selection allows (see the module doc).
pub(super) struct Flat<T>(pub T);

impl<T: OutputType + SharedFields> OutputType for Flat<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match render(&self.0, &ctx.item.node) {
            Some(value) => Ok(value),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// The object for `selection`, when every selection is a plain shared field.
fn render<T: OutputType + SharedFields>(log: &T, selection: &SelectionSet) -> Option<Value> {
    object(selection, |field| match field.name.node.as_str() {
        "__typename" => Some(Value::String(log.introspection_type_name().into_owned())),
        name if field.selection_set.node.items.is_empty() => shared(log, name),
        _ => None,
    })
}

/// The object for `selection` with `value` giving each field's value, when every
/// selection is a field without arguments or directives and `value` has an answer for it.
fn object(selection: &SelectionSet, mut value: impl FnMut(&Field) -> Option<Value>) -> Option<Value> {
    let mut object = IndexMap::with_capacity(selection.items.len());
    for item in &selection.items {
        let Selection::Field(field) = &item.node else {
            return None;
        };
        let field = &field.node;
        if !field.arguments.is_empty() || !field.directives.is_empty() {
            return None;
        }
        let value = value(field)?;
        // A repeated object field (`node { id } node { status }`) merges: left to async-graphql.
        let nested = matches!(value, Value::Object(_));
        if object.insert(field.response_key().node.clone(), value).is_some() && nested {
            return None;
        }
    }
    Some(Value::Object(object))
}

/// A connection's edges whose nodes are `Flat`: when an edge's selection is only `cursor`,
/// `__typename` and a `node` the flat path can render, the whole list is rendered in one
/// pass; otherwise it is resolved as the plain list it is to GraphQL.
pub(super) struct FlatEdges<'a, C, T, N>(pub &'a [Edge<C, Flat<T>, EmptyFields, N>])
where
    C: CursorType + Send + Sync,
    T: OutputType + SharedFields,
    N: EdgeNameType;

impl<C, T, N> OutputType for FlatEdges<'_, C, T, N>
where
    C: CursorType + Send + Sync,
    T: OutputType + SharedFields,
    N: EdgeNameType,
{
    fn type_name() -> Cow<'static, str> {
        <&[Edge<C, Flat<T>, EmptyFields, N>]>::type_name()
    }

    fn qualified_type_name() -> String {
        <&[Edge<C, Flat<T>, EmptyFields, N>]>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <&[Edge<C, Flat<T>, EmptyFields, N>]>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let selection = &ctx.item.node;
        let edge = |edge: &Edge<C, Flat<T>, EmptyFields, N>| {
            object(selection, |field| match field.name.node.as_str() {
                "__typename" => Some(Value::String(N::type_name::<Flat<T>>())),
                "cursor" if field.selection_set.node.items.is_empty() => {
                    Some(Value::String(edge.cursor.encode_cursor()))
                }
                "node" => render(&edge.node.0, &field.selection_set.node),
                _ => None,
            })
        };
        match self.0.iter().map(edge).collect::<Option<Vec<Value>>>() {
            Some(edges) => Ok(Value::List(edges)),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// A shared field's value, as its resolver in `call_log_object!` renders it; None for a
/// field the flat path leaves to async-graphql (and for a value that would be an error).
pub(super) fn shared(log: &impl SharedFields, name: &str) -> Option<Value> {
    let core = log.core();
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let instant =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or(Value::Null, |t| ScalarType::to_value(&DateTime(t)));
    Some(match name {
        "id" => Value::String(log.global_id()),
        "provider" => InputType::to_value(&values::Provider::from(core.provider)),
        "nativeId" => Value::String(core.native_id.clone()),
        "from" => text(core.from.as_deref()),
        "to" => text(core.to.as_deref()),
        "direction" => InputType::to_value(&values::CallDirection::from(core.direction)),
        "status" => InputType::to_value(&values::CallStatus::from(core.status)),
        "providerStatus" => text(core.provider_status.as_deref()),
        "createdAt" => ScalarType::to_value(&DateTime(core.created_at)),
        "startedAt" => instant(core.started_at),
        "endedAt" => instant(core.ended_at),
        "durationSeconds" => values::opt_int32(core.duration_seconds)
            .ok()?
            .map_or(Value::Null, |n| Value::Number(n.into())),
        _ => return None,
    })
}
