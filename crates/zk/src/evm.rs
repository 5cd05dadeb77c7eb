//! EVM binding of a commitment to an address: EIP-191 `personal_sign` signer recovery
//! (secp256k1 via `k256`, keccak256 via `tiny-keccak`).
//!
//! A registration is `(address, commitment, signature)`. The eligible EVM wallet signs the text
//! [`evm_registration_message`]`(campaign, C)` with `personal_sign`; the signature is 65 bytes
//! `r ‖ s ‖ v` (`0x` + 130 hex digits), `v` ∈ {27, 28} (or {0, 1}). The check recovers the
//! signing key from `keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ text)` and the
//! signature, derives its address (`keccak256(uncompressed public key without the 0x04
//! prefix)[12..]`) and compares it with the claimed address. High-`s` signatures are refused
//! (EIP-2; every mainstream wallet produces low `s`), so one registration has one signature.
//!
//! Pinned against ethers v6 (`Wallet.signMessage`) in the tests: the private key
//! `0x4c0883a6…3f362318` (address `0x2c7536E3605D9C16a7a3D7b1898e529396a65c23`) signing the
//! registration of the crate-doc commitment vector gives `0xfe1dacdf…7906ece11c`.

use fairdrop_core::Address;
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use tiny_keccak::{Hasher, Keccak};

use crate::private::{eip191_bytes, evm_registration_message, CampaignId, Commitment};

/// A secp256k1 signing key (re-exported for tools and tests that sign registrations).
pub use k256::ecdsa::SigningKey as EvmSigningKey;

/// Length of an EVM signature `r ‖ s ‖ v`.
pub const EVM_SIGNATURE_BYTES: usize = 65;

/// Why a registration signature was refused. `rule()` is the stable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature must be 0x + 130 hex digits (65 bytes r||s||v), got {0:?}")]
    Format(String),
    #[error("v = {0}: expected 27 or 28 (or 0 or 1)")]
    RecoveryByte(u8),
    #[error("r or s is zero or not below the secp256k1 group order")]
    Scalar,
    #[error("s is in the upper half of the group order (EIP-2: use the low-s form)")]
    HighS,
    #[error("no public key recovers from this signature and message")]
    Recover,
    #[error("signed by {recovered}, not by {claimed}")]
    Signer { recovered: String, claimed: String },
    #[error("{0} is not an EVM address; an EIP-191 signature binds EVM addresses only")]
    NotEvm(String),
}

impl SignatureError {
    /// Stable rule code (for quarantine-style errors: file, line, rule).
    pub fn rule(&self) -> &'static str {
        match self {
            SignatureError::Format(_) => "registration.signature.format",
            SignatureError::RecoveryByte(_) => "registration.signature.v",
            SignatureError::Scalar => "registration.signature.scalar",
            SignatureError::HighS => "registration.signature.high_s",
            SignatureError::Recover => "registration.signature.recover",
            SignatureError::Signer { .. } => "registration.signature.signer",
            SignatureError::NotEvm(_) => "registration.signature.not_evm",
        }
    }
}

/// keccak256.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut k = Keccak::v256();
    k.update(data);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

/// The EIP-191 (`personal_sign`) digest of a text message.
pub fn eip191_hash(message: &str) -> [u8; 32] {
    keccak256(&eip191_bytes(message))
}

/// The EVM address of a secp256k1 public key.
pub fn evm_address_of(key: &VerifyingKey) -> [u8; 20] {
    let point = key.to_encoded_point(false);
    let h = keccak256(&point.as_bytes()[1..]);
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[12..]);
    a
}

/// Parse `0x` + 130 hex digits (either case) into 65 bytes.
pub fn parse_evm_signature(s: &str) -> Result<[u8; EVM_SIGNATURE_BYTES], SignatureError> {
    let bad = || SignatureError::Format(s.chars().take(140).collect());
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(bad)?;
    if h.len() != 2 * EVM_SIGNATURE_BYTES {
        return Err(bad());
    }
    let mut out = [0u8; EVM_SIGNATURE_BYTES];
    hex::decode_to_slice(h, &mut out).map_err(|_| bad())?;
    Ok(out)
}

