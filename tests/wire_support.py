"""Shared by the wire tests: boto3 kwargs from the Python API's, the parity scenario, a server.

The scenario is one list of calls covering every KMS, WorkSpaces and Directory Service operation
the simulator implements, each with a success and its documented errors; the tests replay it on
two simulations with the same seed, one through the Python API and one through boto3, and
compare call by call.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import ListShape, MapShape, Shape, StructureShape

MODELS = {name: botocore.session.get_session().get_service_model(name)
          for name in ("kms", "workspaces", "ds")}
ATTRIBUTES = {"kms": "kms", "workspaces": "workspaces", "ds": "directory"}
#: Errors any operation may answer besides the ones its model lists.
COMMON_ERRORS = {"ValidationException", "AccessDeniedException", "UnsupportedOperationException",
                 "OperationNotSupportedException"}


def to_boto(shape: Shape | None, value: Any) -> Any:
    """Python-API keyword arguments (snake_case) as boto3 parameters (the model's names)."""
    if shape is None or value is None:
        return value
    if isinstance(shape, StructureShape):
        by_snake = {xform_name(n): (n, m) for n, m in shape.members.items()}
        out = {}
        for key, item in value.items():
            name, member = by_snake[key]
            out[name] = to_boto(member, item)
        return out
    if isinstance(shape, ListShape):
        return [to_boto(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        return {k: to_boto(shape.value, v) for k, v in value.items()}
    return value


def filler(shape: Shape) -> Any:
    """A value botocore's parameter validation accepts for ``shape`` (for generated cases)."""
    if isinstance(shape, StructureShape):
        return {xform_name(n): filler(shape.members[n]) for n in shape.required_members}
    if isinstance(shape, ListShape):
        return [filler(shape.member)]
    if isinstance(shape, MapShape):
        return {}
    kind = shape.type_name
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(1, shape.metadata.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind == "boolean":
        return False
    if kind == "blob":
        return b"x"
    raise AssertionError(f"no filler for {shape}")


@dataclass
class Step:
    service: str
    operation: str
    kwargs: Callable[[dict[str, Any]], dict[str, Any]]
    expect: str | None = None  # the error code, or None for success
    save: str | None = None


#: A step expected to fail with some AWS error (the same on both faces).
ANY_ERROR = "*"

IDLE = Step("_idle", "", lambda c: {})  # run scheduled work (provisioning, reboots) on both sides


def _ctx_key(c: dict[str, Any]) -> str:
    return c["key"].key_id


POLICY = ('{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow",'
          '"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}')
MISSING_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"


def scenario() -> list[Step]:
    """Every implemented operation: successes and documented errors, in an order that works."""
    k = _ctx_key
    s = [
        Step("kms", "CreateKey", lambda c: {"description": "wire parity",
                                            "tags": [{"tag_key": "team", "tag_value": "a"}]},
             save="key"),
        Step("kms", "CreateKey", lambda c: {"description": "second"}, save="key2"),
        Step("kms", "CreateKey", lambda c: {"tags": [{"tag_key": "aws:x", "tag_value": "a"}]},
             expect="TagException"),
        Step("kms", "CreateKey", lambda c: {"policy": "{not json"},
             expect="MalformedPolicyDocumentException"),
        Step("kms", "DescribeKey", lambda c: {"key_id": k(c)}),
        Step("kms", "ListKeys", lambda c: {"limit": 1}),
        Step("kms", "ListKeys", lambda c: {"marker": "not-a-marker"}, expect="InvalidMarkerException"),
        Step("kms", "UpdateKeyDescription", lambda c: {"key_id": k(c), "description": "new"}),
        Step("kms", "TagResource", lambda c: {"key_id": k(c),
                                              "tags": [{"tag_key": "b", "tag_value": "c"}]}),
        Step("kms", "UntagResource", lambda c: {"key_id": k(c), "tag_keys": ["b"]}),
        Step("kms", "ListResourceTags", lambda c: {"key_id": k(c)}),
        Step("kms", "CreateAlias", lambda c: {"alias_name": "alias/parity", "target_key_id": k(c)}),
        Step("kms", "CreateAlias", lambda c: {"alias_name": "alias/parity", "target_key_id": k(c)},
             expect="AlreadyExistsException"),
        Step("kms", "CreateAlias", lambda c: {"alias_name": "alias/aws/x", "target_key_id": k(c)},
             expect="InvalidAliasNameException"),
        Step("kms", "UpdateAlias", lambda c: {"alias_name": "alias/parity",
                                              "target_key_id": c["key2"].key_id}),
        Step("kms", "ListAliases", lambda c: {"key_id": c["key2"].key_id}),
        Step("kms", "DeleteAlias", lambda c: {"alias_name": "alias/parity"}),
        Step("kms", "DeleteAlias", lambda c: {"alias_name": "alias/parity"}, expect="NotFoundException"),
        Step("kms", "GetKeyPolicy", lambda c: {"key_id": k(c)}),
        Step("kms", "PutKeyPolicy", lambda c: {"key_id": k(c), "policy": POLICY}),
        Step("kms", "PutKeyPolicy", lambda c: {"key_id": k(c), "policy": "[]"},
             expect="MalformedPolicyDocumentException"),
        Step("kms", "ListKeyPolicies", lambda c: {"key_id": k(c)}),
        Step("kms", "Encrypt", lambda c: {"key_id": k(c), "plaintext": bytes(range(256)),
                                          "encryption_context": {"Team": "A b", "ä": "ü"}},
             save="enc"),
        Step("kms", "Decrypt", lambda c: {"ciphertext_blob": c["enc"].ciphertext_blob,
                                          "encryption_context": {"Team": "A b", "ä": "ü"}}),
        Step("kms", "Decrypt", lambda c: {"ciphertext_blob": c["enc"].ciphertext_blob,
                                          "encryption_context": {"Team": "other"}},
             expect="InvalidCiphertextException"),
        Step("kms", "Decrypt", lambda c: {"ciphertext_blob": c["enc"].ciphertext_blob,
                                          "encryption_context": {"Team": "A b", "ä": "ü"},
                                          "key_id": c["key2"].arn},
             expect="IncorrectKeyException"),
        Step("kms", "GenerateDataKey", lambda c: {"key_id": k(c), "key_spec": "AES_256",
                                                  "encryption_context": {"a": "b"}}, save="dk"),
        Step("kms", "GenerateDataKey", lambda c: {"key_id": k(c), "number_of_bytes": 32,
                                                  "key_spec": "AES_256"},
             expect="ValidationException"),
        Step("kms", "GenerateDataKeyWithoutPlaintext", lambda c: {"key_id": k(c),
                                                                  "number_of_bytes": 16}),
        Step("kms", "ReEncrypt", lambda c: {"ciphertext_blob": c["dk"].ciphertext_blob,
                                            "source_encryption_context": {"a": "b"},
                                            "destination_key_id": c["key2"].arn,
                                            "destination_encryption_context": {"c": "d"}}),
        Step("kms", "GenerateRandom", lambda c: {"number_of_bytes": 64}),
        Step("kms", "CreateGrant", lambda c: {
            "key_id": k(c), "grantee_principal": "arn:aws:iam::123456789012:root",
            "operations": ["Decrypt", "RetireGrant"], "name": "g",
            "constraints": {"encryption_context_subset": {"a": "b"}}}, save="grant"),
        Step("kms", "CreateGrant", lambda c: {
            "key_id": k(c), "grantee_principal": "arn:aws:iam::123456789012:root",
            "operations": ["Sign"]}, expect="ValidationException"),
        Step("kms", "ListGrants", lambda c: {"key_id": k(c)}),
        Step("kms", "ListRetirableGrants",
             lambda c: {"retiring_principal": "arn:aws:iam::123456789012:root"}),
        Step("kms", "RetireGrant", lambda c: {"grant_token": c["grant"].grant_token}),
        Step("kms", "RevokeGrant", lambda c: {"key_id": k(c), "grant_id": c["grant"].grant_id},
             expect="NotFoundException"),
        Step("kms", "CreateGrant", lambda c: {
            "key_id": k(c), "grantee_principal": "arn:aws:iam::123456789012:root",
            "operations": ["Encrypt"]}, save="grant2"),
        Step("kms", "RevokeGrant", lambda c: {"key_id": k(c), "grant_id": c["grant2"].grant_id}),
        Step("kms", "EnableKeyRotation", lambda c: {"key_id": k(c), "rotation_period_in_days": 90}),
        Step("kms", "GetKeyRotationStatus", lambda c: {"key_id": k(c)}),
        Step("kms", "RotateKeyOnDemand", lambda c: {"key_id": k(c)}),
        Step("kms", "ListKeyRotations", lambda c: {"key_id": k(c)}),
        Step("kms", "DisableKeyRotation", lambda c: {"key_id": k(c)}),
        Step("kms", "DisableKey", lambda c: {"key_id": k(c)}),
        Step("kms", "Encrypt", lambda c: {"key_id": k(c), "plaintext": b"x"}, expect="DisabledException"),
        Step("kms", "EnableKeyRotation", lambda c: {"key_id": k(c)}, expect="DisabledException"),
        Step("kms", "EnableKey", lambda c: {"key_id": k(c)}),
        Step("kms", "ScheduleKeyDeletion", lambda c: {"key_id": c["key2"].key_id,
                                                      "pending_window_in_days": 7}),
        Step("kms", "ScheduleKeyDeletion", lambda c: {"key_id": c["key2"].key_id,
                                                      "pending_window_in_days": 3},
             expect="ValidationException"),
        Step("kms", "GenerateDataKey", lambda c: {"key_id": c["key2"].key_id, "key_spec": "AES_128"},
             expect="KMSInvalidStateException"),
        Step("kms", "CancelKeyDeletion", lambda c: {"key_id": c["key2"].key_id}),
        Step("kms", "CancelKeyDeletion", lambda c: {"key_id": c["key2"].key_id},
             expect="KMSInvalidStateException"),
        # Asymmetric, HMAC and imported keys.
        Step("kms", "CreateKey", lambda c: {"key_spec": "ECC_NIST_P256", "key_usage": "SIGN_VERIFY"},
             save="signer"),
        Step("kms", "Sign", lambda c: {"key_id": c["signer"].key_id, "message": b"payload",
                                       "signing_algorithm": "ECDSA_SHA_256"}, save="sig"),
        Step("kms", "Sign", lambda c: {"key_id": c["signer"].key_id, "message": b"payload",
                                       "signing_algorithm": "RSASSA_PSS_SHA_256"},
             expect="InvalidKeyUsageException"),
        Step("kms", "Verify", lambda c: {"key_id": c["signer"].key_id, "message": b"payload",
                                         "signature": c["sig"].signature,
                                         "signing_algorithm": "ECDSA_SHA_256"}),
        Step("kms", "Verify", lambda c: {"key_id": c["signer"].key_id, "message": b"other",
                                         "signature": c["sig"].signature,
                                         "signing_algorithm": "ECDSA_SHA_256"},
             expect="KMSInvalidSignatureException"),
        Step("kms", "GetPublicKey", lambda c: {"key_id": c["signer"].key_id}),
        Step("kms", "CreateKey", lambda c: {"key_spec": "ECC_NIST_P256", "key_usage": "KEY_AGREEMENT"},
             save="ecc"),
        Step("kms", "GetPublicKey", lambda c: {"key_id": c["ecc"].key_id}, save="ecc_public"),
        Step("kms", "DeriveSharedSecret", lambda c: {
            "key_id": c["ecc"].key_id, "key_agreement_algorithm": "ECDH",
            "public_key": c["ecc_public"].public_key}),
        Step("kms", "DeriveSharedSecret", lambda c: {
            "key_id": c["signer"].key_id, "key_agreement_algorithm": "ECDH",
            "public_key": c["ecc_public"].public_key}, expect="InvalidKeyUsageException"),
        Step("kms", "CreateKey", lambda c: {"key_spec": "HMAC_256", "key_usage": "GENERATE_VERIFY_MAC"},
             save="hmac"),
        Step("kms", "GenerateMac", lambda c: {"key_id": c["hmac"].key_id, "message": b"m",
                                              "mac_algorithm": "HMAC_SHA_256"}, save="mac"),
        Step("kms", "GenerateMac", lambda c: {"key_id": c["key"].key_id, "message": b"m",
                                              "mac_algorithm": "HMAC_SHA_256"},
             expect="InvalidKeyUsageException"),
        Step("kms", "VerifyMac", lambda c: {"key_id": c["hmac"].key_id, "message": b"m",
                                            "mac_algorithm": "HMAC_SHA_256", "mac": c["mac"].mac}),
        Step("kms", "VerifyMac", lambda c: {"key_id": c["hmac"].key_id, "message": b"n",
                                            "mac_algorithm": "HMAC_SHA_256", "mac": c["mac"].mac},
             expect="KMSInvalidMacException"),
        Step("kms", "GenerateDataKeyPair", lambda c: {"key_id": k(c), "key_pair_spec": "ECC_NIST_P256",
                                                      "encryption_context": {"a": "b"}}),
        Step("kms", "GenerateDataKeyPairWithoutPlaintext", lambda c: {
            "key_id": k(c), "key_pair_spec": "ECC_NIST_P256"}),
        Step("kms", "GenerateDataKeyPairWithoutPlaintext", lambda c: {
            "key_id": c["signer"].key_id, "key_pair_spec": "ECC_NIST_P256"},
             expect="InvalidKeyUsageException"),
        Step("kms", "CreateKey", lambda c: {"origin": "EXTERNAL"}, save="external"),
        Step("kms", "GetParametersForImport", lambda c: {
            "key_id": c["external"].key_id, "wrapping_algorithm": "RSAES_OAEP_SHA_256",
            "wrapping_key_spec": "RSA_2048"}, save="import"),
        Step("kms", "GetParametersForImport", lambda c: {
            "key_id": k(c), "wrapping_algorithm": "RSAES_OAEP_SHA_256",
            "wrapping_key_spec": "RSA_2048"}, expect="UnsupportedOperationException"),
        Step("kms", "ImportKeyMaterial", lambda c: {
            "key_id": c["external"].key_id, "import_token": c["import"].import_token,
            "encrypted_key_material": _wrap_for_import(c["import"].public_key),
            "expiration_model": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
        Step("kms", "ImportKeyMaterial", lambda c: {
            "key_id": c["external"].key_id, "import_token": c["import"].import_token,
            "encrypted_key_material": b"not wrapped",
            "expiration_model": "KEY_MATERIAL_DOES_NOT_EXPIRE"}, expect="InvalidCiphertextException"),
        Step("kms", "DeleteImportedKeyMaterial", lambda c: {"key_id": c["external"].key_id}),
        Step("kms", "DeleteImportedKeyMaterial", lambda c: {"key_id": k(c)},
             expect="UnsupportedOperationException"),
        # Refused by name: custom key stores.
        Step("kms", "CreateCustomKeyStore", lambda c: {"custom_key_store_name": "s"},
             expect="UnsupportedOperationException"),
        Step("kms", "ConnectCustomKeyStore", lambda c: {"custom_key_store_id": "cks-1234567890abcdef0"},
             expect="UnsupportedOperationException"),
        Step("kms", "DisconnectCustomKeyStore", lambda c: {"custom_key_store_id": "cks-1234567890abcdef0"},
             expect="UnsupportedOperationException"),
        Step("kms", "DeleteCustomKeyStore", lambda c: {"custom_key_store_id": "cks-1234567890abcdef0"},
             expect="UnsupportedOperationException"),
        Step("kms", "UpdateCustomKeyStore", lambda c: {"custom_key_store_id": "cks-1234567890abcdef0"},
             expect="UnsupportedOperationException"),
        Step("kms", "DescribeCustomKeyStores", lambda c: {}, expect="UnsupportedOperationException"),
        # Multi-Region keys.
        Step("kms", "CreateKey", lambda c: {"multi_region": True}, save="mrk"),
        Step("kms", "ReplicateKey", lambda c: {"key_id": k(c), "replica_region": "eu-west-1"},
             expect="UnsupportedOperationException"),
        Step("kms", "ReplicateKey", lambda c: {"key_id": c["mrk"].key_id,
                                               "replica_region": "eu-west-1"}),
        Step("kms", "ReplicateKey", lambda c: {"key_id": c["mrk"].key_id,
                                               "replica_region": "eu-west-1"},
             expect="AlreadyExistsException"),
        IDLE,
        Step("kms", "UpdatePrimaryRegion", lambda c: {"key_id": c["mrk"].key_id,
                                                      "primary_region": "ap-south-1"},
             expect="NotFoundException"),
        Step("kms", "UpdatePrimaryRegion", lambda c: {"key_id": c["mrk"].key_id,
                                                      "primary_region": "eu-west-1"}),
        Step("kms", "UpdatePrimaryRegion", lambda c: {"key_id": k(c), "primary_region": "eu-west-1"},
             expect="UnsupportedOperationException"),
        # Directory Service and WorkSpaces.
        Step("ds", "CreateDirectory", lambda c: {"name": "corp.example.com", "password": "Passw0rd!",
                                                 "size": "Small"}, save="dir"),
        Step("ds", "CreateDirectory", lambda c: {"name": "-bad-", "password": "Passw0rd!",
                                                 "size": "Small"}, expect="InvalidParameterException"),
        Step("ds", "CreateDirectory", lambda c: {"name": "corp.example.com", "password": "weak",
                                                 "size": "Small"}, expect="InvalidParameterException"),
        Step("ds", "DescribeDirectories", lambda c: {}),
        Step("ds", "DescribeDirectories", lambda c: {"directory_ids": ["d-0000000000"]},
             expect="EntityDoesNotExistException"),
        # A directory user has no call in the ds model: the Python API (or the admin API) makes it.
        Step("_user", "", lambda c: {"directory_id": c["dir"].directory_id, "user_name": "jdoe"}),
        Step("_user", "", lambda c: {"directory_id": c["dir"].directory_id, "user_name": "jane"}),
        Step("workspaces", "DescribeWorkspaceBundles", lambda c: {"owner": "AMAZON"}, save="bundles"),
        Step("workspaces", "DescribeWorkspaceBundles", lambda c: {"owner": "AMAZON",
                                                                  "bundle_ids": ["wsb-12345678"]},
             expect="InvalidParameterValuesException"),
        Step("workspaces", "CreateWorkspaces", lambda c: {"workspaces": [
            {"directory_id": c["dir"].directory_id, "user_name": "jdoe",
             "bundle_id": c["bundles"].bundles[0].bundle_id, "volume_encryption_key": c["key"].arn,
             "root_volume_encryption_enabled": True, "user_volume_encryption_enabled": True,
             "tags": [{"key": "env", "value": "test"}]},
            {"directory_id": c["dir"].directory_id, "user_name": "nobody",
             "bundle_id": c["bundles"].bundles[0].bundle_id},
            {"directory_id": c["dir"].directory_id, "user_name": "jane",
             "bundle_id": c["bundles"].bundles[0].bundle_id}]}, save="created"),
        Step("workspaces", "CreateWorkspaces", lambda c: {"workspaces": [
            {"directory_id": c["dir"].directory_id, "user_name": "jdoe", "bundle_id": "wsb-x"}]},
             expect="ValidationException"),
        IDLE,
        Step("workspaces", "DescribeWorkspaces", lambda c: {"directory_id": c["dir"].directory_id}),
        Step("workspaces", "DescribeWorkspaces", lambda c: {"user_name": "jdoe"},
             expect="InvalidParameterValuesException"),
        Step("workspaces", "DescribeTags", lambda c: {"resource_id": _ws(c)}),
        Step("workspaces", "DescribeTags", lambda c: {"resource_id": "ws-00000000"},
             expect="ResourceNotFoundException"),
        Step("workspaces", "RebootWorkspaces", lambda c: {"reboot_workspace_requests": [
            {"workspace_id": _ws(c)}]}),
        IDLE,
        Step("workspaces", "ModifyWorkspaceProperties", lambda c: {
            "workspace_id": _ws(c), "workspace_properties": {"running_mode": "AUTO_STOP"}}),
        Step("workspaces", "ModifyWorkspaceProperties", lambda c: {
            "workspace_id": "ws-00000000", "workspace_properties": {"running_mode": "AUTO_STOP"}},
             expect="ResourceNotFoundException"),
        Step("workspaces", "StopWorkspaces", lambda c: {"stop_workspace_requests": [
            {"workspace_id": _ws(c)}]}),
        IDLE,
        Step("workspaces", "StartWorkspaces", lambda c: {"start_workspace_requests": [
            {"workspace_id": _ws(c)}]}),
        IDLE,
        Step("workspaces", "RebuildWorkspaces", lambda c: {"rebuild_workspace_requests": [
            {"workspace_id": _ws(c)}]}),
        IDLE,
        Step("workspaces", "DescribeWorkspaceSnapshots", lambda c: {"workspace_id": _ws(c)}),
        Step("workspaces", "DescribeWorkspaceSnapshots", lambda c: {"workspace_id": "ws-00000000"},
             expect="ResourceNotFoundException"),
        Step("workspaces", "CreateWorkspaceImage", lambda c: {
            "name": "img", "description": "d", "workspace_id": _ws(c)},
             expect="OperationNotSupportedException"),
        Step("workspaces", "CreateWorkspaceImage", lambda c: {
            "name": "img", "description": "d",
            "workspace_id": c["created"].pending_requests[1].workspace_id}, save="image"),
        IDLE,
        Step("workspaces", "DescribeWorkspaceImages", lambda c: {}),
        Step("workspaces", "DeleteWorkspaceImage", lambda c: {"image_id": c["image"].image_id}),

        Step("workspaces", "TerminateWorkspaces", lambda c: {"terminate_workspace_requests": [
            {"workspace_id": _ws(c)}]}),
        Step("workspaces", "RebootWorkspaces", lambda c: {"reboot_workspace_requests": [
            {"workspace_id": "ws-00000000"}]}),
        Step("workspaces", "RebuildWorkspaces", lambda c: {"rebuild_workspace_requests": [
            {"workspace_id": "ws-0"}]}, expect="ValidationException"),
    ]
    return s + generated_missing_key_steps()


def _wrap_for_import(public_key: bytes) -> bytes:
    """32 bytes of key material wrapped for ImportKeyMaterial (RSAES_OAEP_SHA_256), as a user's
    own code would wrap it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_der_public_key(public_key)
    assert isinstance(key, rsa.RSAPublicKey)
    return key.encrypt(bytes(range(32)), padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                      algorithm=hashes.SHA256(), label=None))


def _ws(c: dict[str, Any]) -> str:
    return c["created"].pending_requests[0].workspace_id


def generated_missing_key_steps() -> list[Step]:
    """For every implemented KMS operation taking a KeyId: an unknown key fails (with
    NotFoundException, or the error of a filler value checked first)."""
    from simulator import Simulation

    kms = Simulation(seed=0).kms
    model = MODELS["kms"]
    steps = []
    for name in model.operation_names:
        if not hasattr(kms, xform_name(name)):
            continue
        shape = model.operation_model(name).input_shape
        if shape is None or "KeyId" not in shape.required_members or (service_refuses("kms", name)):
            continue
        kwargs = {xform_name(n): filler(shape.members[n]) for n in shape.required_members}
        kwargs["key_id"] = MISSING_KEY
        # Required by KMS, though the model does not mark them so.
        if name == "CreateGrant":
            kwargs["grantee_principal"] = "arn:aws:iam::123456789012:root"
        if name in ("GenerateDataKey", "GenerateDataKeyWithoutPlaintext"):
            kwargs["key_spec"] = "AES_256"
        # NotFoundException, unless a filler value is refused first: any documented error.
        steps.append(Step("kms", name, lambda c, kw=kwargs: dict(kw), expect=ANY_ERROR))
    return steps


def implemented_operations() -> set[tuple[str, str]]:
    """(service, Operation) for every model operation the simulation has a method for."""
    from simulator import Simulation

    sim = Simulation(seed=0)
    return {(service, op) for service, model in MODELS.items() for op in model.operation_names
            if callable(getattr(getattr(sim, ATTRIBUTES[service]), xform_name(op), None))}


def service_refuses(service: str, operation: str) -> bool:
    """Whether the service's method only refuses the operation by name (it takes ``**params``:
    custom key stores, multi-Region keys); such operations have error steps only."""
    import inspect

    from simulator import Simulation

    method = getattr(getattr(Simulation(seed=0), ATTRIBUTES[service]), xform_name(operation), None)
    return method is not None and any(
        p.kind is p.VAR_KEYWORD for p in inspect.signature(method).parameters.values())


def succeeding_operations() -> set[tuple[str, str]]:
    """The implemented operations that can succeed (not refused by name)."""
    return {op for op in implemented_operations() if not service_refuses(*op)}


# --- the real server, as a subprocess ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``envelope-sim serve`` on a free port; yields the endpoint and the process; always
    stops it (SIGTERM, then kill)."""
    port = free_port()
    command = [sys.executable, "-m", "simulator.cli", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(endpoint + "/_envelope-sim/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {proc.stdout.read() if proc.stdout else ''}") from None
                time.sleep(0.05)
        yield endpoint, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
