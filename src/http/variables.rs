//! A request's `variables`, read straight from the body's JSON text into GraphQL values
//! (no `serde_json::Value` tree in between) and bounded while they are read: at most
//! `graphql.max_variable_values` values (every scalar, list item and object entry counts)
//! nested at most `graphql.max_variable_depth` deep. A 930 KB object of 100,000 keys used
//! to be built whole (two trees of it: JSON, then GraphQL values); now reading stops at the
//! first value past the bound (issue 34, "shedding"). `variables` must be an object (or
//! null).

use std::cell::Cell;
use std::fmt;

use async_graphql::{Name, Value as ConstValue, Variables};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The bounds of one request's variables (`[graphql]`).
#[derive(Debug, Clone, Copy)]
pub struct VariableLimits {
    pub max_values: usize,
    pub max_depth: usize,
}

/// Why a request's variables were refused (the message names the limit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VariablesError(String);

/// Reads `raw` (the JSON text of `variables`): none for `null`, else the variables.
pub fn parse(raw: &str, limits: VariableLimits) -> Result<Option<Variables>, VariablesError> {
    if raw.trim() == "null" {
        return Ok(None);
    }
    if !raw.trim_start().starts_with('{') {
        return Err(VariablesError(
            "`variables` must be a JSON object of variable values".into(),
        ));
    }
    let left = Cell::new(limits.max_values);
    let seed = Bounded {
        left: &left,
        depth: 0,
        limits,
    };
    let mut deserializer = serde_json::Deserializer::from_str(raw);
    let value = seed
        .deserialize(&mut deserializer)
        .and_then(|v| deserializer.end().map(|()| v))
        .map_err(|e| VariablesError(format!("`variables` were refused: {e}")))?;
    Ok(Some(Variables::from_value(value)))
}

/// One value, within what is left of the request's budget.
#[derive(Clone, Copy)]
struct Bounded<'a> {
    left: &'a Cell<usize>,
    depth: usize,
    limits: VariableLimits,
}

impl Bounded<'_> {
    fn take<E: serde::de::Error>(&self) -> Result<(), E> {
        match self.left.get() {
            0 => Err(E::custom(format_args!(
                "more than {} values (graphql.max_variable_values)",
                self.limits.max_values
            ))),
            n => {
                self.left.set(n - 1);
                Ok(())
            }
        }
    }

    fn deeper<E: serde::de::Error>(self) -> Result<Self, E> {
        if self.depth >= self.limits.max_depth {
            return Err(E::custom(format_args!(
                "nested more than {} deep (graphql.max_variable_depth)",
                self.limits.max_depth
            )));
        }
        Ok(Bounded {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = ConstValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ConstValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = ConstValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<ConstValue, E> {
        self.take()?;
        Ok(ConstValue::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ConstValue, E> {
        self.take()?;
        Ok(ConstValue::Boolean(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ConstValue, E> {
        self.take()?;
        Ok(ConstValue::Number(v.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ConstValue, E> {
        self.take()?;
        Ok(ConstValue::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ConstValue, E> {
        self.take()?;
        serde_json::Number::from_f64(v)
            .map(ConstValue::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ConstValue, E> {
        self.take()?;
        Ok(ConstValue::String(v.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ConstValue, E> {
        self.take()?;
        Ok(ConstValue::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ConstValue, A::Error> {
        self.take()?;
        let inner = self.deeper()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(ConstValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ConstValue, A::Error> {
        self.take()?;
        let inner = self.deeper()?;
        let mut object = async_graphql::indexmap::IndexMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(inner)?;
            object.insert(Name::new(key), value);
        }
        Ok(ConstValue::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: VariableLimits = VariableLimits {
        max_values: 10,
        max_depth: 3,
    };

    #[test]
    fn ordinary_variables_read_as_json_would() {
        let raw = r#"{"id": "abc", "first": 20, "filter": {"providers": ["SIGNALWIRE"], "number": null}}"#;
        let read = parse(raw, LIMITS).unwrap().unwrap();
        let json: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(read, Variables::from_json(json));
        assert_eq!(parse(" null ", LIMITS).unwrap(), None);
    }

    #[test]
    fn too_many_values_or_too_deep_or_not_an_object_are_refused_by_name() {
        let many = format!(
            "{{{}}}",
            (0..20).map(|i| format!("\"k{i}\": {i}")).collect::<Vec<_>>().join(",")
        );
        assert!(
            parse(&many, LIMITS)
                .unwrap_err()
                .0
                .contains("graphql.max_variable_values")
        );
        let deep = r#"{"a": [[[[1]]]]}"#;
        assert!(
            parse(deep, LIMITS)
                .unwrap_err()
                .0
                .contains("graphql.max_variable_depth")
        );
        for raw in [r#"[1]"#, r#""x""#, "3", "true"] {
            assert!(
                parse(raw, LIMITS).unwrap_err().0.contains("must be a JSON object"),
                "{raw}"
            );
        }
    }
}
