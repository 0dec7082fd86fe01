//! `/metrics` (with `--metrics`): Prometheus text with requests by operation and status,
//! errors by code, the latency histogram and the pool's connections.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::json;

async fn metrics(app: &TestApp) -> (u16, String) {
    let r = reqwest::get(format!("http://{}/metrics", app.running.addr))
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the sample named exactly `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn named(app: &TestApp, query: &str, name: &str) -> common::Reply {
    app.post_raw(
        json!({"query": query, "operationName": name}).to_string(),
        &[],
    )
    .await
}

#[tokio::test]
async fn metrics_count_requests_errors_latency_and_pool_connections() {
    let off = app_with(Options::default()).await;
    assert_eq!(metrics(&off).await.0, 404, "off unless --metrics");

    let app = app_with(Options {
        metrics: true,
        ..Options::default()
    })
    .await;
    for _ in 0..2 {
        let r = named(&app, "query Posts { allPosts { totalCount } }", "Posts").await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let invalid = app.gql("{ nope }", json!({}), None).await;
    assert_eq!(invalid.status, 400);
    let refused = named(
        &app,
        "mutation Write { createPost(input: {post: {title: \"t\"}}) { post { id } } }",
        "Write",
    )
    .await;
    assert_eq!(refused.first_error_code(), Some("42501"));

    let (status, text) = metrics(&app).await;
    assert_eq!(status, 200);
    let get = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series}:\n{text}"));
    assert_eq!(
        get(r#"postgraph_requests_total{operation="Posts",status="200"}"#),
        2.0
    );
    assert_eq!(
        get(r#"postgraph_requests_total{operation="",status="400"}"#),
        1.0
    );
    assert_eq!(
        get(r#"postgraph_requests_total{operation="Write",status="200"}"#),
        1.0
    );
    assert_eq!(get(r#"postgraph_errors_total{code="42501"}"#), 1.0);
    assert_eq!(
        get(r#"postgraph_errors_total{code="GRAPHQL_VALIDATION_FAILED"}"#),
        1.0
    );
    assert_eq!(get("postgraph_request_duration_seconds_count"), 4.0);
    assert_eq!(
        get(r#"postgraph_request_duration_seconds_bucket{le="+Inf"}"#),
        4.0
    );
    assert!(get(r#"postgraph_request_duration_seconds_bucket{le="10"}"#) <= 4.0);
    assert!(get("postgraph_request_duration_seconds_sum") > 0.0);
    assert_eq!(get("postgraph_pool_max_connections"), 4.0);
    assert_eq!(get(r#"postgraph_pool_connections{state="in_use"}"#), 0.0);
    assert!(get(r#"postgraph_pool_connections{state="idle"}"#) >= 1.0);
    assert_eq!(get("postgraph_pool_waiting"), 0.0);
    // /metrics and the probes are not GraphQL requests and are not counted.
    let (_, again) = metrics(&app).await;
    assert_eq!(
        sample(&again, "postgraph_request_duration_seconds_count"),
        Some(4.0)
    );
}

const SLOW: &str =
    "create function app_public.slow(seconds float8) returns integer language sql stable as \
    $$ select 1 from pg_sleep(seconds) $$; \
    grant execute on function app_public.slow(float8) to app_anonymous;";

#[tokio::test]
async fn metrics_show_the_pool_in_use_and_requests_waiting() {
    let app = app_with(Options {
        metrics: true,
        max_pool_size: 1,
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    let slow = app.gql("{ slow(seconds: 1.5) }", json!({}), None);
    let waiting = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        app.gql("{ slow(seconds: 0) }", json!({}), None).await
    };
    let probe = async {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        metrics(&app).await.1
    };
    let (slow, waiting, text) = tokio::join!(slow, waiting, probe);
    assert_eq!(slow.data()["slow"], 1, "{}", slow.body);
    assert_eq!(waiting.data()["slow"], 1, "{}", waiting.body);
    assert_eq!(
        sample(&text, r#"postgraph_pool_connections{state="in_use"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "postgraph_pool_waiting"), Some(1.0), "{text}");
}

#[tokio::test]
async fn client_chosen_operation_names_cannot_grow_the_metrics_without_bound() {
    let app = app_with(Options {
        metrics: true,
        ..Options::default()
    })
    .await;
    for i in 0..520 {
        // An unknown operation name: refused (400) before any database work, counted all the same.
        let r = named(&app, "{ __typename }", &format!("op{i}")).await;
        assert_eq!(r.status, 400);
    }
    let (_, text) = metrics(&app).await;
    let series = text
        .lines()
        .filter(|l| l.starts_with("postgraph_requests_total{"))
        .count();
    assert!(series <= 501, "{series} series");
    assert_eq!(
        sample(
            &text,
            r#"postgraph_requests_total{operation="_other",status="400"}"#
        ),
        Some(20.0),
        "{text}"
    );
}

/// The `Server-Timing` entries of a reply: name → milliseconds.
fn timings(r: &common::Reply) -> Vec<(String, f64)> {
    let Some(v) = r.headers.get("server-timing") else {
        return vec![];
    };
    v.to_str()
        .unwrap()
        .split(", ")
        .map(|part| {
            let (name, dur) = part.split_once(";dur=").expect("name;dur=ms");
            (name.to_string(), dur.parse().expect("a number"))
        })
        .collect()
}

#[tokio::test]
async fn responses_carry_server_timing_for_parse_plan_and_database() {
    let app = app_with(Options::default()).await;
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.status, 200);
    let t = timings(&r);
    let names: Vec<&str> = t.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["parse", "plan", "db"], "{t:?}");
    assert!(
        t.iter().all(|(_, ms)| *ms >= 0.0 && *ms < 10_000.0),
        "{t:?}"
    );
    assert!(t[2].1 > 0.0, "the database took some time: {t:?}");

    // Refused by validation: parsed, never planned nor run.
    let r = app.gql("{ nope }", json!({}), None).await;
    let names: Vec<String> = timings(&r).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["parse"]);
    // A bad token stops the request before anything is timed.
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), Some("not.a.jwt"))
        .await;
    assert_eq!(r.status, 401);
    assert!(timings(&r).is_empty());
}
