"""XTS tweak masks, compiled (simulator/crypto/_xts.c) and numpy: t_s * x^j for every lane."""

from __future__ import annotations

import hashlib
import os
import shutil
import sysconfig
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.crypto import volume

SECTOR = volume.SECTOR_SIZE
Masks = Callable[[bytes], bytes]  # tweaks (16 bytes per sector) -> masks (512 bytes per sector)


def model_masks(tweaks: bytes) -> bytes:
    """IEEE 1619 written out with Python ints: lane j of sector s gets t_s * x^j."""
    out = bytearray()
    for s in range(len(tweaks) // 16):
        t = int.from_bytes(tweaks[16 * s:16 * s + 16], "little")
        for _ in range(SECTOR // 16):
            out += t.to_bytes(16, "little")
            t <<= 1
            if t >> 128:
                t = (t & (2**128 - 1)) ^ 0x87
    return bytes(out)


def numpy_masks(tweaks: bytes) -> bytes:
    n = len(tweaks) // 16
    s = volume._MaskScratch(n)
    s.tweaks[:16 * n] = tweaks
    return volume._numpy_masks(s).tobytes()


def compiled_masks(tweaks: bytes) -> bytes:
    from simulator.crypto import _xts  # fails with the import error if the install did not build it

    out = bytearray(len(tweaks) // 16 * SECTOR)
    _xts.masks(tweaks, out)
    return bytes(out)


PATHS: dict[str, Masks] = {"numpy": numpy_masks}
if volume.xts_backend() == "compiled":
    PATHS["compiled"] = compiled_masks


# Checks of the helper itself; the guard test above fails wherever a compiler should have built it.
compiled_only = pytest.mark.skipif(volume.xts_backend() != "compiled",
                                   reason="the install built no C helper (no C compiler)")


@pytest.fixture(params=sorted(PATHS))
def masks(request: pytest.FixtureRequest) -> Masks:
    return PATHS[request.param]


def test_the_install_built_the_helper_where_a_c_compiler_exists() -> None:
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    expected = "compiled" if shutil.which(compiler) else "numpy"
    assert volume.xts_backend() == expected, "setup.py should build simulator/crypto/_xts.c here"


def test_helper_and_python_agree_on_the_sector_size() -> None:
    if volume.xts_backend() == "compiled":
        from simulator.crypto import _xts

        assert _xts.SECTOR_SIZE == SECTOR
    assert SECTOR == 512


@settings(max_examples=40, deadline=None)
@given(sectors=st.integers(1, 11), seed=st.binary(min_size=1, max_size=32))
def test_every_lane_gets_its_sector_tweak_times_x_to_the_lane(sectors: int, seed: bytes) -> None:
    # Up to 11 sectors: the four side-by-side chains and every tail length.
    tweaks = hashlib.shake_256(seed).digest(16 * sectors)
    expected = model_masks(tweaks)
    for path in PATHS.values():
        assert path(tweaks) == expected


def test_tweak_with_the_top_bit_set_reduces_by_0x87(masks: Masks) -> None:
    out = masks((1 << 127).to_bytes(16, "little"))
    assert out[:16] == (1 << 127).to_bytes(16, "little")
    assert out[16:32] == (0x87).to_bytes(16, "little")  # lane 1: x^127 * x = x^7 + x^2 + x + 1
    assert out[32:48] == (0x87 << 1).to_bytes(16, "little")


def test_the_last_lane_of_a_sector_is_the_tweak_times_x_to_the_31(masks: Masks) -> None:
    tweak = bytes(range(1, 17))
    t = int.from_bytes(tweak, "little")
    for _ in range(31):
        t = ((t << 1) & (2**128 - 1)) ^ (0x87 if t >> 127 else 0)
    assert masks(tweak)[-16:] == t.to_bytes(16, "little")


@compiled_only
@pytest.mark.parametrize(("tweaks", "out"), [
    (bytes(15), bytearray(SECTOR)),            # not whole tweaks
    (bytes(16), bytearray(SECTOR - 1)),        # out too short
    (bytes(16), bytearray(2 * SECTOR)),        # out for another count
    (bytes(32), bytearray(SECTOR)),
])
def test_compiled_helper_refuses_mismatched_buffers_and_leaves_out_alone(tweaks: bytes,
                                                                         out: bytearray) -> None:
    from simulator.crypto import _xts

    before = bytes(out)
    with pytest.raises(ValueError):
        _xts.masks(tweaks, out)
    assert bytes(out) == before


@compiled_only
def test_compiled_helper_refuses_a_read_only_destination() -> None:
    from simulator.crypto import _xts

    with pytest.raises(TypeError):
        _xts.masks(bytes(16), bytes(SECTOR))  # type: ignore[arg-type]
