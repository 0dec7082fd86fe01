//! JWT in and out: verify bearer tokens into claims, sign jwt_token rows into tokens, and turn claims into the transaction-local settings Postgres sees.
//!
//! Decisions (see DESIGN.md "JWT in", "JWT out", "Claims → settings"), strict by default:
//! - Keys (see `keys`): an HMAC secret of at least 32 bytes (HS256/384/512), PEM key pairs
//!   (RS256/384/512, ES256, ES384, EdDSA). The allow-list follows the configured keys' kinds;
//!   `none` never; an HS token is never checked against an asymmetric key. Public keys alone
//!   make a verify-only instance; they are served as JWKS.
//! - `exp` is required (unless `allow_missing_exp`); `exp`, `nbf` and `iat` are checked with
//!   one leeway (default 30 s): not expired, not yet valid, not issued in the future.
//! - `aud`: when an audience is configured it is required and must match (string or array);
//!   when none is configured, a token carrying `aud` is refused. `iss` is required and must
//!   match when configured. Signing adds both when configured.
//! - Signing always adds `iat`, and `exp` (now + `expires_in_secs`) unless the row has one.
//! - The role claim may be a path (`.app.role`); the role it names must be in the list read
//!   at startup (roles the authenticator may switch to, minus itself, superusers, BYPASSRLS
//!   roles and owners of exposed tables).
//! - Anonymous requests still get `request.jwt.claims = '{}'`, so policies casting it to
//!   json never see `''` (which fails the cast) on a reused connection.

mod error;
mod fingerprint;
mod jwks;
mod keys;
mod settings;
mod sign;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_keys;
mod verify;

pub use error::AuthError;
pub use fingerprint::{Fingerprint, FINGERPRINT_CLAIM};
pub use jwks::{
    DEFAULT_COOLDOWN_SECS as DEFAULT_JWKS_COOLDOWN_SECS,
    DEFAULT_MAX_AGE_SECS as DEFAULT_JWKS_MAX_AGE_SECS,
};
pub use keys::{KeyKind, Pem};
pub use settings::SessionSettings;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};
use keys::KeySet;
use serde_json::{Map, Value};

/// The claim naming the Postgres role, unless configured otherwise.
pub const DEFAULT_ROLE_CLAIM: &str = "role";
/// The setting that carries the whole claims object (PostgREST style).
pub const CLAIMS_SETTING: &str = "request.jwt.claims";
/// Prefix of the per-claim settings (`jwt.claims.user_id`, ...).
pub const CLAIM_SETTING_PREFIX: &str = "jwt.claims.";
/// Upper bound for the clock-skew leeway: larger values would make expiry meaningless.
pub const MAX_LEEWAY_SECS: u64 = 86_400;

/// Shortest accepted HMAC secret: RFC 7518 wants a key at least as long as the hash output.
pub const MIN_SECRET_BYTES: usize = 32;
/// Default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;
/// Default lifetime of a signed token without its own `exp`: short-lived access tokens.
pub const DEFAULT_EXPIRES_IN_SECS: u64 = 15 * 60;
/// Largest accepted `Authorization` header; a larger one is refused (431) before decoding.
pub const MAX_AUTHORIZATION_BYTES: usize = 8 * 1024;

