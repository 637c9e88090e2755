"""Every scenario runs and reaches its key outcomes (states, errors, data read back).

These tests check what happened, never the wording of the narration.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator import Simulation
from simulator.errors import ValidationException
from simulator.present.narrate import Narrator
from simulator.present.scenario import ScenarioResult, discover, load_scenario

NAMES = ["launch", "aws-managed-key", "reboot-rebuild", "key-disabled", "key-deletion",
         "rotation", "context-binding", "grants", "seed-policies", "restrictions", "faults",
         "fleet", "cross-account", "multi-region"]


def run(name: str, seed: int = 7, **options: Any) -> tuple[ScenarioResult, Simulation]:
    info = load_scenario(name)
    sim = Simulation(seed=seed, **getattr(info.module, "SETTINGS", {}))
    result = info.module.run(sim, Narrator.silent(), **options)
    assert isinstance(result, ScenarioResult)
    return result, sim


def test_the_scenarios_are_listed_in_teaching_order() -> None:
    assert list(discover()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_holds_all_its_checks(name: str) -> None:
    result, _ = run(name, **({"count": 8} if name == "fleet" else {}))
    assert result.checks, "a scenario verifies what it teaches"
    assert result.failed_checks == []


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_replays_exactly_for_a_seed(name: str) -> None:
    options = {"count": 4} if name == "fleet" else {}
    (_, first), (_, second) = run(name, 11, **options), run(name, 11, **options)
    assert first.trace.to_json() == second.trace.to_json()
    assert first.audit.to_jsonl() == second.audit.to_jsonl()


def test_launch_runs_the_workspace_and_keeps_only_ciphertext_on_disk() -> None:
    result, sim = run("launch")
    assert result["state_after_launch"] == "AVAILABLE"
    assert result["volumes_encrypted"] == {"root": True, "user": True}
    assert result["grants_while_running"] == 3
    assert result["data_read_back"] == b"Q3 figures: revenue up 12%, do not share"
    assert result["plaintext_on_disk"] is False
    assert result["data_key_calls"] == ["GenerateDataKeyWithoutPlaintext"] * 2 + ["Decrypt"] * 2
    assert result["grants_after_terminate"] == 0
    assert result["state_after_terminate"] == "TERMINATED"
    assert result["listed_later"] is False
    assert {1, 2, 4, 5, 6, 7, 8, 9} <= set(result["steps_traced"])
    assert sim.kms.list_grants(key_id=sim.kms.describe_key(
        key_id="alias/workspaces-demo").arn).grants == ()


def test_aws_managed_key_is_made_on_first_use_and_refuses_direct_use() -> None:
    result, sim = run("aws-managed-key")
    assert result["aws_key_before_launch"] is None
    assert result["key_manager"] == "AWS"
    assert result["state"] == "AVAILABLE"
    assert result["data_read_back"] == b"jdoe's notes"
    assert result.errors["direct_generate_data_key"] == "AccessDeniedException"
    assert result.errors["direct_decrypt"] == "AccessDeniedException"
    assert result.errors["disable"] == "AccessDeniedException"
    assert result["key_state"] == "Enabled"
    assert result["rotation_enabled"] is True
    assert result["rotation_period_in_days"] == sim.settings.aws_managed_rotation_days


def test_reboot_reuses_the_stored_data_keys_and_rebuild_restores_the_snapshot() -> None:
    result, _ = run("reboot-rebuild")
    assert result["kms_calls_at_reboot"] == {"GenerateDataKeyWithoutPlaintext": 0,
                                             "Decrypt": 2, "ReEncrypt": 0}
    assert result["read_after_reboot"] == b"written before the snapshot"
    assert result["rebuild_snapshots"] >= 1
    assert result["state_after_rebuild"] == "AVAILABLE"
    assert result["kms_calls_at_rebuild"]["GenerateDataKeyWithoutPlaintext"] == 2
    assert result["kms_calls_at_rebuild"]["ReEncrypt"] == 0
    assert result["new_volumes"] == {"root": True, "user": True}
    assert result["read_before_snapshot"] == b"written before the snapshot"
    assert result["read_after_snapshot"] == bytes(len(b"written after the snapshot"))
    assert result["new_ip_address"] is True


def test_disabled_key_spares_the_running_workspace_breaks_the_reboot_and_recovers() -> None:
    result, _ = run("key-disabled")
    assert result["key_state"] == "Disabled"
    assert result["read_while_disabled"] == b"chapter 2, written while the key was disabled"
    assert result["state_while_disabled"] == "AVAILABLE"
    assert (result["state_after_reboot"], result["error_code"]) == ("UNHEALTHY",
                                                                    "DisabledException")
    assert result.errors["read_after_failed_reboot"] == "IncorrectState"
    assert result["failed_decrypts_in_audit"] >= 1
    assert result["state_after_recovery"] == "AVAILABLE"
    assert result["data_after_recovery"] == (b"jdoe's thesis, chapter 1",
                                             b"chapter 2, written while the key was disabled")


def test_cancelled_deletion_recovers_and_a_deleted_key_loses_the_data() -> None:
    result, _ = run("key-deletion")
    assert result["key_state_scheduled"] == "PendingDeletion"
    assert result["read_while_pending"] == b"payroll 2026"
    assert result["state_after_reboot_pending"] == "UNHEALTHY"
    assert result["error_after_reboot_pending"] == "KMSInvalidStateException"
    assert result["key_state_cancelled"] == "Disabled"
    assert result["state_after_cancel_and_reboot"] == "AVAILABLE"
    assert result["read_after_cancel"] == b"payroll 2026"
    assert result["delete_key_events"] == 1
    assert result["deleted_key_state"] == "NotFoundException"
    assert result["read_before_reboot"] == b"payroll 2026"
    assert result["state_after_reboot_deleted"] == "UNHEALTHY"
    assert result["error_after_reboot_deleted"] is not None
    assert result["state_after_rebuild_deleted"] != "AVAILABLE"
    assert result["ciphertext_blocks_left"] >= 1


def test_rotation_re_encrypts_nothing_and_a_new_key_needs_the_old_one_kept() -> None:
    result, _ = run("rotation")
    assert result["rotations"] == 1
    assert result["material_changed"] is True
    assert result["reboot_decrypted_with_old_material"] is True
    assert result["read_after_rotation"] == b"design doc v1"
    assert result["re_encrypt_calls"] == 0
    assert result["new_workspace_uses_new_material"] is True
    assert result["existing_workspace_key"] is True
    assert result["reboot_with_old_key_disabled"] == "UNHEALTHY"
    assert result["reboot_with_old_key_enabled"] == "AVAILABLE"
    assert result["replacement_key"] is True
    assert result["workspaces_on_old_key"] == 1
    assert result["read_on_new_key"] == b"design doc v1"


def test_a_data_key_only_decrypts_under_its_exact_context() -> None:
    result, sim = run("context-binding")
    codes = result["decrypt_results"]
    assert codes.pop("same context") == "ok"
    assert codes.pop("same pairs, other order") == "ok"
    assert set(codes.values()) == {"InvalidCiphertextException"}
    assert len(codes) == 6
    assert result.errors["ebs_no_grant"] == "AccessDeniedException"
    assert result.errors["ebs_other_volume"] == "InvalidCiphertextException"
    assert result["ebs_own_volume"] == "ok"
    assert result["failed_decrypts_logged"] == 7
    failed = sim.audit.events(event_name="Decrypt", error_code="InvalidCiphertextException")
    assert all("encryptionContext" in r["requestParameters"] for r in failed)


def test_grants_allow_only_their_operations_and_contexts_and_are_retired() -> None:
    result, _ = run("grants")
    assert result["grants"] == 3
    assert list(result["tries"].values()) == ["ok"] + ["AccessDeniedException"] * 3
    assert result["read_after_revoke"] == b"jdoe's mailbox archive"
    assert (result["state_after_reboot"], result["error_after_reboot"]) == (
        "UNHEALTHY", "AccessDeniedException")
    assert result["state_after_rebuild"] == "AVAILABLE"
    assert result["read_after_rebuild"] == b"jdoe's mailbox archive"
    assert result["grants_after_terminate"] == 0
    assert result["retirable_by_workspaces"] == 0


def test_each_seed_policy_statement_matters_only_where_nothing_else_allows() -> None:
    result, _ = run("seed-policies")
    assert result.outcomes == {
        "as-written": "AVAILABLE",
        "no-key-users-statement": "AVAILABLE",
        "no-grant-statement": "AVAILABLE",
        "admin-create-wildcard": "AVAILABLE",
        "no-creategrant-anywhere": "AccessDeniedException",
        "iam-creategrant-other-key": "AccessDeniedException",
        "no-account-statement": "AVAILABLE",
        "no-account-statement-iam-only": "AccessDeniedException",
        "grant-statement-only": "AVAILABLE",
        "no-iam-workspaces": "AccessDeniedException",
        "alice_direct_grant": "ok",
    }
    assert result.errors["direct_grant_refused"] == "AccessDeniedException"


def test_encryption_restrictions_are_refused_and_change_nothing() -> None:
    result, _ = run("restrictions")
    assert result.errors == {label: "OperationNotSupportedException" for label in (
        "encrypt_existing", "turn_off", "change_key", "custom_image")}
    assert result["plain_still_unencrypted"] is True
    assert result["encrypted_still_encrypted"] is True
    assert result["images"] == 0
    assert result["states"] == ("AVAILABLE", "AVAILABLE")
    assert result["image_from_unencrypted"] == "AVAILABLE"
    assert result["replacement_encrypted"] is True


def test_transient_kms_errors_are_survived_and_corruption_is_caught_only_by_gcm() -> None:
    result, sim = run("faults")
    assert result["state_after_launch"] == "AVAILABLE"
    assert result["retries"] == 3
    assert result["kms_errors_in_audit"] == ["KMSInternalException"] * 2 + [
        "DependencyTimeoutException"]
    assert result["state_after_reboot"] == "UNHEALTHY"
    assert result["reboot_error"] == "InvalidCiphertextException"
    assert result["state_after_rebuild"] == "AVAILABLE"
    assert result["data_after_rebuild"] == (b"balance: 1,000,000.00 EUR".ljust(64, b"."),
                                            bytes(len(b"written after the snapshot")))
    assert result["block_reads"] == {"xts": "silently corrupted", "gcm": "InvalidBlockCiphertext"}
    assert result["faults_fired"] == len(sim.faults.records()) >= 4


def test_fleet_loses_every_rebooted_workspace_to_a_disabled_key_and_recovers_them() -> None:
    result, _ = run("fleet", count=12)
    assert result["launched"] == 12
    assert result["grants_on_the_key"] == 12 * 3
    assert result["available_after_disable"] == 12
    assert result["states_after_reboot"] == {"UNHEALTHY": 12}
    assert result["casualties"] == 12
    assert result["error_codes"] == ["DisabledException"]
    assert result["failed_decrypts_in_audit"] == 12
    assert result["recovered"] == 12
    assert result["data_intact"] == 12
    assert len(result.workspace_ids) == 12


def test_fleet_crosses_the_25_per_call_limit_of_the_workspaces_api() -> None:
    result, _ = run("fleet", count=30)
    assert result["launched"] == 30 and result["recovered"] == 30


@pytest.mark.parametrize("count", [0, -1, 2001, "10", True])
def test_fleet_rejects_a_bad_count(count: object) -> None:
    info = load_scenario("fleet")
    with pytest.raises(ValidationException, match="count"):
        info.module.run(Simulation(seed=1), Narrator.silent(), count=count)


def test_cross_account_needs_both_sides_and_records_in_both_trails() -> None:
    result, sim = run("cross-account")
    assert result.errors["alias_name_from_workload"] == "NotFoundException"
    assert result["volume_without_key_policy"] == "error"
    assert result["volume_without_iam_policy"] == "error"
    assert result["volume_with_both"] == "available"
    assert result["grants_in_security_account"] == 1
    assert result["workload_trail_records"] == result["security_trail_records"] == 3
    assert result["new_volume_after_unsharing"] == "error"
    assert result.errors["attach_after_revoke"] == "AccessDeniedException"
    assert len(sim.cells) == 2


def test_multi_region_re_encrypts_the_copy_and_shares_the_mrk_material() -> None:
    result, sim = run("multi-region")
    assert result["source_snapshot_state"] == "completed"
    assert result["copy_state"] == "completed"
    assert result["copy_with_source_key"] == "error"
    assert result["replica_type"] == "REPLICA"
    east = sim.view(region="us-east-1")
    assert {s.state for s in east.ebs.describe_snapshots().snapshots} == {"completed", "error"}
