//! GraphQL over WebSocket: both protocols, the token at `connection_init` (or the cookie),
//! v4's simple subscriptions under RLS, expiry, limits and slow clients.

mod common;

use common::ws::{open, recv, send, Socket, LEGACY, MODERN, PATIENCE};
use common::{app_with, claims, Options, TestApp, SECRET};
use futures::SinkExt;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

fn subscriptions() -> Options {
    Options {
        simple_subscriptions: true,
        ..Options::default()
    }
}

/// Opens a socket and sends `connection_init` with `payload`; returns the socket and the
/// server's answer.
async fn init(app: &TestApp, protocol: &str, payload: Value) -> (Socket, Value) {
    let mut s = open(app, protocol, &[]).await;
    send(
        &mut s,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    let answer = recv(&mut s).await;
    (s, answer)
}

async fn connected(app: &TestApp, protocol: &str, payload: Value) -> Socket {
    let (s, answer) = init(app, protocol, payload).await;
    assert_eq!(answer["type"], "connection_ack", "{answer}");
    s
}

fn subscribe_type(protocol: &str) -> &'static str {
    if protocol == LEGACY {
        "start"
    } else {
        "subscribe"
    }
}

fn data_type(protocol: &str) -> &'static str {
    if protocol == LEGACY {
        "data"
    } else {
        "next"
    }
}

async fn start(s: &mut Socket, protocol: &str, id: &str, query: &str, variables: Value) {
    send(
        s,
        json!({"type": subscribe_type(protocol), "id": id, "payload": {"query": query, "variables": variables}}),
    )
    .await;
}

/// Runs a query or mutation over the socket: its one result, then `complete`.
async fn operation(
    s: &mut Socket,
    protocol: &str,
    id: &str,
    query: &str,
    variables: Value,
) -> Value {
    start(s, protocol, id, query, variables).await;
    let result = recv(s).await;
    assert_eq!(result["type"], data_type(protocol), "{result}");
    assert_eq!(result["id"], id);
    let done = recv(s).await;
    assert_eq!(done, json!({"id": id, "type": "complete"}));
    result["payload"].clone()
}

/// Subscribes, then waits for a query sent after it: operations are taken in order, so the
/// subscription is listening once the query is answered.
async fn listen(s: &mut Socket, protocol: &str, id: &str, selection: &str) {
    let query = format!("subscription($t: String!) {{ listen(topic: $t) {selection} }}");
    start(s, protocol, id, &query, json!({"t": "posts"})).await;
    operation(
        s,
        protocol,
        &format!("{id}-sync"),
        "{ __typename }",
        json!({}),
    )
    .await;
}

