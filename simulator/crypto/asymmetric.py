"""Asymmetric KMS keys: RSA and elliptic-curve signing, RSA-OAEP encryption, ECDH.

:class:`AsymmetricKey` holds one private key and never shows it. Its operations follow the
algorithms KMS names (AWS KMS Developer Guide, "Asymmetric key specs"):

- RSASSA_PSS_SHA_* (MGF1 with the same hash, salt as long as the digest) and
  RSASSA_PKCS1_V1_5_SHA_*; ECDSA_SHA_* with DER-encoded signatures; RSAES_OAEP_SHA_1/256 (MGF1
  with the same hash, no label); ECDH giving the raw shared secret (the x coordinate).
- A message is RAW (hashed here) or DIGEST (already hashed; its length is the hash's).

Replayable runs: PKCS #1 v1.5 signatures and OAEP decryption are deterministic already, and a
seeded source signs ECDSA with RFC 6979 nonces. RSA-PSS signing and OAEP encryption need random
bytes (the salt, the OAEP seed) that the library draws itself and cannot be given, so for a
seeded source this module encodes them (RFC 8017 EMSA-PSS and EME-OAEP) with bytes from the
source and applies the RSA primitive to the key's own numbers; every PSS signature made that way
is checked with the library's verifier before it is returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .keygen import CURVES, RSA_BITS, RandomSource, ec_private_key, rsa_private_key
from .secret import SecretBytes

__all__ = [
    "ENCRYPTION_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "AsymmetricKey",
    "CryptoInputError",
    "digest_size",
    "max_plaintext",
    "signing_algorithms_for",
]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA_1": hashes.SHA1, "SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
}
_HASHLIB = {"SHA_1": "sha1", "SHA_256": "sha256", "SHA_384": "sha384", "SHA_512": "sha512"}

#: KMS signing algorithm -> (scheme, hash name).
SIGNING_ALGORITHMS: dict[str, tuple[str, str]] = {
    **{f"RSASSA_PSS_SHA_{n}": ("PSS", f"SHA_{n}") for n in (256, 384, 512)},
    **{f"RSASSA_PKCS1_V1_5_SHA_{n}": ("PKCS1", f"SHA_{n}") for n in (256, 384, 512)},
    **{f"ECDSA_SHA_{n}": ("ECDSA", f"SHA_{n}") for n in (256, 384, 512)},
}

#: KMS RSA encryption algorithm -> hash name (OAEP and its MGF1).
ENCRYPTION_ALGORITHMS: dict[str, str] = {"RSAES_OAEP_SHA_1": "SHA_1", "RSAES_OAEP_SHA_256": "SHA_256"}

# AWS pairs each curve with one ECDSA hash (KMS Developer Guide, "ECC key specs").
_ECDSA_FOR_CURVE = {
    "ECC_NIST_P256": "ECDSA_SHA_256", "ECC_NIST_P384": "ECDSA_SHA_384",
    "ECC_NIST_P521": "ECDSA_SHA_512", "ECC_SECG_P256K1": "ECDSA_SHA_256",
}
_RSA_SIGNING = tuple(a for a, (scheme, _) in SIGNING_ALGORITHMS.items() if scheme != "ECDSA")


class CryptoInputError(Exception):
    """Input the operation cannot use (a malformed public key, a key of another type, a
    ciphertext that does not decrypt); the text names the problem, never a secret."""


def signing_algorithms_for(key_spec: str) -> tuple[str, ...]:
    """The SigningAlgorithms a key of ``key_spec`` supports."""
    if key_spec in RSA_BITS:
        return _RSA_SIGNING
    ecdsa = _ECDSA_FOR_CURVE.get(key_spec)
    return (ecdsa,) if ecdsa else ()


def digest_size(signing_algorithm: str) -> int:
    """The digest length a DIGEST message must have for ``signing_algorithm``."""
    return hashlib.new(_HASHLIB[SIGNING_ALGORITHMS[signing_algorithm][1]]).digest_size


def max_plaintext(key_spec: str, encryption_algorithm: str) -> int:
    """The largest plaintext RSA-OAEP encrypts under ``key_spec`` (k - 2 hLen - 2 bytes)."""
    h = hashlib.new(_HASHLIB[ENCRYPTION_ALGORITHMS[encryption_algorithm]]).digest_size
    return RSA_BITS[key_spec] // 8 - 2 * h - 2


@dataclass(frozen=True, repr=False)  # the numbers include the private exponent
class _Rsa:
    n: int
    e: int
    d: int
    p: int
    q: int
    dmp1: int
    dmq1: int
    iqmp: int

    def private_op(self, m: int) -> int:
        # RSA with the Chinese remainder theorem (RFC 8017 5.1.2, RSADP/RSASP1).
        m1 = pow(m, self.dmp1, self.p)
        m2 = pow(m, self.dmq1, self.q)
        return m2 + self.q * ((self.iqmp * (m1 - m2)) % self.p)


def _mgf1(seed: bytes, length: int, hash_name: str) -> bytes:
    name = _HASHLIB[hash_name]
    out = b"".join(hashlib.new(name, seed + i.to_bytes(4, "big")).digest()
                   for i in range(-(-length // hashlib.new(name).digest_size)))
    return out[:length]


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


class AsymmetricKey:
    """One asymmetric KMS key's private key (RSA or EC); its ``repr`` shows only the spec.

    A key made with ``lazy=True`` generates its private key on first use, from a stream of its
    own, so creating an RSA key that is never used costs nothing and a seeded run still gets
    the same key whenever it is first used.
    """

    __slots__ = ("_factory", "_key", "_numbers", "key_spec")

    def __init__(self, key_spec: str,
                 private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None, *,
                 factory: Callable[[], rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] | None = None,
                 ) -> None:
        if (private_key is None) == (factory is None):
            raise ValueError("give a private key or a factory")
        self.key_spec = key_spec
        self._key = private_key
        self._factory = factory
        self._numbers: _Rsa | None = None

    def __repr__(self) -> str:
        return f"AsymmetricKey(key_spec={self.key_spec!r}, private_key=<redacted>)"

    @property
    def _private(self) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        key = self._key
        if key is None:
            assert self._factory is not None
            key = self._key = self._factory()
            self._factory = None
        return key

    @classmethod
    def generate(cls, key_spec: str, source: RandomSource, *, lazy: bool = False) -> AsymmetricKey:
        """A new key of ``key_spec`` (RSA_* or ECC_*), seeded when ``source`` is.

        ``lazy``: generate on first use; ``source`` must then be the key's own stream (nothing
        else may draw from it in between).
        """
        def make() -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
            if key_spec in RSA_BITS:
                return rsa_private_key(key_spec, source)
            return ec_private_key(key_spec, source)

        return cls(key_spec, factory=make) if lazy else cls(key_spec, make())

    @classmethod
    def from_pkcs8(cls, key_spec: str, der: bytes) -> AsymmetricKey:
        """The key in a PKCS #8 DER private key, which must be of ``key_spec``."""
        try:
            key = serialization.load_der_private_key(bytes(der), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise CryptoInputError("the key material is not a PKCS #8 DER private key") from None
        if key_spec in RSA_BITS:
            ok = isinstance(key, rsa.RSAPrivateKey) and key.key_size == RSA_BITS[key_spec]
        else:
            ok = (isinstance(key, ec.EllipticCurvePrivateKey)
                  and key.curve.name == CURVES[key_spec][0].name)
        if not ok:
            raise CryptoInputError(f"the key material is not a {key_spec} private key")
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return cls(key_spec, key)

    @property
    def modulus_bytes(self) -> int:
        """An RSA key's modulus length in bytes (the length of its ciphertexts)."""
        assert isinstance(self._private, rsa.RSAPrivateKey)
        return (self._private.key_size + 7) // 8

    def public_key_der(self) -> bytes:
        """The public key, DER-encoded SubjectPublicKeyInfo (what GetPublicKey returns)."""
        return self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def private_key_der(self) -> SecretBytes:
        """The private key, DER-encoded PKCS #8 (what GenerateDataKeyPair returns)."""
        return SecretBytes(self._private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    # ------------------------------------------------------------------ signatures

    def sign(self, algorithm: str, message: bytes, *, digest: bool, source: RandomSource) -> bytes:
        """Sign ``message`` (or, with ``digest``, a message's hash) with ``algorithm``."""
        scheme, hash_name = SIGNING_ALGORITHMS[algorithm]
        h = _HASHES[hash_name]()
        chosen: hashes.HashAlgorithm | Prehashed = Prehashed(h) if digest else h
        key = self._private
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(chosen, deterministic_signing=source.seeded))
        if scheme == "PKCS1":
            return key.sign(message, padding.PKCS1v15(), chosen)
        if not source.seeded:
            return key.sign(message, _pss(h), chosen)
        m_hash = message if digest else hashlib.new(_HASHLIB[hash_name], message).digest()
        signature = self._pss_sign(m_hash, hash_name, source)
        # The encoding is ours: let the library confirm it before anyone sees it.
        key.public_key().verify(signature, m_hash, _pss(h), Prehashed(h))
        return signature

    def _rsa_numbers(self) -> _Rsa:
        if self._numbers is None:
            assert isinstance(self._private, rsa.RSAPrivateKey)
            pn = self._private.private_numbers()
            self._numbers = _Rsa(pn.public_numbers.n, pn.public_numbers.e, pn.d, pn.p, pn.q,
                                 pn.dmp1, pn.dmq1, pn.iqmp)
        return self._numbers

    def _pss_sign(self, m_hash: bytes, hash_name: str, source: RandomSource) -> bytes:
        # RFC 8017 9.1.1 EMSA-PSS-ENCODE with sLen = hLen, then RSASP1.
        num = self._rsa_numbers()
        name = _HASHLIB[hash_name]
        h_len = len(m_hash)
        em_bits = num.n.bit_length() - 1
        em_len = -(-em_bits // 8)
        salt = source.token_bytes(h_len)
        hh = hashlib.new(name, bytes(8) + m_hash + salt).digest()
        db = bytes(em_len - 2 * h_len - 2) + b"\x01" + salt
        masked = bytearray(_xor(db, _mgf1(hh, em_len - h_len - 1, hash_name)))
        masked[0] &= 0xFF >> (8 * em_len - em_bits)
        em = bytes(masked) + hh + b"\xbc"
        k = (num.n.bit_length() + 7) // 8
        return num.private_op(int.from_bytes(em, "big")).to_bytes(k, "big")

    def verify(self, algorithm: str, message: bytes, signature: bytes, *, digest: bool) -> bool:
        """Whether ``signature`` is ``algorithm``'s signature of ``message`` under this key."""
        scheme, hash_name = SIGNING_ALGORITHMS[algorithm]
        h = _HASHES[hash_name]()
        chosen: hashes.HashAlgorithm | Prehashed = Prehashed(h) if digest else h
        public = self._private.public_key()
        try:
            if isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(bytes(signature), message, ec.ECDSA(chosen))
            else:
                assert isinstance(public, rsa.RSAPublicKey)
                pad = padding.PKCS1v15() if scheme == "PKCS1" else _pss(h)
                public.verify(bytes(signature), message, pad, chosen)
        except InvalidSignature:
            return False
        return True

    # ------------------------------------------------------------------ RSA encryption

    def encrypt(self, algorithm: str, plaintext: bytes, *, source: RandomSource) -> bytes:
        """RSA-OAEP encryption under the public key (``plaintext`` within :func:`max_plaintext`)."""
        hash_name = ENCRYPTION_ALGORITHMS[algorithm]
        key = self._private
        assert isinstance(key, rsa.RSAPrivateKey)
        if not source.seeded:
            return key.public_key().encrypt(bytes(plaintext), _oaep(hash_name))
        # RFC 8017 7.1.1 EME-OAEP encoding with the seed from ``source``, then RSAEP.
        num = self._rsa_numbers()
        name = _HASHLIB[hash_name]
        k = (num.n.bit_length() + 7) // 8
        h_len = hashlib.new(name).digest_size
        db = (hashlib.new(name, b"").digest() + bytes(k - len(plaintext) - 2 * h_len - 2)
              + b"\x01" + bytes(plaintext))
        seed = source.token_bytes(h_len)
        masked_db = _xor(db, _mgf1(seed, k - h_len - 1, hash_name))
        masked_seed = _xor(seed, _mgf1(masked_db, h_len, hash_name))
        em = b"\x00" + masked_seed + masked_db
        return pow(int.from_bytes(em, "big"), num.e, num.n).to_bytes(k, "big")

    def decrypt(self, algorithm: str, ciphertext: bytes) -> SecretBytes:
        """RSA-OAEP decryption; CryptoInputError if ``ciphertext`` does not decrypt."""
        key = self._private
        assert isinstance(key, rsa.RSAPrivateKey)
        try:
            return SecretBytes(key.decrypt(bytes(ciphertext),
                                           _oaep(ENCRYPTION_ALGORITHMS[algorithm])))
        except ValueError:
            raise CryptoInputError("the ciphertext does not decrypt under this key") from None

    # ------------------------------------------------------------------ key agreement

    def derive_shared_secret(self, public_key_der: bytes) -> SecretBytes:
        """ECDH with a peer's DER SubjectPublicKeyInfo on this key's curve: the raw secret."""
        key = self._private
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        try:
            peer = serialization.load_der_public_key(bytes(public_key_der))
        except (ValueError, UnsupportedAlgorithm):
            raise CryptoInputError(
                "the public key is not a DER-encoded SubjectPublicKeyInfo") from None
        if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != key.curve.name:
            raise CryptoInputError(f"the public key is not on the curve of {self.key_spec}")
        return SecretBytes(key.exchange(ec.ECDH(), peer))


def _pss(h: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.DIGEST_LENGTH)


def _oaep(hash_name: str) -> padding.OAEP:
    h = _HASHES[hash_name]()
    return padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)
