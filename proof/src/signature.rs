//! Ed25519 signatures over a proof's statement (ed25519-dalek; keys as PKCS#8 / SPKI PEM, the
//! files `openssl pkey` reads).
//!
//! The signed bytes: the ASCII text `evidence-proof-v1`, a line feed (0x0A), then the
//! canonical JSON ([`super::canonical`]) of the statement — the proof's metadata object without
//! `rows` and `signature` (see [`super`]).

use anyhow::{Context as _, bail};
use base64::Engine as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The name of the signed-bytes definition, the first line of the signed bytes.
pub const SCHEME: &str = "evidence-proof-v1";
/// The scheme of a set's manifest signature (`collect --all`): what proofs the set holds,
/// with their digests, so that no proof can be removed or swapped unnoticed.
pub const MANIFEST_SCHEME: &str = "evidence-manifest-v1";
/// The scheme of a checkpoint's signature: another first line, so that a signed checkpoint can
/// never pass for a signed proof, nor the other way round.
pub const CHECKPOINT_SCHEME: &str = "evidence-checkpoint-v1";
/// The signature algorithm.
pub const ALGORITHM: &str = "ed25519";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The bytes a proof's signature covers: `SCHEME`, a line feed, the statement's canonical JSON.
pub fn signed_bytes(statement: &Map<String, Value>) -> anyhow::Result<Vec<u8>> {
    signed_bytes_under(SCHEME, statement)
}

/// The bytes a signature under `scheme` covers: `scheme`, a line feed, the canonical JSON.
fn signed_bytes_under(scheme: &str, statement: &Map<String, Value>) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(scheme.as_bytes());
    out.push(b'\n');
    super::canonical::write(&Value::Object(statement.clone()), &mut out)?;
    Ok(out)
}

/// A new key pair from the operating system's random source.
pub fn generate() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("no randomness from the system: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    Ok(key)
}

/// The private key as PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`, RFC 8410, as `openssl
/// genpkey -algorithm ed25519` writes it). Holds the secret: write it to a file only its owner
/// can read.
pub fn private_pem(key: &SigningKey) -> anyhow::Result<String> {
    let pair = ed25519_dalek::pkcs8::KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    Ok(pair.to_pkcs8_pem(LineEnding::LF).context("encoding the private key")?.to_string())
}

/// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn public_pem(key: &VerifyingKey) -> anyhow::Result<String> {
    key.to_public_key_pem(LineEnding::LF).context("encoding the public key")
}

/// Reads a PKCS#8 PEM Ed25519 private key.
pub fn read_private_pem(text: &str) -> anyhow::Result<SigningKey> {
    SigningKey::from_pkcs8_pem(text).map_err(|e| {
        anyhow::anyhow!(
            "not an Ed25519 private key in PKCS#8 PEM ({e}); make one with `connector-host keygen`"
        )
    })
}

/// Reads an SPKI PEM Ed25519 public key.
pub fn read_public_pem(text: &str) -> anyhow::Result<VerifyingKey> {
    VerifyingKey::from_public_key_pem(text).map_err(|e| {
        anyhow::anyhow!(
            "not an Ed25519 public key in PEM ({e}); use the KEY.pub `connector-host keygen` wrote"
        )
    })
}

/// A key's id: the lower-case hex SHA-256 of its 32 raw public-key bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The `signature` member of a signed proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureBlock {
    /// [`key_id`] of the signing key.
    pub key_id: String,
    /// The signing key's public key.
    pub public_key: VerifyingKey,
    /// The 64 signature bytes.
    pub value: [u8; 64],
}

impl SignatureBlock {
    /// Signs `statement` with `key`.
    pub fn sign(key: &SigningKey, statement: &Map<String, Value>) -> anyhow::Result<SignatureBlock> {
        SignatureBlock::sign_under(SCHEME, key, statement)
    }

    /// Signs `statement` with `key` under `scheme` ([`SCHEME`] or [`CHECKPOINT_SCHEME`]).
    pub fn sign_under(
        scheme: &str,
        key: &SigningKey,
        statement: &Map<String, Value>,
    ) -> anyhow::Result<SignatureBlock> {
        let signature = key.sign(&signed_bytes_under(scheme, statement)?);
        let public_key = key.verifying_key();
        Ok(SignatureBlock { key_id: key_id(&public_key), public_key, value: signature.to_bytes() })
    }

