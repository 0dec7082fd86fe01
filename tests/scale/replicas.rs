//! Read replicas (a real streaming replica made by `pg_basebackup -R`): routing, lag and
//! fallback, `/ready` and `/metrics`, and read-your-writes with the position header, made
//! deterministic by pausing the replica's replay.

use super::common::{self, Options, TestApp};
use super::{serving, ws, NOTIFY_ON_POST};
use postgraph::config::example;
use postgraph::db::embedded::EmbeddedPostgres;
use postgraph::http::POSITION_HEADER;
use postgraph::server::ScaleConfig;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A fresh database, a replica of the cluster holding it, and a postgraph reading from it.
async fn with_replica(max_lag: Duration) -> (TestApp, EmbeddedPostgres) {
    with_replica_and(max_lag, None).await
}

/// [`with_replica`], the database set up by `setup_sql`, with subscriptions.
async fn with_replica_and(
    max_lag: Duration,
    setup_sql: Option<&str>,
) -> (TestApp, EmbeddedPostgres) {
    let (database, admin_url, authenticator_url) = common::fresh_database(setup_sql).await;
    // The shared test cluster commits without waiting for the WAL flush (for speed); a
    // walsender sends only flushed WAL, so a replica would see each commit up to
    // wal_writer_delay late, and an event's query (run at once) would always find it behind.
    // Commit as production servers do in this database.
    let admin = postgraph::db::connect(&admin_url).await.expect("admin");
    admin
        .batch_execute(&format!(
            "alter database \"{database}\" set synchronous_commit = on"
        ))
        .await
        .expect("synchronous_commit");
    let replica = common::cluster()
        .await
        .start_replica()
        .await
        .expect("replica");
    let opts = Options {
        metrics: true,
        simple_subscriptions: true,
        scale: ScaleConfig {
            read_replicas: vec![replica.connection_string(example::AUTHENTICATOR, &database)],
            replica_max_lag: max_lag,
            ..ScaleConfig::default()
        },
        ..Options::default()
    };
    let app = serving(&database, &admin_url, &authenticator_url, &opts).await;
    (app, replica)
}

async fn on_replica(replica: &EmbeddedPostgres, sql: &str) {
    let c = replica
        .connect("postgres", "postgres")
        .await
        .expect("replica");
    c.batch_execute(sql).await.expect(sql);
}