async fn notify(app: &TestApp, topic: &str, payload: &str) {
    let client = postgraph::db::connect(&app.admin_url).await.unwrap();
    client
        .execute(
            "select pg_notify($1, $2)",
            &[&format!("postgraphile:{topic}"), &payload],
        )
        .await
        .unwrap();
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn token(claims: Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// A draft post of `author` (only its author may see it), and its id.
async fn draft(app: &TestApp, author: &str) -> i64 {
    let r = app
        .gql(
            "mutation { createPost(input: {post: {title: \"draft\"}}) { post { id } } }",
            json!({}),
            Some(author),
        )
        .await;
    r.data()["createPost"]["post"]["id"]
        .as_i64()
        .expect("post id")
}

const SELECTION: &str =
    "{ relatedNodeId relatedNode { nodeId ... on Post { id title } } query { me { username } } }";

#[tokio::test]
async fn events_are_read_under_each_subscribers_role_so_rls_filters_them() {
    let app = app_with(subscriptions()).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let post = draft(&app, &alice).await;

    let mut a = connected(
        &app,
        MODERN,
        json!({"headers": {"Authorization": bearer(&alice)}}),
    )
    .await;
    let mut b = connected(&app, LEGACY, json!({"authorization": bearer(&bob)})).await;
    let mut anon = connected(&app, MODERN, json!({})).await;
    listen(&mut a, MODERN, "1", SELECTION).await;
    listen(&mut b, LEGACY, "1", SELECTION).await;
    listen(&mut anon, MODERN, "1", SELECTION).await;

    notify(
        &app,
        "posts",
        &json!({"__node__": ["posts", post]}).to_string(),
    )
    .await;
    let node_id = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("[\"posts\",{post}]"))
    };
    let to_alice = recv(&mut a).await;
    assert_eq!(
        to_alice,
        json!({"id": "1", "type": "next", "payload": {"data": {"listen": {
            "relatedNodeId": node_id,
            "relatedNode": {"nodeId": node_id, "id": post, "title": "draft"},
            "query": {"me": {"username": "alice"}},
        }}}})
    );
    // Bob and the anonymous subscriber may not see the draft: the node is null for them.
    let to_bob = recv(&mut b).await;
    assert_eq!(to_bob["type"], "data");
    assert_eq!(
        to_bob["payload"]["data"]["listen"],
        json!({"relatedNodeId": node_id, "relatedNode": null, "query": {"me": {"username": "bob"}}})
    );
    let to_anon = recv(&mut anon).await;
    assert_eq!(
        to_anon["payload"]["data"]["listen"],
        json!({"relatedNodeId": node_id, "relatedNode": null, "query": {"me": null}})
    );

    // An event without a node, or naming no table, has no node for anyone.
    notify(&app, "posts", "{}").await;
    notify(
        &app,
        "posts",
        &json!({"__node__": ["nothing", 1]}).to_string(),
    )
    .await;
    let first = recv(&mut a).await;
    assert_eq!(
        first["payload"]["data"]["listen"]["relatedNodeId"],
        Value::Null
    );
    assert_eq!(
        first["payload"]["data"]["listen"]["relatedNode"],
        Value::Null
    );
    let second = recv(&mut a).await;
    assert_eq!(
        second["payload"]["data"]["listen"]["relatedNode"],
        Value::Null
    );

    // Another topic does not reach them; `complete` ends a subscription.
    send(&mut a, json!({"type": "complete", "id": "1"})).await;
    notify(&app, "other", "{}").await;
    notify(&app, "posts", "{}").await;
    let more = operation(&mut a, MODERN, "2", "{ __typename }", json!({})).await;
    assert_eq!(more, json!({"data": {"__typename": "Query"}}));
    let to_bob = recv(&mut b).await;
    assert_eq!(
        to_bob["payload"]["data"]["listen"]["relatedNodeId"],
        Value::Null
    );
}

#[tokio::test]
async fn the_token_is_read_from_each_place_clients_put_it() {
    let app = app_with(Options {
        jwt_cookie: Some("jwt"),
        cors_origins: vec!["https://app.example"],
        ..subscriptions()
    })
    .await;
    let carol = app.signup("carol").await;
    let me = "{ me { username } }";
    for (protocol, payload) in [
        (
            MODERN,
            json!({"headers": {"Authorization": bearer(&carol)}}),
        ),
        (MODERN, json!({"Authorization": bearer(&carol)})),
        (LEGACY, json!({"authorization": bearer(&carol)})),
        (
            LEGACY,
            json!({"headers": {"Authorization": bearer(&carol)}}),
        ),
    ] {
        let mut s = connected(&app, protocol, payload.clone()).await;
        let r = operation(&mut s, protocol, "1", me, json!({})).await;
        assert_eq!(
            r,
            json!({"data": {"me": {"username": "carol"}}}),
            "{payload}"
        );
    }

    // No token: the default role.
    let mut s = connected(&app, MODERN, json!({})).await;
    let r = operation(&mut s, MODERN, "1", me, json!({})).await;
    assert_eq!(r, json!({"data": {"me": null}}));

    // The cookie of the upgrade request, from a client that is not a browser on another site.
    let cookie = format!("jwt={carol}");
    let mut s = open(&app, MODERN, &[("cookie", &cookie)]).await;
    send(&mut s, json!({"type": "connection_init"})).await;
    assert_eq!(recv(&mut s).await["type"], "connection_ack");
    let r = operation(&mut s, MODERN, "1", me, json!({})).await;
    assert_eq!(r, json!({"data": {"me": {"username": "carol"}}}));
    // ... or from a page of an origin named by --cors-origin.
    let mut s = open(
        &app,
        LEGACY,
        &[("cookie", &cookie), ("origin", "https://app.example")],
    )
    .await;
    send(&mut s, json!({"type": "connection_init"})).await;
    assert_eq!(recv(&mut s).await["type"], "connection_ack");
    let r = operation(&mut s, LEGACY, "1", me, json!({})).await;
    assert_eq!(r, json!({"data": {"me": {"username": "carol"}}}));

    // A cross-site page cannot ride on the cookie (WebSocket has no CORS).
    let mut s = open(
        &app,
        MODERN,
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    )
    .await;
    send(&mut s, json!({"type": "connection_init"})).await;
    let closed = recv(&mut s).await;
    assert_eq!(closed["close"], 4403, "{closed}");
    assert_eq!(closed["reason"], "Forbidden: CSRF_REJECTED");
}

