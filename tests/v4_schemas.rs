//! Schemas as PostGraphile v4 users have them, beyond the golden corpus (which runs with the
//! default flags): `--use-partitioned-parent`, `--view-unique-key`, a CRUD mutation that
//! grants take away (`--no-ignore-rbac`) leaving its name to a function, inline JSON literals
//! (`--dynamic-json`) and geometric types (`--pg-geometric-types`).

mod common;

use common::{app_with, Options, TestApp};
use postgraph::schema::SchemaFlags;
use serde_json::json;

const FIXTURE: &str = include_str!("fixtures/v4_schema.sql");

/// The fixture and a view with an `id` column but no `@uniqueKey` tag.
const UNTAGGED_VIEW: &str = concat!(
    include_str!("fixtures/v4_schema.sql"),
    "create view app_public.untagged_keys as select id, region from app_public.sales;
     grant select on app_public.untagged_keys to app_anonymous;"
);

/// `create_sale_event(note)` wants the name of the table's own create mutation, which the
/// role may not use (no INSERT on the table) once grants count.
const RBAC_NAMES: &str = r#"
create table app_public.audit_entries (id serial primary key, note text not null);
grant select on app_public.audit_entries to app_anonymous;
create function app_public.create_audit_entry(note text) returns app_public.audit_entries
  volatile security definer language sql
  as $$ insert into app_public.audit_entries (note) values (note) returning * $$;
grant execute on function app_public.create_audit_entry(text) to app_anonymous;
"#;

async fn app(sql: &'static str, flags: SchemaFlags) -> TestApp {
    app_with(Options {
        setup_sql: Some(sql),
        schema_flags: flags,
        ..Options::default()
    })
    .await
}

