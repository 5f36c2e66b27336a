//! Fields of a provider's types beyond the shared `CallLog` ones, as plans draw them.
//!
//! Each provider lists, in `OWN_FIELDS` beside its GraphQL types, the fields a plan may
//! draw: a value of the object alone (a leaf: the expression its resolver returns,
//! mappings shared with the resolver), or a list of objects read for it through the same
//! body as its resolver (a SignalWire voice log's `events`). A field not listed leaves its
//! operation to async-graphql; `tests/suite/plan.rs` compares both paths byte for byte
//! over every listed field.

use std::any::Any;

use async_graphql::{ScalarType, Value};
use futures::future::BoxFuture;

use super::FieldEnv;
use crate::graphql::error::GatewayError;
use crate::graphql::scalars::{DateTime, Decimal, Json};

/// A field of GraphQL type `ty` that plans draw.
pub(in crate::graphql) struct OwnField {
    pub ty: &'static str,
    pub name: &'static str,
    pub draw: Draw,
}

/// How a plan draws an `OwnField`.
pub(in crate::graphql) enum Draw {
    /// A scalar or enum from the object alone; `None` when async-graphql must answer
    /// (a value its resolver would refuse, such as a duration past `Int`).
    Leaf(fn(&dyn Any) -> Option<Value>),
    /// A list of objects of GraphQL type `item`, read for the object; their fields are
    /// `OwnField`s of `item`.
    List { item: &'static str, read: ListRead },
}

/// Reads the objects of a `Draw::List` for an object.
pub(in crate::graphql) type ListRead =
    for<'a> fn(&'a (dyn Any + Sync), &'a FieldEnv<'a>) -> BoxFuture<'a, Result<Vec<Box<dyn Any + Send>>, GatewayError>>;

/// The `OwnField` `name` of `ty`, if a provider lists it.
pub(super) fn find(ty: &str, name: &str) -> Option<&'static OwnField> {
    crate::graphql::providers::OWN_FIELDS
        .iter()
        .flat_map(|fields| fields.iter())
        .find(|f| f.ty == ty && f.name == name)
}

/// A resolver's output as the `Value` async-graphql would make of it.
pub(in crate::graphql) trait LeafValue {
    fn leaf(self) -> Option<Value>;
}

impl LeafValue for &str {
    fn leaf(self) -> Option<Value> {
        Some(Value::String(self.to_owned()))
    }
}

impl LeafValue for bool {
    fn leaf(self) -> Option<Value> {
        Some(Value::Boolean(self))
    }
}

impl LeafValue for i32 {
    fn leaf(self) -> Option<Value> {
        Some(self.to_value())
    }
}

impl LeafValue for async_graphql::ID {
    fn leaf(self) -> Option<Value> {
        Some(self.to_value())
    }
}

impl LeafValue for Decimal {
    fn leaf(self) -> Option<Value> {
        Some(self.to_value())
    }
}

impl LeafValue for DateTime {
    fn leaf(self) -> Option<Value> {
        Some(self.to_value())
    }
}

impl LeafValue for Json {
    fn leaf(self) -> Option<Value> {
        Some(self.to_value())
    }
}

impl<T: LeafValue> LeafValue for Option<T> {
    fn leaf(self) -> Option<Value> {
        match self {
            Some(value) => value.leaf(),
            None => Some(Value::Null),
        }
    }
}

/// A value the resolver would refuse (such as a duration past `Int`) is left to it.
impl<T: LeafValue, E> LeafValue for Result<T, E> {
    fn leaf(self) -> Option<Value> {
        self.ok()?.leaf()
    }
}

/// `LeafValue` for enums, by their GraphQL names.
macro_rules! leaf_enums {
    ($($ty:ty),* $(,)?) => {
        $(impl $crate::graphql::plan::LeafValue for $ty {
            fn leaf(self) -> Option<async_graphql::Value> {
                Some(async_graphql::resolver_utils::enum_value(self))
            }
        })*
    };
}
pub(in crate::graphql) use leaf_enums;

/// An `OwnField` leaf of type `$ty` (a Rust type named as its GraphQL type), its value
/// `$value` of the object `$object` (the expression its resolver returns).
macro_rules! own_leaf {
    ($ty:ident, $name:literal, |$object:ident| $value:expr) => {
        $crate::graphql::plan::OwnField {
            ty: stringify!($ty),
            name: $name,
            draw: $crate::graphql::plan::Draw::Leaf(|object| {
                let $object = object.downcast_ref::<$ty>()?;
                $crate::graphql::plan::LeafValue::leaf($value)
            }),
        }
    };
}
pub(in crate::graphql) use own_leaf;
