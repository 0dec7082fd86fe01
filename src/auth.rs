//! JWT in and out: verify bearer tokens into claims, sign jwt_token rows into tokens, and turn claims into the transaction-local settings Postgres sees.
//!
//! Decisions (see DESIGN.md "JWT in", "JWT out", "Claims → settings"):
//! - Only HMAC (HS256/HS384/HS512) with a shared secret; the allow-list is exactly the
//!   configured algorithm, so `none`, other HMAC sizes and RS/ES tokens are refused.
//! - `exp` and `nbf` are checked when present but not required (PostGraphile does not
//!   require `exp`); default leeway is 0 s.
//! - `aud`: when an audience is configured it is required and must match, and signing adds
//!   it; when none is configured, a token's `aud` is not checked. `iss` likewise.
//! - Anonymous requests still get `request.jwt.claims = '{}'`, so policies casting it to
//!   json never see `''` (which fails the cast) on a reused connection.

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

/// The claim naming the Postgres role, unless configured otherwise.
pub const DEFAULT_ROLE_CLAIM: &str = "role";
/// The setting that carries the whole claims object (PostgREST style).
pub const CLAIMS_SETTING: &str = "request.jwt.claims";
/// Prefix of the per-claim settings (`jwt.claims.user_id`, ...).
pub const CLAIM_SETTING_PREFIX: &str = "jwt.claims.";
/// Upper bound for the clock-skew leeway: larger values would make expiry meaningless.
pub const MAX_LEEWAY_SECS: u64 = 86_400;

/// How tokens are verified and signed.
#[derive(Clone)]
pub struct JwtConfig {
    /// HMAC secret (`--jwt-secret` / `JWT_SECRET`). `None`: no JWT support; tokens are
    /// refused with [`AuthError::NotConfigured`] and signing fails with the same error.
    pub secret: Option<String>,
    /// Signing and the only accepted verification algorithm. HS256/HS384/HS512 only.
    pub algorithm: Algorithm,
    /// `--jwt-audience`: added as `aud` when signing (unless the row has one); required and
    /// checked when verifying. `None`: `aud` is neither added nor checked.
    pub audience: Option<String>,
    /// Added as `iss` when signing (unless the row has one); required and checked when verifying.
    pub issuer: Option<String>,
    /// Clock-skew allowance for `exp`/`nbf`, in seconds (default 0, at most [`MAX_LEEWAY_SECS`]).
    pub leeway_secs: u64,
    /// Claim naming the Postgres role (default `"role"`).
    pub role_claim: String,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            secret: None,
            algorithm: Algorithm::HS256,
            audience: None,
            issuer: None,
            leeway_secs: 0,
            role_claim: DEFAULT_ROLE_CLAIM.to_owned(),
        }
    }
}

// Hand-written so the secret never reaches a log line.
impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("algorithm", &self.algorithm)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("leeway_secs", &self.leeway_secs)
            .field("role_claim", &self.role_claim)
            .finish()
    }
}

/// Keys and validation rules, built once at startup; share it by reference or `Arc`.
pub struct Auth {
    keys: Option<(EncodingKey, DecodingKey)>,
    validation: Validation,
    algorithm: Algorithm,
    audience: Option<String>,
    issuer: Option<String>,
    role_claim: String,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("configured", &self.keys.is_some())
            .field("algorithm", &self.algorithm)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("leeway_secs", &self.validation.leeway)
            .field("role_claim", &self.role_claim)
            .finish()
    }
}

