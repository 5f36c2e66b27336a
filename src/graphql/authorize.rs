//! `[authorization.fields]` at rendering, for what async-graphql resolves: an extension
//! that sees every field of every object as it resolves (its parent's concrete type and
//! its name), masks the value, or answers `FORBIDDEN` at the field's path (response
//! completion then nulls it in place, or its nearest nullable parent), and counts what it
//! showed unmasked for the audit record.
//!
//! The faster paths that write fields without resolvers (`flat`, compiled plans) leave
//! every guarded field to this one (`RequestScope::access`, `Planner::guards`), so a rule
//! holds whichever path renders the answer.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{PathSegment, Pos, ServerError, ServerResult, Value};

use super::error::GatewayError;
use super::scope::RequestScope;
use crate::authz::{Masking, Outcome};

/// The extension's factory (added to the schema when `[authorization]` is configured).
pub(super) struct Authorize;

impl ExtensionFactory for Authorize {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Authorize)
    }
}

#[async_trait::async_trait]
impl Extension for Authorize {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.is_for_introspection || info.name == "__schema" || info.name == "__type" {
            return introspect(ctx, info, next).await;
        }
        let guarded = ctx
            .data_opt::<RequestScope>()
            .and_then(|scope| Some((scope, scope.access.outcome(info.parent_type, info.name)?)));
        let Some((scope, (outcome, guard))) = guarded else {
            return next.run(ctx, info).await;
        };
        match outcome {
            Outcome::Forbid => Err(forbidden(&info)),
            Outcome::Mask(masking) => Ok(next.run(ctx, info).await?.map(|v| mask(v, masking))),
            Outcome::Show => {
                let value = next.run(ctx, info).await?;
                if value.as_ref().is_some_and(|v| *v != Value::Null) {
                    scope.access.shown(guard);
                }
                Ok(value)
            }
        }
    }
}

/// An introspection field: types as they are, with each guarded field's description
/// saying which scopes it needs (GraphiQL shows it beside the field).
async fn introspect(
    ctx: &ExtensionContext<'_>,
    info: ResolveInfo<'_>,
    next: NextResolve<'_>,
) -> ServerResult<Option<Value>> {
    let types = info.name == "__type" || (info.parent_type == "__Schema" && info.name == "types");
    let value = next.run(ctx, info).await?;
    let access = ctx.data_opt::<RequestScope>().map(|scope| &scope.access);
    match (types, access, value) {
        (true, Some(access), Some(mut value)) => {
            match &mut value {
                Value::List(types) => types.iter_mut().for_each(|ty| describe(ty, access)),
                ty => describe(ty, access),
            }
            Ok(Some(value))
        }
        (_, _, value) => Ok(value),
    }
}

/// Adds the authorization note to each guarded field of introspected type `ty`.
fn describe(ty: &mut Value, access: &crate::authz::Access) {
    let Value::Object(ty) = ty else { return };
    let Some(Value::String(name)) = ty.get("name").cloned() else {
        return;
    };
    let Some(Value::List(fields)) = ty.get_mut("fields") else {
        return;
    };
    for field in fields {
        let Value::Object(field) = field else { continue };
        let Some(note) = field.get("name").and_then(|n| match n {
            Value::String(f) => access.describe(&name, f),
            _ => None,
        }) else {
            continue;
        };
        if let Some(description) = field.get_mut("description") {
            *description = match description {
                Value::String(text) => Value::String(format!("{text}\n\n{note}")),
                _ => Value::String(note),
            };
        }
    }
}

/// `FORBIDDEN` at the field's path.
fn forbidden(info: &ResolveInfo<'_>) -> ServerError {
    let message = format!(
        "`{}.{}` needs a scope this caller does not hold",
        info.parent_type, info.name
    );
    let pos: Pos = info.field.alias.as_ref().map_or(info.field.name.pos, |alias| alias.pos);
    let mut error = async_graphql::Error::from(GatewayError::forbidden(message)).into_server_error(pos);
    let mut path = Vec::new();
    let mut node = Some(info.path_node);
    while let Some(at) = node {
        path.push(match at.segment {
            async_graphql::QueryPathSegment::Index(i) => PathSegment::Index(i),
            async_graphql::QueryPathSegment::Name(name) => PathSegment::Field(name.to_string()),
        });
        node = at.parent;
    }
    path.reverse();
    error.path = path;
    error
}

/// A resolved value masked: each string in it (a JSON value's too), each long number.
pub(super) fn mask(value: Value, masking: Masking) -> Value {
    match value {
        Value::String(s) => Value::String(masking.apply(&s)),
        Value::List(items) => Value::List(items.into_iter().map(|v| mask(v, masking)).collect()),
        Value::Object(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, mask(v, masking))).collect()),
        Value::Number(n) if n.to_string().len() >= 7 => Value::String(masking.apply(&n.to_string())),
        other => other,
    }
}
