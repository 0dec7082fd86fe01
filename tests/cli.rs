//! The `postgraph` binary: migrate, export-schema, and serve's lifecycle (signals, cleanup).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_postgraph");

#[tokio::test]
async fn migrate_applies_a_folder_once_and_reports_it() {
    let url = common::empty_database().await;
    let dir = std::env::temp_dir().join(format!("postgraph-migrations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("V1__notes.sql"),
        "create table public.notes (id serial primary key, body text);",
    )
    .unwrap();
    std::fs::write(
        dir.join("V2__more.sql"),
        "alter table public.notes add column done boolean not null default false;",
    )
    .unwrap();

    let run = || {
        Command::new(BIN)
            .args([
                "migrate",
                "--connection",
                &url,
                "--dir",
                dir.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let first = run();
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        out.contains("applied V1__notes") && out.contains("applied V2__more"),
        "{out}"
    );
    let cols = common::sql_at(&url, "select column_name from information_schema.columns where table_name = 'notes' order by ordinal_position").await;
    assert_eq!(cols.len(), 3);

    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("nothing to apply"));

    let bad = Command::new(BIN)
        .args([
            "migrate",
            "--connection",
            &url,
            "--dir",
            "/nonexistent-folder",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn export_schema_writes_the_checked_in_sdl() {
    let app = common::app().await;
    let file =
        std::env::temp_dir().join(format!("postgraph-schema-{}.graphql", std::process::id()));
    let out = Command::new(BIN)
        .args([
            "export-schema",
            "--connection",
            &app.authenticator_url,
            "--schema",
            "app_public",
            "--jwt-token-identifier",
            "app_public.jwt_token",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql"),
    )
    .unwrap();
    assert_eq!(written, committed);
    std::fs::remove_file(&file).ok();
}

#[test]
fn serve_embedded_answers_and_cleans_up_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["demo", "--port", "0"])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    // The log names the embedded cluster's folder; it must be gone after shutdown.
    let log = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });
    // Read stdout on a thread to its end, so the server never writes into a closed pipe.
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
    let body = r#"{"query":"{ allPosts { totalCount } }"}"#;
    let resp = Command::new("curl")
        .args([
            "-s",
            "-H",
            "content-type: application/json",
            "-d",
            body,
            &url,
        ])
        .output();
    let mut token = None;
    if let Ok(resp) = resp {
        let text = String::from_utf8_lossy(&resp.stdout);
        assert!(text.contains("\"totalCount\""), "{text}");
        // Sign up (a password in) and use the token (a token out and in): neither may be
        // logged, even at debug level.
        let signup = r#"{"query":"mutation { signup(input: {username: \"logan\", email: \"logan@example.com\", password: \"never-logged-pw\"}) { jwtToken } }"}"#;
        let out = curl(&url, signup, None);
        let t = out
            .split("\"jwtToken\":\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no token: {out}"))
            .to_string();
        let me = curl(&url, r#"{"query":"{ me { username } }"}"#, Some(&t));
        assert!(me.contains("logan"), "{me}");
        token = Some(t);
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let log = log.join().unwrap();
    let clean = strip_ansi(&log);
    let folder = clean
        .split("folder=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("log names the cluster folder");
    assert!(
        !std::path::Path::new(folder).exists(),
        "embedded cluster folder {folder} left behind"
    );
    if let Some(token) = token {
        assert!(
            !clean.contains("never-logged-pw"),
            "password logged:\n{clean}"
        );
        let signature = token.rsplit('.').next().unwrap();
        assert!(!clean.contains(signature), "token logged:\n{clean}");
    }
}

/// POSTs a JSON body with curl, with a bearer token when given; returns the body.
fn curl(url: &str, body: &str, token: Option<&str>) -> String {
    let mut args = vec![
        "-s".to_string(),
        "-H".into(),
        "content-type: application/json".into(),
    ];
    if let Some(t) = token {
        args.extend(["-H".into(), format!("authorization: Bearer {t}")]);
    }
    args.extend(["-d".into(), body.into(), url.into()]);
    let out = Command::new("curl").args(&args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn serve_refuses_a_short_secret_file_and_a_private_key_given_as_public() {
    let url = common::empty_database().await;
    let dir = std::env::temp_dir().join(format!("postgraph-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("secret");
    std::fs::write(&secret, "only-20-bytes-long!!\n").unwrap();
    let private = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/jwt/rsa-private.pem"
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "serve",
            "--connection",
            &url,
            "--port",
            "0",
            "-s",
            "app_public",
        ];
        args.extend_from_slice(extra);
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(!out.status.success(), "{extra:?} started");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&["--jwt-secret-file", secret.to_str().unwrap()]);
    assert!(
        err.contains("20 bytes long") && err.contains("at least 32 bytes"),
        "{err}"
    );
    assert!(!err.contains("only-20-bytes-long"), "secret echoed: {err}");
    let err = run(&["--jwt-public-key", private]);
    assert!(err.contains("rsa-private.pem is a private key"), "{err}");
    let err = run(&["--jwt-secret", "x", "--jwt-secret-file", "y"]);
    assert!(err.contains("cannot be used with"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_http_flags_and_key_files_are_refused_before_a_private_postgres_starts() {
    // demo starts the embedded example app. A flag that cannot work
    // must be refused first, without starting (or waiting for) any Postgres.
    let run = |extra: &[&str]| {
        let mut args = vec!["demo", "--port", "0"];
        args.extend_from_slice(extra);
        let out = Command::new(BIN)
            .args(&args)
            .env("RUST_LOG", "info")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{extra:?} started");
        let err = strip_ansi(&String::from_utf8_lossy(&out.stderr));
        assert!(
            !err.contains("starting a private PostgreSQL"),
            "{extra:?} started Postgres first: {err}"
        );
        err
    };
    let err = run(&["--jwt-cookie", "token", "--cors"]);
    assert!(
        err.contains("--jwt-cookie cannot be combined with --cors"),
        "{err}"
    );
    let err = run(&["--cors-origin", "not an origin"]);
    assert!(err.contains("not an origin"), "{err}");
    let err = run(&["--jwt-public-key", "/nonexistent/key.pem"]);
    assert!(err.contains("/nonexistent/key.pem"), "{err}");
}
