"""AES-256-XTS volume cipher: bit for bit IEEE 1619 and an independent lane-by-lane XTS.

The cipher's data unit is :data:`XTS_DATA_UNIT` (32 KiB). XTS's first 512 bytes of a data unit
depend only on the key, the tweak and those bytes (lane ``j`` is masked with ``E_K2(tweak) * x^j``),
so the IEEE vectors, published for 512-byte data units, are checked as the head of a unit.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.crypto.volume import XTS_DATA_UNIT, XtsVolumeCipher

UNIT = XTS_DATA_UNIT

# IEEE Std 1619-2007, Annex B, vector 10 (XTS-AES-256): Key1 || Key2, data unit 0xff, 512 bytes.
V10_KEY = bytes.fromhex(
    "2718281828459045235360287471352662497757247093699959574966967627"
    "3141592653589793238462643383279502884197169399375105820974944592")
V10_UNIT = 0xFF
V10_PTX = bytes(range(256)) * 2
V10_CTX = bytes.fromhex(
    "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
    "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
    "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
    "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
    "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
    "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
    "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
    "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
    "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
    "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
    "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
    "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
    "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
    "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
    "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
    "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151")
# IEEE Std 1619-2007, Annex B, vector 11: the same keys, data unit 0xffff (the same plaintext).
V11_UNIT = 0xFFFF
V11_CTX_HEAD = bytes.fromhex("77a31251618a15e6b92d1d66dffe7b50")


def _ecb(key: bytes, data: bytes) -> bytes:
    ctx = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return ctx.update(data) + ctx.finalize()


def _ecb_decrypt(key: bytes, data: bytes) -> bytes:
    ctx = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return ctx.update(data) + ctx.finalize()


def lane_by_lane(key: bytes, unit: int, data: bytes, encrypt: bool = True) -> bytes:
    """IEEE 1619 as written: T = E_K2(unit), then C_j = E_K1(P_j xor T) xor T, T = T * x per
    16-byte lane (AES-ECB for single blocks, the GF(2^128) doubling in Python)."""
    k1, k2 = key[:32], key[32:]
    t = int.from_bytes(_ecb(k2, unit.to_bytes(16, "little")), "little")
    out = bytearray()
    for at in range(0, len(data), 16):
        mask = t.to_bytes(16, "little")
        lane = bytes(a ^ b for a, b in zip(data[at:at + 16], mask, strict=True))
        lane = _ecb(k1, lane) if encrypt else _ecb_decrypt(k1, lane)
        out += bytes(a ^ b for a, b in zip(lane, mask, strict=True))
        t = ((t << 1) ^ (0x87 if t >> 127 else 0)) & ((1 << 128) - 1)
    return bytes(out)


def reference(key: bytes, first: int, data: bytes, encrypt: bool = True) -> bytes:
    """Every data unit through the lane-by-lane XTS above."""
    return b"".join(lane_by_lane(key, first + i, data[i * UNIT:(i + 1) * UNIT], encrypt)
                    for i in range(len(data) // UNIT))


def test_the_data_unit_is_the_ebs_block() -> None:
    from simulator.ebs.store import BLOCK_SIZE
    assert UNIT == BLOCK_SIZE == 32 * 1024


@pytest.mark.parametrize(("unit", "head"), [(V10_UNIT, V10_CTX), (V11_UNIT, V11_CTX_HEAD)])
def test_ieee_1619_vectors_are_the_head_of_a_data_unit(unit: int, head: bytes) -> None:
    cipher = XtsVolumeCipher(V10_KEY)
    plain = V10_PTX + bytes(UNIT - len(V10_PTX))
    encrypted = cipher.encrypt(unit, plain)
    assert bytes(encrypted[:len(head)]) == head
    assert bytes(cipher.decrypt(unit, encrypted)) == plain


def test_the_lane_by_lane_reference_reproduces_vector_10() -> None:
    assert lane_by_lane(V10_KEY, V10_UNIT, V10_PTX) == V10_CTX


def test_each_data_unit_of_a_request_uses_its_own_tweak() -> None:
    cipher = XtsVolumeCipher(V10_KEY)
    plain = bytes(UNIT) + V10_PTX + bytes(UNIT - len(V10_PTX)) + bytes(UNIT)
    out = cipher.encrypt(V10_UNIT - 1, plain)
    assert bytes(out[UNIT:UNIT + len(V10_CTX)]) == V10_CTX
    assert bytes(out) == reference(V10_KEY, V10_UNIT - 1, plain)


keys = st.binary(min_size=64, max_size=64).filter(lambda k: k[:32] != k[32:])


@settings(max_examples=8, deadline=None)
@given(key=keys, first=st.integers(0, 2**64 - 3), units=st.integers(1, 2),
       seed=st.binary(min_size=1, max_size=64))
def test_xts_equals_lane_by_lane_xts_bit_for_bit(key: bytes, first: int, units: int,
                                                 seed: bytes) -> None:
    # Random-looking data from a short drawn seed (hypothesis' buffer stays small).
    plain = hashlib.shake_256(seed).digest(units * UNIT)
    cipher = XtsVolumeCipher(key)
    encrypted = bytes(cipher.encrypt(first, plain))
    assert encrypted == reference(key, first, plain)
    assert bytes(cipher.decrypt(first, encrypted)) == plain


def test_last_data_unit_numbers_of_the_64_bit_range_work_and_beyond_is_refused() -> None:
    key = bytes(range(1, 65))
    plain = bytes(2 * UNIT)
    first = 2**64 - 2
    assert bytes(XtsVolumeCipher(key).encrypt(first, plain)) == reference(key, first, plain)
    with pytest.raises(ValueError):
        XtsVolumeCipher(key).encrypt(first + 1, plain)
    with pytest.raises(ValueError):
        XtsVolumeCipher(key).encrypt(-1, plain[:UNIT])


def test_same_plaintext_in_two_data_units_encrypts_differently() -> None:
    cipher = XtsVolumeCipher(bytes(range(64)))
    out = cipher.encrypt(0, bytes(2 * UNIT))
    assert out[:UNIT] != out[UNIT:]


def test_key_with_equal_halves_is_refused() -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(32) * 2)


@pytest.mark.parametrize("size", [0, 32, 63, 65])
def test_key_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(range(size)))


@pytest.mark.parametrize("size", [512, UNIT - 16, UNIT + 512])
def test_partial_data_unit_is_refused(size: int) -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(range(64))).encrypt(0, bytes(size))


def test_closed_cipher_refuses_work_and_repr_hides_the_key() -> None:
    key = bytes(range(64))
    cipher = XtsVolumeCipher(key)
    assert key.hex() not in repr(cipher) and "redacted" in repr(cipher)
    cipher.close()
    with pytest.raises(ValueError):
        cipher.encrypt(0, bytes(UNIT))


def test_encrypt_into_and_decrypt_into_fill_slices_of_larger_buffers() -> None:
    key = bytes(range(7, 71))
    plain = hashlib.shake_256(b"into").digest(2 * UNIT)
    cipher = XtsVolumeCipher(key)
    disk = bytearray(512 + len(plain) + 512)
    cipher.encrypt_into(99, memoryview(plain), memoryview(disk)[512:-512])
    assert disk[:512] == bytes(512) and disk[-512:] == bytes(512)
    assert bytes(disk[512:-512]) == reference(key, 99, plain)
    back = bytearray(len(plain))
    cipher.decrypt_into(99, memoryview(disk)[512:-512], back)
    assert bytes(back) == plain


@pytest.mark.parametrize("dst", [bytearray(UNIT), bytes(2 * UNIT), bytearray(3 * UNIT)])
def test_destination_must_be_writable_and_as_long_as_the_source(dst: bytearray | bytes) -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(range(64))).encrypt_into(0, bytes(2 * UNIT), dst)  # type: ignore[arg-type]


def test_the_key_is_read_at_the_first_request_and_used_as_given() -> None:
    key = bytearray(range(64))
    cipher = XtsVolumeCipher(key)
    assert bytes(cipher.decrypt(5, reference(bytes(key), 5, bytes(UNIT)))) == bytes(UNIT)
    assert bytes(cipher.encrypt(5, bytes(UNIT))) == reference(bytes(key), 5, bytes(UNIT))


def test_a_key_wiped_before_the_first_request_is_refused_not_used() -> None:
    key = bytearray(range(64))
    cipher = XtsVolumeCipher(key)
    key[:] = bytes(64)  # what EBS does on detach; a cipher must never encrypt under zeros
    with pytest.raises(ValueError):
        cipher.encrypt(0, bytes(UNIT))


def test_close_drops_the_reference_to_the_key() -> None:
    key = bytearray(range(64))
    cipher = XtsVolumeCipher(key)
    cipher.encrypt(0, bytes(UNIT))
    cipher.close()
    assert all(value is not key for value in vars(cipher).values())
    with pytest.raises(ValueError):
        cipher.decrypt(0, bytes(UNIT))
