//! PostGraphile v4's read options: `--simple-collections` and the `@simpleCollections` smart
//! tag (lists beside or instead of connections), `--no-setof-functions-contain-nulls`.

mod common;

use common::{app_with, Options};
use postgraph::schema::{SchemaFlags, SimpleCollections};
use serde_json::{json, Value};

const FORUM: &str = r#"
insert into app_public.users (id, username) values (1, 'alice'), (2, 'bob');
insert into app_public.posts (id, author_id, title, published) values
  (1, 1, 'a1', true), (2, 1, 'a2', true), (3, 2, 'b1', true), (4, 1, 'a3', true),
  (5, 1, 'draft', false);
select setval('app_public.users_id_seq', 100), setval('app_public.posts_id_seq', 100);

create function app_public.search_posts(q text) returns setof app_public.posts
  language sql stable as $$ select * from app_public.posts where title like q || '%' order by id desc $$;
create function app_public.user_recent_posts(u app_public.users, n int) returns setof app_public.posts
  language sql stable as $$ select * from app_public.posts where author_id = u.id order by id desc limit n $$;
create function app_public.title_list() returns setof text
  language sql stable as $$ select title from app_public.posts order by id $$;
grant execute on function app_public.search_posts(text), app_public.user_recent_posts(app_public.users, int),
  app_public.title_list() to app_anonymous;
"#;

async fn forum(mode: SimpleCollections, extra: &'static str) -> common::TestApp {
    forum_with(
        SchemaFlags {
            simple_collections: mode,
            ..SchemaFlags::default()
        },
        extra,
    )
    .await
}

async fn forum_with(flags: SchemaFlags, extra: &'static str) -> common::TestApp {
    let sql: &'static str = Box::leak(format!("{FORUM}{extra}").into_boxed_str());
    app_with(Options {
        setup_sql: Some(sql),
        schema_flags: flags,
        ..Options::default()
    })
    .await
}

/// `name: type(args)` of each field of an object type, by introspection.
async fn fields(app: &common::TestApp, ty: &str) -> Vec<String> {
    let r = app
        .gql(
            r#"query($t: String!) { __type(name: $t) { fields { name args { name type { ...T } }
                 type { ...T } } } }
               fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#,
            json!({ "t": ty }),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    fn show(t: &Value) -> String {
        match t["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", show(&t["ofType"])),
            Some("LIST") => format!("[{}]", show(&t["ofType"])),
            _ => t["name"].as_str().unwrap_or("?").to_string(),
        }
    }
    r.data()["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            let args: Vec<String> = f["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}: {}", a["name"].as_str().unwrap(), show(&a["type"])))
                .collect();
            format!(
                "{}({}): {}",
                f["name"].as_str().unwrap(),
                args.join(", "),
                show(&f["type"])
            )
        })
        .collect()
}

fn field<'a>(all: &'a [String], name: &str) -> Option<&'a str> {
    all.iter()
        .map(String::as_str)
        .find(|f| f.starts_with(&format!("{name}(")))
}

#[tokio::test]
async fn simple_collections_both_adds_lists_beside_connections() {
    let app = forum(SimpleCollections::Both, "").await;
    let query = fields(&app, "Query").await;
    assert_eq!(
        field(&query, "allPostsList"),
        Some("allPostsList(first: Int, offset: Int, orderBy: [PostsOrderBy!], condition: PostCondition): [Post!]")
    );
    assert!(field(&query, "allPosts").is_some());
    assert_eq!(
        field(&query, "searchPostsList"),
        Some("searchPostsList(q: String, first: Int, offset: Int): [Post]")
    );
    assert!(field(&query, "searchPosts").is_some());
    assert_eq!(
        field(&query, "titleListList"),
        Some("titleListList(first: Int, offset: Int): [String]")
    );
    let user = fields(&app, "User").await;
    assert_eq!(
        field(&user, "postsByAuthorIdList"),
        Some("postsByAuthorIdList(first: Int, offset: Int, orderBy: [PostsOrderBy!], condition: PostCondition): [Post!]!")
    );
    assert!(field(&user, "postsByAuthorId").is_some());
    assert_eq!(
        field(&user, "recentPostsList"),
        Some("recentPostsList(n: Int, first: Int, offset: Int): [Post]")
    );
    // A unique backward relation would be one row: `users` has no list of itself.
    let post = fields(&app, "Post").await;
    assert!(field(&post, "userByAuthorId").is_some());

    let r = app
        .gql(
            r#"{
              allPostsList(orderBy: TITLE_DESC, first: 2, offset: 1) { id title }
              byKey: allPostsList(condition: { authorId: 2 }) { id }
              userById(id: 1) {
                postsByAuthorIdList(orderBy: ID_DESC, first: 2) { id }
                recentPostsList(n: 3, offset: 1) { id }
              }
              searchPostsList(q: "a", first: 2) { id }
              titleListList(offset: 3) 
            }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.errors(), None, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({
            "allPostsList": [{"id": 4, "title": "a3"}, {"id": 2, "title": "a2"}],
            "byKey": [{"id": 3}],
            "userById": {
                "postsByAuthorIdList": [{"id": 4}, {"id": 2}],
                "recentPostsList": [{"id": 2}, {"id": 1}]
            },
            "searchPostsList": [{"id": 4}, {"id": 2}],
            "titleListList": ["a3"]
        })
    );
    // Without orderBy a list is in primary key order, as v4 orders it; an empty one is [].
    let r = app
        .gql(
            r#"{ allPostsList { id } none: allPostsList(condition: { authorId: 99 }) { id } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"allPostsList": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}], "none": []})
    );
}

