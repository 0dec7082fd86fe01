//! PostGraphile v4's serving options with v4's meaning, as a client sees them: `-A` with a
//! list of audiences, the `--jwt-verify-*` options, `--graphql` on another route (HTTP,
//! WebSocket and GraphiQL follow it) and `--enable-query-batching`.

mod common;

use common::{app_with, claims, ws, Options, SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use postgraph::auth::{JwtConfig, VerifyOptions};
use serde_json::{json, Value};

const ME: &str = "{ me { username } }";

fn jwt(audience: Option<&str>, more: &[&str], verify: VerifyOptions) -> Options {
    Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            audience: audience.map(str::to_owned),
            more_audiences: more.iter().map(|a| a.to_string()).collect(),
            verify,
            ..JwtConfig::default()
        },
        ..Options::default()
    }
}

/// `token`'s claims with `change` applied, signed again with the test secret and `alg`.
fn resign(
    token: &str,
    alg: Algorithm,
    change: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> String {
    let mut c = claims(token).as_object().unwrap().clone();
    change(&mut c);
    encode(
        &Header::new(alg),
        &c,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

async fn me(app: &common::TestApp, token: &str) -> (u16, Value) {
    let r = app.gql(ME, json!({}), Some(token)).await;
    (r.status, r.body)
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn jwt_audiences_is_a_list_any_of_which_a_token_may_carry() {
    let app = app_with(jwt(
        Some("postgraphile"),
        &["mobile"],
        VerifyOptions::default(),
    ))
    .await;
    let token = app.signup("ann").await;
    // Signed with the first audience.
    assert_eq!(claims(&token)["aud"], "postgraphile");
    for (aud, ok) in [
        (json!("postgraphile"), true),
        (json!("mobile"), true),
        (json!(["other", "mobile"]), true),
        (json!("other"), false),
        (Value::Null, false),
    ] {
        let t = resign(&token, Algorithm::HS256, |c| {
            if aud.is_null() {
                c.remove("aud");
            } else {
                c.insert("aud".into(), aud.clone());
            }
        });
        let (status, body) = me(&app, &t).await;
        if ok {
            assert_eq!(
                (status, &body["data"]["me"]["username"]),
                (200, &json!("ann")),
                "{aud}: {body}"
            );
        } else {
            assert_eq!(
                (status, code(&body)),
                (401, "JWT_INVALID_AUDIENCE"),
                "{aud}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn an_empty_audience_list_turns_the_audience_check_off_as_in_v4() {
    let app = app_with(jwt(
        None,
        &[],
        VerifyOptions {
            ignore_audience: true,
            ..Default::default()
        },
    ))
    .await;
    let token = app.signup("bea").await;
    assert!(claims(&token).get("aud").is_none());
    let t = resign(&token, Algorithm::HS256, |c| {
        c.insert("aud".into(), json!("anyone"));
    });
    let (status, body) = me(&app, &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "bea");
}

#[tokio::test]
async fn jwt_verify_algorithms_narrows_the_accepted_algorithms() {
    let app = app_with(jwt(
        None,
        &[],
        VerifyOptions {
            algorithms: Some(vec![Algorithm::HS512]),
            ..Default::default()
        },
    ))
    .await;
    let token = app.signup("cal").await;
    // The signing algorithm (HS256) is not in the list: refused.
    let (status, body) = me(&app, &token).await;
    assert_eq!(
        (status, code(&body)),
        (401, "JWT_INVALID_ALGORITHM"),
        "{body}"
    );
    let t = resign(&token, Algorithm::HS512, |_| {});
    let (status, body) = me(&app, &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "cal");
}

#[tokio::test]
async fn jwt_verify_id_and_subject_require_those_claims() {
    let app = app_with(jwt(
        None,
        &[],
        VerifyOptions {
            jwt_id: Some("session-1".into()),
            subject: Some("web".into()),
            ..Default::default()
        },
    ))
    .await;
    let token = app.signup("dee").await;
    let with = |jti: Option<&str>, sub: Option<&str>| {
        resign(&token, Algorithm::HS256, |c| {
            if let Some(j) = jti {
                c.insert("jti".into(), json!(j));
            }
            if let Some(s) = sub {
                c.insert("sub".into(), json!(s));
            }
        })
    };
    let (status, body) = me(&app, &with(Some("session-1"), Some("web"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "dee");
    for (t, want) in [
        (with(None, Some("web")), "JWT_INVALID_ID"),
        (with(Some("session-2"), Some("web")), "JWT_INVALID_ID"),
        (with(Some("session-1"), None), "JWT_INVALID_SUBJECT"),
        (with(Some("session-1"), Some("api")), "JWT_INVALID_SUBJECT"),
    ] {
        let (status, body) = me(&app, &t).await;
        assert_eq!((status, code(&body)), (401, want), "{body}");
    }
}

#[tokio::test]
async fn ignoring_expiration_and_not_before_is_an_explicit_opt_in() {
    let expired_late = |token: &str| {
        resign(token, Algorithm::HS256, |c| {
            c.insert("exp".into(), json!(now() - 3600));
            c.insert("iat".into(), json!(now() - 7200));
        })
    };
    let early = |token: &str| {
        resign(token, Algorithm::HS256, |c| {
            c.insert("nbf".into(), json!(now() + 3600));
        })
    };
    // Strict by default.
    let strict = app_with(jwt(None, &[], VerifyOptions::default())).await;
    let token = strict.signup("eve").await;
    let (status, body) = me(&strict, &expired_late(&token)).await;
    assert_eq!((status, code(&body)), (401, "JWT_EXPIRED"), "{body}");
    let (status, body) = me(&strict, &early(&token)).await;
    assert_eq!((status, code(&body)), (401, "JWT_NOT_YET_VALID"), "{body}");
    drop(strict);
    let relaxed = app_with(jwt(
        None,
        &[],
        VerifyOptions {
            ignore_expiration: true,
            ignore_not_before: true,
            ..Default::default()
        },
    ))
    .await;
    let token = relaxed.signup("fay").await;
    for t in [expired_late(&token), early(&token)] {
        let (status, body) = me(&relaxed, &t).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["me"]["username"], "fay");
    }
}

#[tokio::test]
async fn another_graphql_route_moves_http_websocket_and_graphiql_with_it() {
    let app = app_with(Options {
        graphql_route: Some("/api/v1"),
        ..Options::default()
    })
    .await;
    assert!(app.url().ends_with("/api/v1"));
    let r = app.gql("{ __typename }", json!({}), None).await;
    assert_eq!(
        (r.status, &r.data()["__typename"]),
        (200, &json!("Query")),
        "{}",
        r.body
    );
    // The old route is not served.
    let old = app
        .http
        .post(format!("http://{}/graphql", app.running.addr))
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    // GraphiQL sends its queries and subscriptions to the route.
    let start = app
        .http
        .get(format!(
            "http://{}/_postgraph/graphiql/start.js",
            app.running.addr
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(start.contains(r#"var route = "/api/v1";"#), "{start}");
    // GraphQL over WebSocket on the route too.
    let mut s = ws::open(&app, ws::MODERN, &[]).await;
    ws::send(&mut s, json!({"type": "connection_init"})).await;
    assert_eq!(ws::recv(&mut s).await["type"], "connection_ack");
    ws::send(
        &mut s,
        json!({"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    let next = ws::recv(&mut s).await;
    assert_eq!(next["payload"]["data"]["__typename"], "Query", "{next}");
}

#[tokio::test]
async fn a_batch_is_answered_with_an_array_of_results_in_order() {
    let app = app_with(Options {
        batch_limit: Some(3),
        ..Options::default()
    })
    .await;
    let token = app.signup("gus").await;
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let batch = json!([
        {"query": "{ me { username } }"},
        {"query": "{ nope }"},
        {"query": "query Q($u: String!) { n: userByUsername(username: $u) { username } }", "variables": {"u": "gus"}, "operationName": "Q"}
    ]);
    let r = app.post_raw(batch.to_string(), &auth).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {}", r.body));
    assert_eq!(results.len(), 3);
    assert_eq!(results[0], json!({"data": {"me": {"username": "gus"}}}));
    // An invalid operation fails alone, in its place.
    assert!(results[1]["data"].is_null());
    assert_eq!(
        results[1]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{}",
        results[1]
    );
    assert_eq!(results[2]["data"]["n"]["username"], "gus");
    // A write, then a read in the same batch, in order.
    let r = app
        .post_raw(
            json!([
                {"query": "mutation { createPost(input: {post: {title: \"batched\", body: \"b\"}}) { post { title } } }"},
                {"query": "{ allPosts(condition: {title: \"batched\"}) { totalCount } }"}
            ])
            .to_string(),
            &auth,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body[0]["data"]["createPost"]["post"]["title"], "batched",
        "{}",
        r.body
    );
    assert_eq!(r.body[1]["data"]["allPosts"]["totalCount"], 1, "{}", r.body);
    // The batch size counts toward the limits.
    let four = json!([{"query": "{ __typename }"}, {"query": "{ __typename }"}, {"query": "{ __typename }"}, {"query": "{ __typename }"}]);
    let r = app.post_raw(four.to_string(), &[]).await;
    assert_eq!(
        (r.status, r.first_error_code()),
        (400, Some("BATCH_TOO_LARGE")),
        "{}",
        r.body
    );
    let r = app.post_raw("[]", &[]).await;
    assert_eq!(
        (r.status, r.first_error_code()),
        (400, Some("BATCH_TOO_LARGE")),
        "{}",
        r.body
    );
    // A refused token refuses the batch: 401, not a 200 with errors inside.
    let r = app
        .post_raw(
            json!([{"query": "{ __typename }"}]).to_string(),
            &[("authorization", "Bearer not.a.token")],
        )
        .await;
    assert_eq!(
        (r.status, r.first_error_code()),
        (401, Some("JWT_MALFORMED")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn without_the_flag_a_batch_is_refused_naming_it() {
    let app = app_with(Options::default()).await;
    let r = app
        .post_raw(json!([{"query": "{ __typename }"}]).to_string(), &[])
        .await;
    assert_eq!(
        (r.status, r.first_error_code()),
        (400, Some("BATCHING_DISABLED")),
        "{}",
        r.body
    );
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("--enable-query-batching"), "{message}");
}

#[tokio::test]
async fn jwt_verify_issuer_is_a_list_too() {
    let app = app_with(Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            issuer: Some("postgraphile".into()),
            more_issuers: vec!["https://auth.example.com".into()],
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await;
    let token = app.signup("hal").await;
    assert_eq!(claims(&token)["iss"], "postgraphile");
    for (iss, ok) in [
        ("postgraphile", true),
        ("https://auth.example.com", true),
        ("https://evil.example.com", false),
    ] {
        let t = resign(&token, Algorithm::HS256, |c| {
            c.insert("iss".into(), json!(iss));
        });
        let (status, body) = me(&app, &t).await;
        if ok {
            assert_eq!(
                (status, &body["data"]["me"]["username"]),
                (200, &json!("hal")),
                "{iss}: {body}"
            );
        } else {
            assert_eq!(
                (status, code(&body)),
                (401, "JWT_INVALID_ISSUER"),
                "{iss}: {body}"
            );
        }
    }
}
