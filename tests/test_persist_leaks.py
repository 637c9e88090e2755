"""After a run, the state file and its side files hold no secret in raw, hex or base64 form:
no plaintext data key (returned to the caller or held by an attachment), no KMS key material
of any version, no private key (PKCS#8 or its secret scalar), no HMAC key, no data key pair's
private key, no imported material (saved only as the wrapped blob the caller sent), no
grant-token key, no Encrypt plaintext, no block plaintext."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from persist_support import build_world, pattern

from simulator import Simulation


def _byte_fields(obj: Any) -> list[bytes]:
    """Every bytes-like attribute of ``obj`` (slots or dict): key material, whatever its class."""
    names = list(getattr(obj, "__dict__", {}))
    for klass in type(obj).__mro__:
        names.extend(getattr(klass, "__slots__", ()))
    found = []
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, bytes | bytearray) and len(value) >= 16:
            found.append(bytes(value))
    return found


def _forms(secret: bytes) -> list[bytes]:
    forms = [secret, secret.hex().encode(), secret.hex().upper().encode()]
    for shift in range(3):  # base64 of the secret wherever it sits in a longer value
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(bytes(shift) + secret)
            forms.append(text[4:-4])
    return forms


def _secrets(sim: Simulation, ids: dict[str, Any]) -> dict[str, bytes]:
    secrets = {"returned data key": bytes(ids["data_key"].plaintext),
               "encrypt plaintext": b"the launch codes are 0000-0000-0000",
               "block plaintext": pattern(3, 4096)}
    secrets["data key pair private key"] = bytes(ids["pair"].private_key_plaintext)
    kms_state = sim._kms_state
    for key_id, record in kms_state.keys.items():
        for n, material in enumerate(record.materials.values()):
            for m, value in enumerate(_byte_fields(material)):
                secrets[f"material {key_id} #{n}.{m}"] = value
        if record.hmac is not None:
            for m, value in enumerate(_byte_fields(record.hmac)):
                secrets[f"HMAC key {key_id} #{m}"] = value
        if record.asymmetric is not None:
            private = record.asymmetric
            secrets[f"private key {key_id} (PKCS#8)"] = bytes(private.private_key_der())
            numbers = private._private.private_numbers()
            scalar = getattr(numbers, "private_value", None) or getattr(numbers, "d", 0)
            secrets[f"private key {key_id} (scalar)"] = scalar.to_bytes(
                (scalar.bit_length() + 7) // 8, "big")
    for m, value in enumerate(_byte_fields(kms_state.grants)):
        secrets[f"grant store secret #{m}"] = value
    for volume in sim._ebs_state.volumes.values():
        if volume.attachment is not None and volume.attachment.plaintext_data_key is not None:
            secrets[f"data key of {volume.volume_id}"] = bytes(
                volume.attachment.plaintext_data_key)
    return secrets


def _import_material(sim: Simulation) -> bytes:
    """Import 32 bytes of material into an EXTERNAL key, wrapped as a client would."""
    material = bytes(range(100, 132))
    key = sim.kms.create_key(origin="EXTERNAL").key_id
    params = sim.kms.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                               wrapping_key_spec="RSA_2048")
    public = serialization.load_der_public_key(params.public_key)
    assert isinstance(public, rsa.RSAPublicKey)
    wrapped = public.encrypt(material, padding.OAEP(padding.MGF1(hashes.SHA256()),
                                                    hashes.SHA256(), None))
    sim.kms.import_key_material(key_id=key, import_token=params.import_token,
                                encrypted_key_material=wrapped,
                                expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    return material


def test_no_secret_reaches_the_state_file_or_its_side_files(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=11, state=path)
    ids = build_world(sim)
    sim.kms.encrypt(key_id=ids["key"], plaintext=b"the launch codes are 0000-0000-0000",
                    encryption_context={"app": "x"})
    imported = _import_material(sim)
    external = [k.key_id for k in sim.kms.list_keys().keys][-1]
    blob = sim.kms.encrypt(key_id=external, plaintext=b"under imported").ciphertext_blob
    secrets = _secrets(sim, ids)
    secrets["imported material"] = imported
    assert sum(name.startswith("material") for name in secrets) >= 3  # a rotated key: 2
    assert sum(name.startswith(("HMAC key", "private key")) for name in secrets) >= 3
    assert sum(name.startswith("data key of") for name in secrets) >= 3
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}  # while open: the log too
    sim.close()
    files.update({p.name + " (closed)": p.read_bytes() for p in tmp_path.iterdir()})
    assert any(b"alias/ws" in data for data in files.values())  # the scan reads real content
    leaks = [(name, file) for name, secret in secrets.items() for form in _forms(secret)
             for file, data in files.items() if form in data]
    assert leaks == []
    # The imported material comes back from its wrapped blob: old ciphertexts decrypt.
    again = Simulation(state=path)
    assert again.kms.decrypt(ciphertext_blob=blob).plaintext == b"under imported"
    again.close()



def test_the_seed_and_the_file_key_are_only_in_the_key_file(tmp_path: Path) -> None:
    # Unseeded: the drawn seed recreates every key, so it is sealed under the file key, which
    # only the key file holds; the database and its other side files reveal neither.
    path = tmp_path / "sim.db"
    sim = Simulation(state=path)
    key = sim.kms.create_key(description="k").arn
    sim.kms.generate_data_key(key_id=key, key_spec="AES_256")
    seed = sim.seed
    assert isinstance(seed, int) and seed > 2**32  # drawn, not guessable
    open_files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    sim.close()
    files = {**open_files, **{p.name + " (closed)": p.read_bytes() for p in tmp_path.iterdir()}}
    text = (tmp_path / "sim.db-key").read_text()
    file_key = base64.b64decode(text.split()[1])
    assert len(file_key) == 32
    secrets = {"file key": _forms(file_key),
               "seed": [str(seed).encode(), f"{seed:x}".encode(), f"{seed:X}".encode(),
                        *_forms(seed.to_bytes(8, "big")), *_forms(seed.to_bytes(8, "little"))]}
    scanned = {name: data for name, data in files.items() if not name.startswith("sim.db-key")}
    assert {"sim.db", "sim.db-blocks", "sim.db-wal"} <= set(scanned)
    leaks = [(what, name) for what, forms in secrets.items() for form in forms
             for name, data in scanned.items() if form in data]
    assert leaks == []
    with Simulation(state=path) as again:  # the key file opens it: the same seed, same keys
        assert again.seed == seed and again.kms.describe_key(key_id=key).arn == key
