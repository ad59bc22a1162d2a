//! AES-256-GCM for encrypted backup files: the key as an operator gives it
//! (hex or base64), the framings backups write around the ciphertext, and
//! decryption that checks the authentication tag before anything is used.
//!
//! Shared by the `file.decrypt` step and the simulated world, which
//! encrypts its sandbox snapshots with the same framing.

use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Tag};
use base64::Engine;
use zeroize::Zeroizing;

/// Bytes of an AES-256 key.
pub const KEY_BYTES: usize = 32;
/// Bytes of a GCM authentication tag.
pub const TAG_BYTES: usize = 16;

/// How an encrypted file lays out the IV, the tag and the ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A 16-byte IV, the 16-byte tag, then the ciphertext (Node's
    /// `createCipheriv('aes-256-gcm', key, randomBytes(16))` output
    /// written as IV + `getAuthTag()` + ciphertext).
    Iv16Tag16Ciphertext,
    /// A 12-byte IV, the ciphertext, then the 16-byte tag (what most
    /// libraries' one-shot `seal` gives, with the nonce in front).
    Iv12CiphertextTag16,
}

impl Layout {
    /// Bytes of the IV.
    pub fn iv_bytes(self) -> usize {
        match self {
            Layout::Iv16Tag16Ciphertext => 16,
            Layout::Iv12CiphertextTag16 => 12,
        }
    }

    /// The name runbooks use.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Iv16Tag16Ciphertext => "iv16-tag16-ciphertext",
            Layout::Iv12CiphertextTag16 => "iv12-ciphertext-tag16",
        }
    }
}

/// Why a key cannot be used. The messages never show the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty after trimming.
    #[error("the key is empty; give the 32-byte key as 64 hex digits or in base64")]
    Empty,
    /// Neither hex nor base64.
    #[error(
        "the key is neither hex nor base64 ({chars} characters); give the 32-byte key as 64 hex digits or in base64 (44 characters with padding)"
    )]
    Encoding {
        /// Its length in characters.
        chars: usize,
    },
    /// Decoded, but not 32 bytes.
    #[error(
        "the key decodes ({encoding}) to {bytes} bytes; AES-256 needs {KEY_BYTES} bytes (64 hex digits, or 44 base64 characters)"
    )]
    Length {
        /// `hex` or `base64`.
        encoding: &'static str,
        /// Bytes decoded.
        bytes: usize,
    },
}

/// Why a file cannot be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Shorter than the IV and tag alone.
    #[error(
        "it is {bytes} bytes, shorter than the {header} bytes of IV and tag that layout {} puts around the ciphertext: the file is truncated or not an encrypted backup",
        .layout.name()
    )]
    Short {
        /// Its size.
        bytes: usize,
        /// IV plus tag.
        header: usize,
        /// The layout.
        layout: Layout,
    },
    /// The tag does not match: wrong key, corrupt or truncated file, or
    /// another layout.
    #[error(
        "authentication failed (AES-256-GCM tag mismatch, layout {}): the key is wrong, or the file is corrupt, truncated or framed another way",
        .layout.name()
    )]
    Authentication {
        /// The layout tried.
        layout: Layout,
    },
}

/// Reads a key written as 64 hex digits or as base64 (standard or URL-safe,
/// padded or not). Surrounding whitespace is ignored; an even number of hex
/// digits and nothing else is read as hex.
pub fn parse_key(text: &str) -> Result<Zeroizing<[u8; KEY_BYTES]>, KeyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    // Hex digits only, an even number: hex. (Base64 of 32 bytes is 43
    // characters unpadded or ends in `=`, so it never looks like this.)
    let hexish = text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit());
    let (decoded, encoding) = if hexish {
        (Zeroizing::new(hex::decode(text).unwrap_or_default()), "hex")
    } else {
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        match engines.iter().find_map(|e| e.decode(text).ok()) {
            Some(bytes) => (Zeroizing::new(bytes), "base64"),
            None => return Err(KeyError::Encoding { chars: text.len() }),
        }
    };
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    if decoded.len() != KEY_BYTES {
        return Err(KeyError::Length {
            encoding,
            bytes: decoded.len(),
        });
    }
    key.copy_from_slice(&decoded);
    Ok(key)
}

