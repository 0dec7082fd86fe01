//! JWT in and out, claims → settings, through HTTP against a real Postgres.

mod common;

use common::{app, app_with, claims, Options, SECRET};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

const ME: &str = "{ me { id username } }";

#[tokio::test]
async fn signup_returns_a_token_with_role_user_id_and_exp() {
    let app = app().await;
    let token = app.signup("dora").await;
    let c = claims(&token);
    assert_eq!(c["role"], "app_user");
    assert!(c["user_id"].as_i64().is_some(), "{c}");
    let exp = c["exp"].as_i64().expect("exp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(exp > now, "exp {exp} is in the past");
    let users = app
        .sql("select username from app_public.users where username = 'dora'")
        .await;
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn signin_with_wrong_password_gives_null_token_and_right_password_a_token() {
    let app = app().await;
    app.signup("erin").await;
    let wrong = app.gql("mutation { signin(input: {email: \"erin@example.com\", password: \"nope nope nope\"}) { jwtToken } }", json!({}), None).await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.errors().is_none(), "{}", wrong.body);
    assert_eq!(wrong.data()["signin"]["jwtToken"], serde_json::Value::Null);

    let right = app.gql("mutation { signin(input: {email: \"ERIN@example.com\", password: \"correct horse battery\"}) { jwtToken clientMutationId } }", json!({}), None).await;
    let token = right.data()["signin"]["jwtToken"].as_str().expect("token");
    assert_eq!(claims(token)["role"], "app_user");
}

#[tokio::test]
async fn me_returns_the_user_with_a_token_and_null_without() {
    let app = app().await;
    let token = app.signup("frank").await;
    let with = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(with.status, 200);
    assert_eq!(with.data()["me"]["username"], "frank");
    let without = app.gql(ME, json!({}), None).await;
    assert_eq!(without.status, 200);
    assert_eq!(without.data()["me"], serde_json::Value::Null);
}

fn token(claims: serde_json::Value, secret: &str) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn bad_tokens_are_401_and_never_reach_the_database() {
    let app = app().await;
    // Warm up: the pool's connections exist and the count below only sees new statements.
    app.gql(ME, json!({}), None).await;
    let before = app.statement_count("%").await;

    let expired = token(
        json!({"role": "app_user", "user_id": 1, "exp": now() - 3600}),
        SECRET,
    );
    let tampered = {
        let t = token(
            json!({"role": "app_user", "user_id": 1, "exp": now() + 3600}),
            SECRET,
        );
        let (rest, sig) = t.rsplit_once('.').unwrap();
        let mut sig = sig.to_string();
        let flipped = if sig.starts_with('A') { 'B' } else { 'A' };
        sig.replace_range(0..1, &flipped.to_string());
        format!("{rest}.{sig}")
    };
    let other_secret = token(
        json!({"role": "app_user", "user_id": 1, "exp": now() + 3600}),
        "some-other-secret-entirely",
    );
    let alg_none = {
        use base64::Engine;
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b.encode(format!(
                r#"{{"role":"app_user","user_id":1,"exp":{}}}"#,
                now() + 3600
            ))
        )
    };
    let bad_role = token(
        json!({"role": "postgres", "user_id": 1, "exp": now() + 3600}),
        SECRET,
    );
    let cases = [
        (expired, "JWT_EXPIRED"),
        (tampered, "JWT_INVALID_SIGNATURE"),
        (other_secret, "JWT_INVALID_SIGNATURE"),
        ("not.a.jwt".to_string(), "JWT_MALFORMED"),
        ("garbage".to_string(), "JWT_MALFORMED"),
        (alg_none, "JWT_INVALID_ALGORITHM"),
        (bad_role, "JWT_INVALID_ROLE"),
    ];
    for (t, code) in &cases {
        let r = app.gql(ME, json!({}), Some(t)).await;
        assert_eq!(r.status, 401, "{code}: {}", r.body);
        assert_eq!(r.first_error_code(), Some(*code), "{}", r.body);
        assert!(r.data().is_null(), "no data on 401: {}", r.body);
        let www = r
            .headers
            .get("www-authenticate")
            .expect("WWW-Authenticate")
            .to_str()
            .unwrap();
        assert!(www.starts_with("Bearer error=\"invalid_token\""), "{www}");
    }
    let basic = app
        .post_raw(
            json!({"query": ME}).to_string(),
            &[("authorization", "Basic dXNlcjpwYXNz")],
        )
        .await;
    assert_eq!(basic.status, 401);

    let after = app.statement_count("%").await;
    assert_eq!(before, after, "a rejected token must not run any statement");
}

/// A function that sets a claim at session level, as a careless user function might.
const LEAKY: &str =
    "create function app_public.leak_session() returns integer language sql volatile as \
    $$ select set_config('jwt.claims.user_id', '1', false)::integer $$; \
    grant execute on function app_public.leak_session() to app_anonymous;";

#[tokio::test]
async fn settings_never_leak_between_requests_on_a_pooled_connection() {
    let app = app_with(Options {
        max_pool_size: 1,
        setup_sql: Some(LEAKY),
        ..Options::default()
    })
    .await;
    let token = app.signup("gina").await;
    let me = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(me.data()["me"]["username"], "gina");
    // Same single connection, no token: the previous request's claims are gone.
    let anon = app.gql(ME, json!({}), None).await;
    assert_eq!(anon.data()["me"], serde_json::Value::Null, "{}", anon.body);

    // Even a session-level set_config by a function does not survive into the next request.
    let leak = app
        .gql(
            "mutation { leakSession(input: {}) { clientMutationId } }",
            json!({}),
            None,
        )
        .await;
    assert!(leak.errors().is_none(), "{}", leak.body);
    let anon = app.gql(ME, json!({}), None).await;
    assert_eq!(anon.data()["me"], serde_json::Value::Null, "{}", anon.body);
}

#[tokio::test]
async fn the_role_claim_switches_role_and_unknown_claims_stay_in_request_jwt_claims() {
    let app = app().await;
    let t = token(
        json!({"role": "app_anonymous", "user_id": 1, "exp": now() + 60, "odd-key": "x"}),
        SECRET,
    );
    // app_anonymous may not insert posts even with a user_id claim.
    let r = app
        .gql(
            "mutation { createPost(input: {post: {title: \"t\"}}) { post { id } } }",
            json!({}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.first_error_code(), Some("42501"), "{}", r.body);
    assert_eq!(
        app.sql("select count(*) as n from app_public.posts").await[0]["n"],
        0
    );
}

#[tokio::test]
async fn a_token_accepted_once_is_refused_after_it_expires() {
    let app = app().await;
    let t = token(
        json!({"role": "app_user", "user_id": 1, "exp": now() + 2}),
        SECRET,
    );
    let first = app.gql(ME, json!({}), Some(&t)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let later = app.gql(ME, json!({}), Some(&t)).await;
    assert_eq!(later.status, 401, "{}", later.body);
    assert_eq!(later.first_error_code(), Some("JWT_EXPIRED"));
}
