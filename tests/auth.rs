//! JWT in and out, claims → settings, through HTTP against a real Postgres.

mod common;

use common::{app, app_with, claims, Options, Reply, SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use postgraph::auth::JwtConfig;
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
        "some-other-secret-entirely-but-long-enough",
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
    // An RS256 token at an instance that has only a secret.
    let rs256 = encode(
        &Header::new(Algorithm::RS256),
        &json!({"role": "app_user", "user_id": 1, "exp": now() + 3600}),
        &EncodingKey::from_rsa_pem(include_bytes!("data/jwt/rsa-private.pem")).unwrap(),
    )
    .unwrap();
    let with = |extra: serde_json::Value| {
        let mut c = json!({"role": "app_user", "user_id": 1, "exp": now() + 3600});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        token(c, SECRET)
    };
    let no_exp = token(json!({"role": "app_user", "user_id": 1}), SECRET);
    let cases = [
        (expired, "JWT_EXPIRED"),
        (with(json!({"exp": now() - 31})), "JWT_EXPIRED"),
        (no_exp, "JWT_MISSING_EXP"),
        (with(json!({"exp": "tomorrow"})), "JWT_MALFORMED"),
        (with(json!({"nbf": now() + 600})), "JWT_NOT_YET_VALID"),
        (with(json!({"iat": now() + 3600})), "JWT_ISSUED_IN_FUTURE"),
        // No audience configured: a token meant for some audience is refused.
        (with(json!({"aud": "someone"})), "JWT_INVALID_AUDIENCE"),
        (with(json!({"aud": ["a", "b"]})), "JWT_INVALID_AUDIENCE"),
        (tampered, "JWT_INVALID_SIGNATURE"),
        (other_secret, "JWT_INVALID_SIGNATURE"),
        ("not.a.jwt".to_string(), "JWT_MALFORMED"),
        ("garbage".to_string(), "JWT_MALFORMED"),
        (alg_none, "JWT_INVALID_ALGORITHM"),
        (rs256, "JWT_INVALID_ALGORITHM"),
        // A superuser the authenticator is not a member of.
        (with(json!({"role": "postgres"})), "JWT_ROLE_NOT_ALLOWED"),
        // The authenticator itself, though it could always "switch" to itself.
        (
            with(json!({"role": "app_authenticator"})),
            "JWT_ROLE_NOT_ALLOWED",
        ),
        (with(json!({"role": "nobody_here"})), "JWT_ROLE_NOT_ALLOWED"),
        (
            with(json!({"role": "app_user'; drop table app_public.posts; --"})),
            "JWT_ROLE_NOT_ALLOWED",
        ),
        (with(json!({"role": 5})), "JWT_ROLE_NOT_ALLOWED"),
        (
            with(json!({"role": {"name": "app_user"}})),
            "JWT_ROLE_NOT_ALLOWED",
        ),
    ];
    for (t, code) in &cases {
        let r = app.gql(ME, json!({}), Some(t)).await;
        assert_refused(&r, code);
    }
    let basic = app
        .post_raw(
            json!({"query": ME}).to_string(),
            &[("authorization", "Basic dXNlcjpwYXNz")],
        )
        .await;
    assert_refused(&basic, "JWT_MALFORMED");

    // An oversized Authorization header is refused as such, before any decoding.
    let huge = format!("Bearer {}", "a".repeat(64 * 1024));
    let r = app
        .post_raw(
            json!({"query": ME}).to_string(),
            &[("authorization", huge.as_str())],
        )
        .await;
    assert_eq!(r.status, 431, "{}", r.body);
    assert_eq!(
        r.first_error_code(),
        Some("REQUEST_HEADER_FIELDS_TOO_LARGE")
    );
    // Just over the documented 8 KB cap, too; a token at the cap is merely malformed.
    let over = format!("Bearer {}", "a".repeat(8 * 1024 - 6));
    assert_eq!(over.len(), 8 * 1024 + 1);
    let r = app
        .post_raw(
            json!({"query": ME}).to_string(),
            &[("authorization", over.as_str())],
        )
        .await;
    assert_eq!(r.status, 431, "{}", r.body);
    let at = &over[..8 * 1024];
    let r = app
        .post_raw(json!({"query": ME}).to_string(), &[("authorization", at)])
        .await;
    assert_refused(&r, "JWT_MALFORMED");

    let after = app.statement_count("%").await;
    assert_eq!(before, after, "a rejected token must not run any statement");
}

