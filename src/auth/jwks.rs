//! `--jwt-jwks-url`: verification keys from a JWKS document, a file or an `http://` URL, as
//! identity providers publish them.
//!
//! - The document is loaded at startup (a failure stops the server, like an unreadable PEM
//!   file) and kept for its `Cache-Control: max-age` (default [`DEFAULT_MAX_AGE_SECS`], held
//!   within [`MIN_MAX_AGE_SECS`]..=[`MAX_MAX_AGE_SECS`]); a file is re-read as often. Once
//!   stale it is re-fetched in the background while requests go on with the keys they have.
//! - A token whose `kid` names no key makes one re-fetch, at most once per cooldown
//!   (default [`DEFAULT_COOLDOWN_SECS`]): a provider that rotated its keys is followed within
//!   a request, and a stream of made-up kids costs the provider one request per cooldown.
//! - Single flight: one fetch at a time; requests with an unknown kid wait for the fetch under
//!   way and then look again; requests whose key is known never wait.
//! - A failed re-fetch keeps the keys already known (logged). Only signing keys (`use` absent
//!   or `sig`) of the kinds postgraph verifies are taken; a JWK `alg` narrows its key to that
//!   algorithm. Symmetric (`oct`) keys are never taken from a document.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::keys::{kind_of, VerifyKey};
use super::AuthError;

/// How long a document without `Cache-Control: max-age` is kept.
pub const DEFAULT_MAX_AGE_SECS: u64 = 600;
/// Shortest time a document is kept, whatever its `max-age` (`no-cache` and `max-age=0` too).
pub const MIN_MAX_AGE_SECS: u64 = 60;
/// Longest time a document is kept, whatever its `max-age`.
pub const MAX_MAX_AGE_SECS: u64 = 86_400;
/// Least time between two fetches caused by unknown kids.
pub const DEFAULT_COOLDOWN_SECS: u64 = 30;
/// A fetch that takes longer fails.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A larger document is refused (providers publish a handful of keys).
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Where the document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Http(String),
}

impl Source {
    /// `http://...` is fetched; `file://PATH` or a plain path is read. `https://` is refused:
    /// postgraph carries no TLS client (serve the document over loopback http or from a file).
    pub fn parse(spec: &str) -> Result<Source, AuthError> {
        let lower = spec.to_ascii_lowercase();
        if lower.starts_with("http://") {
            Ok(Source::Http(spec.to_owned()))
        } else if lower.starts_with("https://") {
            Err(AuthError::Config(format!(
                "--jwt-jwks-url {spec}: https is not supported (postgraph has no TLS client); \
                 give a file that a job keeps current, or an http:// URL on a trusted network"
            )))
        } else if lower.contains("://") && !lower.starts_with("file://") {
            Err(AuthError::Config(format!(
                "--jwt-jwks-url {spec}: expected a file path or an http:// URL"
            )))
        } else if spec.is_empty() {
            Err(AuthError::Config("--jwt-jwks-url is empty".into()))
        } else {
            Ok(Source::File(PathBuf::from(
                spec.strip_prefix("file://").unwrap_or(spec),
            )))
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Http(u) => u.clone(),
        }
    }
}

struct State {
    keys: Arc<Vec<VerifyKey>>,
    /// Bumped by every successful fetch; a request that saw an older one looks again.
    generation: u64,
    fresh_until: Instant,
    last_attempt: Option<Instant>,
}

/// The keys of a JWKS document, kept current.
pub(super) struct Jwks {
    source: Source,
    client: reqwest::Client,
    cooldown: Duration,
    state: RwLock<State>,
    /// Held for the whole of a fetch: at most one at a time.
    flight: tokio::sync::Mutex<()>,
    /// A background refresh of a stale document is under way.
    refreshing: AtomicBool,
}

