//! Stable fingerprints of configuration, so every stored result can name exactly the
//! configuration that produced it (provenance), even when someone edited a file without
//! bumping its `version`.

use serde::Serialize;

/// 16 hex digits of FNV-1a (64-bit) over the value's canonical JSON. Not cryptographic:
/// it identifies a configuration, it does not protect one. FNV is a few lines, so no
/// hashing crate is pulled in for it.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    // Serialising plain configuration structs cannot fail; if it ever did, hashing the
    // error text still yields a stable (if less useful) id rather than a panic.
    let canonical = serde_json::to_string(value).unwrap_or_else(|e| e.to_string());
    format!("{:016x}", fnv1a64(canonical.as_bytes()))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint(&"a"), format!("{:016x}", fnv1a64(b"\"a\"")));
    }
}