#[tokio::test]
async fn simple_collections_only_replaces_connections_with_lists() {
    let app = forum(SimpleCollections::Only, "").await;
    let query = fields(&app, "Query").await;
    assert!(field(&query, "allPostsList").is_some());
    assert!(field(&query, "allPosts").is_none(), "{query:?}");
    assert!(field(&query, "searchPosts").is_none());
    assert!(field(&query, "searchPostsList").is_some());
    // Functions returning one value are no collections: they stay.
    assert!(field(&query, "me").is_some());
    let user = fields(&app, "User").await;
    assert!(field(&user, "postsByAuthorId").is_none());
    assert!(field(&user, "postsByAuthorIdList").is_some());
    let r = app
        .gql(
            "{ allUsersList { username postsByAuthorIdList { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"allUsersList": [
            {"username": "alice", "postsByAuthorIdList": [{"title": "a1"}, {"title": "a2"}, {"title": "a3"}]},
            {"username": "bob", "postsByAuthorIdList": [{"title": "b1"}]}
        ]})
    );
    // One statement for the root field, lists nested inside it.
    let before = app.statement_count("select to_json(%").await;
    app.gql(
        "{ allUsersList { postsByAuthorIdList { id } } }",
        json!({}),
        None,
    )
    .await;
    assert_eq!(app.statement_count("select to_json(%").await - before, 1);
}

#[tokio::test]
async fn simple_collections_smart_tag_on_table_function_and_foreign_key() {
    let app = forum(
        SimpleCollections::Omit,
        r#"
        comment on table app_public.users is E'@simpleCollections both\nA member of the forum.';
        comment on function app_public.search_posts(text) is '@simpleCollections only';
        comment on constraint posts_author_id_fkey on app_public.posts is '@simpleCollections only';
        "#,
    )
    .await;
    let query = fields(&app, "Query").await;
    assert!(field(&query, "allUsers").is_some());
    assert!(field(&query, "allUsersList").is_some());
    assert!(field(&query, "allPosts").is_some());
    assert!(field(&query, "allPostsList").is_none());
    assert!(field(&query, "searchPosts").is_none());
    assert!(field(&query, "searchPostsList").is_some());
    assert!(field(&query, "titleListList").is_none());
    let user = fields(&app, "User").await;
    assert!(field(&user, "postsByAuthorId").is_none());
    assert!(field(&user, "postsByAuthorIdList").is_some());
    assert!(field(&user, "recentPostsList").is_none());
    let r = app
        .gql(
            r#"{ searchPostsList(q: "b") { title } userById(id: 2) { postsByAuthorIdList { title } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"searchPostsList": [{"title": "b1"}], "userById": {"postsByAuthorIdList": [{"title": "b1"}]}})
    );
}

