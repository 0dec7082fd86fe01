//! Keys: the HMAC secret and PEM keys (RSA, EC P-256/P-384, Ed25519), which algorithms each
//! accepts, which key verifies a token (by `kid`), and the public keys as a JWKS document.
//!
//! Each asymmetric key's `kid` is its RFC 7638 thumbprint (SHA-256 of the public JWK), so an
//! instance signing with a private key and one verifying with the matching public key agree
//! on it without configuration. The allow-list of a key follows its kind; a key is never
//! used as another kind (a public key is never an HMAC secret).

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::{AuthError, MIN_SECRET_BYTES};

/// A PEM document and where it came from (a path, for error messages).
#[derive(Clone)]
pub struct Pem {
    pub source: String,
    pub text: String,
}

impl Pem {
    /// Reads a PEM file.
    pub fn read(path: &std::path::Path) -> Result<Pem, AuthError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AuthError::Config(format!("cannot read {}: {e}", path.display())))?;
        Ok(Pem {
            source: path.display().to_string(),
            text,
        })
    }
}

/// What a key is, which decides the algorithms it may verify and sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Hmac,
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    /// The allow-list: the first is the default for signing. RSA-PSS is not offered (no
    /// PostGraphile or PostgREST peer signs with it).
    pub fn algorithms(self) -> &'static [Algorithm] {
        match self {
            KeyKind::Hmac => &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
            KeyKind::Rsa => &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
            KeyKind::P256 => &[Algorithm::ES256],
            KeyKind::P384 => &[Algorithm::ES384],
            KeyKind::Ed25519 => &[Algorithm::EdDSA],
        }
    }
}

pub(super) struct VerifyKey {
    /// `None` for the HMAC secret: there is one, and peers (PostGraphile) send no `kid`.
    /// A JWKS key may have none too.
    pub kid: Option<String>,
    pub kind: KeyKind,
    /// A JWK's `alg`: the one algorithm of its kind it may verify.
    pub only: Option<Algorithm>,
    pub key: DecodingKey,
}

impl VerifyKey {
    fn accepts(&self, alg: Algorithm) -> bool {
        self.kind.algorithms().contains(&alg) && self.only.is_none_or(|only| only == alg)
    }
}

pub(super) struct SignKey {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: EncodingKey,
}

/// Every configured key, built once at startup.
pub(super) struct KeySet {
    verify: Vec<VerifyKey>,
    sign: Option<SignKey>,
    /// The public keys as a JWKS document, when any asymmetric key is configured.
    jwks: Option<String>,
}