/// A published post by `token`'s user; the response's position header.
async fn publish(app: &TestApp, token: &str, title: &str) -> String {
    let r = app
        .gql(
            "mutation($t: String!) { createPost(input: {post: {title: $t, published: true}}) { post { id } } }",
            json!({"t": title}),
            Some(token),
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    r.headers[POSITION_HEADER].to_str().unwrap().to_string()
}

/// The published titles, read with the position header when given.
async fn titles(app: &TestApp, position: Option<&str>) -> Vec<String> {
    let mut headers = vec![];
    if let Some(p) = position {
        headers.push((POSITION_HEADER, p));
    }
    let r = app
        .post_raw(
            json!({"query": "{ allPosts { nodes { title } } }"}).to_string(),
            &headers,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["allPosts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect()
}

async fn get(app: &TestApp, path: &str) -> String {
    let url = app.url().replace("/graphql", path);
    app.http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Queries the replica has answered, from `/metrics`.
async fn replica_reads(app: &TestApp) -> u64 {
    let metrics = get(app, "/metrics").await;
    metrics
        .lines()
        .find(|l| l.starts_with("postgraph_replica_reads_total{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no replica reads in {metrics}"))
}

async fn replica_state(app: &TestApp) -> String {
    let ready: Value = serde_json::from_str(&get(app, "/ready").await).unwrap();
    ready["replicas"][0]["state"].as_str().unwrap().to_string()
}

/// Waits (bounded) until the replica's state in `/ready` is `state`.
async fn until_state(app: &TestApp, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = replica_state(app).await;
        if now == state {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replica still {now}, not {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_read_with_the_position_of_a_write_sees_it_and_one_without_may_not() {
    // Lag is never a reason to skip the replica here: only the position header is.
    let (app, replica) = with_replica(Duration::from_secs(3600)).await;
    assert_eq!(replica_state(&app).await, "ok");
    let token = app.signup("reader").await;
    on_replica(&replica, "select pg_wal_replay_pause()").await;
    let position = publish(&app, &token, "fresh").await;
    assert!(position.contains('/'), "{position}");

    // Without the header the paused replica answers: the write is not there (the stale read
    // read-your-writes exists for).
    let before = replica_reads(&app).await;
    assert_eq!(titles(&app, None).await, Vec::<String>::new());
    assert_eq!(replica_reads(&app).await, before + 1);
    // With it, the replica has not replayed that far: the primary answers.
    assert_eq!(titles(&app, Some(&position)).await, ["fresh"]);
    assert_eq!(replica_reads(&app).await, before + 1);

    // Once replay goes on, the replica itself answers the read with the header.
    on_replica(&replica, "select pg_wal_replay_resume()").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let served = replica_reads(&app).await;
        assert_eq!(titles(&app, Some(&position)).await, ["fresh"]);
        if replica_reads(&app).await > served {
            break;
        }
        assert!(Instant::now() < deadline, "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_lagging_or_stopped_replica_is_skipped_and_queries_go_to_the_primary() {
    // The default bound (5 s), not a tighter one: the other tests of this binary write to the
    // same cluster meanwhile, and on a loaded machine the replica's replay of their WAL can
    // fall a second or more behind, which would mark it lagging again after the resume.
    let (app, mut replica) = with_replica(Duration::from_secs(5)).await;
    let token = app.signup("lagging").await;
    on_replica(&replica, "select pg_wal_replay_pause()").await;
    publish(&app, &token, "while paused").await;
    until_state(&app, "lagging").await;
    let metrics = get(&app, "/metrics").await;
    assert!(
        metrics.contains("postgraph_replica_up{") && metrics.contains("state=\"lagging\"} 0"),
        "{metrics}"
    );
    // Skipped: the primary answers, so the write is seen even without the header.
    let before = replica_reads(&app).await;
    assert_eq!(titles(&app, None).await, ["while paused"]);
    assert_eq!(replica_reads(&app).await, before);

    on_replica(&replica, "select pg_wal_replay_resume()").await;
    until_state(&app, "ok").await;
    // Back in use: it answers again, and (once replayed) with the write.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen_states = vec![];
    loop {
        let served = replica_reads(&app).await;
        let seen = titles(&app, None).await;
        let now_served = replica_reads(&app).await;
        if seen == ["while paused"] && now_served > served {
            break;
        }
        let ready = get(&app, "/ready").await;
        seen_states.push(format!("{seen:?} {served}->{now_served} {ready}"));
        assert!(
            Instant::now() < deadline,
            "the replica serves no more: {seen_states:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    replica.stop();
    until_state(&app, "down").await;
    assert_eq!(titles(&app, None).await, ["while paused"]);
    let ready = get(&app, "/ready").await;
    assert!(ready.contains("\"status\":\"ready\""), "{ready}");
}

#[tokio::test]
async fn a_malformed_position_header_is_a_clear_400() {
    let app = common::app().await;
    let r = app
        .post_raw(
            json!({"query": "{ allPosts { totalCount } }"}).to_string(),
            &[(POSITION_HEADER, "yesterday")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("BAD_REQUEST"));
    assert!(r.body.to_string().contains("WAL position"), "{}", r.body);
}

/// The published titles, read over `socket` with these operation `extensions`.
async fn titles_over(socket: &mut ws::Socket, extensions: Value) -> Vec<String> {
    let payload = json!({"query": "{ allPosts { nodes { title } } }", "extensions": extensions});
    ws::send(
        socket,
        json!({"type": "subscribe", "id": "q", "payload": payload}),
    )
    .await;
    let answer = ws::recv(socket).await;
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(ws::recv(socket).await["type"], "complete");
    answer["payload"]["data"]["allPosts"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_socket_reads_after_the_position_it_was_given_or_wrote_at() {
    let (app, replica) = with_replica(Duration::from_secs(3600)).await;
    let token = app.signup("socket_reader").await;
    let bearer = format!("Bearer {token}");
    on_replica(&replica, "select pg_wal_replay_pause()").await;
    let position = publish(&app, &token, "fresh").await;

    // Without a position the paused replica answers: the write is not there.
    let mut plain = ws::connect(app.running.addr, Some(&token)).await;
    assert_eq!(
        titles_over(&mut plain, json!({})).await,
        Vec::<String>::new()
    );
    // The position in an operation's extensions: the primary answers.
    let with_op = json!({ POSITION_HEADER: position });
    assert_eq!(titles_over(&mut plain, with_op).await, ["fresh"]);
    // The socket keeps it for its later operations.
    assert_eq!(titles_over(&mut plain, json!({})).await, ["fresh"]);

    // The position in connection_init's payload (Apollo's connectionParams).
    let init = json!({"authorization": bearer, POSITION_HEADER: position});
    let mut given = ws::connect_with(app.running.addr, init).await;
    assert_eq!(titles_over(&mut given, json!({})).await, ["fresh"]);

    // A mutation over a socket raises its position: its next query sees the write.
    let mut writer = ws::connect(app.running.addr, Some(&token)).await;
    let create = json!({"query": "mutation { createPost(input: {post: {title: \"over the socket\", published: true}}) { post { id } } }"});
    ws::send(
        &mut writer,
        json!({"type": "subscribe", "id": "w", "payload": create}),
    )
    .await;
    let written = ws::recv(&mut writer).await;
    assert!(written["payload"].get("errors").is_none(), "{written}");
    assert_eq!(ws::recv(&mut writer).await["type"], "complete");
    assert_eq!(
        titles_over(&mut writer, json!({})).await,
        ["fresh", "over the socket"]
    );

    // A malformed position refuses the operation, as the header is refused over HTTP.
    let bad = json!({"query": "{ allPosts { totalCount } }", "extensions": { POSITION_HEADER: "yesterday" }});
    ws::send(
        &mut plain,
        json!({"type": "subscribe", "id": "bad", "payload": bad}),
    )
    .await;
    let refused = ws::recv(&mut plain).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "BAD_REQUEST",
        "{refused}"
    );
    on_replica(&replica, "select pg_wal_replay_resume()").await;
}

#[tokio::test]
async fn an_events_query_runs_where_the_event_is_visible() {
    let (app, replica) = with_replica_and(Duration::from_secs(3600), Some(NOTIFY_ON_POST)).await;
    let token = app.signup("event_reader").await;
    let mut socket = ws::connect(app.running.addr, Some(&token)).await;
    ws::listen_posts(&mut socket, "{ relatedNode { ... on Post { title } } }").await;

    // The replica has not replayed the event's write: the primary answers its query (a read
    // on the replica would find no post: a null relatedNode).
    on_replica(&replica, "select pg_wal_replay_pause()").await;
    let before = replica_reads(&app).await;
    publish(&app, &token, "while paused").await;
    let event = ws::recv(&mut socket).await;
    assert_eq!(
        event["payload"]["data"]["listen"]["relatedNode"]["title"], "while paused",
        "{event}"
    );
    assert_eq!(replica_reads(&app).await, before);

    // Once it replays, events' queries go to it (the first ones may still find it behind).
    on_replica(&replica, "select pg_wal_replay_resume()").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    for i in 0.. {
        let served = replica_reads(&app).await;
        let title = format!("event {i}");
        publish(&app, &token, &title).await;
        let event = ws::recv(&mut socket).await;
        assert_eq!(
            event["payload"]["data"]["listen"]["relatedNode"]["title"], title,
            "{event}"
        );
        if replica_reads(&app).await > served {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no event's query ran on the replica"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
