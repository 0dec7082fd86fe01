//! Verification: a compact JWT's header, signature and time claims into [`Claims`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::{Auth, AuthError, Claims};

impl Auth {
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
