//! Responses exactly as the GraphQL spec completes them.
//!
//! async-graphql 7 leaves a field that errored out of `data` instead of making it `null`,
//! never propagates a null from a failed non-null field to its nearest nullable parent,
//! and writes fields in the order their resolvers finish (its issues #1272, #1449, #1549).
//! Clients rely on all three: Relay reports data missing, Apollo's cache drops the whole
//! query. So the gateway completes every response itself, after execution:
//! - `inject` adds one hidden `__typename` (alias `TYPENAME_KEY`) to every field's
//!   selection set, once per cached document, so each object in the result names its
//!   concrete type and is never empty;
//! - `complete` walks the operation's selection sets over the result with the schema's
//!   types (CollectFields with fragments, type conditions, `@skip`/`@include`), rebuilds
//!   every object in selection order, writes `null` where a field is missing (it
//!   errored), nulls the nearest nullable parent of a null non-null field, and removes
//!   the hidden key.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
    ServiceDocument, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Pos, Positioned, Value, Variables};

/// The alias of the injected `__typename` (reserved: names starting with `__`).
pub const TYPENAME_KEY: &str = "__sbTypename";

/// The schema's types, as completion needs them.
pub struct TypeIndex {
    /// Field types of object and interface types.
    fields: HashMap<String, HashMap<String, Type>>,
    /// Object types that belong to each interface and union.
    possible: HashMap<String, HashSet<String>>,
    query: String,
    mutation: Option<String>,
    subscription: Option<String>,
}

