"""Each implemented operation's parameters against the botocore service model installed with
the test dependencies (``botocore.xform_name`` of the input members vs the method signature).

A member the model adds, renames or drops shows up here as a failing test naming it, not as a
TypeError in a user's code. Members the simulator does not take yet, and its own extras, are
listed per operation, so the lists say exactly where the simulator stops.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import pytest
from botocore import xform_name  # the test extra declares botocore: the models' source
from botocore.loaders import Loader

from simulator import Simulation
from simulator.ebs.service import MAX_SIZE_GIB, ElasticBlockStore
from simulator.errors import InvalidParameterValue
from simulator.iam.service import IdentityAndAccessManagement
from simulator.kms.service import KeyManagementService
from simulator.workspaces.bundles import COMPUTE_TYPES
from simulator.workspaces.directory import DirectoryService
from simulator.workspaces.service import WorkSpacesService

_LOADER = Loader()

#: Model members an implemented operation does not take (yet).
NOT_TAKEN: dict[str, set[str]] = {
    "iam.ListPolicies": {"policy_usage_filter"},
    "iam.CreatePolicy": {"tags"},
    "ec2.DeleteTags": {"dry_run"},
    "ec2.CreateTags": {"dry_run"},
    "kms.CreateKey": {"custom_key_store_id", "xks_key_id"},
    "kms.Decrypt": {"dry_run_modifiers", "recipient"},
    "kms.GenerateDataKey": {"recipient"},
    "kms.GenerateRandom": {"custom_key_store_id", "recipient"},
    "kms.ListKeyRotations": {"include_key_material"},
    "kms.ListKeys": {"resource_owners"},
    "kms.ReEncrypt": {"dry_run_modifiers"},
    "ec2.AttachVolume": {"dry_run", "ebs_card_index"},
    "ec2.CopySnapshot": {"completion_duration_minutes", "destination_availability_zone",
                        "destination_outpost_arn", "dry_run"},
    "ec2.CreateSnapshot": {"dry_run", "location", "outpost_arn"},
    "ec2.CreateVolume": {"availability_zone_id", "dry_run", "iops", "multi_attach_enabled",
                        "operator", "outpost_arn", "throughput", "volume_initialization_rate",
                        "volume_type"},
    "ec2.DeleteSnapshot": {"dry_run"},
    "ec2.DeleteVolume": {"dry_run"},
    "ec2.DescribeSnapshots": {"dry_run", "restorable_by_user_ids"},
    "ec2.DescribeVolumes": {"dry_run", "include_managed_resources"},
    "ec2.DetachVolume": {"dry_run"},
    "ec2.DisableEbsEncryptionByDefault": {"dry_run"},
    "ec2.EnableEbsEncryptionByDefault": {"dry_run"},
    "ec2.GetEbsDefaultKmsKeyId": {"dry_run"},
    "ec2.GetEbsEncryptionByDefault": {"dry_run"},
    "ec2.ModifyEbsDefaultKmsKeyId": {"dry_run"},
    "ec2.ResetEbsDefaultKmsKeyId": {"dry_run"},
    "workspaces.DescribeWorkspaceBundles": {"next_token"},
    "workspaces.DescribeWorkspaceImages": {"image_type", "max_results", "next_token"},
    "workspaces.DescribeWorkspaces": {"workspace_name"},
    "workspaces.ModifyWorkspaceProperties": {"data_replication"},
    # Directory Service and IAM: as much as WorkSpaces needs.
    "ds.CreateDirectory": {"network_type", "tags", "vpc_settings"},
    "ds.DescribeDirectories": {"limit", "next_token"},
    "ds-data.CreateUser": {"client_token", "other_attributes", "sam_account_name"},
    "ds-data.DescribeUser": {"other_attributes", "realm", "sam_account_name"},
    "ds-data.ListUsers": {"max_results", "next_token", "realm"},
    "iam.CreateRole": {"max_signin_session_duration", "permissions_boundary"},
    "iam.CreateUser": {"permissions_boundary"},
    "iam.ListAccessKeys": {"marker", "max_items"},
}

#: The simulator's own parameters (not in the model), and why.
EXTRA: dict[str, set[str]] = {
    # What a calling AWS service adds (WorkSpaces' context pair, its grant token) and the
    # simulator's choice of volume cipher.
    "ec2.CreateVolume": {"encryption_context", "grant_tokens", "volume_cipher"},
    # ds-data names the user SAMAccountName; the simulator calls it user_name.
    "ds-data.CreateUser": {"user_name"},
    "ds-data.DescribeUser": {"user_name"},
    # Shorthand for the *WorkspaceRequests lists: workspace_ids=[...].
    "workspaces.RebootWorkspaces": {"workspace_ids"},
    "workspaces.RebuildWorkspaces": {"workspace_ids"},
    "workspaces.StartWorkspaces": {"workspace_ids"},
    "workspaces.StopWorkspaces": {"workspace_ids"},
    "workspaces.TerminateWorkspaces": {"workspace_ids"},
}

_SERVICES: tuple[tuple[type, tuple[str, ...]], ...] = (
    (KeyManagementService, ("kms",)),
    (ElasticBlockStore, ("ec2",)),
    (WorkSpacesService, ("workspaces",)),
    (DirectoryService, ("ds", "ds-data")),
    (IdentityAndAccessManagement, ("iam",)),
)


def _model(service: str) -> dict:  # type: ignore[type-arg]
    return _LOADER.load_service_model(service, "service-2")  # type: ignore[no-any-return]


def _implemented() -> Iterator[tuple[str, set[str], set[str], set[str]]]:
    """(service.Operation, model members, required members, method parameters)."""
    for cls, services in _SERVICES:
        for service in services:
            model = _model(service)
            by_method = {xform_name(op): op for op in model["operations"]}
            for name, fn in inspect.getmembers(cls, inspect.isfunction):
                if name.startswith("_") or name not in by_method:
                    continue
                operation = by_method[name]
                shape_name = model["operations"][operation].get("input", {}).get("shape")
                shape = model["shapes"][shape_name] if shape_name else {"members": {}}
                members = {xform_name(m) for m in shape["members"]}
                required = {xform_name(m) for m in shape.get("required", ())}
                signature = inspect.signature(inspect.unwrap(fn))
                if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
                    continue  # an operation refused by name (out of scope): takes anything
                params = set(signature.parameters) - {"self"}
                yield f"{service}.{operation}", members, required, params


_OPERATIONS = {name: (members, required, params)
               for name, members, required, params in _implemented()}


def test_the_operations_compared_include_every_service() -> None:
    assert {name.split(".")[0] for name in _OPERATIONS} == {
        "kms", "ec2", "workspaces", "ds", "ds-data", "iam"}
    assert len(_OPERATIONS) >= 70


@pytest.mark.parametrize("operation", sorted(_OPERATIONS))
def test_an_operation_takes_the_models_parameters(operation: str) -> None:
    members, _required, params = _OPERATIONS[operation]
    assert members - params == NOT_TAKEN.get(operation, set()), (
        f"{operation}: model members the method does not take (or the list is stale)")
    assert params - members == EXTRA.get(operation, set()), (
        f"{operation}: method parameters that are not model members")


def test_the_lists_name_only_operations_that_exist() -> None:
    assert set(NOT_TAKEN) <= set(_OPERATIONS)
    assert set(EXTRA) <= set(_OPERATIONS)


def test_every_compute_type_of_the_model_is_accepted() -> None:
    assert set(_model("workspaces")["shapes"]["Compute"]["enum"]) <= COMPUTE_TYPES


def test_gp3_volumes_go_up_to_65536_gib() -> None:
    size_doc = _model("ec2")["shapes"]["CreateVolumeRequest"]["members"]["Size"]["documentation"]
    assert re.search(r"gp3: (<code>)?1 - 65,536(</code>)? GiB", size_doc)
    assert MAX_SIZE_GIB == 65536
    sim = Simulation(seed=1)
    assert sim.ebs.create_volume(size=65536).size == 65536
    with pytest.raises(InvalidParameterValue):
        sim.ebs.create_volume(size=65537)