impl Auth {
    /// Checks the configuration and prepares keys and validation rules.
    pub fn new(cfg: JwtConfig) -> Result<Self, AuthError> {
        if !matches!(
            cfg.algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(AuthError::Config(format!(
                "algorithm {:?} is not supported; use HS256, HS384 or HS512",
                cfg.algorithm
            )));
        }
        if cfg.leeway_secs > MAX_LEEWAY_SECS {
            return Err(AuthError::Config(format!(
                "leeway must be at most {MAX_LEEWAY_SECS} seconds"
            )));
        }
        if cfg.role_claim.is_empty() {
            return Err(AuthError::Config("role claim name is empty".into()));
        }
        let keys = match cfg.secret.as_deref() {
            None => None,
            Some("") => return Err(AuthError::Config("JWT secret is empty".into())),
            Some(secret) => Some((
                EncodingKey::from_secret(secret.as_bytes()),
                DecodingKey::from_secret(secret.as_bytes()),
            )),
        };
        if matches!(cfg.audience.as_deref(), Some("")) {
            return Err(AuthError::Config("JWT audience is empty".into()));
        }
        if matches!(cfg.issuer.as_deref(), Some("")) {
            return Err(AuthError::Config("JWT issuer is empty".into()));
        }

        // Every knob set explicitly: the crate's defaults (60 s leeway, exp required,
        // aud checked even when no audience is set, nbf ignored) are not ours.
        let mut validation = Validation::new(cfg.algorithm);
        validation.algorithms = vec![cfg.algorithm];
        validation.leeway = cfg.leeway_secs;
        validation.reject_tokens_expiring_in_less_than = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.required_spec_claims = HashSet::new();
        validation.sub = None;
        match &cfg.audience {
            Some(aud) => {
                validation.validate_aud = true;
                validation.set_audience(&[aud]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => {
                validation.validate_aud = false;
                validation.aud = None;
            }
        }
        match &cfg.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                validation.required_spec_claims.insert("iss".into());
            }
            None => validation.iss = None,
        }

        Ok(Auth {
            keys,
            validation,
            algorithm: cfg.algorithm,
            audience: cfg.audience,
            issuer: cfg.issuer,
            role_claim: cfg.role_claim,
        })
    }

    /// Whether a secret is configured (tokens can be verified and signed).
    pub fn is_configured(&self) -> bool {
        self.keys.is_some()
    }

    /// The claim naming the Postgres role.
    pub fn role_claim(&self) -> &str {
        &self.role_claim
    }

    /// Checks a verified token's `exp` and `nbf` against the clock again (for a token whose
    /// signature was verified earlier and cached), with the same leeway as `verify`.
    pub fn check_times(&self, claims: &Claims) -> Result<(), AuthError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let leeway = self.validation.leeway;
        if let Some(exp) = claims.get("exp").and_then(Value::as_f64) {
            if exp < now.saturating_sub(leeway) as f64 {
                return Err(AuthError::Expired);
            }
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_f64) {
            if nbf > (now + leeway) as f64 {
                return Err(AuthError::NotYetValid);
            }
        }
        Ok(())
    }

    /// Verifies a compact JWT: signature, algorithm in the allow-list (never `none`),
    /// `exp` and `nbf` when present, `aud`/`iss` when configured (then also required).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let result = self.verify_inner(token);
        if let Err(e) = &result {
            tracing::debug!(code = e.code(), error = %e, "JWT rejected");
        }
        result
    }

    fn verify_inner(&self, token: &str) -> Result<Claims, AuthError> {
        let (_, decoding) = self.keys.as_ref().ok_or(AuthError::NotConfigured)?;
        // Read the header ourselves first: jsonwebtoken cannot parse `alg: none` (or any
        // unknown alg) and would report a generic JSON error instead of "wrong algorithm".
        let alg = header_alg(token)?;
        if alg.parse::<Algorithm>().ok() != Some(self.algorithm) {
            return Err(AuthError::InvalidAlgorithm);
        }
        let data = jsonwebtoken::decode::<Value>(token, decoding, &self.validation)
            .map_err(|e| AuthError::from_verify(e.into_kind()))?;
        match data.claims {
            Value::Object(map) => Ok(Claims(map)),
            _ => Err(AuthError::Malformed(
                "token payload is not a JSON object".into(),
            )),
        }
    }

    /// Signs the attributes of a jwt_token row (attribute name → value) into a token.
    /// Null attributes are omitted; `aud`/`iss` are added when configured and absent;
    /// `exp`/`nbf`/`iat` must be numbers (numeric strings, as int8 may arrive, are
    /// converted, like PostGraphile's `parseFloat(exp)`). No default `exp` is added.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, AuthError> {
        let (encoding, _) = self.keys.as_ref().ok_or(AuthError::NotConfigured)?;
        let mut out = Map::new();
        for (key, value) in claims {
            if value.is_null() {
                continue;
            }
            let value = match key.as_str() {
                "exp" | "nbf" | "iat" => numeric_date(key, value)?,
                _ => value.clone(),
            };
            out.insert(key.clone(), value);
        }
        if let Some(aud) = &self.audience {
            out.entry("aud")
                .or_insert_with(|| Value::String(aud.clone()));
        }
        if let Some(iss) = &self.issuer {
            out.entry("iss")
                .or_insert_with(|| Value::String(iss.clone()));
        }
        jsonwebtoken::encode(&Header::new(self.algorithm), &out, encoding)
            .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// [`SessionSettings::from_claims_with_role_claim`] with the configured role claim.
    pub fn session_settings(
        &self,
        claims: Option<&Claims>,
        default_role: &str,
        allowed_roles: &HashSet<String>,
    ) -> Result<SessionSettings, AuthError> {
        SessionSettings::from_claims_with_role_claim(
            claims,
            &self.role_claim,
            default_role,
            allowed_roles,
        )
    }
}

