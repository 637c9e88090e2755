"""Unwrapping imported key material (ImportKeyMaterial's wrapping algorithms).

The wrapping key is an RSA :class:`~.asymmetric.AsymmetricKey` KMS made for GetParametersForImport.
As the AWS KMS Developer Guide ("Wrap key material") describes them:

- RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256: the material is RSA-OAEP encrypted under the public
  wrapping key (fits only small material, such as a 32-byte symmetric key).
- RSA_AES_KEY_WRAP_SHA_1 / RSA_AES_KEY_WRAP_SHA_256: a fresh 256-bit AES key is RSA-OAEP
  encrypted under the wrapping key, the material is wrapped under that AES key with AES key wrap
  with padding (RFC 5649), and the two are concatenated (encrypted AES key first).
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

from .asymmetric import AsymmetricKey, CryptoInputError
from .secret import SecretBytes

__all__ = ["WRAPPING_ALGORITHMS", "material_fingerprint", "unwrap_key_material"]

#: KMS wrapping algorithm -> the RSA-OAEP algorithm that encrypts the material or the AES key.
WRAPPING_ALGORITHMS = {
    "RSAES_OAEP_SHA_1": "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256": "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1": "RSAES_OAEP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256": "RSAES_OAEP_SHA_256",
}


def unwrap_key_material(wrapping_key: AsymmetricKey, algorithm: str, encrypted: bytes) -> SecretBytes:
    """The key material in ``encrypted``; CryptoInputError if it does not unwrap."""
    oaep = WRAPPING_ALGORITHMS[algorithm]
    if not algorithm.startswith("RSA_AES_KEY_WRAP"):
        return wrapping_key.decrypt(oaep, encrypted)
    k = wrapping_key.modulus_bytes
    if len(encrypted) <= k:
        raise CryptoInputError("the encrypted key material is too short for this wrapping key")
    aes_key = wrapping_key.decrypt(oaep, encrypted[:k])
    if len(aes_key) not in (16, 24, 32):
        raise CryptoInputError("the wrapped AES key has an invalid length")
    try:
        return SecretBytes(aes_key_unwrap_with_padding(aes_key, bytes(encrypted[k:])))
    except InvalidUnwrap:
        raise CryptoInputError("the key material does not unwrap") from None


def material_fingerprint(material: bytes) -> bytes:
    """A one-way digest that tells whether a re-import brings the same material (SHA-256).

    KMS keeps it after the material itself is gone (expired or deleted), so it can refuse
    different material; for an asymmetric key pass the public key, which one private key
    determines whatever its encoding.
    """
    return hashlib.sha256(b"envelope-sim imported material\x00" + bytes(material)).digest()
