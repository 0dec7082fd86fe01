//! Postgres restarted under load: requests in flight get 503 with `Retry-After`, no write is
//! half committed, every acknowledged write is there, and postgraph serves again at once
//! without a restart of its own. A binary of its own: it restarts its own cluster.

mod common;

use common::{Options, TestApp};
use postgraph::config::example;
use postgraph::db::embedded::EmbeddedOptions;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SLOW: &str = "create table public.slow_log (note text); \
    grant insert, select on public.slow_log to app_anonymous; \
    create function app_public.slow(seconds float8) returns integer language sql stable as \
    $$ select 1 from pg_sleep(seconds) $$; \
    create function app_public.slow_write(seconds float8) returns integer language plpgsql volatile as \
    $$ begin insert into public.slow_log values ('written'); perform pg_sleep(seconds); return 1; end $$; \
    grant execute on function app_public.slow(float8), app_public.slow_write(float8) to app_anonymous;";

/// Waits until the database runs a statement containing `marker`.
async fn running(app: &TestApp, marker: &str) {
    let started = Instant::now();
    loop {
        let active = app
            .sql("select query from pg_stat_activity where state = 'active' and usename = 'app_authenticator'")
            .await;
        if active
            .iter()
            .any(|r| r["query"].as_str().unwrap_or("").contains(marker))
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never ran {marker}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A reply is either a full success or a 503 that says to retry: nothing in between.
fn assert_success_or_retry(r: &common::Reply) -> bool {
    if r.status == 200 && r.errors().is_none() {
        return true;
    }
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(
        r.first_error_code(),
        Some("DATABASE_UNAVAILABLE"),
        "{}",
        r.body
    );
    assert!(r.headers.get("retry-after").is_some());
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_gives_503s_keeps_acknowledged_writes_and_recovers() {
    let (mut pg, conn) = postgraph::server::embedded_example(EmbeddedOptions::default(), false)
        .await
        .expect("embedded example");
    let admin_url = pg.connection_string(pg.superuser(), example::DATABASE);
    postgraph::db::connect(&admin_url)
        .await
        .unwrap()
        .batch_execute(SLOW)
        .await
        .unwrap();
    let opts = Options {
        max_pool_size: 4,
        ..Options::default()
    };
    let app = Arc::new(TestApp {
        running: common::serve(&conn, &opts).await.expect("server"),
        http: reqwest::Client::new(),
        database: example::DATABASE.into(),
        admin_url,
        authenticator_url: conn,
    });
    let token = app.signup("rita").await;

    // In flight when Postgres goes down: a long read and a long write.
    let read = tokio::spawn({
        let app = app.clone();
        async move { app.gql("{ slow(seconds: 60) }", json!({}), None).await }
    });
    let write = tokio::spawn({
        let app = app.clone();
        async move {
            app.gql(
                "mutation { slowWrite(input: {seconds: 60}) { integer } }",
                json!({}),
                None,
            )
            .await
        }
    });
    running(&app, "\"slow\"(").await;
    running(&app, "slow_write").await;

    // And steady load: writes whose acknowledgements are kept, and reads.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut load = vec![];
    for worker in 0..2 {
        let (app, stop, acknowledged, token) = (
            app.clone(),
            stop.clone(),
            acknowledged.clone(),
            token.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let title = format!("w{worker}-{n}");
                n += 1;
                let r = app
                    .gql(
                        "mutation($t: String!) { createPost(input: {post: {title: $t}}) { post { title } } }",
                        json!({ "t": title }),
                        Some(&token),
                    )
                    .await;
                if assert_success_or_retry(&r) {
                    assert_eq!(r.data()["createPost"]["post"]["title"], title.as_str());
                    acknowledged.lock().unwrap().push(title);
                }
                let r = app.gql("{ allPosts { totalCount } }", json!({}), None).await;
                assert_success_or_retry(&r);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    pg.restart().await.expect("restart");

    for r in [read.await.unwrap(), write.await.unwrap()] {
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(
            r.first_error_code(),
            Some("DATABASE_UNAVAILABLE"),
            "{}",
            r.body
        );
        assert_eq!(
            r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("5")
        );
    }
    // Load carries on through the restart for a moment, then stops.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.expect("load worker");
    }

    // Postgraph serves again without a restart: every request, on every pooled connection
    // (three times the pool), succeeds; none is handed a connection that died.
    for i in 0..12 {
        let r = app
            .gql(
                "mutation($t: String!) { createPost(input: {post: {title: $t}}) { post { title } } }",
                json!({ "t": format!("after-{i}") }),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.errors().is_none(), "{}", r.body);
        acknowledged.lock().unwrap().push(format!("after-{i}"));
        let r = app
            .gql("{ allPosts { totalCount } }", json!({}), None)
            .await;
        assert!(r.errors().is_none(), "{}", r.body);
    }

    let ready = reqwest::get(format!("http://{}/ready", app.running.addr))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);

    // Nothing of the interrupted write; every acknowledged post.
    let rows = app.sql("select count(*) as n from public.slow_log").await;
    assert_eq!(rows[0]["n"], 0, "the interrupted write was rolled back");
    let titles: Vec<String> = app
        .sql("select title from app_public.posts")
        .await
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    let acknowledged = acknowledged.lock().unwrap();
    assert!(acknowledged.len() >= 12);
    for t in acknowledged.iter() {
        assert!(titles.contains(t), "acknowledged {t} is missing");
    }
}
