//! Aggregates as `@graphile/pg-aggregates` 0.1 has them: `aggregates` on connections (every
//! aggregate over every numeric type, NULLs, empty sets, computed columns with arguments,
//! conditions followed and paging ignored, at depth, under RLS), `groupedAggregates` with
//! truncation and `having`, and ordering and paging by related rows' aggregates.

mod common;

use common::{app_with, claims, Options, TestApp};
use serde_json::{json, Value};

const SETUP: &str = r#"
create table app_public.readings (
  id serial primary key,
  station text not null,
  taken_at timestamptz not null,
  small int2,
  whole int4,
  big int8,
  exact numeric,
  single float4,
  double float8
);
create function app_public.readings_scaled(r app_public.readings, factor int) returns int
  language sql stable as $$ select r.whole * factor $$;
grant select on app_public.readings to app_anonymous;
grant execute on function app_public.readings_scaled(app_public.readings, int) to app_anonymous;
create function app_public.north_readings() returns setof app_public.readings
  language sql stable as $$ select * from app_public.readings where station = 'north' $$;
grant execute on function app_public.north_readings() to app_anonymous;
create table app_public.notes (id int primary key, doc json, spot point, secret int);
comment on column app_public.notes.secret is E'@omit read';
grant select on app_public.notes to app_anonymous;
insert into app_public.notes values
  (1, '{"a": 1}', '(1,2)', 5), (2, '{"a":1}', '(1,2)', 6), (3, '[]', null, 7);
create view app_public.note_links as
  select n.id as link_id, n.id % 2 + 1 as note_id from app_public.notes n;
comment on view app_public.note_links is
  E'@foreignKey (note_id) references app_public.notes (id)';
grant select on app_public.note_links to app_anonymous;
create function app_private.add_reading(station text, double float8, single float4) returns int
  language sql volatile as $$
    insert into app_public.readings (station, taken_at, double, single)
      values (station, '2024-02-01 00:00:00+00', double, single)
    returning id $$;
create function app_private.add_post(author int, title text, published bool) returns int
  language sql volatile as $$
    insert into app_public.posts (author_id, title, published) values (author, title, published)
    returning id $$;
insert into app_public.readings (station, taken_at, small, whole, big, exact, single, double) values
  ('north', '2024-01-01 10:15:00+00', 1, 10, 9007199254740993, 1.5, 0.5, 2.25),
  ('north', '2024-01-01 10:45:00+00', 3, 20, 9007199254740993, 2.25, 1.5, 4.5),
  ('south', '2024-01-01 11:05:00+00', null, 30, null, null, null, null),
  ('south', '2024-01-02 09:00:00+00', 5, null, 7, 0.125, 2, -1);
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
async fn every_aggregate_over_every_numeric_type_with_nulls() {
    let app = fixture().await;
    let cols = "small whole big exact single double";
    let q = format!(
        "{{ allReadings {{ aggregates {{
            sum {{ {cols} }} distinctCount {{ {cols} station takenAt }} min {{ {cols} }} max {{ {cols} }}
            average {{ {cols} }} stddevSample {{ whole double }} stddevPopulation {{ whole }}
            varianceSample {{ whole exact }} variancePopulation {{ whole single }} }} }} }}"
    );
    let r = app.gql(&q, json!({}), None).await;
    let a = &ok(&r)["allReadings"]["aggregates"];
    // int2/int4 sum to BigInt, int8/numeric to BigFloat (strings, exact), floats stay Float.
    assert_eq!(
        a["sum"],
        json!({"small": "9", "whole": "60", "big": "18014398509481993", "exact": "3.875",
               "single": 4, "double": 5.75})
    );
    assert_eq!(
        a["distinctCount"],
        json!({"small": "3", "whole": "3", "big": "2", "exact": "3", "single": "3",
               "double": "3", "station": "2", "takenAt": "4"})
    );
    // min and max keep the column's type.
    assert_eq!(
        a["min"],
        json!({"small": 1, "whole": 10, "big": "7", "exact": "0.125", "single": 0.5, "double": -1})
    );
    assert_eq!(
        a["max"],
        json!({"small": 5, "whole": 30, "big": "9007199254740993", "exact": "2.25",
               "single": 2, "double": 4.5})
    );
    // Averages of integers and numerics are exact decimals.
    assert_eq!(a["average"]["whole"], json!("20.0000000000000000"));
    assert_eq!(a["average"]["small"], json!("3.0000000000000000"));
    assert_eq!(a["average"]["big"], json!("6004799503160664.3333"));
    assert_eq!(a["average"]["double"], json!(1.9166666666666667));
    assert_eq!(a["stddevSample"]["whole"], json!("10.0000000000000000"));
    assert_eq!(a["varianceSample"]["whole"], json!("100.0000000000000000"));
    assert_eq!(
        a["variancePopulation"]["single"],
        json!(0.38888888888888884)
    );
    assert!(a["stddevSample"]["double"].is_f64());
}