#[tokio::test]
async fn bad_and_expired_tokens_close_the_socket_with_4403_before_any_database_work() {
    let app = app_with(subscriptions()).await;
    let dora = app.signup("dora").await;
    let user_id = claims(&dora)["user_id"].clone();
    let expired = token(json!({"role": "app_user", "user_id": user_id, "exp": now() - 3600}));
    let forged = encode(
        &Header::default(),
        &json!({"role": "app_user", "user_id": user_id, "exp": now() + 3600}),
        &EncodingKey::from_secret(b"another-secret-that-is-long-enough-too"),
    )
    .unwrap();
    let before = app.statement_count("%set_config%").await;
    for (bad, code) in [
        (expired.as_str(), "JWT_EXPIRED"),
        (forged.as_str(), "JWT_INVALID_SIGNATURE"),
        ("not-a-token", "JWT_MALFORMED"),
    ] {
        let (mut s, answer) = init(&app, MODERN, json!({"Authorization": bearer(bad)})).await;
        assert_eq!(answer["close"], 4403, "{answer}");
        assert_eq!(answer["reason"], format!("Forbidden: {code}"));
        drop(s.close(None).await);

        // Legacy: `connection_error` says why, then the same close.
        let (mut s, answer) = init(&app, LEGACY, json!({"authorization": bearer(bad)})).await;
        assert_eq!(answer["type"], "connection_error", "{answer}");
        assert_eq!(answer["payload"]["extensions"]["code"], code);
        assert_eq!(recv(&mut s).await["close"], 4403);
    }
    assert_eq!(app.statement_count("%set_config%").await, before);
}

#[tokio::test]
async fn the_socket_closes_when_the_token_expires() {
    let mut opts = subscriptions();
    opts.jwt.leeway_secs = 0;
    let app = app_with(opts).await;
    let erin = app.signup("erin").await;
    let user_id = claims(&erin)["user_id"].clone();
    for protocol in [MODERN, LEGACY] {
        let short = token(json!({"role": "app_user", "user_id": user_id, "exp": now() + 2}));
        let mut s = connected(&app, protocol, json!({"Authorization": bearer(&short)})).await;
        listen(&mut s, protocol, "1", "{ relatedNodeId }").await;
        let closed = recv(&mut s).await;
        assert_eq!(
            closed,
            json!({"close": 4401, "reason": "Unauthorized: JWT_EXPIRED"})
        );
    }
}