/// 401, the code, a `WWW-Authenticate: Bearer error="invalid_token"` with a description,
/// and no data.
fn assert_refused(r: &Reply, code: &str) {
    assert_eq!(r.status, 401, "{code}: {}", r.body);
    assert_eq!(r.first_error_code(), Some(code), "{}", r.body);
    assert!(r.data().is_null(), "no data on 401: {}", r.body);
    let www = r
        .headers
        .get("www-authenticate")
        .unwrap_or_else(|| panic!("{code}: no WWW-Authenticate"))
        .to_str()
        .unwrap();
    assert!(
        www.starts_with("Bearer error=\"invalid_token\", error_description=\""),
        "{code}: {www}"
    );
}

#[tokio::test]
async fn tokens_within_the_leeway_are_accepted() {
    let app = app().await;
    app.signup("lee").await;
    let id = app
        .sql("select id from app_public.users where username = 'lee'")
        .await[0]["id"]
        .clone();
    // Signed by an instance whose clock is 20 s fast, or that expired 10 s ago.
    for c in [
        json!({"role": "app_user", "user_id": id, "exp": now() - 10}),
        json!({"role": "app_user", "user_id": id, "exp": now() + 60, "iat": now() + 20, "nbf": now() + 20}),
    ] {
        let r = app
            .gql(ME, json!({}), Some(&token(c.clone(), SECRET)))
            .await;
        assert_eq!(r.status, 200, "{c}: {}", r.body);
        assert_eq!(r.data()["me"]["username"], "lee", "{}", r.body);
    }
}

/// Roles the authenticator may switch to but that a token must never name.
const DANGEROUS_ROLES: &str = "
    create role jwt_test_super superuser nologin;
    create role jwt_test_bypass bypassrls nologin;
    create role jwt_test_owner nologin;
    create role jwt_test_owner_member nologin in role jwt_test_owner;
    grant jwt_test_super, jwt_test_bypass, jwt_test_owner, jwt_test_owner_member
        to app_authenticator;
    create table app_public.owned_notes (id int primary key);
    alter table app_public.owned_notes owner to jwt_test_owner;";

#[tokio::test]
async fn role_claims_naming_a_superuser_bypassrls_or_owner_role_are_refused() {
    let app = app_with(Options {
        setup_sql: Some(DANGEROUS_ROLES),
        ..Options::default()
    })
    .await;
    // The authenticator can switch to each of them: only the startup role list stops it.
    let authn = postgraph::db::connect(&app.authenticator_url)
        .await
        .unwrap();
    for role in [
        "jwt_test_super",
        "jwt_test_bypass",
        "jwt_test_owner",
        "jwt_test_owner_member",
    ] {
        authn
            .batch_execute(&format!("set role {role}; reset role"))
            .await
            .unwrap_or_else(|e| panic!("set role {role}: {e}"));
    }
    drop(authn);
    app.gql(ME, json!({}), None).await;
    let before = app.statement_count("%").await;
    for role in [
        "jwt_test_super",
        "jwt_test_bypass",
        "jwt_test_owner",
        "jwt_test_owner_member",
    ] {
        let t = token(
            json!({"role": role, "user_id": 1, "exp": now() + 60}),
            SECRET,
        );
        let r = app.gql(ME, json!({}), Some(&t)).await;
        assert_refused(&r, "JWT_ROLE_NOT_ALLOWED");
    }
    assert_eq!(before, app.statement_count("%").await);
    // The application roles still work.
    let t = token(json!({"role": "app_user", "exp": now() + 60}), SECRET);
    assert_eq!(app.gql(ME, json!({}), Some(&t)).await.status, 200);
}