#[tokio::test]
async fn simple_collection_arguments_are_checked() {
    let app = forum(SimpleCollections::Both, "").await;
    // Lists have no cursors nor `last`: GraphQL validation refuses them.
    let r = app
        .gql("{ allPostsList(last: 1) { id } }", json!({}), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .gql("{ allPostsList(first: -1) { id } }", json!({}), None)
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    assert_eq!(r.body["data"], Value::Null);
    // Variables re-bind a cached plan: the second request gets its own values.
    let q =
        "query($n: Int, $a: Int) { allPostsList(first: $n, condition: { authorId: $a }) { id } }";
    let r = app.gql(q, json!({"n": 1, "a": 1}), None).await;
    assert_eq!(r.body["data"], json!({"allPostsList": [{"id": 1}]}));
    let r = app.gql(q, json!({"n": 5, "a": 2}), None).await;
    assert_eq!(r.body["data"], json!({"allPostsList": [{"id": 3}]}));
}

#[tokio::test]
async fn no_setof_functions_contain_nulls_makes_set_rows_non_null() {
    let extra = r#"
        create function app_public.touch_posts() returns setof app_public.posts
          language sql volatile as $$ select * from app_public.posts order by id limit 2 $$;
        grant execute on function app_public.touch_posts() to app_anonymous;
    "#;
    let flags = |on: bool| SchemaFlags {
        simple_collections: SimpleCollections::Both,
        no_setof_functions_contain_nulls: on,
        ..SchemaFlags::default()
    };
    let app = forum_with(flags(true), extra).await;
    let conn = fields(&app, "PostsConnection").await;
    assert_eq!(field(&conn, "nodes"), Some("nodes(): [Post!]!"));
    let edge = fields(&app, "PostsEdge").await;
    assert_eq!(field(&edge, "node"), Some("node(): Post!"));
    let query = fields(&app, "Query").await;
    assert_eq!(
        field(&query, "searchPostsList"),
        Some("searchPostsList(q: String, first: Int, offset: Int): [Post!]")
    );
    // Sets of scalars are not rows: unchanged.
    assert_eq!(
        field(&query, "titleListList"),
        Some("titleListList(first: Int, offset: Int): [String]")
    );
    let scalars = fields(&app, "TitleListConnection").await;
    assert_eq!(field(&scalars, "nodes"), Some("nodes(): [String]!"));
    let payload = fields(&app, "TouchPostsPayload").await;
    assert_eq!(field(&payload, "posts"), Some("posts(): [Post!]"));
    let r = app
        .gql(
            r#"{ allPosts(first: 1) { nodes { id } edges { node { id } } } searchPostsList(q: "b") { id } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"allPosts": {"nodes": [{"id": 1}], "edges": [{"node": {"id": 1}}]}, "searchPostsList": [{"id": 3}]}})
    );
    let r = app
        .gql(
            "mutation { touchPosts(input: {}) { posts { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"touchPosts": {"posts": [{"id": 1}, {"id": 2}]}}})
    );

    // Without the flag, v4's default: rows may be null.
    let app = forum_with(flags(false), extra).await;
    let conn = fields(&app, "PostsConnection").await;
    assert_eq!(field(&conn, "nodes"), Some("nodes(): [Post]!"));
    let edge = fields(&app, "PostsEdge").await;
    assert_eq!(field(&edge, "node"), Some("node(): Post"));
    let payload = fields(&app, "TouchPostsPayload").await;
    assert_eq!(field(&payload, "posts"), Some("posts(): [Post]"));
}

#[tokio::test]
async fn sortable_and_filterable_functions_take_order_by_and_condition() {
    let app = forum(
        SimpleCollections::Both,
        r#"
        comment on function app_public.search_posts(text) is E'@sortable\n@filterable\nPosts by title prefix.';
        comment on function app_public.user_recent_posts(app_public.users, int) is '@sortable';
        "#,
    )
    .await;
    let query = fields(&app, "Query").await;
    assert_eq!(
        field(&query, "searchPosts"),
        Some("searchPosts(q: String, first: Int, last: Int, offset: Int, before: Cursor, after: Cursor, orderBy: [PostsOrderBy!], condition: PostCondition): PostsConnection")
    );
    assert_eq!(
        field(&query, "searchPostsList"),
        Some("searchPostsList(q: String, first: Int, offset: Int, orderBy: [PostsOrderBy!], condition: PostCondition): [Post]")
    );
    let user = fields(&app, "User").await;
    assert!(
        field(&user, "recentPosts").is_some_and(|f| f.starts_with(
            "recentPosts(n: Int, first: Int, last: Int, offset: Int, before: Cursor, after: Cursor, orderBy: [PostsOrderBy!]):"
        )),
        "{user:?}"
    );
    assert!(!field(&user, "recentPosts").unwrap().contains("condition"));

    // The function's own order without orderBy (id desc), the table's with it.
    let q = r#"query($order: [PostsOrderBy!], $after: Cursor, $cond: PostCondition) {
        searchPosts(q: "a", orderBy: $order, first: 2, after: $after, condition: $cond) {
          nodes { id } pageInfo { hasNextPage endCursor } } }"#;
    let r = app.gql(q, json!({}), None).await;
    assert_eq!(r.errors(), None, "{}", r.body);
    assert_eq!(
        r.body["data"]["searchPosts"]["nodes"],
        json!([{"id": 4}, {"id": 2}])
    );
    let r = app.gql(q, json!({"order": ["TITLE_ASC"]}), None).await;
    assert_eq!(
        r.body["data"]["searchPosts"]["nodes"],
        json!([{"id": 1}, {"id": 2}]),
        "{}",
        r.body
    );
    let page = &r.body["data"]["searchPosts"]["pageInfo"];
    assert_eq!(page["hasNextPage"], true);
    let r = app
        .gql(
            q,
            json!({"order": ["TITLE_ASC"], "after": page["endCursor"]}),
            None,
        )
        .await;
    assert_eq!(
        r.body["data"]["searchPosts"]["nodes"],
        json!([{"id": 4}]),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["data"]["searchPosts"]["pageInfo"]["hasNextPage"],
        false
    );
    // A cursor of one order is refused by another.
    let r = app
        .gql(
            q,
            json!({"order": ["TITLE_DESC"], "after": page["endCursor"]}),
            None,
        )
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    let r = app.gql(q, json!({"cond": {"title": "a2"}}), None).await;
    assert_eq!(
        r.body["data"]["searchPosts"]["nodes"],
        json!([{"id": 2}]),
        "{}",
        r.body
    );

    let r = app
        .gql(
            r#"{ searchPostsList(q: "", orderBy: [AUTHOR_ID_DESC, ID_ASC], condition: { published: true }) { id }
                 userById(id: 1) { recentPosts(n: 3, orderBy: ID_ASC) { nodes { id } } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {
            "searchPostsList": [{"id": 3}, {"id": 1}, {"id": 2}, {"id": 4}],
            "userById": {"recentPosts": {"nodes": [{"id": 1}, {"id": 2}, {"id": 4}]}}
        }})
    );
}

