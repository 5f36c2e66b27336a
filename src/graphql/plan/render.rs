//! Running a `Plan`: each root field is read through the same bodies as its resolver and
//! written straight to JSON, in selection order, as async-graphql and response completion
//! would write it.

use std::any::Any;

use async_graphql::{ID, Name, OutputType, PathSegment, Pos, Value, Variables};
use futures::future::join_all;

use super::compile::{EdgePart, Info, Leaf, Part, Plan, Root, RootKind, Shape};
use super::own::{Draw, OwnField};
use super::{Answer, Arguments, Context, FieldEnv, RenderConnection, field_error};
use crate::authz::rules::Guard;
use crate::authz::{Access, Outcome as GuardOutcome};
use crate::graphql::error::GatewayError;
use crate::graphql::flat::{self, MaybeShared, SharedFields};
use crate::graphql::{node, query};

/// An error reported beside a root field's value: where below the root it happened (a
/// list index of `nodes`, a failed list of a looked-up object) and the position of the
/// field that failed (the root's when `None`).
struct Reported {
    error: GatewayError,
    path: Vec<PathSegment>,
    pos: Option<Pos>,
}

/// What one root field came to.
enum Outcome {
    /// Its value as JSON, and the errors reported beside it.
    Value(Vec<u8>, Vec<Reported>),
    /// It failed: null in place (or the whole `data`, when it is non-null), with its error
    /// (at the root, or below it where a field that may not be null failed).
    Failed(Reported),
    /// Something the plan cannot draw: async-graphql answers the whole request.
    GiveUp,
}

pub(super) async fn run(plan: &Plan, arguments: &[Arguments], cx: &Context<'_>) -> Option<Answer> {
    // Everything that makes a plan give up before reading is checked first, for every
    // root, so a plan that gives up has read nothing: a field the caller's view forbids
    // (async-graphql nulls it in place), an id of a node that is not a call log.
    if plan
        .guards
        .iter()
        .any(|guard| cx.scope.access.outcome_of(guard) == GuardOutcome::Forbid)
    {
        return None;
    }
    let other_than_call_log = |id: &ID| node::decode(id).is_ok_and(|(id, _)| !id.kind.is_call_log());
    for (root, arguments) in plan.roots.iter().zip(arguments) {
        match root.kind {
            RootKind::ById {
                call_logs_only: false, ..
            } if arguments.input::<ID>("id").is_ok_and(|id| other_than_call_log(&id)) => return None,
            RootKind::ByIds { .. }
                if arguments
                    .input::<Vec<ID>>("ids")
                    .is_ok_and(|ids| ids.iter().any(other_than_call_log)) =>
            {
                return None;
            }
            _ => {}
        }
    }
    let outcomes = join_all(plan.roots.iter().zip(arguments).map(|(root, a)| field(root, a, cx))).await;
    // The response is written once, at its final size: `{"data":`, then each root's JSON.
    let size = outcomes
        .iter()
        .zip(&plan.roots)
        .fold(Answer::DATA_AT + 2, |size, (outcome, root)| {
            let value = match outcome {
                Outcome::Value(json, _) => json.len(),
                _ => 4,
            };
            size + root.key.len() + value + 4
        });
    let mut data = Vec::with_capacity(size);
    data.extend_from_slice(Answer::START);
    let mut errors = Vec::new();
    let mut data_null = false;
    data.push(b'{');
    for (i, (root, outcome)) in plan.roots.iter().zip(outcomes).enumerate() {
        if i > 0 {
            data.push(b',');
        }
        key(&mut data, &root.key);
        match outcome {
            Outcome::Value(json, reported) => {
                data.extend_from_slice(&json);
                errors.extend(reported.into_iter().map(|r| {
                    let mut error = field_error(r.error, &root.key, r.pos.unwrap_or(root.pos));
                    error.path.extend(r.path);
                    error
                }));
            }
            Outcome::Failed(r) => {
                data.extend_from_slice(b"null");
                data_null |= !root.nullable;
                let mut error = field_error(r.error, &root.key, r.pos.unwrap_or(root.pos));
                error.path.extend(r.path);
                errors.push(error);
            }
            Outcome::GiveUp => return None,
        }
    }
    data.push(b'}');
    if data_null {
        data.truncate(Answer::DATA_AT);
        data.extend_from_slice(b"null");
    }
    let scan_cut = cx.scan_cut.load(std::sync::atomic::Ordering::Relaxed);
    Some(Answer {
        body: data,
        errors,
        scan_cut,
    })
}

