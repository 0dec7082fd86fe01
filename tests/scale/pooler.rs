//! `--pooler transaction` behind real pgbouncer in transaction mode.

use super::common::{Options, TestApp};
use super::{through_pooler, ws, NOTIFY_ON_POST, POOLER_SIZE};
use postgraph::exec::StatementMode;
use postgraph::server::ScaleConfig;
use serde_json::{json, Value};

/// `--pooler transaction` (Unnamed), `--pooler none` (Cached), or not given (None).
fn mode(statement_mode: Option<StatementMode>, max_pool_size: usize) -> Options {
    Options {
        max_pool_size,
        simple_subscriptions: true,
        scale: ScaleConfig {
            statement_mode,
            ..ScaleConfig::default()
        },
        ..Options::default()
    }
}

/// Holds every server connection but one of the database's pgbouncer pool in an open
/// transaction: the next transaction gets a server connection of its own.
async fn occupy_all_but_one(app: &TestApp) -> Vec<tokio_postgres::Client> {
    let mut held = vec![];
    for _ in 0..POOLER_SIZE - 1 {
        let c = postgraph::db::connect(&app.authenticator_url)
            .await
            .expect("through pgbouncer");
        c.batch_execute("begin; select 1").await.expect("begin");
        held.push(c);
    }
    held
}

#[tokio::test]
async fn named_statements_break_behind_pgbouncer_and_the_pooler_mode_uses_none() {
    let query = "{ allPosts { totalCount } }";
    // With `--pooler none`: a statement prepared on one server connection is used on
    // another (the issue's `prepared statement "s8" does not exist`).
    let app = through_pooler(mode(Some(StatementMode::Cached), 1), None).await;
    let warm = app.gql(query, json!({}), None).await;
    assert_eq!(warm.data()["allPosts"]["totalCount"], 0, "{}", warm.body);
    let held = occupy_all_but_one(&app).await;
    let broken = app.gql(query, json!({}), None).await;
    let message = broken.errors().map(|e| e[0]["message"].to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("prepared statement") && m.contains("does not exist")),
        "{}",
        broken.body
    );
    drop(held);

    // With it, the same sequence works: nothing named outlives a transaction.
    let app = through_pooler(mode(Some(StatementMode::Unnamed), 1), None).await;
    let warm = app.gql(query, json!({}), None).await;
    assert_eq!(warm.data()["allPosts"]["totalCount"], 0, "{}", warm.body);
    let held = occupy_all_but_one(&app).await;
    let fine = app.gql(query, json!({}), None).await;
    assert_eq!(fine.status, 200);
    assert!(fine.errors().is_none(), "{}", fine.body);
    assert_eq!(fine.data()["allPosts"]["totalCount"], 0);
    drop(held);
}

#[tokio::test]
async fn without_the_flag_a_transaction_pooler_is_detected_at_startup() {
    let query = "{ allPosts { totalCount } }";
    let app = through_pooler(mode(None, 1), None).await;
    assert_eq!(
        app.running.engine.exec.statement_mode(),
        StatementMode::Unnamed
    );
    // The sequence that breaks named statements works.
    let warm = app.gql(query, json!({}), None).await;
    assert_eq!(warm.data()["allPosts"]["totalCount"], 0, "{}", warm.body);
    let held = occupy_all_but_one(&app).await;
    let fine = app.gql(query, json!({}), None).await;
    assert!(fine.errors().is_none(), "{}", fine.body);
    assert_eq!(fine.data()["allPosts"]["totalCount"], 0);
    drop(held);
    // A direct connection is not taken for a pooler: statements stay prepared.
    let direct = super::common::app_with(mode(None, 1)).await;
    assert_eq!(
        direct.running.engine.exec.statement_mode(),
        StatementMode::Cached
    );
}

const ROUNDS: usize = 4;
const USERS: usize = 16;

