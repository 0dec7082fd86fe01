//! Unit tests of PEM keys: each kind signs and verifies, kid selection, rotation, the
//! allow-list by key kind, verify-only instances and the JWKS document.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

const RSA_PRIVATE: &str = include_str!("../../tests/data/jwt/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../../tests/data/jwt/rsa-public.pem");
const RSA2_PRIVATE: &str = include_str!("../../tests/data/jwt/rsa2-private.pem");
const RSA2_PUBLIC: &str = include_str!("../../tests/data/jwt/rsa2-public.pem");
const EC256_PRIVATE: &str = include_str!("../../tests/data/jwt/ec256-private.pem");
const EC256_PUBLIC: &str = include_str!("../../tests/data/jwt/ec256-public.pem");
const EC384_PRIVATE: &str = include_str!("../../tests/data/jwt/ec384-private.pem");
const EC384_PUBLIC: &str = include_str!("../../tests/data/jwt/ec384-public.pem");
const ED_PRIVATE: &str = include_str!("../../tests/data/jwt/ed25519-private.pem");
const ED_PUBLIC: &str = include_str!("../../tests/data/jwt/ed25519-public.pem");
const SECRET: &str = "test-secret-at-least-32-bytes-long!!";

fn pem(name: &str, text: &str) -> Pem {
    Pem {
        source: name.into(),
        text: text.into(),
    }
}

fn signer(private: &str) -> Auth {
    Auth::new(JwtConfig {
        private_key: Some(pem("private.pem", private)),
        ..JwtConfig::default()
    })
    .unwrap()
}

fn verifier(publics: &[&str]) -> Auth {
    Auth::new(JwtConfig {
        public_keys: publics.iter().map(|p| pem("public.pem", p)).collect(),
        ..JwtConfig::default()
    })
    .unwrap()
}

fn claims() -> Map<String, Value> {
    json!({"role": "app_user", "user_id": 7})
        .as_object()
        .unwrap()
        .clone()
}

fn header(token: &str) -> Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

#[test]
fn each_key_kind_signs_and_a_public_key_alone_verifies() {
    for (private, public, alg) in [
        (RSA_PRIVATE, RSA_PUBLIC, "RS256"),
        (EC256_PRIVATE, EC256_PUBLIC, "ES256"),
        (EC384_PRIVATE, EC384_PUBLIC, "ES384"),
        (ED_PRIVATE, ED_PUBLIC, "EdDSA"),
    ] {
        let token = signer(private).sign(&claims()).unwrap();
        let h = header(&token);
        assert_eq!(h["alg"], alg);
        assert!(h["kid"].as_str().is_some_and(|k| k.len() == 43), "{h}");
        // The signing instance, and a verify-only one with the public key file.
        assert_eq!(
            signer(private).verify(&token).unwrap().get("user_id"),
            Some(&json!(7))
        );
        let v = verifier(&[public]);
        assert_eq!(
            v.verify(&token).unwrap().get("user_id"),
            Some(&json!(7)),
            "{alg}"
        );
        // A different key of the same kind does not verify it.
        if alg == "RS256" {
            assert_eq!(
                verifier(&[RSA2_PUBLIC]).verify(&token).unwrap_err(),
                AuthError::UnknownKid
            );
        }
    }
}

#[test]
fn rsa_keys_accept_rs384_and_rs512_but_not_pss() {
    for alg in [Algorithm::RS384, Algorithm::RS512] {
        let a = Auth::new(JwtConfig {
            private_key: Some(pem("k", RSA_PRIVATE)),
            algorithm: Some(alg),
            ..JwtConfig::default()
        })
        .unwrap();
        let token = a.sign(&claims()).unwrap();
        assert!(verifier(&[RSA_PUBLIC]).verify(&token).is_ok());
    }
    let exp = jsonwebtoken::get_current_timestamp() + 60;
    let pss = jsonwebtoken::encode(
        &Header::new(Algorithm::PS256),
        &json!({ "exp": exp }),
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        verifier(&[RSA_PUBLIC]).verify(&pss).unwrap_err(),
        AuthError::InvalidAlgorithm
    );
}

