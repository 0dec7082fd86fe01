//! `--jwt-jwks-url`: keys from a JWKS document served by a small HTTP server in the test (or
//! a file), rotation followed by one re-fetch for an unknown `kid`, the cooldown, and a
//! re-fetch under way holding up no request whose key is known.

mod common;

use common::{app_with, try_app_with, Options, Reply, TestApp};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use postgraph::auth::{JwtConfig, Pem};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

const ME: &str = "{ me { id } }";

fn pem_text(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/jwt")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// A signing key and the kid the test's JWKS gives it.
struct Key {
    kid: &'static str,
    alg: Algorithm,
    encoding: EncodingKey,
}

fn key(kid: &'static str, pem: &str) -> Key {
    let text = pem_text(pem);
    let (alg, encoding) = if pem.starts_with("rsa") {
        (Algorithm::RS256, EncodingKey::from_rsa_pem(text.as_bytes()))
    } else {
        (Algorithm::ES256, EncodingKey::from_ec_pem(text.as_bytes()))
    };
    Key {
        kid,
        alg,
        encoding: encoding.unwrap(),
    }
}

/// Keys A and B (RSA), C (EC P-256).
fn keys() -> (Key, Key, Key) {
    (
        key("a", "rsa-private.pem"),
        key("b", "rsa2-private.pem"),
        key("c", "ec256-private.pem"),
    )
}

/// A JWKS document publishing these keys' public halves.
fn document(keys: &[&Key]) -> String {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut jwk = Jwk::from_encoding_key(&k.encoding, k.alg).unwrap();
            jwk.common.key_id = Some(k.kid.to_string());
            serde_json::to_value(jwk).unwrap()
        })
        .collect();
    json!({ "keys": keys }).to_string()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token signed with `key` under its kid; `n` makes each token distinct (verified tokens
/// are cached by their text).
fn token(key: &Key, n: u32) -> String {
    let mut h = Header::new(key.alg);
    h.kid = Some(key.kid.to_string());
    encode(
        &h,
        &json!({"role": "app_user", "user_id": 1, "n": n, "exp": now() + 3600}),
        &key.encoding,
    )
    .unwrap()
}

/// An HTTP server answering every request with the current document, counting requests.
/// While `hold` is set, an answer waits for `release`; each request's number is sent on
/// `arrived` first.
struct JwksServer {
    url: String,
    doc: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
    hold: Arc<AtomicBool>,
    release: Arc<Notify>,
    arrived: mpsc::UnboundedReceiver<usize>,
}

impl JwksServer {
    async fn start(doc: String) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let doc = Arc::new(Mutex::new(doc));
        let hits = Arc::new(AtomicUsize::new(0));
        let hold = Arc::new(AtomicBool::new(false));
        let release = Arc::new(Notify::new());
        let (tx, arrived) = mpsc::unbounded_channel();
        let (d, h, ho, r) = (doc.clone(), hits.clone(), hold.clone(), release.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let (d, h, ho, r, tx) = (d.clone(), h.clone(), ho.clone(), r.clone(), tx.clone());
                tokio::spawn(async move {
                    let mut request = vec![];
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let n = h.fetch_add(1, Ordering::SeqCst) + 1;
                    let _ = tx.send(n);
                    if ho.load(Ordering::SeqCst) {
                        r.notified().await;
                    }
                    let body = d.lock().unwrap().clone();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Cache-Control: public, max-age=300\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(response.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        JwksServer {
            url,
            doc,
            hits,
            hold,
            release,
            arrived,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn publish(&self, doc: String) {
        *self.doc.lock().unwrap() = doc;
    }
}

async fn app_at(jwks_url: &str, cooldown_secs: u64) -> TestApp {
    app_with(Options {
        jwt: JwtConfig {
            jwks_url: Some(jwks_url.to_string()),
            jwks_cooldown_secs: cooldown_secs,
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await
}

async fn accepted(app: &TestApp, token: &str) {
    let r = app.gql(ME, json!({}), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
}

/// 401 with the code for a kid naming no key, and no database work.
async fn refused_as_unknown_kid(app: &TestApp, token: &str) {
    let before = app.statement_count("%").await;
    let r: Reply = app.gql(ME, json!({}), Some(token)).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("JWT_UNKNOWN_KID"), "{}", r.body);
    assert!(r.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
    assert_eq!(app.statement_count("%").await, before, "database touched");
}

#[tokio::test]
async fn a_jwks_url_verifies_tokens_and_follows_a_key_rotation_with_one_refetch() {
    let (a, b, c) = keys();
    let server = JwksServer::start(document(&[&a])).await;
    let app = app_at(&server.url, 30).await;
    assert_eq!(server.hits(), 1, "fetched once at startup");
    accepted(&app, &token(&a, 1)).await;
    assert_eq!(server.hits(), 1, "a known kid needs no fetch");

    // The provider rotates: B is published; the first token signed with it makes one re-fetch.
    server.publish(document(&[&a, &b]));
    accepted(&app, &token(&b, 1)).await;
    assert_eq!(server.hits(), 2);
    accepted(&app, &token(&b, 2)).await;
    accepted(&app, &token(&a, 2)).await;
    assert_eq!(server.hits(), 2, "B is known now");

    // A kid the provider never published, within the cooldown: refused, no fetch.
    refused_as_unknown_kid(&app, &token(&c, 1)).await;
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn an_unknown_kid_makes_one_refetch_then_is_refused_and_the_cooldown_holds() {
    let (a, b, _) = keys();
    let server = JwksServer::start(document(&[&a])).await;
    let app = app_at(&server.url, 30).await;
    refused_as_unknown_kid(&app, &token(&b, 1)).await;
    assert_eq!(server.hits(), 2, "one re-fetch for the unknown kid");
    // B is published now, but the cooldown since the last fetch is not over.
    server.publish(document(&[&a, &b]));
    refused_as_unknown_kid(&app, &token(&b, 2)).await;
    refused_as_unknown_kid(&app, &token(&b, 3)).await;
    assert_eq!(server.hits(), 2, "no fetch within the cooldown");
    accepted(&app, &token(&a, 1)).await;
}

#[tokio::test]
async fn with_no_cooldown_each_unknown_kid_refetches() {
    let (a, b, _) = keys();
    let server = JwksServer::start(document(&[&a])).await;
    let app = app_at(&server.url, 0).await;
    refused_as_unknown_kid(&app, &token(&b, 1)).await;
    refused_as_unknown_kid(&app, &token(&b, 2)).await;
    assert_eq!(server.hits(), 3);
    server.publish(document(&[&a, &b]));
    accepted(&app, &token(&b, 3)).await;
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn a_refetch_under_way_holds_up_no_token_whose_key_is_known() {
    let (a, b, _) = keys();
    let mut server = JwksServer::start(document(&[&a])).await;
    let app = Arc::new(app_at(&server.url, 30).await);
    assert_eq!(server.arrived.recv().await, Some(1));

    // The re-fetch for B's kid is answered only when the test says so.
    server.hold.store(true, Ordering::SeqCst);
    let waiting = {
        let (app, t) = (app.clone(), token(&b, 1));
        tokio::spawn(async move { app.gql(ME, json!({}), Some(&t)).await })
    };
    assert_eq!(server.arrived.recv().await, Some(2), "the re-fetch started");

    // Meanwhile a token with a known key goes through (a hang here would fail the test).
    let known = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        app.gql(ME, json!({}), Some(&token(&a, 1))),
    )
    .await
    .expect("a request with a known kid waited for the re-fetch");
    assert_eq!(known.status, 200, "{}", known.body);

    // The provider answers with B: the waiting request is verified against it.
    server.publish(document(&[&a, &b]));
    server.hold.store(false, Ordering::SeqCst);
    server.release.notify_one();
    let r = waiting.await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_jwks_file_is_read_at_startup_and_again_for_an_unknown_kid() {
    let (a, b, _) = keys();
    let dir = std::env::temp_dir().join(format!("postgraph-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, document(&[&a])).unwrap();
    // Our own signing key next to the provider's: only ours is published.
    let private =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jwt/ed25519-private.pem");
    let app = app_with(Options {
        jwt: JwtConfig {
            jwks_url: Some(file.display().to_string()),
            private_key: Some(Pem::read(&private).unwrap()),
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await;
    accepted(&app, &token(&a, 1)).await;
    std::fs::write(&file, document(&[&a, &b])).unwrap();
    accepted(&app, &token(&b, 1)).await;
    // Tokens it signs itself verify too.
    let own = app.signup("joanna").await;
    accepted(&app, &own).await;

    let url = app.url().replace("/graphql", "/.well-known/jwks.json");
    let published: Value = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["OKP"], "{published}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_unusable_jwks_url_stops_the_server_at_startup() {
    let start = |url: &str| {
        try_app_with(Options {
            jwt: JwtConfig {
                jwks_url: Some(url.to_string()),
                ..JwtConfig::default()
            },
            ..Options::default()
        })
    };
    // Nothing listens on port 1.
    let e = start("http://127.0.0.1:1/jwks.json").await.err().unwrap();
    assert!(
        e.to_string().contains("JWKS http://127.0.0.1:1/jwks.json"),
        "{e}"
    );
    let e = start("https://idp.example.com/jwks.json")
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("https is not supported"), "{e}");
    let e = start("/nonexistent/jwks.json").await.err().unwrap();
    assert!(e.to_string().contains("cannot read it"), "{e}");
    // A document without a usable key.
    let server = JwksServer::start(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#.into()).await;
    let e = start(&server.url).await.err().unwrap();
    assert!(e.to_string().contains("no usable signing key"), "{e}");
}