    /// Whether the signature holds for `statement` under `key` (strict Ed25519 verification).
    pub fn holds(&self, statement: &Map<String, Value>, key: &VerifyingKey) -> anyhow::Result<bool> {
        self.holds_under(SCHEME, statement, key)
    }

    /// Whether the signature made under `scheme` holds for `statement` under `key`.
    pub fn holds_under(
        &self,
        scheme: &str,
        statement: &Map<String, Value>,
        key: &VerifyingKey,
    ) -> anyhow::Result<bool> {
        let signature = Signature::from_bytes(&self.value);
        Ok(key.verify_strict(&signed_bytes_under(scheme, statement)?, &signature).is_ok())
    }

    /// As it is written in the proof.
    pub fn to_json(&self) -> Value {
        self.to_json_under(SCHEME)
    }

    /// As it is written, naming `scheme`.
    pub fn to_json_under(&self, scheme: &str) -> Value {
        json!({
            "algorithm": ALGORITHM,
            "scheme": scheme,
            "key_id": self.key_id,
            "public_key": B64.encode(self.public_key.as_bytes()),
            "value": B64.encode(self.value),
        })
    }

    /// Reads the `signature` member; the message says what is wrong with it.
    pub fn from_json(value: &Value) -> anyhow::Result<SignatureBlock> {
        SignatureBlock::from_json_under(SCHEME, value)
    }

    /// Reads a `signature` member that must name `scheme`.
    pub fn from_json_under(scheme: &str, value: &Value) -> anyhow::Result<SignatureBlock> {
        let text = |name: &str| -> anyhow::Result<&str> {
            value.get(name).and_then(Value::as_str).with_context(|| format!("the signature has no `{name}`"))
        };
        if text("algorithm")? != ALGORITHM {
            bail!("the signature's algorithm is `{}`, not {ALGORITHM}", text("algorithm")?);
        }
        if text("scheme")? != scheme {
            bail!("the signature's scheme is `{}`, not {scheme}", text("scheme")?);
        }
        let public: [u8; 32] = B64
            .decode(text("public_key")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("the signature's public_key is not 32 bytes of base64")?;
        let public_key = VerifyingKey::from_bytes(&public)
            .map_err(|_| anyhow::anyhow!("the signature's public_key is not a valid key"))?;
        let value: [u8; 64] = B64
            .decode(text("value")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("the signature's value is not 64 bytes of base64")?;
        let key_id = text("key_id")?.to_string();
        if key_id != self::key_id(&public_key) {
            bail!("the signature's key_id is not the id of its public_key");
        }
        Ok(SignatureBlock { key_id, public_key, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> Map<String, Value> {
        json!({"proof_type": "users", "sha256": "ab", "row_count": 2}).as_object().unwrap().clone()
    }

    #[test]
    fn a_signature_holds_for_its_statement_and_key_only() {
        let key = generate().unwrap();
        let block = SignatureBlock::sign(&key, &statement()).unwrap();
        assert!(block.holds(&statement(), &key.verifying_key()).unwrap());
        let mut changed = statement();
        changed.insert("row_count".into(), json!(3));
        assert!(!block.holds(&changed, &key.verifying_key()).unwrap());
        let other = generate().unwrap();
        assert!(!block.holds(&statement(), &other.verifying_key()).unwrap());
        assert_eq!(SignatureBlock::from_json(&block.to_json()).unwrap(), block);
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = generate().unwrap();
        let private = private_pem(&key).unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(read_private_pem(&private).unwrap().to_bytes(), key.to_bytes());
        let public = public_pem(&key.verifying_key()).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(read_public_pem(&public).unwrap(), key.verifying_key());
        assert!(read_public_pem(&private).is_err() && read_private_pem(&public).is_err());
    }

    #[test]
    fn a_key_made_by_openssl_genpkey_is_read() {
        // `openssl genpkey -algorithm ed25519` (PKCS#8 v1, RFC 8410).
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHbWFY2Uap6mcUkw4wQ91js/WA0hNsDSzWQmBw7PP/ku\n-----END PRIVATE KEY-----\n";
        let key = read_private_pem(pem).unwrap();
        assert_eq!(hex::encode(&key.to_bytes()[..4]), "76d6158d");
        assert_eq!(private_pem(&key).unwrap(), pem, "written back the same way");
    }

    #[test]
    fn the_signed_bytes_are_the_scheme_line_then_the_canonical_statement() {
        let bytes = signed_bytes(&statement()).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "evidence-proof-v1\n{\"proof_type\":\"users\",\"row_count\":2,\"sha256\":\"ab\"}"
        );
    }
}