/// A root field's arguments with the request's variables (or their defaults) filled in.
pub(super) fn arguments(plan: &Plan, root: &Root, variables: &Variables) -> Arguments {
    let variable = |name: Name| -> Result<Value, std::convert::Infallible> {
        let default = || {
            plan.variables
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.default.clone())
        };
        Ok(variables.get(&name).cloned().or_else(default).unwrap_or(Value::Null))
    };
    Arguments(
        root.arguments
            .iter()
            .map(|(name, value)| {
                let Ok(value) = value.clone().into_const_with(variable);
                (name.clone(), value)
            })
            .collect(),
    )
}

async fn field(root: &Root, arguments: &Arguments, cx: &Context<'_>) -> Outcome {
    let access = &*cx.scope.access;
    let env = FieldEnv {
        context: cx,
        reported: Default::default(),
    };
    let mut out = Vec::with_capacity(256);
    let mut items_failed = Vec::new();
    let drawn = match &root.kind {
        RootKind::Typename(name) => string(&mut out, name),
        RootKind::ById { call_logs_only, shape } => {
            let id = match arguments.input::<ID>("id") {
                Ok(id) => id,
                Err(e) => return failed(e),
            };
            match call_logs_only {
                true => match query::call_log(&env, &id).await {
                    Ok(log) => by_id(&mut out, shape, log.as_ref(), &env, &mut items_failed, access).await,
                    Err(e) => return failed(e),
                },
                false => match query::node(&env, &id).await {
                    Ok(node) => by_id(&mut out, shape, node.as_ref(), &env, &mut items_failed, access).await,
                    Err(e) => return failed(e),
                },
            }
        }
        RootKind::ByIds { shape } => {
            let ids = match arguments.input::<Vec<ID>>("ids") {
                Ok(ids) => ids,
                Err(e) => return failed(e),
            };
            if let Err(e) = query::check_batch_size(&env, ids.len()) {
                return failed(e);
            }
            // As `nodes` resolves: every id at once (so one batch per provider), and a
            // failed item is null with its error at its index.
            let found = join_all(ids.iter().map(|id| query::node(&env, id))).await;
            json_list(&mut out, found.len(), |out, i| match &found[i] {
                Ok(None) => null(out),
                Ok(Some(node)) => {
                    let log = node.shared()?;
                    object(
                        out,
                        shape,
                        log,
                        &node.introspection_type_name(),
                        &mut Lists::none(),
                        access,
                    )
                }
                Err(e) => {
                    items_failed.push(Reported {
                        error: e.clone(),
                        path: vec![PathSegment::Index(i)],
                        pos: None,
                    });
                    null(out)
                }
            })
        }
        RootKind::Connection { field, parts } => {
            let connection = match (field.read)(&env, arguments).await {
                Ok(connection) => connection,
                Err(e) => return failed(e),
            };
            let count = match count(parts, connection.as_ref(), &env).await {
                Counted::Value(count) => count,
                Counted::Null(reported) => {
                    items_failed.push(reported);
                    None
                }
                Counted::Failed(reported) => return Outcome::Failed(reported),
                Counted::GiveUp => return Outcome::GiveUp,
            };
            connection_parts(&mut out, parts, connection.as_ref(), count, access)
        }
    };
    match drawn {
        Some(()) => {
            let reported = env.reported.into_inner().unwrap_or_else(|e| e.into_inner());
            let mut errors: Vec<_> = reported
                .into_iter()
                .map(|error| Reported {
                    error,
                    path: Vec::new(),
                    pos: None,
                })
                .collect();
            errors.extend(items_failed);
            Outcome::Value(out, errors)
        }
        None => Outcome::GiveUp,
    }
}

/// A connection's `totalCount`, when selected, as it came out.
enum Counted {
    /// The count (`None`: not selected, or null where the connection cannot count).
    Value(Option<i32>),
    /// It failed and is null in place, with its error.
    Null(Reported),
    /// It failed and may not be null: the connection is null, with its error.
    Failed(Reported),
    GiveUp,
}

/// Counts the connection's items if `totalCount` is selected (once, whatever its aliases).
async fn count(parts: &[Part], connection: &dyn RenderConnection, env: &FieldEnv<'_>) -> Counted {
    let Some((key, pos, nullable)) = parts.iter().find_map(|part| match part {
        Part::TotalCount { key, pos, nullable } => Some((key, *pos, *nullable)),
        _ => None,
    }) else {
        return Counted::Value(None);
    };
    let Some(count) = connection.total_count(env) else {
        return Counted::GiveUp;
    };
    match count.await {
        Ok(count) => Counted::Value(count),
        Err(error) => {
            let reported = Reported {
                error,
                path: vec![PathSegment::Field(key.to_string())],
                pos: Some(pos),
            };
            match nullable {
                true => Counted::Null(reported),
                false => Counted::Failed(reported),
            }
        }
    }
}

