//! Signing: the attributes of a jwt_token row into a compact JWT.

use jsonwebtoken::Header;
use serde_json::{Map, Value};

use super::{Auth, AuthError};

impl Auth {
    /// Signs the attributes of a jwt_token row (attribute name → value) into a token.
    /// Null attributes are omitted; `aud`/`iss` are added when configured and absent;
    /// `exp`/`nbf`/`iat` must be numbers (numeric strings, as int8 may arrive, are
    /// converted, like PostGraphile's `parseFloat(exp)`). `iat` is always there (now,
    /// unless the row has one), and `exp` too (now + the configured lifetime, unless the
    /// row has one).
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, AuthError> {
        self.sign_with_exp(claims).map(|(token, _)| token)
    }

    /// [`Auth::sign`], also returning the token's `exp` (seconds since the epoch), from which
    /// a cookie carrying the token gets its `Max-Age`.
    pub fn sign_with_exp(&self, claims: &Map<String, Value>) -> Result<(String, f64), AuthError> {
        let signer = self.keys.signer().map_err(|e| match e {
            // A JWKS-only instance verifies but cannot sign.
            AuthError::NotConfigured if self.jwks.is_some() => AuthError::NoSigningKey,
            e => e,
        })?;
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
        let now = jsonwebtoken::get_current_timestamp();
        out.entry("iat").or_insert_with(|| Value::from(now));
        out.entry("exp")
            .or_insert_with(|| Value::from(now + self.expires_in_secs));
        if let Some(aud) = &self.audience {
            out.entry("aud")
                .or_insert_with(|| Value::String(aud.clone()));
        }
        if let Some(iss) = &self.issuer {
            out.entry("iss")
                .or_insert_with(|| Value::String(iss.clone()));
        }
        let exp = out.get("exp").and_then(Value::as_f64).unwrap_or(0.0);
        let mut header = Header::new(signer.algorithm);
        header.kid = signer.kid.clone();
        let token = jsonwebtoken::encode(&header, &out, &signer.key)
            .map_err(|e| AuthError::Sign(e.to_string()))?;
        Ok((token, exp))
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
