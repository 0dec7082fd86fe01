//! Schemas of the kind users point postgraph at: names that collide with generated names,
//! redundant unique constraints. The engine starts, leaves the later of two clashing things
//! out (with a warning), and serves everything else.

mod common;

use common::{app_with, Options};
use serde_json::json;

const CLASHES: &str = r#"
create table app_public.compound_key (
  compound_key_1 int not null,
  compound_key_2 int not null,
  label text,
  primary key (compound_key_1, compound_key_2),
  -- The same columns as the primary key: the same lookup, wanted twice.
  unique (compound_key_2, compound_key_1)
);
insert into app_public.compound_key values (1, 2, 'one-two');
-- Its type would be `PostsConnection`, the connection type of `posts`.
create table app_public.posts_connection (id int primary key);
-- A composite type whose type would be `Post`, and a function using it.
create type app_public.post as (x int);
create function app_public.make_post() returns app_public.post
  language sql stable as $$ select row(1)::app_public.post $$;
grant select on app_public.compound_key, app_public.posts_connection to app_anonymous;
grant execute on function app_public.make_post() to app_anonymous;
"#;

#[tokio::test]
async fn clashing_names_leave_the_later_thing_out_and_the_rest_is_served() {
    let app = app_with(Options {
        setup_sql: Some(CLASHES),
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ compoundKeyByCompoundKey1AndCompoundKey2(compoundKey1: 1, compoundKey2: 2) { label } \
             allCompoundKeys { nodes { compoundKey1 compoundKey2 } } allPosts { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({
            "compoundKeyByCompoundKey1AndCompoundKey2": {"label": "one-two"},
            "allCompoundKeys": {"nodes": [{"compoundKey1": 1, "compoundKey2": 2}]},
            "allPosts": {"totalCount": 0}
        })
    );

    // The lookup exists once; the tables whose names clash are left out, `posts` is whole.
    let r = app
        .gql(
            "{ __schema { queryType { fields { name } } } \
               post: __type(name: \"Post\") { fields { name } } \
               conn: __type(name: \"PostsConnection\") { fields { name } } }",
            json!({}),
            None,
        )
        .await;
    let fields: Vec<&str> = r.body["data"]["__schema"]["queryType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields
            .iter()
            .filter(|f| **f == "compoundKeyByCompoundKey1AndCompoundKey2")
            .count(),
        1,
        "{fields:?}"
    );
    assert!(fields.contains(&"allPosts") && fields.contains(&"postById"));
    assert!(!fields.contains(&"allPostsConnections"), "{fields:?}");
    assert!(!fields.contains(&"makePost"), "{fields:?}");
    let post_fields = r.body["data"]["post"]["fields"].to_string();
    assert!(post_fields.contains("\"title\""), "{post_fields}");
    let conn_fields = r.body["data"]["conn"]["fields"].to_string();
    assert!(conn_fields.contains("\"totalCount\""), "{conn_fields}");
}

/// A VOLATILE function named like a table's CRUD mutation (v4 refuses to start).
const CRUD_NAMED_FUNCTION: &str = r#"
create function app_public.create_post(title text) returns app_public.posts
  language sql volatile as $$
    insert into app_public.posts (title, body) values (title, 'from a function') returning *
  $$;
grant execute on function app_public.create_post(text) to app_user;
"#;

#[tokio::test]
async fn a_function_named_like_a_crud_mutation_is_left_out_and_the_crud_one_works() {
    let app = app_with(Options {
        setup_sql: Some(CRUD_NAMED_FUNCTION),
        ..Options::default()
    })
    .await;
    // `createPost` is the table's: its input has `post`, not the function's `title`.
    let r = app
        .gql(
            "{ __type(name: \"CreatePostInput\") { inputFields { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["__type"]["inputFields"],
        json!([{"name": "clientMutationId"}, {"name": "post"}]),
        "{}",
        r.body
    );
    let token = app.signup("fred").await;
    let r = app
        .gql(
            "mutation { createPost(input: {post: {title: \"t\", body: \"b\"}}) { post { title body } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        r.data()["createPost"]["post"],
        json!({"title": "t", "body": "b"}),
        "{}",
        r.body
    );
}
