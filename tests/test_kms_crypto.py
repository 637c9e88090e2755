"""Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.crypto import SecretBytes
from simulator.errors import (
    DisabledException,
    DryRunOperationException,
    IncorrectKeyException,
    InvalidCiphertextException,
    KMSInvalidStateException,
    ValidationException,
)
from tests.conftest import kms_fingerprint

CTX = {"aws:ebs:id": "vol-0123456789abcdef0"}


def test_generate_data_key_round_trips_through_decrypt(sim: Simulation) -> None:
    key = sim.kms.create_key()
    dk = sim.kms.generate_data_key(key_id=key.arn, encryption_context={"a": "b"}, key_spec="AES_256")
    assert isinstance(dk.plaintext, SecretBytes) and len(dk.plaintext) == 32
    assert dk.key_id == key.arn and dk.key_material_id == key.current_key_material_id
    out = sim.kms.decrypt(ciphertext_blob=dk.ciphertext_blob, encryption_context={"a": "b"})
    assert out.plaintext == dk.plaintext and out.key_id == key.arn
    assert out.encryption_algorithm == "SYMMETRIC_DEFAULT"


@pytest.mark.parametrize("kwargs,size", [({"key_spec": "AES_128"}, 16), ({"number_of_bytes": 64}, 64),
                                         ({"number_of_bytes": 1}, 1), ({"number_of_bytes": 1024}, 1024)])
def test_data_key_sizes(sim: Simulation, kwargs: dict[str, object], size: int) -> None:
    key = sim.kms.create_key()
    dk = sim.kms.generate_data_key(key_id=key.key_id, **kwargs)  # type: ignore[arg-type]
    assert len(dk.plaintext) == size


@pytest.mark.parametrize("kwargs", [{}, {"key_spec": "AES_256", "number_of_bytes": 32}])
def test_exactly_one_of_key_spec_and_number_of_bytes(sim: Simulation, kwargs: dict[str, object]) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException, match="either number of bytes or key spec"):
        sim.kms.generate_data_key(key_id=key.key_id, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [0, 1025, -1, True, "32", 3.0])
def test_number_of_bytes_out_of_range_or_wrong_type(sim: Simulation, n: object) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.generate_data_key_without_plaintext(key_id=key.key_id, number_of_bytes=n)  # type: ignore[arg-type]


def test_bad_key_spec_lists_the_enum(sim: Simulation) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException, match=r"\[AES_256, AES_128\]"):
        sim.kms.generate_data_key(key_id=key.key_id, key_spec="AES_512")


def test_generate_data_key_without_plaintext_returns_no_plaintext(sim: Simulation) -> None:
    key = sim.kms.create_key()
    edk = sim.kms.generate_data_key_without_plaintext(key_id=key.arn, number_of_bytes=64,
                                                      encryption_context=CTX)
    assert not hasattr(edk, "plaintext")
    assert len(sim.kms.decrypt(ciphertext_blob=edk.ciphertext_blob, encryption_context=CTX).plaintext) == 64


def test_encrypt_limits_plaintext_to_4096_bytes(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.encrypt(key_id=key.arn, plaintext=b"x" * 4096)
    with pytest.raises(ValidationException) as err:
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x" * 4097)
    assert err.value.message == ("1 validation error detected: Value at 'plaintext' failed to satisfy "
                                 "constraint: Member must have length less than or equal to 4096")
    with pytest.raises(ValidationException):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"")
    with pytest.raises(ValidationException):
        sim.kms.encrypt(key_id=key.arn, plaintext=12345)  # type: ignore[arg-type]


def test_wrong_or_missing_context_is_invalid_ciphertext_with_empty_message(sim: Simulation) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"data", encryption_context=CTX).ciphertext_blob
    for ctx in [None, {}, {"aws:ebs:id": "vol-other"}, {"AWS:EBS:ID": CTX["aws:ebs:id"]},
                {**CTX, "extra": "pair"}]:
        with pytest.raises(InvalidCiphertextException) as err:
            sim.kms.decrypt(ciphertext_blob=blob, encryption_context=ctx)
        assert err.value.message == ""


def test_empty_context_and_no_context_are_the_same(sim: Simulation) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"data", encryption_context={}).ciphertext_blob
    assert sim.kms.decrypt(ciphertext_blob=blob).plaintext == b"data"


@pytest.mark.parametrize("ctx", [{"a": 1}, {1: "a"}, ["a", "b"], "a=b", {"a": None}])
def test_non_string_context_is_a_validation_error(sim: Simulation, ctx: object) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x", encryption_context=ctx)  # type: ignore[arg-type]


def test_decrypt_with_a_different_key_id_is_incorrect_key(sim: Simulation) -> None:
    k1, k2 = sim.kms.create_key(), sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=k1.arn, plaintext=b"x").ciphertext_blob
    with pytest.raises(IncorrectKeyException):
        sim.kms.decrypt(ciphertext_blob=blob, key_id=k2.arn)
    assert sim.kms.decrypt(ciphertext_blob=blob, key_id=k1.key_id).plaintext == b"x"


@pytest.mark.parametrize("blob", [b"", b"x", b"\x01" * 100, bytes(6145)])
def test_garbage_blobs_are_rejected(sim: Simulation, blob: bytes) -> None:
    sim.kms.create_key()
    with pytest.raises((InvalidCiphertextException, ValidationException)):
        sim.kms.decrypt(ciphertext_blob=blob)


def test_decrypt_on_disabled_and_pending_deletion_keys(sim: Simulation) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"x").ciphertext_blob
    sim.kms.disable_key(key_id=key.key_id)
    with pytest.raises(DisabledException):
        sim.kms.decrypt(ciphertext_blob=blob)
    sim.kms.schedule_key_deletion(key_id=key.key_id, pending_window_in_days=7)
    with pytest.raises(KMSInvalidStateException) as err:
        sim.kms.decrypt(ciphertext_blob=blob)
    assert err.value.message == f"{key.arn} is pending deletion."
    sim.kms.cancel_key_deletion(key_id=key.key_id)
    sim.kms.enable_key(key_id=key.key_id)
    assert sim.kms.decrypt(ciphertext_blob=blob).plaintext == b"x"


def test_re_encrypt_moves_a_blob_to_another_key_and_context(sim: Simulation) -> None:
    k1, k2 = sim.kms.create_key(), sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=k1.arn, plaintext=b"payload", encryption_context={"a": "1"}).ciphertext_blob
    res = sim.kms.re_encrypt(ciphertext_blob=blob, source_encryption_context={"a": "1"},
                             destination_key_id=k2.key_id, destination_encryption_context={"b": "2"})
    assert res.source_key_id == k1.arn and res.key_id == k2.arn
    assert sim.kms.decrypt(ciphertext_blob=res.ciphertext_blob, encryption_context={"b": "2"}).plaintext == b"payload"
    with pytest.raises(InvalidCiphertextException):
        sim.kms.re_encrypt(ciphertext_blob=blob, source_encryption_context={"a": "2"},
                           destination_key_id=k2.key_id)


def test_re_encrypt_to_a_disabled_key_fails(sim: Simulation) -> None:
    k1, k2 = sim.kms.create_key(), sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=k1.arn, plaintext=b"payload").ciphertext_blob
    sim.kms.disable_key(key_id=k2.key_id)
    with pytest.raises(DisabledException, match=k2.arn):
        sim.kms.re_encrypt(ciphertext_blob=blob, destination_key_id=k2.arn)


def test_dry_run_checks_everything_and_does_nothing(sim: Simulation) -> None:
    key = sim.kms.create_key()
    with pytest.raises(DryRunOperationException):
        sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256", dry_run=True)
    sim.kms.disable_key(key_id=key.key_id)
    with pytest.raises(DisabledException):
        sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256", dry_run=True)


def test_generate_random(sim: Simulation) -> None:
    r = sim.kms.generate_random(number_of_bytes=16)
    assert len(r.plaintext) == 16
    with pytest.raises(ValidationException):
        sim.kms.generate_random(number_of_bytes=1025)


def test_encrypt_accepts_an_alias(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/app", target_key_id=key.arn)
    res = sim.kms.encrypt(key_id="alias/app", plaintext=b"x")
    assert res.key_id == key.arn


def test_failed_crypto_calls_change_nothing(sim: Simulation) -> None:
    key = sim.kms.create_key()
    before = kms_fingerprint(sim)
    with pytest.raises(ValidationException):
        sim.kms.generate_data_key(key_id=key.arn, number_of_bytes=2000)
    with pytest.raises(InvalidCiphertextException):
        sim.kms.decrypt(ciphertext_blob=b"\x01" * 120)
    assert kms_fingerprint(sim) == before


def test_blob_repr_and_data_key_repr_hide_secrets(sim: Simulation) -> None:
    key = sim.kms.create_key()
    dk = sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256")
    text = repr(dk) + str(dk) + f"{dk.plaintext}" + str(dk.plaintext)
    assert dk.plaintext.hex() not in text and bytes(dk.plaintext).__repr__() not in text
    assert "redacted" in text


@pytest.mark.parametrize("kwargs", [{"key_spec": "AES_256"}, {"key_spec": "AES_128"},
                                    {"number_of_bytes": 7}, {"number_of_bytes": 64}])
def test_data_keys_are_the_seeded_draws_and_blob_nonces_follow(kwargs: dict[str, object]) -> None:
    from simulator.crypto.envelope import HEADER_SIZE, NONCE_SIZE
    from simulator.entropy import Entropy

    sim = Simulation(seed=9)
    key = sim.kms.create_key()
    state = sim.runtime.entropy.random.getstate()
    dk = sim.kms.generate_data_key(key_id=key.arn, **kwargs)  # type: ignore[arg-type]
    replay = Entropy(0)
    replay.random.setstate(state)
    assert bytes(dk.plaintext) == replay.token_bytes(len(dk.plaintext))
    assert dk.ciphertext_blob[HEADER_SIZE - NONCE_SIZE:HEADER_SIZE] == replay.token_bytes(NONCE_SIZE)


def test_result_objects_are_ordinary_frozen_dataclasses(sim: Simulation) -> None:
    import dataclasses

    from simulator.kms.models import DataKey, DecryptResult

    key = sim.kms.create_key()
    dk = sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256")
    out = sim.kms.decrypt(ciphertext_blob=dk.ciphertext_blob)
    assert dk == DataKey(dk.ciphertext_blob, dk.plaintext, key.arn, dk.key_material_id)
    assert out == DecryptResult(dk.plaintext, key.arn, "SYMMETRIC_DEFAULT", dk.key_material_id)
    for obj in (dk, out):
        assert set(vars(obj)) == {f.name for f in dataclasses.fields(obj)}
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.key_id = "x"  # type: ignore[misc]
        assert hash(obj) == hash(dataclasses.replace(obj))
    assert isinstance(dk.plaintext, SecretBytes) and isinstance(out.plaintext, SecretBytes)
    assert "redacted" in repr(dk) and "redacted" in repr(out)


def test_header_ids_are_what_parse_header_reads(sim: Simulation) -> None:
    from simulator.crypto import BlobError, parse_header
    from simulator.crypto.envelope import header_ids

    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"x").ciphertext_blob
    header = parse_header(blob)
    assert header_ids(blob) == (header.key_id, header.material_id) == (
        key.key_id, key.current_key_material_id)
    assert header_ids(bytearray(blob)) == header_ids(memoryview(blob))
    for bad in (b"", blob[:60], b"\x02" + blob[1:]):
        with pytest.raises(BlobError):
            header_ids(bad)
