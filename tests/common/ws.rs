//! A GraphQL-over-WebSocket client for tests: open a socket with a subprotocol and headers,
//! send JSON, read the next message (a close frame as `{"close": code, "reason": ...}`).

use super::TestApp;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub const MODERN: &str = "graphql-transport-ws";
pub const LEGACY: &str = "graphql-ws";

/// Guards every wait so that a broken server fails the test instead of hanging it.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub async fn open(app: &TestApp, protocol: &str, headers: &[(&str, &str)]) -> Socket {
    let url = format!("ws://{}{}", app.running.addr, app.running.graphql_route);
    let mut req = url.into_client_request().unwrap();
    if !protocol.is_empty() {
        req.headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
    }
    for (k, v) in headers {
        let name: http::HeaderName = k.parse().unwrap();
        req.headers_mut().insert(name, v.parse().unwrap());
    }
    let (socket, response) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    if !protocol.is_empty() {
        assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    }
    socket
}

pub async fn send(s: &mut Socket, v: Value) {
    s.send(Message::text(v.to_string())).await.expect("send");
}

/// What the server sent next (legacy keep-alives skipped); a close frame as
/// `{"close": code, "reason": ...}`, a broken connection as `{"error": ...}`.
pub async fn recv(s: &mut Socket) -> Value {
    loop {
        let m = tokio::time::timeout(PATIENCE, s.next())
            .await
            .expect("a message in time");
        match m {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "ka" {
                    return v;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                return json!({"close": code, "reason": reason});
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return json!({"error": e.to_string()}),
            None => return json!({"error": "ended"}),
        }
    }
}
