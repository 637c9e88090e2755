"""Every public operation of every service answers bad input with an AWS-named error.

A sweep rather than a property: each operation is called with every required parameter set to
the same bad value, for many bad values (wrong types, empty, huge, malformed ids). The only
acceptable outcomes are success or a :class:`simulator.errors.AwsError` subclass: never a bare
TypeError, KeyError, AttributeError or ValueError escaping to the user.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from ebs_support import attach

from simulator import Simulation
from simulator.errors import AwsError

BAD: list[Any] = [
    None, 0, -1, 10**12, "", "x", "alias/nope", "vol-0123456789abcdef0", "ws-abcdefghi",
    "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    [], ["x"], [None], {}, {"a": 1}, [{"a": object()}], object(), b"\x00", True, 3.5,
    float("nan"),
]
SERVICES = ["kms", "ebs", "workspaces", "directory", "iam", "sts"]


def _operations(service: Any) -> list[tuple[str, Any]]:
    return [(name, fn) for name, fn in inspect.getmembers(service, inspect.ismethod)
            if not name.startswith("_") and name != "with_caller"]


def _required(fn: Any) -> list[str]:
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]


@pytest.mark.parametrize("service_name", SERVICES)
def test_every_operation_answers_bad_required_input_with_an_aws_error(service_name: str) -> None:
    escaped = []
    for bad in BAD:
        sim = Simulation(seed=1)
        for name, fn in _operations(getattr(sim, service_name)):
            try:
                fn(**{p: bad for p in _required(fn)})
            except AwsError:
                pass
            except Exception as err:
                escaped.append(f"{service_name}.{name}({bad!r:.30}) -> {type(err).__name__}: {err}")
    assert not escaped, "\n".join(escaped[:20])


@pytest.mark.parametrize("service_name", SERVICES)
def test_every_optional_parameter_answers_bad_input_with_an_aws_error(service_name: str) -> None:
    escaped = []
    sim = Simulation(seed=1)
    for name, fn in _operations(getattr(sim, service_name)):
        params = inspect.signature(fn).parameters.values()
        optional = [p.name for p in params if p.kind == p.KEYWORD_ONLY and p.default is not p.empty]
        required = _required(fn)
        for param in optional:
            for bad in (object(), [object()], {"x": object()}, -5, "\x00"):
                try:
                    fn(**{p: "x" for p in required}, **{param: bad})
                except AwsError:
                    pass
                except Exception as err:
                    escaped.append(f"{service_name}.{name}({param}={bad!r:.30}) -> "
                                   f"{type(err).__name__}: {err}")
    assert not escaped, "\n".join(escaped[:20])


def test_block_devices_answer_bad_input_with_an_aws_error() -> None:
    sim = Simulation(seed=1)
    key = sim.kms.create_key()
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn,
                                availability_zone="us-west-2a")
    sim.run_until_idle()
    attach(sim, vol.volume_id, 'i-0123456789abcdef0', '/dev/sdf')
    dev = sim.ebs.block_device(vol.volume_id)
    escaped = []
    for args in [(None, 1), ("0", 1), (-1, 1), (0, -1), (2**40, 1), (0, None), (1.5, 2), (0, 2**31)]:
        try:
            dev.read(*args)
        except AwsError:
            pass
        except Exception as err:
            escaped.append(f"read{args} -> {type(err).__name__}")
    for args in [(None, b"x"), (0, "text"), (0, None), (-1, b"x"), (2**30, b"x"), (0, [1, 2])]:
        try:
            dev.write(*args)
        except AwsError:
            pass
        except Exception as err:
            escaped.append(f"write{args} -> {type(err).__name__}")
    assert not escaped, escaped
