//! One test per row of the README's token table: what a client sends → HTTP status,
//! `extensions.code`, and whether the database was touched at all (pg_stat_statements).

mod common;

use common::{app_with, Options, SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use postgraph::auth::{JwtConfig, Pem};
use serde_json::{json, Value};

const ME: &str = "{ me { id } }";
/// The secret of the fixed PostGraphile v4 token in tests/data/jwt.
const V4_SECRET: &str = "postgraphile-v4-interop-test-secret-0123456789";

fn data(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/jwt")
            .join(name),
    )
    .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The secret-only configuration of the test harness.
fn hs() -> JwtConfig {
    JwtConfig {
        secret: Some(SECRET.into()),
        ..JwtConfig::default()
    }
}

fn with_private(name: &str) -> JwtConfig {
    JwtConfig {
        private_key: Some(Pem {
            source: name.into(),
            text: data(name),
        }),
        ..JwtConfig::default()
    }
}

/// An app_user token with these claims merged over a valid base, signed HS256 with SECRET.
fn hs_token(extra: Value) -> String {
    let mut c = json!({"role": "app_user", "user_id": 1, "exp": now() + 3600});
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    encode(
        &Header::default(),
        &c,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn signed_with(alg: Algorithm, pem: &str, kid: Option<&str>) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    let pem = data(pem);
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_ed_pem(pem.as_bytes()),
    }
    .unwrap();
    encode(
        &h,
        &json!({"role": "app_user", "user_id": 1, "exp": now() + 3600}),
        &key,
    )
    .unwrap()
}

/// Sends `{ me }` with this Authorization header (or none) to an app with `jwt`, and checks
/// the status, the code, `WWW-Authenticate` on 401, and that the database saw statements
/// exactly when the request succeeded.
async fn case(jwt: JwtConfig, authorization: Option<String>, status: u16, code: Option<&str>) {
    let app = app_with(Options {
        jwt,
        ..Options::default()
    })
    .await;
    app.gql(ME, json!({}), None).await;
    let before = app.statement_count("%").await;
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    let r = app
        .post_raw(json!({ "query": ME }).to_string(), &headers)
        .await;
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.first_error_code(), code, "{}", r.body);
    if status == 401 {
        let www = r.headers["www-authenticate"].to_str().unwrap();
        assert!(
            www.starts_with("Bearer error=\"invalid_token\", error_description=\""),
            "{www}"
        );
        assert!(r.data().is_null(), "{}", r.body);
    }
    let touched = app.statement_count("%").await > before;
    assert_eq!(touched, status == 200, "database touched: {touched}");
}

fn bearer(t: String) -> Option<String> {
    Some(format!("Bearer {t}"))
}

#[tokio::test]
async fn no_token_runs_as_the_default_role() {
    case(hs(), None, 200, None).await;
}

#[tokio::test]
async fn valid_hs256() {
    case(hs(), bearer(hs_token(json!({}))), 200, None).await;
}

