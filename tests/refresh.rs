//! The example app's refresh tokens (migrations/V4__refresh_tokens.sql), through HTTP:
//! sign-in with a refresh token, rotation, reuse detection, sign-out, sign-out everywhere
//! (refresh and access tokens alike).

mod common;

use common::{app, app_with, Options, TestApp};
use serde_json::{json, Value};

const SIGNIN: &str = "mutation($e: String!) { signinWithRefresh(input: {email: $e, password: \"correct horse battery\"}) { authToken { accessToken refreshToken } } }";
const REFRESH: &str = "mutation($r: String!) { refresh(input: {refreshToken: $r}) { authToken { accessToken refreshToken } } }";
const ME: &str = "{ me { username } }";

/// (access token, refresh token) of a fresh sign-in of `username` (signed up before).
async fn signin(app: &TestApp, username: &str) -> (String, String) {
    let r = app
        .gql(
            SIGNIN,
            json!({"e": format!("{username}@example.com")}),
            None,
        )
        .await;
    pair(&r.body["data"]["signinWithRefresh"]["authToken"])
        .unwrap_or_else(|| panic!("no tokens: {}", r.body))
}

fn pair(t: &Value) -> Option<(String, String)> {
    Some((
        t["accessToken"].as_str()?.to_owned(),
        t["refreshToken"].as_str()?.to_owned(),
    ))
}

