//! A narrower execution path for the fields every `CallLog` shares.
//!
//! async-graphql resolves each field of each object as its own boxed future and merges
//! the answers one at a time. For call logs that select only plain shared fields (`id`,
//! `status`, `createdAt`, ...), directly or through fragments, that machinery costs more
//! than the values themselves. `Flat<T>` is `T` as GraphQL sees it (same type, same
//! schema), but it renders such a selection in one pass over the selection set, straight
//! from the log's `CallLogCore`. `node`, `nodes`, `callLog`, `callLogs` and every
//! provider connection return their call logs as `Flat`.
//!
//! Fragments, inline or named, are collected as GraphQL collects fields: merged in where
//! their type condition applies (the log's own type, `CallLog` or `Node`), skipped where
//! it does not. Anything else takes async-graphql's own path for the whole object, so
//! answers and errors stay exactly what they were: a directive, an argument, a nested or
//! provider-specific field, or a value that would be an error. Tests compare both paths
//! byte for byte (`tests/suite/flat.rs`).

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::connection::{CursorType, Edge, EdgeNameType, EmptyFields};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, InputType, Name, OutputType, Positioned, ScalarType, ServerResult, Value};

use super::scalars::DateTime;
use super::scope::RequestScope;
use super::values;
use crate::authz::Access;
use crate::domain::CallLogCore;

/// What the flat path reads of a call log: its shared fields' source.
pub(super) trait SharedFields: Sync {
    fn core(&self) -> &CallLogCore;
    /// Its global id, as the `id` field renders it.
    fn global_id(&self) -> String;
    /// The call log object itself, for its own fields (`plan::OwnField`).
    fn as_any(&self) -> &(dyn std::any::Any + Sync);
}

/// A value the flat path may render: a call log (always), or a node that may be one.
pub(super) trait MaybeShared {
    /// Whether every value of the type is a call log (`shared` is never `None`).
    const CALL_LOGS: bool;
    /// Its shared fields, when it is a call log.
    fn shared(&self) -> Option<&dyn SharedFields>;
}

impl<T: SharedFields> MaybeShared for T {
    const CALL_LOGS: bool = true;
    fn shared(&self) -> Option<&dyn SharedFields> {
        Some(self)
    }
}

impl<T: MaybeShared> MaybeShared for Flat<T> {
    const CALL_LOGS: bool = T::CALL_LOGS;
    fn shared(&self) -> Option<&dyn SharedFields> {
        self.0.shared()
    }
}

/// A value resolved as the object type it is: an interface's value (`CallLog`, `Node`)
/// resolves as its variant, so every field's parent is the concrete type and a field rule
/// on one type (`graphql::authorize`) sees which type it is.
pub(super) trait Concrete: OutputType {
    fn resolve_concrete(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> impl std::future::Future<Output = ServerResult<Value>> + Send {
        OutputType::resolve(self, ctx, field)
    }
}

/// `T` rendered through the flat path when its selection allows (see the module doc).
pub(super) struct Flat<T>(pub T);

impl<T: OutputType + MaybeShared + Concrete> OutputType for Flat<T> {
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
        let access = access(ctx);
        match render(&self.0, &ctx.item.node, &ctx.query_env.fragments, access) {
            Some(value) => Ok(value),
            None if access.is_some() => self.0.resolve_concrete(ctx, field).await,
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// A query's named fragments.
type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// The request's authorization, when `[authorization]` is configured: fields it guards are
/// left to the resolvers, where `authorize` masks, forbids or counts them.
fn access<'a>(ctx: &ContextSelectionSet<'a>) -> Option<&'a Access> {
    ctx.data_opt::<RequestScope>()
        .map(|scope| &*scope.access)
        .filter(|access| access.governed())
}

/// The object for `selection`, when every field selected (directly or through fragments
/// that apply) is a plain shared field that `access` does not guard.
fn render<T: OutputType + MaybeShared>(
    log: &T,
    selection: &SelectionSet,
    fragments: &Fragments,
    access: Option<&Access>,
) -> Option<Value> {
    render_shared(
        log.shared()?,
        &log.introspection_type_name(),
        selection,
        fragments,
        access,
    )
}

/// `render` for a call log of GraphQL type `type_name` (which implements `CallLog` and
/// `Node`, and no other interface).
fn render_shared(
    log: &dyn SharedFields,
    type_name: &str,
    selection: &SelectionSet,
    fragments: &Fragments,
    access: Option<&Access>,
) -> Option<Value> {
    let applies = |on: &str| on == type_name || on == "CallLog" || on == "Node";
    let guarded = |name: &str| access.is_some_and(|a| a.outcome(type_name, name).is_some());
    object(selection, fragments, &applies, |field| match field.name.node.as_str() {
        "__typename" => Some(Value::String(type_name.to_owned())),
        name if guarded(name) => None,
        name if field.selection_set.node.items.is_empty() => shared(log, name),
        _ => None,
    })
}

/// The object for `selection` with `value` giving each field's value, when every field
/// selected is one without arguments or directives that `value` has an answer for.
/// Fragments (inline or named, without directives) are merged in where their type
/// condition `applies` to the object, and skipped where it does not, as GraphQL collects
/// fields.
fn object(
    selection: &SelectionSet,
    fragments: &Fragments,
    applies: &dyn Fn(&str) -> bool,
    mut value: impl FnMut(&Field) -> Option<Value>,
) -> Option<Value> {
    let mut object = IndexMap::with_capacity(selection.items.len());
    collect(selection, fragments, applies, &mut value, &mut object)?;
    Some(Value::Object(object))
}

fn collect(
    selection: &SelectionSet,
    fragments: &Fragments,
    applies: &dyn Fn(&str) -> bool,
    value: &mut impl FnMut(&Field) -> Option<Value>,
    object: &mut IndexMap<Name, Value>,
) -> Option<()> {
    for item in &selection.items {
        let (condition, selection) = match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                if !field.arguments.is_empty() || !field.directives.is_empty() {
                    return None;
                }
                let value = value(field)?;
                // A repeated object field (`node { id } node { status }`) merges: left to
                // async-graphql.
                let nested = matches!(value, Value::Object(_));
                if object.insert(field.response_key().node.clone(), value).is_some() && nested {
                    return None;
                }
                continue;
            }
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                if !fragment.directives.is_empty() {
                    return None;
                }
                (
                    fragment.type_condition.as_ref().map(|c| &c.node.on.node),
                    &fragment.selection_set.node,
                )
            }
            Selection::FragmentSpread(spread) => {
                let definition = &fragments.get(&spread.node.fragment_name.node)?.node;
                if !spread.node.directives.is_empty() || !definition.directives.is_empty() {
                    return None;
                }
                (
                    Some(&definition.type_condition.node.on.node),
                    &definition.selection_set.node,
                )
            }
        };
        if condition.is_none_or(|on| applies(on)) {
            collect(selection, fragments, applies, value, object)?;
        }
    }
    Some(())
}

