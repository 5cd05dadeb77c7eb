//! `abi.encode` of static Solidity types, enough for OpenZeppelin `StandardMerkleTree` leaves.
//!
//! Every supported type encodes to one 32-byte word: `address` left-padded with zeros,
//! `uintN` big-endian, `bytes32` as is. Values come as JSON the way the npm package takes them:
//! addresses as `0x` + 40 hex digits (all lower, all upper, or valid EIP-55 mixed case; this is
//! stricter than the npm package, which takes any case), numbers as decimal strings, `0x` hex
//! strings or JSON integers.

use serde_json::Value;

use crate::error::{MerkleError, Result};
use crate::hash::{parse_uint, shorten};

/// A supported static ABI type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// `address`: 20 bytes.
    Address,
    /// `uintN` with N in 8..=256, a multiple of 8 (`uint` is `uint256`).
    Uint(u16),
    /// `bytes32`.
    Bytes32,
}

impl AbiType {
    /// Parse a Solidity type name.
    pub fn parse(s: &str) -> Result<AbiType> {
        match s {
            "address" => return Ok(AbiType::Address),
            "bytes32" => return Ok(AbiType::Bytes32),
            "uint" => return Ok(AbiType::Uint(256)),
            _ => {}
        }
        if let Some(n) = s.strip_prefix("uint") {
            if !n.is_empty() && n.len() <= 3 && n.bytes().all(|c| c.is_ascii_digit()) {
                let bits: u16 = n.parse().unwrap_or(0);
                if (8..=256).contains(&bits) && bits.is_multiple_of(8) && !n.starts_with('0') {
                    return Ok(AbiType::Uint(bits));
                }
            }
        }
        Err(MerkleError::UnsupportedType(shorten(s)))
    }

    /// Encode one JSON value as this type's 32-byte word.
    pub fn encode(&self, v: &Value) -> Result<[u8; 32]> {
        match self {
            AbiType::Address => {
                let s = v.as_str().ok_or_else(|| {
                    MerkleError::InvalidValue(format!(
                        "address must be a string, got {}",
                        shorten(&v.to_string())
                    ))
                })?;
                let a = parse_evm(s)?;
                Ok(crate::hash::address_word(&a))
            }
            AbiType::Uint(bits) => {
                let parsed = match v {
                    Value::String(s) => parse_uint(s, *bits),
                    Value::Number(n) => n.as_u64().and_then(|u| parse_uint(&u.to_string(), *bits)),
                    _ => None,
                };
                parsed.ok_or_else(|| {
                    MerkleError::InvalidValue(format!(
                        "{} is not a uint{bits} (decimal or 0x-hex string, or a non-negative integer)",
                        shorten(&v.to_string())
                    ))
                })
            }
            AbiType::Bytes32 => {
                let s = v.as_str().ok_or_else(|| {
                    MerkleError::InvalidValue(format!(
                        "bytes32 must be a string, got {}",
                        shorten(&v.to_string())
                    ))
                })?;
                crate::hash::parse_hex32(s, "bytes32 value")
            }
        }
    }
}

/// Parse an EVM address `0x` + 40 hex digits; mixed case must pass EIP-55.
pub fn parse_evm(s: &str) -> Result<[u8; 20]> {
    if !s.starts_with("0x") {
        return Err(MerkleError::InvalidValue(format!(
            "address {:?} must start with 0x",
            shorten(s)
        )));
    }
    match fairdrop_core::Address::parse(s) {
        Ok(fairdrop_core::Address::Evm(b)) => Ok(b),
        Ok(_) => Err(MerkleError::InvalidValue(format!(
            "{:?} is not an EVM address",
            shorten(s)
        ))),
        Err(e) => Err(MerkleError::InvalidValue(format!(
            "address {:?}: {e}",
            shorten(s)
        ))),
    }
}

/// Encode a whole leaf (`values` in the order of `types`) as `abi.encode(...)` bytes.
pub fn encode_values(types: &[AbiType], values: &[Value]) -> Result<Vec<u8>> {
    if types.len() != values.len() {
        return Err(MerkleError::InvalidValue(format!(
            "leaf has {} fields, the leaf encoding has {}",
            values.len(),
            types.len()
        )));
    }
    let mut out = Vec::with_capacity(32 * types.len());
    for (t, v) in types.iter().zip(values) {
        out.extend_from_slice(&t.encode(v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types() {
        assert_eq!(AbiType::parse("uint").unwrap(), AbiType::Uint(256));
        assert_eq!(AbiType::parse("uint64").unwrap(), AbiType::Uint(64));
        for bad in [
            "uint7", "uint264", "uint08", "int256", "string", "bytes", "", "uint0",
        ] {
            assert!(AbiType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values() {
        let a = AbiType::Address;
        let w = a
            .encode(&json!("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"))
            .unwrap();
        assert_eq!(w[..12], [0u8; 12]);
        assert_eq!(w[12], 0x5c);
        // wrong checksum
        assert!(a
            .encode(&json!("0x5c69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"))
            .is_err());
        assert!(a.encode(&json!(5)).is_err());
        assert!(a.encode(&json!("0x1234")).is_err());
        let u = AbiType::Uint(256);
        assert_eq!(u.encode(&json!(5)).unwrap()[31], 5);
        assert_eq!(u.encode(&json!("0x05")).unwrap()[31], 5);
        assert!(u.encode(&json!(-5)).is_err());
        assert!(u.encode(&json!(1.5)).is_err());
        assert!(u.encode(&json!(null)).is_err());
    }
}