#[tokio::test]
async fn issued_tokens_carry_iat_and_are_never_cached() {
    let app = app().await;
    let r = app
        .gql(
            "mutation { signup(input: {username: \"ivy\", email: \"ivy@example.com\", password: \"correct horse battery\"}) { jwtToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let c = claims(r.data()["signup"]["jwtToken"].as_str().unwrap());
    let iat = c["iat"].as_i64().expect("iat");
    assert!((iat - now()).abs() <= 5, "{c}");
    // The example app leaves exp to the engine: the configured lifetime (15 minutes).
    assert_eq!(c["exp"].as_i64().unwrap() - iat, 900, "{c}");
    // A response without a token may be cached as usual.
    let me = app.gql(ME, json!({}), None).await;
    assert!(me.headers.get("cache-control").is_none());
}

const TOKEN_WITHOUT_EXP: &str =
    "create function app_public.guest_token() returns app_public.jwt_token language sql volatile as \
    $$ select row('app_anonymous', null, null, null)::app_public.jwt_token $$; \
    grant execute on function app_public.guest_token() to app_anonymous;";

#[tokio::test]
async fn a_token_row_without_exp_gets_the_configured_lifetime() {
    let app = app_with(Options {
        setup_sql: Some(TOKEN_WITHOUT_EXP),
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            expires_in_secs: 120,
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "mutation { guestToken(input: {}) { jwtToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.data()["guestToken"]["jwtToken"].as_str().expect("token");
    let c = claims(t);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 120);
    assert_eq!(c["role"], "app_anonymous");
    // And it is accepted back.
    assert_eq!(app.gql(ME, json!({}), Some(t)).await.status, 200);
}

#[tokio::test]
async fn audience_and_issuer_are_signed_and_required_when_configured() {
    let app = app_with(Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            audience: Some("forum".into()),
            issuer: Some("forum-auth".into()),
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await;
    let signed = app.signup("aude").await;
    let c = claims(&signed);
    assert_eq!(
        (c["aud"].as_str(), c["iss"].as_str()),
        (Some("forum"), Some("forum-auth"))
    );
    let me = app.gql(ME, json!({}), Some(&signed)).await;
    assert_eq!(me.data()["me"]["username"], "aude", "{}", me.body);

    let user_id = c["user_id"].clone();
    let base = json!({"role": "app_user", "user_id": user_id, "exp": now() + 60});
    let with = |extra: serde_json::Value| {
        let mut c = base.clone();
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        token(c, SECRET)
    };
    app.gql(ME, json!({}), None).await;
    let before = app.statement_count("%").await;
    for (t, code) in [
        (with(json!({"iss": "forum-auth"})), "JWT_INVALID_AUDIENCE"),
        (
            with(json!({"aud": "other", "iss": "forum-auth"})),
            "JWT_INVALID_AUDIENCE",
        ),
        (
            with(json!({"aud": ["x", "y"], "iss": "forum-auth"})),
            "JWT_INVALID_AUDIENCE",
        ),
        (with(json!({"aud": "forum"})), "JWT_INVALID_ISSUER"),
        (
            with(json!({"aud": "forum", "iss": "elsewhere"})),
            "JWT_INVALID_ISSUER",
        ),
    ] {
        assert_refused(&app.gql(ME, json!({}), Some(&t)).await, code);
    }
    assert_eq!(before, app.statement_count("%").await);
    // aud as an array that holds ours.
    let t = with(json!({"aud": ["x", "forum"], "iss": "forum-auth"}));
    let me = app.gql(ME, json!({}), Some(&t)).await;
    assert_eq!(me.data()["me"]["username"], "aude", "{}", me.body);
}

#[tokio::test]
async fn the_role_claim_can_be_a_path() {
    let app = app_with(Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            role_claim: ".app.role".into(),
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await;
    app.signup("pat").await;
    let id = app
        .sql("select id from app_public.users where username = 'pat'")
        .await[0]["id"]
        .clone();
    let t = token(
        json!({"app": {"role": "app_user"}, "role": "app_authenticator", "user_id": id, "exp": now() + 60}),
        SECRET,
    );
    let me = app.gql(ME, json!({}), Some(&t)).await;
    assert_eq!(me.data()["me"]["username"], "pat", "{}", me.body);
    let t = token(
        json!({"app": {"role": "app_authenticator"}, "user_id": id, "exp": now() + 60}),
        SECRET,
    );
    assert_refused(
        &app.gql(ME, json!({}), Some(&t)).await,
        "JWT_ROLE_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn a_short_secret_is_refused_at_startup() {
    let app = app().await;
    let cfg = postgraph::server::EngineConfig {
        connection: app.authenticator_url.clone(),
        schemas: vec!["app_public".into()],
        jwt_token_identifier: Some("app_public.jwt_token".into()),
        disable_default_mutations: false,
        simple_subscriptions: false,
        schema_flags: Default::default(),
        jwt: JwtConfig {
            secret: Some("too-short-a-secret".into()),
            ..JwtConfig::default()
        },
        default_role: Some("app_anonymous".into()),
        max_pool_size: 1,
        statement_timeout_ms: 1000,
        pool_timeout_ms: 1000,
        limits: Default::default(),
        max_page_size: None,
        max_groups: None,
        production: false,
        extended_errors: vec![],
        scale: Default::default(),
        pre_request: None,
    };
    let err = match postgraph::server::build_engine(&cfg).await {
        Ok(_) => panic!("an 18-byte secret was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("at least 32 bytes"), "{err}");
    assert!(
        !err.contains("too-short-a-secret"),
        "the secret is not echoed: {err}"
    );
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
    // No leeway, so the test need not wait 30 s for the token to lapse.
    let app = app_with(Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            leeway_secs: 0,
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await;
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

const CLAIMS_SEEN: &str =
    "create function app_public.claims_seen() returns text language sql stable as $$ \
    select json_build_object( \
      'all', current_setting('request.jwt.claims', true)::json, \
      'name', current_setting('jwt.claims.name', true), \
      'nested', current_setting('jwt.claims.nested', true), \
      'dotted', coalesce(nullif(current_setting('jwt.claims.a.b', true), ''), 'unset'), \
      'role', current_user \
    )::text $$; \
    grant execute on function app_public.claims_seen() to app_anonymous;";

#[tokio::test]
async fn odd_claim_keys_and_values_reach_the_settings_unaltered_and_never_as_sql() {
    let app = app_with(Options {
        setup_sql: Some(CLAIMS_SEEN),
        ..Options::default()
    })
    .await;
    let claims = json!({
        "role": "app_user",
        "user_id": 1,
        "exp": now() + 60,
        "name": "O'Brien \"Bob\" \\ ü 🦀'); drop table app_public.posts; --",
        "nested": {"a.b": {"c": "ü", "list": [1, "two", null]}},
        "a.b": "dotted",
        "it's": "a quote in the key",
        "ünï": "cödé",
    });
    let r = app
        .gql(
            "{ claimsSeen }",
            json!({}),
            Some(&token(claims.clone(), SECRET)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let seen: serde_json::Value =
        serde_json::from_str(r.data()["claimsSeen"].as_str().expect("text")).unwrap();
    assert_eq!(
        seen["all"], claims,
        "request.jwt.claims is the whole object"
    );
    assert_eq!(seen["name"], claims["name"]);
    let nested: serde_json::Value = serde_json::from_str(seen["nested"].as_str().unwrap()).unwrap();
    assert_eq!(nested, claims["nested"]);
    // A key that is not a plain name is only in request.jwt.claims.
    assert_eq!(seen["dotted"], "unset");
    assert_eq!(seen["role"], "app_user");
    let posts = app
        .sql("select count(*) as n from information_schema.tables where table_name = 'posts'")
        .await;
    assert_eq!(posts[0]["n"], 1);
}
