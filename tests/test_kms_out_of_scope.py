"""Operations and key specs envelope-sim does not implement answer a clear, audited error."""

from __future__ import annotations

import re

import pytest

from simulator import Simulation
from simulator.errors import UnsupportedOperationException
from simulator.kms.unsupported_ops import OUT_OF_SCOPE_OPERATIONS
from tests.conftest import kms_fingerprint


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("operation", sorted(OUT_OF_SCOPE_OPERATIONS))
def test_out_of_scope_operations_name_themselves(sim: Simulation, operation: str) -> None:
    with pytest.raises(UnsupportedOperationException, match=f"{operation} is not supported by envelope-sim"):
        getattr(sim.kms, _snake(operation))(custom_key_store_id="cks-1234567890abcdef0")
    [event] = sim.audit.events(event_name=operation)
    assert event["errorCode"] == "UnsupportedOperationException"


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "SM2", "ECC_NIST_EDWARDS25519"])
def test_key_specs_the_library_cannot_do_are_refused_at_create_key(sim: Simulation, spec: str) -> None:
    before = kms_fingerprint(sim)
    with pytest.raises(UnsupportedOperationException, match=f"KeySpec {spec} is not supported by envelope-sim: "):
        sim.kms.create_key(key_spec=spec, key_usage="SIGN_VERIFY")
    assert kms_fingerprint(sim) == before


@pytest.mark.parametrize("origin", ["AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"])
def test_custom_key_store_origins_are_refused(sim: Simulation, origin: str) -> None:
    with pytest.raises(UnsupportedOperationException, match="custom key stores are out of scope"):
        sim.kms.create_key(origin=origin)
