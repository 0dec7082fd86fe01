//! SIGTERM: stop accepting, let requests in flight finish within `--shutdown-timeout`, exit 0.

mod common;

use common::{app_with, Options};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SLOW: &str =
    "create function app_public.slow(seconds float8) returns integer language sql stable as \
    $$ select 1 from pg_sleep(seconds) $$; \
    grant execute on function app_public.slow(float8) to app_anonymous;";

/// Starts `postgraph serve` on `connection`; returns it and its GraphQL URL.
fn serve(connection: &str, shutdown_timeout_ms: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postgraph"))
        .args([
            "serve",
            "--port",
            "0",
            "--connection",
            connection,
            "--default-role",
            "app_anonymous",
            "--shutdown-timeout",
            shutdown_timeout_ms,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(u) = line.trim().strip_prefix("GraphQL:") {
                let _ = tx.send(u.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve printed its URL");
    (child, url)
}

fn term(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

/// Waits for the exit, at most `bound`; returns whether it exited 0 and how long it took.
fn exit_within(child: &mut Child, bound: Duration) -> (bool, Duration) {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s.success(), started.elapsed());
        }
        assert!(started.elapsed() < bound, "no exit within {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn slow(url: String, seconds: f64) -> Result<serde_json::Value, reqwest::Error> {
    reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({ "query": format!("{{ slow(seconds: {seconds}) }}") }))
        .send()
        .await?
        .json()
        .await
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits_0() {
    let app = app_with(Options {
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    let (mut child, url) = serve(&app.authenticator_url, "10000");
    let in_flight = tokio::spawn(slow(url.clone(), 1.5));
    tokio::time::sleep(Duration::from_millis(500)).await;
    term(&child);
    let body = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(body["data"]["slow"], 1, "{body}");
    let (ok, took) = exit_within(&mut child, Duration::from_secs(10));
    assert!(ok, "exit 0");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Stopped accepting.
    assert!(slow(url, 0.0).await.is_err());
}

#[tokio::test]
async fn sigterm_does_not_wait_longer_than_the_shutdown_timeout() {
    let app = app_with(Options {
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    let (mut child, url) = serve(&app.authenticator_url, "500");
    let in_flight = tokio::spawn(slow(url, 30.0));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    term(&child);
    let (ok, _) = exit_within(&mut child, Duration::from_secs(10));
    assert!(ok, "exit 0");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        in_flight.await.unwrap().is_err(),
        "the cut-off request got no answer"
    );
}
