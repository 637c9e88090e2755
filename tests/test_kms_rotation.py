"""Key rotation: automatic on the virtual clock, on demand, and old blobs still decrypting."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import (
    DisabledException,
    LimitExceededException,
    UnsupportedOperationException,
    ValidationException,
)

DAY = 86400


def test_automatic_rotation_fires_one_period_after_enabling(sim: Simulation) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"old").ciphertext_blob
    sim.kms.enable_key_rotation(key_id=key.key_id, rotation_period_in_days=90)
    status = sim.kms.get_key_rotation_status(key_id=key.key_id)
    assert status.key_rotation_enabled and status.rotation_period_in_days == 90
    assert (status.next_rotation_date - sim.clock.now()).days == 90
    sim.advance(seconds=89 * DAY)
    assert sim.kms.describe_key(key_id=key.key_id).current_key_material_id == key.current_key_material_id
    sim.advance(seconds=1 * DAY)
    new_material = sim.kms.describe_key(key_id=key.key_id).current_key_material_id
    assert new_material != key.current_key_material_id
    rotations = sim.kms.list_key_rotations(key_id=key.key_id).rotations
    assert [(r.rotation_type, r.key_material_state) for r in rotations] == [("AUTOMATIC", "CURRENT")]
    assert sim.kms.decrypt(ciphertext_blob=blob).plaintext == b"old"
    new_blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"new").ciphertext_blob
    assert sim.kms.decrypt(ciphertext_blob=new_blob).key_material_id == new_material
    assert sim.audit.events(event_name="RotateKey")[0]["eventType"] == "AwsServiceEvent"


def test_rotation_does_not_keep_run_until_idle_busy(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.enable_key_rotation(key_id=key.key_id)
    sim.run_until_idle()
    assert sim.kms.list_key_rotations(key_id=key.key_id).rotations == ()


def test_disabled_key_is_not_rotated_and_catches_up_on_enable(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.enable_key_rotation(key_id=key.key_id, rotation_period_in_days=90)
    sim.kms.disable_key(key_id=key.key_id)
    sim.advance(seconds=100 * DAY)
    assert sim.kms.list_key_rotations(key_id=key.key_id).rotations == ()
    sim.kms.enable_key(key_id=key.key_id)
    sim.advance(seconds=0)
    assert len(sim.kms.list_key_rotations(key_id=key.key_id).rotations) == 1


@pytest.mark.parametrize("days", [89, 2561, "365"])
def test_rotation_period_bounds(sim: Simulation, days: object) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.enable_key_rotation(key_id=key.key_id, rotation_period_in_days=days)  # type: ignore[arg-type]
    assert not sim.kms.get_key_rotation_status(key_id=key.key_id).key_rotation_enabled


def test_rotation_status_reads_false_while_pending_deletion(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.enable_key_rotation(key_id=key.key_id)
    sim.kms.schedule_key_deletion(key_id=key.key_id)
    assert not sim.kms.get_key_rotation_status(key_id=key.key_id).key_rotation_enabled
    sim.kms.cancel_key_deletion(key_id=key.key_id)
    assert sim.kms.get_key_rotation_status(key_id=key.key_id).key_rotation_enabled


def test_rotation_of_asymmetric_keys_is_unsupported(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="RSA_2048", key_usage="SIGN_VERIFY")
    with pytest.raises(UnsupportedOperationException):
        sim.kms.enable_key_rotation(key_id=key.key_id)


def test_rotation_of_a_disabled_key_is_refused(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.disable_key(key_id=key.key_id)
    with pytest.raises(DisabledException):
        sim.kms.rotate_key_on_demand(key_id=key.key_id)


def test_on_demand_rotation_has_a_cap(sim: Simulation) -> None:
    key = sim.kms.create_key()
    blobs = []
    for i in range(25):
        blobs.append(sim.kms.encrypt(key_id=key.arn, plaintext=bytes([i])).ciphertext_blob)
        sim.kms.rotate_key_on_demand(key_id=key.key_id)
    with pytest.raises(LimitExceededException, match="on-demand rotations limit"):
        sim.kms.rotate_key_on_demand(key_id=key.key_id)
    assert [sim.kms.decrypt(ciphertext_blob=b).plaintext for b in blobs] == [bytes([i]) for i in range(25)]
    rotations = sim.kms.list_key_rotations(key_id=key.key_id, limit=10)
    assert rotations.truncated and len(rotations.rotations) == 10


def test_on_demand_rotation_cap_is_a_setting() -> None:
    sim = Simulation(seed=1, on_demand_rotation_limit=10)
    key = sim.kms.create_key()
    for _ in range(10):
        sim.kms.rotate_key_on_demand(key_id=key.key_id)
    with pytest.raises(LimitExceededException):
        sim.kms.rotate_key_on_demand(key_id=key.key_id)


def test_aws_managed_keys_rotate_on_the_configured_period() -> None:
    sim = Simulation(seed=1, aws_managed_rotation_days=1095)
    md = sim.kms.describe_key(key_id="alias/aws/workspaces")
    status = sim.kms.get_key_rotation_status(key_id=md.key_id)
    assert status.rotation_period_in_days == 1095
    sim.advance(seconds=1095 * DAY)
    assert len(sim.kms.list_key_rotations(key_id=md.key_id).rotations) == 1
