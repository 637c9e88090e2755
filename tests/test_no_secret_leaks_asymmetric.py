"""Private keys, HMAC keys, imported material and shared secrets never leak into any output."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from simulator import Simulation
from simulator.errors import AwsError
from tests.test_no_secret_leaks import _scan


def _secrets_of(sim: Simulation) -> list[bytes]:
    """Every private key, HMAC key and backing key KMS holds, in the forms a leak could take."""
    out: list[bytes] = []
    for record in sim._kms_state.keys.values():
        out += [b._material for b in record.materials.values()]
        if record.hmac is not None:
            out.append(bytes(record.hmac._material))
        if record.asymmetric is not None:
            der = bytes(record.asymmetric.private_key_der())
            private = serialization.load_der_private_key(der, None)
            if isinstance(private, rsa.RSAPrivateKey):
                n = private.private_numbers()
                out += [n.d.to_bytes((n.d.bit_length() + 7) // 8, "big"),
                        n.p.to_bytes((n.p.bit_length() + 7) // 8, "big")]
            else:
                assert isinstance(private, ec.EllipticCurvePrivateKey)
                v = private.private_numbers().private_value
                out.append(v.to_bytes((v.bit_length() + 7) // 8, "big"))
            out.append(der)
    return out


def test_asymmetric_hmac_and_import_runs_leak_no_secret(tmp_path: Path) -> None:
    sim = Simulation(seed=12)
    sim.audit.write_jsonl(tmp_path / "audit.jsonl")
    kms = sim.kms
    texts: list[str] = []
    secrets: list[bytes] = []
    signer = kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY").arn
    rsa_enc = kms.create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT").arn
    mac_key = kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC").arn
    agree = kms.create_key(key_spec="ECC_NIST_P384", key_usage="KEY_AGREEMENT").arn
    kek = kms.create_key().arn
    message = b"confidential message 0123456789"
    secrets.append(message)
    texts.append(repr(kms.sign(key_id=signer, message=message, signing_algorithm="ECDSA_SHA_256")))
    enc = kms.encrypt(key_id=rsa_enc, plaintext=message, encryption_algorithm="RSAES_OAEP_SHA_256")
    texts += [repr(enc), repr(kms.decrypt(ciphertext_blob=enc.ciphertext_blob, key_id=rsa_enc,
                                          encryption_algorithm="RSAES_OAEP_SHA_256"))]
    texts.append(repr(kms.generate_mac(key_id=mac_key, message=message, mac_algorithm="HMAC_SHA_256")))
    peer = ec.generate_private_key(ec.SECP384R1())
    shared = kms.derive_shared_secret(key_id=agree, key_agreement_algorithm="ECDH", public_key=peer.public_key(
        ).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    secrets.append(bytes(shared.shared_secret))
    texts += [repr(shared), str(shared)]
    pair = kms.generate_data_key_pair(key_id=kek, key_pair_spec="ECC_NIST_P256", encryption_context={"a": "b"})
    secrets.append(bytes(pair.private_key_plaintext))
    texts += [repr(pair), f"{pair.private_key_plaintext}"]
    # Imported material, and failures with secrets close by.
    ext = kms.create_key(origin="EXTERNAL").arn
    params = kms.get_parameters_for_import(key_id=ext, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                           wrapping_key_spec="RSA_2048")
    material = os.urandom(32)
    secrets.append(material)
    public = serialization.load_der_public_key(params.public_key)
    assert isinstance(public, rsa.RSAPublicKey)
    wrapped = public.encrypt(material, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    texts.append(repr(params))
    kms.import_key_material(key_id=ext, import_token=params.import_token, encrypted_key_material=wrapped,
                            valid_to=sim.clock.now() + timedelta(days=1))
    for bad in (lambda: kms.import_key_material(key_id=ext, import_token=params.import_token,
                                                encrypted_key_material=material),
                lambda: kms.sign(key_id=signer, message=material, signing_algorithm="ECDSA_SHA_384"),
                lambda: kms.verify_mac(key_id=mac_key, message=material, mac=material,
                                       mac_algorithm="HMAC_SHA_256"),
                lambda: kms.sign(key_id=material, message=b"m", signing_algorithm="ECDSA_SHA_256"),  # type: ignore[arg-type]
                lambda: kms.derive_shared_secret(key_id=agree, key_agreement_algorithm="ECDH",
                                                 public_key=material)):
        with pytest.raises(AwsError) as err:
            bad()
        texts += [str(err.value), repr(err.value)]
    secrets += _secrets_of(sim)
    secrets.append(bytes(params.import_token))  # the token is a bearer secret for its key
    for record in sim._kms_state.keys.values():
        texts.append(repr(record))
        if record.imported is not None:
            texts.append(repr(record.imported))
    sim.advance(seconds=2 * 86400)  # the material expires: a service event is audited too
    sim.audit.close()
    texts += [sim.audit.to_jsonl(), sim.trace.to_json(), (tmp_path / "audit.jsonl").read_text(),
              json.dumps([e.to_dict() for e in sim.trace]), repr(list(sim.trace))]
    assert len(secrets) > 10 and not _scan(texts, secrets)
