//! The live schema: DDL shows up in the API without a restart, through `--watch` (event
//! triggers, or the fingerprint poll when the role may not install them),
//! `NOTIFY postgraph, 'reload schema'` and SIGHUP; a failed rebuild keeps the old schema; a
//! burst of DDL is one rebuild; subscriptions stay connected across a reload.

mod common;

use common::{app_with, engine_config, Options, TestApp};
use futures::{SinkExt, StreamExt};
use postgraph::live::{self, Live, LiveOptions, WatchMode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Every wait is bounded by this, so a broken reload fails the test instead of hanging it;
/// generous, because the machine may be busy.
const PATIENCE: Duration = Duration::from_secs(60);

/// An app and its live schema, whose options may name the app's database (--owner-connection).
async fn live_app(
    opts: impl Fn() -> Options,
    live: impl FnOnce(&TestApp) -> LiveOptions,
) -> (TestApp, Live) {
    let app = app_with(opts()).await;
    let cfg = engine_config(&app.authenticator_url, &opts());
    let live = live::start(app.running.engine.clone(), cfg, live(&app)).await;
    (app, live)
}

fn not_watching(_: &TestApp) -> LiveOptions {
    LiveOptions::default()
}

/// --watch, as the authenticator (which may not install event triggers).
fn watching(_: &TestApp) -> LiveOptions {
    watching_as(None)
}

/// --watch with the superuser as --owner-connection: event triggers.
fn watching_as_owner(app: &TestApp) -> LiveOptions {
    watching_as(Some(&app.admin_url))
}

fn watching_as(owner: Option<&str>) -> LiveOptions {
    LiveOptions {
        watch: true,
        owner_connection: owner.map(str::to_string),
        poll_interval: Duration::from_millis(300),
        quiet: Duration::from_secs(1),
        ..LiveOptions::default()
    }
}

async fn ddl(app: &TestApp, sql: &str) {
    postgraph::db::connect(&app.admin_url)
        .await
        .unwrap()
        .batch_execute(sql)
        .await
        .unwrap();
}

/// Whether the API has a type of this name (introspection, as a client would ask).
async fn has_type(app: &TestApp, name: &str) -> bool {
    let r = app
        .gql(
            "query($n: String!) { __type(name: $n) { name } }",
            json!({"n": name}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    !r.data()["__type"].is_null()
}

/// The field names of a type.
async fn fields(app: &TestApp, type_name: &str) -> Vec<String> {
    let r = app
        .gql(
            "query($n: String!) { __type(name: $n) { fields { name } } }",
            json!({"n": type_name}),
            None,
        )
        .await;
    r.data()["__type"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `check` holds, or fails the test with `what`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < PATIENCE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn reloads_reach(live: &Live, n: u64) {
    eventually(&format!("{n} reloads"), || async { live.reloads() >= n }).await;
}

#[tokio::test]
async fn watch_with_event_triggers_follows_tables_columns_functions_and_smart_tags() {
    let (app, live) = live_app(Options::default, watching_as_owner).await;
    assert_eq!(live.mode(), WatchMode::EventTrigger);

    ddl(
        &app,
        "create table app_public.gadgets (id serial primary key, name text not null);
         grant select on app_public.gadgets to app_anonymous;
         insert into app_public.gadgets (name) values ('sprocket');",
    )
    .await;
    eventually("the new table", || has_type(&app, "Gadget")).await;
    let r = app
        .gql("{ allGadgets { nodes { name } } }", json!({}), None)
        .await;
    assert_eq!(
        r.data()["allGadgets"]["nodes"],
        json!([{"name": "sprocket"}]),
        "{}",
        r.body
    );

    ddl(
        &app,
        "alter table app_public.gadgets add column weight integer",
    )
    .await;
    eventually("the new column", || async {
        fields(&app, "Gadget").await.contains(&"weight".to_string())
    })
    .await;

    ddl(
        &app,
        "create function app_public.gadget_count() returns integer language sql stable
           as 'select count(*)::int from app_public.gadgets';
         grant execute on function app_public.gadget_count() to app_anonymous;",
    )
    .await;
    eventually("the new function", || async {
        fields(&app, "Query")
            .await
            .contains(&"gadgetCount".to_string())
    })
    .await;
    let r = app.gql("{ gadgetCount }", json!({}), None).await;
    assert_eq!(r.data()["gadgetCount"], 1, "{}", r.body);

    ddl(
        &app,
        "comment on table app_public.gadgets is E'@name widget\\nThings with a weight.'",
    )
    .await;
    eventually("the smart tag's new name", || has_type(&app, "Widget")).await;
    assert!(!has_type(&app, "Gadget").await);
}

#[tokio::test]
async fn watch_without_the_right_to_install_event_triggers_polls_the_catalog() {
    // The authenticator may not create event triggers: the fingerprint poll takes over.
    let (app, live) = live_app(Options::default, watching).await;
    assert_eq!(live.mode(), WatchMode::Fingerprint);
    ddl(&app, "alter table app_public.posts add column mood text").await;
    eventually("the new column", || async {
        fields(&app, "Post").await.contains(&"mood".to_string())
    })
    .await;
}

#[tokio::test]
async fn a_grant_shows_up_under_no_ignore_rbac() {
    let opts = || Options {
        schema_flags: postgraph::schema::SchemaFlags {
            no_ignore_rbac: true,
            ..Default::default()
        },
        ..Options::default()
    };
    let (app, _live) = live_app(opts, watching).await;
    ddl(
        &app,
        "create table app_public.secrets (id serial primary key, note text)",
    )
    .await;
    // Without a grant the table stays out of the API; a reload shows it the moment it is granted.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!has_type(&app, "Secret").await);
    ddl(
        &app,
        "grant select on app_public.secrets to app_authenticator, app_anonymous",
    )
    .await;
    eventually("the granted table", || has_type(&app, "Secret")).await;
}

#[tokio::test]
async fn notify_reloads_and_without_watch_nothing_reloads_by_itself() {
    let (app, live) = live_app(Options::default, not_watching).await;
    assert_eq!(live.mode(), WatchMode::Off);
    ddl(
        &app,
        "create table app_public.notes (id serial primary key)",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !has_type(&app, "Note").await,
        "reloaded without being asked"
    );
    assert_eq!(live.reloads(), 0);
    ddl(&app, "notify postgraph, 'reload schema'").await;
    eventually("the table after NOTIFY", || has_type(&app, "Note")).await;
    assert_eq!(live.reloads(), 1);
    // Other payloads on the channel are not a reload.
    ddl(&app, "notify postgraph, 'reload config'").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(live.reloads(), 1);
}

/// DDL after the schema was read but before the reload LISTEN was up (so its NOTIFY, or the
/// event trigger's, went unheard) still reaches the API: the catalog fingerprint read with the
/// schema differs from the database's once the LISTEN is up, and that is one rebuild.
#[tokio::test]
async fn ddl_between_the_schema_build_and_the_listen_is_not_missed() {
    let app = app_with(Options::default()).await;
    ddl(
        &app,
        "create table app_public.early_notes (id serial primary key);
         grant select on app_public.early_notes to app_anonymous;
         notify postgraph, 'reload schema';",
    )
    .await;
    assert!(!has_type(&app, "EarlyNote").await);
    let cfg = engine_config(&app.authenticator_url, &Options::default());
    let live = live::start(app.running.engine.clone(), cfg, LiveOptions::default()).await;
    eventually("the table created before the LISTEN", || {
        has_type(&app, "EarlyNote")
    })
    .await;
    assert_eq!(live.reloads(), 1);
}

/// Behind a transaction pooler a LISTEN through the pooler loses its notifications, so the
/// reload LISTEN goes through `--listen-connection` when one is given.
#[tokio::test]
async fn the_reload_listen_goes_through_the_listen_connection() {
    let (app, live) = live_app(Options::default, |app| LiveOptions {
        listen_connection: Some(app.admin_url.clone()),
        ..LiveOptions::default()
    })
    .await;
    let admin = postgraph::db::connect(&app.admin_url).await.unwrap();
    let listeners: Vec<String> = admin
        .query(
            "select usename::text from pg_stat_activity \
             where application_name = 'postgraph reload' and datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let superuser: String = admin
        .query_one("select current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(listeners, vec![superuser], "the reload LISTEN's role");
    ddl(
        &app,
        "create table app_public.notes (id serial primary key);
         grant select on app_public.notes to app_anonymous;
         notify postgraph, 'reload schema';",
    )
    .await;
    eventually("the table after NOTIFY", || has_type(&app, "Note")).await;
    assert_eq!(live.reloads(), 1);
}

#[tokio::test]
async fn a_dropped_column_gives_way_to_the_new_schema_and_a_broken_rebuild_keeps_serving() {
    let (app, live) = live_app(Options::default, not_watching).await;
    let token = app.signup("ada").await;
    let read = "{ allPosts { nodes { id body } } }";
    // Cached plan, prepared statements on the pool's connections.
    for _ in 0..6 {
        let r = app.gql(read, json!({}), Some(&token)).await;
        assert!(r.errors().is_none(), "{}", r.body);
    }
    ddl(
        &app,
        "alter table app_public.posts drop column body cascade;
         notify postgraph, 'reload schema';",
    )
    .await;
    reloads_reach(&live, 1).await;
    let r = app.gql(read, json!({}), Some(&token)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let r = app
        .gql(
            "{ allPosts { nodes { id title } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);

    // The JWT type disappears: the build fails, the schema before keeps serving.
    ddl(
        &app,
        "drop type app_public.jwt_token cascade;
         create table app_public.late (id serial primary key);
         notify postgraph, 'reload schema';",
    )
    .await;
    eventually("a failed rebuild", || async { live.failures() >= 1 }).await;
    assert_eq!(live.reloads(), 1);
    let r = app
        .gql(
            "{ allPosts { nodes { id title } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert!(!has_type(&app, "Late").await);
}

#[tokio::test]
async fn a_burst_of_fifty_ddl_statements_is_one_rebuild() {
    let (app, live) = live_app(Options::default, watching_as_owner).await;
    assert_eq!(live.mode(), WatchMode::EventTrigger);
    // Fifty transactions sent together: fifty NOTIFYs in quick succession.
    let burst: String = (0..50)
        .map(|i| {
            format!("begin; create table app_public.burst_{i} (id serial primary key); commit;\n")
        })
        .collect();
    ddl(&app, &burst).await;
    eventually("the last table", || has_type(&app, "Burst49")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(live.reloads(), 1, "one rebuild for the burst");
    assert!(has_type(&app, "Burst0").await);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(s: &mut Socket, v: Value) {
    s.send(Message::text(v.to_string())).await.expect("send");
}

async fn recv(s: &mut Socket) -> Value {
    loop {
        let m = tokio::time::timeout(PATIENCE, s.next())
            .await
            .expect("a message in time");
        match m {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Close(_))) | None => return json!({"closed": true}),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_subscription_survives_a_reload_and_its_events_see_the_new_schema() {
    let opts = || Options {
        simple_subscriptions: true,
        ..Options::default()
    };
    let (app, live) = live_app(opts, not_watching).await;
    let mut req = format!("ws://{}/graphql", app.running.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut s, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    send(&mut s, json!({"type": "connection_init", "payload": {}})).await;
    assert_eq!(recv(&mut s).await["type"], "connection_ack");
    let query = "subscription { listen(topic: \"t\") { query { __typename } } }";
    send(
        &mut s,
        json!({"type": "subscribe", "id": "1", "payload": {"query": query}}),
    )
    .await;
    // Answered in order: once this is, the subscription listens.
    send(
        &mut s,
        json!({"type": "subscribe", "id": "2", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    assert_eq!(recv(&mut s).await["id"], "2");
    assert_eq!(recv(&mut s).await["type"], "complete");

    ddl(
        &app,
        "create table app_public.extras (id serial primary key);
         notify postgraph, 'reload schema';",
    )
    .await;
    reloads_reach(&live, 1).await;
    assert!(has_type(&app, "Extra").await);
    ddl(&app, "notify \"postgraphile:t\", '{}'").await;
    let event = recv(&mut s).await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(event["id"], "1");
    assert_eq!(
        event["payload"]["data"]["listen"]["query"]["__typename"],
        "Query"
    );
}

/// `postgraph serve` on the app's database; returns the process and its GraphQL URL.
fn spawn_serve(app: &TestApp) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_postgraph"))
        .args([
            "serve",
            "--port",
            "0",
            "--connection",
            &app.authenticator_url,
        ])
        .args(["--schema", "app_public"])
        .args(["--jwt-token-identifier", "app_public.jwt_token"])
        .args(["--default-role", "app_anonymous"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("postgraph serve");
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(u) = line.trim().strip_prefix("GraphQL:") {
                let _ = tx.send(u.trim().to_string());
            }
        }
    });
    let url = rx.recv_timeout(PATIENCE).expect("postgraph serve starts");
    (child, url)
}

#[tokio::test]
async fn sighup_reloads_the_schema_of_a_running_server() {
    let app = app_with(Options::default()).await;
    let (mut child, url) = spawn_serve(&app);
    let http = reqwest::Client::new();
    let has_hup_table = || async {
        let body: Value = http
            .post(&url)
            .json(&json!({"query": "{ __type(name: \"Hup\") { name } }"}))
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .unwrap();
        !body["data"]["__type"].is_null()
    };
    ddl(&app, "create table app_public.hups (id serial primary key)").await;
    assert!(!has_hup_table().await);
    // The shell's own `kill`: no procps needed.
    let pid = child.id();
    let signal = |name: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("kill -{name} {pid}")])
            .status()
            .unwrap()
    };
    let status = signal("HUP");
    assert!(status.success());
    eventually("the table after SIGHUP", has_hup_table).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended the process"
    );
    signal("TERM");
    let _ = child.wait();
}
