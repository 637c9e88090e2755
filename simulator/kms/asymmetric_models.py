"""What the asymmetric, HMAC and key-import operations return (frozen, snake_case AWS names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..crypto import SecretBytes

__all__ = [
    "DataKeyPair",
    "DataKeyPairWithoutPlaintext",
    "DeleteImportedKeyMaterialResult",
    "DeriveSharedSecretResult",
    "GenerateMacResult",
    "ImportKeyMaterialResult",
    "ParametersForImport",
    "PublicKeyResult",
    "SignResult",
    "VerifyMacResult",
    "VerifyResult",
]


@dataclass(frozen=True)
class SignResult:
    key_id: str
    signature: bytes = field(repr=False)
    signing_algorithm: str


@dataclass(frozen=True)
class VerifyResult:
    """Verify succeeded (a signature that does not verify is KMSInvalidSignatureException)."""

    key_id: str
    signature_valid: bool
    signing_algorithm: str


@dataclass(frozen=True)
class PublicKeyResult:
    """GetPublicKey: the DER SubjectPublicKeyInfo and what the key may be used for."""

    key_id: str
    public_key: bytes = field(repr=False)
    customer_master_key_spec: str
    key_spec: str
    key_usage: str
    encryption_algorithms: tuple[str, ...]
    signing_algorithms: tuple[str, ...]
    key_agreement_algorithms: tuple[str, ...]


@dataclass(frozen=True)
class GenerateMacResult:
    mac: bytes = field(repr=False)
    mac_algorithm: str
    key_id: str


@dataclass(frozen=True)
class VerifyMacResult:
    """VerifyMac succeeded (a MAC that does not verify is KMSInvalidMacException)."""

    key_id: str
    mac_valid: bool
    mac_algorithm: str


@dataclass(frozen=True)
class DataKeyPair:
    """GenerateDataKeyPair: the private key (PKCS #8 DER) in plaintext and encrypted under the
    KMS key, and the public key (DER SubjectPublicKeyInfo)."""

    private_key_ciphertext_blob: bytes = field(repr=False)
    private_key_plaintext: SecretBytes
    public_key: bytes = field(repr=False)
    key_id: str
    key_pair_spec: str
    key_material_id: str


@dataclass(frozen=True)
class DataKeyPairWithoutPlaintext:
    private_key_ciphertext_blob: bytes = field(repr=False)
    public_key: bytes = field(repr=False)
    key_id: str
    key_pair_spec: str
    key_material_id: str


@dataclass(frozen=True)
class DeriveSharedSecretResult:
    key_id: str
    shared_secret: SecretBytes
    key_agreement_algorithm: str
    key_origin: str


@dataclass(frozen=True)
class ParametersForImport:
    """GetParametersForImport: wrap the material under ``public_key``, send it with the token
    before ``parameters_valid_to``."""

    key_id: str
    import_token: bytes = field(repr=False)
    public_key: bytes = field(repr=False)
    parameters_valid_to: datetime


@dataclass(frozen=True)
class ImportKeyMaterialResult:
    key_id: str
    key_material_id: str


@dataclass(frozen=True)
class DeleteImportedKeyMaterialResult:
    key_id: str
    key_material_id: str | None
