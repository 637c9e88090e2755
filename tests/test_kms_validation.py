"""KMS request validation: the fast paths for exact types agree with the general checks."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import MalformedPolicyDocumentException, ValidationException
from simulator.kms.validation import check_blob, check_context


class Name(str):
    """A str subclass (valid, but not the exact type the fast path looks for)."""


def reference_context(value: object) -> dict[str, str] | type[ValidationException] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return ValidationException
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return ValidationException
    return dict(value) if value else None


scalars = st.one_of(st.text(max_size=6), st.builds(Name, st.text(max_size=3)), st.integers(),
                    st.binary(max_size=3), st.none())
contexts = st.one_of(
    st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=4),
    st.dictionaries(scalars, scalars, max_size=3),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3).map(MappingProxyType),
    st.lists(st.text(max_size=3), max_size=2), st.text(max_size=3), st.none(), st.integers(),
)


@given(contexts)
def test_check_context_agrees_with_the_rules(value: object) -> None:
    expected = reference_context(value)
    if expected is ValidationException:
        with pytest.raises(ValidationException):
            check_context(value)
        return
    got = check_context(value)
    assert got == expected and (got is None or (type(got) is dict and got is not value))


blobs = st.one_of(st.binary(max_size=8), st.binary(min_size=6140, max_size=6150),
                  st.builds(bytearray, st.binary(max_size=8)),
                  st.builds(memoryview, st.binary(max_size=8)), st.text(max_size=3),
                  st.integers(), st.none())


@given(blobs)
def test_check_blob_accepts_1_to_6144_bytes_of_any_bytes_like(value: object) -> None:
    if isinstance(value, bytes | bytearray | memoryview) and 0 < len(bytes(value)) <= 6144:
        assert check_blob(value) == bytes(value) and type(check_blob(value)) is bytes
    else:
        with pytest.raises(ValidationException):
            check_blob(value)


def test_check_context_copies_unless_told_not_to() -> None:
    ctx = {"a": "b"}
    assert check_context(ctx) == ctx and check_context(ctx) is not ctx
    assert check_context(ctx, copy=False) is ctx
    assert check_context({}, copy=False) is None
    odd = MappingProxyType({"a": "b"})
    assert type(check_context(odd, copy=False)) is dict  # other mappings always become a dict


def test_the_trace_and_the_audit_keep_their_own_copies_of_the_context() -> None:
    from simulator import Simulation

    sim = Simulation(seed=2)
    key = sim.kms.create_key()
    ctx = {"a": "b"}
    dk = sim.kms.generate_data_key(key_id=key.arn, encryption_context=ctx, key_spec="AES_256")
    sim.kms.decrypt(ciphertext_blob=dk.ciphertext_blob, encryption_context=ctx)
    ctx["a"] = "changed"
    events = [e for e in sim.trace if e.action in ("GenerateDataKey", "Decrypt")]
    records = sim.audit.events(event_name="GenerateDataKey") + sim.audit.events(event_name="Decrypt")
    assert [e.detail["encryption_context"] for e in events] == [{"a": "b"}] * 2
    assert [r["requestParameters"]["encryptionContext"] for r in records] == [{"a": "b"}] * 2


def test_a_key_policy_with_a_lone_surrogate_is_malformed() -> None:
    sim = Simulation(seed=1)
    with pytest.raises(MalformedPolicyDocumentException):
        sim.kms.create_key(policy='{"Statement": [], "Sid": "\ud800"}')
    assert sim.kms.list_keys().keys == ()


def test_bytes_given_for_an_enum_are_named_by_type_never_echoed() -> None:
    sim = Simulation(seed=1)
    key = sim.kms.create_key()
    with pytest.raises(ValidationException) as err:
        sim.kms.generate_data_key(key_id=key.arn, key_spec=b"s3cr3t-bytes")  # type: ignore[arg-type]
    assert "s3cr3t" not in str(err.value) and "bytes" in str(err.value)
    assert all("s3cr3t" not in str(r) for r in sim.audit.events())