#[test]
fn hs_tokens_are_never_checked_against_an_asymmetric_key() {
    let exp = jsonwebtoken::get_current_timestamp() + 60;
    let v = verifier(&[RSA_PUBLIC]);
    // Signed with a secret, and with the public key's own text as the HMAC secret (the
    // classic confusion attack): both refused for their algorithm, before any key is tried.
    for secret in [SECRET, RSA_PUBLIC] {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({ "exp": exp, "role": "app_user" }),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert_eq!(v.verify(&token).unwrap_err(), AuthError::InvalidAlgorithm);
    }
    // And an RS token is not checked against a secret.
    let rs = signer(RSA_PRIVATE).sign(&claims()).unwrap();
    let hs_only = Auth::new(JwtConfig {
        secret: Some(SECRET.into()),
        ..JwtConfig::default()
    })
    .unwrap();
    assert_eq!(
        hs_only.verify(&rs).unwrap_err(),
        AuthError::InvalidAlgorithm
    );
}

#[test]
fn kid_picks_the_key_and_tokens_without_kid_try_each() {
    let v = verifier(&[RSA_PUBLIC, RSA2_PUBLIC]);
    let old = signer(RSA_PRIVATE).sign(&claims()).unwrap();
    let new = signer(RSA2_PRIVATE).sign(&claims()).unwrap();
    assert!(v.verify(&old).is_ok() && v.verify(&new).is_ok());

    let exp = jsonwebtoken::get_current_timestamp() + 60;
    let encode = |kid: Option<&str>| {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(
            &h,
            &json!({ "exp": exp }),
            &EncodingKey::from_rsa_pem(RSA2_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    assert!(v.verify(&encode(None)).is_ok());
    assert_eq!(
        v.verify(&encode(Some("no-such-key"))).unwrap_err(),
        AuthError::UnknownKid
    );
    // The right key's kid on a token signed by the other key: a bad signature.
    let kid1 = header(&old)["kid"].as_str().unwrap().to_owned();
    assert_eq!(
        v.verify(&encode(Some(&kid1))).unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[test]
fn verify_only_instances_refuse_to_sign_with_a_clear_error() {
    let v = verifier(&[EC256_PUBLIC]);
    assert!(v.is_configured() && !v.can_sign());
    let err = v.sign(&claims()).unwrap_err();
    assert_eq!(err, AuthError::NoSigningKey);
    assert!(err.to_string().contains("--jwt-private-key"), "{err}");
}

#[test]
fn jwks_lists_public_keys_only() {
    let a = Auth::new(JwtConfig {
        private_key: Some(pem("k", RSA_PRIVATE)),
        public_keys: vec![pem("a", RSA_PUBLIC), pem("b", ED_PUBLIC)],
        ..JwtConfig::default()
    })
    .unwrap();
    let jwks: Value = serde_json::from_str(a.jwks().unwrap()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    // The private key's public half and rsa-public.pem are the same key: listed once.
    assert_eq!(keys.len(), 2, "{jwks}");
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[1]["kty"], "OKP");
    assert_eq!(keys[1]["alg"], "EdDSA");
    let token = a.sign(&claims()).unwrap();
    assert_eq!(keys[0]["kid"], header(&token)["kid"]);
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert!(
            k.get("d").is_none() && k.get("p").is_none(),
            "private part: {k}"
        );
    }
    let hs_only = Auth::new(JwtConfig {
        secret: Some(SECRET.into()),
        ..JwtConfig::default()
    })
    .unwrap();
    assert!(hs_only.jwks().is_none());
}

#[test]
fn bad_key_files_are_refused_at_startup_with_their_name() {
    let err = |cfg: JwtConfig| Auth::new(cfg).unwrap_err().to_string();
    let e = err(JwtConfig {
        public_keys: vec![pem("keys/rsa-private.pem", RSA_PRIVATE)],
        ..JwtConfig::default()
    });
    assert!(e.contains("keys/rsa-private.pem is a private key"), "{e}");
    let e = err(JwtConfig {
        private_key: Some(pem("pub.pem", RSA_PUBLIC)),
        ..JwtConfig::default()
    });
    assert!(e.contains("pub.pem is not a PEM private key"), "{e}");
    let e = err(JwtConfig {
        public_keys: vec![pem(
            "junk.pem",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        )],
        ..JwtConfig::default()
    });
    assert!(e.contains("junk.pem"), "{e}");
    // An algorithm the signing key cannot make.
    let e = err(JwtConfig {
        private_key: Some(pem("ec.pem", EC256_PRIVATE)),
        algorithm: Some(Algorithm::ES384),
        ..JwtConfig::default()
    });
    assert!(e.contains("no configured key signs ES384"), "{e}");
}