impl KeySet {
    /// Checks and loads the keys. `algorithm` picks the signing algorithm (it must belong
    /// to the signing key's kind); `None`: the private key's default, else HS256.
    pub fn load(
        secret: Option<&str>,
        private: Option<&Pem>,
        public: &[Pem],
        algorithm: Option<Algorithm>,
    ) -> Result<Self, AuthError> {
        let mut verify = vec![];
        let mut jwks = vec![];
        let mut signers: Vec<(KeyKind, Option<String>, EncodingKey)> = vec![];

        if let Some(pem) = private {
            let (kind, encoding, jwk) = private_key(pem)?;
            let kid = add_public(&mut verify, &mut jwks, kind, jwk, &pem.source)?;
            signers.push((kind, Some(kid), encoding));
        }
        for pem in public {
            let (kind, jwk) = public_key(pem)?;
            add_public(&mut verify, &mut jwks, kind, jwk, &pem.source)?;
        }
        if let Some(secret) = secret {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(AuthError::Config(format!(
                    "the JWT secret is {} bytes long; it must be at least {MIN_SECRET_BYTES} \
                     bytes (e.g. `openssl rand -base64 48`)",
                    secret.len()
                )));
            }
            verify.push(VerifyKey {
                kid: None,
                kind: KeyKind::Hmac,
                only: None,
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
            signers.push((
                KeyKind::Hmac,
                None,
                EncodingKey::from_secret(secret.as_bytes()),
            ));
        }

        let sign = match algorithm {
            None => signers.into_iter().next().map(|(kind, kid, key)| SignKey {
                kid,
                algorithm: kind.algorithms()[0],
                key,
            }),
            Some(alg) => {
                let Some((_, kid, key)) = signers
                    .into_iter()
                    .find(|(kind, _, _)| kind.algorithms().contains(&alg))
                else {
                    return Err(AuthError::Config(format!(
                        "no configured key signs {alg:?}: HS* needs --jwt-secret, RS* an RSA \
                         --jwt-private-key, ES256/ES384 a P-256/P-384 one, EdDSA an Ed25519 one"
                    )));
                };
                Some(SignKey {
                    kid,
                    algorithm: alg,
                    key,
                })
            }
        };
        // `--jwt-algorithm` pins what the keys of its kind accept: with HS256, an HS512 token
        // signed with the same secret is refused (keys of other kinds keep their lists).
        if let Some(alg) = algorithm {
            for k in verify
                .iter_mut()
                .filter(|k| k.kind.algorithms().contains(&alg))
            {
                k.only = Some(alg);
            }
        }
        let jwks = (!jwks.is_empty())
            .then(|| serde_json::to_string(&JwkSet { keys: jwks }).expect("a JWK set serializes"));
        Ok(KeySet { verify, sign, jwks })
    }

    /// Whether any key is configured.
    pub fn is_configured(&self) -> bool {
        !self.verify.is_empty()
    }

    /// The key that signs tokens: [`AuthError::NotConfigured`] with no keys at all,
    /// [`AuthError::NoSigningKey`] on a verify-only instance.
    pub fn signer(&self) -> Result<&SignKey, AuthError> {
        match &self.sign {
            Some(s) => Ok(s),
            None if self.is_configured() => Err(AuthError::NoSigningKey),
            None => Err(AuthError::NotConfigured),
        }
    }

    /// The configured keys (not those of a JWKS URL).
    pub fn verify_keys(&self) -> &[VerifyKey] {
        &self.verify
    }

    /// The public keys as a JWKS document (`{"keys": [...]}`), when there are any.
    pub fn jwks(&self) -> Option<&str> {
        self.jwks.as_deref()
    }
}

/// The keys that may verify a token with this header: the algorithm must be in a key's
/// allow-list, and a `kid` must name one of the asymmetric keys. `fetchable`: keys come from
/// a JWKS URL too, so a `kid` naming no key at all may be a key published since (an unknown
/// kid, worth a re-fetch, rather than a wrong algorithm).
pub(super) fn candidates<'k>(
    keys: impl Iterator<Item = &'k VerifyKey> + Clone,
    alg: Algorithm,
    kid: Option<&str>,
    fetchable: bool,
) -> Result<Vec<&'k DecodingKey>, AuthError> {
    let mut of_alg = keys.clone().filter(|k| k.accepts(alg)).peekable();
    if of_alg.peek().is_none() {
        let unknown = kid.is_some_and(|kid| !keys.clone().any(|k| k.kid.as_deref() == Some(kid)));
        if fetchable && unknown && !KeyKind::Hmac.algorithms().contains(&alg) {
            return Err(AuthError::UnknownKid);
        }
        return Err(AuthError::InvalidAlgorithm);
    }
    let keys: Vec<&DecodingKey> = of_alg
        .filter(|k| match (kid, &k.kid) {
            (Some(wanted), Some(have)) => wanted == have,
            // The secret has no kid; tokens without one try every key of the algorithm.
            _ => true,
        })
        .map(|k| &k.key)
        .collect();
    if keys.is_empty() {
        return Err(AuthError::UnknownKid);
    }
    Ok(keys)
}

