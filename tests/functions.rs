//! Computed columns of every shape on the example app: a scalar with a default argument, a set
//! of rows with an extra argument (a connection, paged and counted, under RLS), a set of
//! scalars (a connection) and a set of composite values (a list).

mod common;

use common::{app_with, Options};
use serde_json::json;

const FUNCTIONS: &str = r#"
create function app_public.user_recent_posts(u app_public.users, lim int default 3)
  returns setof app_public.posts stable language sql
  as $$ select * from app_public.posts p where p.author_id = u.id order by p.id desc limit lim $$;
create function app_public.user_post_titles(u app_public.users)
  returns setof text stable language sql
  as $$ select title from app_public.posts p where p.author_id = u.id order by p.id $$;
create type app_public.title_length as (title text, length int);
create function app_public.user_title_lengths(u app_public.users)
  returns setof app_public.title_length stable language sql
  as $$ select title, length(title) from app_public.posts p where p.author_id = u.id order by p.id $$;
grant execute on all functions in schema app_public to app_anonymous, app_user;
"#;

#[tokio::test]
async fn computed_columns_return_sets_as_connections_under_rls() {
    let app = app_with(Options {
        setup_sql: Some(FUNCTIONS),
        ..Options::default()
    })
    .await;
    let alice = app.signup("alice").await;
    for (title, published) in [
        ("one", true),
        ("two", false),
        ("three", true),
        ("four", true),
    ] {
        let r = app
            .gql(
                "mutation($t: String!, $p: Boolean) { createPost(input: {post: {title: $t, published: $p}}) { post { id } } }",
                json!({"t": title, "p": published}),
                Some(&alice),
            )
            .await;
        assert!(r.errors().is_none(), "{}", r.body);
    }
    let query = "{ userByUsername(username: \"alice\") {
        recentPosts(lim: 2) { totalCount nodes { title } pageInfo { hasNextPage } edges { cursor } }
        allRecent: recentPosts { nodes { title } }
        postTitles { totalCount nodes edges { node } }
        titleLengths { title length }
    } }";

    // Alice sees her draft; the function's own limit and order hold.
    let own = app.gql(query, json!({}), Some(&alice)).await;
    assert_eq!(own.status, 200);
    assert!(own.errors().is_none(), "{}", own.body);
    assert_eq!(
        own.body["data"]["userByUsername"],
        json!({
            "recentPosts": {"totalCount": 2, "nodes": [{"title": "four"}, {"title": "three"}], "pageInfo": {"hasNextPage": false},
                "edges": [{"cursor": "WyJuYXR1cmFsIiwxXQ=="}, {"cursor": "WyJuYXR1cmFsIiwyXQ=="}]},
            "allRecent": {"nodes": [{"title": "four"}, {"title": "three"}, {"title": "two"}]},
            "postTitles": {"totalCount": 4, "nodes": ["one", "two", "three", "four"], "edges": [{"node": "one"}, {"node": "two"}, {"node": "three"}, {"node": "four"}]},
            "titleLengths": [{"title": "one", "length": 3}, {"title": "two", "length": 3}, {"title": "three", "length": 5}, {"title": "four", "length": 4}],
        })
    );

    // Anonymous readers do not see the draft through the functions either (RLS applies).
    let anon = app.gql(query, json!({}), None).await;
    assert!(anon.errors().is_none(), "{}", anon.body);
    let user = &anon.body["data"]["userByUsername"];
    assert_eq!(
        user["allRecent"]["nodes"],
        json!([{"title": "four"}, {"title": "three"}, {"title": "one"}])
    );
    assert_eq!(user["postTitles"]["nodes"], json!(["one", "three", "four"]));
    assert_eq!(user["titleLengths"].as_array().map(Vec::len), Some(3));

    // The set of rows is one statement with its parent, however nested.
    let statements = app.statement_count("%user_recent_posts%").await;
    assert_eq!(statements, 2, "one statement per request");

    // A left-out argument, or an explicit null for it, takes the function's default (50).
    let body = "b".repeat(60);
    let r = app
        .gql(
            "mutation($b: String) { createPost(input: {post: {title: \"long\", body: $b, published: true}}) { post { summary nullLength: summary(length: null) short: summary(length: 3) } } }",
            json!({"b": body}),
            Some(&alice),
        )
        .await;
    let cut = format!("{}…", "b".repeat(50));
    assert_eq!(
        r.body["data"]["createPost"]["post"],
        json!({"summary": cut, "nullLength": cut, "short": "bbb…"}),
        "{}",
        r.body
    );
}