const FAILING: &str = r#"
create function app_public.fail_loudly() returns int language plpgsql stable as $$
begin
  raise exception 'nope' using detail = 'the detail', hint = 'the hint', errcode = 'P0001';
end $$;
create function app_public.fail_internally() returns int language plpgsql stable as $$
begin
  raise exception 'internal' using detail = 'secret detail', errcode = 'XX000';
end $$;
grant execute on function app_public.fail_loudly(), app_public.fail_internally() to app_anonymous;
"#;

#[tokio::test]
async fn extended_errors_add_the_named_postgres_fields_as_v4_does() {
    let app = app_with(Options {
        setup_sql: Some(FAILING),
        extended_errors: vec!["hint", "detail", "errcode", "table"],
        ..Options::default()
    })
    .await;
    let r = app.gql("{ failLoudly }", json!({}), None).await;
    assert_eq!(r.body["data"], json!({"failLoudly": null}));
    let e = &r.errors().expect("an error")[0];
    // At the top level (v4's older place) and in `extensions.exception`; fields the error
    // does not have (`table`) are left out.
    assert_eq!(e["message"], "nope");
    assert_eq!(e["hint"], "the hint");
    assert_eq!(e["detail"], "the detail");
    assert_eq!(e["errcode"], "P0001");
    assert!(e.get("table").is_none(), "{e}");
    assert_eq!(
        e["extensions"],
        json!({"code": "P0001", "exception": {"hint": "the hint", "detail": "the detail", "errcode": "P0001"}})
    );

    // Without the flag: only the code.
    let plain = app_with(Options {
        setup_sql: Some(FAILING),
        ..Options::default()
    })
    .await;
    let r = plain.gql("{ failLoudly }", json!({}), None).await;
    let e = &r.errors().expect("an error")[0];
    assert!(e.get("hint").is_none() && e.get("detail").is_none(), "{e}");
    assert_eq!(e["extensions"], json!({"code": "P0001"}));

    // Production hides a server-side error's fields with its message.
    let prod = app_with(Options {
        setup_sql: Some(FAILING),
        extended_errors: vec!["detail"],
        production: true,
        ..Options::default()
    })
    .await;
    let r = prod.gql("{ failInternally }", json!({}), None).await;
    let internal = &r.errors().expect("an error")[0];
    assert_eq!(internal["message"], "an internal error occurred");
    assert!(internal.get("detail").is_none(), "{internal}");
    assert_eq!(internal["extensions"], json!({"code": "XX000"}));
    let r = prod.gql("{ failLoudly }", json!({}), None).await;
    let loud = &r.errors().expect("an error")[0];
    assert_eq!(loud["detail"], "the detail", "{loud}");
}

