//! Hash primitives and hex helpers shared by every profile.

use sha2::{Digest, Sha256};
use tiny_keccak::{Hasher, Keccak};

use crate::error::MerkleError;

/// A 32-byte hash (tree node, leaf or root).
pub type Hash32 = [u8; 32];

/// keccak256 of `data`.
#[inline]
pub fn keccak256(data: &[u8]) -> Hash32 {
    if data.len() < 136 {
        return keccak256_one_block(data);
    }
    let mut k = Keccak::v256();
    k.update(data);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

/// keccak256 of input shorter than the 136-byte rate: one permutation, no buffering.
#[inline]
fn keccak256_one_block(data: &[u8]) -> Hash32 {
    debug_assert!(data.len() < 136);
    let mut block = [0u8; 136];
    block[..data.len()].copy_from_slice(data);
    block[data.len()] ^= 0x01; // keccak padding (not SHA-3's 0x06)
    block[135] ^= 0x80;
    let mut st = [0u64; 25];
    for (lane, chunk) in st.iter_mut().zip(block.chunks_exact(8)) {
        *lane = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    }
    keccak::f1600(&mut st);
    let mut out = [0u8; 32];
    for (o, lane) in out.chunks_exact_mut(8).zip(&st[..4]) {
        o.copy_from_slice(&lane.to_le_bytes());
    }
    out
}

/// keccak256(min(a, b) ‖ max(a, b)): the sorted-pair node hash of OpenZeppelin's `MerkleProof`
/// (used by the `oz` and `uniswap` profiles).
#[inline]
pub fn keccak_pair_sorted(a: &Hash32, b: &Hash32) -> Hash32 {
    let mut buf = [0u8; 64];
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    buf[..32].copy_from_slice(lo);
    buf[32..].copy_from_slice(hi);
    keccak256(&buf)
}

/// sha256 of the concatenation of `parts`.
#[inline]
pub fn sha256v(parts: &[&[u8]]) -> Hash32 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// `0x` + 64 lowercase hex digits.
pub fn hex32(h: &Hash32) -> String {
    let mut s = String::with_capacity(66);
    s.push_str("0x");
    push_hex(&mut s, h);
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append lowercase hex of `bytes` to `s`.
pub fn push_hex(s: &mut String, bytes: &[u8]) {
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
}

/// Append lowercase hex of `bytes` to a byte buffer.
#[inline]
pub fn push_hex_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

/// Parse a `0x`-prefixed 32-byte hex string; `what` names the thing in the error.
pub fn parse_hex32(s: &str, what: &str) -> Result<Hash32, MerkleError> {
    let body = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(|| MerkleError::BadHex {
            what: what.to_string(),
            detail: format!("{:?} does not start with 0x", shorten(s)),
        })?;
    if body.len() != 64 {
        return Err(MerkleError::BadHex {
            what: what.to_string(),
            detail: format!(
                "{:?} has {} hex digits, a 32-byte hash needs 64",
                shorten(s),
                body.len()
            ),
        });
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(body, &mut out).map_err(|e| MerkleError::BadHex {
        what: what.to_string(),
        detail: format!("{:?}: {e}", shorten(s)),
    })?;
    Ok(out)
}

/// At most 80 characters of `s`, for error messages.
pub(crate) fn shorten(s: &str) -> String {
    if s.chars().count() > 80 {
        let mut t: String = s.chars().take(77).collect();
        t.push_str("...");
        t
    } else {
        s.to_string()
    }
}

/// A uint256 as 32 big-endian bytes, from a decimal string or a `0x` hex string.
/// `None` when the text is not a number or does not fit in `bits` bits.
pub fn parse_uint(s: &str, bits: u16) -> Option<[u8; 32]> {
    let mut limbs = [0u64; 4]; // little-endian limbs
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if h.is_empty() || h.len() > 64 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let padded = format!("{h:0>64}");
        let mut out = [0u8; 32];
        hex::decode_to_slice(padded, &mut out).ok()?;
        return fits(out, bits).then_some(out);
    }
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 78 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    for &c in b {
        // limbs = limbs * 10 + digit
        let mut carry = (c - b'0') as u128;
        for l in limbs.iter_mut() {
            let v = (*l as u128) * 10 + carry;
            *l = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return None;
        }
    }
    let mut out = [0u8; 32];
    for (i, l) in limbs.iter().enumerate() {
        out[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&l.to_be_bytes());
    }
    fits(out, bits).then_some(out)
}

fn fits(v: [u8; 32], bits: u16) -> bool {
    if bits >= 256 {
        return true;
    }
    let full = (256 - bits as usize) / 8;
    v[..full].iter().all(|&b| b == 0)
}

/// A u128 as a 32-byte big-endian uint256 word.
#[inline]
pub fn u128_word(v: u128) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

/// A 20-byte address left-padded to a 32-byte word.
#[inline]
pub fn address_word(a: &[u8; 20]) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a);
    w
}

/// Minimal even-length hex of a u128, as ethers' `BigNumber.toHexString()` (`0x00` for zero).
pub fn u128_hex_even(v: u128) -> String {
    let mut h = format!("{v:x}");
    if h.len() % 2 == 1 {
        h.insert(0, '0');
    }
    format!("0x{h}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_parsing() {
        assert_eq!(parse_uint("0", 256), Some([0u8; 32]));
        assert_eq!(parse_uint("256", 256).unwrap()[30..], [1, 0]);
        assert_eq!(parse_uint("0x0100", 256).unwrap()[30..], [1, 0]);
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(parse_uint(max, 256), Some([0xff; 32]));
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(parse_uint(over, 256), None);
        assert_eq!(parse_uint("256", 8), None);
        assert_eq!(parse_uint("255", 8).unwrap()[31], 255);
        for bad in ["", "-1", "1.5", "1e3", "0x", "0xg", " 1", "abc"] {
            assert_eq!(parse_uint(bad, 256), None, "{bad}");
        }
        assert_eq!(u128_word(u128::MAX)[16..], [0xff; 16]);
        assert_eq!(u128_hex_even(100), "0x64");
        assert_eq!(u128_hex_even(0), "0x00");
        assert_eq!(u128_hex_even(0x123), "0x0123");
    }

    #[test]
    fn keccak_fast_path_matches_the_sponge() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..300 {
            let mut k = Keccak::v256();
            k.update(&data[..len]);
            let mut want = [0u8; 32];
            k.finalize(&mut want);
            assert_eq!(keccak256(&data[..len]), want, "len {len}");
        }
        assert_eq!(
            hex32(&keccak256(b"")),
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn hex32_round_trip_and_errors() {
        let h = keccak256(b"abc");
        assert_eq!(parse_hex32(&hex32(&h), "x").unwrap(), h);
        assert!(parse_hex32("1234", "x")
            .unwrap_err()
            .to_string()
            .contains("0x"));
        assert!(parse_hex32("0x12", "x")
            .unwrap_err()
            .to_string()
            .contains("64"));
        let bad = format!("0x{}", "zz".repeat(32));
        assert!(matches!(
            parse_hex32(&bad, "x"),
            Err(MerkleError::BadHex { .. })
        ));
    }
}
