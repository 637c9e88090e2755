"""Simulation(seed=N) replays byte for byte."""

from __future__ import annotations

from simulator import Simulation


def _run(seed: int) -> tuple[list[str], list[bytes], str]:
    sim = Simulation(seed=seed)
    key = sim.kms.create_key()
    ids = [key.key_id]
    blobs = []
    for i in range(3):
        dk = sim.kms.generate_data_key(key_id=key.arn, encryption_context={"i": str(i)}, key_spec="AES_256")
        blobs.append(dk.ciphertext_blob)
        blobs.append(bytes(dk.plaintext))
    g = sim.kms.create_grant(key_id=key.key_id, grantee_principal="arn:aws:iam::123456789012:user/Bob",
                             operations=["Decrypt"])
    ids += [g.grant_id, g.grant_token]
    sim.kms.rotate_key_on_demand(key_id=key.key_id)
    blobs.append(sim.kms.encrypt(key_id=key.arn, plaintext=b"x").ciphertext_blob)
    return ids, blobs, sim.audit.to_jsonl() + sim.trace.to_json()


def test_two_runs_with_the_same_seed_are_identical() -> None:
    assert _run(7) == _run(7)


def test_different_seeds_differ() -> None:
    assert _run(7)[0] != _run(8)[0]


def test_unseeded_runs_draw_from_the_os() -> None:
    a, b = Simulation(), Simulation()
    assert a.kms.create_key().key_id != b.kms.create_key().key_id
