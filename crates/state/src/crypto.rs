//! Secrets at rest: XChaCha20-Poly1305 with a random 24-byte nonce per value.
//!
//! A sealed blob is `nonce || ciphertext+tag`. The associated data names
//! what the blob holds (`instance`, `output`, `history`, `key-check`), so a
//! blob copied into another column does not decrypt.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::StateError;

const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// The plaintext sealed into `state_keys.check` to recognise a key.
pub(crate) const KEY_CHECK: &[u8] = b"meshform state key check v1";

/// A 256-bit key for secrets at rest.
#[derive(Clone)]
pub struct StateKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

impl StateKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<StateKey, StateError> {
        let cipher = XChaCha20Poly1305::new_from_slice(bytes)
            .map_err(|_| StateError::InvalidKey { len: bytes.len() })?;
        Ok(StateKey { cipher })
    }

    /// A key written as 64 hex digits or as base64 of 32 bytes (what
    /// `openssl rand -base64 32` prints).
    pub fn parse(text: &str) -> Result<StateKey, StateError> {
        let text = text.trim();
        if text.len() == KEY_LEN * 2 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            let bytes: Vec<u8> = (0..KEY_LEN)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<_, _>>()
                .map_err(|_| StateError::InvalidKey { len: text.len() })?;
            return StateKey::from_bytes(&bytes);
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
            .map_err(|_| StateError::InvalidKey { len: text.len() })?;
        StateKey::from_bytes(&bytes)
    }

    pub(crate) fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce = XNonce::generate();
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption only fails for messages beyond 256 GiB.
        let ciphertext = self.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&ciphertext);
        out
    }

    /// `None` when the blob was not sealed with this key for this context.
    pub(crate) fn open(&self, context: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).ok()?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = StateKey::parse(&"ab".repeat(32)).unwrap();
        let other = StateKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
        let sealed = key.seal("instance", b"hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(key.open("instance", &sealed).unwrap(), b"hunter2");
        assert!(key.open("output", &sealed).is_none());
        assert!(other.open("instance", &sealed).is_none());
    }

    #[test]
    fn keys_must_be_32_bytes() {
        for bad in ["", "short", "abcd", &"ab".repeat(31)] {
            assert!(StateKey::parse(bad).is_err(), "{bad}");
        }
    }
}