#[tokio::test]
async fn empty_sets_conditions_paging_and_computed_columns() {
    let app = fixture().await;
    // No rows: sum is 0, the others null.
    let r = app
        .gql(
            r#"{ allReadings(condition: {station: "east"}) { aggregates { sum { whole big double } min { whole } average { exact } distinctCount { id } } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"]["aggregates"],
        json!({"sum": {"whole": "0", "big": "0", "double": 0}, "min": {"whole": null},
               "average": {"exact": null}, "distinctCount": {"id": "0"}})
    );
    // The condition is followed; first/offset/orderBy are not.
    let r = app
        .gql(
            r#"{ allReadings(condition: {station: "north"}, first: 1, offset: 1, orderBy: WHOLE_DESC) {
                   nodes { whole }
                   aggregates { __typename keys sum { __typename whole scaled(factor: 3) } max { scaled(factor: -1) } } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"],
        json!({"nodes": [{"whole": 10}],
               "aggregates": {"__typename": "ReadingAggregates", "keys": null,
                              "sum": {"__typename": "ReadingSumAggregates", "whole": "30", "scaled": "90"},
                              "max": {"scaled": -10}}})
    );
    // A computed column's argument from a variable.
    let r = app
        .gql(
            "query($f: Int) { allReadings { aggregates { sum { scaled(factor: $f) } } } }",
            json!({"f": 2}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"]["aggregates"]["sum"]["scaled"],
        json!("120")
    );
}

#[tokio::test]
async fn grouped_aggregates_with_truncation_and_having() {
    let app = fixture().await;
    let r = app
        .gql(
            "{ allReadings { groupedAggregates(groupBy: [STATION]) { keys sum { whole } distinctCount { id } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"]["groupedAggregates"],
        json!([
            {"keys": ["north"], "sum": {"whole": "30"}, "distinctCount": {"id": "2"}},
            {"keys": ["south"], "sum": {"whole": "30"}, "distinctCount": {"id": "2"}},
        ])
    );
    // Truncated timestamps: keys are Postgres' text of the truncated value (UTC sessions).
    let r = app
        .gql(
            "{ allReadings { groupedAggregates(groupBy: [TAKEN_AT_TRUNCATED_TO_DAY, STATION]) { keys sum { small } } } }",
            json!({}),
            None,
        )
        .await;
    let groups = ok(&r)["allReadings"]["groupedAggregates"].clone();
    assert_eq!(groups.as_array().map(Vec::len), Some(3), "{groups}");
    assert_eq!(groups[0]["sum"], json!({"small": "4"}));
    assert_eq!(groups[0]["keys"][1], json!("north"));
    assert!(groups[0]["keys"][0]
        .as_str()
        .is_some_and(|k| k.starts_with("2024-01-01 00:00:00")));
    let r = app
        .gql(
            "{ allReadings { groupedAggregates(groupBy: [TAKEN_AT_TRUNCATED_TO_HOUR]) { keys distinctCount { id } } } }",
            json!({}),
            None,
        )
        .await;
    let counts: Vec<&str> = ok(&r)["allReadings"]["groupedAggregates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["distinctCount"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(counts, ["2", "1", "1"]);

    // having: per aggregate, per column, with AND/OR, and computed columns with arguments.
    let r = app
        .gql(
            r#"query($min: Int) { allReadings { groupedAggregates(groupBy: [STATION],
                 having: {OR: [{sum: {small: {greaterThan: $min}}}, {max: {double: {greaterThanOrEqualTo: 4}}}]}) { keys } } }"#,
            json!({"min": 4}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"]["groupedAggregates"],
        json!([{"keys": ["north"]}, {"keys": ["south"]}])
    );
    let r = app
        .gql(
            r#"{ allReadings { groupedAggregates(groupBy: [STATION],
                 having: {AND: [{sum: {small: {greaterThan: 4}}}], average: {scaled: {args: {factor: 2}, filter: {lessThan: 50}}}}) { keys } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(ok(&r)["allReadings"]["groupedAggregates"], json!([]));
    let r = app
        .gql(
            r#"{ allReadings { groupedAggregates(groupBy: [STATION],
                 having: {average: {scaled: {args: {factor: 2}, filter: {greaterThan: 50}}}}) { keys } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"]["groupedAggregates"],
        json!([{"keys": ["south"]}])
    );

    // having without groupBy is an error, not a panic nor a silent answer.
    let r = app
        .gql(
            "{ allReadings { groupedAggregates(groupBy: [], having: {sum: {whole: {equalTo: 1}}}) { keys } } }",
            json!({}),
            None,
        )
        .await;
    let message = r.errors().expect("an error")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("having without also providing groupBy"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn rls_decides_what_aggregates_count_and_nesting_stays_one_statement() {
    let app = fixture().await;
    let token = app.signup("alice").await;
    let alice = claims(&token)["user_id"].as_i64().unwrap();
    app.sql(&format!(
        "select app_private.add_post({alice}, 'public', true)
         union all select app_private.add_post({alice}, 'draft one', false)
         union all select app_private.add_post({alice}, 'draft two', false)"
    ))
    .await;
    let q = "{ allPosts { aggregates { distinctCount { id } } }
               allUsers { nodes { username postsByAuthorId { totalCount aggregates { distinctCount { title } max { id } } } } } }";
    let anonymous = app.gql(q, json!({}), None).await;
    let own = app.gql(q, json!({}), Some(&token)).await;
    assert_eq!(
        ok(&anonymous)["allPosts"]["aggregates"]["distinctCount"]["id"],
        json!("1")
    );
    assert_eq!(
        ok(&own)["allPosts"]["aggregates"]["distinctCount"]["id"],
        json!("3")
    );
    let nested = |r: &Value| r["allUsers"]["nodes"][0]["postsByAuthorId"].clone();
    assert_eq!(nested(ok(&anonymous))["totalCount"], json!(1));
    assert_eq!(
        nested(ok(&anonymous))["aggregates"]["distinctCount"]["title"],
        json!("1")
    );
    assert_eq!(
        nested(ok(&own))["aggregates"]["distinctCount"]["title"],
        json!("3")
    );
    let before = app.statement_count("%json_build_object%").await;
    app.gql(q, json!({}), None).await;
    // Two root fields, two statements: aggregates are subqueries, not round trips.
    assert_eq!(app.statement_count("%json_build_object%").await - before, 2);
}

