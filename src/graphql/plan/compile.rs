//! From a validated operation to a `Plan`, or to nothing when the operation asks for
//! anything a plan does not draw (see the parent module).
//!
//! Fields are collected as GraphQL collects them (fragments merged where their type
//! condition applies to the object, per concrete type), so a plan holds, for each call log
//! type a selection can meet, the keys it renders in order.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, FragmentDefinition, OperationType, Selection,
    SelectionSet, Type, VariableDefinition,
};
use async_graphql::{Name, Pos, Positioned};
use async_graphql_value::Value;

use super::PlannedField;
use super::own::{self, Draw, ListRead, OwnField};
use crate::authz::rules::{Guard, Rules};
use crate::graphql::completion::{TYPENAME_KEY, TypeIndex};
use crate::graphql::flat::SHARED_FIELDS;

/// A compiled operation (see the parent module).
pub struct Plan {
    pub(super) roots: Vec<Root>,
    /// The operation's variables with their declared types and defaults.
    pub(super) variables: Vec<Variable>,
    /// What guards the shared fields it draws (`Leaf::Guarded`): a caller whom one of them
    /// forbids is answered by async-graphql, before the plan reads anything.
    pub(super) guards: Vec<Guard>,
}

/// A variable the operation declares.
pub(super) struct Variable {
    pub name: Name,
    pub ty: Type,
    pub default: Option<async_graphql::Value>,
}

/// What a root field adds to the operation's complexity, as async-graphql counts it (each
/// field 1 plus its children, a connection its children once per item, `nodes` once per
/// id): `children` is what its selection set counts.
pub(super) enum Cost {
    /// `__typename`, which validation does not count.
    Nothing,
    Field {
        children: usize,
    },
    Page {
        children: usize,
    },
    Ids {
        children: usize,
    },
}

/// One root field.
pub(super) struct Root {
    pub key: Name,
    pub pos: Pos,
    /// Its arguments as written (variables filled in at run time).
    pub arguments: Vec<(Name, Value)>,
    pub nullable: bool,
    pub kind: RootKind,
    pub cost: Cost,
}

pub(super) enum RootKind {
    /// `__typename` of the query root.
    Typename(String),
    /// `node(id:)` (`call_logs_only` false) or `callLog(id:)`.
    ById { call_logs_only: bool, shape: Shape },
    /// `nodes(ids:)`.
    ByIds { shape: Shape },
    /// A provider connection.
    Connection {
        field: &'static PlannedField,
        parts: Vec<Part>,
    },
}

/// What a call log renders, per concrete GraphQL type: its keys in order.
pub(super) struct Shape(pub HashMap<String, Vec<Leaf>>);

pub(super) enum Leaf {
    Typename(Name),
    /// A shared `CallLog` field (`flat::shared`) under a key.
    Shared(Name, Name),
    /// A shared field a rule of `[authorization]` guards: shown (and counted for the
    /// audit), or masked, as the caller's view says.
    Guarded(Name, Name, Guard),
    /// A leaf its provider lists (`own::OwnField`) under a key.
    Own(Name, &'static OwnField),
    /// A list of objects its provider lists (`own::Draw::List`), read for the object:
    /// under `key`, at `pos` (where its errors point), null in place when it fails if
    /// `nullable` (else the object is), each item of type `item` drawn as `leaves`.
    List {
        key: Name,
        pos: Pos,
        nullable: bool,
        item: &'static str,
        read: ListRead,
        leaves: Vec<Leaf>,
    },
}

/// A selected part of a connection.
pub(super) enum Part {
    Typename(Name, String),
    /// `totalCount` under a key; at `pos`, null in place when it fails if `nullable`.
    TotalCount {
        key: Name,
        pos: Pos,
        nullable: bool,
    },
    PageInfo(Name, Vec<Info>),
    Edges(Name, Vec<EdgePart>),
    Nodes(Name, Shape),
}

pub(super) enum Info {
    Typename(Name),
    HasPreviousPage(Name),
    HasNextPage(Name),
    StartCursor(Name),
    EndCursor(Name),
}

pub(super) enum EdgePart {
    Typename(Name, String),
    Cursor(Name),
    Node(Name, Shape),
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

struct Compiler<'a> {
    types: &'a TypeIndex,
    fragments: &'a Fragments,
    /// The field rules of `[authorization]`: a guarded shared field is drawn as the
    /// caller's view says (`Leaf::Guarded`); any other guarded field is not planned
    /// (async-graphql renders it, through `graphql::authorize`).
    rules: Option<&'a Rules>,
    /// The guards of the `Leaf::Guarded`s compiled so far.
    guards: std::cell::RefCell<Vec<Guard>>,
}

impl Compiler<'_> {
    /// Whether a rule guards field `field` of concrete type `ty`.
    fn guarded(&self, ty: &str, field: &str) -> bool {
        self.guard(ty, field).is_some()
    }

