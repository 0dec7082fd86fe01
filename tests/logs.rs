//! The request log of the `postgraph` binary: one line per request with operation, status,
//! duration, role and SQLSTATE; `--log-format json`; never a token or a password.

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_postgraph");

/// `postgraph serve` with JSON logs on `connection`, plus `extra` flags: the process, its
/// GraphQL URL, and its log lines (collected until it exits).
fn serve(
    connection: &str,
    extra: &[&str],
) -> (
    std::process::Child,
    String,
    std::thread::JoinHandle<Vec<String>>,
) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--schema",
            "app_public",
            "--port",
            "0",
            "--log-format",
            "json",
            "--connection",
            connection,
            "--jwt-secret",
            common::SECRET,
            "--jwt-token-identifier",
            "app_public.jwt_token",
            "--default-role",
            "app_anonymous",
        ])
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
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
    (child, url, log)
}

/// SIGTERM, the exit, and the log lines as JSON.
fn stop(
    mut child: std::process::Child,
    log: std::thread::JoinHandle<Vec<String>>,
) -> (String, Vec<Value>) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "no exit");
        std::thread::sleep(Duration::from_millis(50));
    }
    let lines = log.join().unwrap();
    let events = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    (lines.join("\n"), events)
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_with_role_and_sqlstate_and_no_secrets() {
    let app = common::app().await;
    let (child, url, log) = serve(&app.authenticator_url, &[]);
    let http = reqwest::Client::new();
    let post = |body: Value, token: Option<String>| {
        let mut req = http.post(&url).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    let password = "a very secret passphrase";
    let signup = post(
        json!({"query": "mutation SignUp($p: String!) { signup(input: {username: \"lena\", email: \"lena@example.com\", password: $p}) { jwtToken } }", "variables": {"p": password}, "operationName": "SignUp"}),
        None,
    )
    .await;
    let token = signup["data"]["signup"]["jwtToken"]
        .as_str()
        .expect("token")
        .to_string();
    let me = post(
        json!({"query": "query Me { me { username } }", "operationName": "Me"}),
        Some(token.clone()),
    )
    .await;
    assert_eq!(me["data"]["me"]["username"], "lena");
    // Anonymous may not insert posts: RLS refuses with 42501.
    let refused = post(
        json!({"query": "mutation { createPost(input: {post: {title: \"t\"}}) { post { id } } }"}),
        None,
    )
    .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "42501");
    let bad = post(json!({"query": "{ nope }"}), Some(token.clone())).await;
    assert!(bad["errors"].is_array());

    let (all, events) = stop(child, log);
    assert!(!all.contains(&token), "a token in the log:\n{all}");
    assert!(!all.contains(password), "a password in the log:\n{all}");
    let requests: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"] == "request" && e["path"] == "/graphql")
        .collect();
    assert_eq!(requests.len(), 4, "one line per request:\n{all}");
    for r in &requests {
        assert_eq!(r["level"], "INFO");
        assert!(r["ms"].as_f64().is_some(), "{r}");
        assert_eq!(r["method"], "POST");
    }
    let (signup, me, refused, bad) = (requests[0], requests[1], requests[2], requests[3]);
    assert_eq!(signup["operation"], "SignUp");
    assert_eq!(signup["role"], "app_anonymous");
    assert_eq!(signup["status"], 200);
    assert!(signup.get("code").is_none(), "{signup}");
    assert_eq!(me["operation"], "Me");
    assert_eq!(me["role"], "app_user");
    assert_eq!(refused["role"], "app_anonymous");
    assert_eq!(refused["code"], "42501");
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["code"], "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn requests_refused_before_the_engine_still_log_one_line_with_status_and_code() {
    let app = common::app().await;
    let (child, url, log) = serve(
        &app.authenticator_url,
        &[
            "--body-size-limit",
            "1000",
            "--body-timeout",
            "300",
            "--header-timeout",
            "300",
        ],
    );
    let http = reqwest::Client::new();
    let send =
        |req: reqwest::RequestBuilder| async move { req.send().await.unwrap().status().as_u16() };
    let json = "application/json";
    let too_large = http
        .post(&url)
        .header("content-type", json)
        .body("x".repeat(2000));
    assert_eq!(send(too_large).await, 413);
    let text = http
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}");
    assert_eq!(send(text).await, 415);
    assert_eq!(send(http.put(&url)).await, 405);
    let long_token = http
        .post(&url)
        .header("content-type", json)
        .header("authorization", format!("Bearer {}", "a".repeat(9000)))
        .body("{}");
    assert_eq!(send(long_token).await, 431);
    let malformed = http.post(&url).header("content-type", json).body("{nope");
    assert_eq!(send(malformed).await, 400);

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_string();
    // A body that never arrives: 408.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut got)).await;
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 408"));
    // Headers that never end: no request reaches the routes, the connection is refused.
    let mut slower = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slower
        .write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), slower.read_to_end(&mut got)).await;

    // Requests hyper refuses itself: not HTTP, and headers beyond its buffer.
    for (request, status) in [
        (b"NOT HTTP AT ALL\r\n\r\n".to_vec(), "HTTP/1.1 400"),
        (
            format!(
                "GET /graphql HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
                "b".repeat(500_000)
            )
            .into_bytes(),
            "HTTP/1.1 431",
        ),
    ] {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let _ = conn.write_all(&request).await;
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut got)).await;
        // hyper answers and closes while the rest is still being sent, so the read may be cut
        // short by a reset: what did arrive must be (the start of) the expected answer.
        let got = String::from_utf8_lossy(&got);
        assert!(
            got.starts_with(status) || status.starts_with(&*got),
            "{got}"
        );
    }

    let (all, events) = stop(child, log);
    let requests: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"] == "request" && e["path"] == "/graphql")
        .collect();
    let seen: Vec<(u64, &str)> = requests
        .iter()
        .map(|r| {
            (
                r["status"].as_u64().unwrap(),
                r["code"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (413, "PAYLOAD_TOO_LARGE"),
            (415, "UNSUPPORTED_MEDIA_TYPE"),
            (405, "METHOD_NOT_ALLOWED"),
            (431, "REQUEST_HEADER_FIELDS_TOO_LARGE"),
            (400, "BAD_REQUEST"),
            (408, "REQUEST_TIMEOUT"),
        ],
        "{all}"
    );
    let refused: Vec<&str> = events
        .iter()
        .filter(|e| e["message"] == "connection refused")
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(
        refused,
        [
            "HEADER_TIMEOUT",
            "MALFORMED_REQUEST",
            "REQUEST_HEADER_FIELDS_TOO_LARGE"
        ],
        "{all}"
    );
}

#[tokio::test]
async fn a_refused_socket_logs_one_line_with_its_close_code() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let app = common::app().await;
    let (child, url, log) = serve(&app.authenticator_url, &[]);
    let mut req = url
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": "Bearer not.a.token"}});
    socket.send(Message::text(init.to_string())).await.unwrap();
    // Read until the server's Close (the client answers it while reading).
    while let Some(Ok(m)) = socket.next().await {
        if m.is_close() {
            break;
        }
    }
    let (all, events) = stop(child, log);
    let refused: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"] == "websocket refused")
        .collect();
    assert_eq!(refused.len(), 1, "{all}");
    assert_eq!(refused[0]["close"], 4403, "{all}");
    assert_eq!(refused[0]["reason"], "Forbidden: JWT_MALFORMED", "{all}");
    assert_eq!(refused[0]["protocol"], "graphql-transport-ws", "{all}");
    assert!(!all.contains("not.a.token"), "a token in the log:\n{all}");
}
