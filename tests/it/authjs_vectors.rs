//! Tokens made by the real Auth.js libraries decode with authcmp's codec,
//! and tokens authcmp makes follow the same encoding.

use authcmp::strategy::authjs_jwt::{Codec, JweOptions, SessionClaims, Version};
use authcmp::strategy::jose;
use authcmp::time::from_unix_seconds;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("../data/authjs-vectors.json")).unwrap()
}

fn codec_for(case: &serde_json::Value, secret: &str) -> Codec {
    let salt = case["salt"].as_str().unwrap();
    let (version, secure) = match salt {
        "" => (Version::V4, false),
        "authjs.session-token" => (Version::V5, false),
        "__Secure-authjs.session-token" => (Version::V5, true),
        other => panic!("unexpected salt {other}"),
    };
    Codec::new(JweOptions {
        version,
        secure,
        secret: secret.to_string(),
        ..JweOptions::default()
    })
}

#[test]
fn real_authjs_tokens_decode() {
    let vectors = vectors();
    let secret = vectors["secret"].as_str().unwrap();
    for case in vectors["cases"].as_array().unwrap() {
        let codec = codec_for(case, secret);
        let expected = &case["claims"];
        let at = from_unix_seconds(expected["iat"].as_i64().unwrap());
        let claims = codec
            .decode(case["token"].as_str().unwrap(), at)
            .unwrap_or_else(|e| panic!("{}: {e}", case["library"]));
        assert_eq!(claims.name.as_deref(), expected["name"].as_str());
        assert_eq!(claims.email.as_deref(), expected["email"].as_str());
        assert_eq!(claims.picture.as_deref(), expected["picture"].as_str());
        assert_eq!(claims.sub.as_deref(), expected["sub"].as_str());
        assert_eq!(claims.exp, expected["exp"].as_i64().unwrap());
        assert_eq!(claims.jti.as_deref(), expected["jti"].as_str());
    }
}

#[test]
fn real_tokens_reject_wrong_secret() {
    let vectors = vectors();
    for case in vectors["cases"].as_array().unwrap() {
        let codec = codec_for(case, "another-secret");
        let at = from_unix_seconds(case["claims"]["iat"].as_i64().unwrap());
        assert!(codec.decode(case["token"].as_str().unwrap(), at).is_err());
    }
}

#[test]
fn real_tokens_expire_after_tolerance() {
    // jose rejects once exp <= now - 15 s.
    let vectors = vectors();
    let secret = vectors["secret"].as_str().unwrap();
    let case = &vectors["cases"][0];
    let codec = codec_for(case, secret);
    let exp = case["claims"]["exp"].as_i64().unwrap();
    let token = case["token"].as_str().unwrap();
    assert!(codec.decode(token, from_unix_seconds(exp + 14)).is_ok());
    assert!(codec.decode(token, from_unix_seconds(exp + 15)).is_err());
}

#[test]
fn v5_header_matches_authjs() {
    // The real token's protected header is byte-for-byte what authcmp writes.
    let vectors = vectors();
    let secret = vectors["secret"].as_str().unwrap();
    let case = &vectors["cases"][0];
    let real_header = case["token"].as_str().unwrap().split('.').next().unwrap();
    let codec = codec_for(case, secret);
    let mut claims = SessionClaims {
        name: Some("Ada Lovelace".into()),
        email: None,
        picture: None,
        sub: Some("user-0001".into()),
        iat: None,
        nbf: None,
        exp: 0,
        jti: None,
    };
    let token = codec.encode(&mut claims, 0);
    assert_eq!(token.split('.').next().unwrap(), real_header);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(real_header).unwrap()).unwrap();
    let key = jose::derive_key_v5(
        secret.as_bytes(),
        "authjs.session-token",
        jose::Enc::A256CbcHs512,
    );
    assert_eq!(header["kid"].as_str().unwrap(), jose::thumbprint(&key));
    assert_eq!(header["kid"].as_str().unwrap().len(), 86);
}

#[test]
fn own_tokens_have_authjs_claim_order() {
    let codec = Codec::new(JweOptions::default());
    let profile = authcmp::store::Profile::generated(7, 0, 0);
    let mut claims = SessionClaims::for_profile(&profile);
    let token = codec.encode(&mut claims, 0);
    let payload = codec.decrypt(&token).unwrap();
    let text = String::from_utf8(payload).unwrap();
    let keys: Vec<&str> = [
        "\"name\"",
        "\"email\"",
        "\"picture\"",
        "\"sub\"",
        "\"iat\"",
        "\"exp\"",
        "\"jti\"",
    ]
    .into_iter()
    .collect();
    let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
    let mut sorted = positions.clone();
    sorted.sort_unstable();
    assert_eq!(positions, sorted, "{text}");
    // iat and exp are 30 days apart, in seconds.
    assert_eq!(claims.exp - claims.iat.unwrap(), 2_592_000);
}

#[test]
fn v4_tokens_use_gcm_without_kid() {
    let codec = Codec::new(JweOptions {
        version: Version::V4,
        ..JweOptions::default()
    });
    let mut claims = SessionClaims::for_profile(&authcmp::store::Profile::generated(1, 0, 0));
    let token = codec.encode(&mut claims, 0);
    let header = URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    assert_eq!(header, br#"{"alg":"dir","enc":"A256GCM"}"#);
    assert!(codec.decode(&token, 0).is_ok());
}
