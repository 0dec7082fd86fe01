//! The schema changes while postgraph serves: statements prepared before keep working
//! when what they use is still there (no "cached plan must not change result type"), and
//! say clearly that the schema changed when it is not, writing nothing.

mod common;

use common::{app, TestApp};
use serde_json::json;

const READ: &str = "{ allPosts(orderBy: ID_ASC) { nodes { id title body } } }";
const TITLES: &str = "{ allPosts(orderBy: ID_ASC) { nodes { title } } }";
const SUMMARY: &str = "{ allPosts(orderBy: ID_ASC) { nodes { summary(length: 2) } } }";
const ME: &str = "{ me { username name } }";
const BY_ID: &str = "query($id: Int!) { postById(id: $id) { title body } }";
const CREATE: &str = "mutation($t: String!, $b: String) { createPost(input: {post: {title: $t, body: $b}}) { post { id title body } } }";

async fn ddl(app: &TestApp, sql: &str) {
    postgraph::db::connect(&app.admin_url)
        .await
        .unwrap()
        .batch_execute(sql)
        .await
        .unwrap();
}

/// Every statement used once, so each connection has them prepared and cached.
async fn use_everything(app: &TestApp, token: &str, n: usize) -> i64 {
    let created = app
        .gql(
            CREATE,
            json!({"t": format!("post {n}"), "b": "text"}),
            Some(token),
        )
        .await;
    assert!(created.errors().is_none(), "{}", created.body);
    let id = created.data()["createPost"]["post"]["id"].as_i64().unwrap();
    for q in [READ, TITLES, SUMMARY, ME] {
        let r = app.gql(q, json!({}), Some(token)).await;
        assert!(r.errors().is_none(), "{}", r.body);
    }
    let r = app.gql(BY_ID, json!({"id": id}), Some(token)).await;
    assert_eq!(r.data()["postById"]["body"], "text", "{}", r.body);
    id
}

#[tokio::test]
async fn columns_added_or_retyped_while_serving_change_nothing_for_clients() {
    let app = app().await;
    let token = app.signup("sam").await;
    // More than the pool's connections, so every one of them has prepared the statements.
    for n in 0..8 {
        use_everything(&app, &token, n).await;
    }
    ddl(
        &app,
        "alter table app_public.posts add column extra integer",
    )
    .await;
    ddl(
        &app,
        "alter table app_public.posts alter column body type varchar(2000); \
         alter table app_public.users alter column name type varchar(200)",
    )
    .await;
    for n in 8..16 {
        use_everything(&app, &token, n).await;
    }
    let r = app.gql(READ, json!({}), Some(&token)).await;
    assert_eq!(r.data()["allPosts"]["nodes"].as_array().unwrap().len(), 16);
}

#[tokio::test]
async fn a_column_dropped_while_serving_is_a_clear_schema_changed_error_and_writes_nothing() {
    let app = app().await;
    let token = app.signup("tess").await;
    for n in 0..8 {
        use_everything(&app, &token, n).await;
    }
    ddl(&app, "alter table app_public.posts drop column body").await;

    let r = app.gql(READ, json!({}), Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("SCHEMA_CHANGED"), "{}", r.body);
    let message = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(
        message.contains("schema changed") && message.contains("restart postgraph"),
        "{message}"
    );
    assert!(r.data()["allPosts"].is_null());
    let r = app.gql(BY_ID, json!({"id": 1}), Some(&token)).await;
    assert_eq!(r.first_error_code(), Some("SCHEMA_CHANGED"), "{}", r.body);

    let r = app
        .gql(
            CREATE,
            json!({"t": "after the drop", "b": "x"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.first_error_code(), Some("SCHEMA_CHANGED"), "{}", r.body);
    let rows = app
        .sql("select count(*) as n from app_public.posts where title = 'after the drop'")
        .await;
    assert_eq!(rows[0]["n"], 0, "nothing written");

    // What does not touch the dropped column goes on working.
    let r = app.gql(TITLES, json!({}), Some(&token)).await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(r.data()["allPosts"]["nodes"].as_array().unwrap().len(), 8);
}