impl TypeIndex {
    /// Reads the types of the schema's SDL.
    pub fn from_sdl(sdl: &str) -> TypeIndex {
        let doc: ServiceDocument = async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        let mut index = TypeIndex {
            fields: HashMap::default(),
            possible: HashMap::default(),
            query: "Query".into(),
            mutation: None,
            subscription: None,
        };
        for definition in doc.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    if let Some(q) = &schema.node.query {
                        index.query = q.node.to_string();
                    }
                    index.mutation = schema.node.mutation.as_ref().map(|m| m.node.to_string());
                    index.subscription = schema.node.subscription.as_ref().map(|m| m.node.to_string());
                }
                TypeSystemDefinition::Type(ty) => {
                    let name = ty.node.name.node.to_string();
                    let fields = |list: &[Positioned<async_graphql::parser::types::FieldDefinition>]| {
                        list.iter()
                            .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                            .collect::<HashMap<_, _>>()
                    };
                    match &ty.node.kind {
                        TypeKind::Object(object) => {
                            for interface in &object.implements {
                                index
                                    .possible
                                    .entry(interface.node.to_string())
                                    .or_default()
                                    .insert(name.clone());
                            }
                            index.fields.insert(name, fields(&object.fields));
                        }
                        TypeKind::Interface(interface) => {
                            index.possible.entry(name.clone()).or_default();
                            index.fields.insert(name, fields(&interface.fields));
                        }
                        TypeKind::Union(union) => {
                            let members = union.members.iter().map(|m| m.node.to_string()).collect();
                            index.possible.insert(name, members);
                        }
                        _ => {}
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        if index.mutation.is_none() && index.fields.contains_key("Mutation") {
            index.mutation = Some("Mutation".into());
        }
        if index.subscription.is_none() && index.fields.contains_key("Subscription") {
            index.subscription = Some("Subscription".into());
        }
        index
    }

    /// Object, interface or union (a `JSON` scalar may be an object too, and is a leaf).
    fn is_composite(&self, name: &str) -> bool {
        self.fields.contains_key(name) || self.possible.contains_key(name)
    }

    /// The type of `field` of object or interface `ty`.
    pub(crate) fn field_type(&self, ty: &str, field: &str) -> Option<&Type> {
        self.fields.get(ty)?.get(field)
    }

    /// The object types of an interface or union.
    pub(crate) fn possible_types(&self, name: &str) -> Option<&HashSet<String>> {
        self.possible.get(name)
    }

    /// The query root's type name.
    pub(crate) fn query_type(&self) -> &str {
        &self.query
    }

    /// Whether an object of type `concrete` matches a type condition naming `condition`.
    pub(crate) fn applies(&self, condition: &str, concrete: &str) -> bool {
        condition == concrete || self.possible.get(condition).is_some_and(|p| p.contains(concrete))
    }
}

/// Adds the hidden `__typename` to every selection set of a field with sub-selections,
/// in operations and fragment definitions.
pub fn inject(doc: &mut ExecutableDocument) {
    fn walk(set: &mut SelectionSet) {
        for item in &mut set.items {
            match &mut item.node {
                Selection::Field(field) => {
                    let sub = &mut field.node.selection_set;
                    if !sub.node.items.is_empty() {
                        let pos = sub.pos;
                        sub.node.items.insert(0, typename_selection(pos));
                        walk(&mut sub.node);
                    }
                }
                Selection::InlineFragment(fragment) => walk(&mut fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    match &mut doc.operations {
        DocumentOperations::Single(op) => walk(&mut op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => {
            for op in ops.values_mut() {
                walk(&mut op.node.selection_set.node);
            }
        }
    }
    for fragment in doc.fragments.values_mut() {
        walk(&mut fragment.node.selection_set.node);
    }
}

fn typename_selection(pos: Pos) -> Positioned<Selection> {
    let field = Field {
        alias: Some(Positioned::new(Name::new(TYPENAME_KEY), pos)),
        name: Positioned::new(Name::new("__typename"), pos),
        arguments: Vec::new(),
        directives: Vec::new(),
        selection_set: Positioned::new(SelectionSet::default(), pos),
    };
    Positioned::new(Selection::Field(Positioned::new(field, pos)), pos)
}

/// Completes `data` of the operation that ran. Returns false when a null reached the
/// root (then `data` must be null).
pub fn complete(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    index: &TypeIndex,
    data: &mut Value,
) -> bool {
    let operation = match operation_name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => doc.operations.iter().next(),
    };
    let Some((_, operation)) = operation else {
        return true;
    };
    let root = match operation.node.ty {
        OperationType::Query => index.query.as_str(),
        OperationType::Mutation => match &index.mutation {
            Some(m) => m.as_str(),
            None => return true,
        },
        OperationType::Subscription => match &index.subscription {
            Some(s) => s.as_str(),
            None => return true,
        },
    };
    let Value::Object(map) = data else {
        return true;
    };
    let walker = Walker {
        doc,
        index,
        variables,
        defaults: &operation.node.variable_definitions,
    };
    walker.object(map, &[&operation.node.selection_set.node], root)
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    index: &'a TypeIndex,
    variables: &'a Variables,
    defaults: &'a [Positioned<async_graphql::parser::types::VariableDefinition>],
}

/// One response key of an object: the first field selected under it and any others
/// merged into it (rare: the same key in two fragments).
struct Collected<'a> {
    key: &'a Name,
    field: &'a Field,
    more: Vec<&'a Field>,
}

impl Collected<'_> {
    fn hidden(&self) -> bool {
        self.key.as_str() == TYPENAME_KEY && self.field.name.node.as_str() == "__typename"
    }
}

impl<'a> Walker<'a> {
    /// Completes one object; false when one of its non-null fields is null (the object
    /// itself must then be null). An object already complete and in order (the common
    /// case) is completed in place, without rebuilding or hashing its keys.
    fn object(&self, map: &mut IndexMap<Name, Value>, sets: &[&'a SelectionSet], concrete: &str) -> bool {
        let mut fields = Vec::with_capacity(16);
        let mut visited = Vec::new();
        for set in sets {
            self.collect(set, concrete, &mut fields, &mut visited);
        }
        let types = self.index.fields.get(concrete);
        match in_order(map, &fields) {
            Some(hidden) => {
                let mut i = 0;
                for c in fields.iter().filter(|c| !c.hidden()) {
                    if i == hidden.unwrap_or(usize::MAX) {
                        i += 1;
                    }
                    let Some((_, value)) = map.get_index_mut(i) else {
                        return true;
                    };
                    i += 1;
                    if !self.field(value, c, types, concrete) {
                        return false;
                    }
                }
                if let Some(h) = hidden {
                    map.shift_remove_index(h);
                }
                true
            }
            None => self.rebuild(map, &fields, types, concrete),
        }
    }

    /// Rebuilds an object in selection order, `null` where a field is missing.
    fn rebuild(
        &self,
        map: &mut IndexMap<Name, Value>,
        fields: &[Collected<'a>],
        types: Option<&HashMap<String, Type>>,
        concrete: &str,
    ) -> bool {
        let mut old = std::mem::take(map);
        let mut complete = IndexMap::with_capacity(fields.len());
        for c in fields.iter().filter(|c| !c.hidden()) {
            let mut value = old.swap_remove(c.key).unwrap_or(Value::Null);
            if !self.field(&mut value, c, types, concrete) {
                return false;
            }
            complete.insert(c.key.clone(), value);
        }
        *map = complete;
        true
    }

    /// Completes the value of one field; false when it is null and must not be.
    fn field(
        &self,
        value: &mut Value,
        c: &Collected<'a>,
        types: Option<&HashMap<String, Type>>,
        concrete: &str,
    ) -> bool {
        let name = c.field.name.node.as_str();
        if name == "__typename" {
            if *value == Value::Null {
                *value = Value::String(concrete.to_string());
            }
            return true;
        }
        // Introspection (`__schema`, `__type`) is answered by the library as is, except
        // the schema's description: async-graphql fills it with its own boilerplate.
        let Some(ty) = types.and_then(|t| t.get(name)) else {
            if name == "__schema" {
                clear_schema_description(value, c.field);
            }
            return true;
        };
        if c.more.is_empty() {
            self.value(value, ty, &[&c.field.selection_set.node])
        } else {
            let subsets: Vec<&'a SelectionSet> = std::iter::once(c.field)
                .chain(c.more.iter().copied())
                .map(|f| &f.selection_set.node)
                .collect();
            self.value(value, ty, &subsets)
        }
    }

    /// Completes a value of type `ty`; false when it is null although `ty` is non-null.
    fn value(&self, value: &mut Value, ty: &Type, subsets: &[&'a SelectionSet]) -> bool {
        match (&ty.base, &mut *value) {
            (_, Value::Null) => {}
            (BaseType::List(inner), Value::List(items)) => {
                for item in items.iter_mut() {
                    if !self.value(item, inner, subsets) {
                        *value = Value::Null;
                        break;
                    }
                }
            }
            (BaseType::Named(name), Value::Object(map)) if self.index.is_composite(name) => {
                let concrete = match map.get_index(0) {
                    Some((key, Value::String(t))) if key.as_str() == TYPENAME_KEY => t.clone(),
                    _ => match map.get(TYPENAME_KEY) {
                        Some(Value::String(t)) => t.clone(),
                        _ => name.to_string(),
                    },
                };
                if !self.object(map, subsets, &concrete) {
                    *value = Value::Null;
                }
            }
            _ => {}
        }
        ty.nullable || *value != Value::Null
    }

    /// CollectFields (spec §6.3.2): the fields of `set` that apply to `concrete`, by
    /// response key, in order.
    fn collect(
        &self,
        set: &'a SelectionSet,
        concrete: &str,
        fields: &mut Vec<Collected<'a>>,
        visited: &mut Vec<&'a str>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    if self.included(&field.node.directives) {
                        let key = &field.node.response_key().node;
                        match fields.iter_mut().find(|c| c.key == key) {
                            Some(c) => c.more.push(&field.node),
                            None => fields.push(Collected {
                                key,
                                field: &field.node,
                                more: Vec::new(),
                            }),
                        }
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let applies = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| self.index.applies(c.node.on.node.as_str(), concrete));
                    if applies && self.included(&fragment.node.directives) {
                        self.collect(&fragment.node.selection_set.node, concrete, fields, visited);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !self.included(&spread.node.directives) || visited.contains(&name) {
                        continue;
                    }
                    visited.push(name);
                    if let Some(fragment) = self.doc.fragments.get(name)
                        && self
                            .index
                            .applies(fragment.node.type_condition.node.on.node.as_str(), concrete)
                    {
                        self.collect(&fragment.node.selection_set.node, concrete, fields, visited);
                    }
                }
            }
        }
    }

    /// `@skip(if:)` and `@include(if:)`, with variables and their defaults.
    fn included(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().all(|d| {
            let condition = d.node.get_argument("if").map(|v| {
                v.node.clone().into_const_with(|name| Ok::<_, ()>(self.variable(&name))) == Ok(Value::Boolean(true))
            });
            match d.node.name.node.as_str() {
                "skip" => condition != Some(true),
                "include" => condition != Some(false),
                _ => true,
            }
        })
    }

    fn variable(&self, name: &Name) -> Value {
        if let Some(value) = self.variables.get(name) {
            return value.clone();
        }
        self.defaults
            .iter()
            .find(|d| d.node.name.node == *name)
            .and_then(|d| d.node.default_value.as_ref())
            .map_or(Value::Null, |v| v.node.clone())
    }
}

/// Nulls `__schema { description }` (the schema has none of its own).
fn clear_schema_description(value: &mut Value, field: &Field) {
    let Value::Object(map) = value else {
        return;
    };
    for item in &field.selection_set.node.items {
        if let Selection::Field(f) = &item.node
            && f.node.name.node.as_str() == "description"
            && let Some(d) = map.get_mut(f.node.response_key().node.as_str())
        {
            *d = Value::Null;
        }
    }
}

/// When `map` holds exactly the collected keys in order (plus, anywhere, the hidden
/// typename), the index of the hidden key (if present); `None` when it must be rebuilt.
fn in_order(map: &IndexMap<Name, Value>, fields: &[Collected<'_>]) -> Option<Option<usize>> {
    let mut hidden = None;
    let mut keys = map.keys().enumerate().filter(|(i, k)| {
        let is_hidden = k.as_str() == TYPENAME_KEY;
        if is_hidden {
            hidden = Some(*i);
        }
        !is_hidden
    });
    for c in fields.iter().filter(|c| !c.hidden()) {
        match keys.next() {
            Some((_, key)) if key == c.key => {}
            _ => return None,
        }
    }
    if keys.next().is_some() {
        return None;
    }
    drop(keys);
    Some(hidden)
}

#[cfg(test)]
mod tests;