#[tokio::test]
async fn the_flags_reach_export_schema_and_bad_values_are_refused() {
    const BIN: &str = env!("CARGO_BIN_EXE_postgraph");
    let app = common::app().await;
    let out = std::process::Command::new(BIN)
        .args([
            "export-schema",
            "--connection",
            &app.authenticator_url,
            "--schema",
            "app_public",
            "--simple-collections",
            "only",
            "--no-setof-functions-contain-nulls",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sdl = String::from_utf8_lossy(&out.stdout);
    assert!(sdl.contains("allPostsList("), "{sdl}");
    assert!(!sdl.contains("allPosts("), "{sdl}");

    for args in [
        &["export-schema", "--simple-collections", "sometimes"][..],
        &["serve", "--extended-errors", "hint,bogus"][..],
    ] {
        let out = std::process::Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("sometimes") || stderr.contains("bogus"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn classic_ids_make_id_the_node_id_and_the_id_column_row_id() {
    let app = forum_with(
        SchemaFlags {
            classic_ids: true,
            ..SchemaFlags::default()
        },
        "",
    )
    .await;
    let post = fields(&app, "Post").await;
    assert_eq!(field(&post, "id"), Some("id(): ID!"));
    assert_eq!(field(&post, "rowId"), Some("rowId(): Int!"));
    assert!(field(&post, "nodeId").is_none());
    assert_eq!(field(&post, "authorId"), Some("authorId(): Int!"));
    let query = fields(&app, "Query").await;
    assert_eq!(field(&query, "id"), Some("id(): ID!"));
    assert_eq!(field(&query, "node"), Some("node(id: ID!): Node"));
    assert_eq!(field(&query, "post"), Some("post(id: ID!): Post"));
    assert_eq!(
        field(&query, "postByRowId"),
        Some("postByRowId(rowId: Int!): Post")
    );
    assert!(field(&query, "postById").is_none());
    let mutation = fields(&app, "Mutation").await;
    assert!(field(&mutation, "updatePostByRowId").is_some());
    assert!(field(&mutation, "updatePost").is_some());
    // v4 keeps `ID_ASC` for the renamed column; the condition and inputs take `rowId`.
    let r = app
        .gql(
            r#"{ a: __type(name: "PostsOrderBy") { enumValues { name } }
                 b: __type(name: "PostCondition") { inputFields { name } }
                 c: __type(name: "UpdatePostInput") { inputFields { name } }
                 d: __type(name: "Node") { fields { name } } }"#,
            json!({}),
            None,
        )
        .await;
    let names = |v: &Value, list: &str| -> Vec<String> {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    let d = r.data();
    assert!(
        names(&d["a"], "enumValues").contains(&"ID_ASC".to_string()),
        "{d}"
    );
    assert!(!names(&d["a"], "enumValues").contains(&"ROW_ID_ASC".to_string()));
    assert!(names(&d["b"], "inputFields").contains(&"rowId".to_string()));
    assert_eq!(
        names(&d["c"], "inputFields"),
        ["clientMutationId", "id", "postPatch"]
    );
    assert_eq!(names(&d["d"], "fields"), ["id"]);

    let node_id = |id: i64| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("[\"posts\",{id}]"))
    };
    let r = app
        .gql(
            r#"query($n: ID!) { id postByRowId(rowId: 2) { id rowId }
                 node(id: $n) { id ... on Post { rowId title } }
                 post(id: $n) { rowId }
                 allPosts(orderBy: ID_DESC, first: 1, condition: { authorId: 1 }) { nodes { rowId } }
                 query { id } }"#,
            json!({ "n": node_id(3) }),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {
            "id": "query",
            "postByRowId": {"id": node_id(2), "rowId": 2},
            "node": {"id": node_id(3), "rowId": 3, "title": "b1"},
            "post": {"rowId": 3},
            "allPosts": {"nodes": [{"rowId": 4}]},
            "query": {"id": "query"}
        }})
    );

    let token = app.signup("carol").await;
    let r = app
        .gql(
            r#"mutation { createPost(input: { post: { title: "mine", published: true } }) { post { id rowId } } }"#,
            json!({}),
            Some(&token),
        )
        .await;
    let created = &r.body["data"]["createPost"]["post"];
    let id = created["id"].as_str().expect("a node id").to_string();
    let r = app
        .gql(
            r#"mutation($n: ID!) { updatePost(input: { id: $n, postPatch: { title: "renamed" } }) { post { rowId title } } }"#,
            json!({ "n": id }),
            Some(&token),
        )
        .await;
    assert_eq!(
        r.body["data"]["updatePost"]["post"],
        json!({"rowId": created["rowId"], "title": "renamed"}),
        "{}",
        r.body
    );
}