#[tokio::test]
async fn valid_hs512_with_the_same_secret() {
    let t = encode(
        &Header::new(Algorithm::HS512),
        &json!({"role": "app_user", "exp": now() + 60}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    case(hs(), bearer(t), 200, None).await;
}

#[tokio::test]
async fn valid_rs256() {
    let t = signed_with(Algorithm::RS256, "rsa-private.pem", None);
    case(with_private("rsa-private.pem"), bearer(t), 200, None).await;
}

#[tokio::test]
async fn valid_es256() {
    let t = signed_with(Algorithm::ES256, "ec256-private.pem", None);
    case(with_private("ec256-private.pem"), bearer(t), 200, None).await;
}

#[tokio::test]
async fn valid_es384() {
    let t = signed_with(Algorithm::ES384, "ec384-private.pem", None);
    case(with_private("ec384-private.pem"), bearer(t), 200, None).await;
}

#[tokio::test]
async fn valid_eddsa() {
    let t = signed_with(Algorithm::EdDSA, "ed25519-private.pem", None);
    case(with_private("ed25519-private.pem"), bearer(t), 200, None).await;
}

#[tokio::test]
async fn expired_within_the_leeway() {
    let t = hs_token(json!({"exp": now() - 10}));
    case(hs(), bearer(t), 200, None).await;
}

#[tokio::test]
async fn expired_beyond_the_leeway() {
    let t = hs_token(json!({"exp": now() - 31}));
    case(hs(), bearer(t), 401, Some("JWT_EXPIRED")).await;
}

#[tokio::test]
async fn nbf_in_the_future() {
    let t = hs_token(json!({"nbf": now() + 600}));
    case(hs(), bearer(t), 401, Some("JWT_NOT_YET_VALID")).await;
}

#[tokio::test]
async fn iat_in_the_future() {
    let t = hs_token(json!({"iat": now() + 600}));
    case(hs(), bearer(t), 401, Some("JWT_ISSUED_IN_FUTURE")).await;
}

#[tokio::test]
async fn no_exp() {
    let t = hs_token(json!({"exp": null}));
    case(hs(), bearer(t), 401, Some("JWT_MISSING_EXP")).await;
}

#[tokio::test]
async fn no_exp_with_allow_missing_exp() {
    let t = hs_token(json!({"exp": null}));
    let cfg = JwtConfig {
        allow_missing_exp: true,
        ..hs()
    };
    case(cfg, bearer(t), 200, None).await;
}

#[tokio::test]
async fn wrong_signature() {
    let t = hs_token(json!({}));
    let (head, sig) = t.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let t = format!("{head}.{flipped}{}", &sig[1..]);
    case(hs(), bearer(t), 401, Some("JWT_INVALID_SIGNATURE")).await;
}

#[tokio::test]
async fn hs_token_at_an_rsa_instance() {
    let t = hs_token(json!({}));
    case(
        with_private("rsa-private.pem"),
        bearer(t),
        401,
        Some("JWT_INVALID_ALGORITHM"),
    )
    .await;
}

#[tokio::test]
async fn public_key_used_as_hmac_secret() {
    let t = encode(
        &Header::default(),
        &json!({"role": "app_user", "exp": now() + 60}),
        &EncodingKey::from_secret(data("rsa-public.pem").as_bytes()),
    )
    .unwrap();
    let cfg = JwtConfig {
        public_keys: vec![Pem {
            source: "rsa-public.pem".into(),
            text: data("rsa-public.pem"),
        }],
        ..JwtConfig::default()
    };
    case(cfg, bearer(t), 401, Some("JWT_INVALID_ALGORITHM")).await;
}

#[tokio::test]
async fn alg_none() {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let t = format!(
        "{}.{}.",
        b.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b.encode(format!(r#"{{"role":"app_user","exp":{}}}"#, now() + 60))
    );
    case(hs(), bearer(t), 401, Some("JWT_INVALID_ALGORITHM")).await;
}

#[tokio::test]
async fn unknown_kid() {
    let t = signed_with(Algorithm::RS256, "rsa-private.pem", Some("retired"));
    case(
        with_private("rsa-private.pem"),
        bearer(t),
        401,
        Some("JWT_UNKNOWN_KID"),
    )
    .await;
}

#[tokio::test]
async fn aud_when_no_audience_is_configured() {
    let t = hs_token(json!({"aud": "someone-else"}));
    case(hs(), bearer(t), 401, Some("JWT_INVALID_AUDIENCE")).await;
}

fn aud_iss() -> JwtConfig {
    JwtConfig {
        audience: Some("forum".into()),
        issuer: Some("forum-auth".into()),
        ..hs()
    }
}

#[tokio::test]
async fn wrong_aud() {
    let t = hs_token(json!({"aud": "other", "iss": "forum-auth"}));
    case(aud_iss(), bearer(t), 401, Some("JWT_INVALID_AUDIENCE")).await;
}

#[tokio::test]
async fn missing_aud() {
    let t = hs_token(json!({"iss": "forum-auth"}));
    case(aud_iss(), bearer(t), 401, Some("JWT_INVALID_AUDIENCE")).await;
}

#[tokio::test]
async fn aud_array_holding_ours() {
    let t = hs_token(json!({"aud": ["x", "forum"], "iss": "forum-auth"}));
    case(aud_iss(), bearer(t), 200, None).await;
}

#[tokio::test]
async fn wrong_iss() {
    let t = hs_token(json!({"aud": "forum", "iss": "elsewhere"}));
    case(aud_iss(), bearer(t), 401, Some("JWT_INVALID_ISSUER")).await;
}

#[tokio::test]
async fn missing_iss() {
    let t = hs_token(json!({"aud": "forum"}));
    case(aud_iss(), bearer(t), 401, Some("JWT_INVALID_ISSUER")).await;
}

#[tokio::test]
async fn garbage_token() {
    case(hs(), bearer("not-a-jwt".into()), 401, Some("JWT_MALFORMED")).await;
}

#[tokio::test]
async fn not_a_bearer_header() {
    case(
        hs(),
        Some("Basic dXNlcjpwYXNz".into()),
        401,
        Some("JWT_MALFORMED"),
    )
    .await;
}

#[tokio::test]
async fn oversized_authorization_header() {
    let t = "a".repeat(9 * 1024);
    case(
        hs(),
        bearer(t),
        431,
        Some("REQUEST_HEADER_FIELDS_TOO_LARGE"),
    )
    .await;
}

#[tokio::test]
async fn role_is_the_authenticator() {
    let t = hs_token(json!({"role": "app_authenticator"}));
    case(hs(), bearer(t), 401, Some("JWT_ROLE_NOT_ALLOWED")).await;
}

#[tokio::test]
async fn role_is_a_superuser() {
    let t = hs_token(json!({"role": "postgres"}));
    case(hs(), bearer(t), 401, Some("JWT_ROLE_NOT_ALLOWED")).await;
}

#[tokio::test]
async fn role_does_not_exist() {
    let t = hs_token(json!({"role": "no_such_role"}));
    case(hs(), bearer(t), 401, Some("JWT_ROLE_NOT_ALLOWED")).await;
}

#[tokio::test]
async fn role_with_sql_in_it() {
    let t = hs_token(json!({"role": "app_user\"; drop table app_public.posts; --"}));
    case(hs(), bearer(t), 401, Some("JWT_ROLE_NOT_ALLOWED")).await;
}

#[tokio::test]
async fn role_is_a_number() {
    let t = hs_token(json!({"role": 42}));
    case(hs(), bearer(t), 401, Some("JWT_ROLE_NOT_ALLOWED")).await;
}

fn v4_alike() -> JwtConfig {
    JwtConfig {
        secret: Some(V4_SECRET.into()),
        audience: Some("postgraphile".into()),
        issuer: Some("postgraphile".into()),
        ..JwtConfig::default()
    }
}

#[tokio::test]
async fn postgraphile_v4_token_when_configured_alike() {
    let t = data("postgraphile-v4-hs256.jwt").trim().to_owned();
    case(v4_alike(), bearer(t), 200, None).await;
}

#[tokio::test]
async fn postgraphile_v4_token_without_the_audience_configured() {
    let t = data("postgraphile-v4-hs256.jwt").trim().to_owned();
    let cfg = JwtConfig {
        secret: Some(V4_SECRET.into()),
        ..JwtConfig::default()
    };
    case(cfg, bearer(t), 401, Some("JWT_INVALID_AUDIENCE")).await;
}

/// The other way: a token postgraph signs when configured alike passes PostGraphile v4's
/// check (`jwt.verify(token, secret, {audience: "postgraphile"})`, HS256, no `kid`).
#[tokio::test]
async fn postgraph_tokens_verify_the_way_postgraphile_v4_does() {
    let app = app_with(Options {
        jwt: v4_alike(),
        ..Options::default()
    })
    .await;
    let token = app.signup("vic").await;
    let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
    v.set_audience(&["postgraphile"]);
    v.set_issuer(&["postgraphile"]);
    let data = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(V4_SECRET.as_bytes()),
        &v,
    )
    .unwrap();
    assert_eq!(data.header.alg, Algorithm::HS256);
    assert_eq!(data.header.kid, None);
    assert_eq!(data.claims["role"], "app_user");
    assert!(data.claims["iat"].is_u64() && data.claims["exp"].is_u64());
}
