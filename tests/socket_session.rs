//! Sockets in a browser session: a revoked token's socket is closed at its next event, a legacy
//! socket re-initialises with a refreshed token under the browser's one fingerprint, and a
//! refused socket completes the close handshake, so the client reads the code (not 1006) even
//! when it sent more frames after `connection_init`.

mod common;

use common::ws::{open, recv, send, Socket, LEGACY, MODERN};
use common::{app_with, Options, TestApp};
use serde_json::{json, Value};

fn subscriptions() -> Options {
    Options {
        simple_subscriptions: true,
        pre_request: Some("app_private.check_session"),
        ..Options::default()
    }
}

async fn notify(app: &TestApp, payload: &str) {
    let client = postgraph::db::connect(&app.admin_url).await.unwrap();
    client
        .execute("select pg_notify('postgraphile:posts', $1)", &[&payload])
        .await
        .unwrap();
}

fn start_type(protocol: &str) -> &'static str {
    if protocol == LEGACY {
        "start"
    } else {
        "subscribe"
    }
}

/// Subscribes to `posts` and waits until it listens (a query sent after it is answered).
async fn listen(s: &mut Socket, protocol: &str) {
    let query = "subscription { listen(topic: \"posts\") { query { me { username } } } }";
    send(
        s,
        json!({"type": start_type(protocol), "id": "1", "payload": {"query": query}}),
    )
    .await;
    send(
        s,
        json!({"type": start_type(protocol), "id": "sync", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    loop {
        let m = recv(s).await;
        if m["type"] == "complete" && m["id"] == "sync" {
            return;
        }
        assert!(m.get("close").is_none(), "{m}");
    }
}

async fn init(s: &mut Socket, token: &str) -> Value {
    send(
        s,
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}),
    )
    .await;
    recv(s).await
}

#[tokio::test]
async fn a_revoked_tokens_socket_closes_with_4401_at_its_next_event() {
    let app = app_with(subscriptions()).await;
    for protocol in [MODERN, LEGACY] {
        let gina = app.signup(&format!("gina_{}", protocol.len())).await;
        let mut s = open(&app, protocol, &[]).await;
        assert_eq!(init(&mut s, &gina).await["type"], "connection_ack");
        listen(&mut s, protocol).await;
        notify(&app, "{}").await;
        let event = recv(&mut s).await;
        assert!(event["payload"]["data"]["listen"]["query"]["me"]["username"].is_string());
        let r = app
            .gql(
                "mutation { signoutEverywhere(input: {}) { clientMutationId } }",
                json!({}),
                Some(&gina),
            )
            .await;
        assert_eq!(r.errors(), None, "{}", r.body);
        notify(&app, "{}").await;
        assert_eq!(
            recv(&mut s).await,
            json!({"close": 4401, "reason": "Unauthorized: JWT_REVOKED"}),
            "{protocol}"
        );
    }
}

#[tokio::test]
async fn a_legacy_socket_reinitialises_with_a_refreshed_token_under_the_same_fingerprint() {
    let mut opts = subscriptions();
    opts.jwt.fingerprint = true;
    let app = app_with(opts).await;
    let signin = |cookie: Option<String>| {
        let app = &app;
        async move {
            let headers: Vec<(&str, String)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app
                .post_raw(
                    json!({"query": "mutation { signinWithRefresh(input: {email: \"x@example.com\", password: \"correct horse battery\"}) { authToken { accessToken } } }"}).to_string(),
                    &headers,
                )
                .await;
            let token = r.data()["signinWithRefresh"]["authToken"]["accessToken"]
                .as_str()
                .unwrap_or_else(|| panic!("{}", r.body))
                .to_owned();
            let fgp = r
                .headers
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
                .find(|c| c.starts_with("__Host-fgp="))
                .expect("fingerprint cookie");
            (token, fgp)
        }
    };
    let r = app
        .gql(
            "mutation { signup(input: {username: \"hana\", email: \"x@example.com\", password: \"correct horse battery\"}) { clientMutationId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (first, fgp) = signin(None).await;
    let mut s = open(&app, LEGACY, &[("cookie", &fgp)]).await;
    assert_eq!(init(&mut s, &first).await["type"], "connection_ack");
    listen(&mut s, LEGACY).await;
    // Another sign-in of the same browser (a second tab, or the token's renewal) keeps its
    // fingerprint: the open socket takes the new token.
    let (second, same) = signin(Some(fgp.clone())).await;
    assert_eq!(same, fgp);
    assert_eq!(init(&mut s, &second).await["type"], "connection_ack");
    notify(&app, "{}").await;
    let event = recv(&mut s).await;
    assert_eq!(
        event["payload"]["data"]["listen"]["query"]["me"]["username"], "hana",
        "{event}"
    );
}

#[tokio::test]
async fn a_refused_socket_reads_the_clients_frames_until_its_close_so_the_code_arrives() {
    let app = app_with(subscriptions()).await;
    // A bad token, with a subscription sent right behind connection_init (Apollo's
    // WebSocketLink does so): the code must reach the client every time, not a reset.
    for round in 0..3 {
        for protocol in [LEGACY, MODERN] {
            let mut s = open(&app, protocol, &[]).await;
            send(
                &mut s,
                json!({"type": "connection_init", "payload": {"Authorization": "Bearer not.a.token"}}),
            )
            .await;
            // The client is slow to notice: its frames arrive after the server's Close. A server
            // that dropped the connection at once would answer them with a reset, and the reset
            // would discard the Close frame waiting unread on the client's side.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            for id in 0..20 {
                send(
                    &mut s,
                    json!({"type": start_type(protocol), "id": id.to_string(), "payload": {"query": "subscription { listen(topic: \"posts\") { relatedNodeId } }"}}),
                )
                .await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let mut answer = recv(&mut s).await;
            if protocol == LEGACY {
                assert_eq!(answer["type"], "connection_error", "{answer}");
                answer = recv(&mut s).await;
            }
            // The subscriptions sent behind a refused init are never served.
            while answer.get("close").is_none() && answer.get("error").is_none() {
                assert_ne!(answer["type"], "data", "{answer}");
                answer = recv(&mut s).await;
            }
            assert_eq!(
                answer,
                json!({"close": 4403, "reason": "Forbidden: JWT_MALFORMED"}),
                "round {round}, {protocol}"
            );
        }
    }
}

#[tokio::test]
async fn the_example_app_announces_new_posts() {
    let app = app_with(subscriptions()).await;
    let ann = app.signup("ann").await;
    for protocol in [MODERN, LEGACY] {
        let mut s = open(&app, protocol, &[]).await;
        assert_eq!(init(&mut s, &ann).await["type"], "connection_ack");
        let query = "subscription { listen(topic: \"new_posts\") { relatedNode { ... on Post { title } } } }";
        send(
            &mut s,
            json!({"type": start_type(protocol), "id": "1", "payload": {"query": query}}),
        )
        .await;
        send(
            &mut s,
            json!({"type": start_type(protocol), "id": "sync", "payload": {"query": "{ __typename }"}}),
        )
        .await;
        while recv(&mut s).await["id"] != "sync" {}
        let r = app
            .gql(
                "mutation($t: String!) { createPost(input: {post: {title: $t}}) { clientMutationId } }",
                json!({ "t": protocol }),
                Some(&ann),
            )
            .await;
        assert_eq!(r.errors(), None, "{}", r.body);
        let mut event = recv(&mut s).await;
        while event["id"] == "sync" {
            event = recv(&mut s).await;
        }
        assert_eq!(
            event["payload"]["data"]["listen"]["relatedNode"]["title"], protocol,
            "{event}"
        );
    }
}
