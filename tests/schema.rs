//! The checked-in `schema.graphql` is exactly what the code exports.

#[test]
fn checked_in_schema_matches_the_code() {
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists at the repository root");
    assert!(
        on_disk == switchboard::graphql::sdl(),
        "schema.graphql is stale: regenerate it with `cargo run -- schema > schema.graphql`"
    );
}