/// Adds a public key (unless one with the same thumbprint is there) and returns its kid.
fn add_public(
    verify: &mut Vec<VerifyKey>,
    jwks: &mut Vec<Jwk>,
    kind: KeyKind,
    mut jwk: Jwk,
    source: &str,
) -> Result<String, AuthError> {
    let bad = |e: jsonwebtoken::errors::Error| {
        AuthError::Config(format!("{source}: unusable key ({:?})", e.into_kind()))
    };
    let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(bad)?;
    if verify
        .iter()
        .any(|k| k.kid.as_deref() == Some(kid.as_str()))
    {
        return Ok(kid);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(bad)?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    // RSA keys accept three algorithms; the others exactly one, which the JWK then names.
    jwk.common.key_algorithm = match kind {
        KeyKind::Rsa | KeyKind::Hmac => None,
        _ => Some(kind.algorithms()[0].into()),
    };
    verify.push(VerifyKey {
        kid: Some(kid.clone()),
        kind,
        only: None,
        key,
    });
    jwks.push(jwk);
    Ok(kid)
}

/// The PEM label, which tells public from private keys.
fn label(pem: &Pem) -> Option<&str> {
    let start = pem.text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let end = pem.text[start..].find("-----")?;
    Some(&pem.text[start..start + end])
}

fn public_key(pem: &Pem) -> Result<(KeyKind, Jwk), AuthError> {
    let src = &pem.source;
    match label(pem) {
        Some("PUBLIC KEY" | "RSA PUBLIC KEY") => {}
        Some(l) if l.contains("PRIVATE") => {
            return Err(AuthError::Config(format!(
                "{src} is a private key; give --jwt-public-key its public part \
                 (openssl pkey -in KEY -pubout) or use --jwt-private-key"
            )))
        }
        _ => {
            return Err(AuthError::Config(format!(
                "{src} is not a PEM public key (-----BEGIN PUBLIC KEY-----)"
            )))
        }
    }
    let bytes = pem.text.as_bytes();
    let decoding = DecodingKey::from_rsa_pem(bytes)
        .or_else(|_| DecodingKey::from_ec_pem(bytes))
        .or_else(|_| DecodingKey::from_ed_pem(bytes))
        .map_err(|_| {
            AuthError::Config(format!(
                "{src} is not an RSA, EC (P-256, P-384) or Ed25519 public key"
            ))
        })?;
    let jwk = Jwk::from_decoding_key(&decoding, None).map_err(|e| {
        AuthError::Config(format!("{src}: unusable public key ({:?})", e.into_kind()))
    })?;
    Ok((kind_of(&jwk, src)?, jwk))
}

fn private_key(pem: &Pem) -> Result<(KeyKind, EncodingKey, Jwk), AuthError> {
    let src = &pem.source;
    if !label(pem).is_some_and(|l| l.contains("PRIVATE KEY")) {
        return Err(AuthError::Config(format!(
            "{src} is not a PEM private key (-----BEGIN PRIVATE KEY-----)"
        )));
    }
    let bytes = pem.text.as_bytes();
    // The public half (for verification and the JWKS) comes from the private key itself;
    // EC needs the curve first, so try each in turn.
    type Load = fn(&[u8]) -> jsonwebtoken::errors::Result<EncodingKey>;
    let attempts: [(Load, Algorithm); 4] = [
        (EncodingKey::from_rsa_pem, Algorithm::RS256),
        (EncodingKey::from_ec_pem, Algorithm::ES256),
        (EncodingKey::from_ec_pem, Algorithm::ES384),
        (EncodingKey::from_ed_pem, Algorithm::EdDSA),
    ];
    for (load, alg) in attempts {
        let Ok(key) = load(bytes) else { continue };
        let Ok(jwk) = Jwk::from_encoding_key(&key, alg) else {
            continue;
        };
        let kind = kind_of(&jwk, src)?;
        if kind.algorithms().contains(&alg) {
            return Ok((kind, key, jwk));
        }
    }
    Err(AuthError::Config(format!(
        "{src} is not an RSA, EC (P-256, P-384) or Ed25519 private key"
    )))
}

pub(super) fn kind_of(jwk: &Jwk, src: &str) -> Result<KeyKind, AuthError> {
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Ok(KeyKind::Rsa),
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => Ok(KeyKind::P256),
            EllipticCurve::P384 => Ok(KeyKind::P384),
            _ => Err(AuthError::Config(format!(
                "{src}: only the P-256 and P-384 curves are supported"
            ))),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Ok(KeyKind::Ed25519)
        }
        _ => Err(AuthError::Config(format!("{src}: unsupported key type"))),
    }
}
