"""The operation boundary: every service operation runs under the simulation's lock and turns
arguments that do not bind (boto3's names, missing or positional parameters) into a
ValidationException that names the snake_case parameter to use."""

from __future__ import annotations

import inspect
import threading
from contextlib import nullcontext
from typing import Any

import pytest
from ebs_support import attached

from simulator import Simulation
from simulator.boundary import binding_hint, is_operation, operation_boundary
from simulator.ebs import BlockDevice
from simulator.errors import ValidationException

SERVICES = ("iam", "kms", "ebs", "directory", "workspaces")


def public_methods(cls: type) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")]


@pytest.mark.parametrize("service", SERVICES)
def test_every_public_method_of_every_service_is_an_operation(sim: Simulation, service: str) -> None:
    methods = public_methods(type(getattr(sim, service)))
    assert methods
    assert [name for name, method in methods if not is_operation(method)] == []


def test_the_block_device_reads_and_writes_are_operations() -> None:
    assert is_operation(BlockDevice.read) and is_operation(BlockDevice.write)


@pytest.mark.parametrize("service", SERVICES)
def test_operations_keep_their_own_signatures_and_docs(sim: Simulation, service: str) -> None:
    for name, method in public_methods(type(getattr(sim, service))):
        original = method.__wrapped__
        assert inspect.signature(method) == inspect.signature(original), name
        assert method.__name__ == name and method.__doc__ == original.__doc__


def test_boto3_parameter_name_is_a_validation_error_naming_the_snake_case_one(sim: Simulation) -> None:
    with pytest.raises(ValidationException, match=r"'Description': did you mean 'description'\?"):
        sim.kms.create_key(Description="x")  # type: ignore[call-arg]


@pytest.mark.parametrize(("call", "expected"), [
    (lambda s: s.kms.encrypt(KeyId="alias/a", Plaintext=b"x"),
     "'KeyId': did you mean 'key_id'?"),
    (lambda s: s.ebs.create_volume(Size=1, AvailabilityZone="us-west-2a"),
     "'Size': did you mean 'size'?"),
    (lambda s: s.ebs.describe_volumes(VolumeIds=[]), "'VolumeIds': did you mean 'volume_ids'?"),
    (lambda s: s.iam.create_user(UserName="u"), "'UserName': did you mean 'user_name'?"),
    (lambda s: s.kms.encrypt(plaintext=b"x"), "missing required parameter 'key_id'"),
    (lambda s: s.kms.describe_key("alias/a"), "by keyword (key_id"),
    (lambda s: s.kms.create_key(descripton="x"), "'descripton': did you mean 'description'?"),
])
def test_bad_arguments_name_what_to_use(sim: Simulation, call: Any, expected: str) -> None:
    with pytest.raises(ValidationException) as info:
        call(sim)
    assert expected in info.value.message


def test_an_unknown_parameter_without_a_likely_meaning_lists_the_parameters(sim: Simulation) -> None:
    with pytest.raises(ValidationException) as info:
        sim.kms.list_aliases(Flavour="x")  # type: ignore[call-arg]
    assert "unknown parameter 'Flavour'" in info.value.message
    assert "key_id" in info.value.message and "did you mean" not in info.value.message


def test_a_failed_binding_changes_nothing(sim: Simulation) -> None:
    before = len(sim.kms.list_keys().keys)
    with pytest.raises(ValidationException):
        sim.kms.create_key(Description="x")  # type: ignore[call-arg]
    assert len(sim.kms.list_keys().keys) == before


def test_a_type_error_raised_inside_an_operation_is_not_blamed_on_the_arguments(
        sim: Simulation) -> None:
    def broken(**_: object) -> None:
        raise TypeError("inside the operation")

    sim.runtime.hooks.register("before-call.kms.CreateKey", broken)
    with pytest.raises(TypeError, match="inside the operation"):
        sim.kms.create_key(description="x")


