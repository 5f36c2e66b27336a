use super::*;
use async_graphql::parser::parse_query;
use serde_json::json;

const SDL: &str = r#"
scalar JSON
type Query { a: A, b: A!, list: [A!], node: Node, s: String, t: String, j: JSON }
interface Node { id: ID! }
type A implements Node { id: ID! x: String y: String! inner: A }
type B implements Node { id: ID! z: Int }
"#;

/// Runs completion as the gateway does: the document with the hidden typename injected,
/// `data` as the library left it (JSON), the completed `data` as JSON (null when a null
/// reached the root).
fn complete_json(query: &str, data: serde_json::Value, variables: serde_json::Value) -> serde_json::Value {
    let index = TypeIndex::from_sdl(SDL);
    let mut doc = parse_query(query).unwrap();
    inject(&mut doc);
    let mut data = Value::from_json(data).unwrap();
    let variables = Variables::from_json(variables);
    if !complete(&doc, None, &variables, &index, &mut data) {
        return serde_json::Value::Null;
    }
    data.into_json().unwrap()
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn a_failed_nullable_field_is_null_at_its_position() {
    let out = complete_json(r#"{ a: node(id: "x") { id } b: s }"#, json!({"b": "ok"}), json!({}));
    assert_eq!(out, json!({"a": null, "b": "ok"}));
    assert_eq!(keys(&out), ["a", "b"]);
}

#[test]
fn fields_come_back_in_selection_order_whatever_order_they_completed_in() {
    let out = complete_json(
        "{ t s a { x __sbTypename: __typename id } }",
        json!({"a": {"__sbTypename": "A", "id": "1", "x": "x"}, "s": "s", "t": "t"}),
        json!({}),
    );
    assert_eq!(keys(&out), ["t", "s", "a"]);
    assert_eq!(
        keys(&out["a"]),
        ["x", "id"],
        "the hidden typename is gone, the rest in order"
    );
}

#[test]
fn objects_already_in_order_keep_their_values_and_json_scalars_stay_whole() {
    let data = json!({"a": {"__sbTypename": "A", "id": "1", "x": null}, "j": {"z": 1, "y": [2]}, "s": "s"});
    let out = complete_json("{ a { id x } j s }", data, json!({}));
    assert_eq!(
        out,
        json!({"a": {"id": "1", "x": null}, "j": {"z": 1, "y": [2]}, "s": "s"})
    );
    assert_eq!(keys(&out["j"]), ["z", "y"]);
}

#[test]
fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
    let out = complete_json(
        "{ a { id inner { id y } } s }",
        json!({"a": {"__sbTypename": "A", "id": "1", "inner": {"__sbTypename": "A", "id": "2"}}, "s": "s"}),
        json!({}),
    );
    assert_eq!(out, json!({"a": {"id": "1", "inner": null}, "s": "s"}));
}

#[test]
fn a_null_that_reaches_the_root_nulls_data() {
    let out = complete_json(
        "{ b { id y } s }",
        json!({"b": {"__sbTypename": "A", "id": "1"}, "s": "s"}),
        json!({}),
    );
    assert_eq!(out, serde_json::Value::Null);
}

#[test]
fn a_null_non_null_list_item_nulls_the_list() {
    let out = complete_json(
        "{ list { id y } }",
        json!({"list": [{"__sbTypename": "A", "id": "1", "y": "y"}, {"__sbTypename": "A", "id": "2"}]}),
        json!({}),
    );
    assert_eq!(out, json!({"list": null}));
}

#[test]
fn fragments_apply_by_concrete_type_and_skip_include_read_variables() {
    let query =
        "query($no: Boolean = true) { node(id: 1) { ... on A { x } ...F id } s @skip(if: $no) t @include(if: $no) }
                 fragment F on B { z }";
    let data = json!({"node": {"__sbTypename": "B", "id": "1", "z": 3}, "t": "t"});
    let out = complete_json(query, data.clone(), json!({}));
    assert_eq!(out, json!({"node": {"z": 3, "id": "1"}, "t": "t"}));
    let out = complete_json(
        query,
        json!({"node": {"__sbTypename": "A", "id": "1"}, "s": "s"}),
        json!({"no": false}),
    );
    assert_eq!(out, json!({"node": {"x": null, "id": "1"}, "s": "s"}));
}

#[test]
fn the_hidden_typename_is_added_to_every_selection_set_once() {
    let mut doc = parse_query("{ a { id inner { id } } ...F } fragment F on Query { b { id } }").unwrap();
    inject(&mut doc);
    let text = format!("{:?}", doc);
    assert_eq!(text.matches(TYPENAME_KEY).count(), 3, "a, a.inner and b");
}

#[test]
fn the_library_schema_description_is_removed() {
    let out = complete_json(
        "{ __schema { d: description queryType { name } } }",
        json!({"__schema": {"d": "A GraphQL Schema defines the capabilities", "queryType": {"name": "Query"}}}),
        json!({}),
    );
    assert_eq!(out, json!({"__schema": {"d": null, "queryType": {"name": "Query"}}}));
}
