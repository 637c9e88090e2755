"""The hazmat layer: the only package that imports ``cryptography`` or touches keys and nonces.

Everything above composes these pieces: the injective context encoding, KMS ciphertext blobs,
redacted secret bytes, the EBS volume ciphers, and the keys of asymmetric and HMAC KMS keys
(seeded generation, signatures, RSA-OAEP, ECDH, HMAC, import unwrapping).
"""

from .asymmetric import AsymmetricKey, CryptoInputError
from .context import encode_context
from .envelope import BackingKey, BlobError, BlobHeader, open_blob, parse_header, seal
from .mac import HmacKey
from .secret import SecretBytes, wipe
from .tokens import TokenError, open_token, seal_token

__all__ = [
    "AsymmetricKey",
    "BackingKey",
    "BlobError",
    "BlobHeader",
    "CryptoInputError",
    "HmacKey",
    "SecretBytes",
    "TokenError",
    "encode_context",
    "open_blob",
    "open_token",
    "parse_header",
    "seal",
    "seal_token",
    "wipe",
]