/// The `alg` of a compact JWT's header, after checking the token has three segments.
fn header_alg(token: &str) -> Result<String, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed(
            "token must have three dot-separated parts".into(),
        ));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(AuthError::Malformed(
            "token must have three dot-separated parts".into(),
        ));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed("token header is not valid base64url".into()))?;
    let header: Value = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed("token header is not valid JSON".into()))?;
    match header.get("alg") {
        Some(Value::String(alg)) => Ok(alg.clone()),
        _ => Err(AuthError::Malformed(
            "token header has no \"alg\" string".into(),
        )),
    }
}

/// A NumericDate claim for signing: numbers pass, numeric strings become numbers.
fn numeric_date(key: &str, value: &Value) -> Result<Value, AuthError> {
    let bad = || {
        AuthError::Sign(format!(
            "claim \"{key}\" must be a number of seconds since the epoch"
        ))
    };
    match value {
        Value::Number(n) if n.as_f64().is_some_and(|f| f >= 0.0) => Ok(value.clone()),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<u64>() {
                Ok(Value::from(n))
            } else {
                match s.parse::<f64>() {
                    Ok(f) if f.is_finite() && f >= 0.0 => serde_json::Number::from_f64(f)
                        .map(Value::Number)
                        .ok_or_else(bad),
                    _ => Err(bad()),
                }
            }
        }
        _ => Err(bad()),
    }
}

/// Extracts the token from an `Authorization` header value: `Bearer <token>`, scheme
/// case-insensitive, surrounding whitespace ignored.
pub fn bearer_token(header_value: &str) -> Result<&str, AuthError> {
    let bad = || AuthError::Malformed("Authorization header must be \"Bearer <token>\"".into());
    let value = header_value.trim();
    let (scheme, rest) = value.split_once([' ', '\t']).ok_or_else(bad)?;
    let token = rest.trim_start_matches([' ', '\t']);
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.contains(|c: char| c.is_ascii_whitespace())
    {
        return Err(bad());
    }
    Ok(token)
}

/// The verified claims of a token (a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// One claim by name.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

/// What the request transaction must `set_config(.., true)` before the operation runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    /// The value for `set_config('role', .., true)`.
    pub role: String,
    /// `(name, value)` pairs: `jwt.claims.<key>` for each claim with a plain key and a
    /// non-null value (sorted by key), then `request.jwt.claims` with the whole claims
    /// object as JSON (`{}` for anonymous requests).
    pub settings: Vec<(String, String)>,
}

