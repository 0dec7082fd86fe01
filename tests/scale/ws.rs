//! A small graphql-transport-ws client: connect with a token, subscribe, read what comes.

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub use super::common::ws::{recv, send, Socket};

/// An acknowledged socket to `addr`'s `/graphql`, authenticated with `token`.
pub async fn connect(addr: std::net::SocketAddr, token: Option<&str>) -> Socket {
    let payload = match token {
        Some(t) => json!({"authorization": format!("Bearer {t}")}),
        None => json!({}),
    };
    connect_with(addr, payload).await
}

/// An acknowledged socket to `addr`'s `/graphql`, initialised with `payload`.
pub async fn connect_with(addr: std::net::SocketAddr, payload: Value) -> Socket {
    let mut req = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut s, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    send(
        &mut s,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    let ack = recv(&mut s).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    s
}

/// Subscribes to `listen(topic: "posts")` with `selection`, then waits for a query sent after
/// it: operations are taken in order, so the subscription listens once that is answered.
pub async fn listen_posts(s: &mut Socket, selection: &str) {
    let query = format!("subscription {{ listen(topic: \"posts\") {selection} }}");
    send(
        s,
        json!({"type": "subscribe", "id": "sub", "payload": {"query": query}}),
    )
    .await;
    send(
        s,
        json!({"type": "subscribe", "id": "sync", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    let answer = recv(s).await;
    assert_eq!(answer["id"], "sync", "{answer}");
    assert_eq!(recv(s).await["type"], "complete");
}
