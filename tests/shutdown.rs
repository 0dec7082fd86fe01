//! The server's lifecycle: a database that is down at start is waited for (with backoff);
//! SIGTERM stops accepting, lets requests in flight finish within `--shutdown-timeout`, exit 0.

mod common;

use common::{app_with, Options};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SLOW: &str =
    "create function app_public.slow(seconds float8) returns integer language sql stable as \
    $$ select 1 from pg_sleep(seconds) $$; \
    grant execute on function app_public.slow(float8) to app_anonymous;";

/// Starts `postgraph serve` on `connection`; returns it and its GraphQL URL.
fn serve(connection: &str, shutdown_timeout_ms: &str) -> (Child, String) {
    let mut child = spawn(connection, shutdown_timeout_ms);
    let stdout = BufReader::new(child.stdout.take().unwrap());
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
    (child, url)
}

fn spawn(connection: &str, shutdown_timeout_ms: &str) -> Child {
    spawn_with(connection, shutdown_timeout_ms, &[])
}

fn spawn_with(connection: &str, shutdown_timeout_ms: &str, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_postgraph"))
        .args([
            "serve",
            "--schema",
            "app_public",
            "--port",
            "0",
            "--connection",
            connection,
            "--default-role",
            "app_anonymous",
            "--shutdown-timeout",
            shutdown_timeout_ms,
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn term(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

/// Waits for the exit, at most `bound`; returns whether it exited 0 and how long it took.
fn exit_within(child: &mut Child, bound: Duration) -> (bool, Duration) {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s.success(), started.elapsed());
        }
        assert!(started.elapsed() < bound, "no exit within {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn slow(url: String, seconds: f64) -> Result<serde_json::Value, reqwest::Error> {
    reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({ "query": format!("{{ slow(seconds: {seconds}) }}") }))
        .send()
        .await?
        .json()
        .await
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits_0() {
    let app = app_with(Options {
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    let (mut child, url) = serve(&app.authenticator_url, "10000");
    let in_flight = tokio::spawn(slow(url.clone(), 1.5));
    tokio::time::sleep(Duration::from_millis(500)).await;
    term(&child);
    let body = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(body["data"]["slow"], 1, "{body}");
    let (ok, took) = exit_within(&mut child, Duration::from_secs(10));
    assert!(ok, "exit 0");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Stopped accepting.
    assert!(slow(url, 0.0).await.is_err());
}

#[tokio::test]
async fn sigterm_does_not_wait_longer_than_the_shutdown_timeout() {
    let app = app_with(Options {
        setup_sql: Some(SLOW),
        ..Options::default()
    })
    .await;
    let (mut child, url) = serve(&app.authenticator_url, "500");
    let in_flight = tokio::spawn(slow(url, 30.0));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    term(&child);
    let (ok, _) = exit_within(&mut child, Duration::from_secs(10));
    assert!(ok, "exit 0");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        in_flight.await.unwrap().is_err(),
        "the cut-off request got no answer"
    );
}

#[tokio::test]
async fn a_database_down_at_start_stops_postgraph_unless_retry_on_init_fail() {
    let app = app_with(Options::default()).await;
    let real: tokio_postgres::Config = app.authenticator_url.parse().unwrap();
    let (user, db) = (real.get_user().unwrap(), real.get_dbname().unwrap());
    let port = real.get_ports().first().copied().unwrap_or(5432);
    // A stand-in address where nothing listens yet; later a proxy to the real server.
    let (connection, listen): (String, Box<dyn FnOnce() + Send>) = match &real.get_hosts()[0] {
        tokio_postgres::config::Host::Unix(dir) => {
            let proxy_dir = std::env::temp_dir().join(format!("pgproxy-{}", std::process::id()));
            std::fs::create_dir_all(&proxy_dir).unwrap();
            let socket = proxy_dir.join(".s.PGSQL.6543");
            let _ = std::fs::remove_file(&socket);
            let target = dir.join(format!(".s.PGSQL.{port}"));
            let conn = format!(
                "host={} port=6543 user={user} dbname={db}",
                proxy_dir.display()
            );
            (
                conn,
                Box::new(move || {
                    tokio::spawn(async move {
                        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
                        while let Ok((mut inbound, _)) = listener.accept().await {
                            let target = target.clone();
                            tokio::spawn(async move {
                                let mut outbound =
                                    tokio::net::UnixStream::connect(target).await.unwrap();
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                                    .await;
                            });
                        }
                    });
                }),
            )
        }
        tokio_postgres::config::Host::Tcp(host) => {
            let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let proxy_port = free.local_addr().unwrap().port();
            drop(free);
            let target = format!("{host}:{port}");
            let conn = format!("host=127.0.0.1 port={proxy_port} user={user} dbname={db}");
            (
                conn,
                Box::new(move || {
                    tokio::spawn(async move {
                        let listener = tokio::net::TcpListener::bind(("127.0.0.1", proxy_port))
                            .await
                            .unwrap();
                        while let Ok((mut inbound, _)) = listener.accept().await {
                            let target = target.clone();
                            tokio::spawn(async move {
                                let mut outbound =
                                    tokio::net::TcpStream::connect(target).await.unwrap();
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                                    .await;
                            });
                        }
                    });
                }),
            )
        }
    };
    // As v4: nothing answers, so postgraph stops at once and says where it tried.
    let mut child = spawn(&connection, "1000");
    let (ok, _) = exit_within(&mut child, Duration::from_secs(30));
    assert!(!ok);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("could not connect to the database")
            && err.contains(&format!("database {db}, user {user}")),
        "{err}"
    );
    // With --retry-on-init-fail it waits until the database answers.
    let mut child = spawn_with(&connection, "1000", &["--retry-on-init-fail"]);
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(u) = line.trim().strip_prefix("GraphQL:") {
                let _ = tx.send(u.trim().to_string());
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "postgraph gave up on a database that is down"
    );
    listen();
    let url = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("serving once the database is up");
    let body = slow(url, 0.0).await;
    // No `slow` function in this database: a validation error proves the server answers.
    assert!(body.unwrap()["errors"].is_array());
    term(&child);
    let (ok, _) = exit_within(&mut child, Duration::from_secs(10));
    assert!(ok);

    // Bad credentials are not something to wait for: a clear message, exit 1, at once.
    let bad = app.authenticator_url.replace(user, "nosuchuser");
    let mut child = spawn(&bad, "1000");
    let (ok, took) = exit_within(&mut child, Duration::from_secs(10));
    assert!(!ok);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("could not connect to the database") && err.contains("nosuchuser"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("pgproxy-{}", std::process::id())),
    );
}
