//! Whether a request's variable values are ones async-graphql's validation would accept,
//! so a plan can run for values it has not seen validated (other ids, cursors, filters).
//!
//! Validation depends on variable values in two places only: the values must coerce to
//! the variables' declared types (async-graphql's `ArgumentsOfCorrectType`), and the
//! complexity limit counts `first` and the number of `ids` (`Plan::run` recomputes
//! it). Everything else it checks depends on the document and operation alone, which
//! passed once. This module answers the first question from the schema's SDL. Where it is
//! unsure it says no, and async-graphql validates the request as before: it may be
//! stricter than async-graphql (an `Int` past 32 bits, an input object given as a
//! string, an unknown custom scalar), never looser.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{BaseType, ServiceDocument, Type, TypeKind, TypeSystemDefinition};
use async_graphql::{InputType, Value};

use crate::graphql::scalars;

/// The schema's input types: input objects, enums and custom scalars.
pub(super) struct InputTypes {
    objects: HashMap<String, InputObject>,
    enums: HashMap<String, HashSet<String>>,
    scalars: HashMap<String, ScalarCheck>,
}

/// Whether a value is one of a custom scalar.
type ScalarCheck = fn(&Value) -> bool;

struct InputObject {
    /// Each field's type, and whether it has a default.
    fields: HashMap<String, (Type, bool)>,
    /// `@oneOf` objects have rules of their own; their values are left to async-graphql.
    one_of: bool,
}

/// Whether a value parses as custom scalar `T` (the only check its validation makes, at
/// execution).
fn parses<T: InputType>(value: &Value) -> bool {
    T::parse(Some(value.clone())).is_ok()
}

impl InputTypes {
    /// Reads the input types of the schema's SDL.
    pub(super) fn from_sdl(sdl: &str) -> InputTypes {
        let doc: ServiceDocument = async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        let mut types = InputTypes {
            objects: HashMap::new(),
            enums: HashMap::new(),
            scalars: HashMap::new(),
        };
        let custom: [(&str, ScalarCheck); 4] = [
            ("DateTime", parses::<scalars::DateTime>),
            ("Date", parses::<scalars::Date>),
            ("Decimal", parses::<scalars::Decimal>),
            ("JSON", parses::<scalars::Json>),
        ];
        for (name, check) in custom {
            types.scalars.insert(name.to_owned(), check);
        }
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            match &ty.node.kind {
                TypeKind::InputObject(object) => {
                    let fields = object
                        .fields
                        .iter()
                        .map(|f| {
                            let field = &f.node;
                            let entry = (field.ty.node.clone(), field.default_value.is_some());
                            (field.name.node.to_string(), entry)
                        })
                        .collect();
                    let one_of = ty.node.directives.iter().any(|d| d.node.name.node == "oneOf");
                    types.objects.insert(name, InputObject { fields, one_of });
                }
                TypeKind::Enum(values) => {
                    let values = values.values.iter().map(|v| v.node.value.node.to_string()).collect();
                    types.enums.insert(name, values);
                }
                _ => {}
            }
        }
        types
    }

    /// Whether `value` is valid for a variable of type `ty`.
    pub(super) fn fits(&self, value: &Value, ty: &Type) -> bool {
        if let Value::Null = value {
            return ty.nullable;
        }
        match &ty.base {
            BaseType::List(item) => match value {
                Value::List(items) => items.iter().all(|v| self.fits(v, item)),
                // Input coercion takes a single value for a list of one.
                single => self.fits(single, item),
            },
            BaseType::Named(name) => self.fits_named(value, name),
        }
    }

    fn fits_named(&self, value: &Value, name: &str) -> bool {
        // As async-graphql's `ID` checks a number: one that fits `i64`.
        let integer = |value: &Value| matches!(value, Value::Number(n) if n.is_i64());
        match name {
            "Int" => matches!(value, Value::Number(n) if n.as_i64().is_some_and(|n| i32::try_from(n).is_ok())),
            "Float" => matches!(value, Value::Number(_)),
            "String" => matches!(value, Value::String(_)),
            "Boolean" => matches!(value, Value::Boolean(_)),
            "ID" => matches!(value, Value::String(_)) || integer(value),
            _ => {
                if let Some(values) = self.enums.get(name) {
                    return match value {
                        Value::String(v) => values.contains(v.as_str()),
                        Value::Enum(v) => values.contains(v.as_str()),
                        _ => false,
                    };
                }
                if let Some(object) = self.objects.get(name) {
                    return self.fits_object(value, object);
                }
                self.scalars.get(name).is_some_and(|check| check(value))
            }
        }
    }

    fn fits_object(&self, value: &Value, object: &InputObject) -> bool {
        let Value::Object(given) = value else {
            return false;
        };
        if object.one_of || given.keys().any(|k| !object.fields.contains_key(k.as_str())) {
            return false;
        }
        object
            .fields
            .iter()
            .all(|(name, (ty, has_default))| match given.get(name.as_str()) {
                Some(v) => self.fits(v, ty),
                None => ty.nullable || *has_default,
            })
    }
}