/// The new pair a refresh token buys, or None when it is refused.
async fn refresh(app: &TestApp, token: &str) -> Option<(String, String)> {
    let r = app.gql(REFRESH, json!({ "r": token }), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    pair(&r.body["data"]["refresh"]["authToken"])
}

async fn me(app: &TestApp, access: &str) -> Value {
    let r = app.gql(ME, json!({}), Some(access)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["me"]["username"].clone()
}

#[tokio::test]
async fn signin_with_refresh_signs_a_short_access_token_and_stores_only_a_hash() {
    let app = app().await;
    app.signup("alice").await;
    let (access, refresh_token) = signin(&app, "alice").await;
    let c = common::claims(&access);
    assert_eq!(
        (c["role"].as_str(), c["session_version"].as_i64()),
        (Some("app_user"), Some(1))
    );
    // No exp in the row: the engine's 15-minute default.
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    assert_eq!(me(&app, &access).await, "alice");
    assert_eq!(refresh_token.len(), 64);
    let stored = app
        .sql(&format!(
            "select count(*) filter (where token_hash = public.digest('{refresh_token}', 'sha256')) as by_hash, \
             count(*) filter (where t::text like '%{refresh_token}%') as in_clear \
             from app_private.refresh_tokens t"
        ))
        .await;
    assert_eq!(stored, [json!({"by_hash": 1, "in_clear": 0})]);
    // A wrong password: no tokens at all.
    let r = app
        .gql(
            "mutation { signinWithRefresh(input: {email: \"alice@example.com\", password: \"wrong password\"}) { authToken { accessToken } } }",
            json!({}),
            None,
        )
        .await;
    assert!(
        r.data()["signinWithRefresh"]["authToken"].is_null(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let app = app().await;
    app.signup("alice").await;
    let (_, r1) = signin(&app, "alice").await;
    let (a2, r2) = refresh(&app, &r1).await.expect("rotated");
    assert_ne!(r1, r2);
    assert_eq!(me(&app, &a2).await, "alice");
    let (_, r3) = refresh(&app, &r2).await.expect("rotated again");
    assert_ne!(r2, r3);
    let rows = app
        .sql("select count(*) filter (where revoked_at is null) as live, count(distinct family) as families from app_private.refresh_tokens")
        .await;
    assert_eq!(rows, [json!({"live": 1, "families": 1})]);
    assert_eq!(refresh(&app, "not-a-token").await, None);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_its_whole_family() {
    let app = app().await;
    app.signup("alice").await;
    let (_, r1) = signin(&app, "alice").await;
    let (_, other_device) = signin(&app, "alice").await;
    let (_, r2) = refresh(&app, &r1).await.expect("rotated");
    // r1 again: a copy exists. Refused, and r2 (its family) dies with it.
    assert_eq!(refresh(&app, &r1).await, None);
    assert_eq!(refresh(&app, &r2).await, None);
    // Another sign-in is another family: untouched.
    assert!(refresh(&app, &other_device).await.is_some());
}

#[tokio::test]
async fn signout_revokes_the_refresh_token_and_clears_the_cookie() {
    let app = app_with(Options {
        cors_origins: vec!["https://app.example"],
        jwt_cookie: Some("jwt"),
        ..Options::default()
    })
    .await;
    app.signup("alice").await;
    // The nested access token is signed and set as the cookie too.
    let r = app
        .gql(SIGNIN, json!({"e": "alice@example.com"}), None)
        .await;
    let (access, r1) = pair(&r.data()["signinWithRefresh"]["authToken"]).unwrap();
    let set = r.headers["set-cookie"].to_str().unwrap();
    assert!(set.starts_with(&format!("jwt={access}; Max-Age=")), "{set}");
    let r = app
        .gql(
            "mutation($r: String!) { signout(input: {refreshToken: $r}) { jwtToken } }",
            json!({ "r": r1 }),
            None,
        )
        .await;
    assert!(r.data()["signout"]["jwtToken"].is_null(), "{}", r.body);
    assert!(r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("jwt=; Max-Age=0"));
    assert_eq!(refresh(&app, &r1).await, None);
}

#[tokio::test]
async fn a_refused_refresh_leaves_the_token_cookie_alone() {
    let app = app_with(Options {
        cors_origins: vec!["https://app.example"],
        jwt_cookie: Some("jwt"),
        ..Options::default()
    })
    .await;
    app.signup("alice").await;
    let r = app
        .gql(SIGNIN, json!({"e": "alice@example.com"}), None)
        .await;
    let (_, r1) = pair(&r.data()["signinWithRefresh"]["authToken"]).unwrap();
    assert!(refresh(&app, &r1).await.is_some());
    // r1 is spent: `authToken` comes back without tokens. That
    // is no sign-out: the access token cookie, which every tab shares, stays until it expires.
    let r = app.gql(REFRESH, json!({ "r": r1 }), None).await;
    assert_eq!(
        r.data()["refresh"]["authToken"],
        json!({"accessToken": null, "refreshToken": null}),
        "{}",
        r.body
    );
    // A wrong password (a null row) is no sign-out either.
    let r = app
        .gql(
            "mutation { signinWithRefresh(input: {email: \"alice@example.com\", password: \"wrong password\"}) { authToken { accessToken } } }",
            json!({}),
            None,
        )
        .await;
    assert!(
        r.data()["signinWithRefresh"]["authToken"].is_null(),
        "{}",
        r.body
    );
    assert!(r.headers.get("set-cookie").is_none(), "{:?}", r.headers);
    assert!(r.headers.get("set-cookie").is_none(), "{:?}", r.headers);
}

#[tokio::test]
async fn signout_everywhere_revokes_every_refresh_and_access_token_of_the_user() {
    // The example app checks the session version once per request (--pre-request).
    let app = app_with(Options {
        pre_request: Some("app_private.check_session"),
        ..Options::default()
    })
    .await;
    let signup_token = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let (a1, r1) = signin(&app, "alice").await;
    let (a2, r2) = signin(&app, "alice").await;
    let (_, r3) = refresh(&app, &r2).await.expect("rotated");
    let (_, bobs_refresh) = signin(&app, "bob").await;
    let r = app
        .gql(
            "mutation { signoutEverywhere(input: {}) { jwtToken } }",
            json!({}),
            Some(&a1),
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    for t in [&r1, &r2, &r3] {
        assert_eq!(refresh(&app, t).await, None, "refresh token still accepted");
    }
    // Every access token of alice signed before is refused with 401, so that a client's
    // "401: refresh, else sign in" notices; bob's are untouched.
    for t in [&a1, &a2, &signup_token] {
        let r = app.gql(ME, json!({}), Some(t)).await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.first_error_code(), Some("JWT_REVOKED"), "{}", r.body);
        assert_eq!(
            r.errors().unwrap()[0]["message"],
            "this session was signed out; sign in again"
        );
        let challenge = r.headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
    }
    assert_eq!(me(&app, &bob).await, "bob");
    assert!(refresh(&app, &bobs_refresh).await.is_some());
    // Signing in again works, with the new session version.
    let (fresh, _) = signin(&app, "alice").await;
    assert_eq!(common::claims(&fresh)["session_version"], 2);
    assert_eq!(me(&app, &fresh).await, "alice");
    // Anonymous: refused with a clear error.
    let r = app
        .gql(
            "mutation { signoutEverywhere(input: {}) { jwtToken } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
}
