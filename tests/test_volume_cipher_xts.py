"""AES-256-XTS volume cipher: bit for bit IEEE 1619 and cryptography's own XTS, per 512-byte sector.

Every test runs on both mask paths: the compiled helper (``_xts.c``) and the numpy fallback.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.crypto import volume
from simulator.crypto.volume import SECTOR_SIZE, XtsVolumeCipher

# IEEE Std 1619-2007, Annex B, vector 10 (XTS-AES-256): Key1 || Key2, data unit 0xff, 512 bytes.
V10_KEY = bytes.fromhex(
    "2718281828459045235360287471352662497757247093699959574966967627"
    "3141592653589793238462643383279502884197169399375105820974944592")
V10_SECTOR = 0xFF
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


# The installed path and the numpy fallback (tests/test_xts_helper.py checks the helper was built
# wherever a C compiler exists, so "compiled" is never silently missing from this list in CI).
MASK_PATHS = sorted({volume.xts_backend(), "numpy"})


@pytest.fixture(autouse=True, params=MASK_PATHS)
def mask_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "numpy":
        monkeypatch.setattr(volume, "_compiled_masks", None)
    assert volume.xts_backend() == request.param
    return str(request.param)


def reference(key: bytes, first: int, data: bytes, encrypt: bool = True) -> bytes:
    """cryptography's XTS, one Cipher per sector (the slow, obviously right way)."""
    out = []
    for i in range(len(data) // SECTOR_SIZE):
        tweak = (first + i).to_bytes(16, "little")
        cipher = Cipher(algorithms.AES(key), modes.XTS(tweak))
        ctx = cipher.encryptor() if encrypt else cipher.decryptor()
        out.append(ctx.update(data[i * SECTOR_SIZE:(i + 1) * SECTOR_SIZE]) + ctx.finalize())
    return b"".join(out)


def test_ieee_1619_vector_10_encrypts_and_decrypts() -> None:
    cipher = XtsVolumeCipher(V10_KEY)
    assert bytes(cipher.encrypt(V10_SECTOR, V10_PTX)) == V10_CTX
    assert bytes(cipher.decrypt(V10_SECTOR, V10_CTX)) == V10_PTX


def test_vector_10_inside_a_multi_sector_request_uses_its_own_sector_tweak() -> None:
    cipher = XtsVolumeCipher(V10_KEY)
    data = bytes(SECTOR_SIZE) + V10_PTX + bytes(SECTOR_SIZE)
    out = cipher.encrypt(V10_SECTOR - 1, data)
    assert bytes(out[SECTOR_SIZE:2 * SECTOR_SIZE]) == V10_CTX
    assert bytes(out) == reference(V10_KEY, V10_SECTOR - 1, data)


def test_cryptography_xts_agrees_with_vector_10() -> None:
    assert reference(V10_KEY, V10_SECTOR, V10_PTX) == V10_CTX


keys = st.binary(min_size=64, max_size=64).filter(lambda k: k[:32] != k[32:])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys, first=st.integers(0, 2**64 - 200), sectors=st.integers(1, 150),
       seed=st.binary(min_size=1, max_size=64))
def test_bulk_xts_equals_cryptography_xts_bit_for_bit(key: bytes, first: int, sectors: int,
                                                     seed: bytes) -> None:
    # Random-looking data of any length from a short drawn seed (hypothesis' buffer stays small).
    plain = hashlib.shake_256(seed).digest(sectors * SECTOR_SIZE)
    cipher = XtsVolumeCipher(key)
    encrypted = bytes(cipher.encrypt(first, plain))
    assert encrypted == reference(key, first, plain)
    assert bytes(cipher.decrypt(first, encrypted)) == plain
    assert reference(key, first, encrypted, encrypt=False) == plain


def test_requests_larger_than_one_chunk_match_cryptography() -> None:
    key = bytes(range(64))
    plain = bytes((i * 7) & 0xFF for i in range(2100 * SECTOR_SIZE))  # > 1 MiB: two chunks
    cipher = XtsVolumeCipher(key)
    encrypted = bytes(cipher.encrypt(12345, plain))
    assert encrypted == reference(key, 12345, plain)
    assert bytes(cipher.decrypt(12345, encrypted)) == plain


def test_last_sector_numbers_of_the_64_bit_range_work() -> None:
    key = bytes(range(1, 65))
    plain = bytes(3 * SECTOR_SIZE)
    first = 2**64 - 3
    assert bytes(XtsVolumeCipher(key).encrypt(first, plain)) == reference(key, first, plain)


def test_same_plaintext_in_two_sectors_encrypts_differently() -> None:
    cipher = XtsVolumeCipher(bytes(range(64)))
    out = cipher.encrypt(0, bytes(2 * SECTOR_SIZE))
    assert out[:SECTOR_SIZE] != out[SECTOR_SIZE:]