/// Decrypts `data` (framed as `layout` says) in place and returns the
/// plaintext; nothing is returned unless the tag matches.
pub fn decrypt(
    key: &[u8; KEY_BYTES],
    layout: Layout,
    data: Vec<u8>,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let mut data = Zeroizing::new(data);
    let iv = layout.iv_bytes();
    let header = iv + TAG_BYTES;
    if data.len() < header {
        return Err(DecryptError::Short {
            bytes: data.len(),
            header,
            layout,
        });
    }
    let failed = |_| DecryptError::Authentication { layout };
    let key = Array::from(*key);
    match layout {
        Layout::Iv16Tag16Ciphertext => {
            let (head, body) = data.split_at_mut(header);
            let nonce = Array::<u8, U16>::try_from(&head[..iv]).map_err(|_| failed(()))?;
            let tag = Tag::<U16>::try_from(&head[iv..]).map_err(|_| failed(()))?;
            AesGcm::<Aes256, U16>::new(&key)
                .decrypt_inout_detached(&nonce, &[], body.into(), &tag)
                .map_err(|_| failed(()))?;
            data.drain(..header);
        }
        Layout::Iv12CiphertextTag16 => {
            let end = data.len() - TAG_BYTES;
            let (head, rest) = data.split_at_mut(iv);
            let (body, tag) = rest.split_at_mut(end - iv);
            let nonce = Array::<u8, U12>::try_from(&*head).map_err(|_| failed(()))?;
            let tag = Tag::<U16>::try_from(&*tag).map_err(|_| failed(()))?;
            AesGcm::<Aes256, U12>::new(&key)
                .decrypt_inout_detached(&nonce, &[], body.into(), &tag)
                .map_err(|_| failed(()))?;
            data.truncate(end);
            data.drain(..iv);
        }
    }
    Ok(data)
}

/// Encrypts `plaintext` with `iv` (as many bytes as `layout` wants) and
/// frames it as `layout` says. For the simulated world and tests; a real
/// backup chooses a random IV for every file.
pub fn encrypt(key: &[u8; KEY_BYTES], layout: Layout, iv: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = Array::from(*key);
    let mut body = plaintext.to_vec();
    let mut out = Vec::with_capacity(iv.len() + TAG_BYTES + body.len());
    match layout {
        Layout::Iv16Tag16Ciphertext => {
            let mut nonce = Array::<u8, U16>::default();
            nonce.copy_from_slice(&iv[..16]);
            // Encryption only fails for inputs over 64 GiB.
            let tag = AesGcm::<Aes256, U16>::new(&key)
                .encrypt_inout_detached(&nonce, &[], body.as_mut_slice().into())
                .unwrap_or_default();
            out.extend_from_slice(&nonce);
            out.extend_from_slice(&tag);
            out.extend_from_slice(&body);
        }
        Layout::Iv12CiphertextTag16 => {
            let mut nonce = Array::<u8, U12>::default();
            nonce.copy_from_slice(&iv[..12]);
            let tag = AesGcm::<Aes256, U12>::new(&key)
                .encrypt_inout_detached(&nonce, &[], body.as_mut_slice().into())
                .unwrap_or_default();
            out.extend_from_slice(&nonce);
            out.extend_from_slice(&body);
            out.extend_from_slice(&tag);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn both_layouts_round_trip_and_a_flipped_bit_fails_authentication() {
        for layout in [Layout::Iv16Tag16Ciphertext, Layout::Iv12CiphertextTag16] {
            let iv = [9u8; 16];
            let sealed = encrypt(&KEY, layout, &iv[..layout.iv_bytes()], b"vault snapshot");
            assert_eq!(sealed.len(), layout.iv_bytes() + 16 + 14);
            let plain = decrypt(&KEY, layout, sealed.clone()).unwrap();
            assert_eq!(plain.as_slice(), b"vault snapshot");
            let mut bad = sealed.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert_eq!(
                decrypt(&KEY, layout, bad).unwrap_err(),
                DecryptError::Authentication { layout }
            );
            assert!(decrypt(&[8; 32], layout, sealed).is_err());
        }
        let e = decrypt(&KEY, Layout::Iv16Tag16Ciphertext, vec![0; 31]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("it is 31 bytes, shorter than the 32 bytes"),
            "{e}"
        );
    }

    #[test]
    fn a_key_is_hex_or_base64_of_32_bytes_and_errors_never_show_it() {
        let hex_key = "00".repeat(16) + &"ff".repeat(16);
        assert_eq!(parse_key(&hex_key).unwrap()[31], 0xff);
        let b64 = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
        assert_eq!(*parse_key(&format!(" {b64}\n")).unwrap(), [5u8; 32]);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb; 32]);
        assert_eq!(*parse_key(&url).unwrap(), [0xfb; 32]);
        assert_eq!(parse_key("  ").unwrap_err(), KeyError::Empty);
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        let e = parse_key(&short).unwrap_err();
        assert_eq!(
            e,
            KeyError::Length {
                encoding: "base64",
                bytes: 16
            }
        );
        assert!(!e.to_string().contains(&short));
        assert_eq!(
            parse_key(&"ab".repeat(16)).unwrap_err(),
            KeyError::Length {
                encoding: "hex",
                bytes: 16
            }
        );
        let e = parse_key("not a key!").unwrap_err();
        assert!(!e.to_string().contains("not a key"), "{e}");
    }
}
