"""HMAC keys: a MAC verifies only for its own message, key and algorithm."""

from __future__ import annotations

import hmac as std_hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as lib_hmac
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.crypto.mac import MAC_ALGORITHMS, HmacKey, mac_algorithm_for
from simulator.entropy import Entropy


@pytest.mark.parametrize("spec", ["HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"])
def test_the_mac_is_the_standard_hmac_of_the_message(spec: str) -> None:
    key = HmacKey.generate(spec, Entropy(1))
    algorithm = mac_algorithm_for(spec)
    assert algorithm in MAC_ALGORITHMS
    mac = key.generate_mac(algorithm, b"message")
    h = {"224": hashes.SHA224, "256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}[
        spec.split("_")[1]]()
    ref = lib_hmac.HMAC(bytes(key._material), h)
    ref.update(b"message")
    assert mac == ref.finalize()
    assert key.verify_mac(algorithm, b"message", mac)


@settings(max_examples=60, deadline=None)
@given(message=st.binary(min_size=1, max_size=512), other=st.binary(min_size=1, max_size=512),
       bit=st.integers(min_value=0))
def test_a_mac_verifies_only_for_its_own_message_and_key(message: bytes, other: bytes, bit: int) -> None:
    key = HmacKey.generate("HMAC_256", Entropy(3))
    other_key = HmacKey.generate("HMAC_256", Entropy(4))
    mac = key.generate_mac("HMAC_SHA_256", message)
    assert key.verify_mac("HMAC_SHA_256", message, mac)
    assert not other_key.verify_mac("HMAC_SHA_256", message, mac)
    if other != message:
        assert not key.verify_mac("HMAC_SHA_256", other, mac)
    flipped = bytearray(mac)
    flipped[(bit // 8) % len(flipped)] ^= 1 << (bit % 8)
    assert not key.verify_mac("HMAC_SHA_256", message, bytes(flipped))
    assert not key.verify_mac("HMAC_SHA_256", message, mac[:-1])


def test_the_key_material_never_shows() -> None:
    key = HmacKey.generate("HMAC_512", Entropy(5))
    assert bytes(key._material).hex() not in repr(key)
    assert std_hmac.compare_digest(key._material, key._material)
