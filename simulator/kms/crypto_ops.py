"""KMS cryptographic operations: Encrypt, GenerateDataKey*, Decrypt, ReEncrypt, GenerateRandom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..crypto import BlobError, CryptoInputError, SecretBytes, open_blob, seal
from ..crypto.asymmetric import ENCRYPTION_ALGORITHMS, max_plaintext
from ..crypto.envelope import header_ids
from ..errors import (
    MESSAGES,
    AccessDeniedException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    NotFoundException,
    ValidationException,
)
from . import validation as v
from .base import KmsBase, request_alias
from .keys import ENCRYPT_DECRYPT, KeyRecord, mrk_key_id
from .models import (
    DataKey,
    DecryptResult,
    EncryptedDataKey,
    EncryptResult,
    GenerateRandomResult,
    ReEncryptResult,
)

__all__ = ["CryptoOperations"]

_DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}
_ALGORITHMS = ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE")


class CryptoOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def _require_encrypt_usage(self, key: KeyRecord, operation: str) -> None:
        if key.key_usage != ENCRYPT_DECRYPT:
            raise InvalidKeyUsageException(
                MESSAGES["key_usage"].format(arn=key.arn, usage=key.key_usage, operation=operation))

    @staticmethod
    def _algorithm(algorithm: object, field: str = "encryptionAlgorithm") -> str:
        """The EncryptionAlgorithm asked for (SYMMETRIC_DEFAULT when omitted)."""
        return v.check_enum("SYMMETRIC_DEFAULT" if algorithm is None else algorithm, field,
                            _ALGORITHMS)

    @staticmethod
    def _check_algorithm(key: KeyRecord, algorithm: str) -> str:
        """``algorithm`` if ``key`` supports it: SYMMETRIC_DEFAULT for symmetric keys, an RSAES_OAEP
        algorithm (always given explicitly) for RSA keys."""
        if algorithm == "SYMMETRIC_DEFAULT" if key.is_symmetric else algorithm in ENCRYPTION_ALGORITHMS:
            return algorithm
        supported = "SYMMETRIC_DEFAULT" if key.is_symmetric else ", ".join(ENCRYPTION_ALGORITHMS)
        raise InvalidKeyUsageException(
            f"{key.arn} key spec {key.key_spec} is not valid for the encryption algorithm "
            f"{algorithm}; it supports {supported}.")

    def _encrypt_any(self, key: KeyRecord, algorithm: str, plaintext: bytes,
                     context: Mapping[str, str] | None) -> bytes:
        """A symmetric blob, or an RSA-OAEP ciphertext (AWS's plaintext limits apply)."""
        if key.is_symmetric:
            return self._seal(key, plaintext, context)
        if context:
            raise ValidationException(
                f"{key.arn} is an asymmetric KMS key: asymmetric encryption takes no "
                "encryption context.")
        limit = max_plaintext(key.key_spec, algorithm)
        if len(plaintext) > limit:
            raise ValidationException(
                f"Algorithm {algorithm} and key spec {key.key_spec} cannot encrypt data larger "
                f"than {limit} bytes.")
        assert key.asymmetric is not None  # an enabled RSA key has its private key
        return key.asymmetric.encrypt(algorithm, plaintext, source=self._s.runtime.entropy)

    def _decrypt_any(self, key: KeyRecord, material_id: str, algorithm: str, blob: bytes,
                     context: Mapping[str, str] | None) -> SecretBytes:
        if key.is_symmetric:
            return self._decrypt_with(key, material_id, blob, context)
        if context:
            raise ValidationException(
                f"{key.arn} is an asymmetric KMS key: asymmetric decryption takes no "
                "encryption context.")
        assert key.asymmetric is not None
        try:
            return key.asymmetric.decrypt(algorithm, blob)
        except CryptoInputError:
            raise InvalidCiphertextException("") from None

    def _seal(self, key: KeyRecord, plaintext: bytes, context: Mapping[str, str] | None) -> bytes:
        return seal(key.current_material, key.blob_key_id, plaintext, context,
                    self._s.runtime.entropy.token_bytes(12))

    def _open(self, blob: bytes, expected: KeyRecord | None) -> tuple[KeyRecord, str]:
        """The key a blob names (checked against ``expected``), without decrypting yet."""
        if expected is not None and not expected.is_symmetric:
            # RSA ciphertext carries no header: the caller names the key (AWS requires KeyId).
            return expected, expected.current_material_id or ""
        try:
            key_id, material_id = header_ids(blob)
        except BlobError:
            raise InvalidCiphertextException("") from None
        s = self._s
        key = s.keys.get(key_id)
        if key is None:
            # A multi-Region key's blob carries its id's hex digits as a UUID; and the blob's
            # key may be another account's (in this Region): its home is a directory lookup.
            mrk = mrk_key_id(key_id)
            key = s.keys.get(mrk)
            if key is None:
                directory, region = s.directory, s.runtime.region
                home = (directory.key_home(region, key_id) or directory.key_home(region, mrk)
                        if directory is not None else None) or s
                key = home.keys.get(key_id) or home.keys.get(mrk)
                if key is None:
                    for gone in (key_id, mrk):
                        if gone in home.deleted:
                            raise NotFoundException(
                                MESSAGES["key_not_found"].format(arn=home.key_arn(gone)))
                    raise InvalidCiphertextException("")
        if expected is not None and expected is not key:
            raise IncorrectKeyException(MESSAGES["incorrect_key"])
        return key, material_id

    @staticmethod
    def _decrypt_with(key: KeyRecord, material_id: str, blob: bytes,
                      context: Mapping[str, str] | None) -> SecretBytes:
        backing = key.materials.get(material_id)
        if backing is None:
            raise InvalidCiphertextException("")
        try:
            return open_blob(backing, blob, context)
        except BlobError:
            raise InvalidCiphertextException("") from None

    def encrypt(self, *, key_id: str, plaintext: bytes,
                encryption_context: Mapping[str, str] | None = None,
                grant_tokens: Sequence[str] | None = None,
                encryption_algorithm: str | None = None, dry_run: bool = False) -> EncryptResult:
        """Encrypt up to 4096 bytes directly under a KMS key."""
        with self._api("Encrypt", {"keyId": key_id, "encryptionContext": encryption_context,
                                   "encryptionAlgorithm": encryption_algorithm or "SYMMETRIC_DEFAULT"},
                       read_only=True) as call:
            data = v.check_plaintext(plaintext)
            ctx = v.check_context(encryption_context)
            tokens = v.check_tokens(grant_tokens)
            algorithm = self._algorithm(encryption_algorithm)
            key = self._resolve(key_id, aliases=True, cross_account=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:Encrypt", grant_operation="Encrypt", context=ctx, tokens=tokens,
                            extra={"kms:EncryptionAlgorithm": algorithm,
                                   "kms:RequestAlias": request_alias(key_id)})
            self._require_usable(key)
            self._require_encrypt_usage(key, "Encrypt")
            self._check_algorithm(key, algorithm)
            self._dry_run(dry_run)
            blob = self._encrypt_any(key, algorithm, data, ctx)
            call.trace_detail = {"encryption_context": ctx or {}, "bytes": len(data)}
            if not key.is_symmetric:
                call.trace_detail["encryption_algorithm"] = algorithm
            return EncryptResult(blob, key.arn, algorithm)

    def _data_key_size(self, key_spec: object, number_of_bytes: object) -> int:
        if (key_spec is None) == (number_of_bytes is None):
            raise ValidationException("Please specify either number of bytes or key spec.")
        if key_spec is not None:
            return _DATA_KEY_SPECS[v.check_enum(key_spec, "keySpec", tuple(_DATA_KEY_SPECS))]
        return v.check_int(number_of_bytes, "numberOfBytes", 1, 1024)

    def _generate(self, name: str, key_id: object, encryption_context: object,
                  number_of_bytes: object, key_spec: object, grant_tokens: object,
                  dry_run: object) -> tuple[KeyRecord, SecretBytes, bytes, dict[str, str] | None]:
        params: dict[str, Any] = {"keyId": key_id, "encryptionContext": encryption_context}
        if key_spec is not None:
            params["keySpec"] = key_spec
        if number_of_bytes is not None:
            params["numberOfBytes"] = number_of_bytes
        with self._api(name, params, True) as call:
            size = self._data_key_size(key_spec, number_of_bytes)
            # Not copied: read during the call only (seal, authorization); the trace and the
            # audit record keep redacted copies.
            ctx = v.check_context(encryption_context, copy=False)
            tokens = v.check_tokens(grant_tokens)
            key = self._resolve(key_id, aliases=True, cross_account=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:" + name, grant_operation=name, context=ctx, tokens=tokens,
                            extra={"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                   "kms:RequestAlias": request_alias(key_id)})
            self._require_usable(key)
            if key.key_usage != ENCRYPT_DECRYPT or key.key_spec != "SYMMETRIC_DEFAULT":
                raise InvalidKeyUsageException(
                    MESSAGES["key_usage"].format(arn=key.arn, usage=key.key_usage, operation=name)
                    if key.key_usage != ENCRYPT_DECRYPT else
                    f"{key.arn} key spec {key.key_spec} is not valid for {name}.")
            self._dry_run(dry_run)
            data_key = SecretBytes(self._s.runtime.entropy.token_bytes(size))
            blob = self._seal(key, data_key, ctx)
            material_id = key.current_material_id
            call.trace_detail = {"encryption_context": ctx or {}, "data_key_bytes": size,
                                 "key_material_id": material_id}
            return key, data_key, blob, ctx

    def generate_data_key(
        self, *, key_id: str, encryption_context: Mapping[str, str] | None = None,
        number_of_bytes: int | None = None, key_spec: str | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
    ) -> DataKey:
        """GenerateDataKey: a fresh data key, in plaintext and encrypted under the KMS key."""
        key, data_key, blob, _ = self._generate(
            "GenerateDataKey", key_id, encryption_context, number_of_bytes, key_spec,
            grant_tokens, dry_run)
        return DataKey(blob, data_key, key.arn, key.current_material_id or "")

    def generate_data_key_without_plaintext(
        self, *, key_id: str, encryption_context: Mapping[str, str] | None = None,
        number_of_bytes: int | None = None, key_spec: str | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
    ) -> EncryptedDataKey:
        """GenerateDataKeyWithoutPlaintext: only the encrypted copy leaves KMS (EBS step 3-4)."""
        key, data_key, blob, _ = self._generate(
            "GenerateDataKeyWithoutPlaintext", key_id, encryption_context, number_of_bytes,
            key_spec, grant_tokens, dry_run)
        del data_key
        return EncryptedDataKey(blob, key.arn, key.current_material_id or "")

    def generate_data_key_without_plaintext_reusing(
        self, *, key_id: str, source_ciphertext_blob: bytes,
        source_encryption_context: Mapping[str, str] | None,
        encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None,
    ) -> EncryptedDataKey:
        """GenerateDataKeyWithoutPlaintext as EC2 sends it for a volume restored from a
        snapshot (or a snapshot copied) under the snapshot's own KMS key: KMS encrypts the
        snapshot's data key again under the new context instead of making a new one (the EC2
        guide, "How Amazon EBS encryption works").

        Not an operation of the KMS API: the service-side form of
        GenerateDataKeyWithoutPlaintext, audited and authorized exactly as that operation (the
        caller needs ``kms:GenerateDataKeyWithoutPlaintext`` on the key, nothing on the source
        blob), and accepted only through EC2 (``kms:ViaService``), since it re-binds a data key
        to another encryption context.
        """
        with self._api("GenerateDataKeyWithoutPlaintext",
                       {"keyId": key_id, "encryptionContext": encryption_context}, True) as call:
            if self._caller.invoked_by != "ec2.amazonaws.com":
                raise AccessDeniedException(
                    "Reusing a snapshot's data key is done by EC2 only (kms:ViaService ec2).")
            blob = v.check_blob(source_ciphertext_blob)
            src_ctx = v.check_context(source_encryption_context, "sourceEncryptionContext")
            ctx = v.check_context(encryption_context, copy=False)
            tokens = v.check_tokens(grant_tokens) if grant_tokens is not None else ()
            key = self._resolve(key_id, aliases=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:GenerateDataKeyWithoutPlaintext",
                            grant_operation="GenerateDataKeyWithoutPlaintext", context=ctx,
                            tokens=tokens)
            self._require_usable(key)
            if key.key_usage != ENCRYPT_DECRYPT or key.key_spec != "SYMMETRIC_DEFAULT":
                raise InvalidKeyUsageException(
                    f"{key.arn} key spec {key.key_spec} is not valid for "
                    "GenerateDataKeyWithoutPlaintext.")
            _, source_material = self._open(blob, key)  # the same key, or IncorrectKey
            data_key = self._decrypt_with(key, source_material, blob, src_ctx)
            material_id = key.current_material_id
            assert material_id is not None  # every symmetric key has material
            rewrapped = self._seal(key, data_key, ctx)
            caller = self._caller
            call.trace_detail = {"caller": caller.arn, "invoked_by": caller.invoked_by,
                                 "encryption_context": ctx or {},
                                 "data_key_bytes": len(data_key), "key_material_id": material_id}
            del data_key
            return EncryptedDataKey(rewrapped, key.arn, material_id)


    def decrypt(
        self, *, ciphertext_blob: bytes, encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None, key_id: str | None = None,
        encryption_algorithm: str | None = None, dry_run: bool = False,
    ) -> DecryptResult:
        """Decrypt a blob; the key comes from the blob, ``key_id`` (optional) must match it."""
        with self._api("Decrypt", {"keyId": key_id, "encryptionContext": encryption_context,
                                    "encryptionAlgorithm": encryption_algorithm or "SYMMETRIC_DEFAULT"},
                  True, blob=ciphertext_blob) as call:
            blob = v.check_blob(ciphertext_blob)
            ctx = v.check_context(encryption_context, copy=False)  # read during the call only
            tokens = v.check_tokens(grant_tokens)
            algorithm = self._algorithm(encryption_algorithm)
            expected = (self._resolve(key_id, aliases=True, cross_account=True)
                        if key_id is not None else None)
            key, material_id = self._open(blob, expected)
            call.resources.append(key.arn)
            self._authorize(key, "kms:Decrypt", grant_operation="Decrypt", context=ctx, tokens=tokens,
                            extra={"kms:EncryptionAlgorithm": algorithm,
                                   "kms:RequestAlias": request_alias(key_id)})
            self._require_usable(key)
            self._require_encrypt_usage(key, "Decrypt")
            self._check_algorithm(key, algorithm)
            self._dry_run(dry_run)
            plaintext = self._decrypt_any(key, material_id, algorithm, blob, ctx)
            call.trace_detail = {"encryption_context": ctx or {}, "key_material_id": material_id}
            if not key.is_symmetric:
                call.trace_detail["encryption_algorithm"] = algorithm
            return DecryptResult(plaintext, key.arn, algorithm, material_id)

    def re_encrypt(
        self, *, ciphertext_blob: bytes, destination_key_id: str,
        source_encryption_context: Mapping[str, str] | None = None,
        source_key_id: str | None = None,
        destination_encryption_context: Mapping[str, str] | None = None,
        source_encryption_algorithm: str | None = None,
        destination_encryption_algorithm: str | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
    ) -> ReEncryptResult:
        """ReEncrypt: decrypt under the source key and context, encrypt under the destination's.

        Needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination.
        """
        with self._api("ReEncrypt", {
                "sourceKeyId": source_key_id, "destinationKeyId": destination_key_id,
                "sourceEncryptionContext": source_encryption_context,
                "destinationEncryptionContext": destination_encryption_context,
                "sourceEncryptionAlgorithm": source_encryption_algorithm or "SYMMETRIC_DEFAULT",
                "destinationEncryptionAlgorithm": destination_encryption_algorithm or "SYMMETRIC_DEFAULT",
        }, read_only=True) as call:
            blob = v.check_blob(ciphertext_blob)
            src_ctx = v.check_context(source_encryption_context, "sourceEncryptionContext")
            dst_ctx = v.check_context(destination_encryption_context, "destinationEncryptionContext")
            tokens = v.check_tokens(grant_tokens)
            src_alg = self._algorithm(source_encryption_algorithm, "sourceEncryptionAlgorithm")
            dst_alg = self._algorithm(destination_encryption_algorithm,
                                      "destinationEncryptionAlgorithm")
            expected = (self._resolve(source_key_id, aliases=True, field="sourceKeyId",
                                      cross_account=True)
                        if source_key_id is not None else None)
            dest = self._resolve(destination_key_id, aliases=True, field="destinationKeyId",
                                 cross_account=True)
            src, material_id = self._open(blob, expected)
            call.resources.extend(dict.fromkeys([src.arn, dest.arn]))
            same = src.key_id == dest.key_id
            self._authorize(src, "kms:ReEncryptFrom", grant_operation="ReEncryptFrom",
                            context=src_ctx, tokens=tokens, extra={
                                "kms:EncryptionAlgorithm": src_alg,
                                "kms:ReEncryptOnSameKey": same,
                                "kms:RequestAlias": request_alias(source_key_id)})
            self._authorize(dest, "kms:ReEncryptTo", grant_operation="ReEncryptTo",
                            context=dst_ctx, tokens=tokens, extra={
                                "kms:EncryptionAlgorithm": dst_alg,
                                "kms:ReEncryptOnSameKey": same,
                                "kms:RequestAlias": request_alias(destination_key_id)})
            self._require_usable(src)
            self._require_usable(dest)
            self._require_encrypt_usage(src, "ReEncrypt")
            self._require_encrypt_usage(dest, "ReEncrypt")
            self._check_algorithm(src, src_alg)
            self._check_algorithm(dest, dst_alg)
            self._dry_run(dry_run)
            plaintext = self._decrypt_any(src, material_id, src_alg, blob, src_ctx)
            new_blob = self._encrypt_any(dest, dst_alg, plaintext, dst_ctx)
            call.trace_detail = {"source_encryption_context": src_ctx or {},
                                 "destination_encryption_context": dst_ctx or {},
                                 "destination_key": dest.arn}
            return ReEncryptResult(new_blob, src.arn, dest.arn, src_alg, dst_alg, material_id,
                                   dest.current_material_id or "")

    def generate_random(self, *, number_of_bytes: int) -> GenerateRandomResult:
        """GenerateRandom: random bytes from the simulation's entropy (1-1024)."""
        with self._api("GenerateRandom", {"numberOfBytes": number_of_bytes}, read_only=True):
            n = v.check_int(number_of_bytes, "numberOfBytes", 1, 1024)
            self._authorize_identity("kms:GenerateRandom")
            return GenerateRandomResult(SecretBytes(self._s.runtime.entropy.token_bytes(n)))
