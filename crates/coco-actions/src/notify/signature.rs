//! Webhook signatures: HMAC-SHA256 over `"{timestamp}.{body}"`.
//!
//! The timestamp is inside the signed bytes so that a captured request cannot be
//! replayed later with a fresh `X-Coco-Timestamp`; `verify` then bounds its age.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "sha256=";

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// HMAC-SHA256 over `"{timestamp}.{body}"` as lowercase hex — the hex of the
/// `X-Coco-Signature: sha256=<hex>` header.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    let mut hex = String::with_capacity(tag.len() * 2);
    for byte in tag {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `header` (`sha256=<hex>`) is the signature of `body` at `timestamp`, and
/// `timestamp` is within `tolerance_secs` of `now` (either side: a receiver's clock may
/// be behind the sender's). The comparison of the tags is constant-time.
pub fn verify(
    secret: &[u8],
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let fresh = now
        .checked_sub(timestamp)
        .and_then(i64::checked_abs)
        .is_some_and(|age| age <= tolerance_secs);
    if !fresh {
        return false;
    }
    let Some(tag) = header.trim().strip_prefix(PREFIX).and_then(decode_hex) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&tag).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed with Python:
    // hmac.new(b'whsec_test', b'1767225600.{"text":"Acme Corp health fell to 41"}',
    //          hashlib.sha256).hexdigest()
    const SECRET: &[u8] = b"whsec_test";
    const TS: i64 = 1_767_225_600;
    const BODY: &[u8] = br#"{"text":"Acme Corp health fell to 41"}"#;
    const HEX_SIG: &str = "c1357041d74ce808a0e7a4b0737bf1dc3c52bfa304c8990cd9dc04e9382cf962";

    #[test]
    fn sign_matches_a_known_vector() {
        assert_eq!(sign(SECRET, TS, BODY), HEX_SIG);
        // hmac.new(b'', b'0.', hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"", 0, b""),
            "b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"
        );
    }

    #[test]
    fn verify_accepts_the_signature_within_tolerance() {
        let header = format!("sha256={HEX_SIG}");
        assert!(verify(SECRET, TS, BODY, &header, TS, 300));
        assert!(verify(SECRET, TS, BODY, &header, TS + 300, 300));
        assert!(
            verify(SECRET, TS, BODY, &header, TS - 300, 300),
            "receiver clock behind"
        );
        assert!(verify(
            SECRET,
            TS,
            BODY,
            &header.to_uppercase().replace("SHA256", "sha256"),
            TS,
            300
        ));
    }

    #[test]
    fn verify_refuses_tampering_and_replays() {
        let header = format!("sha256={HEX_SIG}");
        assert!(!verify(
            SECRET,
            TS,
            br#"{"text":"Acme Corp health fell to 14"}"#,
            &header,
            TS,
            300
        ));
        assert!(!verify(b"other", TS, BODY, &header, TS, 300));
        assert!(
            !verify(SECRET, TS + 1, BODY, &header, TS + 1, 300),
            "timestamp is signed"
        );
        assert!(!verify(SECRET, TS, BODY, &header, TS + 301, 300), "too old");
        assert!(
            !verify(SECRET, TS, BODY, &header, TS - 301, 300),
            "too far ahead"
        );
        assert!(
            !verify(SECRET, TS, BODY, HEX_SIG, TS, 300),
            "prefix required"
        );
        assert!(!verify(SECRET, TS, BODY, "sha256=", TS, 300));
        assert!(!verify(SECRET, TS, BODY, "sha256=zz", TS, 300));
        assert!(
            !verify(SECRET, TS, BODY, &header[..header.len() - 2], TS, 300),
            "truncated"
        );
        assert!(
            !verify(SECRET, i64::MIN, BODY, &header, i64::MAX, i64::MAX),
            "no overflow"
        );
        assert!(
            !verify(SECRET, TS, BODY, &header, TS, -1),
            "negative tolerance"
        );
    }

    #[test]
    fn hex_decoding_round_trips() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("é0"), None);
    }
}
