//! The OWASP token-sidejacking fingerprint (`--jwt-fingerprint`): at signing, a random value
//! goes into a hardened cookie and its SHA-256 (hex) into the token as `fgp`; a token is then
//! accepted only from a request carrying the cookie whose hash it names, so a token stolen
//! without the cookie (an XSS reading storage, a log) is useless.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Auth, AuthError, Claims};

/// The claim holding the fingerprint's hash.
pub const FINGERPRINT_CLAIM: &str = "fgp";

/// A fresh fingerprint: the cookie's value and the hash that goes into the token.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    pub value: String,
    pub hash: String,
}

impl Fingerprint {
    /// 32 random bytes from the operating system, hex-encoded.
    pub fn generate() -> Result<Self, AuthError> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| AuthError::Sign(format!("no randomness for the fingerprint: {e}")))?;
        let value = hex(&bytes);
        let hash = hash(&value);
        Ok(Fingerprint { value, hash })
    }

    /// The browser's fingerprint: its cookie's value when it is one this server could have
    /// made (64 hex digits), else a new one. One fingerprint per browser session, not per
    /// token: every tab of a browser shares the cookie, so every token it is given must name
    /// the same one.
    pub fn reuse_or_generate(cookie: Option<&str>) -> Result<Self, AuthError> {
        match cookie {
            Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let value = v.to_ascii_lowercase();
                let hash = hash(&value);
                Ok(Fingerprint { value, hash })
            }
            _ => Self::generate(),
        }
    }
}

/// Hex SHA-256 of a fingerprint cookie's value.
fn hash(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Auth {
    /// Whether tokens carry a fingerprint (`--jwt-fingerprint`).
    pub fn fingerprint_enabled(&self) -> bool {
        self.fingerprint
    }

    /// With `--jwt-fingerprint`: the token's `fgp` must be the hash of the request's
    /// fingerprint cookie.
    pub fn check_fingerprint(
        &self,
        claims: &Claims,
        cookie: Option<&str>,
    ) -> Result<(), AuthError> {
        if !self.fingerprint {
            return Ok(());
        }
        let Some(cookie) = cookie else {
            return Err(AuthError::Fingerprint("the fingerprint cookie is missing"));
        };
        let Some(Value::String(expected)) = claims.get(FINGERPRINT_CLAIM) else {
            return Err(AuthError::Fingerprint("the token has no fgp claim"));
        };
        // Compared without an early exit: the time taken says nothing about the hash.
        let actual = hash(cookie);
        let same = actual.len() == expected.len()
            && actual
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(AuthError::Fingerprint(
                "it does not match the fingerprint cookie",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_random_and_hashed() {
        let a = Fingerprint::generate().unwrap();
        let b = Fingerprint::generate().unwrap();
        assert_ne!(a.value, b.value);
        assert_eq!(a.value.len(), 64);
        assert_eq!(a.hash, hash(&a.value));
        // A valid cookie is kept; anything else is replaced.
        assert_eq!(Fingerprint::reuse_or_generate(Some(&a.value)).unwrap(), a);
        for bad in [None, Some("short"), Some(&"z".repeat(64)[..])] {
            let fresh = Fingerprint::reuse_or_generate(bad).unwrap();
            assert_ne!(fresh, a);
            assert_eq!(fresh.value.len(), 64);
        }
        // SHA-256 of "abc", FIPS 180-2.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
