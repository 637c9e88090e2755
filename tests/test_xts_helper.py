"""The XTS lane pass, compiled (simulator/crypto/_xts.c) and numpy: src xor t_s * x^j per lane."""

from __future__ import annotations

import hashlib
import shutil
import sysconfig
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.crypto import volume

SECTOR = volume.SECTOR_SIZE
Whiten = Callable[[bytes, bytes, bytearray], None]


def model_whiten(tweaks: bytes, data: bytes) -> bytes:
    """IEEE 1619 written out with Python ints: lane j of sector s xor t_s * x^j."""
    out = bytearray()
    for s in range(len(data) // SECTOR):
        t = int.from_bytes(tweaks[16 * s:16 * s + 16], "little")
        for j in range(SECTOR // 16):
            at = s * SECTOR + 16 * j
            out += (int.from_bytes(data[at:at + 16], "little") ^ t).to_bytes(16, "little")
            t <<= 1
            if t >> 128:
                t = (t & (2**128 - 1)) ^ 0x87
    return bytes(out)


def numpy_whiten(tweaks: bytes, src: bytes, dst: bytearray) -> None:
    """The fallback path's masks (``volume._numpy_masks``) XORed over ``src``."""
    n = len(tweaks) // 16
    if n == 0:
        return
    s = volume._MaskScratch(n)
    s.tweaks[:16 * n] = tweaks
    np.bitwise_xor(np.frombuffer(src, np.uint64), volume._numpy_masks(s),
                   out=np.frombuffer(dst, np.uint64))


def compiled_whiten() -> Whiten:
    from simulator.crypto import _xts  # fails with the import error if the install did not build it

    return _xts.whiten


PATHS: dict[str, Callable[[], Whiten]] = {"numpy": lambda: numpy_whiten}
if volume.xts_backend() == "compiled":
    PATHS["compiled"] = compiled_whiten


@pytest.fixture(params=sorted(PATHS))
def whiten(request: pytest.FixtureRequest) -> Whiten:
    return PATHS[request.param]()


def test_the_install_built_the_helper_where_a_c_compiler_exists() -> None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    expected = "compiled" if shutil.which(compiler) else "numpy"
    assert volume.xts_backend() == expected, "setup.py should build simulator/crypto/_xts.c here"


def test_helper_and_python_agree_on_the_sector_size() -> None:
    if volume.xts_backend() == "compiled":
        from simulator.crypto import _xts

        assert _xts.SECTOR_SIZE == SECTOR
    assert SECTOR == 512


@settings(max_examples=40, deadline=None)
@given(sectors=st.integers(0, 37), seed=st.binary(min_size=1, max_size=32))
def test_every_lane_is_xored_with_its_sector_tweak_times_x_to_the_lane(sectors: int, seed: bytes) -> None:
    # 37 sectors: the 16-sector blocks, the four side-by-side chains and both tails.
    stream = hashlib.shake_256(seed).digest(sectors * (SECTOR + 16))
    tweaks, data = stream[:16 * sectors], stream[16 * sectors:]
    expected = model_whiten(tweaks, data)
    for path in PATHS.values():
        out = bytearray(len(data))
        path()(tweaks, data, out)
        assert bytes(out) == expected


def test_tweak_with_the_top_bit_set_reduces_by_0x87(whiten: Whiten) -> None:
    out = bytearray(SECTOR)
    whiten((1 << 127).to_bytes(16, "little"), bytes(SECTOR), out)
    assert out[16:32] == (0x87).to_bytes(16, "little")  # lane 1: x^127 * x = x^7 + x^2 + x + 1


def test_whitening_twice_gives_back_the_data(whiten: Whiten) -> None:
    data = bytes(range(256)) * 10  # five sectors
    tweaks = bytes(range(80))
    once = bytearray(len(data))
    whiten(tweaks, data, once)
    assert bytes(once) == model_whiten(tweaks, data)
    twice = bytearray(len(data))
    whiten(tweaks, bytes(once), twice)
    assert bytes(twice) == data


def test_compiled_pass_works_in_place() -> None:
    if volume.xts_backend() != "compiled":
        assert volume._whiten is None
        return
    data = bytes(range(256)) * 6
    tweaks = bytes(range(48))
    buf = bytearray(data)
    compiled_whiten()(tweaks, buf, buf)  # type: ignore[arg-type]
    assert bytes(buf) == model_whiten(tweaks, data)


@pytest.mark.parametrize(("tweaks", "src", "dst"), [
    (bytes(16), bytes(SECTOR - 1), bytearray(SECTOR - 1)),   # not whole sectors
    (bytes(16), bytes(SECTOR), bytearray(2 * SECTOR)),       # dst of another length
    (bytes(32), bytes(SECTOR), bytearray(SECTOR)),           # tweaks for another count
    (bytes(0), bytes(SECTOR), bytearray(SECTOR)),
])
def test_compiled_pass_refuses_mismatched_buffers_and_leaves_dst_alone(tweaks: bytes, src: bytes,
                                                                       dst: bytearray) -> None:
    if volume.xts_backend() != "compiled":
        return
    before = bytes(dst)
    with pytest.raises(ValueError):
        compiled_whiten()(tweaks, src, dst)
    assert bytes(dst) == before


def test_compiled_pass_refuses_a_read_only_destination() -> None:
    if volume.xts_backend() != "compiled":
        return
    with pytest.raises(TypeError):
        compiled_whiten()(bytes(16), bytes(SECTOR), bytes(SECTOR))  # type: ignore[arg-type]
