//! Asymmetric keys through HTTP: RS/ES/EdDSA signing and verification, verify-only
//! instances, rotation by `kid`, the JWKS document, and the algorithm allow-list.

mod common;

use common::{app_with, claims, Options, Reply, TestApp, SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use postgraph::auth::{JwtConfig, Pem};
use serde_json::json;

const ME: &str = "{ me { id username } }";

fn key(name: &str) -> Pem {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/jwt")
        .join(name);
    Pem::read(&path).unwrap()
}

async fn app_keys(private: Option<&str>, public: &[&str]) -> TestApp {
    app_with(Options {
        jwt: JwtConfig {
            private_key: private.map(key),
            public_keys: public.iter().map(|p| key(p)).collect(),
            ..JwtConfig::default()
        },
        ..Options::default()
    })
    .await
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn header(token: &str) -> serde_json::Value {
    use base64::Engine;
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}

fn assert_refused(r: &Reply, code: &str) {
    assert_eq!(r.status, 401, "{code}: {}", r.body);
    assert_eq!(r.first_error_code(), Some(code), "{}", r.body);
    let www = r.headers["www-authenticate"].to_str().unwrap();
    assert!(
        www.starts_with("Bearer error=\"invalid_token\", error_description="),
        "{www}"
    );
}

async fn jwks(app: &TestApp) -> (u16, serde_json::Value) {
    let url = app.url().replace("/graphql", "/.well-known/jwks.json");
    let r = app.http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn rs_es_and_eddsa_instances_sign_verify_and_publish_their_key() {
    for (private, alg, kty) in [
        ("rsa-private.pem", "RS256", "RSA"),
        ("ec256-private.pem", "ES256", "EC"),
        ("ec384-private.pem", "ES384", "EC"),
        ("ed25519-private.pem", "EdDSA", "OKP"),
    ] {
        let app = app_keys(Some(private), &[]).await;
        let token = app.signup("kim").await;
        let h = header(&token);
        assert_eq!(h["alg"], alg);
        assert_eq!(claims(&token)["role"], "app_user");
        let me = app.gql(ME, json!({}), Some(&token)).await;
        assert_eq!(me.data()["me"]["username"], "kim", "{alg}: {}", me.body);

        let (status, doc) = jwks(&app).await;
        assert_eq!(status, 200);
        let keys = doc["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{doc}");
        assert_eq!(keys[0]["kty"], kty);
        assert_eq!(keys[0]["kid"], h["kid"]);
        assert!(keys[0].get("d").is_none(), "no private part: {doc}");
    }
}

#[tokio::test]
async fn an_instance_with_rsa_keys_refuses_hs_tokens_without_touching_the_database() {
    let app = app_keys(Some("rsa-private.pem"), &[]).await;
    app.gql(ME, json!({}), None).await;
    let before = app.statement_count("%").await;
    let public_pem = key("rsa-public.pem").text;
    for secret in [SECRET, public_pem.as_str()] {
        let t = encode(
            &Header::new(Algorithm::HS256),
            &json!({"role": "app_user", "user_id": 1, "exp": now() + 60}),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert_refused(
            &app.gql(ME, json!({}), Some(&t)).await,
            "JWT_INVALID_ALGORITHM",
        );
    }
    // Signed by another RSA key this instance does not know.
    let other = encode(
        &Header::new(Algorithm::RS256),
        &json!({"role": "app_user", "user_id": 1, "exp": now() + 60}),
        &EncodingKey::from_rsa_pem(key("rsa2-private.pem").text.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_refused(
        &app.gql(ME, json!({}), Some(&other)).await,
        "JWT_INVALID_SIGNATURE",
    );
    assert_eq!(before, app.statement_count("%").await);
}

#[tokio::test]
async fn a_verify_only_instance_accepts_tokens_and_refuses_to_sign_without_running_the_mutation() {
    // The signer: any instance with the private key. The verifier: only the public key.
    let signer = app_keys(Some("ec256-private.pem"), &[]).await;
    let token = signer.signup("vera").await;
    let verifier = app_keys(None, &["ec256-public.pem"]).await;
    // The verifier's database is another clone: give it the same user.
    let id = claims(&token)["user_id"].as_i64().unwrap();
    postgraph::db::connect(&verifier.admin_url)
        .await
        .unwrap()
        .batch_execute(&format!(
            "insert into app_public.users (id, username) values ({id}, 'vera')"
        ))
        .await
        .unwrap();
    let me = verifier.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.data()["me"]["username"], "vera", "{}", me.body);

    let r = verifier
        .gql(
            "mutation { signup(input: {username: \"nosign\", email: \"nosign@example.com\", password: \"correct horse battery\"}) { jwtToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["signup"], serde_json::Value::Null, "{}", r.body);
    assert_eq!(
        r.first_error_code(),
        Some("JWT_NO_SIGNING_KEY"),
        "{}",
        r.body
    );
    let msg = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(msg.contains("--jwt-private-key"), "{msg}");
    let created = verifier
        .sql("select count(*) as n from app_public.users where username = 'nosign'")
        .await;
    assert_eq!(created[0]["n"], 0, "the mutation must not have run");
}

#[tokio::test]
async fn rotation_accepts_either_public_key_and_refuses_an_unknown_kid() {
    let app = app_keys(None, &["rsa-public.pem", "rsa2-public.pem"]).await;
    let sign = |private: &str, kid: Option<&str>| {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = kid.map(str::to_owned);
        encode(
            &h,
            &json!({"role": "app_user", "exp": now() + 60}),
            &EncodingKey::from_rsa_pem(key(private).text.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let (_, doc) = jwks(&app).await;
    let kids: Vec<String> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids.len(), 2, "{doc}");
    for (private, kid) in [
        ("rsa-private.pem", &kids[0]),
        ("rsa2-private.pem", &kids[1]),
    ] {
        let r = app
            .gql(ME, json!({}), Some(&sign(private, Some(kid))))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.gql(ME, json!({}), Some(&sign(private, None))).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    app.gql(ME, json!({}), None).await;
    let before = app.statement_count("%").await;
    let unknown = sign("rsa-private.pem", Some("retired-key"));
    assert_refused(
        &app.gql(ME, json!({}), Some(&unknown)).await,
        "JWT_UNKNOWN_KID",
    );
    assert_eq!(before, app.statement_count("%").await);
}

#[tokio::test]
async fn no_jwks_without_asymmetric_keys() {
    let app = app_with(Options::default()).await;
    let (status, body) = jwks(&app).await;
    assert_eq!(status, 404, "{body}");
}
