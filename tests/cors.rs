//! CORS with an explicit origin list (`--cors-origin`): only listed origins get
//! `Access-Control-Allow-Origin`, preflights from others are refused.

mod common;

use common::{app_with, Options};

const ALLOWED: &str = "https://app.example";

async fn preflight(app: &common::TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

async fn post(app: &common::TestApp, origin: Option<&str>) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url())
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn only_listed_origins_are_allowed() {
    let app = app_with(Options {
        cors_origins: vec![ALLOWED, "http://localhost:3000"],
        ..Options::default()
    })
    .await;
    let ok = preflight(&app, ALLOWED).await;
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], ALLOWED);
    assert!(ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Authorization"));
    assert_eq!(ok.headers()["vary"], "Origin");
    let local = preflight(&app, "http://localhost:3000").await;
    assert_eq!(
        local.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );

    let evil = preflight(&app, "https://evil.example").await;
    assert_eq!(evil.status(), 403);
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let body: serde_json::Value = evil.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "CORS_ORIGIN_NOT_ALLOWED"
    );

    let r = post(&app, Some(ALLOWED)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], ALLOWED);
    // A request from elsewhere is answered, but without the header the browser refuses it.
    let r = post(&app, Some("https://evil.example")).await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(r.headers()["vary"], "Origin");
    let r = post(&app, None).await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn bad_origins_and_cors_with_an_origin_list_are_refused_at_startup() {
    let bin = env!("CARGO_BIN_EXE_postgraph");
    for args in [
        vec!["serve", "--cors-origin", "app.example"],
        vec!["serve", "--cors-origin", "https://app.example/path"],
        vec!["serve", "--cors", "--cors-origin", "https://app.example"],
    ] {
        let out = std::process::Command::new(bin)
            .args(&args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cors"), "{args:?}: {err}");
    }
}
