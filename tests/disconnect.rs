//! A client that hangs up mid-request: its query is cancelled, its transaction rolled back,
//! and its connection never handed to another request.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const SLOW: &str = "create table public.slow_log (note text); \
    grant insert, select on public.slow_log to app_anonymous; \
    create function app_public.slow(seconds float8) returns integer language sql stable as \
    $$ select 1 from pg_sleep(seconds) $$; \
    create function app_public.slow_write(seconds float8) returns integer language plpgsql volatile as \
    $$ begin insert into public.slow_log values ('written'); perform pg_sleep(seconds); return 1; end $$; \
    grant execute on function app_public.slow(float8), app_public.slow_write(float8) to app_anonymous;";

/// Sends `query` over a raw connection and hangs up, without reading, once the database is
/// running a statement containing `marker` (so the request surely got that far).
async fn hang_up(app: &TestApp, query: &str, marker: &str) {
    let body = json!({ "query": query }).to_string();
    let mut conn = tokio::net::TcpStream::connect(app.running.addr)
        .await
        .unwrap();
    conn.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    loop {
        let running = backends(app)
            .await
            .iter()
            .any(|r| r["state"] == "active" && r["query"].as_str().unwrap_or("").contains(marker));
        if running {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the request never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(conn);
}

/// The engine's backends in this test's database: (state, query).
async fn backends(app: &TestApp) -> Vec<Value> {
    app.sql(&format!(
        "select state, query from pg_stat_activity where datname = '{}' and usename = 'app_authenticator'",
        app.database
    ))
    .await
}

/// Waits until no backend of the engine runs `pg_sleep` or sits idle in a transaction.
async fn settled(app: &TestApp) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let b = backends(app).await;
        let busy = b
            .iter()
            .any(|r| r["state"] != "idle" || r["query"].as_str().unwrap_or("").contains("slow"));
        if !busy || started.elapsed() > Duration::from_secs(3) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_client_hanging_up_mid_query_cancels_it_and_frees_the_connection() {
    let app = app_with(Options {
        max_pool_size: 1,
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    let started = Instant::now();
    hang_up(&app, "{ slow(seconds: 10) }", "slow").await;
    let left = settled(&app).await;
    assert!(
        left.iter()
            .all(|r| r["state"] == "idle" && !r["query"].as_str().unwrap().contains("slow")),
        "the query still runs: {left:?}"
    );
    // The pool's only connection serves the next request at once, outside any old transaction.
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_client_hanging_up_mid_mutation_leaves_nothing_written() {
    let app = app_with(Options {
        max_pool_size: 1,
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    hang_up(
        &app,
        "mutation { slowWrite(input: {seconds: 10}) { integer } }",
        "slow_write",
    )
    .await;
    let left = settled(&app).await;
    assert!(
        left.iter().all(|r| r["state"] == "idle"),
        "a backend is still busy or idle in transaction: {left:?}"
    );
    let rows = app.sql("select count(*) as n from public.slow_log").await;
    assert_eq!(rows[0]["n"], 0, "the hung-up mutation was rolled back");
    // The next mutation on the pool's only connection commits on its own.
    let r = app
        .gql(
            "mutation { slowWrite(input: {seconds: 0}) { integer } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.data()["slowWrite"]["integer"], 1, "{}", r.body);
    let rows = app.sql("select count(*) as n from public.slow_log").await;
    assert_eq!(rows[0]["n"], 1);
}