const DOCS: &str = r#"
create table app_public.docs (id int primary key, data jsonb, raw json, many jsonb[]);
insert into app_public.docs values
  (1, '{"a": [1, {"b": null}], "n": 1.50}', '"text"', array['1', '{"x": true}']::jsonb[]),
  (2, 'null', null, null);
grant select, insert on app_public.docs to app_anonymous;
create function app_public.echo(j jsonb) returns jsonb language sql stable as $$ select j $$;
grant execute on function app_public.echo(jsonb) to app_anonymous;
"#;

#[tokio::test]
async fn dynamic_json_sends_and_takes_json_values_not_strings() {
    let app = app_with(Options {
        setup_sql: Some(DOCS),
        schema_flags: SchemaFlags {
            dynamic_json: true,
            ..SchemaFlags::default()
        },
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ allDocs { nodes { id data raw many } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"allDocs": {"nodes": [
            {"id": 1, "data": {"a": [1, {"b": null}], "n": 1.50}, "raw": "text", "many": [1, {"x": true}]},
            {"id": 2, "data": null, "raw": null, "many": null}
        ]}}})
    );
    // Input: any JSON value, from variables (objects, lists) or a scalar literal.
    let r = app
        .gql(
            r#"mutation($d: JSON, $m: [JSON]) { createDoc(input: { doc: { id: 3, data: $d, raw: "plain", many: $m } }) { doc { data raw many } } }"#,
            json!({"d": {"k": ["v", 2, false]}, "m": [{"y": 1}, "s"]}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"createDoc": {"doc": {"data": {"k": ["v", 2, false]}, "raw": "plain", "many": [{"y": 1}, "s"]}}}})
    );
    let rows = app
        .sql("select json_build_array(data::text, raw::text, many::text[]) as v from app_public.docs where id = 3")
        .await;
    assert_eq!(
        rows[0]["v"],
        json!([
            r#"{"k": ["v", 2, false]}"#,
            r#""plain""#,
            [r#"{"y": 1}"#, r#""s""#]
        ])
    );
    // A JSON value deep inside an input object variable.
    let r = app
        .gql(
            "mutation($i: CreateDocInput!) { createDoc(input: $i) { doc { data } } }",
            json!({"i": {"doc": {"id": 4, "data": [1, {"z": 2}]}}}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"createDoc": {"doc": {"data": [1, {"z": 2}]}}}})
    );
    let q = "query($j: JSON) { echo(j: $j) }";
    for v in [
        json!({"deep": {"x": [null]}}),
        json!("a string"),
        json!(12),
        json!(true),
    ] {
        let r = app.gql(q, json!({ "j": v }), None).await;
        assert_eq!(r.body, json!({"data": {"echo": v}}), "{v}");
    }
    let r = app
        .gql(
            r#"query($d: JSON) { allDocs(condition: { data: $d }) { nodes { id } } }"#,
            json!({"d": {"k": ["v", 2, false]}}),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"data": {"allDocs": {"nodes": [{"id": 3}]}}}));

    // Without the flag (v4's default) JSON is a string holding the JSON text.
    let plain = app_with(Options {
        setup_sql: Some(DOCS),
        ..Options::default()
    })
    .await;
    let r = plain
        .gql(
            "{ docById(id: 1) { raw many } echo(j: \"[1]\") }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"docById": {"raw": "\"text\"", "many": ["1", "{\"x\": true}"]}, "echo": "[1]"}})
    );
}
