//! Aggregates of related rows beyond the connection's own: filtering by them
//! (`filter: {postsByAuthorId: {aggregates: ...}}`, pg-aggregates' connection-filter
//! integration, under two roles) and ordering by them through the grouped join (conditions,
//! both directions, cursors, page info, zero and null aggregates, nested connections).

mod common;

use common::{app_with, claims, Options, TestApp};
use serde_json::{json, Value};

const SETUP: &str = r#"
create function app_private.add_post(author int, title text, published bool) returns int
  language sql volatile as $$
    insert into app_public.posts (author_id, title, published) values (author, title, published)
    returning id $$;
create table app_public.comments (
  id serial primary key,
  post_id int not null references app_public.posts (id),
  stars int
);
create index on app_public.comments (post_id);
create function app_private.add_comment(post_title text, stars int) returns int
  language sql volatile as $$
    insert into app_public.comments (post_id, stars)
      select id, stars from app_public.posts where title = post_title
    returning id $$;
grant select on app_public.comments to app_anonymous;
"#;

async fn fixture() -> TestApp {
    let mut flags = postgraph::schema::SchemaFlags::default();
    flags.filter.relations = true;
    app_with(Options {
        setup_sql: Some(SETUP),
        schema_flags: flags,
        ..Options::default()
    })
    .await
}

fn ok(r: &common::Reply) -> &Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    r.data()
}

/// ann: 1 published post and 2 drafts; bob: 3 published; cid: none. Returns ann's token and
/// the users' ids.
async fn forum(app: &TestApp) -> (String, Vec<i64>) {
    let mut ids = vec![];
    let mut ann = String::new();
    for u in ["ann", "bob", "cid"] {
        let token = app.signup(u).await;
        ids.push(claims(&token)["user_id"].as_i64().unwrap());
        if u == "ann" {
            ann = token;
        }
    }
    for (user, title, published) in [
        (0, "a1", true),
        (0, "a2", false),
        (0, "a3", false),
        (1, "b1", true),
        (1, "b2", true),
        (1, "b3", true),
    ] {
        app.sql(&format!(
            "select app_private.add_post({}, '{title}', {published})",
            ids[user]
        ))
        .await;
    }
    (ann, ids)
}

fn usernames(v: &Value) -> Vec<String> {
    v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn filter_by_related_aggregates_under_two_roles() {
    let app = fixture().await;
    let (ann, _) = forum(&app).await;
    let users = |filter: &str| {
        format!("{{ allUsers(filter: {filter}, orderBy: ID_ASC) {{ nodes {{ username }} }} }}")
    };
    let at_least_3 = users(
        "{postsByAuthorId: {aggregates: {distinctCount: {id: {greaterThanOrEqualTo: \"3\"}}}}}",
    );
    // Row-level security decides which related rows are aggregated: ann sees her drafts.
    let r = app.gql(&at_least_3, json!({}), None).await;
    assert_eq!(usernames(&ok(&r)["allUsers"]), ["bob"]);
    let r = app.gql(&at_least_3, json!({}), Some(&ann)).await;
    assert_eq!(usernames(&ok(&r)["allUsers"]), ["ann", "bob"]);
    // `filter` chooses the rows; a sum of no rows is 0, so users without posts match too.
    let r = app
        .gql(
            &users(r#"{postsByAuthorId: {aggregates: {filter: {title: {startsWith: "b"}}, sum: {id: {equalTo: "0"}}}}}"#),
            json!({}),
            None,
        )
        .await;
    assert_eq!(usernames(&ok(&r)["allUsers"]), ["ann", "cid"]);
    // Several aggregates (all must hold), beside `some`, inside `or` and `not`.
    let r = app
        .gql(
            &users(
                r#"{or: [{postsByAuthorId: {some: {title: {equalTo: "a1"}}, aggregates: {distinctCount: {id: {lessThan: "2"}}, max: {id: {isNull: false}}}}},
                         {not: {postsByAuthorId: {aggregates: {average: {id: {isNull: false}}}}}}]}"#,
            ),
            json!({}),
            None,
        )
        .await;
    assert_eq!(usernames(&ok(&r)["allUsers"]), ["ann", "cid"]);
    // Variables carry the compared values; the plan is reused with others.
    let q = "query($n: BigInt) { allUsers(filter: {postsByAuthorId: {aggregates: {distinctCount: {id: {equalTo: $n}}}}}) { nodes { username } } }";
    let r = app.gql(q, json!({"n": "3"}), Some(&ann)).await;
    assert_eq!(usernames(&ok(&r)["allUsers"]).len(), 2);
    let r = app.gql(q, json!({"n": "0"}), Some(&ann)).await;
    assert_eq!(usernames(&ok(&r)["allUsers"]), ["cid"]);
    // Without an aggregate: the plugin's error, the root field null, its siblings resolved.
    let r = app
        .gql(
            r#"{ a: allUsers(filter: {postsByAuthorId: {aggregates: {filter: {id: {equalTo: 1}}}}}) { totalCount } b: allUsers { totalCount } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["a"], Value::Null);
    assert_eq!(r.data()["b"]["totalCount"], json!(3));
    let e = &r.errors().expect("an error")[0];
    assert_eq!(
        e["message"],
        json!("'aggregates' filter must specify at least one aggregate: 'sum', 'distinctCount', 'min', 'max', 'average', 'stddevSample', 'stddevPopulation', 'varianceSample' or 'variancePopulation').")
    );
    assert_eq!(e["extensions"]["code"], json!("INVALID_FILTER"));
    // The plugin's types: the aggregate's result type's operators per column.
    let r = app
        .gql(
            r#"{ m: __type(name: "UserToManyPostFilter") { inputFields { name } }
                 s: __type(name: "PostSumAggregateFilter") { inputFields { name type { name } } }
                 a: __type(name: "PostAverageAggregateFilter") { inputFields { name type { name } } }
                 d: __type(name: "PostDistinctCountAggregateFilter") { inputFields { name type { name } } } }"#,
            json!({}),
            None,
        )
        .await;
    let d = ok(&r);
    assert_eq!(
        d["m"]["inputFields"],
        json!([{"name": "every"}, {"name": "some"}, {"name": "none"}, {"name": "aggregates"}])
    );
    assert_eq!(
        d["s"]["inputFields"][0],
        json!({"name": "id", "type": {"name": "BigIntFilter"}})
    );
    assert_eq!(
        d["a"]["inputFields"][0],
        json!({"name": "id", "type": {"name": "BigFloatFilter"}})
    );
    assert!(d["d"]["inputFields"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "title", "type": {"name": "BigIntFilter"}})));
}

