//! A small graphql-transport-ws client: connect with a token, subscribe, read what comes.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Guards every wait, so a broken server fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(20);

/// An acknowledged socket to `addr`'s `/graphql`, authenticated with `token`.
pub async fn connect(addr: std::net::SocketAddr, token: Option<&str>) -> Socket {
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
    let payload = match token {
        Some(t) => json!({"authorization": format!("Bearer {t}")}),
        None => json!({}),
    };
    send(
        &mut s,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    let ack = recv(&mut s).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    s
}

pub async fn send(s: &mut Socket, v: Value) {
    s.send(Message::text(v.to_string())).await.expect("send");
}

/// The next JSON message (pings answered by the library, other frames skipped).
pub async fn recv(s: &mut Socket) -> Value {
    loop {
        let m = tokio::time::timeout(PATIENCE, s.next())
            .await
            .expect("a message in time");
        match m {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Close(f))) => return json!({"close": f.map(|f| u16::from(f.code))}),
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
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
