//! The `postgraph serve` binary with every scale-out flag: through pgbouncer with
//! `--pooler transaction`, LISTEN on `--listen-connection`, reads on a `--read-replica`.

use super::common::{self, SECRET};
use super::{pooler, ws, NOTIFY_ON_POST};
use postgraph::config::example;
use postgraph::http::POSITION_HEADER;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_postgraph");

/// Stops the server when the test ends, however it ends.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_with_a_pooler_a_listen_connection_and_a_replica() {
    let (database, _admin, direct) = common::fresh_database(Some(NOTIFY_ON_POST)).await;
    let pooled = pooler()
        .await
        .connection_string(example::AUTHENTICATOR, &database);
    let replica = common::cluster()
        .await
        .start_replica()
        .await
        .expect("replica");
    let replica_url = replica.connection_string(example::AUTHENTICATOR, &database);
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--port",
            "0",
            "--connection",
            &pooled,
            "--schema",
            "app_public",
        ])
        .args(["--pooler", "transaction", "--listen-connection", &direct])
        .args(["--read-replica", &replica_url, "--replica-max-lag", "1h"])
        .args(["--simple-subscriptions", "--jwt-secret", SECRET])
        .args(["--jwt-token-identifier", example::JWT_TOKEN_IDENTIFIER])
        .args(["--default-role", example::DEFAULT_ROLE])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let _serving = Serving(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(u) = line.trim().strip_prefix("GraphQL:") {
                let _ = tx.send(u.trim().to_string());
            }
        }
    });
    let url = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("serve printed its URL");
    let http = reqwest::Client::new();
    let post = |body: Value, token: Option<&str>| {
        let mut req = http.post(&url).json(&body);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        req.send()
    };

    let signup = post(
        json!({"query": "mutation { signup(input: {username: \"cli_user\", email: \"cli@example.com\", password: \"correct horse battery\"}) { jwtToken } }"}),
        None,
    )
    .await
    .unwrap();
    let position = signup.headers()[POSITION_HEADER].clone();
    let body: Value = signup.json().await.unwrap();
    let token = body["data"]["signup"]["jwtToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();

    let ready: Value = http
        .get(url.replace("/graphql", "/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["replicas"][0]["state"], "ok", "{ready}");

    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .parse()
        .unwrap();
    let mut socket = ws::connect(addr, Some(&token)).await;
    ws::listen_posts(&mut socket, "{ relatedNode { ... on Post { title } } }").await;
    let created: Value = post(
        json!({"query": "mutation { createPost(input: {post: {title: \"from the binary\", published: true}}) { post { id } } }"}),
        Some(&token),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(created.get("errors").is_none(), "{created}");
    let event = ws::recv(&mut socket).await;
    assert_eq!(
        event["payload"]["data"]["listen"]["relatedNode"]["title"], "from the binary",
        "{event}"
    );
    // Read after the sign-up's position: the replica shows it, or the primary answers.
    let me: Value = http
        .post(&url)
        .header("authorization", format!("Bearer {token}"))
        .header(POSITION_HEADER, position)
        .json(&json!({"query": "{ me { username } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["me"]["username"], "cli_user", "{me}");
}
