//! `--jwt-cookie`: tokens set in and read from an HttpOnly cookie, the CSRF guard on
//! cookie-authenticated requests, sign-out clearing the cookie, and the CORS rules that come
//! with credentials. Each case of the README's cookie table is one test here.

mod common;

use common::{app_with, try_app_with, Options, TestApp};
use serde_json::{json, Value};

const ME: &str = "{ me { id username } }";
const SIGNUP: &str = "mutation($u: String!) { signup(input: {username: $u, email: \"x@example.com\", password: \"correct horse battery\"}) { jwtToken } }";

/// A function returning a null token row: how SQL signs a user out.
fn cookie_opts(cookie: &'static str) -> Options {
    Options {
        // The example app's `signout` (its refresh token argument is optional) returns null.
        cors_origins: vec!["https://app.example"],
        jwt_cookie: Some(cookie),
        ..Options::default()
    }
}

async fn cookie_app() -> TestApp {
    app_with(cookie_opts("jwt")).await
}

fn set_cookies(r: &common::Reply) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Signs `username` up and returns the response's token and its `Set-Cookie` lines.
async fn signup(app: &TestApp, username: &str) -> (String, Vec<String>) {
    let r = app.gql(SIGNUP, json!({"u": username}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.data()["signup"]["jwtToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {}", r.body))
        .to_owned();
    (token, set_cookies(&r))
}

async fn me_with(app: &TestApp, headers: &[(&str, &str)]) -> common::Reply {
    app.post_raw(json!({ "query": ME }).to_string(), headers)
        .await
}

/// Sends a request that must be refused by the CSRF guard, and checks that nothing ran.
async fn refused(app: &TestApp, req: reqwest::RequestBuilder) {
    let before = app.statement_count("%").await;
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "CSRF_REJECTED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{body}"
    );
    assert_eq!(app.statement_count("%").await, before, "database touched");
}

#[tokio::test]
async fn a_mutation_token_is_set_as_a_hardened_cookie() {
    let app = cookie_app().await;
    let (token, cookies) = signup(&app, "alice").await;
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let c = &cookies[0];
    assert!(c.starts_with(&format!("jwt={token}; Max-Age=")), "{c}");
    assert!(
        c.ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax"),
        "{c}"
    );
    // Max-Age is what is left until the token's exp (7 days in the example app).
    let age: i64 = c
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let exp = common::claims(&token)["exp"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (exp - now - age).abs() <= 5,
        "Max-Age {age}, exp in {}",
        exp - now
    );
}

#[tokio::test]
async fn insecure_cookies_drop_only_secure() {
    let mut opts = cookie_opts("jwt");
    opts.insecure_cookies = true;
    let app = app_with(opts).await;
    let (_, cookies) = signup(&app, "alice").await;
    assert!(
        cookies[0].ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn the_cookie_authenticates_a_json_post() {
    let app = cookie_app().await;
    let (token, _) = signup(&app, "alice").await;
    let cookie = format!("theme=dark; jwt={token}");
    let r = me_with(&app, &[("cookie", &cookie)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["me"]["username"], "alice", "{}", r.body);
}

#[tokio::test]
async fn the_authorization_header_wins_over_the_cookie() {
    let app = cookie_app().await;
    let (alice, _) = signup(&app, "alice").await;
    let bob = app.signup("bob").await;
    let cookie = format!("jwt={alice}");
    let bearer = format!("Bearer {bob}");
    let r = me_with(&app, &[("cookie", &cookie), ("authorization", &bearer)]).await;
    assert_eq!(r.data()["me"]["username"], "bob", "{}", r.body);
    // A bad header is not rescued by a good cookie.
    let r = me_with(
        &app,
        &[("cookie", &cookie), ("authorization", "Bearer nope")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("JWT_MALFORMED"));
}

#[tokio::test]
async fn a_bad_cookie_token_is_refused_like_a_bad_header() {
    let app = cookie_app().await;
    let (token, _) = signup(&app, "alice").await;
    let forged = format!("jwt={}x", token);
    let before = app.statement_count("%").await;
    let r = me_with(&app, &[("cookie", &forged)]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("JWT_INVALID_SIGNATURE"));
    assert_eq!(app.statement_count("%").await, before, "database touched");
}

#[tokio::test]
async fn a_get_carrying_the_cookie_is_refused() {
    let app = cookie_app().await;
    let (token, _) = signup(&app, "alice").await;
    let req = app
        .http
        .get(format!("{}?query={{me{{id}}}}", app.url()))
        .header("cookie", format!("jwt={token}"));
    refused(&app, req).await;
}

#[tokio::test]
async fn a_form_post_carrying_the_cookie_is_refused() {
    let app = cookie_app().await;
    let (token, _) = signup(&app, "alice").await;
    for media in [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
    ] {
        let req = app
            .http
            .post(app.url())
            .header("content-type", media)
            .header("cookie", format!("jwt={token}"))
            .body(json!({ "query": ME }).to_string());
        refused(&app, req).await;
    }
}

#[tokio::test]
async fn a_null_token_clears_the_cookie() {
    let app = cookie_app().await;
    let (token, _) = signup(&app, "alice").await;
    let cookie = format!("jwt={token}");
    let r = app
        .post_raw(
            json!({"query": "mutation { signout(input: {}) { jwtToken } }"}).to_string(),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["signout"]["jwtToken"].is_null(), "{}", r.body);
    assert_eq!(
        set_cookies(&r),
        ["jwt=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"]
    );
    assert_eq!(r.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn without_jwt_cookie_a_cookie_is_ignored() {
    let app = app_with(Options::default()).await;
    let (token, cookies) = signup(&app, "alice").await;
    assert!(cookies.is_empty(), "{cookies:?}");
    let cookie = format!("jwt={token}");
    let r = me_with(&app, &[("cookie", &cookie)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["me"].is_null(), "anonymous: {}", r.body);
}

#[tokio::test]
async fn jwt_cookie_with_any_origin_cors_is_refused_at_startup() {
    let mut opts = cookie_opts("jwt");
    opts.cors_origins.clear(); // the harness then serves --cors (any origin)
    let err = try_app_with(opts).await.err().expect("refused");
    assert!(err.to_string().contains("--cors-origin"), "{err}");
    let mut opts = cookie_opts("jwt");
    opts.cors_origins = vec!["https://*.example"];
    let err = try_app_with(opts).await.err().expect("refused");
    assert!(err.to_string().contains("wildcards"), "{err}");
}

#[tokio::test]
async fn exact_origins_get_credentials_and_others_nothing() {
    let app = cookie_app().await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url())
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("https://app.example").await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    assert_eq!(ok.headers()["vary"], "Origin");
    let other = preflight("https://evil.example").await.unwrap();
    assert_eq!(other.status(), 403);
    assert!(other.headers().get("access-control-allow-origin").is_none());
    assert!(other
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    let r = me_with(&app, &[("origin", "https://app.example")]).await;
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://app.example"
    );
}