/// A failure of the root field itself.
fn failed(error: GatewayError) -> Outcome {
    Outcome::Failed(Reported {
        error,
        path: Vec::new(),
        pos: None,
    })
}

fn connection_parts(
    out: &mut Vec<u8>,
    parts: &[Part],
    connection: &dyn RenderConnection,
    count: Option<i32>,
    access: &Access,
) -> Option<()> {
    json_object(out, parts, |out, part| match part {
        Part::Typename(k, name) => entry(out, k, |out| string(out, name)),
        Part::TotalCount { key, .. } => entry(out, key, |out| match count {
            Some(n) => {
                out.extend_from_slice(n.to_string().as_bytes());
                Some(())
            }
            None => null(out),
        }),
        Part::PageInfo(k, infos) => entry(out, k, |out| page_info(out, infos, connection)),
        Part::Edges(k, parts) => entry(out, k, |out| {
            json_list(out, connection.len(), |out, i| edge(out, parts, connection, i, access))
        }),
        Part::Nodes(k, shape) => entry(out, k, |out| {
            json_list(out, connection.len(), |out, i| {
                let (log, ty) = connection.node(i)?;
                object(out, shape, log, &ty, &mut Lists::none(), access)
            })
        }),
    })
}

fn page_info(out: &mut Vec<u8>, infos: &[Info], connection: &dyn RenderConnection) -> Option<()> {
    let cursor = |out: &mut Vec<u8>, at: Option<usize>| match at {
        Some(i) => string(out, &connection.cursor(i)),
        None => null(out),
    };
    json_object(out, infos, |out, info| match info {
        Info::Typename(k) => entry(out, k, |out| string(out, "PageInfo")),
        Info::HasPreviousPage(k) => entry(out, k, |out| boolean(out, connection.has_previous_page())),
        Info::HasNextPage(k) => entry(out, k, |out| boolean(out, connection.has_next_page())),
        Info::StartCursor(k) => entry(out, k, |out| cursor(out, (connection.len() > 0).then_some(0))),
        Info::EndCursor(k) => entry(out, k, |out| match connection.end_cursor() {
            Some(end) => string(out, &end),
            None => null(out),
        }),
    })
}

fn edge(
    out: &mut Vec<u8>,
    parts: &[EdgePart],
    connection: &dyn RenderConnection,
    i: usize,
    access: &Access,
) -> Option<()> {
    json_object(out, parts, |out, part| match part {
        EdgePart::Typename(k, name) => entry(out, k, |out| string(out, name)),
        EdgePart::Cursor(k) => entry(out, k, |out| string(out, &connection.cursor(i))),
        EdgePart::Node(k, shape) => entry(out, k, |out| {
            let (log, ty) = connection.node(i)?;
            object(out, shape, log, &ty, &mut Lists::none(), access)
        }),
    })
}

/// A lookup's answer: null when nothing was found, else the call log it found, with the
/// lists of objects its shape reads for it (all at once). A list that fails is null with
/// its error (in `reported`); when it may not be null, the call log is.
async fn by_id<T: MaybeShared + OutputType + Sync>(
    out: &mut Vec<u8>,
    shape: &Shape,
    found: Option<&T>,
    env: &FieldEnv<'_>,
    reported: &mut Vec<Reported>,
    access: &Access,
) -> Option<()> {
    let Some(found) = found else { return null(out) };
    let log = found.shared()?;
    let ty = found.introspection_type_name();
    let reads = shape.0.get(ty.as_ref())?.iter().filter_map(|leaf| match leaf {
        Leaf::List { read, .. } => Some(read(log.as_any(), env)),
        _ => None,
    });
    let mut lists = Lists {
        read: join_all(reads).await.into_iter(),
        reported: Vec::new(),
        null_object: false,
    };
    let start = out.len();
    object(out, shape, log, &ty, &mut lists, access)?;
    if lists.null_object {
        out.truncate(start);
        null(out)?;
    }
    reported.extend(lists.reported);
    Some(())
}

/// The lists read for one object (`Leaf::List`, in order), and what drawing them found.
struct Lists {
    read: std::vec::IntoIter<Result<Vec<Box<dyn Any + Send>>, GatewayError>>,
    reported: Vec<Reported>,
    /// A list that may not be null failed: the object is null.
    null_object: bool,
}

