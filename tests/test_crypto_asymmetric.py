"""Asymmetric keys: signatures and ciphertexts that the library verifies and decrypts outside."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.crypto.asymmetric import (
    AsymmetricKey,
    CryptoInputError,
    digest_size,
    max_plaintext,
    signing_algorithms_for,
)
from simulator.entropy import Entropy

_H = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


@pytest.fixture(scope="module")
def rsa_key() -> AsymmetricKey:
    return AsymmetricKey.generate("RSA_2048", Entropy(21))


@pytest.fixture(scope="module")
def ec_keys() -> dict[str, AsymmetricKey]:
    return {spec: AsymmetricKey.generate(spec, Entropy(22))
            for spec in ("ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1")}


def _outside_verify(public_der: bytes, algorithm: str, message: bytes, signature: bytes,
                    digest: bool = False) -> None:
    """Verify as a client would, with nothing of the simulator's (raises InvalidSignature)."""
    public = serialization.load_der_public_key(public_der)
    h = _H[algorithm.rsplit("_", 1)[1]]()
    chosen = Prehashed(h) if digest else h
    if algorithm.startswith("ECDSA"):
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, message, ec.ECDSA(chosen))
    else:
        assert isinstance(public, rsa.RSAPublicKey)
        pad = (padding.PKCS1v15() if "PKCS1" in algorithm else
               padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.DIGEST_LENGTH))
        public.verify(signature, message, pad, chosen)


@pytest.mark.parametrize("seed", [7, None])
@pytest.mark.parametrize("algorithm", signing_algorithms_for("RSA_2048"))
def test_rsa_signatures_verify_outside_the_simulator(rsa_key: AsymmetricKey, algorithm: str,
                                                     seed: int | None) -> None:
    source = Entropy(seed)
    msg = b"header.payload"
    sig = rsa_key.sign(algorithm, msg, digest=False, source=source)
    _outside_verify(rsa_key.public_key_der(), algorithm, msg, sig)
    assert rsa_key.verify(algorithm, msg, sig, digest=False)
    digest = hashlib.new("sha" + algorithm.rsplit("_", 1)[1], msg).digest()
    assert len(digest) == digest_size(algorithm)
    dsig = rsa_key.sign(algorithm, digest, digest=True, source=source)
    _outside_verify(rsa_key.public_key_der(), algorithm, digest, dsig, digest=True)
    assert rsa_key.verify(algorithm, msg, dsig, digest=False)  # a DIGEST signature is the message's


def test_seeded_signatures_replay_byte_for_byte(rsa_key: AsymmetricKey,
                                                ec_keys: dict[str, AsymmetricKey]) -> None:
    for key, algorithm in ((rsa_key, "RSASSA_PSS_SHA_256"), (ec_keys["ECC_NIST_P256"], "ECDSA_SHA_256")):
        a = key.sign(algorithm, b"m", digest=False, source=Entropy(1))
        b = key.sign(algorithm, b"m", digest=False, source=Entropy(1))
        assert a == b
    # Unseeded PSS and ECDSA are randomized, as in AWS.
    assert rsa_key.sign("RSASSA_PSS_SHA_256", b"m", digest=False, source=Entropy(None)) != \
        rsa_key.sign("RSASSA_PSS_SHA_256", b"m", digest=False, source=Entropy(None))


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1"])
def test_ecdsa_pairs_each_curve_with_its_hash_and_verifies_outside(
        ec_keys: dict[str, AsymmetricKey], spec: str) -> None:
    (algorithm,) = signing_algorithms_for(spec)
    assert algorithm == {"ECC_NIST_P384": "ECDSA_SHA_384",
                         "ECC_NIST_P521": "ECDSA_SHA_512"}.get(spec, "ECDSA_SHA_256")
    key = ec_keys[spec]
    for seed in (3, None):
        sig = key.sign(algorithm, b"jwt", digest=False, source=Entropy(seed))
        _outside_verify(key.public_key_der(), algorithm, b"jwt", sig)


