"""Imported key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial.

A key created with Origin EXTERNAL waits in PendingImport until material is imported. The
material may expire (``ValidTo``, on the virtual clock): KMS then deletes it, the key returns to
PendingImport and nothing encrypted under it decrypts until the *same* material is imported
again; different material is refused (AWS KMS Developer Guide, "Importing key material").
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from ..crypto import AsymmetricKey, BackingKey, CryptoInputError, HmacKey
from ..crypto.keygen import HMAC_KEY_BYTES
from ..crypto.wrapping import WRAPPING_ALGORITHMS, material_fingerprint, unwrap_key_material
from ..errors import (
    MESSAGES,
    DisabledException,
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
)
from . import validation as v
from .asymmetric_models import (
    DeleteImportedKeyMaterialResult,
    ImportKeyMaterialResult,
    ParametersForImport,
)
from .base import KmsBase
from .keys import ImportParameters, KeyRecord

__all__ = ["ImportOperations"]

_WRAPPING_ALGORITHM_ENUM = ("RSAES_PKCS1_V1_5", *WRAPPING_ALGORITHMS, "SM2PKE")
_WRAPPING_KEY_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096", "SM2")
_EXPIRATION_MODELS = ("KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE")
_PARAMETERS_LIFETIME = timedelta(hours=24)
_MAX_VALID_TO = timedelta(days=365)
# HMAC material AWS accepts, in bytes (AWS KMS Developer Guide, "Requirements for imported
# key material"): at least the digest length, at most the hash's block size.
_HMAC_MATERIAL = {"HMAC_224": (28, 64), "HMAC_256": (32, 64), "HMAC_384": (48, 128),
                  "HMAC_512": (64, 128)}
assert set(_HMAC_MATERIAL) == set(HMAC_KEY_BYTES)


class ImportOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def _external_key(self, key_id: object, action: str, resources: list[str],
                      extra: dict[str, object] | None = None) -> KeyRecord:
        key = self._resolve(key_id, aliases=False)
        resources.append(key.arn)
        self._authorize(key, action, extra=extra)
        self._require_customer_managed(key, action)
        self._require_not_pending(key)
        if key.origin != "EXTERNAL" or key.imported is None:
            raise UnsupportedOperationException(
                MESSAGES["origin_not_valid"].format(arn=key.arn, origin=key.origin))
        return key

    def get_parameters_for_import(self, *, key_id: str, wrapping_algorithm: str,
                                  wrapping_key_spec: str) -> ParametersForImport:
        """GetParametersForImport: a new RSA wrapping key and import token, valid 24 hours."""
        with self._api("GetParametersForImport", {
                "keyId": key_id, "wrappingAlgorithm": wrapping_algorithm,
                "wrappingKeySpec": wrapping_key_spec}, read_only=True) as call:
            algorithm = v.check_enum(wrapping_algorithm, "wrappingAlgorithm", _WRAPPING_ALGORITHM_ENUM)
            spec = v.check_enum(wrapping_key_spec, "wrappingKeySpec", _WRAPPING_KEY_SPECS)
            if algorithm == "RSAES_PKCS1_V1_5":
                raise ValidationException(
                    "The RSAES_PKCS1_V1_5 wrapping algorithm is deprecated: KMS has not supported "
                    "it since October 10, 2023.")
            if "SM2" in (algorithm, spec) or algorithm == "SM2PKE":
                raise UnsupportedOperationException(
                    "SM2 wrapping keys exist only in the AWS China Regions and are not supported "
                    "by envelope-sim.")
            key = self._external_key(key_id, "kms:GetParametersForImport", call.resources,
                                     {"kms:WrappingAlgorithm": algorithm,
                                      "kms:WrappingKeySpec": spec})
            if key.key_spec.startswith("RSA") and not algorithm.startswith("RSA_AES_KEY_WRAP"):
                raise ValidationException(
                    f"RSA private key material for {key.arn} must be wrapped with an RSA_AES "
                    f"wrapping algorithm, not {algorithm}.")
            rt = self._s.runtime
            valid_to = self._now() + _PARAMETERS_LIFETIME
            wrapping_key = AsymmetricKey.generate(spec, rt.entropy)
            token = bytes.fromhex(key.key_id.replace("-", "")) + rt.entropy.token_bytes(32)
            # A new answer replaces the previous one: its token stops working.
            assert key.imported is not None
            key.imported.parameters = ImportParameters(token, algorithm, spec, wrapping_key, valid_to)
            call.trace_detail = {"wrapping_algorithm": algorithm, "wrapping_key_spec": spec,
                                 "parameters_valid_to": valid_to}
            return ParametersForImport(key.arn, token, wrapping_key.public_key_der(), valid_to)

    def _check_expiration(self, valid_to: object, expiration_model: object
                          ) -> tuple[str, datetime | None]:
        model = v.check_enum("KEY_MATERIAL_EXPIRES" if expiration_model is None
                             else expiration_model, "expirationModel", _EXPIRATION_MODELS)
        if model == "KEY_MATERIAL_DOES_NOT_EXPIRE":
            if valid_to is not None:
                raise ValidationException(
                    "ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.")
            return model, None
        if valid_to is None:
            raise ValidationException(
                "ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES.")
        if not isinstance(valid_to, datetime):
            raise ValidationException(
                f"1 validation error detected: Value at 'validTo' failed to satisfy constraint: "
                f"Member must be a datetime, not {type(valid_to).__name__}")
        when = valid_to if valid_to.tzinfo is not None else valid_to.replace(tzinfo=UTC)
        now = self._now()
        if when <= now:
            raise ValidationException("ValidTo must be a future date and time.")
        if when - now > _MAX_VALID_TO:
            raise ValidationException("ValidTo must be at most 365 days from now.")
        return model, when

    def import_key_material(
        self, *, key_id: str, import_token: bytes, encrypted_key_material: bytes,
        valid_to: datetime | None = None, expiration_model: str | None = None,
        import_type: str | None = None, key_material_description: str | None = None,
        key_material_id: str | None = None,
    ) -> ImportKeyMaterialResult:
        """ImportKeyMaterial: unwrap the material and give it to the key (or give it back)."""
        with self._api("ImportKeyMaterial", {
                "keyId": key_id, "validTo": valid_to, "expirationModel": expiration_model,
                "importType": import_type, "keyMaterialId": key_material_id}) as call:
            token = v.check_blob(import_token, "importToken")
            wrapped = v.check_blob(encrypted_key_material, "encryptedKeyMaterial")
            model, when = self._check_expiration(valid_to, expiration_model)
            kind = None if import_type is None else v.check_enum(
                import_type, "importType", ("NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"))
            if key_material_description is not None:
                v.check_str(key_material_description, "keyMaterialDescription", min_len=0,
                            max_len=256)
            if key_material_id is not None:
                v.check_str(key_material_id, "keyMaterialId", min_len=64, max_len=64)
            extra: dict[str, object] = {"kms:ExpirationModel": model}
            if when is not None:
                extra["kms:ValidTo"] = int(when.timestamp())
            key = self._external_key(key_id, "kms:ImportKeyMaterial", call.resources, extra)
            imported = key.imported
            assert imported is not None
            if key.key_state == "Disabled":
                raise DisabledException(MESSAGES["key_disabled"].format(arn=key.arn))
            params = imported.parameters
            if params is None or not hmac.compare_digest(params.import_token, token):
                raise InvalidImportTokenException(
                    f"The import token is not the one the last GetParametersForImport for "
                    f"{key.arn} returned.")
            if self._now() > params.valid_to:
                raise ExpiredImportTokenException(
                    f"The import token expired at {params.valid_to:%Y-%m-%dT%H:%M:%SZ}; call "
                    "GetParametersForImport again.")
            if kind == "NEW_KEY_MATERIAL" and imported.fingerprint is not None:
                raise UnsupportedOperationException(
                    f"ImportKeyMaterial with ImportType NEW_KEY_MATERIAL into {key.arn}, which "
                    "already has material, is on-demand rotation of imported material: not "
                    "supported by envelope-sim.")
            if kind == "EXISTING_KEY_MATERIAL" and imported.fingerprint is None:
                raise ValidationException(
                    f"ImportType EXISTING_KEY_MATERIAL: no key material was ever imported into "
                    f"{key.arn}.")
            if key_material_id is not None and key_material_id != imported.material_id:
                raise ValidationException(
                    f"KeyMaterialId {key_material_id} is not the key material of {key.arn}.")
            try:
                material = unwrap_key_material(params.wrapping_key, params.wrapping_algorithm,
                                               wrapped)
            except CryptoInputError:
                raise InvalidCiphertextException(
                    "The encrypted key material does not unwrap with the wrapping key and "
                    f"algorithm ({params.wrapping_algorithm}) of this import token.") from None
            install = self._check_material(key, material)
            if imported.fingerprint is not None and not hmac.compare_digest(
                    imported.fingerprint, install[0]):
                raise IncorrectKeyMaterialException(
                    f"The key material is not the key material previously imported into "
                    f"{key.arn}; only the same material can be imported again.")
            # Every rule has passed: change the key.
            self._install(key, install)
            imported.expiration_model = model
            imported.valid_to = when
            imported.description = key_material_description
            if imported.expiry_call is not None:
                imported.expiry_call.cancel()
                imported.expiry_call = None
            if when is not None:
                # Background work: a year-long expiry must not make run_until_idle jump a year.
                imported.expiry_call = self._s.runtime.clock.schedule_background(
                    (when - self._now()).total_seconds(), f"kms:ExpireKeyMaterial {key.key_id}",
                    lambda: self._expire_material(key))
            was = key.key_state
            if was == "PendingImport":
                key.key_state = "Enabled"
            assert imported.material_id is not None
            call.trace_detail = {"expiration_model": model, "valid_to": when,
                                 "key_material_id": imported.material_id,
                                 "from_state": was, "to_state": key.key_state}
            return ImportKeyMaterialResult(key.arn, imported.material_id)

    @staticmethod
    def _check_material(key: KeyRecord, material: bytes
                        ) -> tuple[bytes, HmacKey | AsymmetricKey | bytes]:
        """(fingerprint, what the key will hold) for ``material``; ValidationException if it
        cannot be material of this key."""
        spec = key.key_spec
        if key.is_symmetric:
            if len(material) != 32:
                raise ValidationException(
                    f"Key material for a SYMMETRIC_DEFAULT key must be 256 bits (32 bytes), not "
                    f"{len(material)} bytes.")
            return material_fingerprint(material), material
        if key.is_hmac:
            low, high = _HMAC_MATERIAL[spec]
            if not low <= len(material) <= high:
                raise ValidationException(
                    f"Key material for an {spec} key must be {low} to {high} bytes, not "
                    f"{len(material)}.")
            return material_fingerprint(material), HmacKey(spec, material)
        try:
            pair = AsymmetricKey.from_pkcs8(spec, material)
        except CryptoInputError as err:
            raise ValidationException(f"Key material for {key.arn} is not valid: {err}.") from None
        return material_fingerprint(pair.public_key_der()), pair

    def _install(self, key: KeyRecord,
                 install: tuple[bytes, HmacKey | AsymmetricKey | bytes]) -> None:
        fingerprint, held = install
        imported = key.imported
        assert imported is not None
        if imported.material_id is None:
            imported.material_id = self._s.runtime.ids.key_material_id()
            imported.fingerprint = fingerprint
        if isinstance(held, HmacKey):
            key.hmac = held
        elif isinstance(held, AsymmetricKey):
            key.asymmetric = held
        else:
            key.materials[imported.material_id] = BackingKey(imported.material_id, bytes(held))
        key.current_material_id = imported.material_id

    @staticmethod
    def _drop_material(key: KeyRecord) -> None:
        imported = key.imported
        assert imported is not None
        key.materials.clear()
        key.hmac = None
        key.asymmetric = None
        if imported.expiry_call is not None:
            imported.expiry_call.cancel()
            imported.expiry_call = None
        imported.expiration_model = imported.valid_to = None
        if key.key_state != "PendingDeletion":  # the deletion still runs when its day comes
            key.key_state = "PendingImport"

    def _expire_material(self, key: KeyRecord) -> None:
        """ValidTo came: KMS deletes the material (a service event, as CloudTrail logs it)."""
        if self._s.keys.get(key.key_id) is not key or key.imported is None:
            return
        key.imported.expiry_call = None
        self._drop_material(key)
        rt = self._s.runtime
        rt.audit.record("DeleteExpiredKeyMaterial", user_identity=None, resources=[key.arn],
                        event_type="AwsServiceEvent", source_ip="AWS Internal",
                        user_agent="AWS Internal", additional_event_data={"keyId": key.arn})
        rt.trace.record("KMS", "DeleteExpiredKeyMaterial", key.arn,
                        phase="kms.DeleteExpiredKeyMaterial",
                        reason="the imported key material reached its ValidTo; key is PendingImport")

    def delete_imported_key_material(self, *, key_id: str, key_material_id: str | None = None
                                     ) -> DeleteImportedKeyMaterialResult:
        """DeleteImportedKeyMaterial: the key becomes unusable (PendingImport) at once."""
        with self._api("DeleteImportedKeyMaterial", {"keyId": key_id,
                                                     "keyMaterialId": key_material_id}) as call:
            if key_material_id is not None:
                v.check_str(key_material_id, "keyMaterialId", min_len=64, max_len=64)
            key = self._external_key(key_id, "kms:DeleteImportedKeyMaterial", call.resources)
            imported = key.imported
            assert imported is not None
            if key.key_state == "PendingImport":
                raise KMSInvalidStateException(MESSAGES["key_pending_import"].format(arn=key.arn))
            if key_material_id is not None and key_material_id != imported.material_id:
                raise ValidationException(
                    f"KeyMaterialId {key_material_id} is not the key material of {key.arn}.")
            self._drop_material(key)
            call.trace_detail = {"key_material_id": imported.material_id,
                                 "to_state": "PendingImport"}
            return DeleteImportedKeyMaterialResult(key.arn, imported.material_id)
