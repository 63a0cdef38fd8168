//! JWE compact serialization with direct encryption, as Auth.js encodes its
//! session tokens through `jose`.
//!
//! Two content encryptions are supported (RFC 7518 §5.2.5 and §5.3):
//! `A256CBC-HS512` with a 64-byte key (Auth.js v5) and `A256GCM` with a
//! 32-byte key (next-auth v4). Keys come from HKDF-SHA256 of the secret with
//! the salt and info strings each version uses, and v5 names its key with
//! the RFC 7638 SHA-512 thumbprint of the key as a JWK.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256, Sha512};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// A JWE content encryption algorithm (`enc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    A256CbcHs512,
    A256Gcm,
}

impl Enc {
    pub fn name(self) -> &'static str {
        match self {
            Enc::A256CbcHs512 => "A256CBC-HS512",
            Enc::A256Gcm => "A256GCM",
        }
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Enc::A256CbcHs512 => 64,
            Enc::A256Gcm => 32,
        }
    }

    fn from_name(name: &str) -> Option<Enc> {
        match name {
            "A256CBC-HS512" => Some(Enc::A256CbcHs512),
            "A256GCM" => Some(Enc::A256Gcm),
            _ => None,
        }
    }
}

/// Why a JWE could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    #[error("not a JWE in compact form: expected 5 segments, found {0}")]
    Segments(usize),
    #[error("segment {0} is not valid base64url")]
    Base64(&'static str),
    #[error("protected header is not a JSON object")]
    Header,
    #[error("protected header is not valid JSON: {0}")]
    HeaderJson(String),
    #[error("unsupported key management algorithm {0:?}; expected \"dir\"")]
    Alg(String),
    #[error("content encryption {0:?} is not accepted")]
    Enc(String),
    #[error("encrypted key must be empty for \"dir\"")]
    EncryptedKey,
    #[error("no matching decryption secret for kid {0:?}")]
    Kid(String),
    #[error("initialization vector has the wrong length")]
    Iv,
    #[error("authentication tag has the wrong length")]
    TagLength,
    #[error("decryption failed: authentication tag mismatch")]
    Tag,
    #[error("decryption failed: bad padding")]
    Padding,
}

/// Derives an Auth.js v5 encryption key: HKDF-SHA256 of the secret with the
/// cookie name as salt and `Auth.js Generated Encryption Key (<salt>)` as
/// info, as long as `enc` needs.
pub fn derive_key_v5(secret: &[u8], salt: &str, enc: Enc) -> Vec<u8> {
    let info = format!("Auth.js Generated Encryption Key ({salt})");
    hkdf_sha256(secret, salt.as_bytes(), info.as_bytes(), enc.key_len())
}

/// Derives a next-auth v4 encryption key: HKDF-SHA256 with an empty salt,
/// info `NextAuth.js Generated Encryption Key`, 32 bytes.
pub fn derive_key_v4(secret: &[u8]) -> Vec<u8> {
    hkdf_sha256(secret, b"", b"NextAuth.js Generated Encryption Key", 32)
}

fn hkdf_sha256(secret: &[u8], salt: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let hkdf = Hkdf::<Sha256>::new(Some(salt), secret);
    let mut key = vec![0u8; len];
    hkdf.expand(info, &mut key)
        .expect("HKDF-SHA256 output of 32 or 64 bytes is within its limit");
    key
}