/// How tokens are verified and signed.
#[derive(Clone)]
pub struct JwtConfig {
    /// HMAC secret (`--jwt-secret` / `JWT_SECRET`), at least [`MIN_SECRET_BYTES`]. `None`:
    /// no JWT support; tokens are refused with [`AuthError::NotConfigured`] and signing
    /// fails with the same error.
    pub secret: Option<String>,
    /// A PEM private key (RSA, EC P-256/P-384, Ed25519) that signs tokens; its public half
    /// verifies them and is published at `/.well-known/jwks.json`.
    pub private_key: Option<Pem>,
    /// PEM public keys that verify tokens (several for rotation; chosen by `kid`).
    pub public_keys: Vec<Pem>,
    /// `--jwt-jwks-url`: a JWKS document (a file path or an `http://` URL) whose keys verify
    /// tokens too, kept current (see `jwks`).
    pub jwks_url: Option<String>,
    /// Least time between two JWKS fetches caused by tokens with an unknown `kid`.
    pub jwks_cooldown_secs: u64,
    /// The signing algorithm; it must suit the signing key. `None`: the private key's
    /// default (RS256, ES256, ES384, EdDSA), else HS256, and verification accepts every
    /// algorithm of the configured keys' kinds. When given, it is the only algorithm keys of
    /// its kind accept.
    pub algorithm: Option<Algorithm>,
    /// `--jwt-audience`: added as `aud` when signing (unless the row has one); required and
    /// checked when verifying. `None`: a token carrying `aud` is refused.
    pub audience: Option<String>,
    /// More audiences an incoming token may carry instead of `audience` (v4's `-A a,b`: any
    /// of them); tokens are signed with `audience`.
    pub more_audiences: Vec<String>,
    /// Added as `iss` when signing (unless the row has one); required and checked when verifying.
    pub issuer: Option<String>,
    /// More issuers an incoming token may name instead of `issuer` (v4's
    /// `--jwt-verify-issuer a,b`); tokens are signed with `issuer`.
    pub more_issuers: Vec<String>,
    /// v4's `--jwt-verify-*` options that narrow or (opted into explicitly) relax verification.
    pub verify: VerifyOptions,
    /// Clock-skew allowance for `exp`/`nbf`/`iat`, in seconds (default 30, at most
    /// [`MAX_LEEWAY_SECS`]).
    pub leeway_secs: u64,
    /// Accept tokens without `exp` (`--jwt-allow-missing-exp`); off by default.
    pub allow_missing_exp: bool,
    /// Lifetime given to a signed token whose row has no `exp` (default 15 minutes).
    pub expires_in_secs: u64,
    /// Claim naming the Postgres role (default `"role"`); a leading dot makes it a path into
    /// nested objects (`.app.role`, `."https://example.com/claims".role`).
    pub role_claim: String,
    /// `--jwt-fingerprint`: signed tokens carry `fgp`, the hash of a random value set in a
    /// hardened cookie, and incoming tokens are accepted only with that cookie.
    pub fingerprint: bool,
    /// `--jwt-refresh-cookie`: a mutation's `@refreshToken` value goes into an HttpOnly cookie
    /// instead of the response body, and the incoming cookie reaches SQL as
    /// `request.refresh_token`.
    pub refresh_cookie: bool,
    /// `--jwt-session-lifetime`: how long the fingerprint and refresh cookies live (a browser
    /// session outlives its short access tokens); at least the access token's lifetime.
    pub session_lifetime_secs: u64,
}

/// PostGraphile v4's `--jwt-verify-*` options (its `jwtVerifyOptions`). The defaults change
/// nothing; each relaxation is an explicit opt-in, logged at startup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyOptions {
    /// `--jwt-verify-algorithms`: only these algorithms are accepted, and only where the
    /// configured key's kind accepts them as well (never `none`).
    pub algorithms: Option<Vec<Algorithm>>,
    /// `--jwt-verify-id`: the `jti` a token must carry.
    pub jwt_id: Option<String>,
    /// `--jwt-verify-subject`: the `sub` a token must carry.
    pub subject: Option<String>,
    /// `--jwt-verify-ignore-expiration`: an expired token (or one without `exp`) is accepted.
    pub ignore_expiration: bool,
    /// `--jwt-verify-ignore-not-before`: a token whose `nbf` is in the future is accepted.
    pub ignore_not_before: bool,
    /// v4's `-A ''`: the audience is not checked (a token carrying any `aud` is accepted).
    pub ignore_audience: bool,
}

impl VerifyOptions {
    /// What these options relax, for the startup warning; empty when nothing is.
    pub fn relaxations(&self) -> Vec<&'static str> {
        let mut out = vec![];
        if self.ignore_expiration {
            out.push("--jwt-verify-ignore-expiration: expired tokens, and tokens without exp, are accepted");
        }
        if self.ignore_not_before {
            out.push("--jwt-verify-ignore-not-before: tokens are accepted before their nbf");
        }
        if self.ignore_audience {
            out.push("--jwt-verify-audience '': the audience of incoming tokens is not checked");
        }
        out
    }
}