#[tokio::test]
async fn related_orders_with_conditions_both_directions_and_nesting() {
    let app = fixture().await;
    let (ann, ids) = forum(&app).await;
    // Comments on bob's posts: b1 none, b2 two, b3 one.
    app.sql(
        "select app_private.add_comment('b2', 5) union all select app_private.add_comment('b2', 3)
         union all select app_private.add_comment('b3', 4)",
    )
    .await;
    let r = app
        .gql(
            "{ allUsers(orderBy: [POSTS_BY_AUTHOR_ID_COUNT_DESC, USERNAME_ASC]) { nodes { username } } }",
            json!({}),
            Some(&ann),
        )
        .await;
    assert_eq!(usernames(&ok(&r)["allUsers"]), ["ann", "bob", "cid"]);
    // With a condition (the grouped rows restricted to the users it admits), from the end.
    let r = app
        .gql(
            r#"{ allUsers(filter: {username: {in: ["ann", "cid"]}}, orderBy: POSTS_BY_AUTHOR_ID_COUNT_ASC, last: 1) {
                   nodes { username } pageInfo { hasPreviousPage hasNextPage } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(usernames(&ok(&r)["allUsers"]), ["ann"]);
    assert_eq!(
        ok(&r)["allUsers"]["pageInfo"],
        json!({"hasPreviousPage": true, "hasNextPage": false})
    );
    // A maximum of no rows is null, sorted last either way; cursors page through it.
    let page = "query($after: Cursor) { allUsers(first: 1, after: $after, orderBy: POSTS_BY_AUTHOR_ID_MAX_ID_DESC) {
                  edges { cursor node { username } } pageInfo { hasNextPage } } }";
    let (mut seen, mut after) = (vec![], Value::Null);
    for _ in 0..3 {
        let r = app.gql(page, json!({"after": after}), None).await;
        let edge = ok(&r)["allUsers"]["edges"][0].clone();
        seen.push(edge["node"]["username"].as_str().unwrap().to_string());
        after = edge["cursor"].clone();
    }
    assert_eq!(seen, ["bob", "ann", "cid"]);
    let r = app.gql(page, json!({"after": after}), None).await;
    assert_eq!(ok(&r)["allUsers"]["edges"], json!([]));
    // Nested: each user's posts by their comments (rows grouped per parent row).
    let r = app
        .gql(
            &format!(
                "{{ userById(id: {}) {{ postsByAuthorId(orderBy: [COMMENTS_BY_POST_ID_COUNT_DESC, ID_ASC], first: 2) {{
                     nodes {{ title }} pageInfo {{ hasNextPage }} }}
                   byStars: postsByAuthorId(orderBy: [COMMENTS_BY_POST_ID_SUM_STARS_ASC, ID_ASC]) {{ nodes {{ title }} }} }} }}",
                ids[1]
            ),
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r)["userById"],
        json!({"postsByAuthorId": {"nodes": [{"title": "b2"}, {"title": "b3"}], "pageInfo": {"hasNextPage": true}},
               "byStars": {"nodes": [{"title": "b1"}, {"title": "b3"}, {"title": "b2"}]}})
    );
}
