"""HMAC KMS keys: GenerateMac and VerifyMac (HMAC_SHA_224/256/384/512)."""

from __future__ import annotations

import hmac

from .keygen import HMAC_KEY_BYTES, RandomSource, hmac_key
from .secret import SecretBytes

__all__ = ["MAC_ALGORITHMS", "HmacKey", "mac_algorithm_for"]

#: KMS MAC algorithm -> hashlib name.
MAC_ALGORITHMS = {"HMAC_SHA_224": "sha224", "HMAC_SHA_256": "sha256", "HMAC_SHA_384": "sha384",
                  "HMAC_SHA_512": "sha512"}


def mac_algorithm_for(key_spec: str) -> str:
    """The one MAC algorithm a key of ``key_spec`` (HMAC_224 ...) supports."""
    return "HMAC_SHA_" + key_spec.split("_")[1]


class HmacKey:
    """One HMAC KMS key's material; its ``repr`` shows only the spec."""

    __slots__ = ("_material", "key_spec")

    def __init__(self, key_spec: str, material: bytes) -> None:
        if key_spec not in HMAC_KEY_BYTES:
            raise ValueError(f"not an HMAC key spec: {key_spec}")
        self.key_spec = key_spec
        self._material = SecretBytes(material)

    def __repr__(self) -> str:
        return f"HmacKey(key_spec={self.key_spec!r}, material=<redacted>)"

    @classmethod
    def generate(cls, key_spec: str, source: RandomSource) -> HmacKey:
        """New material for ``key_spec``, drawn from ``source``."""
        return cls(key_spec, hmac_key(key_spec, source))

    def generate_mac(self, algorithm: str, message: bytes) -> bytes:
        """The HMAC of ``message`` under this key with ``algorithm``."""
        return hmac.digest(self._material, message, MAC_ALGORITHMS[algorithm])

    def verify_mac(self, algorithm: str, message: bytes, mac: bytes) -> bool:
        """Whether ``mac`` is the HMAC of ``message`` (constant-time comparison)."""
        return hmac.compare_digest(self.generate_mac(algorithm, message), bytes(mac))