    fn guard(&self, ty: &str, field: &str) -> Option<&Guard> {
        self.rules?.guard(ty, field)
    }
}

pub(super) fn compile(
    types: &TypeIndex,
    rules: Option<&Rules>,
    document: &ExecutableDocument,
    operation: Option<&str>,
) -> Option<Plan> {
    let operation = match (&document.operations, operation) {
        (DocumentOperations::Single(op), None) => &op.node,
        (DocumentOperations::Single(_), Some(_)) => return None,
        (DocumentOperations::Multiple(ops), Some(name)) => &ops.get(name)?.node,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => &ops.values().next()?.node,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    if operation.ty != OperationType::Query || !operation.directives.is_empty() {
        return None;
    }
    let compiler = Compiler {
        types,
        fragments: &document.fragments,
        rules,
        guards: Default::default(),
    };
    let query = types.query_type();
    let fields = compiler.collect(&operation.selection_set.node, &|on| on == query)?;
    let roots = fields
        .into_iter()
        .map(|field| compiler.root(field))
        .collect::<Option<Vec<_>>>()?;
    let variables = operation
        .variable_definitions
        .iter()
        .map(|d| variable(&d.node))
        .collect();
    Some(Plan {
        roots,
        variables,
        guards: compiler.guards.into_inner(),
    })
}

fn variable(definition: &VariableDefinition) -> Variable {
    Variable {
        name: definition.name.node.clone(),
        ty: definition.var_type.node.clone(),
        default: definition.default_value.as_ref().map(|v| v.node.clone()),
    }
}

impl Compiler<'_> {
    fn root(&self, field: &Positioned<Field>) -> Option<Root> {
        let query = self.types.query_type();
        let name = field.node.name.node.as_str();
        if self.guarded(query, name) {
            return None;
        }
        let arguments = field
            .node
            .arguments
            .iter()
            .map(|(n, v)| (n.node.clone(), v.node.clone()))
            .collect();
        let kind = match name {
            "__typename" => RootKind::Typename(query.to_owned()),
            "node" | "callLog" => RootKind::ById {
                call_logs_only: name == "callLog",
                shape: self.shape("CallLog", &field.node.selection_set.node, true)?,
            },
            "nodes" => RootKind::ByIds {
                shape: self.shape("CallLog", &field.node.selection_set.node, false)?,
            },
            _ => {
                let timeline = crate::graphql::timeline::TimelineQuery::PLANNED;
                let planned = crate::graphql::providers::PLANNED
                    .iter()
                    .chain([&timeline])
                    .flat_map(|fields| fields.iter())
                    .find(|f| f.name == name && f.call_logs)?;
                let connection = named(self.types.field_type(query, name)?.base.clone())?;
                RootKind::Connection {
                    field: planned,
                    parts: self.connection(&connection, &field.node.selection_set.node)?,
                }
            }
        };
        let nullable = match name {
            "__typename" => false,
            _ => self.types.field_type(query, name)?.nullable,
        };
        let children = self.cost(&field.node.selection_set.node);
        let cost = match &kind {
            RootKind::Connection { .. } => Cost::Page { children },
            RootKind::ByIds { .. } => Cost::Ids { children },
            RootKind::Typename(_) => Cost::Nothing,
            RootKind::ById { .. } => Cost::Field { children },
        };
        Some(Root {
            key: field.node.response_key().node.clone(),
            pos: field.pos,
            arguments,
            nullable,
            kind,
            cost,
        })
    }

    /// The complexity of a selection set as async-graphql's validation counts it: every
    /// field as written but `__typename`, in every fragment, 1 plus its children (no
    /// field a plan draws below the root has a complexity of its own).
    fn cost(&self, selection: &SelectionSet) -> usize {
        selection.items.iter().fold(0usize, |sum, item| {
            let more = match &item.node {
                // Validation does not visit `__typename`s (nor the hidden ones).
                Selection::Field(field) if field.node.name.node == "__typename" => 0,
                Selection::Field(field) => self.cost(&field.node.selection_set.node).saturating_add(1),
                Selection::InlineFragment(fragment) => self.cost(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => self
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .map_or(0, |f| self.cost(&f.node.selection_set.node)),
            };
            sum.saturating_add(more)
        })
    }

    fn connection(&self, connection: &str, selection: &SelectionSet) -> Option<Vec<Part>> {
        self.parts(selection, connection, |name, key, sub, pos| {
            Some(match name {
                "__typename" => Part::Typename(key, connection.to_owned()),
                "totalCount" => Part::TotalCount {
                    pos,
                    nullable: self.types.field_type(connection, name)?.nullable,
                    key,
                },
                "pageInfo" => Part::PageInfo(key, self.page_info(sub)?),
                "edges" => {
                    let edge = named(self.types.field_type(connection, "edges")?.base.clone())?;
                    Part::Edges(key, self.edge(&edge, sub)?)
                }
                "nodes" => {
                    let node = named(self.types.field_type(connection, "nodes")?.base.clone())?;
                    Part::Nodes(key, self.shape(&node, sub, false)?)
                }
                _ => return None,
            })
        })
    }

    fn page_info(&self, selection: &SelectionSet) -> Option<Vec<Info>> {
        self.parts(selection, "PageInfo", |name, key, _, _| {
            Some(match name {
                "__typename" => Info::Typename(key),
                "hasPreviousPage" => Info::HasPreviousPage(key),
                "hasNextPage" => Info::HasNextPage(key),
                "startCursor" => Info::StartCursor(key),
                "endCursor" => Info::EndCursor(key),
                _ => return None,
            })
        })
    }

    fn edge(&self, edge: &str, selection: &SelectionSet) -> Option<Vec<EdgePart>> {
        self.parts(selection, edge, |name, key, sub, _| {
            Some(match name {
                "__typename" => EdgePart::Typename(key, edge.to_owned()),
                "cursor" => EdgePart::Cursor(key),
                "node" => {
                    let node = named(self.types.field_type(edge, "node")?.base.clone())?;
                    EdgePart::Node(key, self.shape(&node, sub, false)?)
                }
                _ => return None,
            })
        })
    }

    /// Each field `selection` selects of an object of type `ty` (`collect`), as `part`
    /// compiles it from its name, response key, sub-selection and position.
    fn parts<T>(
        &self,
        selection: &SelectionSet,
        ty: &str,
        part: impl Fn(&str, Name, &SelectionSet, Pos) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.collect(selection, &|on| on == ty)?
            .into_iter()
            .map(|field| {
                let pos = field.pos;
                let field = &field.node;
                part(
                    field.name.node.as_str(),
                    field.response_key().node.clone(),
                    &field.selection_set.node,
                    pos,
                )
            })
            .collect()
    }

    /// The shape of a call log of (abstract or concrete) type `ty`, for each call log type
    /// it can be; with lists of objects read for it (`Leaf::List`) only where `lists`.
    fn shape(&self, ty: &str, selection: &SelectionSet, lists: bool) -> Option<Shape> {
        let concrete: Vec<&str> = match self.types.possible_types(ty) {
            Some(possible) => possible.iter().map(String::as_str).collect(),
            None => vec![ty],
        };
        let call_logs = self.types.possible_types("CallLog")?;
        let mut shapes = HashMap::with_capacity(concrete.len());
        for concrete in concrete {
            if !call_logs.contains(concrete) {
                return None;
            }
            let fields = self.collect(selection, &|on| self.types.applies(on, concrete))?;
            let leaves = fields
                .into_iter()
                .map(|field| {
                    let key = field.node.response_key().node.clone();
                    let name = &field.node.name.node;
                    let leaf = field.node.selection_set.node.items.is_empty();
                    match name.as_str() {
                        n if SHARED_FIELDS.contains(&n) && leaf && self.guarded(concrete, n) => {
                            let guard = self.guard(concrete, n)?.clone();
                            self.guards.borrow_mut().push(guard.clone());
                            Some(Leaf::Guarded(key, name.clone(), guard))
                        }
                        n if self.guarded(concrete, n) => None,
                        "__typename" => Some(Leaf::Typename(key)),
                        n if SHARED_FIELDS.contains(&n) && leaf => Some(Leaf::Shared(key, name.clone())),
                        n => self.own(concrete, n, key, field, lists),
                    }
                })
                .collect::<Option<Vec<_>>>()?;
            shapes.insert(concrete.to_owned(), leaves);
        }
        Some(Shape(shapes))
    }

    /// A field of `ty` beyond the shared ones that its provider lists (`own`).
    fn own(&self, ty: &str, name: &str, key: Name, field: &Positioned<Field>, lists: bool) -> Option<Leaf> {
        let own = own::find(ty, name)?;
        let sub = &field.node.selection_set.node;
        match own.draw {
            Draw::Leaf(_) if sub.items.is_empty() => Some(Leaf::Own(key, own)),
            Draw::List { item, read } if lists => Some(Leaf::List {
                key,
                pos: field.pos,
                nullable: self.types.field_type(ty, name)?.nullable,
                item,
                read,
                leaves: self.item(item, sub)?,
            }),
            _ => None,
        }
    }

    /// The leaves of an object of type `item` of a `Leaf::List`: its typename and its
    /// listed leaves.
    fn item(&self, item: &str, selection: &SelectionSet) -> Option<Vec<Leaf>> {
        self.parts(selection, item, |name, key, sub, _| match name {
            n if self.guarded(item, n) => None,
            "__typename" => Some(Leaf::Typename(key)),
            _ => match own::find(item, name)? {
                own @ OwnField {
                    draw: Draw::Leaf(_), ..
                } if sub.items.is_empty() => Some(Leaf::Own(key, own)),
                _ => None,
            },
        })
    }

    /// The fields of `selection` for an object whose type conditions `applies` says
    /// match, in order, each response key once; `None` on a directive, an argument below
    /// the root, an unknown fragment, or a repeated key of a field with a selection (which
    /// GraphQL merges). The hidden `__typename` of response completion is left out.
    fn collect<'s>(
        &'s self,
        selection: &'s SelectionSet,
        applies: &dyn Fn(&str) -> bool,
    ) -> Option<Vec<&'s Positioned<Field>>> {
        let mut fields: Vec<&Positioned<Field>> = Vec::new();
        self.collect_into(selection, applies, &mut fields)?;
        Some(fields)
    }

    fn collect_into<'s>(
        &'s self,
        selection: &'s SelectionSet,
        applies: &dyn Fn(&str) -> bool,
        fields: &mut Vec<&'s Positioned<Field>>,
    ) -> Option<()> {
        for item in &selection.items {
            let (condition, selection) = match &item.node {
                Selection::Field(field) => {
                    if !field.node.directives.is_empty() {
                        return None;
                    }
                    let key = field.node.response_key().node.as_str();
                    if key == TYPENAME_KEY {
                        continue;
                    }
                    if let Some(seen) = fields.iter().find(|f| f.node.response_key().node == key) {
                        // Validation made both the same field; a leaf renders once, an
                        // object would merge.
                        if !seen.node.selection_set.node.items.is_empty() {
                            return None;
                        }
                        continue;
                    }
                    fields.push(field);
                    continue;
                }
                Selection::InlineFragment(fragment) => {
                    if !fragment.node.directives.is_empty() {
                        return None;
                    }
                    (
                        fragment.node.type_condition.as_ref().map(|c| c.node.on.node.as_str()),
                        &fragment.node.selection_set.node,
                    )
                }
                Selection::FragmentSpread(spread) => {
                    let definition = &self.fragments.get(&spread.node.fragment_name.node)?.node;
                    if !spread.node.directives.is_empty() || !definition.directives.is_empty() {
                        return None;
                    }
                    (
                        Some(definition.type_condition.node.on.node.as_str()),
                        &definition.selection_set.node,
                    )
                }
            };
            if condition.is_none_or(applies) {
                self.collect_into(selection, applies, fields)?;
            }
        }
        Some(())
    }
}

/// The named type under any list wrappers.
fn named(base: BaseType) -> Option<String> {
    match base {
        BaseType::Named(name) => Some(name.to_string()),
        BaseType::List(inner) => named(inner.base),
    }
}
