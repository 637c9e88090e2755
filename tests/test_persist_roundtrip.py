"""Close and reopen a state file: every kind of state comes back exactly.

A reopen is a process restart, so attached volumes go through a host recovery
(``Simulation.recover_attachments``); the reference run does the same at the same moment, and
everything (operations' results, clock, scheduled work, audit, trace, stored blocks, entropy
positions) must then be equal.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from persist_support import (
    BLOCK,
    attach,
    attached_volume,
    build_world,
    fingerprint,
    pattern,
    recovered,
)

from simulator import Simulation
from simulator.boundary import operation_boundary
from simulator.errors import (
    AccessDenied,
    AccessDeniedException,
    IncorrectState,
    InvalidBlockCiphertext,
    ValidationException,
)
from simulator.persist import StateFileError


def _reference(**settings: object) -> tuple[Simulation, dict[str, object]]:
    sim = Simulation(seed=5, **settings)  # type: ignore[arg-type]
    ids = build_world(sim)
    fingerprint(sim)  # the calls the saved run makes before closing
    sim.recover_attachments()
    return sim, ids


def test_every_kind_of_state_comes_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    saved = Simulation(seed=5, state=path, grant_propagation_seconds=30)
    ids = build_world(saved)
    before = fingerprint(saved)
    saved.close()
    reopened = Simulation(state=path)
    after = fingerprint(reopened)
    reference, _ = _reference(grant_propagation_seconds=30)
    assert after == fingerprint(reference)
    # The audit trail before the restart is kept as it was, then the recovery's records.
    assert after["audit"][:len(before["audit"])] == before["audit"]
    assert before["kms"] == after["kms"] and before["iam"] == after["iam"]
    # The saved settings, seed and key material are back: an old data key still decrypts.
    assert reopened.seed == 5 and reopened.settings.grant_propagation_seconds == 30
    data_key = ids["data_key"]
    assert reopened.kms.decrypt(ciphertext_blob=data_key.ciphertext_blob,  # type: ignore[attr-defined]
                                encryption_context={"app": "x"}).plaintext == \
        data_key.plaintext  # type: ignore[attr-defined]
    # Asymmetric and HMAC keys come back with the same private key and HMAC key.
    assert reopened.kms.verify(key_id=ids["signer"], message=b"release 1.0",
                               signature=ids["signature"],
                               signing_algorithm="ECDSA_SHA_256").signature_valid
    assert reopened.kms.verify_mac(key_id=ids["mac_key"], message=b"hello", mac=ids["mac"],
                                   mac_algorithm="HMAC_SHA_256").mac_valid
    pair = ids["pair"]
    assert reopened.kms.decrypt(ciphertext_blob=pair.private_key_ciphertext_blob  # type: ignore[attr-defined]
                                ).plaintext == pair.private_key_plaintext  # type: ignore[attr-defined]
    reopened.close()


def test_a_seeded_run_continues_after_reopen_as_an_uninterrupted_one(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    saved = Simulation(seed=5, state=path, grant_propagation_seconds=30)
    build_world(saved)
    fingerprint(saved)
    saved.close()
    reopened = Simulation(state=path)
    reference, _ = _reference(grant_propagation_seconds=30)
    for sim in (reopened, reference):
        sim.run_until_idle()
        sim.kms.create_key(description="after")
    assert reopened.kms.generate_random(number_of_bytes=32).plaintext == \
        reference.kms.generate_random(number_of_bytes=32).plaintext
    assert fingerprint(reopened) == fingerprint(reference)


def test_workspaces_provisioning_resumes_on_the_clock_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=5, state=path)
    ids = build_world(sim)
    assert sim.workspaces.describe_workspaces(
        workspace_ids=[ids["pending"]]).workspaces[0].state == "PENDING"
    sim.close()
    again = Simulation(state=path)
    pending = again.workspaces.describe_workspaces(workspace_ids=[ids["pending"]])
    assert pending.workspaces[0].state == "PENDING"
    again.run_until_idle()
    done = again.workspaces.describe_workspaces(workspace_ids=[ids["pending"]])
    assert done.workspaces[0].state == "AVAILABLE"
    steps = {e.step for e in again.trace.events(workspace_id=ids["pending"]) if e.step}
    assert steps >= {1, 2, 3, 4, 5, 6, 7, 8}


def test_blocks_read_back_after_reopen_through_a_recovered_attachment(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=5, state=path)
    ids = build_world(sim)
    sim.close()
    again = recovered(Simulation(state=path))
    device = again.ebs.block_device(str(ids["volume"]))
    assert device.read(0, BLOCK) == pattern(1, BLOCK)
    assert device.read(BLOCK + 100, 500) == pattern(2, 500)
    assert device.read(5 * BLOCK, BLOCK) == pattern(3, BLOCK)
    restored = again.ebs.create_volume(snapshot_id=str(ids["snapshot"]),
                                       availability_zone=f"{again.region}a").volume_id
    again.advance(10)
    attach(again, restored, device="/dev/sdg")
    # The snapshot holds what was written before it, not the later write.
    assert again.ebs.block_device(restored).read(5 * BLOCK, BLOCK) == bytes(BLOCK)
    assert again.ebs.block_device(restored).read(0, BLOCK) == pattern(1, BLOCK)


def _attachment_states(sim: Simulation) -> dict[str, str | None]:
    return {v.volume_id: v.attachments[0].state if v.attachments else None
            for v in sim.ebs.describe_volumes().volumes}


def _three_attachments(sim: Simulation) -> tuple[str, str, str]:
    """An attached volume, one still attaching and one detaching."""
    key, done = attached_volume(sim)
    sim.ebs.block_device(done).write(0, pattern(1, BLOCK))
    going = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key,
                                  availability_zone=f"{sim.region}a").volume_id
    coming = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key,
                                   availability_zone=f"{sim.region}a").volume_id
    sim.advance(10)
    attach(sim, going, instance_id="i-00000000000000002")
    sim.ebs.detach_volume(volume_id=going)
    sim.ebs.attach_volume(volume_id=coming, instance_id="i-00000000000000003", device="/dev/sdf")
    return done, coming, going


def test_a_recovered_attachment_completes_on_the_clock_and_replays_identically(
        tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=9, state=path)
    done, coming, going = _three_attachments(sim)
    assert _attachment_states(sim) == {done: "attached", coming: "attaching", going: "detaching"}
    sim.close()
    again = Simulation(state=path)
    # A restart: the attached and attaching volumes are attached again (attaching until the
    # clock runs), the detaching one finishes its detach on the clock.
    assert _attachment_states(again) == {done: "attaching", coming: "attaching",
                                         going: "detaching"}
    with pytest.raises(IncorrectState):
        again.ebs.block_device(done)
    recovered(again)
    assert _attachment_states(again) == {done: "attached", coming: "attached", going: None}
    assert again.ebs.block_device(done).read(0, BLOCK) == pattern(1, BLOCK)
    again.close()
    # A second restart replays the first one's recovery exactly, then recovers again.
    third = Simulation(state=path)
    reference = Simulation(seed=9)
    _three_attachments(reference)
    reference.recover_attachments()
    recovered(reference).ebs.block_device(done).read(0, BLOCK)
    reference.recover_attachments()
    assert fingerprint(third) == fingerprint(reference)
    assert recovered(third).ebs.block_device(done).read(0, BLOCK) == pattern(1, BLOCK)


def test_a_key_disabled_before_the_restart_fails_the_reattach(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=5, state=path)
    key, vol = attached_volume(sim)
    sim.kms.disable_key(key_id=key)
    sim.ebs.block_device(vol).write(0, b"still running")  # a running volume keeps working
    sim.close()
    again = Simulation(state=path)
    assert again.ebs.describe_volumes(volume_ids=[vol]).volumes[0].state == "available"
    with pytest.raises(IncorrectState):
        again.ebs.block_device(vol)
    failed = [e for e in again.trace.events() if e.action == "HostRecovery" and e.outcome != "ok"]
    assert [e.outcome for e in failed] == ["DisabledException"]
    again.kms.enable_key(key_id=key)
    attach(again, vol)
    assert again.ebs.block_device(vol).read(0, 13) == b"still running"


def test_an_unseeded_simulation_gets_a_seed_stored_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(state=path)
    key = sim.kms.create_key(description="k").arn
    blob = sim.kms.encrypt(key_id=key, plaintext=b"hello").ciphertext_blob
    seed = sim.seed
    sim.close()
    again = Simulation(state=path)
    assert isinstance(seed, int) and again.seed == seed
    assert again.kms.decrypt(ciphertext_blob=blob).plaintext == b"hello"


def test_settings_that_contradict_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    Simulation(seed=1, state=path, volume_cipher="gcm").close()
    with pytest.raises(ValidationException, match="seed=1"):
        Simulation(seed=2, state=path)
    with pytest.raises(ValidationException, match="settings"):
        Simulation(state=path, volume_cipher="xts")
    assert Simulation(seed=1, state=path).settings.volume_cipher == "gcm"


def test_a_closed_simulation_takes_no_more_calls(tmp_path: Path) -> None:
    sim = Simulation(seed=1, state=tmp_path / "sim.db")
    sim.close()
    with pytest.raises(ValidationException, match="closed"):
        sim.kms.create_key(description="late")
    with pytest.raises(ValidationException, match="closed"):
        sim.advance(1)


def test_a_failed_call_is_replayed_as_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=1, state=path)
    with pytest.raises(ValidationException):
        sim.kms.create_key(description="x" * 9000)
    sim.kms.create_key(description="ok")
    events = sim.audit.events()
    sim.close()
    again = Simulation(state=path)
    assert again.audit.events() == events
    assert [k for k in again.kms.list_keys().keys]


def test_without_state_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    sim = Simulation(seed=1)
    sim.kms.create_key(description="memory")
    sim.close()  # nothing to close
    assert sim.state_file is None and list(tmp_path.iterdir()) == []


def test_calls_as_principals_are_replayed_as_those_principals(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=4, state=path)
    alice = sim.iam.create_user(user_name="Alice").arn
    sim.iam.create_user(user_name="Bob")
    sim.iam.put_user_policy(user_name="Alice", policy_name="kms", policy_document=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", '
        '"Resource": "*"}]}'))
    key = sim.as_principal(alice).kms.create_key(description="Alice's").arn
    with pytest.raises(AccessDeniedException):
        sim.as_principal(sim.iam.get_user(user_name="Bob").arn).kms.disable_key(key_id=key)
    events = sim.audit.events()
    sim.close()
    again = Simulation(state=path)
    assert again.audit.events() == events
    assert [e["userIdentity"]["arn"] for e in events if e["eventName"] in
            ("CreateKey", "DisableKey")][-2:] == [alice, "arn:aws:iam::123456789012:user/Bob"]


def test_calls_from_several_threads_are_all_saved(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=4, state=path)

    def work(n: int) -> None:
        for i in range(10):
            sim.kms.create_key(description=f"t{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = {sim.kms.describe_key(key_id=k.key_id).description for k in sim.kms.list_keys().keys}
    sim.close()
    again = Simulation(state=path)
    assert {again.kms.describe_key(key_id=k.key_id).description
            for k in again.kms.list_keys().keys} == keys
    assert len(keys) == 40


def test_tampering_through_the_public_seam_is_saved_too(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=6, state=path, volume_cipher="gcm")
    _key, vol = attached_volume(sim)
    sim.ebs.block_device(vol).write(0, pattern(1, BLOCK))
    sim.ebs.tamper.flip_block_bit(vol, 0, 77)
    sim.close()
    again = recovered(Simulation(state=path))
    with pytest.raises(InvalidBlockCiphertext):
        again.ebs.block_device(vol).read(0, BLOCK)


def test_an_operation_on_an_object_the_simulation_does_not_expose_is_refused(
        tmp_path: Path) -> None:
    sim = Simulation(seed=6, state=tmp_path / "sim.db")

    @operation_boundary(lambda stray: stray.lock)
    class Stray:
        def __init__(self, lock: object) -> None:
            self.lock = lock

        def poke(self) -> int:
            return 1

    with pytest.raises(StateFileError, match="cannot be saved"):
        Stray(sim.runtime.lock).poke()
    sim.close()


def test_iam_and_sts_sessions_replay_as_their_callers(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=8, state=path)
    ci = sim.iam.create_user(user_name="ci")
    sim.iam.put_user_policy(user_name="ci", policy_name="admin", policy_document=json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}]}))
    sim.as_principal(ci.arn).iam.create_user(user_name="made-by-ci")  # IAM's caller view
    with pytest.raises(AccessDenied):
        sim.as_principal(ci.arn).iam.delete_user(user_name="made-by-ci")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ci.arn},
                            "Action": "sts:AssumeRole"}]}
    role = sim.iam.create_role(role_name="app", assume_role_policy_document=json.dumps(trust))
    sim.iam.put_role_policy(role_name="app", policy_name="kms", policy_document=json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    creds = sim.as_principal(ci.arn).sts.assume_role(
        role_arn=role.arn, role_session_name="build-7").credentials
    key = sim.as_principal(creds).kms.create_key(description="by the session").key_id
    events = sim.audit.events()
    sim.close()
    again = Simulation(state=path)
    assert again.audit.events() == events
    assert again.iam.get_user(user_name="made-by-ci").user_name == "made-by-ci"
    assert again.kms.describe_key(key_id=key).description == "by the session"
    # The session's temporary credentials still work after the reopen (same seed, same keys).
    assert again.as_principal(creds).sts.get_caller_identity().arn.endswith(
        "assumed-role/app/build-7")
