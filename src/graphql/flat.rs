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

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, InputType, OutputType, Positioned, ScalarType, ServerResult, Value};

use super::scalars::DateTime;
use super::values;
use crate::domain::CallLogCore;

/// What the flat path reads of a call log: its shared fields' source.
pub trait SharedFields {
    fn core(&self) -> &CallLogCore;
    /// Its global id, as the `id` field renders it.
    fn global_id(&self) -> String;
}

/// `T` rendered through the flat path when its selection allows (see the module doc).
pub struct Flat<T>(pub T);

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
        match render(&self.0, ctx) {
            Some(value) => Ok(value),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// The object for `ctx`'s selection set, when every selection is a plain shared field.
fn render<T: OutputType + SharedFields>(log: &T, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
    let items = &ctx.item.node.items;
    let mut object = IndexMap::with_capacity(items.len());
    for selection in items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field = &field.node;
        let plain =
            field.arguments.is_empty() && field.directives.is_empty() && field.selection_set.node.items.is_empty();
        if !plain {
            return None;
        }
        let value = match field.name.node.as_str() {
            "__typename" => Value::String(log.introspection_type_name().into_owned()),
            name => shared(log, name)?,
        };
        object.insert(field.response_key().node.clone(), value);
    }
    Some(Value::Object(object))
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