impl SessionSettings {
    /// [`Self::from_claims_with_role_claim`] with the `"role"` claim.
    pub fn from_claims(
        claims: Option<&Claims>,
        default_role: &str,
        allowed_roles: &HashSet<String>,
    ) -> Result<Self, AuthError> {
        Self::from_claims_with_role_claim(claims, DEFAULT_ROLE_CLAIM, default_role, allowed_roles)
    }

    /// role = the role claim when present and non-null (it must be a string naming
    /// `default_role` or one of `allowed_roles`, else [`AuthError::Role`]), otherwise
    /// `default_role`. Claims with keys matching `[A-Za-z_][A-Za-z0-9_]*` and non-null
    /// values become `jwt.claims.<key>`: strings as-is, numbers and booleans as their JSON
    /// text, objects and arrays as JSON. Other keys appear only in `request.jwt.claims`.
    pub fn from_claims_with_role_claim(
        claims: Option<&Claims>,
        role_claim: &str,
        default_role: &str,
        allowed_roles: &HashSet<String>,
    ) -> Result<Self, AuthError> {
        let Some(Claims(map)) = claims else {
            return Ok(SessionSettings {
                role: default_role.to_owned(),
                settings: vec![(CLAIMS_SETTING.to_owned(), "{}".to_owned())],
            });
        };

        let role = match map.get(role_claim) {
            None | Some(Value::Null) => default_role.to_owned(),
            Some(Value::String(role)) => {
                if role != default_role && !allowed_roles.contains(role) {
                    return Err(AuthError::Role(format!("role \"{role}\" is not allowed")));
                }
                role.clone()
            }
            Some(_) => {
                return Err(AuthError::Role(format!(
                    "claim \"{role_claim}\" must be a string"
                )))
            }
        };

        let mut settings = Vec::with_capacity(map.len() + 1);
        for (key, value) in map {
            if !is_plain_key(key) {
                continue;
            }
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // Postgres text cannot hold NUL; refuse here rather than fail in the database.
            if text.contains('\0') {
                return Err(AuthError::Malformed(format!(
                    "claim \"{key}\" contains a NUL character"
                )));
            }
            settings.push((format!("{CLAIM_SETTING_PREFIX}{key}"), text));
        }
        // serde_json escapes NUL as \u0000, so the whole object is always valid text.
        settings.push((
            CLAIMS_SETTING.to_owned(),
            Value::Object(map.clone()).to_string(),
        ));
        Ok(SessionSettings { role, settings })
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: keys that are safe as the last part of a setting name.
fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why a token was refused or could not be made. `Display` is the user-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("jwt expired")]
    Expired,
    #[error("invalid token signature")]
    InvalidSignature,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("jwt not active yet (nbf is in the future)")]
    NotYetValid,
    #[error("token audience is missing or not accepted")]
    InvalidAudience,
    #[error("token issuer is missing or not accepted")]
    InvalidIssuer,
    #[error("token algorithm is not allowed")]
    InvalidAlgorithm,
    /// The role claim is not a string or names a role the server may not switch to.
    #[error("invalid role claim: {0}")]
    Role(String),
    #[error("JWT secret not configured")]
    NotConfigured,
    #[error("could not sign JWT: {0}")]
    Sign(String),
    /// Invalid [`JwtConfig`] (reported at startup).
    #[error("invalid JWT configuration: {0}")]
    Config(String),
    /// An unexpected failure inside the JWT library; detail is for logs only.
    #[error("internal error while verifying the token")]
    Internal(String),
}