/// A connection's edges whose nodes are `Flat`: when an edge's selection is only `cursor`,
/// `__typename` and a `node` the flat path can render, the whole list is rendered in one
/// pass; otherwise it is resolved as the plain list it is to GraphQL.
pub(super) struct FlatEdges<'a, C, T, N>(pub &'a [Edge<C, Flat<T>, EmptyFields, N>])
where
    C: CursorType + Send + Sync,
    T: OutputType + MaybeShared + Concrete,
    N: EdgeNameType;

impl<C, T, N> OutputType for FlatEdges<'_, C, T, N>
where
    C: CursorType + Send + Sync,
    T: OutputType + MaybeShared + Concrete,
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
        let fragments = &ctx.query_env.fragments;
        let edge_type = N::type_name::<Flat<T>>();
        let applies = |on: &str| on == edge_type;
        let access = access(ctx);
        let edge = |edge: &Edge<C, Flat<T>, EmptyFields, N>| {
            object(selection, fragments, &applies, |field| match field.name.node.as_str() {
                "__typename" => Some(Value::String(edge_type.clone())),
                "cursor" if field.selection_set.node.items.is_empty() => {
                    Some(Value::String(edge.cursor.encode_cursor()))
                }
                "node" => render(&edge.node.0, &field.selection_set.node, fragments, access),
                _ => None,
            })
        };
        match self.0.iter().map(edge).collect::<Option<Vec<Value>>>() {
            Some(edges) => Ok(Value::List(edges)),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// The fields `shared` and `write_shared` render for every call log.
pub(crate) const SHARED_FIELDS: &[&str] = &[
    "id",
    "provider",
    "nativeId",
    "from",
    "to",
    "direction",
    "status",
    "providerStatus",
    "createdAt",
    "startedAt",
    "endedAt",
    "durationSeconds",
];

/// A shared field's value, as its resolver in `call_log_object!` renders it; None for a
/// field the flat path leaves to async-graphql (and for a value that would be an error).
pub(super) fn shared(log: &dyn SharedFields, name: &str) -> Option<Value> {
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

/// `shared`'s value written as JSON straight to `out`, as serializing it would write it
/// (for compiled plans, `graphql::plan`); None where `shared` is None.
pub(super) fn write_shared(out: &mut Vec<u8>, log: &dyn SharedFields, name: &str) -> Option<()> {
    fn string(out: &mut Vec<u8>, s: &str) -> Option<()> {
        serde_json::to_writer(&mut *out, s).ok()
    }
    fn text(out: &mut Vec<u8>, s: Option<&str>) -> Option<()> {
        match s {
            Some(s) => string(out, s),
            None => {
                out.extend_from_slice(b"null");
                Some(())
            }
        }
    }
    fn instant(out: &mut Vec<u8>, t: Option<chrono::DateTime<chrono::Utc>>) -> Option<()> {
        let t = t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        text(out, t.as_deref())
    }
    fn enum_name<E: async_graphql::resolver_utils::EnumType>(value: E) -> Option<&'static str> {
        E::items().iter().find(|item| item.value == value).map(|item| item.name)
    }
    let core = log.core();
    match name {
        "id" => string(out, &log.global_id()),
        "provider" => string(out, enum_name(values::Provider::from(core.provider))?),
        "nativeId" => string(out, &core.native_id),
        "from" => text(out, core.from.as_deref()),
        "to" => text(out, core.to.as_deref()),
        "direction" => string(out, enum_name(values::CallDirection::from(core.direction))?),
        "status" => string(out, enum_name(values::CallStatus::from(core.status))?),
        "providerStatus" => text(out, core.provider_status.as_deref()),
        "createdAt" => instant(out, Some(core.created_at)),
        "startedAt" => instant(out, core.started_at),
        "endedAt" => instant(out, core.ended_at),
        "durationSeconds" => match values::opt_int32(core.duration_seconds).ok()? {
            Some(n) => {
                out.extend_from_slice(n.to_string().as_bytes());
                Some(())
            }
            None => text(out, None),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::DocumentOperations;

    use super::*;
    use crate::domain::{CallDirection, CallStatus, Provider};

    struct Log(CallLogCore);

    impl SharedFields for Log {
        fn core(&self) -> &CallLogCore {
            &self.0
        }
        fn global_id(&self) -> String {
            format!("id-{}", self.0.native_id)
        }
        fn as_any(&self) -> &(dyn std::any::Any + Sync) {
            self
        }
    }

    fn log() -> Log {
        Log(CallLogCore {
            provider: Provider::SignalWire,
            native_id: "n1".into(),
            from: Some("+14155550100".into()),
            to: None,
            direction: CallDirection::Inbound,
            status: CallStatus::Completed,
            provider_status: Some("completed".into()),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            started_at: None,
            ended_at: None,
            duration_seconds: Some(7),
            cost: None,
        })
    }

    /// Renders the first operation's selection for `log()` as a `SignalWireVoiceLog`.
    fn rendered(query: &str) -> Option<String> {
        let document = parse_query(query).unwrap();
        let DocumentOperations::Single(operation) = &document.operations else {
            panic!("one operation");
        };
        let value = render_shared(
            &log(),
            "SignalWireVoiceLog",
            &operation.node.selection_set.node,
            &document.fragments,
            None,
        )?;
        Some(value.into_json().unwrap().to_string())
    }

    #[test]
    fn fragments_that_apply_are_merged_in_place_and_the_others_skipped() {
        assert_eq!(
            rendered("{ id ... on OneUptimeCallLog { status } ... on SignalWireVoiceLog { from } ...F } fragment F on CallLog { status createdAt id }").as_deref(),
            Some(r#"{"id":"id-n1","from":"+14155550100","status":"COMPLETED","createdAt":"2023-11-14T22:13:20Z"}"#)
        );
        assert_eq!(
            rendered("{ ... on Node { id } ... { __typename } ...G } fragment G on VoximplantCallSession { from }")
                .as_deref(),
            Some(r#"{"id":"id-n1","__typename":"SignalWireVoiceLog"}"#)
        );
    }

    #[test]
    fn written_fields_are_the_serialized_values_byte_for_byte() {
        let mut odd = log();
        odd.0.from = Some("\"quoted\" \\ \u{1} ünïcode".into());
        odd.0.to = Some("+14155550123".into());
        odd.0.started_at = chrono::DateTime::from_timestamp(1_700_000_001, 123_456_000);
        odd.0.ended_at = chrono::DateTime::from_timestamp(1_700_000_090, 1_000);
        odd.0.duration_seconds = Some(89);
        odd.0.direction = CallDirection::Outbound;
        let mut past_int = log();
        past_int.0.duration_seconds = Some(i64::MAX);
        for name in SHARED_FIELDS {
            assert!(shared(&log(), name).is_some(), "{name} is a shared field");
        }
        for log in [log(), odd, past_int] {
            for name in SHARED_FIELDS.iter().chain(&["cost"]) {
                let mut written = Vec::new();
                let wrote = write_shared(&mut written, &log, name);
                let value = shared(&log, name);
                assert_eq!(wrote.is_some(), value.is_some(), "{name}");
                if let Some(value) = value {
                    assert_eq!(
                        String::from_utf8(written).unwrap(),
                        serde_json::to_string(&value).unwrap(),
                        "{name}"
                    );
                }
            }
        }
    }

    #[test]
    fn what_the_flat_path_cannot_render_is_left_to_the_resolvers() {
        for query in [
            "{ id ... on CallLog @include(if: true) { status } }",
            "{ id ...F @skip(if: false) } fragment F on CallLog { status }",
            "{ id durationMs }",
            "{ cost { amount } }",
            "{ id ...Missing }",
        ] {
            assert_eq!(rendered(query), None, "{query}");
        }
    }
}
