"""KMS asymmetric operations: Sign, Verify, GetPublicKey, DeriveSharedSecret, GenerateDataKeyPair*.

Every operation runs the same rules as the symmetric ones, in the same order: input validation,
key resolution, authorization (key policy, IAM, grants, with the operation's condition keys),
key state, key usage and algorithm, DryRun; only then is a key used. Audit records and trace
events name the algorithms, the message type and the key spec, never a message, signature
input, private key or shared secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..crypto import AsymmetricKey, CryptoInputError, seal
from ..crypto.asymmetric import SIGNING_ALGORITHMS, digest_size, signing_algorithms_for
from ..errors import (
    InvalidKeyUsageException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)
from . import validation as v
from .asymmetric_models import (
    DataKeyPair,
    DataKeyPairWithoutPlaintext,
    DeriveSharedSecretResult,
    PublicKeyResult,
    SignResult,
    VerifyResult,
)
from .base import KmsBase, request_alias
from .key_material import UNSUPPORTED_KEY_SPECS
from .keys import ENCRYPT_DECRYPT, KEY_AGREEMENT, SIGN_VERIFY, KeyRecord

__all__ = ["AsymmetricOperations"]

_SIGNING_ENUM = (*SIGNING_ALGORITHMS, "SM2DSA", "ML_DSA_SHAKE_256", "ED25519_SHA_512",
                 "ED25519_PH_SHA_512")
_MESSAGE_TYPES = ("RAW", "DIGEST", "EXTERNAL_MU")
_DATA_KEY_PAIR_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
                        "ECC_NIST_P521", "ECC_SECG_P256K1", "SM2", "ECC_NIST_EDWARDS25519")


class AsymmetricOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    @staticmethod
    def _recipient(recipient: object) -> None:
        if recipient is not None:
            raise UnsupportedOperationException(
                "Recipient (an AWS Nitro Enclaves attestation document) is not supported by "
                "envelope-sim: there is no enclave to attest.")

    # ------------------------------------------------------------------ Sign / Verify

    def _signature_input(self, key: KeyRecord, algorithm: str, message_type: str,
                         message: bytes) -> AsymmetricKey:
        if algorithm not in signing_algorithms_for(key.key_spec):
            raise InvalidKeyUsageException(
                f"{key.arn} key spec {key.key_spec} does not support the signing algorithm "
                f"{algorithm}; it supports {', '.join(signing_algorithms_for(key.key_spec))}.")
        if message_type == "EXTERNAL_MU":
            raise InvalidKeyUsageException(
                f"MessageType EXTERNAL_MU is valid only with ML_DSA keys, not {key.key_spec}.")
        if message_type == "DIGEST" and len(message) != digest_size(algorithm):
            raise ValidationException(
                f"Digest is invalid length for algorithm {algorithm}: a DIGEST message must be "
                f"{digest_size(algorithm)} bytes, not {len(message)}.")
        assert key.asymmetric is not None  # an enabled SIGN_VERIFY key has its private key
        return key.asymmetric

    def _check_signing(self, message: object, signing_algorithm: object,
                       message_type: object) -> tuple[bytes, str, str]:
        msg = v.check_plaintext(message, "message")
        algorithm = v.check_enum(signing_algorithm, "signingAlgorithm", _SIGNING_ENUM)
        mtype = v.check_enum("RAW" if message_type is None else message_type, "messageType",
                             _MESSAGE_TYPES)
        return msg, algorithm, mtype

    def sign(self, *, key_id: str, message: bytes, signing_algorithm: str,
             message_type: str | None = None, grant_tokens: Sequence[str] | None = None,
             dry_run: bool = False) -> SignResult:
        """Sign a message (RAW, up to 4096 bytes) or a digest (DIGEST) with an asymmetric key."""
        with self._api("Sign", {"keyId": key_id, "messageType": message_type or "RAW",
                                "signingAlgorithm": signing_algorithm}, read_only=True) as call:
            msg, algorithm, mtype = self._check_signing(message, signing_algorithm, message_type)
            tokens = v.check_tokens(grant_tokens)
            key = self._use_key(call, key_id, "Sign", SIGN_VERIFY, tokens=tokens, extra={
                "kms:SigningAlgorithm": algorithm, "kms:MessageType": mtype})
            private = self._signature_input(key, algorithm, mtype, msg)
            self._dry_run(dry_run)
            signature = private.sign(algorithm, msg, digest=mtype == "DIGEST",
                                     source=self._s.runtime.entropy)
            call.additional = {"keySpec": key.key_spec}
            call.trace_detail = {"signing_algorithm": algorithm, "message_type": mtype,
                                 "key_spec": key.key_spec, "message_bytes": len(msg)}
            return SignResult(key.arn, signature, algorithm)

    def verify(self, *, key_id: str, message: bytes, signature: bytes, signing_algorithm: str,
               message_type: str | None = None, grant_tokens: Sequence[str] | None = None,
               dry_run: bool = False) -> VerifyResult:
        """Verify a signature; one that does not verify is KMSInvalidSignatureException."""
        with self._api("Verify", {"keyId": key_id, "messageType": message_type or "RAW",
                                  "signingAlgorithm": signing_algorithm}, read_only=True) as call:
            msg, algorithm, mtype = self._check_signing(message, signing_algorithm, message_type)
            sig = v.check_blob(signature, "signature")
            tokens = v.check_tokens(grant_tokens)
            key = self._use_key(call, key_id, "Verify", SIGN_VERIFY, tokens=tokens, extra={
                "kms:SigningAlgorithm": algorithm, "kms:MessageType": mtype})
            private = self._signature_input(key, algorithm, mtype, msg)
            self._dry_run(dry_run)
            call.additional = {"keySpec": key.key_spec}
            call.trace_detail = {"signing_algorithm": algorithm, "message_type": mtype,
                                 "key_spec": key.key_spec}
            if not private.verify(algorithm, msg, sig, digest=mtype == "DIGEST"):
                raise KMSInvalidSignatureException(
                    "The signature does not verify for this message, key and signing algorithm.")
            return VerifyResult(key.arn, True, algorithm)

    # ------------------------------------------------------------------ GetPublicKey

    def get_public_key(self, *, key_id: str,
                       grant_tokens: Sequence[str] | None = None) -> PublicKeyResult:
        """GetPublicKey: an asymmetric key's public key (DER SubjectPublicKeyInfo)."""
        with self._api("GetPublicKey", {"keyId": key_id}, read_only=True) as call:
            tokens = v.check_tokens(grant_tokens)
            key = self._resolve(key_id, aliases=True, cross_account=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:GetPublicKey", grant_operation="GetPublicKey", tokens=tokens,
                            extra={"kms:RequestAlias": request_alias(key_id)})
            self._require_usable(key)
            if key.asymmetric is None:
                raise UnsupportedOperationException(
                    f"{key.arn} key spec {key.key_spec} is not valid for GetPublicKey: only "
                    "asymmetric KMS keys have a public key.")
            meta = key.metadata()
            call.additional = {"keySpec": key.key_spec}
            call.trace_detail = {"key_spec": key.key_spec, "key_usage": key.key_usage}
            return PublicKeyResult(
                key_id=key.arn, public_key=key.asymmetric.public_key_der(),
                customer_master_key_spec=key.key_spec, key_spec=key.key_spec,
                key_usage=key.key_usage, encryption_algorithms=meta.encryption_algorithms,
                signing_algorithms=meta.signing_algorithms,
                key_agreement_algorithms=meta.key_agreement_algorithms)

    # ------------------------------------------------------------------ DeriveSharedSecret

    def derive_shared_secret(self, *, key_id: str, key_agreement_algorithm: str, public_key: bytes,
                             grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
                             recipient: Mapping[str, Any] | None = None) -> DeriveSharedSecretResult:
        """DeriveSharedSecret: ECDH between this key and a peer's public key (DER SPKI)."""
        with self._api("DeriveSharedSecret", {"keyId": key_id,
                                              "keyAgreementAlgorithm": key_agreement_algorithm},
                       read_only=True) as call:
            algorithm = v.check_enum(key_agreement_algorithm, "keyAgreementAlgorithm", ("ECDH",))
            peer = v.check_plaintext(public_key, "publicKey", 8192)
            tokens = v.check_tokens(grant_tokens)
            self._recipient(recipient)
            key = self._use_key(call, key_id, "DeriveSharedSecret", KEY_AGREEMENT, tokens=tokens,
                                extra={"kms:KeyAgreementAlgorithm": algorithm})
            assert key.asymmetric is not None
            try:
                secret = key.asymmetric.derive_shared_secret(peer)
            except CryptoInputError as err:
                raise ValidationException(f"PublicKey is not valid for {key.key_spec}: {err}.") from None
            self._dry_run(dry_run)
            call.additional = {"keySpec": key.key_spec}
            call.trace_detail = {"key_agreement_algorithm": algorithm, "key_spec": key.key_spec}
            return DeriveSharedSecretResult(key.arn, secret, algorithm, key.origin)

    # ------------------------------------------------------------------ data key pairs

    def _generate_pair(self, name: str, key_id: object, key_pair_spec: object,
                       encryption_context: object, grant_tokens: object, dry_run: object,
                       recipient: object = None) -> tuple[KeyRecord, AsymmetricKey, bytes, str]:
        with self._api(name, {"keyId": key_id, "keyPairSpec": key_pair_spec,
                              "encryptionContext": encryption_context}, read_only=True) as call:
            spec = v.check_enum(key_pair_spec, "keyPairSpec", _DATA_KEY_PAIR_SPECS)
            if spec in UNSUPPORTED_KEY_SPECS:
                raise UnsupportedOperationException(
                    f"KeyPairSpec {spec} is not supported by envelope-sim: "
                    f"{UNSUPPORTED_KEY_SPECS[spec]}.")
            ctx = v.check_context(encryption_context)
            tokens = v.check_tokens(grant_tokens)
            self._recipient(recipient)
            key = self._use_key(call, key_id, name, ENCRYPT_DECRYPT, tokens=tokens, context=ctx,
                                extra={"kms:DataKeyPairSpec": spec,
                                       "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
            if not key.is_symmetric:
                raise InvalidKeyUsageException(
                    f"{key.arn} key spec {key.key_spec} is not valid for {name}: the private key "
                    "is encrypted under a symmetric encryption KMS key.")
            self._dry_run(dry_run)
            pair = AsymmetricKey.generate(spec, self._s.runtime.entropy)
            material_id = key.current_material_id
            assert material_id is not None
            # Sealed exactly as a data key is: the same blob format, the context bound as AAD,
            # so Decrypt with the same context returns the PKCS #8 private key.
            blob = seal(key.materials[material_id], key.key_id, pair.private_key_der(), ctx,
                        self._s.runtime.entropy.token_bytes(12))
            call.trace_detail = {"key_pair_spec": spec, "encryption_context": ctx or {},
                                 "key_material_id": material_id}
            return key, pair, blob, material_id

    def generate_data_key_pair(
        self, *, key_id: str, key_pair_spec: str,
        encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
        recipient: Mapping[str, Any] | None = None,
    ) -> DataKeyPair:
        """GenerateDataKeyPair: a new key pair, its private key also encrypted under the KMS key."""
        key, pair, blob, material_id = self._generate_pair(
            "GenerateDataKeyPair", key_id, key_pair_spec, encryption_context, grant_tokens, dry_run,
            recipient)
        return DataKeyPair(blob, pair.private_key_der(), pair.public_key_der(), key.arn,
                           pair.key_spec, material_id)

    def generate_data_key_pair_without_plaintext(
        self, *, key_id: str, key_pair_spec: str,
        encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
    ) -> DataKeyPairWithoutPlaintext:
        """GenerateDataKeyPairWithoutPlaintext: the public key and the encrypted private key."""
        key, pair, blob, material_id = self._generate_pair(
            "GenerateDataKeyPairWithoutPlaintext", key_id, key_pair_spec, encryption_context,
            grant_tokens, dry_run)
        return DataKeyPairWithoutPlaintext(blob, pair.public_key_der(), key.arn, pair.key_spec,
                                           material_id)