#[tokio::test]
async fn queries_and_mutations_run_over_the_socket() {
    let app = app_with(subscriptions()).await;
    let frank = app.signup("frank").await;
    for protocol in [MODERN, LEGACY] {
        let mut s = connected(&app, protocol, json!({"Authorization": bearer(&frank)})).await;
        let created = operation(
            &mut s,
            protocol,
            "m",
            "mutation($t: String!) { createPost(input: {post: {title: $t}}) { post { title userByAuthorId { username } } } }",
            json!({"t": protocol}),
        )
        .await;
        assert_eq!(
            created,
            json!({"data": {"createPost": {"post": {"title": protocol, "userByAuthorId": {"username": "frank"}}}}})
        );
        let read = operation(
            &mut s,
            protocol,
            "q",
            "query($t: String!) { allPosts(condition: {title: $t}) { totalCount } }",
            json!({"t": protocol}),
        )
        .await;
        assert_eq!(read, json!({"data": {"allPosts": {"totalCount": 1}}}));

        // A document that does not validate is refused with its errors.
        start(&mut s, protocol, "bad", "{ nope }", json!({})).await;
        let refused = recv(&mut s).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(
            refused["payload"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
    }
    let rows = app
        .sql("select title from app_public.posts order by id")
        .await;
    assert_eq!(rows, [json!({"title": MODERN}), json!({"title": LEGACY})]);
}

#[tokio::test]
async fn protocol_rules_of_graphql_transport_ws() {
    let app = app_with(subscriptions()).await;
    // Operations before `connection_init` are unauthorized.
    let mut s = open(&app, MODERN, &[]).await;
    start(&mut s, MODERN, "1", "{ __typename }", json!({})).await;
    assert_eq!(recv(&mut s).await["close"], 4401);
    // A second `connection_init`, a reused id, and garbage each close the socket.
    let mut s = connected(&app, MODERN, json!({})).await;
    send(&mut s, json!({"type": "connection_init"})).await;
    assert_eq!(recv(&mut s).await["close"], 4429);
    let mut s = connected(&app, MODERN, json!({})).await;
    listen(&mut s, MODERN, "1", "{ relatedNodeId }").await;
    start(&mut s, MODERN, "1", "{ __typename }", json!({})).await;
    assert_eq!(recv(&mut s).await["close"], 4409);
    let mut s = connected(&app, MODERN, json!({})).await;
    s.send(Message::text("not json")).await.unwrap();
    assert_eq!(recv(&mut s).await["close"], 4400);
    // `ping` gets `pong`.
    let mut s = connected(&app, MODERN, json!({})).await;
    send(&mut s, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut s).await, json!({"type": "pong"}));
    // No subprotocol in common.
    let mut s = open(&app, "", &[]).await;
    assert_eq!(recv(&mut s).await["close"], 4406);
}

#[tokio::test]
async fn sockets_and_subscriptions_per_socket_are_limited() {
    let mut opts = subscriptions();
    opts.ws.max_sockets = 1;
    opts.ws.max_subscriptions_per_socket = 2;
    let app = app_with(opts).await;
    let mut first = connected(&app, MODERN, json!({})).await;
    let mut second = open(&app, MODERN, &[]).await;
    assert_eq!(recv(&mut second).await["close"], 1013);

    // One subscription and a query in flight fit; a second subscription beside them too.
    listen(&mut first, MODERN, "1", "{ relatedNodeId }").await;
    let second = "subscription { listen(topic: \"x\") { relatedNodeId } }";
    start(&mut first, MODERN, "2", second, json!({})).await;
    start(&mut first, MODERN, "3", second, json!({})).await;
    let refused = recv(&mut first).await;
    assert_eq!(refused["id"], "3");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
}

#[tokio::test]
async fn subscriptions_need_the_flag() {
    let app = app_with(Options::default()).await;
    let mut s = connected(&app, MODERN, json!({})).await;
    start(
        &mut s,
        MODERN,
        "1",
        "subscription { listen(topic: \"posts\") { relatedNodeId } }",
        json!({}),
    )
    .await;
    let refused = recv(&mut s).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    // And over HTTP a subscription is refused in any case.
    let r = app
        .gql(
            "subscription { listen(topic: \"posts\") { relatedNodeId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn a_client_that_does_not_read_is_dropped_while_others_keep_receiving() {
    let mut opts = subscriptions();
    opts.ws.send_queue = 16;
    opts.ws.send_timeout = Duration::from_millis(500);
    let app = app_with(opts).await;
    let mut reader = connected(&app, MODERN, json!({})).await;
    let mut idle = connected(&app, LEGACY, json!({})).await;
    listen(&mut reader, MODERN, "1", "{ relatedNodeId }").await;
    listen(&mut idle, LEGACY, "1", "{ relatedNodeId }").await;

    // 10,000 events of a few kB each: far more than socket buffers hold.
    let admin = postgraph::db::connect(&app.admin_url).await.unwrap();
    admin
        .batch_execute(
            "select pg_notify('postgraphile:posts', json_build_object('__node__', \
             json_build_array('posts', g, repeat('x', 3000)))::text) from generate_series(1, 10000) g",
        )
        .await
        .unwrap();
    notify(
        &app,
        "posts",
        &json!({"__node__": ["posts", 0]}).to_string(),
    )
    .await;
    let last = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode("[\"posts\",0]")
    };
    let mut received = 0;
    loop {
        let m = recv(&mut reader).await;
        assert_eq!(m["type"], "next", "{m}");
        received += 1;
        if m["payload"]["data"]["listen"]["relatedNodeId"] == last {
            break;
        }
    }
    assert_eq!(received, 10_001, "the reading client got every event");

    // The idle client was dropped: what it can still read ends before the last event.
    let mut got = 0;
    loop {
        let m = recv(&mut idle).await;
        if m["type"] != "data" {
            assert!(m.get("close").is_some() || m.get("error").is_some(), "{m}");
            break;
        }
        assert_ne!(m["payload"]["data"]["listen"]["relatedNodeId"], last);
        got += 1;
    }
    assert!(
        got < 10_000,
        "the idle client was cut off, after {got} events"
    );
}

#[tokio::test]
async fn the_schema_has_v4s_subscription_root_with_the_flag_only() {
    let query = "{ __schema { subscriptionType { name fields { name args { name type { kind ofType { name } } } type { kind ofType { name } } } } } \
                 __type(name: \"ListenPayload\") { fields { name type { name } } } }";
    let app = app_with(subscriptions()).await;
    let r = app.gql(query, json!({}), None).await;
    assert_eq!(
        r.data()["__schema"]["subscriptionType"],
        json!({"name": "Subscription", "fields": [{
            "name": "listen",
            "args": [{"name": "topic", "type": {"kind": "NON_NULL", "ofType": {"name": "String"}}}],
            "type": {"kind": "NON_NULL", "ofType": {"name": "ListenPayload"}},
        }]})
    );
    assert_eq!(
        r.data()["__type"]["fields"],
        json!([
            {"name": "query", "type": {"name": "Query"}},
            {"name": "relatedNode", "type": {"name": "Node"}},
            {"name": "relatedNodeId", "type": {"name": "ID"}},
        ])
    );
    let app = app_with(Options::default()).await;
    let r = app.gql(query, json!({}), None).await;
    assert_eq!(r.data()["__schema"]["subscriptionType"], Value::Null);
    assert_eq!(r.data()["__type"], Value::Null);
}

#[tokio::test]
async fn a_legacy_connection_init_swaps_the_token_of_open_subscriptions_and_its_expiry() {
    let mut opts = subscriptions();
    opts.jwt.leeway_secs = 0;
    let app = app_with(opts).await;
    let hana = app.signup("hana").await;
    let ivan = app.signup("ivan").await;
    let post = draft(&app, &hana).await;
    let user_id = claims(&hana)["user_id"].clone();
    let short = token(json!({"role": "app_user", "user_id": user_id, "exp": now() + 3}));
    let mut s = connected(&app, LEGACY, json!({"authorization": bearer(&short)})).await;
    listen(&mut s, LEGACY, "1", SELECTION).await;
    let event = json!({"__node__": ["posts", post]}).to_string();
    notify(&app, "posts", &event).await;
    let as_hana = recv(&mut s).await;
    assert_eq!(
        as_hana["payload"]["data"]["listen"]["query"],
        json!({"me": {"username": "hana"}})
    );

    // A new token on the same socket: the open subscription reads as Ivan from now on.
    send(
        &mut s,
        json!({"type": "connection_init", "payload": {"authorization": bearer(&ivan)}}),
    )
    .await;
    assert_eq!(recv(&mut s).await, json!({"type": "connection_ack"}));
    notify(&app, "posts", &event).await;
    let as_ivan = recv(&mut s).await;
    assert_eq!(
        as_ivan["payload"]["data"]["listen"],
        json!({"relatedNodeId": as_hana["payload"]["data"]["listen"]["relatedNodeId"],
               "relatedNode": null, "query": {"me": {"username": "ivan"}}})
    );

    // The first token's expiry no longer closes the socket: events keep coming after it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    notify(&app, "posts", &event).await;
    let later = recv(&mut s).await;
    assert_eq!(later["type"], "data", "{later}");
    assert_eq!(
        later["payload"]["data"]["listen"]["query"],
        json!({"me": {"username": "ivan"}})
    );

    // A bad token in a later connection_init is refused like the first one.
    send(
        &mut s,
        json!({"type": "connection_init", "payload": {"authorization": "Bearer not-a-token"}}),
    )
    .await;
    let refused = recv(&mut s).await;
    assert_eq!(refused["type"], "connection_error", "{refused}");
    assert_eq!(refused["payload"]["extensions"]["code"], "JWT_MALFORMED");
    assert_eq!(recv(&mut s).await["close"], 4403);
}

#[tokio::test]
async fn a_socket_without_connection_init_is_closed_with_4408() {
    let mut opts = subscriptions();
    opts.ws.init_timeout = Duration::from_millis(300);
    let app = app_with(opts).await;
    for protocol in [MODERN, LEGACY] {
        let mut s = open(&app, protocol, &[]).await;
        assert_eq!(
            recv(&mut s).await,
            json!({"close": 4408, "reason": "Connection initialisation timeout"}),
            "{protocol}"
        );
    }
    // Once initialised, the timeout no longer applies.
    let mut s = connected(&app, MODERN, json!({})).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = operation(&mut s, MODERN, "1", "{ __typename }", json!({})).await;
    assert_eq!(r, json!({"data": {"__typename": "Query"}}));
}

/// The backend pids of this test database's LISTEN connection that LISTEN on something.
async fn listen_backends(app: &TestApp) -> Vec<i32> {
    let admin = postgraph::db::connect(&app.admin_url).await.unwrap();
    admin
        .query(
            "select pid from pg_stat_activity where datname = current_database() \
             and application_name = $1 and state = 'idle' and query ilike 'listen%'",
            &[&postgraph::ws::APPLICATION_NAME],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn the_listen_connection_reconnects_after_its_backend_is_terminated() {
    let app = app_with(subscriptions()).await;
    let mut s = connected(&app, MODERN, json!({})).await;
    listen(&mut s, MODERN, "1", "{ relatedNodeId }").await;
    let first = listen_backends(&app).await;
    assert_eq!(first.len(), 1, "one LISTEN connection: {first:?}");
    notify(
        &app,
        "posts",
        &json!({"__node__": ["posts", 1]}).to_string(),
    )
    .await;
    assert_eq!(recv(&mut s).await["type"], "next");

    let admin = postgraph::db::connect(&app.admin_url).await.unwrap();
    admin
        .execute("select pg_terminate_backend($1)", &[&first[0]])
        .await
        .unwrap();
    // Wait until another backend LISTENs again (events sent in between are missed, as in v4).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let second = loop {
        let now = listen_backends(&app).await;
        if now.len() == 1 && now[0] != first[0] {
            break now[0];
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no new LISTEN connection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(second, first[0]);

    // The same socket and subscription get events published after the reconnection.
    notify(
        &app,
        "posts",
        &json!({"__node__": ["posts", 2]}).to_string(),
    )
    .await;
    let after = recv(&mut s).await;
    let node_id = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode("[\"posts\",2]")
    };
    assert_eq!(
        after,
        json!({"id": "1", "type": "next", "payload": {"data": {"listen": {"relatedNodeId": node_id}}}})
    );
    // A new subscriber rides on the new connection too.
    let mut t = connected(&app, LEGACY, json!({})).await;
    listen(&mut t, LEGACY, "1", "{ relatedNodeId }").await;
    assert_eq!(listen_backends(&app).await, [second]);
    notify(
        &app,
        "posts",
        &json!({"__node__": ["posts", 2]}).to_string(),
    )
    .await;
    assert_eq!(recv(&mut t).await["payload"], after["payload"]);
    assert_eq!(recv(&mut s).await, after);
}

/// Signs `username` up over HTTP: the token and its fingerprint cookie (`name=value`).
async fn signup_with_fingerprint(app: &TestApp, username: &str) -> (String, String) {
    let r = app
        .gql(
            "mutation($u: String!, $e: String!) { signup(input: {username: $u, email: $e, password: \"correct horse battery\"}) { jwtToken } }",
            json!({"u": username, "e": format!("{username}@example.com")}),
            None,
        )
        .await;
    let token = r.data()["signup"]["jwtToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {}", r.body))
        .to_owned();
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-fgp="))
        .expect("the fingerprint cookie");
    (token, cookie)
}

#[tokio::test]
async fn with_jwt_fingerprint_the_upgrade_must_bring_the_tokens_fingerprint_cookie() {
    let mut opts = subscriptions();
    opts.jwt.fingerprint = true;
    let app = app_with(opts).await;
    let (jane, janes) = signup_with_fingerprint(&app, "jane").await;
    let (_, kims) = signup_with_fingerprint(&app, "kim").await;
    let payload = json!({"Authorization": bearer(&jane)});

    // With its cookie the token is accepted, for operations and for each event.
    let mut s = open(&app, MODERN, &[("cookie", &janes)]).await;
    send(
        &mut s,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    assert_eq!(recv(&mut s).await["type"], "connection_ack");
    let r = operation(&mut s, MODERN, "1", "{ me { username } }", json!({})).await;
    assert_eq!(r, json!({"data": {"me": {"username": "jane"}}}));
    listen(&mut s, MODERN, "2", "{ query { me { username } } }").await;
    notify(&app, "posts", "{}").await;
    let event = recv(&mut s).await;
    assert_eq!(
        event["payload"]["data"]["listen"]["query"],
        json!({"me": {"username": "jane"}})
    );

    // Without it, or with another token's, the socket is refused before any database work.
    let before = app.statement_count("%set_config%").await;
    for (protocol, cookie) in [
        (MODERN, None),
        (LEGACY, None),
        (MODERN, Some(kims.as_str())),
        (LEGACY, Some("other=1")),
    ] {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        let mut s = open(&app, protocol, &headers).await;
        send(
            &mut s,
            json!({"type": "connection_init", "payload": payload}),
        )
        .await;
        let mut answer = recv(&mut s).await;
        if protocol == LEGACY {
            assert_eq!(answer["type"], "connection_error", "{answer}");
            assert_eq!(answer["payload"]["extensions"]["code"], "JWT_FINGERPRINT");
            answer = recv(&mut s).await;
        }
        assert_eq!(
            answer,
            json!({"close": 4403, "reason": "Forbidden: JWT_FINGERPRINT"}),
            "{protocol} {cookie:?}"
        );
    }
    assert_eq!(app.statement_count("%set_config%").await, before);

    // A socket sets no cookies: a token signed over one has a fingerprint nobody received.
    let mut s = connected(&app, MODERN, json!({})).await;
    let r = operation(
        &mut s,
        MODERN,
        "1",
        "mutation { signup(input: {username: \"lee\", email: \"lee@example.com\", password: \"correct horse battery\"}) { jwtToken } }",
        json!({}),
    )
    .await;
    let lee = r["data"]["signup"]["jwtToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert!(claims(&lee)["fgp"].is_string());
    let refused = app.gql("{ me { username } }", json!({}), Some(&lee)).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.first_error_code(), Some("JWT_FINGERPRINT"));
}
