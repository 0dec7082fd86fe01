//! `condition` and `orderBy` on array and composite columns, as PostGraphile v4 has them:
//! equality of the whole value, ordering element by element, and cursors over such columns
//! that page forwards and backwards.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::{json, Value};

const SETUP: &str = concat!(
    include_str!("fixtures/json_values.sql"),
    r#"
insert into app_public.samples (id, ints, pair) values
  (1, '{1,2}', '(a,1)'), (2, '{1,2}', '(b,2)'), (3, '{3}', '(a,1)'), (4, null, null);
"#
);

async fn fixture() -> TestApp {
    app_with(Options {
        setup_sql: Some(SETUP),
        ..Options::default()
    })
    .await
}

/// One page of `allSamples` in `order`: the ids and the start and end cursors.
async fn page(app: &TestApp, order: &str, args: &str) -> (Vec<i64>, Value, Value) {
    let q = format!(
        "{{ allSamples(orderBy: [{order}], {args}) {{ nodes {{ id }} pageInfo {{ startCursor endCursor }} }} }}"
    );
    let r = app.gql(&q, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    let c = &r.data()["allSamples"];
    let ids = c["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    (
        ids,
        c["pageInfo"]["startCursor"].clone(),
        c["pageInfo"]["endCursor"].clone(),
    )
}

async fn ids_where(app: &TestApp, condition: &str) -> Vec<i64> {
    let q = format!("{{ allSamples(condition: {condition}) {{ nodes {{ id }} }} }}");
    let r = app.gql(&q, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    r.data()["allSamples"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn condition_on_an_array_and_a_composite_column_matches_whole_values() {
    let app = fixture().await;
    assert_eq!(ids_where(&app, "{ints: [1, 2]}").await, vec![1, 2]);
    assert_eq!(ids_where(&app, "{ints: [2, 1]}").await, Vec::<i64>::new());
    assert_eq!(ids_where(&app, "{ints: null}").await, vec![4]);
    assert_eq!(
        ids_where(&app, r#"{pair: {label: "a", amount: "1.0"}}"#).await,
        vec![1, 3]
    );
    // The same through variables.
    let r = app
        .gql(
            "query($p: PairInput, $i: [Int]) { allSamples(condition: {pair: $p, ints: $i}) { nodes { id } } }",
            json!({"p": {"label": "b", "amount": "2"}, "i": [1, 2]}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(r.data()["allSamples"]["nodes"], json!([{"id": 2}]));
}

#[tokio::test]
async fn order_by_array_and_composite_columns_pages_with_cursors_both_ways() {
    let app = fixture().await;
    // Ties broken by the primary key, nulls last.
    let (ids, _, end) = page(&app, "INTS_ASC", "first: 2").await;
    assert_eq!(ids, vec![1, 2]);
    let (ids, start, _) = page(&app, "INTS_ASC", &format!("first: 2, after: {end}")).await;
    assert_eq!(ids, vec![3, 4]);
    let (ids, _, _) = page(&app, "INTS_ASC", &format!("last: 2, before: {start}")).await;
    assert_eq!(ids, vec![1, 2]);

    // A composite compares attribute by attribute (nulls last, as for every column).
    let (ids, _, _) = page(&app, "PAIR_DESC", "first: 4").await;
    assert_eq!(ids, vec![2, 1, 3, 4]);
    let (ids, _, end) = page(&app, "PAIR_DESC", "first: 2").await;
    assert_eq!(ids, vec![2, 1]);
    let (ids, start, _) = page(&app, "PAIR_DESC", &format!("first: 2, after: {end}")).await;
    assert_eq!(ids, vec![3, 4]);
    let (ids, _, _) = page(&app, "PAIR_DESC", &format!("last: 1, before: {start}")).await;
    assert_eq!(ids, vec![1]);

    // Several at once, the array first, the composite breaking its ties.
    let (ids, _, end) = page(&app, "INTS_DESC, PAIR_ASC", "first: 2").await;
    assert_eq!(ids, vec![3, 1]);
    let (ids, _, _) = page(&app, "INTS_DESC, PAIR_ASC", &format!("after: {end}")).await;
    assert_eq!(ids, vec![2, 4]);
}
