//! Unit tests of verification, signing and settings (no database).

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

const SECRET: &str = "test-secret-at-least-32-bytes-long!!";

fn auth_with(f: impl FnOnce(&mut JwtConfig)) -> Auth {
    let mut cfg = JwtConfig {
        secret: Some(SECRET.into()),
        ..JwtConfig::default()
    };
    f(&mut cfg);
    Auth::new(cfg).unwrap()
}

fn auth() -> Auth {
    auth_with(|_| {})
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// A token signed with SECRET exactly as given (no iat/exp added).
fn raw(claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn auth_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Auth>();
    check::<AuthError>();
}

#[test]
fn round_trip_omits_nulls_and_adds_iat() {
    let a = auth();
    let exp = now() + 3600;
    let token = a
        .sign(&obj(
            json!({"role": "app_user", "user_id": 1, "exp": exp, "x": null}),
        ))
        .unwrap();
    let mut claims = a.verify(&token).unwrap();
    let iat = claims
        .0
        .remove("iat")
        .and_then(|v| v.as_u64())
        .expect("iat");
    assert!(iat.abs_diff(now()) <= 2, "iat {iat}");
    assert_eq!(
        claims.0,
        obj(json!({"role": "app_user", "user_id": 1, "exp": exp}))
    );
}

#[test]
fn signing_without_exp_gives_the_configured_lifetime() {
    let token = auth().sign(&obj(json!({"user_id": 1}))).unwrap();
    let c = auth().verify(&token).unwrap();
    let (iat, exp) = (c.get("iat").unwrap(), c.get("exp").unwrap());
    assert_eq!(
        exp.as_u64().unwrap() - iat.as_u64().unwrap(),
        DEFAULT_EXPIRES_IN_SECS
    );
    let a = auth_with(|c| c.expires_in_secs = 60);
    let c = a
        .verify(&a.sign(&obj(json!({"user_id": 1}))).unwrap())
        .unwrap();
    assert_eq!(
        c.get("exp").unwrap().as_u64().unwrap() - c.get("iat").unwrap().as_u64().unwrap(),
        60
    );
}

#[test]
fn missing_exp_is_refused_unless_allowed() {
    let token = raw(json!({"user_id": 1}));
    assert_eq!(auth().verify(&token).unwrap_err(), AuthError::MissingExp);
    let lenient = auth_with(|c| c.allow_missing_exp = true);
    assert_eq!(
        lenient.verify(&token).unwrap().get("user_id"),
        Some(&json!(1))
    );
}

#[test]
fn numeric_string_exp_becomes_number() {
    let a = auth();
    let exp = now() + 60;
    let token = a.sign(&obj(json!({"exp": exp.to_string()}))).unwrap();
    assert_eq!(a.verify(&token).unwrap().get("exp"), Some(&json!(exp)));
    let err = a.sign(&obj(json!({"exp": "tomorrow"}))).unwrap_err();
    assert_eq!(err.code(), "JWT_SIGN_FAILED");
}

#[test]
fn expired_beyond_and_within_the_leeway() {
    let beyond = raw(json!({"exp": now() - 31}));
    let within = raw(json!({"exp": now() - 10}));
    assert_eq!(auth().verify(&beyond).unwrap_err(), AuthError::Expired);
    assert!(auth().verify(&within).is_ok());
    let strict = auth_with(|c| c.leeway_secs = 0);
    assert_eq!(strict.verify(&within).unwrap_err(), AuthError::Expired);
    assert_eq!(
        strict.verify(&raw(json!({"exp": now()}))).unwrap_err(),
        AuthError::Expired
    );
    assert!(strict.verify(&raw(json!({"exp": now() + 5}))).is_ok());
}

#[test]
fn time_claims_with_wrong_type_are_malformed() {
    for c in [
        json!({"exp": "soon"}),
        json!({"exp": now() + 60, "nbf": "x"}),
        json!({"exp": now() + 60, "iat": [1]}),
        json!({"exp": true}),
    ] {
        assert_eq!(auth().verify(&raw(c)).unwrap_err().code(), "JWT_MALFORMED");
    }
    // A fractional NumericDate is a number, and accepted.
    assert!(auth()
        .verify(&raw(json!({"exp": now() as f64 + 60.5})))
        .is_ok());
}

#[test]
fn nbf_and_iat_in_the_future() {
    let exp = now() + 3600;
    let a = auth();
    let nbf = raw(json!({"exp": exp, "nbf": now() + 600}));
    assert_eq!(a.verify(&nbf).unwrap_err(), AuthError::NotYetValid);
    let iat = raw(json!({"exp": exp, "iat": now() + 3600}));
    assert_eq!(a.verify(&iat).unwrap_err(), AuthError::IssuedInFuture);
    assert_eq!(a.verify(&iat).unwrap_err().code(), "JWT_ISSUED_IN_FUTURE");
    // A fast clock on the signer, within the leeway.
    assert!(a
        .verify(&raw(
            json!({"exp": exp, "nbf": now() + 20, "iat": now() + 20})
        ))
        .is_ok());
    let strict = auth_with(|c| c.leeway_secs = 0);
    assert_eq!(
        strict
            .verify(&raw(json!({"exp": exp, "iat": now() + 20})))
            .unwrap_err(),
        AuthError::IssuedInFuture
    );
    assert!(a
        .verify(&raw(
            json!({"exp": exp, "nbf": now() - 5, "iat": now() - 5})
        ))
        .is_ok());
}

#[test]
fn check_times_applies_to_cached_claims() {
    let a = auth_with(|c| c.leeway_secs = 0);
    let c = Claims(obj(json!({"exp": now() - 1})));
    assert_eq!(a.check_times(&c).unwrap_err(), AuthError::Expired);
    let c = Claims(obj(json!({"user_id": 1})));
    assert_eq!(a.check_times(&c).unwrap_err(), AuthError::MissingExp);
}

#[test]
fn tampered_signature() {
    let a = auth();
    let token = a.sign(&obj(json!({"user_id": 1}))).unwrap();
    let (msg, sig) = token.rsplit_once('.').unwrap();
    let mut sig: Vec<u8> = sig.bytes().collect();
    sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
    let bad = format!("{msg}.{}", String::from_utf8(sig).unwrap());
    assert_eq!(a.verify(&bad).unwrap_err(), AuthError::InvalidSignature);

    // Tampered payload with the original signature.
    let (header, rest) = token.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let forged = format!("{header}.{}.{sig}", b64(r#"{"user_id":2}"#));
    assert_eq!(a.verify(&forged).unwrap_err(), AuthError::InvalidSignature);
}

#[test]
fn other_secret() {
    let other = auth_with(|c| c.secret = Some("another-secret-that-is-32-bytes-long".into()));
    let token = other.sign(&obj(json!({"user_id": 1}))).unwrap();
    assert_eq!(
        auth().verify(&token).unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[test]
fn garbage() {
    let a = auth();
    for t in ["", "abc", "a.b", "a.b.c.d", "!!!.???.###", "..", "e30.e30"] {
        let err = a.verify(t).unwrap_err();
        assert_eq!(err.code(), "JWT_MALFORMED", "{t:?}: {err}");
    }
    // Valid base64 header that is not JSON.
    let t = format!("{}.{}.sig", b64("nope"), b64("{}"));
    assert_eq!(a.verify(&t).unwrap_err().code(), "JWT_MALFORMED");
}

#[test]
fn payload_not_object() {
    let a = auth();
    let token = raw(json!([1, 2]));
    assert_eq!(a.verify(&token).unwrap_err().code(), "JWT_MALFORMED");
}

#[test]
fn alg_none_rejected() {
    let a = auth();
    let token = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(r#"{"role":"admin"}"#)
    );
    assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidAlgorithm);
    let token = format!(
        "{}.{}.",
        b64(r#"{"alg":"None","typ":"JWT"}"#),
        b64(r#"{"role":"admin"}"#)
    );
    assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidAlgorithm);
}

#[test]
fn every_hmac_size_is_accepted_with_the_secret() {
    // The allow-list follows the key kind: one secret, HS256/384/512.
    let hs512 = auth_with(|c| c.algorithm = Some(Algorithm::HS512));
    let token = hs512.sign(&obj(json!({"user_id": 1}))).unwrap();
    assert!(token.starts_with(&b64(r#"{"typ":"JWT","alg":"HS512"}"#)[..10]));
    assert!(auth().verify(&token).is_ok());
    assert!(hs512.verify(&token).is_ok());
    // Pinned to HS512, it no longer accepts the HS256 tokens others sign with the secret.
    let hs256 = auth().sign(&obj(json!({"user_id": 1}))).unwrap();
    assert!(auth().verify(&hs256).is_ok());
    assert_eq!(
        hs512.verify(&hs256).unwrap_err(),
        AuthError::InvalidAlgorithm
    );
    // RSA-PSS and the like are not HMAC.
    let ps = format!(
        "{}.{}.sig",
        b64(r#"{"alg":"PS256"}"#),
        b64(&format!(r#"{{"exp":{}}}"#, now() + 60))
    );
    assert_eq!(auth().verify(&ps).unwrap_err(), AuthError::InvalidAlgorithm);
}

#[test]
fn a_pinned_algorithm_is_the_only_one_its_key_accepts() {
    // Without --jwt-algorithm the secret accepts HS256/384/512; with it, only the one named.
    let hs512 = auth_with(|c| c.algorithm = Some(Algorithm::HS512))
        .sign(&obj(json!({"user_id": 1})))
        .unwrap();
    let hs256 = auth_with(|c| c.algorithm = Some(Algorithm::HS256));
    assert_eq!(
        hs256.verify(&hs512).unwrap_err(),
        AuthError::InvalidAlgorithm
    );
    let own = hs256.sign(&obj(json!({"user_id": 1}))).unwrap();
    assert!(hs256.verify(&own).is_ok());
    assert!(auth().verify(&hs512).is_ok());
}

#[test]
fn audience_configured() {
    let a = auth_with(|c| c.audience = Some("postgraph".into()));
    let exp = now() + 60;
    // Signing adds aud; verification accepts it.
    let token = a.sign(&obj(json!({"user_id": 1}))).unwrap();
    assert_eq!(
        a.verify(&token).unwrap().get("aud"),
        Some(&json!("postgraph"))
    );
    // Missing aud.
    let token = raw(json!({"exp": exp}));
    assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidAudience);
    // Wrong aud (the row's aud wins over the configured one when signing).
    let token = a.sign(&obj(json!({"aud": "other"}))).unwrap();
    assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidAudience);
    // Array aud containing ours, and not containing it.
    assert!(a
        .verify(&raw(json!({"exp": exp, "aud": ["x", "postgraph"]})))
        .is_ok());
    assert_eq!(
        a.verify(&raw(json!({"exp": exp, "aud": ["x", "y"]})))
            .unwrap_err(),
        AuthError::InvalidAudience
    );
    // Not a string at all.
    assert_eq!(
        a.verify(&raw(json!({"exp": exp, "aud": 5}))).unwrap_err(),
        AuthError::InvalidAudience
    );
}

#[test]
fn no_audience_configured_refuses_any_aud() {
    let a = auth();
    let exp = now() + 60;
    for aud in [json!("someone"), json!(["a", "b"]), json!([])] {
        let token = raw(json!({"exp": exp, "aud": aud}));
        assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidAudience);
    }
    assert!(a.verify(&raw(json!({"exp": exp}))).is_ok());
}

#[test]
fn issuer_configured() {
    let a = auth_with(|c| c.issuer = Some("me".into()));
    let token = a.sign(&obj(json!({}))).unwrap();
    assert_eq!(a.verify(&token).unwrap().get("iss"), Some(&json!("me")));
    let token = auth().sign(&obj(json!({}))).unwrap();
    assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidIssuer);
    let token = auth().sign(&obj(json!({"iss": "you"}))).unwrap();
    assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidIssuer);
    // Without a configured issuer, any iss passes.
    assert!(auth().verify(&token).is_ok());
}

#[test]
fn not_configured() {
    let a = Auth::new(JwtConfig::default()).unwrap();
    assert!(!a.is_configured());
    assert_eq!(a.verify("a.b.c").unwrap_err(), AuthError::NotConfigured);
    let err = a.sign(&Map::new()).unwrap_err();
    assert_eq!(err, AuthError::NotConfigured);
    assert_eq!(err.to_string(), "JWT secret not configured");
    assert_eq!(err.status(), 401);
}

#[test]
fn bad_config() {
    let cfg = |f: fn(&mut JwtConfig)| {
        let mut c = JwtConfig {
            secret: Some(SECRET.into()),
            ..JwtConfig::default()
        };
        f(&mut c);
        Auth::new(c).unwrap_err().code()
    };
    assert_eq!(
        cfg(|c| c.algorithm = Some(Algorithm::RS256)),
        "JWT_CONFIG_INVALID"
    );
    assert_eq!(
        cfg(|c| c.secret = Some(String::new())),
        "JWT_CONFIG_INVALID"
    );
    assert_eq!(cfg(|c| c.expires_in_secs = 0), "JWT_CONFIG_INVALID");
    assert_eq!(cfg(|c| c.role_claim = ".".into()), "JWT_CONFIG_INVALID");
    assert_eq!(cfg(|c| c.leeway_secs = u64::MAX), "JWT_CONFIG_INVALID");
    assert_eq!(
        cfg(|c| c.audience = Some(String::new())),
        "JWT_CONFIG_INVALID"
    );
}

#[test]
fn short_secret_is_refused_with_a_clear_message() {
    let err = Auth::new(JwtConfig {
        secret: Some("x".repeat(MIN_SECRET_BYTES - 1)),
        ..JwtConfig::default()
    })
    .unwrap_err();
    assert_eq!(err.code(), "JWT_CONFIG_INVALID");
    assert!(
        err.to_string().contains("31 bytes") && err.to_string().contains("at least 32"),
        "{err}"
    );
    assert!(Auth::new(JwtConfig {
        secret: Some("x".repeat(MIN_SECRET_BYTES)),
        ..JwtConfig::default()
    })
    .is_ok());
}

#[test]
fn debug_hides_secret() {
    let cfg = JwtConfig {
        secret: Some(SECRET.into()),
        ..JwtConfig::default()
    };
    assert!(!format!("{cfg:?}").contains(SECRET));
    assert!(!format!("{:?}", Auth::new(cfg).unwrap()).contains(SECRET));
}

fn roles(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn settings_anonymous() {
    let s = SessionSettings::from_claims(None, "anon", &roles(&[])).unwrap();
    assert_eq!(s.role, "anon");
    assert_eq!(s.settings, vec![(CLAIMS_SETTING.into(), "{}".into())]);
}

#[test]
fn settings_role_claim() {
    let allowed = roles(&["app_user"]);
    let c = Claims(obj(json!({"role": "app_user"})));
    let s = SessionSettings::from_claims(Some(&c), "anon", &allowed).unwrap();
    assert_eq!(s.role, "app_user");

    let c = Claims(obj(json!({"role": "postgres"})));
    let err = SessionSettings::from_claims(Some(&c), "anon", &allowed).unwrap_err();
    assert_eq!(err.code(), "JWT_ROLE_NOT_ALLOWED");
    assert_eq!(err.status(), 401);

    let c = Claims(obj(json!({"role": 5})));
    let err = SessionSettings::from_claims(Some(&c), "anon", &allowed).unwrap_err();
    assert!(matches!(err, AuthError::Role(_)));

    // Absent or null role claim: the default role.
    for c in [json!({"user_id": 1}), json!({"role": null})] {
        let c = Claims(obj(c));
        let s = SessionSettings::from_claims(Some(&c), "anon", &allowed).unwrap();
        assert_eq!(s.role, "anon");
    }
    // The default role named in a token is not allowed just for being the default (it may
    // be the authenticator itself): only roles in the list are.
    let c = Claims(obj(json!({"role": "anon"})));
    let err = SessionSettings::from_claims(Some(&c), "anon", &allowed).unwrap_err();
    assert_eq!(err.code(), "JWT_ROLE_NOT_ALLOWED");
}

#[test]
fn settings_keys_and_values() {
    let c = Claims(obj(json!({
        "user_id": 1,
        "name": "ann",
        "admin": true,
        "score": 1.5,
        "tags": ["a", "b"],
        "meta": {"k": "v"},
        "gone": null,
        "a-b": "x",
        "1abc": "y",
        "_ok": "z",
    })));
    let s = SessionSettings::from_claims(Some(&c), "anon", &roles(&[])).unwrap();
    let got: Vec<(&str, &str)> = s
        .settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let whole = got.last().unwrap();
    assert_eq!(whole.0, CLAIMS_SETTING);
    let whole: Value = serde_json::from_str(whole.1).unwrap();
    assert_eq!(whole, Value::Object(c.0.clone()));
    let mut per_claim = got[..got.len() - 1].to_vec();
    per_claim.sort();
    assert_eq!(
        per_claim,
        vec![
            ("jwt.claims._ok", "z"),
            ("jwt.claims.admin", "true"),
            ("jwt.claims.meta", r#"{"k":"v"}"#),
            ("jwt.claims.name", "ann"),
            ("jwt.claims.score", "1.5"),
            ("jwt.claims.tags", r#"["a","b"]"#),
            ("jwt.claims.user_id", "1"),
        ]
    );
}

#[test]
fn settings_refuse_nul() {
    let c = Claims(obj(json!({"name": "a\u{0}b"})));
    let err = SessionSettings::from_claims(Some(&c), "anon", &roles(&[])).unwrap_err();
    assert_eq!(err.code(), "JWT_MALFORMED");
}

#[test]
fn auth_session_settings_uses_role_claim() {
    let allowed = roles(&["app_user"]);
    let a = auth_with(|c| c.role_claim = "r".into());
    let c = Claims(obj(json!({"r": "app_user", "role": "postgres"})));
    let s = a.session_settings(Some(&c), "anon", &allowed).unwrap();
    assert_eq!(s.role, "app_user");

    // A path into nested objects, with a quoted segment holding dots.
    let a = auth_with(|c| c.role_claim = ".app.role".into());
    let c = Claims(obj(
        json!({"app": {"role": "app_user"}, "role": "postgres"}),
    ));
    assert_eq!(
        a.session_settings(Some(&c), "anon", &allowed).unwrap().role,
        "app_user"
    );
    let c = Claims(obj(json!({"app": "app_user"})));
    assert_eq!(
        a.session_settings(Some(&c), "anon", &allowed).unwrap().role,
        "anon"
    );
    let a = auth_with(|c| c.role_claim = r#"."https://example.com/claims".role"#.into());
    let c = Claims(obj(
        json!({"https://example.com/claims": {"role": "app_user"}}),
    ));
    assert_eq!(
        a.session_settings(Some(&c), "anon", &allowed).unwrap().role,
        "app_user"
    );
    let c = Claims(obj(
        json!({"https://example.com/claims": {"role": ["app_user"]}}),
    ));
    assert_eq!(
        a.session_settings(Some(&c), "anon", &allowed)
            .unwrap_err()
            .code(),
        "JWT_ROLE_NOT_ALLOWED"
    );
}

#[test]
fn claim_paths() {
    let p = |s: &str| parse_claim_path(s).map_err(|e| e.code());
    assert_eq!(p("role"), Ok(vec!["role".to_string()]));
    assert_eq!(p("a.b"), Ok(vec!["a.b".to_string()]));
    assert_eq!(
        p(".app.role"),
        Ok(vec!["app".to_string(), "role".to_string()])
    );
    assert_eq!(
        p(r#"."a.b".c"#),
        Ok(vec!["a.b".to_string(), "c".to_string()])
    );
    for bad in ["", ".", ".a..b", ".a.", r#"."a"#, r#"."a"b"#] {
        assert_eq!(p(bad), Err("JWT_CONFIG_INVALID"), "{bad:?}");
    }
}

#[test]
fn bearer() {
    assert_eq!(bearer_token("Bearer abc.def.ghi").unwrap(), "abc.def.ghi");
    assert_eq!(bearer_token("bearer abc").unwrap(), "abc");
    assert_eq!(bearer_token("  BEARER   abc  ").unwrap(), "abc");
    for bad in [
        "",
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Bearer a b",
        "abc",
        "Bearerabc",
    ] {
        let err = bearer_token(bad).unwrap_err();
        assert_eq!(err.code(), "JWT_MALFORMED", "{bad:?}");
    }
}

#[test]
fn messages_and_headers() {
    assert_eq!(AuthError::Expired.to_string(), "jwt expired");
    assert_eq!(
        AuthError::Expired.www_authenticate().unwrap(),
        "Bearer error=\"invalid_token\", error_description=\"jwt expired\""
    );
    assert!(AuthError::Sign("x".into()).www_authenticate().is_none());
    let e = AuthError::Malformed("role \"x\" é\n".into());
    let www = e.www_authenticate().unwrap();
    assert!(
        !www.contains("\"x\"") && www.is_ascii() && !www.contains('\n'),
        "{www}"
    );
    assert!(http::HeaderValue::from_str(&www).is_ok());
    assert_eq!(AuthError::HeaderTooLarge.status(), 431);
    assert!(AuthError::HeaderTooLarge.www_authenticate().is_none());
}