/// Computes the RFC 7638 thumbprint of a symmetric key as a JWK
/// (`{"k":...,"kty":"oct"}`), hashed with SHA-512 for a 64-byte key and
/// SHA-256 for a 32-byte key, as Auth.js v5 picks `sha<key bits>`.
pub fn thumbprint(key: &[u8]) -> String {
    let jwk = format!(r#"{{"k":"{}","kty":"oct"}}"#, URL_SAFE_NO_PAD.encode(key));
    if key.len() == 64 {
        URL_SAFE_NO_PAD.encode(Sha512::digest(jwk.as_bytes()))
    } else {
        URL_SAFE_NO_PAD.encode(Sha256::digest(jwk.as_bytes()))
    }
}

/// A key ready to encrypt with, and the protected header it goes with.
#[derive(Clone)]
pub struct ContentKey {
    pub enc: Enc,
    pub key: Vec<u8>,
    pub kid: Option<String>,
    header_b64: String,
}

impl ContentKey {
    /// Builds a key; `with_kid` adds the RFC 7638 thumbprint as `kid`.
    pub fn new(enc: Enc, key: Vec<u8>, with_kid: bool) -> Self {
        assert_eq!(
            key.len(),
            enc.key_len(),
            "key length must match {}",
            enc.name()
        );
        let kid = with_kid.then(|| thumbprint(&key));
        let header = match &kid {
            Some(kid) => format!(r#"{{"alg":"dir","enc":"{}","kid":"{kid}"}}"#, enc.name()),
            None => format!(r#"{{"alg":"dir","enc":"{}"}}"#, enc.name()),
        };
        ContentKey {
            enc,
            key,
            kid,
            header_b64: URL_SAFE_NO_PAD.encode(header),
        }
    }

    /// Encrypts `plaintext` into a JWE compact serialization with a fresh
    /// random IV.
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let aad = self.header_b64.as_bytes();
        let (iv, ciphertext, tag) = match self.enc {
            Enc::A256CbcHs512 => encrypt_cbc_hs512(&self.key, aad, plaintext),
            Enc::A256Gcm => encrypt_gcm(&self.key, aad, plaintext),
        };
        let mut out =
            String::with_capacity(self.header_b64.len() + 2 + ciphertext.len() * 4 / 3 + 64);
        out.push_str(&self.header_b64);
        out.push_str("..");
        URL_SAFE_NO_PAD.encode_string(iv, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(ciphertext, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut out);
        out
    }
}

fn encrypt_cbc_hs512(key: &[u8], aad: &[u8], plaintext: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (mac_key, enc_key) = key.split_at(32);
    let mut iv = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut iv);
    let ciphertext =
        Aes256CbcEnc::new(enc_key.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let tag = cbc_hs512_tag(mac_key, aad, &iv, &ciphertext);
    (iv.to_vec(), ciphertext, tag.to_vec())
}

/// Computes the first 32 bytes of HMAC-SHA-512 over `AAD || IV || ciphertext
/// || AL`, where AL is the AAD length in bits as a 64-bit big-endian number.
fn cbc_hs512_tag(mac_key: &[u8], aad: &[u8], iv: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha512> as Mac>::new_from_slice(mac_key).expect("HMAC takes any key length");
    mac.update(aad);
    mac.update(iv);
    mac.update(ciphertext);
    mac.update(&((aad.len() as u64) * 8).to_be_bytes());
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 32];
    tag.copy_from_slice(&full[..32]);
    tag
}

fn encrypt_gcm(key: &[u8], aad: &[u8], plaintext: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let cipher = Aes256Gcm::new_from_slice(key).expect("A256GCM key is 32 bytes");
    let mut iv = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut iv);
    let mut sealed = cipher
        .encrypt(
            &iv.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let tag = sealed.split_off(sealed.len() - 16);
    (iv.to_vec(), sealed, tag)
}

/// The parts of a compact JWE, with the protected header decoded.
pub struct ParsedJwe<'a> {
    pub header_b64: &'a str,
    pub alg: String,
    pub enc: String,
    pub kid: Option<String>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

/// Splits and decodes a compact JWE without decrypting it.
pub fn parse(token: &str) -> Result<ParsedJwe<'_>, JweError> {
    let segments: Vec<&str> = token.split('.').collect();
    if segments.len() != 5 {
        return Err(JweError::Segments(segments.len()));
    }
    let header = URL_SAFE_NO_PAD
        .decode(segments[0])
        .map_err(|_| JweError::Base64("protected header"))?;
    // RFC 7516 §4 and RFC 7515 §5.2: reject a header with a repeated member.
    super::strict_json::check_unique_keys(&header).map_err(JweError::HeaderJson)?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|_| JweError::Header)?;
    let header = header.as_object().ok_or(JweError::Header)?;
    let text = |key: &str| header.get(key).and_then(|v| v.as_str()).map(str::to_string);
    if !segments[1].is_empty() {
        return Err(JweError::EncryptedKey);
    }
    let decode = |index: usize, what: &'static str| {
        URL_SAFE_NO_PAD
            .decode(segments[index])
            .map_err(|_| JweError::Base64(what))
    };
    Ok(ParsedJwe {
        header_b64: segments[0],
        alg: text("alg").unwrap_or_default(),
        enc: text("enc").unwrap_or_default(),
        kid: text("kid"),
        iv: decode(2, "initialization vector")?,
        ciphertext: decode(3, "ciphertext")?,
        tag: decode(4, "authentication tag")?,
    })
}

