//! `--jwt-fingerprint` (OWASP token sidejacking): signed tokens carry `fgp`, the SHA-256 of a
//! random value set in a `__Host-` cookie; a token is accepted only together with that cookie.
//! Each case of the README's fingerprint table is one test here.

mod common;

use common::{app_with, Options, TestApp, SECRET};
use jsonwebtoken::{encode, EncodingKey, Header};
use postgraph::auth::JwtConfig;
use serde_json::json;
use sha2::{Digest, Sha256};

const ME: &str = "{ me { username } }";

fn opts(insecure: bool, cookie: Option<&'static str>) -> Options {
    Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            fingerprint: true,
            ..JwtConfig::default()
        },
        insecure_cookies: insecure,
        jwt_cookie: cookie,
        // The token cookie needs exact origins (the harness serves --cors without them).
        cors_origins: if cookie.is_some() {
            vec!["https://app.example"]
        } else {
            vec![]
        },
        ..Options::default()
    }
}

/// Signs `username` up: the token and the fingerprint cookie's `Set-Cookie` line.
async fn signup(app: &TestApp, username: &str) -> (String, String) {
    let r = app
        .gql(
            "mutation($u: String!, $e: String!) { signup(input: {username: $u, email: $e, password: \"correct horse battery\"}) { jwtToken } }",
            json!({"u": username, "e": format!("{username}@example.com")}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.data()["signup"]["jwtToken"].as_str().unwrap().to_owned();
    let set: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|c| c.contains("fgp="))
        .collect();
    assert_eq!(set.len(), 1, "{set:?}");
    (token, set[0].clone())
}

/// `name=value` of a `Set-Cookie` line.
fn pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

/// Sends `{ me }` with the token (Bearer) and this Cookie header; checks that a refusal is
/// 401 JWT_FINGERPRINT without database work, and returns the username seen.
async fn me(app: &TestApp, token: &str, cookie: Option<&str>) -> Result<String, ()> {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("authorization", bearer.as_str())];
    if let Some(c) = cookie {
        headers.push(("cookie", c));
    }
    let before = app.statement_count("%").await;
    let r = app
        .post_raw(json!({ "query": ME }).to_string(), &headers)
        .await;
    if r.status == 200 {
        return Ok(r.data()["me"]["username"].as_str().unwrap().to_owned());
    }
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("JWT_FINGERPRINT"), "{}", r.body);
    assert!(r.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
    assert_eq!(app.statement_count("%").await, before, "database touched");
    Err(())
}

#[tokio::test]
async fn signing_sets_a_host_cookie_and_its_hash_as_fgp() {
    let app = app_with(opts(false, None)).await;
    let (token, set) = signup(&app, "alice").await;
    let value = pair(&set).strip_prefix("__Host-fgp=").expect("__Host-fgp");
    assert_eq!(value.len(), 64, "{set}");
    assert!(
        set.ends_with("; Path=/; HttpOnly; Secure; SameSite=Strict"),
        "{set}"
    );
    assert!(set.contains("; Max-Age="), "{set}");
    let hash: String = Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(common::claims(&token)["fgp"], hash);
    // Another sign-in, another fingerprint.
    let (_, other) = signup(&app, "bob").await;
    assert_ne!(pair(&other), pair(&set));
}

#[tokio::test]
async fn a_token_with_its_fingerprint_cookie_is_accepted() {
    let app = app_with(opts(false, None)).await;
    let (token, set) = signup(&app, "alice").await;
    let cookie = format!("other=1; {}", pair(&set));
    assert_eq!(me(&app, &token, Some(&cookie)).await, Ok("alice".into()));
}

#[tokio::test]
async fn a_token_without_the_fingerprint_cookie_is_refused() {
    let app = app_with(opts(false, None)).await;
    let (token, set) = signup(&app, "alice").await;
    // Accepted once (its session is cached), then refused without the cookie all the same.
    assert!(me(&app, &token, Some(pair(&set))).await.is_ok());
    assert_eq!(me(&app, &token, None).await, Err(()));
    assert_eq!(me(&app, &token, Some("other=1")).await, Err(()));
}

#[tokio::test]
async fn a_token_with_another_fingerprint_cookie_is_refused() {
    let app = app_with(opts(false, None)).await;
    let (alice, _) = signup(&app, "alice").await;
    let (_, bobs) = signup(&app, "bob").await;
    assert_eq!(me(&app, &alice, Some(pair(&bobs))).await, Err(()));
}

#[tokio::test]
async fn a_token_without_fgp_is_refused() {
    let app = app_with(opts(false, None)).await;
    let (_, set) = signup(&app, "alice").await;
    let exp = jsonwebtoken::get_current_timestamp() + 600;
    let bare = encode(
        &Header::default(),
        &json!({"role": "app_user", "user_id": 1, "exp": exp}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(me(&app, &bare, Some(pair(&set))).await, Err(()));
}

#[tokio::test]
async fn with_the_token_cookie_both_cookies_are_set_and_used() {
    let app = app_with(opts(false, Some("jwt"))).await;
    let (token, set) = signup(&app, "alice").await;
    let cookie = format!("jwt={token}; {}", pair(&set));
    let r = app
        .post_raw(json!({ "query": ME }).to_string(), &[("cookie", &cookie)])
        .await;
    assert_eq!(r.data()["me"]["username"], "alice", "{}", r.body);
    let only_token = format!("jwt={token}");
    let r = app
        .post_raw(
            json!({ "query": ME }).to_string(),
            &[("cookie", &only_token)],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("JWT_FINGERPRINT"));
    // Sign-out clears both.
    let r = app
        .post_raw(
            json!({"query": "mutation { signout(input: {}) { jwtToken } }"}).to_string(),
            &[("cookie", &cookie)],
        )
        .await;
    let mut cleared: Vec<&str> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    cleared.sort();
    assert_eq!(
        cleared,
        [
            "__Host-fgp=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict",
            "jwt=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
        ]
    );
}

#[tokio::test]
async fn insecure_cookies_use_a_plain_fgp_cookie() {
    let app = app_with(opts(true, None)).await;
    let (token, set) = signup(&app, "alice").await;
    assert!(set.starts_with("fgp="), "{set}");
    assert!(
        set.ends_with("; Path=/; HttpOnly; SameSite=Strict"),
        "{set}"
    );
    assert_eq!(me(&app, &token, Some(pair(&set))).await, Ok("alice".into()));
}
