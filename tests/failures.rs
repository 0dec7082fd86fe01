//! What a client sees when the database is slow or gone: clear errors, right statuses.

mod common;

use common::{app_with, Options};
use serde_json::json;

const SLOW: &str =
    "create function app_public.slow(seconds float8) returns integer language sql stable as \
    $$ select 1 from pg_sleep(seconds) $$; \
    grant execute on function app_public.slow(float8) to app_anonymous;";

#[tokio::test]
async fn the_statement_timeout_applies_after_the_role_switch() {
    let app = app_with(Options {
        setup_sql: Some(SLOW),
        statement_timeout_ms: 300,
        ..Options::default()
    })
    .await;
    let started = std::time::Instant::now();
    let r = app.gql("{ slow(seconds: 5) }", json!({}), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.first_error_code(), Some("57014"), "{}", r.body);
    assert!(r.data()["slow"].is_null());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "the query was not cancelled"
    );
    // The connection is usable again afterwards.
    let r = app.gql("{ slow(seconds: 0) }", json!({}), None).await;
    assert_eq!(r.data()["slow"], 1, "{}", r.body);
}

#[tokio::test]
async fn an_unreachable_database_is_503_with_retry_after() {
    let app = app_with(Options::default()).await;
    let ok = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(ok.status, 200);
    // From another database: Postgres refuses to lock out the database one is connected to.
    let other = app
        .admin_url
        .replace(&format!("dbname={}", app.database), "dbname=postgres");
    let admin = postgraph::db::connect(&other).await.unwrap();
    admin
        .batch_execute(&format!(
            "alter database \"{db}\" allow_connections false; \
             select pg_terminate_backend(pid) from pg_stat_activity where datname = '{db}' and pid <> pg_backend_pid();",
            db = app.database
        ))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("DATABASE_UNAVAILABLE"));
    assert!(r.headers.get("retry-after").is_some());
    let msg = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(
        !msg.contains("allow_connections") && !msg.contains(&app.database),
        "no internals: {msg}"
    );
}

/// A function marked STABLE (so exposed as a query) that writes anyway, through a volatile
/// helper: the read-only transaction of a query stops it.
const SNEAKY: &str = "create table public.sneaky_log (note text); \
    grant insert, select on public.sneaky_log to app_anonymous; \
    create function public.sneaky_insert() returns integer language sql volatile as \
    $$ insert into public.sneaky_log values ('written by a query'); select 1 $$; \
    create function app_public.sneaky() returns integer language sql stable as \
    $$ select public.sneaky_insert() $$; \
    grant execute on function public.sneaky_insert(), app_public.sneaky() to app_anonymous;";

#[tokio::test]
async fn queries_run_read_only_so_a_stable_function_that_writes_fails_and_writes_nothing() {
    let app = app_with(Options {
        setup_sql: Some(SNEAKY),
        ..Options::default()
    })
    .await;
    let r = app.gql("{ sneaky }", json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("25006"), "{}", r.body);
    assert!(r.data()["sneaky"].is_null(), "{}", r.body);
    let rows = app.sql("select count(*) as n from public.sneaky_log").await;
    assert_eq!(rows[0]["n"], 0, "nothing was written");
    // The connection is clean afterwards, and mutations still write.
    let token = app.signup("ivan").await;
    let created = app
        .gql(
            "mutation { createPost(input: {post: {title: \"still writable\"}}) { post { title } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        created.data()["createPost"]["post"]["title"],
        "still writable",
        "{}",
        created.body
    );
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
}

async fn get(
    app: &common::TestApp,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let r = reqwest::get(format!("http://{}{path}", app.running.addr))
        .await
        .expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.expect("JSON body"))
}