/// Default lifetime of the session cookies (fingerprint, refresh token): 30 days.
pub const DEFAULT_SESSION_LIFETIME_SECS: u64 = 30 * 86_400;

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            secret: None,
            private_key: None,
            public_keys: vec![],
            jwks_url: None,
            jwks_cooldown_secs: DEFAULT_JWKS_COOLDOWN_SECS,
            algorithm: None,
            audience: None,
            more_audiences: vec![],
            issuer: None,
            more_issuers: vec![],
            verify: VerifyOptions::default(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            allow_missing_exp: false,
            expires_in_secs: DEFAULT_EXPIRES_IN_SECS,
            role_claim: DEFAULT_ROLE_CLAIM.to_owned(),
            fingerprint: false,
            refresh_cookie: false,
            session_lifetime_secs: DEFAULT_SESSION_LIFETIME_SECS,
        }
    }
}

// Hand-written so the secret never reaches a log line.
impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field(
                "private_key",
                &self.private_key.as_ref().map(|k| k.source.as_str()),
            )
            .field(
                "public_keys",
                &self
                    .public_keys
                    .iter()
                    .map(|k| k.source.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("jwks_url", &self.jwks_url)
            .field("jwks_cooldown_secs", &self.jwks_cooldown_secs)
            .field("algorithm", &self.algorithm)
            .field("audience", &self.audience)
            .field("more_audiences", &self.more_audiences)
            .field("issuer", &self.issuer)
            .field("more_issuers", &self.more_issuers)
            .field("verify", &self.verify)
            .field("leeway_secs", &self.leeway_secs)
            .field("allow_missing_exp", &self.allow_missing_exp)
            .field("expires_in_secs", &self.expires_in_secs)
            .field("role_claim", &self.role_claim)
            .field("fingerprint", &self.fingerprint)
            .field("refresh_cookie", &self.refresh_cookie)
            .field("session_lifetime_secs", &self.session_lifetime_secs)
            .finish()
    }
}

/// Keys and validation rules, built once at startup; share it by reference or `Arc`.
pub struct Auth {
    keys: KeySet,
    /// `--jwt-jwks-url`: more verification keys, fetched (see [`Auth::load_jwks`]).
    jwks: Option<Arc<jwks::Jwks>>,
    /// Signature only: every claim is checked by [`Auth::check_claims`], the same code for
    /// fresh and cached tokens.
    validation: Validation,
    audience: Option<String>,
    more_audiences: Vec<String>,
    issuer: Option<String>,
    more_issuers: Vec<String>,
    verify: VerifyOptions,
    leeway_secs: u64,
    allow_missing_exp: bool,
    expires_in_secs: u64,
    role_claim: String,
    role_path: Vec<String>,
    fingerprint: bool,
    refresh_cookie: bool,
    session_lifetime_secs: u64,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("configured", &self.is_configured())
            .field("jwks", &self.jwks.is_some())
            .field("can_sign", &self.can_sign())
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("leeway_secs", &self.leeway_secs)
            .field("allow_missing_exp", &self.allow_missing_exp)
            .field("expires_in_secs", &self.expires_in_secs)
            .field("role_claim", &self.role_claim)
            .finish()
    }
}