/// Recover the address that `personal_sign`ed `message` with `sig` (`r ‖ s ‖ v`).
pub fn recover_personal_sign(
    message: &str,
    sig: &[u8; EVM_SIGNATURE_BYTES],
) -> Result<[u8; 20], SignatureError> {
    let v = sig[64];
    let recid = match v {
        27 | 28 => v - 27,
        0 | 1 => v,
        other => return Err(SignatureError::RecoveryByte(other)),
    };
    let recid = RecoveryId::from_byte(recid).ok_or(SignatureError::RecoveryByte(v))?;
    let signature = Signature::from_slice(&sig[..64]).map_err(|_| SignatureError::Scalar)?;
    if signature.normalize_s().is_some() {
        return Err(SignatureError::HighS);
    }
    let key = VerifyingKey::recover_from_prehash(&eip191_hash(message), &signature, recid)
        .map_err(|_| SignatureError::Recover)?;
    Ok(evm_address_of(&key))
}

/// Check an EVM registration: `sig` is `address`'s `personal_sign` over
/// [`evm_registration_message`]`(campaign, commitment)`.
pub fn verify_evm_registration(
    address: &Address,
    campaign: &CampaignId,
    commitment: &Commitment,
    sig: &[u8; EVM_SIGNATURE_BYTES],
) -> Result<(), SignatureError> {
    let Address::Evm(claimed) = address else {
        return Err(SignatureError::NotEvm(address.to_string()));
    };
    let recovered = recover_personal_sign(&evm_registration_message(campaign, commitment), sig)?;
    if &recovered != claimed {
        return Err(SignatureError::Signer {
            recovered: Address::Evm(recovered).to_string(),
            claimed: address.to_string(),
        });
    }
    Ok(())
}

