//! `manifest.json`: what a campaign committed to, signed with ed25519.
//!
//! The signature covers the manifest's canonical bytes without its `signature` field:
//! JSON with object keys sorted by their UTF-8 bytes at every level, no whitespace, strings
//! escaped as `serde_json` escapes them, integers as plain digits (amounts are decimal
//! strings, so no number is ever near 2^53). [`Manifest::to_file_bytes`] writes the same
//! canonical form, indented, with the signature; so the file itself is deterministic too.
//!
//! Key files: the secret key is 64 hex digits (the 32-byte ed25519 seed) in a file created with
//! mode 0600; the public key is 64 hex digits.

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{MerkleError, Result};

/// The manifest. Field names are the JSON keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Campaign name.
    pub campaign: String,
    /// Token symbol or address.
    pub token: String,
    pub decimals: u8,
    /// The pool in base units, decimal.
    pub pool: String,
    /// Counts (e.g. `claims`, `eligible`, `excluded`, `sybil`).
    pub counts: BTreeMap<String, u64>,
    /// Root per profile (`oz`, `uniswap`, `jito`), `0x` hex.
    pub roots: BTreeMap<String, String>,
    /// sha256 (hex) of each input file, by file name.
    pub inputs: BTreeMap<String, String>,
    /// sha256 (hex) of the campaign (policy) file.
    pub campaign_sha256: String,
    pub fairdrop_version: String,
    /// The snapshot the allocation was computed at (e.g. a timestamp or block).
    pub snapshot: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<ManifestSignature>,
}

/// An ed25519 signature and the key that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSignature {
    pub algorithm: String,
    /// 64 hex digits.
    pub public_key: String,
    /// 128 hex digits.
    pub signature: String,
}

/// sha256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| MerkleError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| MerkleError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Canonical JSON of a value: sorted keys, no whitespace (or `indent` spaces per level).
pub fn canonical_json(v: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write_canonical(v, indent, 0, &mut out);
    out
}

fn write_canonical(v: &Value, indent: Option<usize>, depth: usize, out: &mut String) {
    let nl = |out: &mut String, d: usize| {
        if let Some(k) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(k * d));
        }
    };
    match v {
        Value::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_canonical(&m[k.as_str()], indent, depth + 1, out);
            }
            nl(out, depth);
            out.push('}');
        }
        Value::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                write_canonical(x, indent, depth + 1, out);
            }
            nl(out, depth);
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn key_err(path: &Path, msg: impl Into<String>) -> MerkleError {
    MerkleError::Invalid(format!("{}: {}", path.display(), msg.into()))
}

/// Make a new key pair: the secret key file (mode 0600, created fresh: an existing file is an
/// error) and the public key file. Returns the public key.
pub fn keygen(secret_path: &Path, public_path: &Path) -> Result<VerifyingKey> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| MerkleError::Invalid(format!("no randomness for a key: {e}")))?;
    let sk = SigningKey::from_bytes(&seed);
    seed.fill(0);
    write_secret(secret_path, &sk)?;
    let pk = sk.verifying_key();
    fairdrop_core::fsutil::write_atomic(
        public_path,
        format!("{}\n", hex::encode(pk.as_bytes())).as_bytes(),
    )
    .map_err(|e| MerkleError::io(public_path, e))?;
    Ok(pk)
}

fn write_secret(path: &Path, sk: &SigningKey) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| MerkleError::io(path, e))?;
    f.write_all(format!("{}\n", hex::encode(sk.to_bytes())).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| MerkleError::io(path, e))
}

/// Read a secret key file written by [`keygen`].
pub fn read_secret_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|e| MerkleError::io(path, e))?;
    let mut b = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut b)
        .map_err(|e| key_err(path, format!("secret key must be 64 hex digits: {e}")))?;
    Ok(SigningKey::from_bytes(&b))
}

/// Read a public key file (64 hex digits).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey> {
    let text = std::fs::read_to_string(path).map_err(|e| MerkleError::io(path, e))?;
    parse_public_key(text.trim()).map_err(|m| key_err(path, m))
}

fn parse_public_key(s: &str) -> std::result::Result<VerifyingKey, String> {
    let mut b = [0u8; 32];
    hex::decode_to_slice(s, &mut b)
        .map_err(|e| format!("public key must be 64 hex digits: {e}"))?;
    VerifyingKey::from_bytes(&b).map_err(|e| format!("not an ed25519 public key: {e}"))
}