impl Auth {
    /// Checks the configuration and prepares keys and validation rules.
    pub fn new(cfg: JwtConfig) -> Result<Self, AuthError> {
        if cfg.leeway_secs > MAX_LEEWAY_SECS {
            return Err(AuthError::Config(format!(
                "leeway must be at most {MAX_LEEWAY_SECS} seconds"
            )));
        }
        if cfg.expires_in_secs == 0 {
            return Err(AuthError::Config(
                "token lifetime (--jwt-expires-in) must be at least one second".into(),
            ));
        }
        let role_path = parse_claim_path(&cfg.role_claim)?;
        let keys = KeySet::load(
            cfg.secret.as_deref(),
            cfg.private_key.as_ref(),
            &cfg.public_keys,
            cfg.algorithm,
        )?;
        let jwks = match cfg.jwks_url.as_deref() {
            None => None,
            Some(url) => Some(Arc::new(jwks::Jwks::new(
                jwks::Source::parse(url)?,
                cfg.jwks_cooldown_secs,
            )?)),
        };
        if cfg.verify.ignore_audience && cfg.audience.is_some() {
            return Err(AuthError::Config(
                "an audience and no audience check (`-A ''`) exclude each other".into(),
            ));
        }
        if cfg.verify.algorithms.as_ref().is_some_and(Vec::is_empty) {
            return Err(AuthError::Config(
                "--jwt-verify-algorithms names no algorithm".into(),
            ));
        }
        if matches!(cfg.audience.as_deref(), Some(""))
            || cfg.more_audiences.iter().any(String::is_empty)
        {
            return Err(AuthError::Config("JWT audience is empty".into()));
        }
        if matches!(cfg.issuer.as_deref(), Some(""))
            || cfg.more_issuers.iter().any(String::is_empty)
        {
            return Err(AuthError::Config("JWT issuer is empty".into()));
        }

        // jsonwebtoken checks the signature only; its claim defaults (60 s leeway, exp
        // required, nbf ignored, no iat check) are not ours, so every claim is ours to check.
        // `algorithms` is set per token to the one its header names, once that is known to be
        // in the allow-list of the key it is checked against.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.reject_tokens_expiring_in_less_than = 0;
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.aud = None;
        validation.iss = None;
        validation.sub = None;

        Ok(Auth {
            keys,
            jwks,
            validation,
            audience: cfg.audience,
            more_audiences: cfg.more_audiences,
            issuer: cfg.issuer,
            more_issuers: cfg.more_issuers,
            verify: cfg.verify,
            leeway_secs: cfg.leeway_secs,
            allow_missing_exp: cfg.allow_missing_exp,
            expires_in_secs: cfg.expires_in_secs,
            role_claim: cfg.role_claim,
            role_path,
            fingerprint: cfg.fingerprint,
            refresh_cookie: cfg.refresh_cookie,
            session_lifetime_secs: cfg.session_lifetime_secs,
        })
    }

    /// Whether any key is configured (tokens can be verified).
    pub fn is_configured(&self) -> bool {
        self.keys.is_configured() || self.jwks.is_some()
    }

    /// Whether tokens can be signed (a secret or a private key; not on verify-only instances).
    pub fn can_sign(&self) -> bool {
        self.keys.signer().is_ok()
    }

    /// Fetches the JWKS document of `--jwt-jwks-url` (startup; a no-op without one). An
    /// unreachable or unusable document is an error: the server does not start half-blind.
    pub async fn load_jwks(&self) -> Result<(), AuthError> {
        match &self.jwks {
            Some(j) => j.load().await,
            None => Ok(()),
        }
    }

    /// The public keys as a JWKS document, when asymmetric keys are configured.
    pub fn jwks(&self) -> Option<&str> {
        self.keys.jwks()
    }

    /// Whether refresh tokens travel in their own HttpOnly cookie (`--jwt-refresh-cookie`).
    pub fn refresh_cookie_enabled(&self) -> bool {
        self.refresh_cookie
    }

    /// Seconds the session cookies (fingerprint, refresh token) live from their last renewal.
    pub fn session_lifetime_secs(&self) -> u64 {
        self.session_lifetime_secs
    }

    /// The claim naming the Postgres role, as configured.
    pub fn role_claim(&self) -> &str {
        &self.role_claim
    }

    /// The settings of a request with these verified claims (or none: anonymous), the role
    /// taken from the configured role claim.
    pub fn session_settings(
        &self,
        claims: Option<&Claims>,
        default_role: &str,
        allowed_roles: &HashSet<String>,
    ) -> Result<SessionSettings, AuthError> {
        SessionSettings::from_claims_at(claims, &self.role_path, default_role, allowed_roles)
    }
}

/// `role` → `["role"]`; `.app.role` → `["app", "role"]`; `."a.b".c` → `["a.b", "c"]`.
fn parse_claim_path(spec: &str) -> Result<Vec<String>, AuthError> {
    let bad = |why: &str| AuthError::Config(format!("role claim key `{spec}`: {why}"));
    if spec.is_empty() {
        return Err(bad("it is empty"));
    }
    let Some(mut rest) = spec.strip_prefix('.') else {
        return Ok(vec![spec.to_owned()]);
    };
    let mut path = vec![];
    loop {
        let segment;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| bad("a quoted segment is not closed"))?;
            segment = &quoted[..end];
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            segment = &rest[..end];
            rest = &rest[end..];
        }
        if segment.is_empty() {
            return Err(bad("a segment is empty"));
        }
        path.push(segment.to_owned());
        if rest.is_empty() {
            return Ok(path);
        }
        rest = rest
            .strip_prefix('.')
            .ok_or_else(|| bad("segments must be separated by dots"))?;
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
