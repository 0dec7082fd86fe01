//! Claims → the transaction-local settings (`role`, `jwt.claims.*`, `request.jwt.claims`).

use std::collections::HashSet;

use serde_json::Value;

use super::{AuthError, Claims, CLAIMS_SETTING, CLAIM_SETTING_PREFIX, DEFAULT_ROLE_CLAIM};

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
    /// [`Self::from_claims_at`] with the `"role"` claim.
    pub fn from_claims(
        claims: Option<&Claims>,
        default_role: &str,
        allowed_roles: &HashSet<String>,
    ) -> Result<Self, AuthError> {
        Self::from_claims_at(
            claims,
            &[DEFAULT_ROLE_CLAIM.to_owned()],
            default_role,
            allowed_roles,
        )
    }

    /// role = the claim at `role_path` when present and non-null (it must be a string in
    /// `allowed_roles`, else [`AuthError::Role`]), otherwise `default_role`. Claims with keys
    /// matching `[A-Za-z_][A-Za-z0-9_]*` and non-null values become `jwt.claims.<key>`:
    /// strings as-is, numbers and booleans as their JSON text, objects and arrays as JSON.
    /// Other keys appear only in `request.jwt.claims`.
    pub fn from_claims_at(
        claims: Option<&Claims>,
        role_path: &[String],
        default_role: &str,
        allowed_roles: &HashSet<String>,
    ) -> Result<Self, AuthError> {
        let Some(Claims(map)) = claims else {
            return Ok(SessionSettings {
                role: default_role.to_owned(),
                settings: vec![(CLAIMS_SETTING.to_owned(), "{}".to_owned())],
            });
        };

        // Walk the path; a missing step (or a non-object on the way) means "no role claim".
        let mut at = map.get(role_path.first().map(String::as_str).unwrap_or(""));
        for key in role_path.iter().skip(1) {
            at = at.and_then(|v| v.as_object()).and_then(|o| o.get(key));
        }
        let role = match at {
            None | Some(Value::Null) => default_role.to_owned(),
            // The list holds only roles a token may name: the authenticator itself,
            // superusers, BYPASSRLS roles and owners of exposed tables were left out of it.
            Some(Value::String(role)) if allowed_roles.contains(role) => role.clone(),
            Some(Value::String(_)) => {
                return Err(AuthError::Role(
                    "the role claim names a role this server may not switch to".into(),
                ))
            }
            Some(_) => return Err(AuthError::Role("the role claim must be a string".into())),
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
