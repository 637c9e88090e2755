"""Every input is validated before any key material exists, and a plaintext data key is never
a plain ``bytes`` local (what ``pytest --showlocals`` or a traceback with locals would print)."""

from __future__ import annotations

import sys
import traceback
from types import FrameType
from typing import Any

import pytest

from simulator import Simulation
from simulator.errors import ValidationException
from simulator.redact import MAX_DEPTH

LONE = "\ud800"


def _deep(levels: int) -> Any:
    value: Any = "key"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("call", [
    lambda sim, key: sim.kms.generate_data_key(key_id=key, key_spec="AES_256",
                                               encryption_context={"a": LONE}),
    lambda sim, key: sim.kms.generate_data_key(key_id=key, key_spec="AES_256",
                                               encryption_context={LONE: "a"}),
    lambda sim, key: sim.kms.generate_data_key_without_plaintext(
        key_id=key, key_spec="AES_256", encryption_context={"aws:ebs:id": "vol-1" + LONE}),
    lambda sim, key: sim.kms.encrypt(key_id=key, plaintext="secret " + LONE),
    lambda sim, key: sim.kms.encrypt(key_id=key, plaintext=b"x", encryption_context={"a": LONE}),
    lambda sim, key: sim.kms.create_key(description=LONE),
    lambda sim, key: sim.kms.tag_resource(key_id=key, tags=[{"tag_key": "k", "tag_value": LONE}]),
])
def test_a_lone_surrogate_is_a_validation_error_audited_before_any_key_exists(call: Any) -> None:
    sim = Simulation(seed=3)
    key = sim.kms.create_key().arn
    with pytest.raises(ValidationException, match="valid Unicode") as caught:
        call(sim, key)
    assert LONE not in caught.value.message  # named by position, never echoed
    record = sim.audit.events()[-1]
    assert record["errorCode"] == "ValidationException"
    sim.audit.to_jsonl()  # records stay serialisable


def test_a_failed_generate_data_key_draws_no_key_material() -> None:
    sim = Simulation(seed=3)
    key = sim.kms.create_key().arn
    before = sim.runtime.entropy.random.getstate()  # the stream keys and nonces come from
    with pytest.raises(ValidationException):
        sim.kms.generate_data_key(key_id=key, key_spec="AES_256", encryption_context={"a": LONE})
    assert sim.runtime.entropy.random.getstate() == before
    sim.kms.generate_data_key(key_id=key, key_spec="AES_256", encryption_context={"a": "b"})
    assert sim.runtime.entropy.random.getstate() != before  # the check can see a draw


def test_a_key_id_nested_500_lists_deep_is_refused_and_still_audited(sim: Simulation) -> None:
    with pytest.raises(ValidationException, match="Member must be a string"):
        sim.kms.describe_key(key_id=_deep(500))
    record = sim.audit.events()[-1]
    assert (record["eventName"], record["errorCode"]) == ("DescribeKey", "ValidationException")
    level = record["requestParameters"]["keyId"]
    for _ in range(MAX_DEPTH):
        if not isinstance(level, list):
            break
        level = level[0]
    assert level == "<nested too deep>"
    sim.audit.to_jsonl()


def test_a_context_nested_deep_is_refused_and_still_audited(sim: Simulation) -> None:
    key = sim.kms.create_key().arn
    with pytest.raises(ValidationException):
        sim.kms.encrypt(key_id=key, plaintext=b"x", encryption_context={"a": _deep(5000)})
    assert sim.audit.events()[-1]["errorCode"] == "ValidationException"


def _plain_copies(value: object, secret: bytes) -> bool:
    return type(value) in (bytes, bytearray, memoryview) and secret in bytes(value)  # type: ignore[arg-type]


def _locals_during(call: Any) -> tuple[Any, list[tuple[str, str, Any]]]:
    """``call()``'s result and every local of every simulator frame as it returned."""
    seen: list[tuple[str, str, Any]] = []

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "return" and frame.f_globals.get("__name__", "").startswith("simulator"):
            seen.extend((frame.f_code.co_qualname, name, value)
                        for name, value in frame.f_locals.items())

    sys.setprofile(profile)
    try:
        result = call()
    finally:
        sys.setprofile(None)
    return result, seen


def test_generate_data_key_holds_the_plaintext_key_in_no_plain_bytes_local(sim: Simulation) -> None:
    key = sim.kms.create_key().arn
    dk, seen = _locals_during(lambda: sim.kms.generate_data_key(
        key_id=key, key_spec="AES_256", encryption_context={"purpose": "locals"}))
    secret = bytes(dk.plaintext)
    leaks = [(where, name) for where, name, value in seen if _plain_copies(value, secret)]
    assert seen and not leaks


def test_decrypt_holds_the_plaintext_key_in_no_plain_bytes_local(sim: Simulation) -> None:
    key = sim.kms.create_key().arn
    blob = sim.kms.generate_data_key(key_id=key, key_spec="AES_256").ciphertext_blob
    result, seen = _locals_during(lambda: sim.kms.decrypt(ciphertext_blob=blob))
    secret = bytes(result.plaintext)
    leaks = [(where, name) for where, name, value in seen if _plain_copies(value, secret)]
    assert seen and not leaks


def test_a_failed_generate_data_key_traceback_with_locals_shows_no_key() -> None:
    sim = Simulation(seed=3)
    key = sim.kms.create_key().arn
    try:
        sim.kms.generate_data_key(key_id=key, key_spec="AES_256", encryption_context={"a": LONE})
    except Exception as err:
        text = "".join(traceback.TracebackException.from_exception(
            err, capture_locals=True).format())
    # The same seed and calls with a valid context: the key the failed call would have drawn.
    twin = Simulation(seed=3)
    twin_key = twin.kms.create_key().arn
    would_be = bytes(twin.kms.generate_data_key(key_id=twin_key, key_spec="AES_256",
                                                encryption_context={"a": "b"}).plaintext)
    assert would_be.hex() not in text and repr(would_be)[2:-1] not in text
