//! Two postgraph instances on one database share events and tokens: nothing either keeps
//! (sessions, subscriptions, keys) is needed by the other.

use super::common::{self, Options, TestApp};
use super::{serving, ws, NOTIFY_ON_POST};
use postgraph::auth::{JwtConfig, Pem};
use serde_json::json;

/// A second instance over `app`'s database.
async fn second(app: &TestApp, opts: &Options) -> TestApp {
    serving(&app.database, &app.admin_url, &app.authenticator_url, opts).await
}

async fn me(app: &TestApp, token: &str) -> serde_json::Value {
    let r = app.gql("{ me { username } }", json!({}), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["me"]["username"].clone()
}

#[tokio::test]
async fn a_subscription_on_one_instance_hears_a_mutation_through_the_other() {
    let opts = Options {
        simple_subscriptions: true,
        setup_sql: Some(NOTIFY_ON_POST),
        ..Options::default()
    };
    let a = common::app_with(Options {
        simple_subscriptions: true,
        setup_sql: Some(NOTIFY_ON_POST),
        ..Options::default()
    })
    .await;
    let b = second(&a, &opts).await;
    // Signed by A (the shared secret), verified by B.
    let token = a.signup("two_instances").await;
    assert_eq!(me(&b, &token).await, "two_instances");
    let mut socket = ws::connect(b.running.addr, Some(&token)).await;
    ws::listen_posts(&mut socket, "{ relatedNode { ... on Post { title } } }").await;
    let created = a
        .gql(
            "mutation { createPost(input: {post: {title: \"written through A\"}}) { post { id } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert!(created.errors().is_none(), "{}", created.body);
    let event = ws::recv(&mut socket).await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(
        event["payload"]["data"]["listen"]["relatedNode"]["title"],
        "written through A"
    );
}

#[tokio::test]
async fn tokens_signed_with_a_private_key_verify_on_an_instance_reading_the_jwks() {
    let private =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jwt/ed25519-private.pem");
    let signer = common::app_with(Options {
        jwt: JwtConfig {
            private_key: Some(Pem::read(&private).unwrap()),
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await;
    let jwks = signer.url().replace("/graphql", "/.well-known/jwks.json");
    let verifier = second(
        &signer,
        &Options {
            jwt: JwtConfig {
                jwks_url: Some(jwks),
                ..JwtConfig::default()
            },
            ..Options::default()
        },
    )
    .await;
    let token = signer.signup("asymmetric").await;
    assert_eq!(me(&verifier, &token).await, "asymmetric");
    assert_eq!(me(&signer, &token).await, "asymmetric");
    // A token the verifier cannot check is refused there as anywhere.
    let forged = format!("{}x", token);
    let r = verifier
        .gql("{ me { username } }", json!({}), Some(&forged))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
}
