"""Key generation that a seeded simulation can replay: RSA, elliptic-curve and HMAC keys.

A seeded source gets keys derived only from its bytes, so ``Simulation(seed=N)`` makes the same
keys every run: an EC private key is a scalar drawn from the stream; an RSA key comes from a
deterministic prime search over candidates drawn from the stream, tested with Miller-Rabin
(bases drawn from the stream too), and is built into a ``cryptography`` key from its numbers,
where OpenSSL checks it again. An unseeded source uses the library's own generators.

Nothing is cached: every call makes a new key.
"""

from __future__ import annotations

from math import gcd
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .secret import SecretBytes

__all__ = [
    "CURVES",
    "HMAC_KEY_BYTES",
    "RSA_BITS",
    "RandomSource",
    "ec_private_key",
    "hmac_key",
    "is_probable_prime",
    "rsa_private_key",
]

#: KMS key spec -> RSA modulus size.
RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}

#: KMS key spec -> (curve, group order). The orders are the curves' published constants
#: (SEC 2 and FIPS 186-5); the library does not expose them.
CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "ECC_NIST_P256": (ec.SECP256R1(),
                      0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "ECC_NIST_P384": (ec.SECP384R1(), int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16)),
    "ECC_NIST_P521": (ec.SECP521R1(), int(
        "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16)),
    "ECC_SECG_P256K1": (ec.SECP256K1(),
                        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141),
}

#: HMAC key spec -> key length in bytes (AWS: the key is as long as the digest).
HMAC_KEY_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}

_E = 65537
# Miller-Rabin rounds per prime size, for random candidates with an error probability far
# below 2**-100 (the counts FIPS 186-5 Appendix B tabulates for RSA primes of these sizes).
_MR_ROUNDS = {1024: 5, 1536: 4, 2048: 4}
# Odd candidates examined per drawn start; a 2048-bit prime is expected every ~710 of them.
_WINDOW = 4096
_SMALL_PRIMES_BOUND = 1 << 16


class RandomSource(Protocol):
    """What key generation needs from the simulation's entropy (``simulator.entropy.Entropy``)."""

    @property
    def seeded(self) -> bool: ...

    def token_bytes(self, n: int) -> bytes: ...


def _small_primes(bound: int) -> tuple[int, ...]:
    sieve = bytearray([1]) * bound
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(bound**0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, bound, i)))
    return tuple(i for i in range(3, bound) if sieve[i])


_SMALL_PRIMES = _small_primes(_SMALL_PRIMES_BOUND)


def _draw_below(source: RandomSource, bound: int) -> int:
    """An integer in ``[0, bound)``: 64 extra bits reduced modulo ``bound`` (FIPS 186-5 A.2.1)."""
    size = (bound.bit_length() + 64 + 7) // 8
    return int.from_bytes(source.token_bytes(size), "big") % bound


def is_probable_prime(n: int, rounds: int, source: RandomSource) -> bool:
    """Miller-Rabin with ``rounds`` bases drawn from ``source`` (after trial division)."""
    if n < 2:
        return False
    for p in (2, *_SMALL_PRIMES[:64]):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while not d & 1:
        d >>= 1
        s += 1
    for _ in range(rounds):
        a = 2 + _draw_below(source, n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, source: RandomSource) -> int:
    """A ``bits``-bit prime p with the top two bits set and gcd(e, p - 1) = 1."""
    rounds = _MR_ROUNDS[bits]
    top = 3 << (bits - 2)
    while True:
        start = int.from_bytes(source.token_bytes(bits // 8), "big") | top | 1
        # Sieve the window start, start + 2, ... by the small primes: most composites never
        # reach the (costly) Miller-Rabin test.
        alive = bytearray([1]) * _WINDOW
        for p in _SMALL_PRIMES:
            first = (-(start % p) * ((p + 1) // 2)) % p  # start + 2 * first == 0 (mod p)
            alive[first::p] = bytes(len(range(first, _WINDOW, p)))
        for i in range(_WINDOW):
            if not alive[i]:
                continue
            candidate = start + 2 * i
            if candidate.bit_length() != bits:
                break
            if gcd(_E, candidate - 1) == 1 and is_probable_prime(candidate, rounds, source):
                return candidate


def rsa_private_key(key_spec: str, source: RandomSource) -> rsa.RSAPrivateKey:
    """An RSA key of ``key_spec`` (RSA_2048/3072/4096), e = 65537."""
    bits = RSA_BITS[key_spec]
    if not source.seeded:
        return rsa.generate_private_key(public_exponent=_E, key_size=bits)
    half = bits // 2
    while True:
        p = _prime(half, source)
        q = _prime(half, source)
        # FIPS 186-5 A.1.3: |p - q| > 2**(nlen/2 - 100), so n cannot be factored by Fermat.
        if abs(p - q).bit_length() <= half - 100:
            continue
        if p < q:
            p, q = q, p
        lam = (p - 1) * (q - 1) // gcd(p - 1, q - 1)
        d = pow(_E, -1, lam)
        if d.bit_length() <= half:  # FIPS 186-5 A.1.1: d > 2**(nlen/2)
            continue
        public = rsa.RSAPublicNumbers(_E, p * q)
        numbers = rsa.RSAPrivateNumbers(
            p=p, q=q, d=d, dmp1=rsa.rsa_crt_dmp1(d, p), dmq1=rsa.rsa_crt_dmq1(d, q),
            iqmp=rsa.rsa_crt_iqmp(p, q), public_numbers=public)
        return numbers.private_key()


def ec_private_key(key_spec: str, source: RandomSource) -> ec.EllipticCurvePrivateKey:
    """A private key on the curve of ``key_spec``: a scalar in [1, n - 1] drawn from ``source``."""
    curve, order = CURVES[key_spec]
    if not source.seeded:
        return ec.generate_private_key(curve)
    return ec.derive_private_key(1 + _draw_below(source, order - 1), curve)


def hmac_key(key_spec: str, source: RandomSource) -> SecretBytes:
    """HMAC key material for ``key_spec`` (HMAC_224/256/384/512)."""
    return SecretBytes(source.token_bytes(HMAC_KEY_BYTES[key_spec]))