#[tokio::test]
async fn order_and_page_by_related_aggregates() {
    let app = fixture().await;
    let users = ["ann", "bob", "cid"];
    let mut ids = vec![];
    for u in users {
        let token = app.signup(u).await;
        ids.push(claims(&token)["user_id"].as_i64().unwrap());
    }
    // bob 3 posts, cid 2, ann 1; all published.
    for (i, n) in [(0, 1), (1, 3), (2, 2)] {
        for k in 0..n {
            app.sql(&format!(
                "select app_private.add_post({}, 'p{k}', true)",
                ids[i]
            ))
            .await;
        }
    }
    let r = app
        .gql(
            "{ allUsers(orderBy: POSTS_BY_AUTHOR_ID_COUNT_DESC) { nodes { username postsByAuthorId { aggregates { distinctCount { id } } } } } }",
            json!({}),
            None,
        )
        .await;
    let names: Vec<&str> = ok(&r)["allUsers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob", "cid", "ann"]);
    assert_eq!(
        ok(&r)["allUsers"]["nodes"][0]["postsByAuthorId"]["aggregates"]["distinctCount"]["id"],
        json!("3")
    );
    // Paging by cursor in that order, and an aggregate of a column as the order.
    let page = "query($after: Cursor) { allUsers(first: 1, after: $after, orderBy: [POSTS_BY_AUTHOR_ID_DISTINCT_COUNT_ID_ASC]) {
                  edges { cursor node { username } } } }";
    let mut seen = vec![];
    let mut after = Value::Null;
    for _ in 0..3 {
        let r = app.gql(page, json!({"after": after}), None).await;
        let edge = ok(&r)["allUsers"]["edges"][0].clone();
        seen.push(edge["node"]["username"].as_str().unwrap().to_string());
        after = edge["cursor"].clone();
    }
    assert_eq!(seen, ["ann", "cid", "bob"]);
    // The cursor names the order as pg-aggregates does (upper case), so v4 cursors page here.
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD
        .decode(after.as_str().unwrap())
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text)
            .starts_with(r#"["POSTS_BY_AUTHOR_ID_DISTINCT_COUNT_ID_ASC",[3,"#),
        "{}",
        String::from_utf8_lossy(&text)
    );
    let r = app.gql(page, json!({"after": after}), None).await;
    assert_eq!(ok(&r)["allUsers"]["edges"], json!([]));
}

