//! Tokens survive the switch from PostGraphile v4: v4 signs `aud` and `iss` `postgraphile`
//! (unless the row sets them) and accepts only that audience. With `--jwt-audience
//! postgraphile`, postgraph accepts the tokens v4 signed and signs tokens v4 accepts.

mod common;

use common::{app_with, claims, Options, SECRET};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use postgraph::auth::JwtConfig;
use serde_json::{json, Value};

const ME: &str = "{ me { username } }";

fn options(audience: Option<&str>) -> Options {
    Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            audience: audience.map(str::to_owned),
            ..JwtConfig::default()
        },
        ..Options::default()
    }
}

/// A token as v4's PgJWTPlugin signs a `jwt_token` row: the row's attributes, then
/// jsonwebtoken's `iat`, `expiresIn: "1 day"` when the row has no exp, and `audience` and
/// `issuer` "postgraphile" when the row has no aud or iss; HS256.
fn v4_sign(row: &Value) -> String {
    let mut claims = row.as_object().unwrap().clone();
    let now = jsonwebtoken::get_current_timestamp();
    claims.insert("iat".into(), json!(now));
    if claims.get("exp").is_none_or(Value::is_null) {
        claims.insert("exp".into(), json!(now + 86_400));
    }
    claims.entry("aud").or_insert(json!("postgraphile"));
    claims.entry("iss").or_insert(json!("postgraphile"));
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// What v4 checks of an incoming token by default (jsonwebtoken's verify with
/// `audience: ["postgraphile"]`): signature, exp, nbf, audience.
fn v4_accepts(token: &str) -> bool {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&["postgraphile"]);
    // node's jsonwebtoken refuses a token without aud when an audience is expected.
    v.set_required_spec_claims(&["exp", "aud"]);
    v.validate_nbf = true;
    decode::<Value>(token, &DecodingKey::from_secret(SECRET.as_bytes()), &v).is_ok()
}

#[tokio::test]
async fn v4_tokens_work_with_jwt_audience_postgraphile_and_postgraph_tokens_work_on_v4() {
    let app = app_with(options(Some("postgraphile"))).await;
    // A user who signed in on v4: the same row the signin function returns, signed by v4.
    let ours = app.signup("vera").await;
    let mut row = claims(&ours);
    for k in ["iat", "exp", "aud", "iss"] {
        row.as_object_mut().unwrap().remove(k);
    }
    let theirs = v4_sign(&row);
    let r = app.gql(ME, json!({}), Some(&theirs)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["me"]["username"], "vera");
    // postgraph's token carries v4's audience, so a v4 instance beside it accepts it.
    assert_eq!(claims(&ours)["aud"], "postgraphile");
    assert!(v4_accepts(&ours));
}

#[tokio::test]
async fn without_the_flag_a_v4_token_is_refused_for_its_audience() {
    let app = app_with(options(None)).await;
    let ours = app.signup("walt").await;
    // postgraph's own token has no aud, which v4 refuses: hence the flag.
    assert!(claims(&ours).get("aud").is_none());
    assert!(!v4_accepts(&ours));
    let mut row = claims(&ours);
    for k in ["iat", "exp"] {
        row.as_object_mut().unwrap().remove(k);
    }
    let r = app.gql(ME, json!({}), Some(&v4_sign(&row))).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("audience"), "{message}");
}
