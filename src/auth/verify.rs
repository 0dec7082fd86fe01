//! Verification: a compact JWT's header, signature and time claims into [`Claims`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::{keys, Auth, AuthError, Claims, MAX_AUTHORIZATION_BYTES};

impl Auth {
    /// Checks a verified token's `exp`, `nbf` and `iat` against the clock (again, for a
    /// token whose signature was verified earlier and cached), with the configured leeway.
    pub fn check_times(&self, claims: &Claims) -> Result<(), AuthError> {
        let now = jsonwebtoken::get_current_timestamp() as f64;
        let leeway = self.leeway_secs as f64;
        let exp = numeric_claim(claims, "exp")?;
        match exp {
            _ if self.verify.ignore_expiration => {}
            Some(exp) if exp + leeway <= now => return Err(AuthError::Expired),
            None if !self.allow_missing_exp => return Err(AuthError::MissingExp),
            _ => {}
        }
        let nbf = numeric_claim(claims, "nbf")?;
        if !self.verify.ignore_not_before && nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(AuthError::NotYetValid);
        }
        if numeric_claim(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
            return Err(AuthError::IssuedInFuture);
        }
        Ok(())
    }

    /// When a verified token stops being accepted (Unix seconds): its `exp` plus the leeway.
    /// None: it has no `exp` (allowed only with `--jwt-allow-missing-exp`).
    pub fn accepted_until(&self, claims: &Claims) -> Option<f64> {
        if self.verify.ignore_expiration {
            return None;
        }
        numeric_claim(claims, "exp")
            .ok()
            .flatten()
            .map(|exp| exp + self.leeway_secs as f64)
    }

    /// When a token with this `exp` stops being accepted (Unix seconds): `exp` plus the leeway.
    pub fn accepted_after(&self, exp: f64) -> f64 {
        exp + self.leeway_secs as f64
    }

    /// Whether `aud` is one of the configured audiences.
    fn ours(&self, aud: &str) -> bool {
        self.audience.as_deref() == Some(aud) || self.more_audiences.iter().any(|a| a == aud)
    }

    /// Checks `aud`, `iss`, and `jti`/`sub` when required, against the configuration, then
    /// the time claims.
    fn check_claims(&self, claims: &Claims) -> Result<(), AuthError> {
        match (&self.audience, claims.get("aud")) {
            _ if self.verify.ignore_audience => {}
            (None, None) => {}
            // No audience configured: a token meant for some audience is not meant for us.
            (None, Some(_)) => return Err(AuthError::InvalidAudience),
            (Some(_), None) => return Err(AuthError::InvalidAudience),
            (Some(_), Some(Value::String(aud))) if self.ours(aud) => {}
            (Some(_), Some(Value::Array(auds)))
                if auds
                    .iter()
                    .any(|a| a.as_str().is_some_and(|a| self.ours(a))) => {}
            (Some(_), Some(_)) => return Err(AuthError::InvalidAudience),
        }
        for (claim, wanted) in [("jti", &self.verify.jwt_id), ("sub", &self.verify.subject)] {
            if let Some(wanted) = wanted {
                if claims.get(claim).and_then(Value::as_str) != Some(wanted.as_str()) {
                    return Err(AuthError::InvalidClaim(claim));
                }
            }
        }
        if let Some(ours) = &self.issuer {
            let iss = claims.get("iss").and_then(Value::as_str);
            if iss != Some(ours.as_str())
                && !iss.is_some_and(|i| self.more_issuers.iter().any(|o| o == i))
            {
                return Err(AuthError::InvalidIssuer);
            }
        }
        self.check_times(claims)
    }

    /// Verifies a compact JWT: signature, algorithm in the allow-list (never `none`),
    /// `aud`/`iss` as configured, `exp` (required unless allowed missing), `nbf` and `iat`.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let result = self.verify_inner(token);
        // The code only: neither the token nor its claims go into a log line.
        if let Err(e) = &result {
            tracing::debug!(code = e.code(), "JWT rejected");
        }
        result
    }

    /// [`Auth::verify`], following a JWKS provider's key rotation: a token whose `kid` names
    /// no known key makes one re-fetch of the document (single flight, at most once per
    /// cooldown) and is verified again against the keys fetched. A stale document is
    /// refreshed in the background.
    pub async fn verify_fetching(&self, token: &str) -> Result<Claims, AuthError> {
        let Some(jwks) = &self.jwks else {
            return self.verify(token);
        };
        jwks.refresh_if_stale();
        let seen = jwks.generation();
        match self.verify_inner(token) {
            Err(AuthError::UnknownKid) if jwks.refetch_for_unknown_kid(seen).await => {
                self.verify(token)
            }
            Err(e) => {
                tracing::debug!(code = e.code(), "JWT rejected");
                Err(e)
            }
            ok => ok,
        }
    }

    fn verify_inner(&self, token: &str) -> Result<Claims, AuthError> {
        if !self.is_configured() {
            return Err(AuthError::NotConfigured);
        }
        if token.len() > MAX_AUTHORIZATION_BYTES {
            return Err(AuthError::HeaderTooLarge);
        }
        // Read the header ourselves first: jsonwebtoken cannot parse `alg: none` (or any
        // unknown alg) and would report a generic JSON error instead of "wrong algorithm".
        let (alg, kid) = header_alg_kid(token)?;
        let alg = alg
            .parse::<Algorithm>()
            .map_err(|_| AuthError::InvalidAlgorithm)?;
        if (self.verify.algorithms.as_ref()).is_some_and(|allowed| !allowed.contains(&alg)) {
            return Err(AuthError::InvalidAlgorithm);
        }
        let mut validation = self.validation.clone();
        validation.algorithms = vec![alg];
        let mut outcome = Err(AuthError::InvalidSignature);
        let fetched = self.jwks.as_ref().map(|j| j.keys());
        let known = (self.keys.verify_keys().iter()).chain(fetched.iter().flat_map(|k| k.iter()));
        for key in keys::candidates(known, alg, kid.as_deref(), self.jwks.is_some())? {
            outcome = jsonwebtoken::decode::<Value>(token, key, &validation)
                .map_err(|e| AuthError::from_verify(e.into_kind()));
            if !matches!(outcome, Err(AuthError::InvalidSignature)) {
                break;
            }
        }
        let data = outcome?;
        let claims = match data.claims {
            Value::Object(map) => Claims(map),
            _ => {
                return Err(AuthError::Malformed(
                    "token payload is not a JSON object".into(),
                ))
            }
        };
        self.check_claims(&claims)?;
        Ok(claims)
    }
}

/// A NumericDate claim: absent (or null), or a number; anything else is malformed.
fn numeric_claim(claims: &Claims, key: &str) -> Result<Option<f64>, AuthError> {
    match claims.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(AuthError::Malformed(format!(
            "claim \"{key}\" must be a number of seconds since the epoch"
        ))),
    }
}

/// The `alg` and `kid` of a compact JWT's header, after checking it has three segments.
fn header_alg_kid(token: &str) -> Result<(String, Option<String>), AuthError> {
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
    let kid = match header.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => {
            return Err(AuthError::Malformed(
                "token header \"kid\" is not a string".into(),
            ))
        }
    };
    match header.get("alg") {
        Some(Value::String(alg)) => Ok((alg.clone(), kid)),
        _ => Err(AuthError::Malformed(
            "token header has no \"alg\" string".into(),
        )),
    }
}
