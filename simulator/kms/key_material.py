"""Which keys KMS can create here, and the material a new key gets."""

from __future__ import annotations

from ..crypto import AsymmetricKey, HmacKey
from ..entropy import Entropy
from ..errors import UnsupportedOperationException
from .keys import KeyRecord

__all__ = ["UNSUPPORTED_KEY_SPECS", "check_creatable", "generate_material"]

#: Key specs AWS offers that envelope-sim refuses at CreateKey, and why.
UNSUPPORTED_KEY_SPECS = {
    **{spec: "ML-DSA (FIPS 204) is not available in the cryptography library envelope-sim uses"
       for spec in ("ML_DSA_44", "ML_DSA_65", "ML_DSA_87")},
    "SM2": "SM2 keys exist only in the AWS China Regions, and the cryptography library "
           "envelope-sim uses has no SM2",
    "ECC_NIST_EDWARDS25519": "KMS signs Ed25519 keys with ED25519_SHA_512 and ED25519_PH_SHA_512, "
                             "and the cryptography library envelope-sim uses has no Ed25519ph",
}

_OUT_OF_SCOPE_ORIGINS = {
    "AWS_CLOUDHSM": "keys in an AWS CloudHSM key store (custom key stores are out of scope)",
    "EXTERNAL_KEY_STORE": "keys in an external key store (XKS; custom key stores are out of scope)",
}


def check_creatable(key_spec: str, origin: str) -> None:
    """UnsupportedOperationException for a key spec or origin envelope-sim cannot create."""
    reason = UNSUPPORTED_KEY_SPECS.get(key_spec)
    if reason is not None:
        raise UnsupportedOperationException(
            f"CreateKey with KeySpec {key_spec} is not supported by envelope-sim: {reason}.")
    what = _OUT_OF_SCOPE_ORIGINS.get(origin)
    if what is not None:
        raise UnsupportedOperationException(
            f"CreateKey with Origin {origin} is not supported by envelope-sim: {what}.")


def generate_material(key: KeyRecord, entropy: Entropy) -> None:
    """Give a new asymmetric or HMAC key (origin AWS_KMS) its private key or MAC key.

    An asymmetric private key is generated on first use (an RSA-4096 key takes seconds to find
    seeded), from a stream seeded now from the simulation's: the draws CreateKey makes do not
    depend on whether or when the key is used.
    """
    if key.is_hmac:
        key.hmac = HmacKey.generate(key.key_spec, entropy)
        return
    own = Entropy(int.from_bytes(entropy.token_bytes(32), "big")) if entropy.seeded else entropy
    key.asymmetric = AsymmetricKey.generate(key.key_spec, own, lazy=True)
