//! Set-up shared by the `filter:` tests: the filter fixture (tests/fixtures/filter.sql)
//! served with given flags, and the ids a filter selects.

use super::{app_with, Options, TestApp};
use postgraph::schema::filter::FilterFlags;
use postgraph::schema::SchemaFlags;
use serde_json::{json, Value};

pub const FIXTURE: &str = include_str!("../fixtures/filter.sql");

/// The filter fixture with default flags.
pub async fn fixture() -> TestApp {
    fixture_with(Default::default()).await
}

/// The filter fixture with these filter flags.
pub async fn fixture_with(filter: FilterFlags) -> TestApp {
    fixture_flags(SchemaFlags {
        filter,
        ..Default::default()
    })
    .await
}

/// The filter fixture with these schema flags.
pub async fn fixture_flags(schema_flags: SchemaFlags) -> TestApp {
    app_with(Options {
        setup_sql: Some(FIXTURE),
        schema_flags,
        ..Options::default()
    })
    .await
}

/// The `id`s of a connection's `nodes`.
pub fn node_ids(v: &Value) -> Vec<i64> {
    v["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("nodes in {v}"))
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect()
}

/// The ids of `<field>(filter: <filter>)`, in key order; the query must succeed.
pub async fn ids_of(app: &TestApp, field: &str, filter: &str) -> Vec<i64> {
    let q = format!("{{ {field}(filter: {filter}) {{ nodes {{ id }} }} }}");
    let r = app.gql(&q, json!({}), None).await;
    assert_eq!(r.status, 200, "{filter}: {}", r.body);
    assert!(r.errors().is_none(), "{filter}: {}", r.body);
    node_ids(&r.data()[field])
}

/// The ids of `allThings(filter: <filter>)`.
pub async fn ids(app: &TestApp, filter: &str) -> Vec<i64> {
    ids_of(app, "allThings", filter).await
}

/// Each `(filter, expected ids)` pair on `allThings`.
pub async fn check(app: &TestApp, cases: &[(&str, &[i64])]) {
    check_on(app, "allThings", cases).await
}

/// Each `(filter, expected ids)` pair on a root connection.
pub async fn check_on(app: &TestApp, field: &str, cases: &[(&str, &[i64])]) {
    for (filter, expected) in cases {
        assert_eq!(
            ids_of(app, field, filter).await,
            *expected,
            "{field} filter {filter}"
        );
    }
}

/// The names of an input type's fields, from introspection.
pub async fn input_fields(app: &TestApp, type_name: &str) -> Vec<String> {
    let q = format!("{{ __type(name: \"{type_name}\") {{ inputFields {{ name }} }} }}");
    let r = app.gql(&q, json!({}), None).await;
    r.data()["__type"]["inputFields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}
