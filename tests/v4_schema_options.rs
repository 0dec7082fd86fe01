//! PostGraphile v4's schema options with v4's meaning, as a client sees them:
//! `--no-ignore-indexes`, `--include-extension-resources`, `--legacy-functions-only` and
//! `--legacy-json-uuid`.

mod common;

use common::{app_with, Options, TestApp};
use postgraph::schema::SchemaFlags;
use serde_json::{json, Value};

async fn app(setup_sql: &'static str, flags: SchemaFlags) -> TestApp {
    app_with(Options {
        setup_sql: Some(setup_sql),
        schema_flags: flags,
        ..Options::default()
    })
    .await
}

/// `200` and the data, or the status and the first error's message.
async fn ask(app: &TestApp, query: &str, variables: Value) -> (u16, Value) {
    let r = app.gql(query, variables, None).await;
    match r.errors() {
        None => (r.status, r.data().clone()),
        Some(e) => (r.status, e[0]["message"].clone()),
    }
}

fn refused(answer: &(u16, Value), field: &str) -> bool {
    answer.0 == 400 && answer.1.as_str().is_some_and(|m| m.contains(field))
}

const COMMENTS: &str = "
    create table app_public.comments (
      id serial primary key,
      post_id int references app_public.posts,
      liker_id int references app_public.users,
      body text
    );
    create index on app_public.comments (liker_id, body);
    create view app_public.comment_bodies as select body from app_public.comments;
    grant select on app_public.comments, app_public.comment_bodies to app_anonymous;";