def test_key_with_equal_halves_is_refused() -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(32) * 2)


@pytest.mark.parametrize("size", [0, 32, 63, 65])
def test_key_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(range(size)))


def test_partial_sector_is_refused() -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(range(64))).encrypt(0, bytes(100))


def test_closed_cipher_refuses_work_and_repr_hides_the_key() -> None:
    key = bytes(range(64))
    cipher = XtsVolumeCipher(key)
    assert key.hex() not in repr(cipher) and "redacted" in repr(cipher)
    cipher.close()
    with pytest.raises(ValueError):
        cipher.encrypt(0, bytes(SECTOR_SIZE))


def test_encrypt_into_and_decrypt_into_fill_slices_of_larger_buffers() -> None:
    key = bytes(range(7, 71))
    plain = hashlib.shake_256(b"into").digest(70 * SECTOR_SIZE)
    cipher = XtsVolumeCipher(key)
    disk = bytearray(SECTOR_SIZE + len(plain) + SECTOR_SIZE)
    cipher.encrypt_into(99, memoryview(plain), memoryview(disk)[SECTOR_SIZE:-SECTOR_SIZE])
    assert disk[:SECTOR_SIZE] == bytes(SECTOR_SIZE) and disk[-SECTOR_SIZE:] == bytes(SECTOR_SIZE)
    assert bytes(disk[SECTOR_SIZE:-SECTOR_SIZE]) == reference(key, 99, plain)
    back = bytearray(len(plain))
    cipher.decrypt_into(99, memoryview(disk)[SECTOR_SIZE:-SECTOR_SIZE], back)
    assert bytes(back) == plain


@pytest.mark.parametrize("dst", [bytearray(SECTOR_SIZE), bytes(2 * SECTOR_SIZE),
                                 bytearray(3 * SECTOR_SIZE)])
def test_destination_must_be_writable_and_as_long_as_the_source(dst: bytearray | bytes) -> None:
    with pytest.raises(ValueError):
        XtsVolumeCipher(bytes(range(64))).encrypt_into(0, bytes(2 * SECTOR_SIZE), dst)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [bytes(range(32)), volume._ZERO_TWEAK_KEY])
def test_bulk_ecb_through_zero_tweak_xts_is_plain_ecb(key: bytes) -> None:
    data = hashlib.shake_256(key).digest(4096)
    ecb = Cipher(algorithms.AES(key), modes.ECB())
    assert volume._bulk_ecb(key, encrypt=True).update(data) == ecb.encryptor().update(data)
    assert volume._bulk_ecb(key, encrypt=False).update(data) == ecb.decryptor().update(data)


def test_key_schedules_wait_for_the_first_request_and_use_the_key_as_given() -> None:
    # The cipher references the caller's buffer until its first request builds the contexts.
    key = bytearray(range(64))
    cipher = XtsVolumeCipher(key)
    assert cipher._enc is None and cipher._dec is None and cipher._tweak is None
    assert bytes(cipher.decrypt(5, reference(bytes(key), 5, bytes(SECTOR_SIZE)))) == \
        bytes(SECTOR_SIZE)
    assert cipher._enc is None  # only what a read needs
    assert bytes(cipher.encrypt(5, bytes(SECTOR_SIZE))) == \
        reference(bytes(key), 5, bytes(SECTOR_SIZE))


def test_a_key_wiped_before_the_first_request_is_refused_not_used() -> None:
    key = bytearray(range(64))
    cipher = XtsVolumeCipher(key)
    key[:] = bytes(64)  # what EBS does on detach; a cipher must never encrypt under zeros
    with pytest.raises(ValueError):
        cipher.encrypt(0, bytes(SECTOR_SIZE))


def test_close_drops_the_reference_to_the_key() -> None:
    key = bytearray(range(64))
    cipher = XtsVolumeCipher(key)
    cipher.encrypt(0, bytes(SECTOR_SIZE))
    cipher.close()
    assert all(value is not key for value in vars(cipher).values())
    with pytest.raises(ValueError):
        cipher.decrypt(0, bytes(SECTOR_SIZE))


def test_one_off_small_requests_keep_no_scratch_but_repeated_and_bulk_sizes_do() -> None:
    cipher = XtsVolumeCipher(bytes(range(64)))
    cipher.encrypt(0, bytes(64 * SECTOR_SIZE))  # e.g. a volume's single 32 KiB block write
    assert cipher._scratch == {}
    cipher.encrypt(64, bytes(64 * SECTOR_SIZE))  # the same size again: worth keeping
    assert list(cipher._scratch) == [64]
    cipher.encrypt(0, bytes(2048 * SECTOR_SIZE))  # a full 1 MiB piece: kept at once
    assert sorted(cipher._scratch) == [64, 2048]
