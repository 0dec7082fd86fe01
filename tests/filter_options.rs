//! connection-filter's options as flags (`--connection-filter-<option>`): operator allow
//! lists and renames, allowed field types, arrays, computed columns, set-returning
//! functions, logical operators and list inflectors, each as the plugin applies it.

mod common;

use common::filter::{check, fixture_flags, fixture_with, ids_of, input_fields};
use common::{app_with, Options, TestApp};
use postgraph::schema::filter::FilterFlags;
use postgraph::schema::SchemaFlags;
use serde_json::json;

/// A query that must be refused as invalid (the field or argument does not exist).
async fn refused(app: &TestApp, query: &str) {
    let r = app.gql(query, json!({}), None).await;
    assert_eq!(r.status, 400, "{query}: {}", r.body);
}

#[tokio::test]
async fn allowed_operators_and_renames() {
    let app = fixture_with(FilterFlags {
        allowed_operators: Some(vec![
            "equalTo".into(),
            "in".into(),
            "includes".into(),
            "and".into(),
        ]),
        operator_names: vec![
            ("equalTo".into(), "eq".into()),
            ("in".into(), "oneOf".into()),
        ],
        ..Default::default()
    })
    .await;
    assert_eq!(input_fields(&app, "IntFilter").await, ["eq", "oneOf"]);
    assert_eq!(
        input_fields(&app, "StringFilter").await,
        ["eq", "oneOf", "includes"]
    );
    check(
        &app,
        &[
            ("{qty: {eq: 20}}", &[2]),
            ("{qty: {oneOf: [10, 30]}}", &[1, 3]),
            ("{name: {includes: \"a\"}, or: [{qty: {eq: 10}}]}", &[1]),
        ],
    )
    .await;
    refused(
        &app,
        "{ allThings(filter: {qty: {equalTo: 20}}) { totalCount } }",
    )
    .await;
    refused(
        &app,
        "{ allThings(filter: {qty: {lessThan: 20}}) { totalCount } }",
    )
    .await;
}

#[tokio::test]
async fn allowed_field_types_arrays_and_logical_operators() {
    let app = fixture_with(FilterFlags {
        allowed_field_types: Some(vec!["Int".into(), "String".into()]),
        arrays: false,
        logical_operators: false,
        ..Default::default()
    })
    .await;
    let fields = input_fields(&app, "ThingFilter").await;
    let has = |f: &str| fields.iter().any(|x| x == f);
    assert!(has("qty") && has("name") && has("doubleQty"), "{fields:?}");
    // Other types, arrays (even of Int) and the logical operators are gone.
    for gone in ["active", "day", "mood", "nums", "tags", "and", "or", "not"] {
        assert!(!has(gone), "{gone} in {fields:?}");
    }
    check(
        &app,
        &[("{qty: {greaterThan: 10}, name: {startsWith: \"b\"}}", &[2])],
    )
    .await;
    refused(
        &app,
        "{ allThings(filter: {or: [{qty: {equalTo: 1}}]}) { totalCount } }",
    )
    .await;
    refused(
        &app,
        "{ allThings(filter: {active: {equalTo: true}}) { totalCount } }",
    )
    .await;
}

/// The fixture with a computed column and a set-returning function tagged `@filterable`.
const TAGGED: &str = concat!(
    include_str!("fixtures/filter.sql"),
    "comment on function app_public.things_double_qty(app_public.things) is E'@filterable';
     create function app_public.things_tagged_qty(i app_public.things) returns int stable
       language sql as $$ select i.qty $$;
     comment on function app_public.thing_quantities() is E'@filterable';
     grant execute on all functions in schema app_public to app_anonymous;"
);

#[tokio::test]
async fn computed_columns_and_setof_functions_only_when_filterable() {
    let app = app_with(Options {
        setup_sql: Some(TAGGED),
        schema_flags: SchemaFlags {
            filter: FilterFlags {
                computed_columns: false,
                setof_functions: false,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let fields = input_fields(&app, "ThingFilter").await;
    assert!(fields.iter().any(|f| f == "doubleQty"), "{fields:?}");
    assert!(!fields.iter().any(|f| f == "taggedQty"), "{fields:?}");
    check(&app, &[("{doubleQty: {equalTo: 40}}", &[2])]).await;
    // thingsUpto is not tagged: no filter; thingQuantities is.
    refused(
        &app,
        "{ thingsUpto(n: 3, filter: {qty: {equalTo: 20}}) { totalCount } }",
    )
    .await;
    let r = app
        .gql(
            "{ thingQuantities(filter: {greaterThan: 15}) { nodes } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["thingQuantities"]["nodes"],
        json!([20, 30]),
        "{}",
        r.body
    );
    // Tables' connections keep their filter.
    assert_eq!(ids_of(&app, "allThings", "{qty: {equalTo: 30}}").await, [3]);
}

#[tokio::test]
async fn list_inflectors_name_one_to_many_relation_filters() {
    let app = fixture_flags(SchemaFlags {
        filter: FilterFlags {
            relations: true,
            use_list_inflectors: Some(true),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let fields = input_fields(&app, "ShelfFilter").await;
    assert!(
        fields.iter().any(|f| f == "boxesByShelfAAndShelfBList"),
        "{fields:?}"
    );
    assert_eq!(
        ids_of(
            &app,
            "allThings",
            "{memosByItemRefList: {some: {body: {equalTo: \"other\"}}}}"
        )
        .await,
        [2]
    );
}
