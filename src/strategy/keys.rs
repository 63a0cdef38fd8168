//! Signing keys for the JWT algorithms `jsonwebtoken` supports here.
//!
//! HS256 uses the configured secret. RS256 (2048-bit), ES256 (P-256) and
//! EdDSA (Ed25519) keys are generated from the operating system's CSPRNG
//! when a strategy is built, so once per run and strategy.

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand::RngCore;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

/// Algorithms a scenario can choose for `jwt` and its hybrids.
pub const ALGORITHMS: &[(&str, Algorithm)] = &[
    ("HS256", Algorithm::HS256),
    ("RS256", Algorithm::RS256),
    ("ES256", Algorithm::ES256),
    ("EdDSA", Algorithm::EdDSA),
];

/// Finds an algorithm by its JOSE name.
pub fn algorithm(name: &str) -> Option<Algorithm> {
    ALGORITHMS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// Names of the supported algorithms, comma-separated.
pub fn algorithm_names() -> String {
    ALGORITHMS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A key to sign with and the key to verify with.
pub struct KeyPair {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
}

/// Builds the keys for `algorithm`: HMAC from `secret`, others generated.
///
/// Panics only if the operating system's random number generator fails,
/// which leaves nothing sensible to do.
pub fn key_pair(algorithm: Algorithm, secret: &str) -> KeyPair {
    match algorithm {
        Algorithm::RS256 => {
            let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
                .expect("the OS random number generator works");
            let private_der = private
                .to_pkcs1_der()
                .expect("a generated RSA key encodes as PKCS#1");
            let public_der = private
                .to_public_key()
                .to_pkcs1_der()
                .expect("an RSA public key encodes as PKCS#1");
            KeyPair {
                encoding: EncodingKey::from_rsa_der(private_der.as_bytes()),
                decoding: DecodingKey::from_rsa_der(public_der.as_bytes()),
            }
        }
        Algorithm::ES256 => {
            let secret_key = loop {
                let mut bytes = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                // Fails only for the zero scalar or one above the group order.
                if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
                    break key;
                }
            };
            let private_der = secret_key
                .to_pkcs8_der()
                .expect("a P-256 key encodes as PKCS#8");
            let public = secret_key.public_key().to_sec1_bytes();
            KeyPair {
                encoding: EncodingKey::from_ec_der(private_der.as_bytes()),
                decoding: DecodingKey::from_ec_der(&public),
            }
        }
        Algorithm::EdDSA => {
            let mut seed = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut seed);
            let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
            let private_der = signing
                .to_pkcs8_der()
                .expect("an Ed25519 key encodes as PKCS#8");
            KeyPair {
                encoding: EncodingKey::from_ed_der(private_der.as_bytes()),
                decoding: DecodingKey::from_ed_der(signing.verifying_key().as_bytes()),
            }
        }
        _ => KeyPair {
            encoding: EncodingKey::from_secret(secret.as_bytes())
                .expect("the scenario parser rejects an empty secret"),
            decoding: DecodingKey::from_secret(secret.as_bytes())
                .expect("the scenario parser rejects an empty secret"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Header, Validation};

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for (name, algorithm) in ALGORITHMS {
            let keys = key_pair(*algorithm, "secret");
            let claims = serde_json::json!({ "sub": "1", "exp": 4_000_000_000u64 });
            let token =
                jsonwebtoken::encode(&Header::new(*algorithm), &claims, &keys.encoding).unwrap();
            let decoded = jsonwebtoken::decode::<serde_json::Value>(
                &token,
                &keys.decoding,
                &Validation::new(*algorithm),
            );
            assert!(decoded.is_ok(), "{name}: {decoded:?}");
        }
    }
}