impl Manifest {
    /// The bytes that are signed: canonical compact JSON without `signature`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_value(self).expect("manifest serialises");
        if let Value::Object(m) = &mut v {
            m.remove("signature");
        }
        canonical_json(&v, None).into_bytes()
    }

    /// The file: canonical JSON, 2-space indent, with the signature if any, newline at the end.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let v = serde_json::to_value(self).expect("manifest serialises");
        let mut s = canonical_json(&v, Some(2));
        s.push('\n');
        s.into_bytes()
    }

    /// Parse a manifest file.
    pub fn from_bytes(b: &[u8]) -> Result<Manifest> {
        serde_json::from_slice(b).map_err(|e| MerkleError::Invalid(format!("manifest: {e}")))
    }

    /// Read a manifest file.
    pub fn read(path: &Path) -> Result<Manifest> {
        let b = std::fs::read(path).map_err(|e| MerkleError::io(path, e))?;
        serde_json::from_slice(&b)
            .map_err(|e| MerkleError::Invalid(format!("{}: not a manifest: {e}", path.display())))
    }

    /// Write the manifest atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        fairdrop_core::fsutil::write_atomic(path, &self.to_file_bytes())
            .map_err(|e| MerkleError::io(path, e))
    }

    /// Sign (replacing any previous signature).
    pub fn sign(&mut self, key: &SigningKey) {
        let sig = key.sign(&self.canonical_bytes());
        self.signature = Some(ManifestSignature {
            algorithm: "ed25519".to_string(),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(sig.to_bytes()),
        });
    }

    /// Check the signature; with `expected_key`, also that it was made by that key. The error
    /// says what failed.
    pub fn verify_signature(&self, expected_key: Option<&VerifyingKey>) -> Result<VerifyingKey> {
        let s = self
            .signature
            .as_ref()
            .ok_or_else(|| MerkleError::Verify("manifest is not signed".to_string()))?;
        if s.algorithm != "ed25519" {
            return Err(MerkleError::Verify(format!(
                "signature algorithm {:?} is not ed25519",
                crate::hash::shorten(&s.algorithm)
            )));
        }
        let pk = parse_public_key(&s.public_key)
            .map_err(|m| MerkleError::Verify(format!("signature public key: {m}")))?;
        if let Some(want) = expected_key {
            if want != &pk {
                return Err(MerkleError::Verify(format!(
                    "manifest was signed by {} but the expected key is {}",
                    s.public_key,
                    hex::encode(want.as_bytes())
                )));
            }
        }
        let mut sb = [0u8; 64];
        hex::decode_to_slice(&s.signature, &mut sb)
            .map_err(|e| MerkleError::Verify(format!("signature must be 128 hex digits: {e}")))?;
        pk.verify(&self.canonical_bytes(), &Signature::from_bytes(&sb))
            .map_err(|_| {
                MerkleError::Verify(
                    "signature does not match the manifest (the manifest was changed after signing, or signed by another key)"
                        .to_string(),
                )
            })?;
        Ok(pk)
    }
}

/// The first field (dotted path, in canonical key order) where `a` and `b` differ, with both
/// values; `None` when they are the same. The signature is not compared.
pub fn compare(a: &Manifest, b: &Manifest) -> Option<String> {
    let strip = |m: &Manifest| {
        let mut v = serde_json::to_value(m).expect("manifest serialises");
        if let Value::Object(o) = &mut v {
            o.remove("signature");
        }
        v
    };
    first_diff(&strip(a), &strip(b), "")
}

fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort_by(|p, q| p.as_bytes().cmp(q.as_bytes()));
            keys.dedup();
            for k in keys {
                match (x.get(k.as_str()), y.get(k.as_str())) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_diff(p, q, &join(k)) {
                            return Some(d);
                        }
                    }
                    (Some(p), None) => return Some(format!("{}: {} vs (missing)", join(k), p)),
                    (None, Some(q)) => return Some(format!("{}: (missing) vs {}", join(k), q)),
                    (None, None) => {}
                }
            }
            None
        }
        _ if a == b => None,
        _ => Some(format!(
            "{}: {} vs {}",
            if path.is_empty() { "(root)" } else { path },
            a,
            b
        )),
    }
}
