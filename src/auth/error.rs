//! Why a token was refused: stable codes, HTTP status, `WWW-Authenticate`.

use jsonwebtoken::errors::ErrorKind;

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
    #[error("jwt issued in the future (iat is ahead of the server clock)")]
    IssuedInFuture,
    #[error("jwt has no exp claim; tokens must expire")]
    MissingExp,
    /// The `Authorization` header is over [`super::MAX_AUTHORIZATION_BYTES`] (431).
    #[error("the Authorization header is too large")]
    HeaderTooLarge,
    #[error("token audience is missing or not accepted")]
    InvalidAudience,
    #[error("token issuer is missing or not accepted")]
    InvalidIssuer,
    #[error("token algorithm is not allowed")]
    InvalidAlgorithm,
    /// `--jwt-verify-id` / `--jwt-verify-subject`: the token's `jti` or `sub` is missing or
    /// not the one required.
    #[error("token claim \"{0}\" is missing or not accepted")]
    InvalidClaim(&'static str),
    #[error("token kid names no configured key")]
    UnknownKid,
    /// `--jwt-fingerprint`: the token's `fgp` and the request's fingerprint cookie disagree.
    #[error("token fingerprint refused: {0}")]
    Fingerprint(&'static str),
    /// The role claim is not a string or names a role the server may not switch to.
    #[error("invalid role claim: {0}")]
    Role(String),
    /// The `--pre-request` function refused the token (SQLSTATE `PT401`): revoked, say by a
    /// sign-out everywhere. The message is the function's own.
    #[error("{0}")]
    Revoked(String),
    /// The `--pre-request` function refused the request (SQLSTATE `PT403`), 403.
    #[error("{0}")]
    Refused(String),
    /// With `--jwt-refresh-cookie`: a mutation that would start or renew a session gave none
    /// (a refused refresh token, wrong credentials). A field error: the field is null.
    #[error("no session: the refresh token or the credentials were refused; sign in again")]
    SessionRefused,
    #[error("JWT secret not configured")]
    NotConfigured,
    /// Public keys only: this instance verifies tokens but cannot sign them.
    #[error("this server has no key to sign tokens with (public keys only; configure --jwt-private-key)")]
    NoSigningKey,
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
            AuthError::IssuedInFuture => "JWT_ISSUED_IN_FUTURE",
            AuthError::MissingExp => "JWT_MISSING_EXP",
            AuthError::HeaderTooLarge => "REQUEST_HEADER_FIELDS_TOO_LARGE",
            AuthError::InvalidAudience => "JWT_INVALID_AUDIENCE",
            AuthError::InvalidIssuer => "JWT_INVALID_ISSUER",
            AuthError::InvalidAlgorithm => "JWT_INVALID_ALGORITHM",
            AuthError::InvalidClaim("jti") => "JWT_INVALID_ID",
            AuthError::InvalidClaim(_) => "JWT_INVALID_SUBJECT",
            AuthError::UnknownKid => "JWT_UNKNOWN_KID",
            AuthError::Fingerprint(_) => "JWT_FINGERPRINT",
            AuthError::Revoked(_) => "JWT_REVOKED",
            AuthError::SessionRefused => "SESSION_REFUSED",
            AuthError::Refused(_) => "FORBIDDEN",
            AuthError::NoSigningKey => "JWT_NO_SIGNING_KEY",
            AuthError::Role(_) => "JWT_ROLE_NOT_ALLOWED",
            AuthError::NotConfigured => "JWT_NOT_CONFIGURED",
            AuthError::Sign(_) => "JWT_SIGN_FAILED",
            AuthError::Config(_) => "JWT_CONFIG_INVALID",
            AuthError::Internal(_) => "JWT_INTERNAL",
        }
    }

    /// HTTP status when this error stops a request before execution: 401 for anything
    /// about the client's token, 431 for an oversized header, 500 for server-side failures.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::HeaderTooLarge => 431,
            AuthError::Refused(_) => 403,
            AuthError::Sign(_)
            | AuthError::Config(_)
            | AuthError::Internal(_)
            | AuthError::NoSigningKey => 500,
            _ => 401,
        }
    }

    /// `WWW-Authenticate` header value for a 401 (RFC 6750), `None` otherwise.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.status() != 401 {
            return None;
        }
        // error_description is a quoted-string of printable ASCII: anything else (quotes,
        // backslashes, controls, non-ASCII) would make an invalid or ambiguous header.
        let description: String = self
            .to_string()
            .chars()
            .map(|c| match c {
                '"' | '\\' => '\'',
                ' '..='~' => c,
                _ => '?',
            })
            .collect();
        Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{description}\""
        ))
    }

    /// Maps a jsonwebtoken verification error. Any kind not listed is a refusal too.
    pub(super) fn from_verify(kind: ErrorKind) -> Self {
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
