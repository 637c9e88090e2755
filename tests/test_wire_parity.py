"""boto3 through the wire answers exactly as the Python API: every implemented KMS, WorkSpaces and
Directory Service operation, its success and its documented errors (in process here; the HTTP
face replays the same scenario in test_wire_server.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from wire_support import (
    ANY_ERROR,
    ATTRIBUTES,
    COMMON_ERRORS,
    MODELS,
    implemented_operations,
    scenario,
    succeeding_operations,
    to_boto,
)

from simulator import Simulation
from simulator.errors import AwsError
from simulator.wire import mock_aws
from simulator.wire.protocols import JsonProtocol


def python_face(sim: Simulation) -> Callable[[str, str, dict[str, Any]], Any]:
    def call(service: str, operation: str, kwargs: dict[str, Any]) -> Any:
        from botocore import xform_name

        return getattr(getattr(sim, ATTRIBUTES[service]), xform_name(operation))(**kwargs)
    return call


def as_parsed(service: str, operation: str, result: Any) -> dict[str, Any]:
    """A Python API result as botocore parses it off the wire (no response metadata)."""
    op = MODELS[service].operation_model(operation)
    response = JsonProtocol().encode(op, result, "request-id")
    parsed = create_parser("json").parse(
        {"body": response.body, "headers": response.headers, "status_code": 200}, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def replay(boto_call: Callable[[str, str, dict[str, Any]], dict[str, Any]]) -> set[tuple[str, str]]:
    """Run the scenario on a Python-API simulation and through ``boto_call`` on a twin with the
    same seed; every step must agree. Returns the operations that succeeded."""
    sim = Simulation(seed=11)
    python = python_face(sim)
    ctx: dict[str, Any] = {}
    succeeded = set()
    for step in scenario():
        kwargs = step.kwargs(ctx)
        if step.service == "_idle":
            sim.run_until_idle()
            boto_call("_idle", "", {})
            continue
        if step.service == "_user":
            sim.directory.create_user(**kwargs)
            boto_call("_user", "", kwargs)
            continue
        op = MODELS[step.service].operation_model(step.operation)
        where = f"{step.service} {step.operation} {kwargs}"
        try:
            expected: Any = python(step.service, step.operation, kwargs)
            code = None
        except AwsError as err:
            code, message = err.code, err.message
        assert code == step.expect or (step.expect == ANY_ERROR and code is not None), \
            f"{where}: Python API gave {code}"
        try:
            got = boto_call(step.service, step.operation, to_boto(op.input_shape, kwargs))
        except ClientError as err:
            assert code is not None, f"{where}: wire failed {err}"
            assert err.response["Error"]["Code"] == code, where
            assert err.response["Error"]["Message"] == message, where
            documented = {e.name for e in op.error_shapes} | COMMON_ERRORS
            assert code in documented, f"{where}: {code} is not a documented error"
            continue
        assert code is None, f"{where}: wire succeeded where the Python API raised {code}"
        got.pop("ResponseMetadata", None)
        assert got == as_parsed(step.service, step.operation, expected), where
        succeeded.add((step.service, step.operation))
        if step.save:
            ctx[step.save] = expected
    return succeeded


def test_every_implemented_operation_succeeds_and_fails_as_the_python_api_does_in_process() -> None:
    sim = Simulation(seed=11)
    with mock_aws(sim):
        clients = {name: boto3.client(name) for name in MODELS}

        def call(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
            if service == "_idle":
                sim.run_until_idle()
                return {}
            if service == "_user":
                sim.directory.create_user(**params)
                return {}
            from botocore import xform_name

            result: dict[str, Any] = getattr(clients[service], xform_name(operation))(**params)
            return result

        succeeded = replay(call)
    assert succeeded == succeeding_operations()


@pytest.mark.parametrize("service", sorted(MODELS))
def test_scenario_covers_every_implemented_operation(service: str) -> None:
    covered = {(s.service, s.operation) for s in scenario()}
    missing = {op for op in implemented_operations() if op[0] == service} - covered
    assert not missing, f"add a wire parity step for {sorted(missing)}"
