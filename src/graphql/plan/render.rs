//! Running a `Plan`: each root field is read through the same bodies as its resolver and
//! written straight to JSON, in selection order, as async-graphql and response completion
//! would write it.

use async_graphql::{ID, Name, OutputType, PathSegment, Value, Variables};
use futures::future::join_all;

use super::compile::{EdgePart, Info, Leaf, Part, Plan, Root, RootKind, Shape};
use super::{Answer, Arguments, Context, FieldEnv, RenderConnection, field_error};
use crate::graphql::error::GatewayError;
use crate::graphql::flat::{self, MaybeShared, SharedFields};
use crate::graphql::{node, query};

/// What one root field came to.
enum Outcome {
    /// Its value as JSON, and the errors reported beside it (at a list index, for an
    /// item of `nodes`).
    Value(Vec<u8>, Vec<(GatewayError, Option<usize>)>),
    /// It failed: null in place (or the whole `data`, when it is non-null).
    Failed(GatewayError),
    /// Something the plan cannot draw: async-graphql answers the whole request.
    GiveUp,
}

pub(super) async fn run(plan: &Plan, cx: &Context<'_>) -> Option<Answer> {
    let arguments: Vec<Arguments> = plan
        .roots
        .iter()
        .map(|root| arguments(plan, root, cx.variables))
        .collect();
    // Everything that makes a plan give up before reading is checked first, for every
    // root, so a plan that gives up has read nothing.
    let other_than_call_log = |id: &ID| node::decode(id).is_ok_and(|(id, _)| !id.kind.is_call_log());
    for (root, arguments) in plan.roots.iter().zip(&arguments) {
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
    let outcomes = join_all(plan.roots.iter().zip(&arguments).map(|(root, a)| field(root, a, cx))).await;
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
                errors.extend(reported.into_iter().map(|(e, index)| {
                    let mut error = field_error(e, &root.key, root.pos);
                    error.path.extend(index.map(PathSegment::Index));
                    error
                }));
            }
            Outcome::Failed(error) => {
                data.extend_from_slice(b"null");
                data_null |= !root.nullable;
                errors.push(field_error(error, &root.key, root.pos));
            }
            Outcome::GiveUp => return None,
        }
    }
    data.push(b'}');
    if data_null {
        data.truncate(Answer::DATA_AT);
        data.extend_from_slice(b"null");
    }
    Some(Answer { body: data, errors })
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
                Err(e) => return Outcome::Failed(e),
            };
            let found = match call_logs_only {
                true => query::call_log(&env, &id)
                    .await
                    .map(|log| by_id(&mut out, shape, log.as_ref())),
                false => query::node(&env, &id)
                    .await
                    .map(|node| by_id(&mut out, shape, node.as_ref())),
            };
            match found {
                Ok(drawn) => drawn,
                Err(e) => return Outcome::Failed(e),
            }
        }
        RootKind::ByIds { shape } => {
            let ids = match arguments.input::<Vec<ID>>("ids") {
                Ok(ids) => ids,
                Err(e) => return Outcome::Failed(e),
            };
            if let Err(e) = query::check_batch_size(&env, ids.len()) {
                return Outcome::Failed(e);
            }
            // As `nodes` resolves: every id at once (so one batch per provider), and a
            // failed item is null with its error at its index.
            let found = join_all(ids.iter().map(|id| query::node(&env, id))).await;
            json_list(&mut out, found.len(), |out, i| match &found[i] {
                Ok(node) => by_id(out, shape, node.as_ref()),
                Err(e) => {
                    items_failed.push((e.clone(), Some(i)));
                    null(out)
                }
            })
        }
        RootKind::Connection { field, parts } => match (field.read)(&env, arguments).await {
            Err(e) => return Outcome::Failed(e),
            Ok(connection) => connection_parts(&mut out, parts, connection.as_ref()),
        },
    };
    match drawn {
        Some(()) => {
            let reported = env.reported.into_inner().unwrap_or_else(|e| e.into_inner());
            let mut errors: Vec<_> = reported.into_iter().map(|e| (e, None)).collect();
            errors.extend(items_failed);
            Outcome::Value(out, errors)
        }
        None => Outcome::GiveUp,
    }
}

fn connection_parts(out: &mut Vec<u8>, parts: &[Part], connection: &dyn RenderConnection) -> Option<()> {
    json_object(out, parts, |out, part| match part {
        Part::Typename(k, name) => entry(out, k, |out| string(out, name)),
        Part::PageInfo(k, infos) => entry(out, k, |out| page_info(out, infos, connection)),
        Part::Edges(k, parts) => entry(out, k, |out| {
            json_list(out, connection.len(), |out, i| edge(out, parts, connection, i))
        }),
        Part::Nodes(k, shape) => entry(out, k, |out| {
            json_list(out, connection.len(), |out, i| {
                let (log, ty) = connection.node(i)?;
                object(out, shape, log, &ty)
            })
        }),
    })
}

fn page_info(out: &mut Vec<u8>, infos: &[Info], connection: &dyn RenderConnection) -> Option<()> {
    let cursor = |out: &mut Vec<u8>, at: Option<usize>| match at {
        Some(i) => string(out, &connection.cursor(i)),
        None => null(out),
    };
    let last = connection.len().checked_sub(1);
    json_object(out, infos, |out, info| match info {
        Info::Typename(k) => entry(out, k, |out| string(out, "PageInfo")),
        Info::HasPreviousPage(k) => entry(out, k, |out| boolean(out, connection.has_previous_page())),
        Info::HasNextPage(k) => entry(out, k, |out| boolean(out, connection.has_next_page())),
        Info::StartCursor(k) => entry(out, k, |out| cursor(out, last.map(|_| 0))),
        Info::EndCursor(k) => entry(out, k, |out| cursor(out, last)),
    })
}

fn edge(out: &mut Vec<u8>, parts: &[EdgePart], connection: &dyn RenderConnection, i: usize) -> Option<()> {
    json_object(out, parts, |out, part| match part {
        EdgePart::Typename(k, name) => entry(out, k, |out| string(out, name)),
        EdgePart::Cursor(k) => entry(out, k, |out| string(out, &connection.cursor(i))),
        EdgePart::Node(k, shape) => entry(out, k, |out| {
            let (log, ty) = connection.node(i)?;
            object(out, shape, log, &ty)
        }),
    })
}

/// A lookup's answer: null when nothing was found, else the call log it found.
fn by_id<T: MaybeShared + OutputType>(out: &mut Vec<u8>, shape: &Shape, found: Option<&T>) -> Option<()> {
    match found {
        None => null(out),
        Some(found) => object(out, shape, found.shared()?, &found.introspection_type_name()),
    }
}

/// A call log of GraphQL type `ty` as `shape` draws that type.
fn object(out: &mut Vec<u8>, shape: &Shape, log: &dyn SharedFields, ty: &str) -> Option<()> {
    json_object(out, shape.0.get(ty)?, |out, leaf| match leaf {
        Leaf::Typename(k) => entry(out, k, |out| string(out, ty)),
        Leaf::Shared(k, name) => entry(out, k, |out| flat::write_shared(out, log, name)),
    })
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