impl Jwks {
    pub fn new(source: Source, cooldown_secs: u64) -> Result<Self, AuthError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| AuthError::Config(format!("JWKS client: {e}")))?;
        Ok(Jwks {
            source,
            client,
            cooldown: Duration::from_secs(cooldown_secs),
            state: RwLock::new(State {
                keys: Arc::new(vec![]),
                generation: 0,
                fresh_until: Instant::now(),
                last_attempt: None,
            }),
            flight: tokio::sync::Mutex::new(()),
            refreshing: AtomicBool::new(false),
        })
    }

    /// The keys known now.
    pub fn keys(&self) -> Arc<Vec<VerifyKey>> {
        self.state.read().expect("jwks state").keys.clone()
    }

    pub fn generation(&self) -> u64 {
        self.state.read().expect("jwks state").generation
    }

    /// Fetches the document now (startup): its errors are the caller's. The cooldown starts
    /// with the first re-fetch, so a key published just after startup is followed at once.
    pub async fn load(&self) -> Result<(), AuthError> {
        let _flight = self.flight.lock().await;
        self.fetch().await?;
        self.state.write().expect("jwks state").last_attempt = None;
        Ok(())
    }

    /// When the document is past its max-age, re-fetches it in the background.
    pub fn refresh_if_stale(self: &Arc<Self>) {
        let stale = Instant::now() >= self.state.read().expect("jwks state").fresh_until;
        if !stale || self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.refreshing.store(false, Ordering::Release);
            return;
        };
        let jwks = self.clone();
        runtime.spawn(async move {
            let _flight = jwks.flight.lock().await;
            // Another fetch (an unknown kid's) may have finished while this one waited.
            if Instant::now() >= jwks.state.read().expect("jwks state").fresh_until {
                let _ = jwks.fetch().await;
            }
            jwks.refreshing.store(false, Ordering::Release);
        });
    }

    /// A token named a kid no key has (the keys of `seen_generation` were searched). Returns
    /// whether there may be new keys to search: a fetch finished meanwhile, or this call
    /// fetched successfully. Fetches only when the cooldown since the last attempt is over.
    pub async fn refetch_for_unknown_kid(&self, seen_generation: u64) -> bool {
        let _flight = self.flight.lock().await;
        {
            let st = self.state.read().expect("jwks state");
            if st.generation != seen_generation {
                return true;
            }
            if st.last_attempt.is_some_and(|t| t.elapsed() < self.cooldown) {
                return false;
            }
        }
        self.fetch().await.is_ok()
    }

    /// One fetch; the caller holds `flight`. A failure keeps the keys known and is retried
    /// (by the next request) after the cooldown.
    async fn fetch(&self) -> Result<(), AuthError> {
        let started = Instant::now();
        self.state.write().expect("jwks state").last_attempt = Some(started);
        let result = self.read_document().await.and_then(|(body, max_age)| {
            let keys = parse_document(&body, &self.source.describe())?;
            Ok((keys, max_age))
        });
        let mut st = self.state.write().expect("jwks state");
        match result {
            Ok((keys, max_age)) => {
                tracing::info!(source = %self.source.describe(), keys = keys.len(), max_age_secs = max_age.as_secs(), "JWKS loaded");
                st.keys = Arc::new(keys);
                st.generation += 1;
                st.fresh_until = started + max_age;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(source = %self.source.describe(), error = %e, "JWKS fetch failed; the keys already known stay in use");
                st.fresh_until = started + self.cooldown;
                Err(e)
            }
        }
    }

    /// The document's bytes and how long to keep them.
    async fn read_document(&self) -> Result<(Vec<u8>, Duration), AuthError> {
        let bad =
            |why: String| AuthError::Config(format!("JWKS {}: {why}", self.source.describe()));
        match &self.source {
            Source::File(path) => {
                let body = tokio::fs::read(path)
                    .await
                    .map_err(|e| bad(format!("cannot read it ({e})")))?;
                if body.len() > MAX_DOCUMENT_BYTES {
                    return Err(bad(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
                }
                Ok((body, Duration::from_secs(DEFAULT_MAX_AGE_SECS)))
            }
            Source::Http(url) => {
                let mut response = self
                    .client
                    .get(url)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .map_err(|e| bad(format!("request failed ({e})")))?;
                if !response.status().is_success() {
                    return Err(bad(format!("answered HTTP {}", response.status())));
                }
                let max_age = response
                    .headers()
                    .get_all("cache-control")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(max_age_secs);
                let mut body = vec![];
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| bad(format!("reading the body failed ({e})")))?
                {
                    if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                        return Err(bad(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok((body, Duration::from_secs(keep_for(max_age))))
            }
        }
    }
}

/// The `max-age` of a `Cache-Control` value (`no-cache`/`no-store` count as 0).
fn max_age_secs(value: &str) -> Option<u64> {
    value.split(',').map(str::trim).find_map(|d| {
        let lower = d.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(0);
        }
        lower
            .strip_prefix("max-age=")?
            .trim_matches('"')
            .parse()
            .ok()
    })
}

/// How long to keep a document with this `max-age`.
fn keep_for(max_age: Option<u64>) -> u64 {
    max_age
        .unwrap_or(DEFAULT_MAX_AGE_SECS)
        .clamp(MIN_MAX_AGE_SECS, MAX_MAX_AGE_SECS)
}

/// The usable keys of a JWKS document; none usable at all is an error.
fn parse_document(body: &[u8], source: &str) -> Result<Vec<VerifyKey>, AuthError> {
    let bad = |why: &str| AuthError::Config(format!("JWKS {source}: {why}"));
    let doc: Value = serde_json::from_slice(body).map_err(|_| bad("not JSON"))?;
    let Some(entries) = doc.get("keys").and_then(Value::as_array) else {
        return Err(bad("no \"keys\" array"));
    };
    let mut keys = vec![];
    for (i, entry) in entries.iter().enumerate() {
        let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("");
        match key_of(entry, source) {
            Ok(key) => keys.push(key),
            Err(why) => tracing::warn!(source, index = i, kid, "JWKS key skipped: {why}"),
        }
    }
    if keys.is_empty() {
        return Err(bad(
            "no usable signing key (RSA, EC P-256/P-384 or Ed25519)",
        ));
    }
    Ok(keys)
}

fn key_of(entry: &Value, source: &str) -> Result<VerifyKey, String> {
    if entry.get("kty").and_then(Value::as_str) == Some("oct") {
        return Err("symmetric keys are never taken from a JWKS document".into());
    }
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| format!("not a JWK ({e})"))?;
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err("not a signing key (`use` is not `sig`)".into());
    }
    let kind = kind_of(&jwk, source).map_err(|e| e.to_string())?;
    let only = match jwk.common.key_algorithm {
        None => None,
        Some(ka) => {
            let alg = Algorithm::try_from(ka)
                .map_err(|_| format!("`alg` {ka} is not a signing algorithm"))?;
            if !kind.algorithms().contains(&alg) {
                return Err(format!("`alg` {ka} does not suit a {kind:?} key"));
            }
            Some(alg)
        }
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable ({:?})", e.into_kind()))?;
    Ok(VerifyKey {
        kid: jwk.common.key_id,
        kind,
        only,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age_is_read_and_bounded() {
        assert_eq!(
            max_age_secs("public, max-age=300, must-revalidate"),
            Some(300)
        );
        assert_eq!(max_age_secs("Max-Age=\"15\""), Some(15));
        assert_eq!(max_age_secs("no-store"), Some(0));
        assert_eq!(max_age_secs("public"), None);
        assert_eq!(keep_for(Some(300)), 300);
        assert_eq!(keep_for(Some(0)), MIN_MAX_AGE_SECS);
        assert_eq!(keep_for(Some(10_000_000)), MAX_MAX_AGE_SECS);
        assert_eq!(keep_for(None), DEFAULT_MAX_AGE_SECS);
    }

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("http://idp:8080/jwks").unwrap(),
            Source::Http("http://idp:8080/jwks".into())
        );
        assert_eq!(
            Source::parse("file:///etc/jwks.json").unwrap(),
            Source::File("/etc/jwks.json".into())
        );
        assert_eq!(
            Source::parse("keys/jwks.json").unwrap(),
            Source::File("keys/jwks.json".into())
        );
        assert!(Source::parse("https://idp/jwks").is_err());
        assert!(Source::parse("ftp://idp/jwks").is_err());
    }

    #[test]
    fn documents_keep_signing_keys_of_known_kinds_only() {
        let doc = br#"{"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed", "use": "sig"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "enc", "use": "enc"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "rs", "alg": "RS256"},
            {"kty": "weird"}
        ]}"#;
        let keys = parse_document(doc, "test").unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, [Some("ed")]);
        assert!(parse_document(br#"{"keys": []}"#, "test").is_err());
        assert!(parse_document(b"[]", "test").is_err());
    }
}