#[tokio::test]
async fn aggregates_off_and_opt_in() {
    let off = app_with(Options {
        setup_sql: Some(
            "create table app_public.quiet (id int primary key, n int);
             comment on table app_public.quiet is E'@aggregates off';
             grant select on app_public.quiet to app_anonymous;",
        ),
        ..Options::default()
    })
    .await;
    let r = off
        .gql(
            r#"{ q: __type(name: "QuietsConnection") { fields { name } } p: __type(name: "PostsConnection") { fields { name } } }"#,
            json!({}),
            None,
        )
        .await;
    let names = |v: &Value| -> Vec<String> {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!names(&ok(&r)["q"]).contains(&"aggregates".to_string()));
    assert!(names(&ok(&r)["p"]).contains(&"aggregates".to_string()));
    assert!(names(&ok(&r)["p"]).contains(&"groupedAggregates".to_string()));

    let flags = postgraph::schema::SchemaFlags {
        aggregates_opt_in: true,
        ..Default::default()
    };
    let opt_in = app_with(Options {
        setup_sql: Some(
            "create table app_public.loud (id int primary key, n int);
             comment on table app_public.loud is E'@aggregates on';
             grant select on app_public.loud to app_anonymous;",
        ),
        schema_flags: flags,
        ..Options::default()
    })
    .await;
    let r = opt_in
        .gql(
            r#"{ l: __type(name: "LoudsConnection") { fields { name } } p: __type(name: "PostsConnection") { fields { name } } }"#,
            json!({}),
            None,
        )
        .await;
    assert!(names(&ok(&r)["l"]).contains(&"aggregates".to_string()));
    assert!(!names(&ok(&r)["p"]).contains(&"aggregates".to_string()));
    let r = opt_in
        .gql("{ allLouds { aggregates { sum { n } } } }", json!({}), None)
        .await;
    assert_eq!(ok(&r)["allLouds"]["aggregates"]["sum"]["n"], json!("0"));
}