/// `personal_sign` `message` with `key`: `r ‖ s ‖ v` with low `s` and `v` ∈ {27, 28}
/// (deterministic, RFC 6979 — byte-identical to ethers' `Wallet.signMessage`). For tests and
/// tools that hold a key; the claim service never asks for one.
pub fn personal_sign(key: &SigningKey, message: &str) -> [u8; EVM_SIGNATURE_BYTES] {
    // Signing a 32-byte prehash with a valid key cannot fail (k256 retries internally).
    let (sig, recid) = key
        .sign_prehash_recoverable(&eip191_hash(message))
        .expect("signing a 32-byte digest");
    let mut out = [0u8; EVM_SIGNATURE_BYTES];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = 27 + recid.to_byte();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    const ADDRESS: &str = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
    /// ethers v6.x `new Wallet(KEY).signMessage(msg)` for the registration of the crate-doc
    /// commitment vector (secret [1; 32]) in campaign `aleo-airdrop-2024`.
    const ETHERS_SIG: &str = "0xfe1dacdfa02659c173e0faaa66ea3c7fd499d2dd9a24af3494dac5db265d66fc3d81f8de2b31200e1cda938349065c38ed0e1b22250e4062de9fb07e7906ece11c";
    /// ethers `hashMessage(msg)` of the same text.
    const ETHERS_HASH: &str = "f37f325a5f60a6831acbeba68755cbedf8ca92bc05beeddee8bbe9465caa24a4";
    /// ethers `signMessage("hello")` and `hashMessage("hello")`.
    const HELLO_SIG: &str = "0xa5d58782075bdf09490159d634d1aae66a8f6777c7247d2f233e9511cfd7c64c34f288cdbcea5370e4863fdbe9f4d86654c2ba1d86589e9ebb64494c649008591b";
    const HELLO_HASH: &str = "50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750";

    fn key() -> SigningKey {
        let mut b = [0u8; 32];
        hex::decode_to_slice(KEY, &mut b).unwrap();
        SigningKey::from_slice(&b).unwrap()
    }

    fn vector() -> (CampaignId, Commitment) {
        let campaign = CampaignId::from_name("aleo-airdrop-2024");
        let c = Commitment::new(&crate::Secret::from_random_bytes([1; 32]), &campaign);
        (campaign, c)
    }

    #[test]
    fn known_key_has_known_address() {
        let a = Address::parse(ADDRESS).unwrap();
        assert_eq!(Address::Evm(evm_address_of(key().verifying_key())), a);
    }

    #[test]
    fn ethers_vectors_recover_and_match_our_signatures() {
        let (campaign, c) = vector();
        let msg = evm_registration_message(&campaign, &c);
        assert_eq!(hex::encode(eip191_hash(&msg)), ETHERS_HASH);
        assert_eq!(hex::encode(eip191_hash("hello")), HELLO_HASH);
        let sig = parse_evm_signature(ETHERS_SIG).unwrap();
        let addr = Address::parse(ADDRESS).unwrap();
        verify_evm_registration(&addr, &campaign, &c, &sig).unwrap();
        // RFC 6979 is deterministic: our signature is ethers' signature, byte for byte.
        assert_eq!(personal_sign(&key(), &msg), sig);
        let hello = parse_evm_signature(HELLO_SIG).unwrap();
        assert_eq!(
            Address::Evm(recover_personal_sign("hello", &hello).unwrap()),
            addr
        );
        assert_eq!(personal_sign(&key(), "hello"), hello);
    }

    #[test]
    fn generated_registration_round_trips_and_binds_everything() {
        // A second, deterministic key generated here.
        let sk = SigningKey::from_slice(&[0x42; 32]).unwrap();
        let addr = Address::Evm(evm_address_of(sk.verifying_key()));
        let (campaign, c) = vector();
        let sig = personal_sign(&sk, &evm_registration_message(&campaign, &c));
        verify_evm_registration(&addr, &campaign, &c, &sig).unwrap();
        // v as 0/1 is accepted too.
        let mut v01 = sig;
        v01[64] -= 27;
        verify_evm_registration(&addr, &campaign, &c, &v01).unwrap();

        // Another address, commitment or campaign: the recovered signer differs.
        let other = Address::parse(ADDRESS).unwrap();
        let e = verify_evm_registration(&other, &campaign, &c, &sig).unwrap_err();
        assert_eq!(e.rule(), "registration.signature.signer");
        let c2 = Commitment::from_fe(crate::Fr::from(5u64));
        assert_eq!(
            verify_evm_registration(&addr, &campaign, &c2, &sig)
                .unwrap_err()
                .rule(),
            "registration.signature.signer"
        );
        let camp2 = CampaignId::from_name("another");
        assert!(verify_evm_registration(&addr, &camp2, &c, &sig).is_err());

        // Flipped v: another key recovers (or none).
        let mut flip = sig;
        flip[64] = if sig[64] == 27 { 28 } else { 27 };
        assert!(verify_evm_registration(&addr, &campaign, &c, &flip).is_err());
        // Bad v, zero r, high s.
        let mut badv = sig;
        badv[64] = 29;
        assert_eq!(
            verify_evm_registration(&addr, &campaign, &c, &badv)
                .unwrap_err()
                .rule(),
            "registration.signature.v"
        );
        let mut zero = sig;
        zero[..32].fill(0);
        assert_eq!(
            verify_evm_registration(&addr, &campaign, &c, &zero)
                .unwrap_err()
                .rule(),
            "registration.signature.scalar"
        );
        let s = Signature::from_slice(&sig[..64]).unwrap();
        let high = Signature::from_scalars(s.r().to_bytes(), (-*s.s()).to_bytes()).unwrap();
        let mut hs = sig;
        hs[..64].copy_from_slice(&high.to_bytes());
        hs[64] = if sig[64] == 27 { 28 } else { 27 }; // the high-s twin: other parity
        assert_eq!(
            verify_evm_registration(&addr, &campaign, &c, &hs)
                .unwrap_err()
                .rule(),
            "registration.signature.high_s"
        );
        // An Aleo address cannot be bound this way.
        let aleo =
            Address::parse("aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf")
                .unwrap();
        assert_eq!(
            verify_evm_registration(&aleo, &campaign, &c, &sig)
                .unwrap_err()
                .rule(),
            "registration.signature.not_evm"
        );
    }

    #[test]
    fn signature_text_is_checked() {
        for bad in [
            "",
            "0x",
            "fe1d",
            &ETHERS_SIG[2..],
            &ETHERS_SIG[..130],
            &format!("{ETHERS_SIG}00"),
            &format!("0x{}", "g".repeat(130)),
        ] {
            assert_eq!(
                parse_evm_signature(bad).unwrap_err().rule(),
                "registration.signature.format",
                "{bad}"
            );
        }
        assert!(
            parse_evm_signature(&ETHERS_SIG.to_ascii_uppercase().replacen("0X", "0x", 1)).is_ok()
        );
    }
}