async fn root_fields(app: &TestApp, root: &str) -> Vec<String> {
    let r = app
        .gql(
            "query($t: String!) { __type(name: $t) { fields { name } } }",
            json!({ "t": root }),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn partitions_are_exposed_by_default_and_the_parent_with_the_flag() {
    let app = app(FIXTURE, SchemaFlags::default()).await;
    let query = root_fields(&app, "Query").await;
    assert!(query.iter().any(|f| f == "allSales2023S"), "{query:?}");
    assert!(!query.iter().any(|f| f == "allSales"), "{query:?}");
    let r = app
        .gql("{ allSales2024S { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.data()["allSales2024S"]["totalCount"], 3, "{}", r.body);

    let flags = SchemaFlags {
        use_partitioned_parent: true,
        ..SchemaFlags::default()
    };
    let app = self::app(FIXTURE, flags).await;
    let query = root_fields(&app, "Query").await;
    assert!(query.iter().any(|f| f == "allSales"), "{query:?}");
    assert!(
        !query.iter().any(|f| f.starts_with("allSales20")),
        "{query:?}"
    );
    let r = app
        .gql(
            "{ allSales(orderBy: ID_ASC, first: 2) { totalCount nodes { id soldOn } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["allSales"],
        json!({"totalCount": 6, "nodes": [
            {"id": 1, "soldOn": "2023-03-01"}, {"id": 2, "soldOn": "2023-05-01"}
        ]}),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_create_mutation_the_role_may_not_use_leaves_its_name_to_a_function() {
    let flags = SchemaFlags {
        no_ignore_rbac: true,
        ..SchemaFlags::default()
    };
    let app = app(RBAC_NAMES, flags).await;
    let r = app
        .gql(
            r#"mutation { createAuditEntry(input: {note: "hello"}) { auditEntry { id note } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data()["createAuditEntry"]["auditEntry"],
        json!({"id": 1, "note": "hello"}),
        "{}",
        r.body
    );
    let rows = app.sql("select note from app_public.audit_entries").await;
    assert_eq!(rows, vec![json!({"note": "hello"})]);
}

#[tokio::test]
async fn the_view_unique_key_flag_orders_views_by_that_column() {
    let flags = SchemaFlags {
        view_unique_key: Some("id".into()),
        ..SchemaFlags::default()
    };
    let app = app(UNTAGGED_VIEW, flags).await;
    let r = app
        .gql(
            "{ allCategoryTotals(first: 1) { edges { cursor } } allSaleKeys: allUntaggedKeys(first: 2) { edges { cursor node { id } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["allCategoryTotals"]["edges"][0]["cursor"],
        "WyJuYXR1cmFsIiwxXQ==",
        "{}",
        r.body
    );
    // A view without `id` keeps its natural cursors; one with it is ordered by it.
    let edges = &r.data()["allSaleKeys"]["edges"];
    // `["view_unique_key_asc",[2]]`
    assert_eq!(
        edges[1]["cursor"], "WyJ2aWV3X3VuaXF1ZV9rZXlfYXNjIixbMl1d",
        "{}",
        r.body
    );
    let r = app
        .gql(
            "query($a: Cursor) { allSaleKeys: allUntaggedKeys(first: 2, after: $a) { nodes { id } } }",
            json!({"a": edges[1]["cursor"]}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["allSaleKeys"]["nodes"],
        json!([{"id": 3}, {"id": 4}]),
        "{}",
        r.body
    );
}

const TYPES: &str = include_str!("fixtures/v4_types.sql");

#[tokio::test]
async fn dynamic_json_arguments_take_inline_object_and_list_literals() {
    let flags = SchemaFlags {
        dynamic_json: true,
        ..SchemaFlags::default()
    };
    let app = app(TYPES, flags).await;
    // v4 (4.14, `-j`) answers these exactly so.
    let r = app
        .gql(
            r#"{ a: jsonEcho(j: {a: [1, 2.5, "x", null, true], b: {c: "d"}})
                 b: jsonEcho(j: [1, {x: 1}]) c: jsonEcho(j: "str") d: jsonEcho(j: 5)
                 e: jsonKeys(j: [{a: 1}, [2], 3]) g: jsonKeys(j: {a: 1}) }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"data": {"a": {"a": [1, 2.5, "x", null, true], "b": {"c": "d"}},
            "b": [1, {"x": 1}], "c": "str", "d": 5, "e": 3, "g": 1}})
    );
    let r = app
        .gql(
            "mutation { createDocument(input: {document: {id: 1, body: {k: [1, {z: null}]}, extra: [true, false]}}) { document { id body extra } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"createDocument": {"document":
            {"id": 1, "body": {"k": [1, {"z": null}]}, "extra": [true, false]}}}}),
    );
    let rows = app.sql("select id, body from app_public.documents").await;
    assert_eq!(rows, [json!({"id": 1, "body": {"k": [1, {"z": null}]}})]);
    // Other errors of such a document are still found.
    let r = app
        .gql("{ jsonEcho(j: {a: 1}) nope }", json!({}), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("nope"));
    // A variable inside an inline literal is not taken (v4 takes it): a clear refusal.
    let r = app
        .gql(
            "query($x: Int) { jsonEcho(j: {a: $x}) }",
            json!({"x": 7}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("$x"));
    // Without --dynamic-json, JSON is a string: an object literal is refused, as in v4.
    let app = self::app(TYPES, SchemaFlags::default()).await;
    let r = app.gql("{ jsonEcho(j: {a: 1}) }", json!({}), None).await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn geometric_types_are_objects_with_the_flag() {
    let flags = SchemaFlags {
        pg_geometric_types: true,
        ..SchemaFlags::default()
    };
    let app = app(TYPES, flags).await;
    // v4 (4.14, `pgGeometricTypes: true`) answers these exactly so.
    let read = r#"{ allShapes(orderBy: ID_ASC) { nodes { id p { x y } l { a { x y } b { x y } } s { a { x y } b { x y } } b { __typename a { x y } b { x y } } pa { points { x y } isOpen } po { points { x y } } c { center { x y } radius } } } }"#;
    let r = app.gql(read, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"data":{"allShapes":{"nodes":[{"id":1,"p":{"x":1,"y":2},"l":{"a":{"x":0,"y":0},"b":{"x":0,"y":0}},"s":{"a":{"x":0,"y":0},"b":{"x":1,"y":1}},"b":{"__typename":"Box","a":{"x":2,"y":2},"b":{"x":0,"y":0}},"pa":{"points":[{"x":0,"y":0},{"x":1,"y":0},{"x":1,"y":1}],"isOpen":true},"po":{"points":[{"x":0,"y":0},{"x":2,"y":0},{"x":2,"y":2}]},"c":{"center":{"x":1,"y":1},"radius":5}},{"id":2,"p":null,"l":null,"s":null,"b":null,"pa":{"points":[{"x":0,"y":0},{"x":1,"y":1}],"isOpen":false},"po":null,"c":null}]}}})
    );
    let write = r#"mutation { createShape(input: {shape: {id: 3, l: {a: {x: 0, y: 1}, b: {x: 1, y: 2}}, s: {a: {x: 1, y: 1}, b: {x: 2, y: 3}}, b: {a: {x: 0, y: 0}, b: {x: 3, y: 4}}, pa: {points: [{x: 0, y: 0}, {x: 1, y: 1}], isOpen: true}, po: {points: [{x: 0, y: 0}, {x: 1, y: 0}, {x: 0, y: 1}]}, c: {center: {x: 1, y: 2}, radius: 3.5}}}) { shape { id l { a { x y } b { x y } } s { a { x y } b { x y } } b { a { x y } b { x y } } pa { points { x y } isOpen } po { points { x y } } c { center { x y } radius } } } }"#;
    let r = app.gql(write, json!({}), None).await;
    assert_eq!(
        r.body,
        json!({"data":{"createShape":{"shape":{"id":3,"l":{"a":{"x":-1,"y":0},"b":{"x":0,"y":1}},"s":{"a":{"x":1,"y":1},"b":{"x":2,"y":3}},"b":{"a":{"x":3,"y":4},"b":{"x":0,"y":0}},"pa":{"points":[{"x":0,"y":0},{"x":1,"y":1}],"isOpen":true},"po":{"points":[{"x":0,"y":0},{"x":1,"y":0},{"x":0,"y":1}]},"c":{"center":{"x":1,"y":2},"radius":3.5}}}}})
    );
    let rows = app
        .sql("select l::text as l, s::text as s, b::text as b, pa::text as pa, po::text as po, c::text as c from app_public.shapes where id = 3")
        .await;
    assert_eq!(
        rows,
        [
            json!({"l": "{1,-1,1}", "s": "[(1,1),(2,3)]", "b": "(3,4),(0,0)", "pa": "[(0,0),(1,1)]",
                "po": "((0,0),(1,0),(0,1))", "c": "<(1,2),3.5>"})
        ]
    );
    // A shape missing a point is refused with a clear error, not a panic.
    let r = app
        .gql("mutation { createShape(input: {shape: {id: 4, s: {a: {x: 1, y: 1}}}}) { shape { id } } }", json!({}), None)
        .await;
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("LineSegment"),
        "{}",
        r.body
    );
    // A table named like a geometric type keeps the name; that type stays a string (v4
    // refuses to start).
    let app = self::app(
        concat!(
            include_str!("fixtures/v4_types.sql"),
            "create table app_public.boxes (id int primary key);
             grant select on app_public.boxes to app_anonymous;"
        ),
        SchemaFlags {
            pg_geometric_types: true,
            ..SchemaFlags::default()
        },
    )
    .await;
    let r = app
        .gql(
            "{ allShapes(condition: {id: 1}) { nodes { b s { a { x } } } } allBoxes { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"allShapes": {"nodes": [{"b": "(2,2),(0,0)", "s": {"a": {"x": 0}}}]},
            "allBoxes": {"totalCount": 0}}})
    );
    // Without the flag they are strings, as in v4 by default.
    let app = self::app(TYPES, SchemaFlags::default()).await;
    let r = app
        .gql(
            "{ allShapes(condition: {id: 1}) { nodes { l s b c } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"allShapes": {"nodes": [{"l": "{1,-1,0}", "s": "[(0,0),(1,1)]", "b": "(2,2),(0,0)", "c": "<(1,1),5>"}]}}})
    );
}
