"""KMS HMAC operations: GenerateMac and VerifyMac."""

from __future__ import annotations

from collections.abc import Sequence

from ..crypto.mac import MAC_ALGORITHMS, mac_algorithm_for
from ..errors import InvalidKeyUsageException, KMSInvalidMacException
from . import validation as v
from .asymmetric_models import GenerateMacResult, VerifyMacResult
from .base import KmsBase, _Api
from .keys import GENERATE_VERIFY_MAC, KeyRecord

__all__ = ["MacOperations"]


class MacOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def _mac_call(self, name: str, call: _Api, key_id: object, message: object,
                  mac_algorithm: object, mac: object, grant_tokens: object, dry_run: object,
                  ) -> tuple[KeyRecord, bytes, str, bytes]:
        """Validation, key, authorization, state, usage and algorithm for GenerateMac and
        VerifyMac: the key, message, algorithm and (VerifyMac only; else empty) the MAC."""
        msg = v.check_plaintext(message, "message")
        algorithm = v.check_enum(mac_algorithm, "macAlgorithm", tuple(MAC_ALGORITHMS))
        checked_mac = v.check_blob(mac, "mac") if name == "VerifyMac" else b""
        tokens = v.check_tokens(grant_tokens)
        key = self._use_key(call, key_id, name, GENERATE_VERIFY_MAC, tokens=tokens,
                            extra={"kms:MacAlgorithm": algorithm})
        if algorithm != mac_algorithm_for(key.key_spec):
            raise InvalidKeyUsageException(
                f"{key.arn} key spec {key.key_spec} does not support the MAC algorithm "
                f"{algorithm}; it supports {mac_algorithm_for(key.key_spec)}.")
        self._dry_run(dry_run)
        return key, msg, algorithm, checked_mac

    def generate_mac(self, *, key_id: str, message: bytes, mac_algorithm: str,
                     grant_tokens: Sequence[str] | None = None,
                     dry_run: bool = False) -> GenerateMacResult:
        """GenerateMac: the HMAC of a message (up to 4096 bytes) under an HMAC key."""
        with self._api("GenerateMac", {"keyId": key_id, "macAlgorithm": mac_algorithm},
                       read_only=True) as call:
            key, msg, algorithm, _ = self._mac_call("GenerateMac", call, key_id, message,
                                                 mac_algorithm, None, grant_tokens, dry_run)
            assert key.hmac is not None  # an enabled HMAC key has its material
            mac = key.hmac.generate_mac(algorithm, msg)
            call.additional = {"keySpec": key.key_spec}
            call.trace_detail = {"mac_algorithm": algorithm, "key_spec": key.key_spec}
            return GenerateMacResult(mac, algorithm, key.arn)

    def verify_mac(self, *, key_id: str, message: bytes, mac_algorithm: str, mac: bytes,
                   grant_tokens: Sequence[str] | None = None,
                   dry_run: bool = False) -> VerifyMacResult:
        """VerifyMac; a MAC that does not verify is KMSInvalidMacException."""
        with self._api("VerifyMac", {"keyId": key_id, "macAlgorithm": mac_algorithm},
                       read_only=True) as call:
            key, msg, algorithm, checked_mac = self._mac_call("VerifyMac", call, key_id, message,
                                                 mac_algorithm, mac, grant_tokens, dry_run)
            assert key.hmac is not None
            call.additional = {"keySpec": key.key_spec}
            call.trace_detail = {"mac_algorithm": algorithm, "key_spec": key.key_spec}
            if not key.hmac.verify_mac(algorithm, msg, checked_mac):
                raise KMSInvalidMacException(
                    "The MAC does not verify for this message, key and MAC algorithm.")
            return VerifyMacResult(key.arn, True, algorithm)
