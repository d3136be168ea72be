//! The one SHA-256 flowctl takes: lower-case hex of the digest's first bytes. It names files
//! (the token cache, the job journal, exported flows) and marks published content; none of
//! these is a security boundary, so a prefix is enough to keep names short.

use sha2::{Digest, Sha256};

/// Lower-case hex of the first `bytes` bytes (at most 32) of the SHA-256 of `data`: twice
/// as many characters as `bytes`.
pub(crate) fn sha256_hex(data: impl AsRef<[u8]>, bytes: usize) -> String {
    Sha256::digest(data.as_ref())
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_the_start_of_the_known_digest() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let full = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex("abc", 32), full);
        assert_eq!(sha256_hex("abc", 4), &full[..8]);
        assert_eq!(sha256_hex(b"abc", 8), &full[..16]);
        assert_eq!(sha256_hex("abc", 64), full, "a digest has 32 bytes");
    }
}