/// Decrypts a parsed JWE with `key`, checking `alg` and that `enc` is one
/// of `accepted`. Returns the plaintext.
pub fn decrypt(jwe: &ParsedJwe<'_>, accepted: &[Enc], key: &[u8]) -> Result<Vec<u8>, JweError> {
    let enc = check_algorithms(jwe, accepted)?;
    if key.len() != enc.key_len() {
        return Err(JweError::Kid(jwe.kid.clone().unwrap_or_default()));
    }
    let aad = jwe.header_b64.as_bytes();
    match enc {
        Enc::A256CbcHs512 => {
            if jwe.iv.len() != 16 {
                return Err(JweError::Iv);
            }
            if jwe.tag.len() != 32 {
                return Err(JweError::TagLength);
            }
            let (mac_key, enc_key) = key.split_at(32);
            let expected = cbc_hs512_tag(mac_key, aad, &jwe.iv, &jwe.ciphertext);
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &jwe.tag[..])) {
                return Err(JweError::Tag);
            }
            let iv: [u8; 16] = jwe.iv[..].try_into().expect("length checked above");
            Aes256CbcDec::new(enc_key.into(), &iv.into())
                .decrypt_padded_vec_mut::<Pkcs7>(&jwe.ciphertext)
                .map_err(|_| JweError::Padding)
        }
        Enc::A256Gcm => {
            if jwe.iv.len() != 12 {
                return Err(JweError::Iv);
            }
            if jwe.tag.len() != 16 {
                return Err(JweError::TagLength);
            }
            let cipher = Aes256Gcm::new_from_slice(key).expect("A256GCM key is 32 bytes");
            let mut sealed = jwe.ciphertext.clone();
            sealed.extend_from_slice(&jwe.tag);
            let iv: [u8; 12] = jwe.iv[..].try_into().expect("length checked above");
            cipher
                .decrypt(&iv.into(), Payload { msg: &sealed, aad })
                .map_err(|_| JweError::Tag)
        }
    }
}

/// Checks `alg` is `dir` and `enc` is accepted, returning the `enc`.
pub fn check_algorithms(jwe: &ParsedJwe<'_>, accepted: &[Enc]) -> Result<Enc, JweError> {
    if jwe.alg != "dir" {
        return Err(JweError::Alg(jwe.alg.clone()));
    }
    match Enc::from_name(&jwe.enc) {
        Some(enc) if accepted.contains(&enc) => Ok(enc),
        _ => Err(JweError::Enc(jwe.enc.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_encodings() {
        for enc in [Enc::A256CbcHs512, Enc::A256Gcm] {
            let key = ContentKey::new(enc, vec![7u8; enc.key_len()], enc == Enc::A256CbcHs512);
            let token = key.encrypt(b"{\"sub\":\"1\"}");
            let parsed = parse(&token).unwrap();
            assert_eq!(
                decrypt(&parsed, &[enc], &key.key).unwrap(),
                b"{\"sub\":\"1\"}"
            );
        }
    }

    #[test]
    fn flipped_tag_is_rejected() {
        let key = ContentKey::new(Enc::A256CbcHs512, vec![1u8; 64], true);
        let token = key.encrypt(b"{}");
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut tag = URL_SAFE_NO_PAD.decode(&parts[4]).unwrap();
        tag[0] ^= 1;
        parts[4] = URL_SAFE_NO_PAD.encode(tag);
        let tampered = parts.join(".");
        let parsed = parse(&tampered).unwrap();
        assert_eq!(
            decrypt(&parsed, &[Enc::A256CbcHs512], &key.key),
            Err(JweError::Tag)
        );
    }

    #[test]
    fn cbc_ciphertext_length_follows_padding() {
        let key = ContentKey::new(Enc::A256CbcHs512, vec![1u8; 64], false);
        let token = key.encrypt(&[b'x'; 16]);
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.ciphertext.len(), 32);
        assert_eq!(parsed.tag.len(), 32);
        assert_eq!(parsed.iv.len(), 16);
    }
}
