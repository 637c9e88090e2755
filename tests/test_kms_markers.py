"""Every KMS Marker parameter: the model's MarkerType first (ValidationException), then only a
marker this KMS returned (InvalidMarkerException) - never a bare ValueError."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import InvalidMarkerException, ValidationException


@pytest.fixture
def sim() -> Simulation:
    return Simulation(seed=11)


def _listings(sim: Simulation):
    key = sim.kms.create_key().key_id
    grantee = sim.iam.create_user(user_name="Gina").arn
    return {
        "ListKeys": lambda m: sim.kms.list_keys(marker=m),
        "ListAliases": lambda m: sim.kms.list_aliases(marker=m),
        "ListGrants": lambda m: sim.kms.list_grants(key_id=key, marker=m),
        "ListRetirableGrants": lambda m: sim.kms.list_retirable_grants(
            retiring_principal=grantee, marker=m),
        "ListResourceTags": lambda m: sim.kms.list_resource_tags(key_id=key, marker=m),
        "ListKeyRotations": lambda m: sim.kms.list_key_rotations(key_id=key, marker=m),
    }


OPERATIONS = ("ListKeys", "ListAliases", "ListGrants", "ListRetirableGrants", "ListResourceTags",
              "ListKeyRotations")


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("marker", ["\u00b2", "\u0663", "9" * 5000, "1" * 1024, "abc", "-1"])
def test_a_marker_kms_never_returned_is_an_invalid_marker(sim, operation, marker):
    call = _listings(sim)[operation]
    if len(marker) > 1024:
        with pytest.raises(ValidationException, match="length less than or equal to 1024"):
            call(marker)
    elif not marker.isascii() and ord(marker[0]) > 0xFF:
        with pytest.raises(ValidationException, match="regular expression pattern"):
            call(marker)
    else:
        with pytest.raises(InvalidMarkerException):
            call(marker)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("marker", [7, "", b"1"])
def test_a_marker_that_is_not_a_non_empty_string_is_a_validation_error(sim, operation, marker):
    with pytest.raises(ValidationException):
        _listings(sim)[operation](marker)


def test_list_keys_pages_with_the_markers_it_returns(sim):
    made = [sim.kms.create_key().key_id for _ in range(5)]
    seen, marker = [], None
    while True:
        page = sim.kms.list_keys(limit=2, marker=marker)
        seen += [k.key_id for k in page.keys]
        if not page.truncated:
            break
        marker = page.next_marker
    assert seen == made


def test_list_key_policies_checks_the_marker_shape_only(sim):
    key = sim.kms.create_key().key_id
    assert sim.kms.list_key_policies(key_id=key, marker="anything").policy_names == ("default",)
    with pytest.raises(ValidationException):
        sim.kms.list_key_policies(key_id=key, marker="x" * 1025)
