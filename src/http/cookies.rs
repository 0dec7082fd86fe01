//! Cookies and the browser-facing rules around them: reading the token cookie, the
//! `Set-Cookie` lines a token (or a sign-out) produces, the CSRF guard on cookie-authenticated
//! requests, and the check of `--cors-origin` values at startup.

use http::{header, HeaderMap, HeaderValue};

/// The stable code of a cookie-authenticated request refused by the CSRF guard (403).
pub const CSRF_CODE: &str = "CSRF_REJECTED";

/// Why a cookie-authenticated request is refused.
pub const CSRF_MESSAGE: &str = "a request authenticated by the token cookie must be a POST with \
     Content-Type: application/json (or send the token in an Authorization header)";

/// The fingerprint cookie: `__Host-` makes browsers keep it only when it is `Secure`,
/// `Path=/` and set without `Domain` (so no subdomain can plant or read one). Browsers refuse
/// that prefix without `Secure`, so with `--insecure-cookies` it is plain `fgp`.
pub fn fingerprint_cookie(opts: &super::HttpOptions) -> &'static str {
    if opts.insecure_cookies {
        "fgp"
    } else {
        "__Host-fgp"
    }
}

/// The refresh-token cookie (`--jwt-refresh-cookie`), `__Host-` for the same reasons as the
/// fingerprint cookie.
pub fn refresh_cookie(opts: &super::HttpOptions) -> &'static str {
    if opts.insecure_cookies {
        "refresh"
    } else {
        "__Host-refresh"
    }
}

/// The value of cookie `name` in the request's `Cookie` headers (the first one wins), if any
/// and not empty.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// Attributes shared by the cookies postgraph sets.
pub struct CookieAttrs {
    /// `Secure` (off only with `--insecure-cookies`, for local http).
    pub secure: bool,
    /// `Lax` for the token cookie, `Strict` for the fingerprint cookie.
    pub same_site: &'static str,
}

/// A `Set-Cookie` value: `value` with a lifetime of `max_age` seconds (None: a browser-session
/// cookie), `Path=/` and `HttpOnly` always.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, attrs: &CookieAttrs) -> String {
    let mut c = format!("{name}={value}");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c.push_str("; Path=/; HttpOnly");
    if attrs.secure {
        c.push_str("; Secure");
    }
    c.push_str("; SameSite=");
    c.push_str(attrs.same_site);
    c
}

/// Adds a `Set-Cookie` header (values are built from checked names and token characters).
pub fn append(headers: &mut HeaderMap, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Seconds from now until `exp` (0 when past).
pub fn max_age_until(exp: f64) -> u64 {
    let now = jsonwebtoken::get_current_timestamp() as f64;
    (exp - now).max(0.0) as u64
}

/// Whether the request's body is declared `application/json` (parameters ignored).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// A cookie name is an RFC 6265 token: visible ASCII without separators.
pub fn check_cookie_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'(' | b')'
                        | b'<'
                        | b'>'
                        | b'@'
                        | b','
                        | b';'
                        | b':'
                        | b'\\'
                        | b'"'
                        | b'/'
                        | b'['
                        | b']'
                        | b'?'
                        | b'='
                        | b'{'
                        | b'}'
                )
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--jwt-cookie `{name}` is not a valid cookie name (letters, digits and -_.!#$%&'*+^`|~)"
        ))
    }
}

/// An exact origin: `http(s)://host[:port]`, no path, no wildcard.
pub fn check_origin(origin: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--cors-origin `{origin}`: {why}"));
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return bad("must start with https:// or http://");
    };
    if rest.is_empty() {
        return bad("has no host");
    }
    if rest.contains('*') {
        return bad("wildcards are not allowed; name each origin");
    }
    if rest.contains(['/', '?', '#', ' ', ',']) || !rest.is_ascii() {
        return bad("must be scheme://host[:port] only, without a path or a trailing slash");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; jwt_x=2"));
        h.append(header::COOKIE, HeaderValue::from_static("jwt=tok; other=3"));
        assert_eq!(cookie(&h, "jwt"), Some("tok"));
        assert_eq!(cookie(&h, "a"), Some("1"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn origins_and_names_are_checked() {
        assert!(check_origin("https://app.example").is_ok());
        assert!(check_origin("http://localhost:3000").is_ok());
        for bad in [
            "*",
            "https://*.example",
            "app.example",
            "https://app.example/",
            "null",
            "https://",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
        assert!(check_cookie_name("jwt").is_ok());
        assert!(check_cookie_name("__Host-jwt").is_ok());
        for bad in ["", "a b", "a=b", "a;b"] {
            assert!(check_cookie_name(bad).is_err(), "{bad}");
        }
    }
}
