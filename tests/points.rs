//! Postgres `point` as PostGraphile v4 has it: the `Point { x y }` object out, `PointInput`
//! in (create, update, condition), lists of points; and a domain over a composite type read
//! as its base type.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::{json, Value};

const SETUP: &str = r#"
create type app_public.pair as (label text, amount int);
create domain app_public.checked_pair as app_public.pair check ((value).amount >= 0);
create table app_public.places (
  id int primary key,
  spot point,
  route point[],
  pair app_public.checked_pair,
  edge line
);
grant select, insert, update on app_public.places to app_anonymous;
insert into app_public.places values
  (1, '(1.5,-2)', '{"(0,0)","(3,4)"}', '("a",1)', '{1,-1,0}'),
  (2, null, null, null, null);
"#;

async fn fixture() -> TestApp {
    app_with(Options {
        setup_sql: Some(SETUP),
        ..Options::default()
    })
    .await
}

fn ok(r: &common::Reply) -> &Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    r.data()
}

#[tokio::test]
async fn points_read_back_as_v4_point_objects() {
    let app = fixture().await;
    let r = app
        .gql(
            "{ allPlaces(orderBy: ID_ASC) { nodes { id spot { __typename x y } route { x y } edge } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allPlaces"]["nodes"],
        json!([
            {"id": 1, "spot": {"__typename": "Point", "x": 1.5, "y": -2},
             "route": [{"x": 0, "y": 0}, {"x": 3, "y": 4}], "edge": "{1,-1,0}"},
            {"id": 2, "spot": null, "route": null, "edge": null},
        ])
    );
    // v4's types: `Point` and `PointInput` of two non-null floats; other geometric types stay
    // strings, as in v4 by default.
    let r = app
        .gql(
            r#"{ p: __type(name: "Point") { kind fields { name type { kind ofType { name } } } }
                 i: __type(name: "PointInput") { kind inputFields { name type { kind ofType { name } } } }
                 l: __type(name: "Line") { name } }"#,
            json!({}),
            None,
        )
        .await;
    let float = json!({"kind": "NON_NULL", "ofType": {"name": "Float"}});
    assert_eq!(
        ok(&r)["p"],
        json!({"kind": "OBJECT", "fields": [{"name": "x", "type": float}, {"name": "y", "type": float}]})
    );
    assert_eq!(
        ok(&r)["i"],
        json!({"kind": "INPUT_OBJECT", "inputFields": [{"name": "x", "type": float}, {"name": "y", "type": float}]})
    );
    assert!(ok(&r)["l"].is_null());

    // An order on a point column pages by cursor.
    let q = "query($after: Cursor) { allPlaces(orderBy: SPOT_ASC, first: 1, after: $after) { nodes { id } pageInfo { endCursor } } }";
    let r = app.gql(q, json!({}), None).await;
    assert_eq!(ok(&r)["allPlaces"]["nodes"], json!([{"id": 1}]));
    let after = ok(&r)["allPlaces"]["pageInfo"]["endCursor"].clone();
    let r = app.gql(q, json!({ "after": after }), None).await;
    assert_eq!(ok(&r)["allPlaces"]["nodes"], json!([{"id": 2}]));
}

#[tokio::test]
async fn points_are_written_and_matched_with_point_input() {
    let app = fixture().await;
    let create = "mutation($p: PointInput, $r: [PointInput]) { createPlace(input: {place: {id: 3, spot: $p, route: $r}}) { place { spot { x y } route { x y } } } }";
    let r = app
        .gql(
            create,
            json!({"p": {"x": 7, "y": -0.25}, "r": [{"x": 1, "y": 2}]}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["createPlace"]["place"],
        json!({"spot": {"x": 7, "y": -0.25}, "route": [{"x": 1, "y": 2}]})
    );
    let held = app
        .sql("select spot::text as s, route::text as r from app_public.places where id = 3")
        .await;
    assert_eq!(held[0]["s"], "(7,-0.25)");
    assert_eq!(held[0]["r"], "{\"(1,2)\"}");

    let update = "mutation($p: PointInput) { updatePlaceById(input: {id: 2, placePatch: {spot: $p}}) { place { spot { x y } } } }";
    let r = app
        .gql(update, json!({"p": {"x": 0.5, "y": 9}}), None)
        .await;
    assert_eq!(
        ok(&r)["updatePlaceById"]["place"]["spot"],
        json!({"x": 0.5, "y": 9})
    );

    // A point missing a coordinate is refused, and nothing changes.
    let r = app.gql(update, json!({"p": {"x": 1}}), None).await;
    assert!(r.errors().is_some(), "{}", r.body);
    let held = app
        .sql("select spot::text as s from app_public.places where id = 2")
        .await;
    assert_eq!(held[0]["s"], "(0.5,9)");

    // A condition takes a PointInput.
    let r = app
        .gql(
            "{ allPlaces(condition: {spot: {x: 1.5, y: -2}}) { nodes { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(ok(&r)["allPlaces"]["nodes"], json!([{"id": 1}]));
}

#[tokio::test]
async fn a_domain_over_a_composite_type_reads_as_its_base_type() {
    let app = fixture().await;
    let r = app
        .gql(
            "{ placeById(id: 1) { pair { label amount } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["placeById"]["pair"],
        json!({"label": "a", "amount": 1})
    );
}