#[tokio::test]
async fn no_ignore_indexes_leaves_out_what_no_index_backs() {
    let strict = app(
        COMMENTS,
        SchemaFlags {
            no_ignore_indexes: true,
            ..Default::default()
        },
    )
    .await;
    // An index leads with author_id (and the primary key's with id): ordered by, filtered by.
    let a = ask(
        &strict,
        "{ allPosts(orderBy: AUTHOR_ID_ASC, condition: {authorId: 1}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(a, (200, json!({"allPosts": {"totalCount": 0}})));
    // No index leads with title: neither an order nor a condition, nor a filter.
    for (query, name) in [
        (
            "{ allPosts(orderBy: TITLE_ASC) { totalCount } }",
            "TITLE_ASC",
        ),
        (
            "{ allPosts(condition: {title: \"x\"}) { totalCount } }",
            "title",
        ),
        (
            "{ allPosts(filter: {title: {equalTo: \"x\"}}) { totalCount } }",
            "title",
        ),
    ] {
        let a = ask(&strict, query, json!({})).await;
        assert!(refused(&a, name), "{query}: {a:?}");
    }
    // A view has no index: no condition at all (no empty input type), only its natural order.
    let a = ask(
        &strict,
        "{ allCommentBodies { totalCount } __type(name: \"CommentBodyCondition\") { name } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a,
        (
            200,
            json!({"allCommentBodies": {"totalCount": 0}, "__type": null})
        )
    );
    let a = ask(
        &strict,
        "{ allCommentBodies(condition: {}) { totalCount } }",
        json!({}),
    )
    .await;
    assert!(refused(&a, "condition"), "{a:?}");
    // The foreign key of an index's leading columns keeps both relations; the one without
    // an index loses both, as in v4.
    let a = ask(
        &strict,
        "{ allComments { nodes { userByLikerId { id } } } allUsers { nodes { commentsByLikerId { totalCount } } } }",
        json!({}),
    )
    .await;
    assert_eq!(a.0, 200, "{a:?}");
    for query in [
        "{ allComments { nodes { postByPostId { id } } } }",
        "{ allPosts { nodes { commentsByPostId { totalCount } } } }",
    ] {
        let a = ask(&strict, query, json!({})).await;
        assert!(refused(&a, "ByPostId"), "{query}: {a:?}");
    }
    // By default (v4's ignoreIndexes), all of it is there.
    let default = app(COMMENTS, SchemaFlags::default()).await;
    for query in [
        "{ allPosts(orderBy: TITLE_ASC, condition: {title: \"x\"}) { totalCount } }",
        "{ allPosts { nodes { commentsByPostId { totalCount } } } }",
        "{ allComments { nodes { postByPostId { id } } } }",
    ] {
        let a = ask(&default, query, json!({})).await;
        assert_eq!(a.0, 200, "{query}: {a:?}");
    }
}

const TRGM: &str = "create extension pg_trgm schema app_public;
    grant execute on function app_public.similarity(text, text) to app_anonymous;";

#[tokio::test]
async fn include_extension_resources_exposes_what_extensions_own() {
    let with = app(
        TRGM,
        SchemaFlags {
            include_extension_resources: true,
            ..Default::default()
        },
    )
    .await;
    let a = ask(
        &with,
        "{ similarity(arg0: \"word\", arg1: \"word\") }",
        json!({}),
    )
    .await;
    assert_eq!(a, (200, json!({"similarity": 1})));
    // By default, as in v4, an extension's functions are not the API.
    let without = app(TRGM, SchemaFlags::default()).await;
    let a = ask(
        &without,
        "{ similarity(arg0: \"word\", arg1: \"word\") }",
        json!({}),
    )
    .await;
    assert!(refused(&a, "similarity"), "{a:?}");
}

const FUNCTIONS: &str = "
    create function app_public.twice(a int) returns int language sql stable as $$ select a * 2 $$;
    create function app_public.twice_out(a int, out doubled int) language sql stable as $$ select a * 2 $$;
    create function app_public.pairs(n int) returns table (x int, y int) language sql stable
      as $$ select i, i * i from generate_series(1, n) i $$;
    grant execute on function app_public.twice(int), app_public.twice_out(int), app_public.pairs(int)
      to app_anonymous;";

#[tokio::test]
async fn legacy_functions_only_leaves_out_functions_with_out_parameters() {
    let legacy = app(
        FUNCTIONS,
        SchemaFlags {
            legacy_functions_only: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        ask(&legacy, "{ twice(a: 2) }", json!({})).await,
        (200, json!({"twice": 4}))
    );
    for (query, name) in [
        ("{ twiceOut(a: 2) }", "twiceOut"),
        ("{ pairs(n: 2) { nodes { x } } }", "pairs"),
    ] {
        let a = ask(&legacy, query, json!({})).await;
        assert!(refused(&a, name), "{query}: {a:?}");
    }
    let current = app(FUNCTIONS, SchemaFlags::default()).await;
    let a = ask(
        &current,
        "{ twiceOut(a: 2) pairs(n: 2) { nodes { x y } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a,
        (
            200,
            json!({"twiceOut": 4, "pairs": {"nodes": [{"x": 1, "y": 1}, {"x": 2, "y": 4}]}})
        )
    );
}

const THINGS: &str = "
    create table app_public.things (id uuid primary key, data jsonb);
    insert into app_public.things values ('6f1c1d0a-7b4e-4c3a-9d7e-1a2b3c4d5e6f', '{\"a\": [1, 2]}');
    grant select on app_public.things to app_anonymous;";

#[tokio::test]
async fn legacy_json_uuid_names_the_scalars_as_v3() {
    let legacy = app(
        THINGS,
        SchemaFlags {
            legacy_json_uuid: true,
            ..Default::default()
        },
    )
    .await;
    let a = ask(
        &legacy,
        "query($id: Uuid!) { thingById(id: $id) { id data } j: __type(name: \"Json\") { kind } \
         u: __type(name: \"UUID\") { kind } f: __type(name: \"JsonFilter\") { kind } }",
        json!({"id": "6f1c1d0a-7b4e-4c3a-9d7e-1a2b3c4d5e6f"}),
    )
    .await;
    assert_eq!(
        a,
        (
            200,
            json!({
                "thingById": {"id": "6f1c1d0a-7b4e-4c3a-9d7e-1a2b3c4d5e6f", "data": "{\"a\":[1,2]}"},
                "j": {"kind": "SCALAR"},
                "u": null,
                "f": {"kind": "INPUT_OBJECT"}
            })
        )
    );
    // The current names are no longer types.
    let a = ask(
        &legacy,
        "query($id: UUID!) { thingById(id: $id) { id } }",
        json!({"id": "6f1c1d0a-7b4e-4c3a-9d7e-1a2b3c4d5e6f"}),
    )
    .await;
    assert!(refused(&a, "UUID"), "{a:?}");
}

#[tokio::test]
async fn no_setof_functions_contain_nulls_makes_record_rows_non_null_as_in_v4() {
    let app = app(
        FUNCTIONS,
        SchemaFlags {
            no_setof_functions_contain_nulls: true,
            ..Default::default()
        },
    )
    .await;
    let shape = "{ name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";
    let a = ask(
        &app,
        &format!("{{ c: __type(name: \"PairsConnection\") {{ fields {shape} }} e: __type(name: \"PairEdge\") {{ fields {shape} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(a.0, 200, "{a:?}");
    let field = |t: &str, name: &str| {
        a.1[t]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["type"]
            .clone()
    };
    // nodes: [PairsRecord!]!
    let nodes = field("c", "nodes");
    assert_eq!(
        (
            &nodes["kind"],
            &nodes["ofType"]["kind"],
            &nodes["ofType"]["ofType"]["kind"]
        ),
        (&json!("NON_NULL"), &json!("LIST"), &json!("NON_NULL")),
        "{nodes}"
    );
    assert_eq!(nodes["ofType"]["ofType"]["ofType"]["name"], "PairsRecord");
    // node: PairsRecord!
    let node = field("e", "node");
    assert_eq!(
        (&node["kind"], &node["ofType"]["name"]),
        (&json!("NON_NULL"), &json!("PairsRecord")),
        "{node}"
    );
    let rows = ask(&app, "{ pairs(n: 2) { nodes { x y } } }", json!({})).await;
    assert_eq!(
        rows,
        (
            200,
            json!({"pairs": {"nodes": [{"x": 1, "y": 1}, {"x": 2, "y": 4}]}})
        )
    );
}

#[tokio::test]
async fn other_numeric_types_are_big_floats_as_in_v4() {
    let app = app(
        "create table app_public.handles (id serial primary key, ref oid, kind regclass);
         insert into app_public.handles (ref, kind) values (42, 'app_public.posts');
         grant select on app_public.handles to app_anonymous;",
        SchemaFlags::default(),
    )
    .await;
    let a = ask(
        &app,
        "query($r: BigFloat) { allHandles(condition: {ref: $r}) { nodes { ref kind } } \
         f: allHandles(filter: {ref: {greaterThan: \"41\"}}) { totalCount } \
         t: __type(name: \"Handle\") { fields { name type { name } } } }",
        json!({"r": "42"}),
    )
    .await;
    assert_eq!(a.0, 200, "{a:?}");
    assert_eq!(
        a.1["allHandles"]["nodes"],
        json!([{"ref": "42", "kind": "app_public.posts"}])
    );
    assert_eq!(a.1["f"]["totalCount"], 1);
    let types: Vec<(String, String)> = a.1["t"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().into(),
                f["type"]["name"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert!(
        types.contains(&("ref".into(), "BigFloat".into())),
        "{types:?}"
    );
    assert!(
        types.contains(&("kind".into(), "BigFloat".into())),
        "{types:?}"
    );
}
