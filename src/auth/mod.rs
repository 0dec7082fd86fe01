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

mod error;
mod settings;
mod sign;
#[cfg(test)]
mod tests;
mod verify;

pub use error::AuthError;
pub use settings::SessionSettings;

use std::collections::HashSet;
use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
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
