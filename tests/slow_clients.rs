//! Slow and greedy clients: headers or a body sent slowly get the connection closed (or a
//! 408), and beyond `--max-connections` new connections wait until one closes; the server
//! answers everyone else throughout.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An upper bound for things that must happen, so a broken server fails the test rather
/// than hanging it.
const BOUND: Duration = Duration::from_secs(10);

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(conn: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&got).into_owned()
}

async fn still_serves(app: &TestApp) {
    let r = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
}

fn quick_timeouts() -> Options {
    Options {
        header_timeout_ms: 300,
        body_timeout_ms: 300,
        ..Options::default()
    }
}

#[tokio::test]
async fn headers_sent_slowly_get_the_connection_closed() {
    let app = app_with(quick_timeouts()).await;
    let mut conn = TcpStream::connect(app.running.addr).await.unwrap();
    conn.write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // One header line at a time, never the blank line that ends them.
    let (mut reader, mut writer) = conn.into_split();
    let trickle = tokio::spawn(async move {
        for i in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if writer
                .write_all(format!("x-slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return true;
            }
        }
        false
    });
    let mut got = Vec::new();
    let closed = tokio::time::timeout(BOUND, reader.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "the server waited for the headers forever");
    let got = String::from_utf8_lossy(&got);
    assert!(
        got.is_empty() || got.starts_with("HTTP/1.1 408"),
        "no answer but a 408: {got}"
    );
    trickle.abort();
    still_serves(&app).await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_header_timeout() {
    let app = app_with(quick_timeouts()).await;
    let mut conn = TcpStream::connect(app.running.addr).await.unwrap();
    assert_eq!(read_to_close(&mut conn).await, "");
    still_serves(&app).await;
}

#[tokio::test]
async fn a_body_sent_slowly_is_answered_408_and_the_connection_closed() {
    let app = app_with(quick_timeouts()).await;
    let mut conn = TcpStream::connect(app.running.addr).await.unwrap();
    let body = json!({"query": "{ allPosts { totalCount } }"}).to_string();
    conn.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
            body.len(),
            &body[..5]
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let got = read_to_close(&mut conn).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("\"REQUEST_TIMEOUT\""), "{got}");
    still_serves(&app).await;
}

#[tokio::test]
async fn beyond_max_connections_new_connections_wait_until_one_closes() {
    let app = app_with(Options {
        max_connections: 2,
        ..Options::default()
    })
    .await;
    // Two connections take both slots (they sit idle, well within the header timeout).
    let held: Vec<TcpStream> =
        futures::future::join_all((0..2).map(|_| TcpStream::connect(app.running.addr)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    // A third is not served while they are open...
    let mut third = TcpStream::connect(app.running.addr).await.unwrap();
    third
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "served beyond the cap");
    // ...and is as soon as one closes.
    drop(held);
    let got = read_to_close(&mut third).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    still_serves(&app).await;
}
