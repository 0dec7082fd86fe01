//! The last touch on a root field's JSON that Postgres built: JWT claims become signed tokens,
//! and NaN/±Infinity floats become field errors (GraphQL's `Float` cannot carry them; v4 says
//! `Float cannot represent non numeric value: "NaN"`), with `null` in their place, or in the
//! place of the object holding them when the field is non-null; a `groupedAggregates` past
//! `--max-groups` becomes a field error too. Responses that need none of this are passed
//! through untouched, without parsing.

use super::{error_json, Engine, Issued};
use crate::auth::{AuthError, Fingerprint, FINGERPRINT_CLAIM};
use crate::plan::{Fixup, FixupPath, SESSION_KEY, TOO_MANY_GROUPS};
use serde_json::Value as Json;

/// Whether a null token at response path `at` is a sign-out: the mutation's own result is the
/// null token (as `signout` returns), not a token inside a row of tokens.
fn signs_out(at: &[Json]) -> bool {
    at.last().and_then(Json::as_str) == Some(SESSION_KEY)
}

/// The stable code of a float field error.
const NON_FINITE_FLOAT: &str = "NON_FINITE_FLOAT";

impl Engine {
    /// `json` (the value of root field `key`) with its fixups applied; float errors are added
    /// to `errors`, the tokens signed (or found null) to `issued`.
    pub(super) fn finish(
        &self,
        key: &str,
        json: String,
        fixups: &[FixupPath],
        errors: &mut Vec<Json>,
        issued: &mut Issued,
    ) -> Result<String, AuthError> {
        let signs = fixups
            .iter()
            .any(|(_, f)| matches!(f, Fixup::Jwt | Fixup::RefreshToken));
        // Postgres' JSON for a non-finite float is one of these strings; a finite float is a
        // number, so when neither text occurs there is nothing to check.
        let floats = fixups.iter().any(|(_, f)| matches!(f, Fixup::Float { .. }))
            && (json.contains("\"NaN\"") || json.contains("Infinity\""));
        let groups = fixups
            .iter()
            .any(|(_, f)| matches!(f, Fixup::Groups { .. }))
            && json.contains(TOO_MANY_GROUPS);
        if !signs && !floats && !groups {
            return Ok(compact(json));
        }
        let mut v: Json =
            serde_json::from_str(&json).map_err(|e| AuthError::Sign(e.to_string()))?;
        for (path, fixup) in fixups {
            let wanted = match fixup {
                Fixup::Jwt | Fixup::RefreshToken => true,
                Fixup::Float { .. } => floats,
                Fixup::Groups { .. } => groups,
            };
            if wanted {
                let mut at = vec![Json::String(key.to_string())];
                self.fix_at(&mut v, path, fixup, &mut at, errors, issued)?;
            }
        }
        // The tokens read for the cookies leave the response: the client did not ask for them.
        let session = match &mut v {
            Json::Object(payload) => payload.remove(SESSION_KEY),
            _ => None,
        };
        // With the refresh cookie, a result that should carry a refresh token and carries none
        // (a spent, stolen or unknown refresh token, wrong credentials) is a field error with
        // the field null: token-refresh client links read a null field as "sign in again". The
        // transaction has committed all the same (a revoked family stays revoked).
        let refresh_row = fixups
            .iter()
            .any(|(p, f)| *f == Fixup::RefreshToken && p.len() == 2 && p[0] == SESSION_KEY);
        if self.auth.refresh_cookie_enabled()
            && refresh_row
            && session.is_some()
            && issued.refresh.is_none()
        {
            return Err(AuthError::SessionRefused);
        }
        Ok(v.to_string())
    }

    /// Signs `claims` (with the request's fingerprint), once per response for the same claims.
    fn sign_once(
        &self,
        claims: &mut serde_json::Map<String, Json>,
        issued: &mut Issued,
    ) -> Result<(String, f64), AuthError> {
        if self.auth.fingerprint_enabled() {
            // One fingerprint per browser session: the request's (its valid cookie, or a new
            // one made before the statements ran), or a new one for a query that signs.
            if issued.fingerprint.is_none() {
                issued.fingerprint = Some((Fingerprint::generate()?, 0.0));
            }
            let hash = issued.fingerprint.as_ref().map(|(f, _)| f.hash.clone());
            claims.insert(FINGERPRINT_CLAIM.into(), hash.into());
        }
        let key = Json::Object(claims.clone()).to_string();
        if let Some((_, token, exp)) = issued.signed.iter().find(|(k, _, _)| *k == key) {
            return Ok((token.clone(), *exp));
        }
        let (token, exp) = self.auth.sign_with_exp(claims)?;
        if let Some((_, latest)) = &mut issued.fingerprint {
            *latest = latest.max(exp);
        }
        issued.signed.push((key, token.clone(), exp));
        Ok((token, exp))
    }