/// One user's interleaved work: drafts created, read back, renamed, one deleted; every read
/// checks that it ran under this user's claims and no one else's.
async fn work(app: &TestApp, name: String, token: String) -> Vec<i64> {
    let mut ids = vec![];
    for round in 0..ROUNDS {
        let created = app
            .gql(
                "mutation($t: String!) { createPost(input: {post: {title: $t}}) { post { id title } } }",
                json!({"t": format!("draft of {name} {round}")}),
                Some(&token),
            )
            .await;
        assert!(created.errors().is_none(), "{}", created.body);
        let id = created.data()["createPost"]["post"]["id"].as_i64().unwrap();
        ids.push(id);
        let seen = app
            .gql(
                "{ me { username } allPosts(condition: {published: false}) { nodes { title } } }",
                json!({}),
                Some(&token),
            )
            .await;
        assert!(seen.errors().is_none(), "{}", seen.body);
        assert_eq!(
            seen.data()["me"]["username"],
            name.as_str(),
            "claims leaked"
        );
        let titles: Vec<&str> = seen.data()["allPosts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles.len(), round + 1, "{titles:?}");
        for t in titles {
            assert!(
                t.starts_with(&format!("draft of {name} "))
                    || t.starts_with(&format!("renamed by {name} ")),
                "{name} sees another's draft: {t}"
            );
        }
        let renamed = app
            .gql(
                "mutation($id: Int!, $t: String!) { updatePostById(input: {id: $id, postPatch: {title: $t}}) { post { title } } }",
                json!({"id": id, "t": format!("renamed by {name} {round}")}),
                Some(&token),
            )
            .await;
        assert!(renamed.errors().is_none(), "{}", renamed.body);
        // Anonymous requests in between see no one's drafts and no one.
        let anonymous = app
            .gql("{ me { id } allPosts { totalCount } }", json!({}), None)
            .await;
        assert_eq!(
            anonymous.data(),
            &json!({"me": null, "allPosts": {"totalCount": 0}})
        );
    }
    let deleted = app
        .gql(
            "mutation($id: Int!) { deletePostById(input: {id: $id}) { post { id } } }",
            json!({"id": ids[0]}),
            Some(&token),
        )
        .await;
    assert!(deleted.errors().is_none(), "{}", deleted.body);
    ids
}

#[tokio::test]
async fn the_read_and_write_api_keeps_each_users_claims_behind_pgbouncer() {
    let app = through_pooler(mode(Some(StatementMode::Unnamed), 8), None).await;
    let names: Vec<String> = (0..USERS).map(|i| format!("pooled_{i}")).collect();
    let tokens = futures::future::join_all(names.iter().map(|n| app.signup(n))).await;
    futures::future::join_all(
        names
            .iter()
            .zip(tokens)
            .map(|(n, t)| work(&app, n.clone(), t)),
    )
    .await;
    // In the database: each user's drafts, renamed, the first deleted.
    let rows: Vec<Value> = app
        .sql(
            "select u.username, count(*) as posts, bool_and(p.title like 'renamed by ' || u.username || ' %') as renamed \
             from app_public.posts p join app_public.users u on u.id = p.author_id group by u.username order by 1",
        )
        .await;
    assert_eq!(rows.len(), USERS);
    for r in rows {
        assert_eq!(r["posts"], (ROUNDS - 1) as i64, "{r}");
        assert_eq!(r["renamed"], true, "{r}");
    }
}

#[tokio::test]
async fn subscriptions_behind_pgbouncer_listen_on_their_direct_connection() {
    let app = through_pooler(mode(Some(StatementMode::Unnamed), 4), Some(NOTIFY_ON_POST)).await;
    let token = app.signup("listener").await;
    let mut socket = ws::connect(app.running.addr, Some(&token)).await;
    ws::listen_posts(
        &mut socket,
        "{ relatedNodeId relatedNode { ... on Post { title } } }",
    )
    .await;
    let created = app
        .gql(
            "mutation { createPost(input: {post: {title: \"pooled event\"}}) { post { id } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert!(created.errors().is_none(), "{}", created.body);
    let event = ws::recv(&mut socket).await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(
        event["payload"]["data"]["listen"]["relatedNode"]["title"], "pooled event",
        "{event}"
    );
    // The LISTEN is on a direct backend, not one of pgbouncer's.
    let listeners = app
        .sql("select count(*) from pg_stat_activity where application_name = 'postgraph listen' and backend_type = 'client backend' and datname = current_database()")
        .await;
    assert_eq!(listeners[0]["count"], 1);
}