impl Lists {
    /// For an object whose shape has no lists.
    fn none() -> Lists {
        Lists {
            read: Vec::new().into_iter(),
            reported: Vec::new(),
            null_object: false,
        }
    }
}

/// A call log of GraphQL type `ty` as `shape` draws that type.
fn object(
    out: &mut Vec<u8>,
    shape: &Shape,
    log: &dyn SharedFields,
    ty: &str,
    lists: &mut Lists,
    access: &Access,
) -> Option<()> {
    json_object(out, shape.0.get(ty)?, |out, leaf| match leaf {
        Leaf::Typename(k) => entry(out, k, |out| string(out, ty)),
        Leaf::Shared(k, name) => entry(out, k, |out| flat::write_shared(out, log, name)),
        Leaf::Guarded(k, name, guard) => entry(out, k, |out| guarded(out, log, name, guard, access)),
        Leaf::Own(k, field) => entry(out, k, |out| own_value(out, field, log.as_any())),
        Leaf::List {
            key,
            pos,
            nullable,
            item,
            leaves,
            ..
        } => entry(out, key, |out| match lists.read.next()? {
            Ok(items) => json_list(out, items.len(), |out, i| {
                item_object(out, leaves, items[i].as_ref(), item)
            }),
            Err(error) => {
                lists.reported.push(Reported {
                    error,
                    path: vec![PathSegment::Field(key.to_string())],
                    pos: Some(*pos),
                });
                lists.null_object |= !nullable;
                null(out)
            }
        }),
    })
}

/// A guarded shared field, as the caller's view says: as it is (counted for the audit
/// when not null) or masked. A forbidding view never runs the plan (`run`).
fn guarded(out: &mut Vec<u8>, log: &dyn SharedFields, name: &str, guard: &Guard, access: &Access) -> Option<()> {
    match access.outcome_of(guard) {
        GuardOutcome::Show => {
            let start = out.len();
            flat::write_shared(out, log, name)?;
            if out[start..] != *b"null" {
                access.shown(guard);
            }
            Some(())
        }
        GuardOutcome::Mask(masking) => match flat::shared(log, name)? {
            Value::String(text) => string(out, &masking.apply(&text)),
            Value::Null => null(out),
            _ => None,
        },
        GuardOutcome::Forbid => None,
    }
}

/// An item of a `Leaf::List`, of GraphQL type `ty`.
fn item_object(out: &mut Vec<u8>, leaves: &[Leaf], item: &(dyn Any + Send), ty: &str) -> Option<()> {
    json_object(out, leaves, |out, leaf| match leaf {
        Leaf::Typename(k) => entry(out, k, |out| string(out, ty)),
        Leaf::Own(k, field) => entry(out, k, |out| own_value(out, field, item)),
        Leaf::Shared(..) | Leaf::Guarded(..) | Leaf::List { .. } => None,
    })
}

/// The value of a listed leaf of `object`.
fn own_value(out: &mut Vec<u8>, field: &OwnField, object: &dyn Any) -> Option<()> {
    let Draw::Leaf(value) = field.draw else { return None };
    serde_json::to_writer(&mut *out, &value(object)?).ok()
}

/// `{...}` of one entry per item, each written by `entry` (with `entry()`).
fn json_object<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T) -> Option<()>) -> Option<()> {
    out.push(b'{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item)?;
    }
    out.push(b'}');
    Some(())
}

/// `[...]` of `len` items, each written by `item`.
fn json_list(out: &mut Vec<u8>, len: usize, mut item: impl FnMut(&mut Vec<u8>, usize) -> Option<()>) -> Option<()> {
    out.push(b'[');
    for i in 0..len {
        if i > 0 {
            out.push(b',');
        }
        item(out, i)?;
    }
    out.push(b']');
    Some(())
}

/// `"k":` and the value `value` writes.
fn entry(out: &mut Vec<u8>, k: &Name, value: impl FnOnce(&mut Vec<u8>) -> Option<()>) -> Option<()> {
    key(out, k);
    value(out)
}

fn null(out: &mut Vec<u8>) -> Option<()> {
    out.extend_from_slice(b"null");
    Some(())
}

/// `"key":` (response keys are GraphQL names: nothing to escape).
fn key(out: &mut Vec<u8>, key: &Name) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn string(out: &mut Vec<u8>, value: &str) -> Option<()> {
    serde_json::to_writer(&mut *out, value).ok()
}

fn boolean(out: &mut Vec<u8>, value: bool) -> Option<()> {
    out.extend_from_slice(if value { b"true" } else { b"false" });
    Some(())
}
