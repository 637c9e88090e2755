"""Service hooks: handlers run around operations and may fail them with an AWS error."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import KMSInternalException


def test_before_call_handler_fails_the_operation_and_the_failure_is_audited(sim: Simulation) -> None:
    key = sim.kms.create_key()
    seen: list[str] = []

    def fail(**kwargs: object) -> None:
        seen.append(str(kwargs["event"]))
        raise KMSInternalException("injected")

    unregister = sim.runtime.hooks.register("before-call.kms.Encrypt", fail)
    with pytest.raises(KMSInternalException):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    assert seen == ["before-call.kms.Encrypt"]
    assert sim.audit.events(event_name="Encrypt")[-1]["errorCode"] == "KMSInternalException"
    unregister()
    sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    assert "before-call.kms.Encrypt" not in sim.runtime.hooks


def test_handlers_for_other_operations_do_not_run(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.runtime.hooks.register("before-call.kms.Decrypt", lambda **_: (_ for _ in ()).throw(RuntimeError()))
    sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
