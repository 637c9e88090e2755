"""No plaintext data key ever appears in an audit record, trace event, repr or exception text."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from simulator import Simulation
from simulator.errors import AwsError


def _forms(secret: bytes) -> list[str]:
    """The ways a leaked secret could be spelled in text."""
    return [
        secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="), repr(bytes(secret))[2:-1],
    ]


def _scan(texts: list[str], secrets: list[bytes]) -> list[str]:
    leaks = []
    blob = "\n".join(texts)
    raw = blob.encode("utf-8", "surrogateescape")
    for secret in secrets:
        if len(secret) >= 8 and secret in raw:
            leaks.append(f"raw {secret.hex()[:12]}...")
        for form in _forms(secret):
            if len(form) >= 12 and form in blob:
                leaks.append(f"{form[:12]}...")
    return leaks


def test_a_kms_run_leaks_no_data_key_anywhere(tmp_path: Path) -> None:
    sim = Simulation(seed=11)
    sim.audit.write_jsonl(tmp_path / "audit.jsonl")
    secrets: list[bytes] = []
    texts: list[str] = []
    key = sim.kms.create_key()
    other = sim.kms.create_key()
    ctx = {"aws:ebs:id": "vol-0123456789abcdef0"}
    for spec in ("AES_256", "AES_128"):
        dk = sim.kms.generate_data_key(key_id=key.arn, encryption_context=ctx, key_spec=spec)
        secrets.append(bytes(dk.plaintext))
        texts += [repr(dk), str(dk), f"{dk}", f"{dk.plaintext}", repr(dk.plaintext)]
        out = sim.kms.decrypt(ciphertext_blob=dk.ciphertext_blob, encryption_context=ctx)
        texts += [repr(out), str(out)]
        re = sim.kms.re_encrypt(ciphertext_blob=dk.ciphertext_blob, source_encryption_context=ctx,
                                destination_key_id=other.arn)
        texts.append(repr(re))
        # Failed calls with the secret nearby: wrong context, wrong key, plaintext as a key id.
        for bad in (
            lambda: sim.kms.decrypt(ciphertext_blob=dk.ciphertext_blob, encryption_context={"x": "y"}),
            lambda: sim.kms.decrypt(ciphertext_blob=dk.ciphertext_blob, key_id=other.arn),
            lambda: sim.kms.encrypt(key_id=dk.plaintext, plaintext=b"x"),  # type: ignore[arg-type]
            lambda: sim.kms.encrypt(key_id=key.arn, plaintext=dk.plaintext,
                                    encryption_context={"k": dk.plaintext}),  # type: ignore[dict-item]
            lambda: sim.kms.generate_data_key(key_id=key.arn, number_of_bytes=dk.plaintext),  # type: ignore[arg-type]
        ):
            with pytest.raises(AwsError) as err:
                bad()
            texts += [str(err.value), repr(err.value), err.value.message]
    enc = sim.kms.encrypt(key_id=key.arn, plaintext=b"top secret payload 0123456789")
    secrets.append(b"top secret payload 0123456789")
    texts.append(repr(enc))
    dk_wp = sim.kms.generate_data_key_without_plaintext(key_id=key.arn, number_of_bytes=64)
    secrets.append(bytes(sim.kms.decrypt(ciphertext_blob=dk_wp.ciphertext_blob).plaintext))
    rnd = sim.kms.generate_random(number_of_bytes=32)
    secrets.append(bytes(rnd.plaintext))
    texts.append(repr(rnd))
    # Key material itself: the backing keys of every key.
    for record in sim._kms_state.keys.values():
        texts.append(repr(record))
        secrets += [b._material for b in record.materials.values()]
    sim.audit.close()
    texts += [sim.audit.to_jsonl(), sim.trace.to_json(), (tmp_path / "audit.jsonl").read_text(),
              json.dumps([e.to_dict() for e in sim.trace]), repr(list(sim.trace))]
    assert secrets and not _scan(texts, secrets)


def test_the_scanner_finds_a_planted_leak() -> None:
    secret = bytes(range(32))
    assert _scan([f"oops {secret.hex()}"], [secret])
    assert _scan([base64.b64encode(secret).decode()], [secret])


def test_a_same_key_restore_leaks_no_data_key(tmp_path: Path) -> None:
    from ebs_support import attached

    sim = Simulation(seed=12)
    key = sim.kms.create_key()
    vol_id, dev = attached(sim, kms_key_id=key.arn)
    dev.write(0, b"restore me")
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    sim.run_until_idle()
    restored = sim.ebs.create_volume(snapshot_id=snap.snapshot_id)
    copy = sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap.snapshot_id)
    sim.run_until_idle()
    texts = [repr(restored), repr(copy)]
    with pytest.raises(AwsError) as err:  # not through EC2
        sim.kms.generate_data_key_without_plaintext_reusing(
            key_id=key.arn, source_ciphertext_blob=sim.ebs._state.snapshots[
                snap.snapshot_id].encrypted_data_key, source_encryption_context={})
    texts += [str(err.value), repr(err.value)]
    secrets = []
    for rec in (sim.ebs._state.volumes[restored.volume_id],
                sim.ebs._state.snapshots[copy.snapshot_id]):
        assert rec.encrypted_data_key is not None
        secrets.append(bytes(sim.kms.decrypt(ciphertext_blob=rec.encrypted_data_key,
                                             encryption_context=rec.encryption_context).plaintext))
        texts.append(repr(rec))
    texts += [sim.audit.to_jsonl(), sim.trace.to_json(), repr(list(sim.trace))]
    assert len(set(secrets)) == 1 and not _scan(texts, secrets)  # one data key, reused