    /// Applies `fixup` below `v` along `path`; `at` is the response path so far. Returns
    /// whether `v` must be replaced by null in its parent (a non-null float that was not one).
    fn fix_at(
        &self,
        v: &mut Json,
        path: &[String],
        fixup: &Fixup,
        at: &mut Vec<Json>,
        errors: &mut Vec<Json>,
        issued: &mut Issued,
    ) -> Result<bool, AuthError> {
        match path.split_first() {
            None => match fixup {
                Fixup::Jwt => {
                    match v {
                        // A row whose attributes are all null is "no token" (a failed sign-in,
                        // a sign-out).
                        Json::Object(claims) if claims.values().all(Json::is_null) => {
                            *v = Json::Null;
                            issued.cleared = true;
                            issued.signed_out |= signs_out(at);
                        }
                        Json::Object(claims) => {
                            let (token, exp) = self.sign_once(claims, issued)?;
                            *v = Json::String(token.clone());
                            issued.token = Some((token, exp));
                        }
                        Json::Null => {
                            issued.cleared = true;
                            issued.signed_out |= signs_out(at);
                        }
                        _ => {}
                    }
                    Ok(false)
                }
                Fixup::RefreshToken => {
                    match v {
                        // Empty: SQL says the refresh token is no more (refused, revoked).
                        Json::String(token) if token.is_empty() => {
                            issued.refresh_cleared = true;
                            *v = Json::Null;
                        }
                        Json::String(token) => {
                            issued.refresh = Some(token.clone());
                            // Carried by the cookie only: no script ever reads it.
                            if self.auth.refresh_cookie_enabled() {
                                *v = Json::Null;
                            }
                        }
                        _ => {}
                    }
                    Ok(false)
                }
                Fixup::Float { non_null } => {
                    let Json::String(s) = v else {
                        return Ok(false);
                    };
                    let message = format!(
                        "Float cannot represent non numeric value: {}",
                        Json::String(std::mem::take(s))
                    );
                    errors.push(error_json(&message, &[], at, NON_FINITE_FLOAT, None));
                    *v = Json::Null;
                    Ok(*non_null)
                }
                Fixup::Groups { cap } => {
                    if v.as_str() != Some(TOO_MANY_GROUPS) {
                        return Ok(false);
                    }
                    let message = format!(
                        "groupedAggregates has more than {cap} groups, the most one may return \
                         (--max-groups); narrow them with a condition, a filter or having"
                    );
                    errors.push(error_json(&message, &[], at, TOO_MANY_GROUPS, None));
                    *v = Json::Null;
                    Ok(true)
                }
            },
            // The row that would hold the tokens is null (wrong credentials, a refused refresh):
            // no session was given, and none is taken away: the browser's cookies stay, so a
            // failed attempt in one tab never signs the others out. (SQL clears the refresh
            // cookie by returning a row whose refresh token is null.)
            Some(_) if v.is_null() && matches!(fixup, Fixup::Jwt | Fixup::RefreshToken) => {
                Ok(false)
            }
            Some((head, rest)) if head == "[]" => {
                if let Json::Array(items) = v {
                    for (i, item) in items.iter_mut().enumerate() {
                        at.push(i.into());
                        if self.fix_at(item, rest, fixup, at, errors, issued)? {
                            *item = Json::Null;
                        }
                        at.pop();
                    }
                }
                Ok(false)
            }
            Some((head, rest)) => {
                let Some(child) = v.get_mut(head.as_str()) else {
                    return Ok(false);
                };
                at.push(Json::String(head.clone()));
                let null_me = self.fix_at(child, rest, fixup, at, errors, issued)?;
                at.pop();
                // The object holding a non-null field that failed becomes null: rows are
                // nullable wherever they appear.
                if null_me {
                    *v = Json::Null;
                }
                Ok(false)
            }
        }
    }
}

/// JSON text without the whitespace outside strings that Postgres' builders put in
/// (`json_build_object` writes `{"id" : 1}`, a json value keeps its own spacing): compact, as
/// v4 sends it, every number's digits untouched. One pass: a string is skipped to its closing
/// quote with `memchr` (a byte-by-byte look at short strings first cost more on a 20-post
/// list), and the text between two dropped whitespace bytes is copied as one run; a text with
/// none is returned as it is.
pub(super) fn compact(json: String) -> String {
    let bytes = json.as_bytes();
    let mut out: Option<String> = None;
    let (mut at, mut copied) = (0, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                // To the closing quote, stepping over escapes (`\"`, `\\`).
                at += 1;
                loop {
                    let rest = &bytes[at.min(bytes.len())..];
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(k) if rest[k] == b'\\' => at += k + 2,
                        Some(k) => {
                            at += k + 1;
                            break;
                        }
                        None => {
                            at = bytes.len();
                            break;
                        }
                    }
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                // Runs end at ASCII whitespace, so they are whole characters.
                out.get_or_insert_with(|| String::with_capacity(json.len()))
                    .push_str(&json[copied..at]);
                at += 1;
                copied = at;
            }
            _ => at += 1,
        }
    }
    match out {
        Some(mut out) => {
            out.push_str(&json[copied.min(json.len())..]);
            out
        }
        None => json,
    }
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn compacts_outside_strings_only() {
        let loose =
            r#"{"id" : 1, "js" : {"a": [1, 2.50, 12345678901234567890]}, "s" : "a \" b , c"}"#;
        assert_eq!(
            compact(loose.to_string()),
            r#"{"id":1,"js":{"a":[1,2.50,12345678901234567890]},"s":"a \" b , c"}"#
        );
        let tight = r#"{"a":"x y"}"#;
        assert_eq!(compact(tight.to_string()), tight);
        // Escapes at a string's end, an escaped backslash before the closing quote, text that
        // is not JSON at all (cut short): never a panic, whitespace in strings kept.
        assert_eq!(
            compact(r#"[ "a\\" , "b\"" , "c d" ]"#.to_string()),
            r#"["a\\","b\"","c d"]"#
        );
        assert_eq!(compact(r#" "ab\"#.to_string()), r#""ab\"#);
        assert_eq!(
            compact(r#"{"x" : "unterminated "#.to_string()),
            r#"{"x":"unterminated "#
        );
        assert_eq!(compact("\n\t 1 \r".to_string()), "1");
        // A backslash before a multi-byte character, a long string past the plain look.
        assert_eq!(compact("[\"\\é\" , 1]".to_string()), "[\"\\é\",1]");
        let long = format!(r#"{{"k" : "{} \" {}"}}"#, "x ".repeat(40), "y ".repeat(40));
        assert_eq!(compact(long.clone()), long.replacen(" : ", ":", 1));
    }
}