#[tokio::test]
async fn health_is_liveness_and_ready_says_whether_the_database_answers() {
    let app = app_with(Options::default()).await;
    let (status, _, body) = get(&app, "/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, _, body) = get(&app, "/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");

    // The database goes away: /ready says so (and fast), /health does not care.
    let other = app
        .admin_url
        .replace(&format!("dbname={}", app.database), "dbname=postgres");
    let admin = postgraph::db::connect(&other).await.unwrap();
    admin
        .batch_execute(&format!(
            "alter database \"{db}\" allow_connections false; \
             select pg_terminate_backend(pid) from pg_stat_activity where datname = '{db}' and pid <> pg_backend_pid();",
            db = app.database
        ))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let (status, headers, body) = get(&app, "/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert!(headers.get("retry-after").is_some());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "/ready took {:?}",
        started.elapsed()
    );
    let (status, _, _) = get(&app, "/health").await;
    assert_eq!(status, 200);

    // Back again: ready without restarting postgraph.
    admin
        .batch_execute(&format!(
            "alter database \"{}\" allow_connections true",
            app.database
        ))
        .await
        .unwrap();
    let (status, _, body) = get(&app, "/ready").await;
    assert_eq!(status, 200, "{body}");
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn ready_reports_a_busy_pool_as_ready() {
    let app = app_with(Options {
        max_pool_size: 1,
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    // The only connection is busy for 3 s.
    let slow = app.gql("{ slow(seconds: 3) }", json!({}), None);
    let probe = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        get(&app, "/ready").await
    };
    let (slow, (status, _, body)) = tokio::join!(slow, probe);
    assert_eq!(slow.data()["slow"], 1, "{}", slow.body);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], "busy");
}

#[tokio::test]
async fn an_exhausted_pool_answers_504_after_the_pool_timeout_and_recovers() {
    let app = app_with(Options {
        max_pool_size: 1,
        pool_timeout_ms: 300,
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    // The only connection is busy for 2 s; a request behind it waits 300 ms, then gives up.
    let slow = app.gql("{ slow(seconds: 2) }", json!({}), None);
    let behind = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        let r = app
            .gql("{ allPosts { totalCount } }", json!({}), None)
            .await;
        (r, started.elapsed())
    };
    let (slow, (behind, waited)) = tokio::join!(slow, behind);
    assert_eq!(slow.data()["slow"], 1, "{}", slow.body);
    assert_eq!(behind.status, 504, "{}", behind.body);
    assert_eq!(behind.first_error_code(), Some("DATABASE_BUSY"));
    assert!(
        waited >= std::time::Duration::from_millis(250)
            && waited < std::time::Duration::from_millis(1500),
        "waited {waited:?}"
    );
    // The server stays healthy: the next request gets the connection.
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Terminates every backend postgraph holds in this test's database, busy or idle.
async fn terminate_backends(app: &common::TestApp) -> usize {
    app.sql(&format!(
        "select pg_terminate_backend(pid) as killed from pg_stat_activity \
         where datname = '{}' and usename = 'app_authenticator'",
        app.database
    ))
    .await
    .len()
}

#[tokio::test]
async fn a_terminated_backend_answers_503_and_its_dead_connections_are_never_reused() {
    let app = std::sync::Arc::new(
        app_with(Options {
            max_pool_size: 3,
            setup_sql: Some(SLOW),
            ..Options::default()
        })
        .await,
    );
    // Three pooled connections: two go idle, one runs a long query.
    let warm = futures::future::join_all(
        (0..3).map(|_| app.gql("{ slow(seconds: 0.2) }", json!({}), None)),
    )
    .await;
    assert!(warm.iter().all(|r| r.errors().is_none()));
    let in_flight = tokio::spawn({
        let app = app.clone();
        async move { app.gql("{ slow(seconds: 60) }", json!({}), None).await }
    });
    let started = std::time::Instant::now();
    while app
        .sql(r#"select 1 from pg_stat_activity where state = 'active' and query like '%"slow"(%' and usename = 'app_authenticator'"#)
        .await
        .is_empty()
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(terminate_backends(&app).await, 3);

    let r = in_flight.await.unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("DATABASE_UNAVAILABLE"));
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let msg = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(msg.contains("connection was lost"), "{msg}");
    // Every request after succeeds: the terminated connections (the idle ones too) are not
    // handed out again; new ones replace them.
    for _ in 0..9 {
        let r = app
            .gql("{ allPosts { totalCount } }", json!({}), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.errors().is_none(), "{}", r.body);
    }
}

const BOOM: &str = "create function app_public.boom() returns integer language plpgsql stable as \
    $$ begin raise exception 'boom'; end $$; \
    grant execute on function app_public.boom() to app_anonymous;";

#[tokio::test]
async fn a_failing_root_field_gives_its_error_and_its_siblings_their_data() {
    let app = app_with(Options {
        setup_sql: Some(BOOM),
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ before: allUsers { totalCount } boom after: allUsers { totalCount } again: boom }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["before"]["totalCount"], 0, "{}", r.body);
    assert_eq!(r.data()["after"]["totalCount"], 0, "{}", r.body);
    assert!(r.data()["boom"].is_null() && r.data()["again"].is_null());
    let errors = r.errors().unwrap();
    assert_eq!(errors.len(), 2, "{}", r.body);
    for (e, path) in errors.iter().zip(["boom", "again"]) {
        assert_eq!(e["extensions"]["code"], "P0001", "{}", r.body);
        assert_eq!(e["message"], "boom");
        assert_eq!(e["path"], json!([path]));
    }
    // No savepoints: a failing field aborts its transaction and the fields after it run
    // again in a fresh one (tests/round_trips.rs counts what that costs).
    assert_eq!(app.statement_count("%savepoint%").await, 0);
}