#[tokio::test]
async fn functions_odd_types_omit_and_smart_tag_relations() {
    let app = fixture().await;
    // A set-returning function's connection, computed columns over its rows included.
    let r = app
        .gql(
            "{ northReadings(first: 1) { nodes { id } aggregates { sum { whole scaled(factor: 2) } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["northReadings"]["aggregates"],
        json!({"sum": {"whole": "30", "scaled": "60"}})
    );
    // json and point have no `=`: counted and grouped by a comparable cast, not an error.
    let r = app
        .gql(
            "{ allNotes { aggregates { distinctCount { doc spot } }
                          groupedAggregates(groupBy: [DOC]) { keys distinctCount { id } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allNotes"],
        json!({"aggregates": {"distinctCount": {"doc": "2", "spot": "1"}},
               "groupedAggregates": [
                   {"keys": ["[]"], "distinctCount": {"id": "1"}},
                   {"keys": ["{\"a\": 1}"], "distinctCount": {"id": "2"}}]})
    );
    // An `@omit read` column is in no aggregate.
    let r = app
        .gql(
            "{ allNotes { aggregates { sum { secret } } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    // A `@foreignKey` smart tag relation orders by its rows' count (note 2 has two links).
    let r = app
        .gql(
            "{ allNotes(orderBy: [NOTE_LINKS_BY_NOTE_ID_COUNT_DESC, ID_ASC]) { nodes { id noteLinksByNoteId { aggregates { distinctCount { linkId } } } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allNotes"]["nodes"],
        json!([
            {"id": 2, "noteLinksByNoteId": {"aggregates": {"distinctCount": {"linkId": "2"}}}},
            {"id": 1, "noteLinksByNoteId": {"aggregates": {"distinctCount": {"linkId": "1"}}}},
            {"id": 3, "noteLinksByNoteId": {"aggregates": {"distinctCount": {"linkId": "0"}}}},
        ])
    );
}

#[tokio::test]
async fn aggregates_count_toward_the_query_limits() {
    let app = app_with(Options {
        setup_sql: Some(SETUP),
        limits: postgraph::graphql::limits::Limits {
            max_depth: 3,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ allReadings { aggregates { sum { whole } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .gql("{ allReadings { totalCount } }", json!({}), None)
        .await;
    ok(&r);
}

#[tokio::test]
async fn grouped_aggregates_past_the_groups_cap_are_an_error() {
    let app = app_with(Options {
        setup_sql: Some(SETUP),
        max_groups: Some(2),
        ..Options::default()
    })
    .await;
    // Two stations: within the cap.
    let r = app
        .gql(
            "{ allReadings { groupedAggregates(groupBy: [STATION]) { keys } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"]["groupedAggregates"],
        json!([{"keys": ["north"]}, {"keys": ["south"]}])
    );
    // Four readings times: a field error, never a cut list; the other root field resolves.
    let r = app
        .gql(
            "{ allReadings { groupedAggregates(groupBy: [TAKEN_AT]) { keys } } n: allReadings { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["allReadings"], Value::Null);
    assert_eq!(r.data()["n"]["totalCount"], json!(4));
    let e = &r.errors().expect("an error")[0];
    assert_eq!(e["extensions"]["code"], json!("TOO_MANY_GROUPS"));
    assert_eq!(e["path"], json!(["allReadings", "groupedAggregates"]));
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("more than 2 groups"));
    // The cap counts the groups `having` keeps.
    let r = app
        .gql(
            r#"{ allReadings { groupedAggregates(groupBy: [TAKEN_AT], having: {sum: {whole: {greaterThan: 15}}}) { keys } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["allReadings"]["groupedAggregates"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn non_finite_float_aggregates_are_field_errors() {
    let app = fixture().await;
    app.sql(
        "select 1 from (select app_private.add_reading('west', 'NaN', 'Infinity')
                        union all select app_private.add_reading('west', '1', '2')) as x",
    )
    .await;
    let r = app
        .gql(
            r#"{ allReadings(condition: {station: "west"}) {
                   aggregates { sum { double } max { single } min { double single } distinctCount { double } }
                   groupedAggregates(groupBy: [STATION]) { average { single } } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // `sum.double` is `Float!`: its object is null; nullable floats are null themselves.
    assert_eq!(
        r.data()["allReadings"],
        json!({"aggregates": {"sum": null, "max": {"single": null}, "min": {"double": 1, "single": 2},
                              "distinctCount": {"double": "2"}},
               "groupedAggregates": [{"average": {"single": null}}]})
    );
    let errors: Vec<(Value, Value)> = r
        .errors()
        .expect("errors")
        .iter()
        .map(|e| (e["message"].clone(), e["path"].clone()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                json!("Float cannot represent non numeric value: \"NaN\""),
                json!(["allReadings", "aggregates", "sum", "double"])
            ),
            (
                json!("Float cannot represent non numeric value: \"Infinity\""),
                json!(["allReadings", "aggregates", "max", "single"])
            ),
            (
                json!("Float cannot represent non numeric value: \"Infinity\""),
                json!(["allReadings", "groupedAggregates", 0, "average", "single"])
            ),
        ]
    );
}
