//! The checked-in `schema.graphql` is exactly what the code exports, and its shape suits
//! typed clients: relay-compiler and graphql-inspector reject a fragment per
//! type when two implementers of one interface have a field of one name with two types.
// A build with the fake fourth provider has a larger schema than the checked-in one.
#![cfg(not(feature = "fake-provider"))]

use std::collections::BTreeMap;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

fn schema_file() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists at the repository root")
}

#[test]
fn checked_in_schema_matches_the_code() {
    assert!(
        schema_file() == switchboard::graphql::sdl(),
        "schema.graphql is stale: regenerate it with `cargo run -- schema > schema.graphql`"
    );
}

/// Object types implementing `interface`, with their fields' types.
fn implementers(interface: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let doc = parse_schema(schema_file()).expect("schema.graphql parses");
    let mut out = BTreeMap::new();
    for definition in doc.definitions {
        if let TypeSystemDefinition::Type(ty) = definition
            && let TypeKind::Object(object) = &ty.node.kind
            && object.implements.iter().any(|i| i.node.as_str() == interface)
        {
            let fields = object
                .fields
                .iter()
                .map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string()))
                .collect();
            out.insert(ty.node.name.node.to_string(), fields);
        }
    }
    out
}

#[test]
fn no_two_implementers_of_call_log_or_node_share_a_field_name_with_different_types() {
    for interface in ["CallLog", "Node"] {
        let types = implementers(interface);
        assert!(types.len() >= 3, "{interface}: {types:?}");
        let mut seen: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
        for (type_name, fields) in &types {
            for (field, ty) in fields {
                match seen.get(field.as_str()) {
                    Some((other_type, other_ty)) => assert_eq!(
                        ty, other_ty,
                        "{interface}: `{field}` is {ty} on {type_name} but {other_ty} on {other_type}"
                    ),
                    None => {
                        seen.insert(field, (type_name, ty));
                    }
                }
            }
        }
    }
}

#[test]
fn every_custom_scalar_has_a_description_and_specified_by() {
    let doc = parse_schema(schema_file()).expect("schema.graphql parses");
    let mut scalars = Vec::new();
    for definition in doc.definitions {
        if let TypeSystemDefinition::Type(ty) = definition
            && matches!(ty.node.kind, TypeKind::Scalar)
        {
            let name = ty.node.name.node.to_string();
            let description = ty.node.description.as_ref().map(|d| d.node.clone()).unwrap_or_default();
            assert!(!description.trim().is_empty(), "{name} has no description");
            assert!(
                !description.contains("Implement the"),
                "{name}: library text: {description}"
            );
            assert!(
                ty.node
                    .directives
                    .iter()
                    .any(|d| d.node.name.node.as_str() == "specifiedBy"),
                "{name} has no @specifiedBy"
            );
            scalars.push(name);
        }
    }
    assert_eq!(scalars, ["Date", "DateTime", "Decimal", "JSON"]);
}