class _Family:
    def inherited(self, *, name: str) -> str:
        """From a mixin."""
        return name


@operation_boundary(lambda svc: svc.lock)
class _Composed(_Family):
    def __init__(self) -> None:
        self.lock = threading.RLock()

    def own(self, *, value: int = 0) -> int:
        if value < 0:
            raise TypeError("a bug inside")
        return value

    @property
    def prop(self) -> int:
        return 1

    def _private(self, x: int) -> int:
        return x


def test_inherited_methods_of_a_composed_class_are_covered_and_the_mixin_is_untouched() -> None:
    assert is_operation(_Composed.inherited) and is_operation(_Composed.own)
    assert not is_operation(_Family.inherited) and not is_operation(_Composed._private)
    assert _Composed().prop == 1
    with pytest.raises(ValidationException, match="did you mean 'name'"):
        _Composed().inherited(Name="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="a bug inside"):
        _Composed().own(value=-1)


def test_decorating_a_decorated_class_again_does_not_wrap_twice() -> None:
    again = operation_boundary(lambda svc: svc.lock)(_Composed)
    assert again.own.__wrapped__.__name__ == "own"  # type: ignore[attr-defined]
    assert not is_operation(again.own.__wrapped__)  # type: ignore[attr-defined]


def test_binding_hint_is_none_for_arguments_that_bind() -> None:
    assert binding_hint(_Composed.own.__wrapped__, (), {"value": 3}) is None  # type: ignore[attr-defined]


def test_the_lock_is_held_for_the_whole_call(sim: Simulation) -> None:
    entered, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow(**_: object) -> None:
        entered.set()
        release.wait(5)
        order.append("first call done")

    unregister = sim.runtime.hooks.register("before-call.kms.CreateKey", slow)
    first = threading.Thread(target=lambda: sim.kms.create_key(description="first"))
    first.start()
    assert entered.wait(5)
    unregister()
    second = threading.Thread(target=lambda: (sim.kms.list_keys(), order.append("second call")))
    second.start()
    second.join(0.2)
    assert second.is_alive(), "a second thread ran an operation while the first held the lock"
    release.set()
    first.join(5)
    second.join(5)
    assert order == ["first call done", "second call"]


def test_running_the_clock_takes_the_simulation_lock(sim: Simulation) -> None:
    done: list[int] = []
    with sim.runtime.lock:
        worker = threading.Thread(target=lambda: done.append(sim.advance(1)))
        worker.start()
        worker.join(0.2)
        assert worker.is_alive() and done == []
    worker.join(5)
    assert len(done) == 1


def test_each_simulation_has_its_own_lock() -> None:
    one, two = Simulation(seed=1), Simulation(seed=2)
    assert one.runtime.lock is not two.runtime.lock
    with one.runtime.lock:
        worker = threading.Thread(target=lambda: two.kms.create_key())
        worker.start()
        worker.join(5)
        assert not worker.is_alive()


def test_a_bad_argument_to_the_block_device_is_a_validation_error(sim: Simulation) -> None:
    _, dev = attached(sim)
    with pytest.raises(ValidationException, match="did you mean 'length'"):
        dev.read(0, Length=1)  # type: ignore[call-arg]


def test_nullcontext_locks_work_for_classes_outside_a_simulation() -> None:
    @operation_boundary(lambda _: nullcontext())
    class Plain:
        def op(self, *, a: int) -> int:
            return a

    assert Plain().op(a=2) == 2


def test_the_hint_names_parameters_never_their_values(sim: Simulation) -> None:
    key = sim.kms.create_key()
    secret = b"top-secret-plaintext-0123456789"
    with pytest.raises(ValidationException) as info:
        sim.kms.encrypt(key.arn, Plaintext=secret)  # type: ignore[call-arg, misc]
    text = str(info.value) + repr(info.value)
    assert "plaintext" in text and secret.decode() not in text and secret.hex() not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__