impl AuthError {
    /// Stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Expired => "JWT_EXPIRED",
            AuthError::InvalidSignature => "JWT_INVALID_SIGNATURE",
            AuthError::Malformed(_) => "JWT_MALFORMED",
            AuthError::NotYetValid => "JWT_NOT_YET_VALID",
            AuthError::InvalidAudience => "JWT_INVALID_AUDIENCE",
            AuthError::InvalidIssuer => "JWT_INVALID_ISSUER",
            AuthError::InvalidAlgorithm => "JWT_INVALID_ALGORITHM",
            AuthError::Role(_) => "JWT_INVALID_ROLE",
            AuthError::NotConfigured => "JWT_NOT_CONFIGURED",
            AuthError::Sign(_) => "JWT_SIGN_FAILED",
            AuthError::Config(_) => "JWT_CONFIG_INVALID",
            AuthError::Internal(_) => "JWT_INTERNAL",
        }
    }

    /// HTTP status when this error stops a request before execution: 401 for anything
    /// about the client's token, 500 for server-side failures.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Sign(_) | AuthError::Config(_) | AuthError::Internal(_) => 500,
            _ => 401,
        }
    }

    /// `WWW-Authenticate` header value for a 401 (RFC 6750), `None` otherwise.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.status() != 401 {
            return None;
        }
        // error_description is a quoted-string: keep it free of quotes and backslashes.
        let description: String = self
            .to_string()
            .chars()
            .map(|c| if c == '"' || c == '\\' { '\'' } else { c })
            .collect();
        Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{description}\""
        ))
    }

    /// Maps a jsonwebtoken verification error. Any kind not listed is a refusal too.
    fn from_verify(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidSignature => AuthError::InvalidSignature,
            ErrorKind::InvalidAudience => AuthError::InvalidAudience,
            ErrorKind::InvalidIssuer => AuthError::InvalidIssuer,
            ErrorKind::MissingRequiredClaim(c) if c == "aud" => AuthError::InvalidAudience,
            ErrorKind::MissingRequiredClaim(c) if c == "iss" => AuthError::InvalidIssuer,
            ErrorKind::MissingRequiredClaim(c) => {
                AuthError::Malformed(format!("missing required claim \"{c}\""))
            }
            ErrorKind::InvalidClaimFormat(c) => {
                AuthError::Malformed(format!("claim \"{c}\" has an invalid format"))
            }
            ErrorKind::InvalidSubject => {
                AuthError::Malformed("claim \"sub\" is not accepted".into())
            }
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm => AuthError::InvalidAlgorithm,
            ErrorKind::InvalidToken => AuthError::Malformed("not a valid JWT".into()),
            ErrorKind::Base64(_) => AuthError::Malformed("token is not valid base64url".into()),
            ErrorKind::Json(_) => {
                AuthError::Malformed("token header or payload is not valid JSON".into())
            }
            ErrorKind::Utf8(_) => AuthError::Malformed("token is not valid UTF-8".into()),
            ErrorKind::MissingAlgorithm
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::RsaFailedSigning
            | ErrorKind::Signing(_)
            | ErrorKind::Provider(_) => AuthError::Internal(format!("{kind:?}")),
            other => AuthError::Malformed(format!("token rejected ({other:?})")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn round_trip_omits_nulls() {
        let a = auth();
        let exp = now() + 3600;
        let token = a
            .sign(&obj(
                json!({"role": "app_user", "user_id": 1, "exp": exp, "x": null}),
            ))
            .unwrap();
        let claims = a.verify(&token).unwrap();
        assert_eq!(
            claims.0,
            obj(json!({"role": "app_user", "user_id": 1, "exp": exp}))
        );
    }

    #[test]
    fn no_exp_is_accepted() {
        let a = auth();
        let token = a.sign(&obj(json!({"user_id": 1}))).unwrap();
        assert_eq!(a.verify(&token).unwrap().get("user_id"), Some(&json!(1)));
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
    fn expired() {
        let a = auth();
        let token = a.sign(&obj(json!({"exp": now() - 10}))).unwrap();
        assert_eq!(a.verify(&token).unwrap_err(), AuthError::Expired);
        // Leeway covers small skew.
        let lenient = auth_with(|c| c.leeway_secs = 30);
        assert!(lenient.verify(&token).is_ok());
    }

    #[test]
    fn exp_with_wrong_type_is_malformed() {
        let a = auth();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({"exp": "soon"}),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(a.verify(&token).unwrap_err().code(), "JWT_MALFORMED");
    }

    #[test]
    fn nbf_in_future() {
        let a = auth();
        let token = a.sign(&obj(json!({"nbf": now() + 600}))).unwrap();
        assert_eq!(a.verify(&token).unwrap_err(), AuthError::NotYetValid);
        let token = a.sign(&obj(json!({"nbf": now() - 5}))).unwrap();
        assert!(a.verify(&token).is_ok());
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
        let other = auth_with(|c| c.secret = Some("another-secret".into()));
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
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!([1, 2]),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
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
    fn other_hmac_size_rejected() {
        let hs512 = auth_with(|c| c.algorithm = Algorithm::HS512);
        let token = hs512.sign(&obj(json!({"user_id": 1}))).unwrap();
        assert_eq!(
            auth().verify(&token).unwrap_err(),
            AuthError::InvalidAlgorithm
        );
        assert!(hs512.verify(&token).is_ok());
    }

    #[test]
    fn audience_configured() {
        let a = auth_with(|c| c.audience = Some("postgraph".into()));
        let plain = auth();
        // Signing adds aud; verification accepts it.
        let token = a.sign(&obj(json!({"user_id": 1}))).unwrap();
        assert_eq!(
            a.verify(&token).unwrap().get("aud"),
            Some(&json!("postgraph"))
        );
        // Missing aud.
        let token = plain.sign(&obj(json!({"user_id": 1}))).unwrap();
        assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidAudience);
        // Wrong aud (the row's aud wins over the configured one when signing).
        let token = a.sign(&obj(json!({"aud": "other"}))).unwrap();
        assert_eq!(a.verify(&token).unwrap_err(), AuthError::InvalidAudience);
        // Array aud containing ours.
        let token = plain
            .sign(&obj(json!({"aud": ["x", "postgraph"]})))
            .unwrap();
        assert!(a.verify(&token).is_ok());
    }

    #[test]
    fn no_audience_configured_accepts_any_aud() {
        let a = auth();
        let token = a.sign(&obj(json!({"aud": "someone"}))).unwrap();
        assert!(a.verify(&token).is_ok());
        let token = a.sign(&obj(json!({"aud": ["a", "b"]}))).unwrap();
        assert!(a.verify(&token).is_ok());
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
            cfg(|c| c.algorithm = Algorithm::RS256),
            "JWT_CONFIG_INVALID"
        );
        assert_eq!(
            cfg(|c| c.secret = Some(String::new())),
            "JWT_CONFIG_INVALID"
        );
        assert_eq!(cfg(|c| c.leeway_secs = u64::MAX), "JWT_CONFIG_INVALID");
        assert_eq!(
            cfg(|c| c.audience = Some(String::new())),
            "JWT_CONFIG_INVALID"
        );
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
        assert_eq!(err.code(), "JWT_INVALID_ROLE");
        assert_eq!(err.status(), 401);

        let c = Claims(obj(json!({"role": 5})));
        let err = SessionSettings::from_claims(Some(&c), "anon", &allowed).unwrap_err();
        assert!(matches!(err, AuthError::Role(_)));

        // Absent or null role claim: the default role; the default role is always allowed.
        for c in [
            json!({"user_id": 1}),
            json!({"role": null}),
            json!({"role": "anon"}),
        ] {
            let c = Claims(obj(c));
            let s = SessionSettings::from_claims(Some(&c), "anon", &allowed).unwrap();
            assert_eq!(s.role, "anon");
        }

        // A custom role claim.
        let c = Claims(obj(json!({"db_role": "app_user", "role": "postgres"})));
        let s = SessionSettings::from_claims_with_role_claim(Some(&c), "db_role", "anon", &allowed)
            .unwrap();
        assert_eq!(s.role, "app_user");
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
        let a = auth_with(|c| c.role_claim = "r".into());
        let c = Claims(obj(json!({"r": "app_user"})));
        let s = a
            .session_settings(Some(&c), "anon", &roles(&["app_user"]))
            .unwrap();
        assert_eq!(s.role, "app_user");
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
        let e = AuthError::Role("role \"x\" is not allowed".into());
        assert!(!e.www_authenticate().unwrap().contains("\"x\""));
    }
}
