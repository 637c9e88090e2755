"""Seeded key generation: same seed, same key; real primes; unseeded keys from the library."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from simulator.crypto.keygen import (
    CURVES,
    HMAC_KEY_BYTES,
    ec_private_key,
    hmac_key,
    is_probable_prime,
    rsa_private_key,
)
from simulator.entropy import Entropy


def _numbers(key: rsa.RSAPrivateKey) -> rsa.RSAPrivateNumbers:
    return key.private_numbers()


def test_a_seeded_rsa_key_is_the_same_key_every_time() -> None:
    a = rsa_private_key("RSA_2048", Entropy(5))
    b = rsa_private_key("RSA_2048", Entropy(5))
    assert _numbers(a) == _numbers(b)
    assert _numbers(a) != _numbers(rsa_private_key("RSA_2048", Entropy(6)))


def test_a_seeded_rsa_key_has_the_size_exponent_and_prime_factors_asked_for() -> None:
    key = rsa_private_key("RSA_2048", Entropy(9))
    n = _numbers(key)
    assert key.key_size == 2048 and n.public_numbers.n.bit_length() == 2048
    assert n.public_numbers.e == 65537 and n.p * n.q == n.public_numbers.n
    assert n.p.bit_length() == n.q.bit_length() == 1024
    # Independent check of the primality (fixed bases, not the ones the generator drew).
    for prime in (n.p, n.q):
        assert all(pow(a, prime - 1, prime) == 1 for a in (2, 3, 5, 7, 11, 13))
    modulus = n.public_numbers.n
    for m in (2, 12345, modulus - 2):
        assert pow(pow(m, 65537, modulus), n.d, modulus) == m


def test_miller_rabin_rejects_composites_including_carmichael_numbers() -> None:
    src = Entropy(1)
    for composite in (561, 1105, 1729, 2465, 2821, 6601, 8911, 3215031751, (2**61 - 1) * (2**89 - 1)):
        assert not is_probable_prime(composite, 5, src)
    for prime in (2, 3, 65537, 2**61 - 1, 2**89 - 1, 2**521 - 1):
        assert is_probable_prime(prime, 5, src)


@pytest.mark.parametrize("spec", sorted(CURVES))
def test_a_seeded_ec_key_is_a_scalar_drawn_from_the_stream(spec: str) -> None:
    a = ec_private_key(spec, Entropy(3))
    b = ec_private_key(spec, Entropy(3))
    assert a.private_numbers() == b.private_numbers()
    assert a.curve.name == CURVES[spec][0].name
    assert 1 <= a.private_numbers().private_value < CURVES[spec][1]
    assert a.private_numbers() != ec_private_key(spec, Entropy(4)).private_numbers()


def test_unseeded_keys_come_from_the_library_and_differ() -> None:
    a = ec_private_key("ECC_NIST_P256", Entropy(None))
    b = ec_private_key("ECC_NIST_P256", Entropy(None))
    assert isinstance(a, ec.EllipticCurvePrivateKey)
    assert a.private_numbers() != b.private_numbers()
    r = rsa_private_key("RSA_2048", Entropy(None))
    assert r.key_size == 2048


@pytest.mark.parametrize("spec", sorted(HMAC_KEY_BYTES))
def test_hmac_key_material_is_as_long_as_the_digest_and_redacted(spec: str) -> None:
    key = hmac_key(spec, Entropy(2))
    assert len(key) == HMAC_KEY_BYTES[spec]
    assert key.hex() not in repr(key)
    assert key == hmac_key(spec, Entropy(2))