@settings(max_examples=40, deadline=None)
@given(message=st.binary(min_size=1, max_size=300), bit=st.integers(min_value=0),
       which=st.sampled_from(["message", "signature"]),
       algorithm=st.sampled_from(["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "ECDSA_SHA_256"]))
def test_a_single_bit_flip_of_message_or_signature_fails_verification(
        rsa_key: AsymmetricKey, ec_keys: dict[str, AsymmetricKey], message: bytes, bit: int,
        which: str, algorithm: str) -> None:
    key = ec_keys["ECC_NIST_P256"] if algorithm.startswith("ECDSA") else rsa_key
    sig = key.sign(algorithm, message, digest=False, source=Entropy(5))
    _outside_verify(key.public_key_der(), algorithm, message, sig)
    target = bytearray(message if which == "message" else sig)
    target[(bit // 8) % len(target)] ^= 1 << (bit % 8)
    msg, bad = (bytes(target), sig) if which == "message" else (message, bytes(target))
    assert not key.verify(algorithm, msg, bad, digest=False)
    with pytest.raises(InvalidSignature):
        _outside_verify(key.public_key_der(), algorithm, msg, bad)


@pytest.mark.parametrize("seed", [8, None])
@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
def test_oaep_ciphertexts_decrypt_outside_and_inside(rsa_key: AsymmetricKey, algorithm: str,
                                                     seed: int | None) -> None:
    limit = max_plaintext("RSA_2048", algorithm)
    assert limit == {"RSAES_OAEP_SHA_1": 214, "RSAES_OAEP_SHA_256": 190}[algorithm]
    plaintext = bytes(range(256))[:limit]
    blob = rsa_key.encrypt(algorithm, plaintext, source=Entropy(seed))
    assert rsa_key.decrypt(algorithm, blob) == plaintext
    # A client holding the private key (as after importing it) decrypts with the library alone.
    private = serialization.load_der_private_key(bytes(rsa_key.private_key_der()), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    h = hashes.SHA1() if algorithm.endswith("1") else hashes.SHA256()
    assert private.decrypt(blob, padding.OAEP(padding.MGF1(h), h, None)) == plaintext
    with pytest.raises(CryptoInputError):
        rsa_key.decrypt("RSAES_OAEP_SHA_256" if algorithm.endswith("1") else "RSAES_OAEP_SHA_1", blob)


def test_max_plaintext_matches_aws_limits() -> None:
    assert [max_plaintext(s, a) for s in ("RSA_2048", "RSA_3072", "RSA_4096")
            for a in ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")] == [214, 190, 342, 318, 470, 446]


def test_ecdh_gives_both_sides_the_same_secret(ec_keys: dict[str, AsymmetricKey]) -> None:
    kms_key = ec_keys["ECC_NIST_P384"]
    peer = ec.generate_private_key(ec.SECP384R1())
    peer_der = peer.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    secret = kms_key.derive_shared_secret(peer_der)
    kms_public = serialization.load_der_public_key(kms_key.public_key_der())
    assert isinstance(kms_public, ec.EllipticCurvePublicKey)
    assert secret == peer.exchange(ec.ECDH(), kms_public)
    assert secret.hex() not in repr(secret)
    other_curve = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(CryptoInputError, match="curve"):
        kms_key.derive_shared_secret(other_curve)
    with pytest.raises(CryptoInputError, match="SubjectPublicKeyInfo"):
        kms_key.derive_shared_secret(b"\x30\x03junk")


def test_pkcs8_round_trip_and_spec_check(rsa_key: AsymmetricKey, ec_keys: dict[str, AsymmetricKey]) -> None:
    der = rsa_key.private_key_der()
    assert AsymmetricKey.from_pkcs8("RSA_2048", der).public_key_der() == rsa_key.public_key_der()
    with pytest.raises(CryptoInputError, match="RSA_3072"):
        AsymmetricKey.from_pkcs8("RSA_3072", der)
    with pytest.raises(CryptoInputError, match="ECC_NIST_P384"):
        AsymmetricKey.from_pkcs8("ECC_NIST_P384", ec_keys["ECC_NIST_P256"].private_key_der())
    with pytest.raises(CryptoInputError, match="PKCS #8"):
        AsymmetricKey.from_pkcs8("RSA_2048", b"not a key")


def test_reprs_never_show_the_private_key(rsa_key: AsymmetricKey) -> None:
    numbers = serialization.load_der_private_key(bytes(rsa_key.private_key_der()), None)
    assert isinstance(numbers, rsa.RSAPrivateKey)
    rsa_key.sign("RSASSA_PSS_SHA_256", b"x", digest=False, source=Entropy(1))  # fills the number cache
    text = repr(rsa_key) + repr(rsa_key.private_key_der()) + repr(rsa_key._numbers)
    d = numbers.private_numbers().d
    assert str(d) not in text and format(d, "x") not in text
    assert "redacted" in repr(rsa_key)
