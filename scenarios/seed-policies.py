"""The seed's key policy and IAM policies, and what fails without each statement.

The WorkSpaces guide gives a key policy (the account statement that lets IAM policies apply; a
key administrators statement; a key users statement; and "allow attachment of persistent
resources": CreateGrant when kms:GrantIsForAWSResource) and IAM policies (WorkSpaces and
Directory Service; kms:CreateGrant, Describe*, List*). Each experiment below gives a fresh admin
a variant and launches an encrypted WorkSpace: which statements does the launch really need?
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.errors import AwsError
from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_policy
from simulator.present.participants import participant_of
from simulator.present.world import build_world
from simulator.seed import seed_key_policy, seed_kms_iam_policy, seed_workspaces_iam_policy

ORDER = 9


@dataclass(frozen=True)
class Variant:
    """One experiment: which statements the admin's key policy and IAM policies keep."""

    name: str
    lesson: str
    root: bool = True
    admin: bool = True
    user: bool = True
    grants: bool = True
    iam_workspaces: bool = True
    iam_kms: str | None = "all"  # "all", "other-key" (CreateGrant on another key only), None


VARIANTS = (
    Variant("as-written", "The seed's policies as written: the launch works."),
    Variant("no-key-users-statement", "WorkSpaces never needs Alice to encrypt or decrypt: "
            "the launch works without the key users statement.", user=False),
    Variant("no-grant-statement", "Without the key policy's CreateGrant statement the launch "
            "still works: the account statement lets the admin's IAM kms:CreateGrant apply.",
            grants=False),
    Variant("admin-create-wildcard", "With neither the CreateGrant statement nor IAM's, the "
            "launch still works: the administrators statement's kms:Create* covers "
            "kms:CreateGrant.", grants=False, iam_kms=None),
    Variant("no-creategrant-anywhere", "With no CreateGrant anywhere (no grant statement, no "
            "administrators statement, no IAM KMS policy), WorkSpaces cannot create its grant "
            "for the admin (step 1): the launch fails.", grants=False, admin=False,
            iam_kms=None),
    Variant("iam-creategrant-other-key", "IAM kms:CreateGrant restricted to another key's ARN "
            "does not cover this key.", grants=False, admin=False, iam_kms="other-key"),
    Variant("no-account-statement", "Without the account statement, IAM policies do not apply "
            "to the key, but the key policy's own statements for the admin suffice.",
            root=False, iam_kms=None),
    Variant("no-account-statement-iam-only", "Without the account statement, IAM cannot help: "
            "with CreateGrant only in IAM, the launch fails.", root=False, grants=False,
            admin=False),
    Variant("grant-statement-only", "With only the key users statement and CreateGrant for AWS "
            "resources, the launch works: WorkSpaces creates its grant on the admin's behalf, "
            "so kms:GrantIsForAWSResource is true.", root=False, admin=False, iam_kms=None),
    Variant("no-iam-workspaces", "Without the WorkSpaces IAM policy, CreateWorkspaces itself is "
            "denied.", iam_workspaces=False),
)


#: The names the guide gives the seed key policy's four statements, in order.
KEY_POLICY_STATEMENTS = ("account statement", "key administrators", "key users",
                         "CreateGrant for AWS resources")


VARIANTS_BY_NAME = {v.name: v for v in VARIANTS}
#: The variants whose launch fails.
FAILING = frozenset({"no-creategrant-anywhere", "iam-creategrant-other-key",
                     "no-account-statement-iam-only", "no-iam-workspaces"})


def _dropped(v: Variant) -> str:
    """What variant ``v`` leaves out, in the guide's words."""
    dropped = [label for label, kept in (
        *zip(KEY_POLICY_STATEMENTS, (v.root, v.admin, v.user, v.grants), strict=True),
        ("IAM WorkSpaces policy", v.iam_workspaces)) if not kept]
    if v.iam_kms is None:
        dropped.append("IAM KMS policy")
    elif v.iam_kms == "other-key":
        dropped.append("IAM kms:CreateGrant only on another key")
    return "without " + ", ".join(dropped) if dropped else "every statement of the seed"


def _try(sim: Any, out: Narrator, world: Any, v: Variant, n: int) -> tuple[str, str, str]:
    """Launch an encrypted WorkSpace as a fresh admin under variant ``v``: (outcome, the
    admin's ARN, the key's ARN)."""
    account = sim.account_id
    name = f"Admin{n}"
    user = sim.iam.create_user(user_name=name)
    if v.iam_workspaces:
        sim.iam.put_user_policy(user_name=name, policy_name="WorkSpacesAdmin",
                                policy_document=seed_workspaces_iam_policy())
    policy = seed_key_policy(account, user.arn, admin=v.admin, user=v.user, grants=v.grants,
                             root=v.root)
    key = sim.kms.create_key(description=f"experiment {v.name}", policy=policy,
                             bypass_policy_lockout_safety_check=not v.root)
    if v.iam_kms == "all":
        sim.iam.put_user_policy(user_name=name, policy_name="KmsForWorkSpaces",
                                policy_document=seed_kms_iam_policy())
    elif v.iam_kms == "other-key":
        sim.iam.put_user_policy(user_name=name, policy_name="KmsForWorkSpaces",
                                policy_document=seed_kms_iam_policy(world.key_arn))
    user_name = f"user{n}"
    sim.directory.create_user(directory_id=world.directory_id, user_name=user_name)
    request = dict(directory_id=world.directory_id, user_name=user_name,
                   bundle_id=world.bundle_id, volume_encryption_key=key.arn,
                   root_volume_encryption_enabled=True, user_volume_encryption_enabled=True)
    expected = v.name in FAILING
    try:
        created = sim.as_principal(user.arn).workspaces.create_workspaces(workspaces=[request])
    except AwsError as exc:
        out.refused(str(exc), expected=expected)
        out.explain_error(exc.code, str(exc))
        return exc.code, user.arn, key.arn
    if created.failed_requests:
        failed = created.failed_requests[0]
        out.refused(f"FailedRequests: {failed.error_code}: {failed.error_message}",
                    expected=expected)
        out.explain_error(str(failed.error_code), str(failed.error_message))
        return str(failed.error_code), user.arn, key.arn
    ws = created.pending_requests[0].workspace_id
    with out.quiet():
        sim.run_until_idle()
    found = sim.workspaces.describe_workspaces(workspace_ids=[ws]).workspaces
    state = found[0].state if found else "GONE"
    if state != "AVAILABLE" and found:
        out.refused(f"{state}: {found[0].error_code}: {found[0].error_message}",
                    expected=expected)
        return str(found[0].error_code or state), user.arn, key.arn
    out.ok(f"WorkSpace {ws} is {state}")
    return str(state), user.arn, key.arn


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("seed-policies")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    world = build_world(sim, out, users=())
    out.section("The seed's policies, statement by statement")
    out.say("The key policy (for an admin Alice; the guide names its statements in words):")
    show_policy(out, seed_key_policy(sim.account_id, world.alice_arn), KEY_POLICY_STATEMENTS)
    out.say("The admin's IAM policies, for WorkSpaces and for KMS:")
    show_policy(out, seed_workspaces_iam_policy(), ("WorkSpaces and Directory Service",))
    show_policy(out, seed_kms_iam_policy(), ("KMS for WorkSpaces",))
    out.say("Alice's own key is only used as 'another key' below; each experiment has its own "
            "admin, a key with a variant of the key policy, and a user to launch for.")
    outcomes: dict[str, str] = {}
    admins: dict[str, tuple[str, str]] = {}
    for n, variant in enumerate(VARIANTS, start=1):
        out.section(variant.name)
        out.say(f"Admin{n}, {_dropped(variant)}. {variant.lesson}")
        with out.quiet():
            outcome, admin_arn, key_arn = _try(sim, out, world, variant, n)
        outcomes[variant.name] = outcome
        admins[variant.name] = (admin_arn, key_arn)
        result.record(variant.name, outcome)
    works = {name for name, o in outcomes.items() if o == "AVAILABLE"}
    result.expect(out, "the launch works as written, without the key users statement, and "
                       "with CreateGrant from any statement that applies",
                  works == set(VARIANTS_BY_NAME) - FAILING)
    result.expect(out, "without a CreateGrant permission that applies, the launch fails",
                  all(outcomes[n] != "AVAILABLE" for n in FAILING - {"no-iam-workspaces"}))
    result.expect(out, "without the WorkSpaces IAM policy CreateWorkspaces is denied",
                  outcomes["no-iam-workspaces"] == "AccessDeniedException")
    _grant_for_aws_resource(sim, out, result, world, admins["grant-statement-only"])
    return result


def _grant_for_aws_resource(sim: Any, out: Narrator, result: ScenarioResult, world: Any,
                            admin: tuple[str, str]) -> None:
    out.section("What kms:GrantIsForAWSResource prevents")
    out.say("The condition is true only when an AWS service (here WorkSpaces) creates the grant "
            "on the caller's behalf. It stops an admin from handing the key to any principal "
            "directly. The grant-statement-only admin, whose only CreateGrant is that "
            "statement, tries to give Bob Decrypt on the key:")
    bob = sim.iam.create_user(user_name="Bob").arn
    admin_arn, key_arn = admin
    err = out.attempt(f"{participant_of(admin_arn)}: CreateGrant for Bob, no service between",
                      lambda: sim.as_principal(admin_arn).kms.create_grant(
                          key_id=key_arn, grantee_principal=bob, operations=["Decrypt"]),
                      expect="AccessDeniedException")
    result.error("direct_grant_refused", err)
    result.expect(out, "a grant made directly, not for an AWS resource, is refused",
                  isinstance(err, AwsError) and err.code == "AccessDeniedException")
    out.say("As written, though, the seed's key policy does not stop Alice: the key "
            "administrators statement's kms:Create* matches kms:CreateGrant with no condition "
            "(and so does her IAM policy, through the account statement).")
    made = out.attempt("Alice: CreateGrant for Bob on her own key",
                       lambda: world.admin.kms.create_grant(
                           key_id=world.key_arn, grantee_principal=bob,
                           operations=["Decrypt"]))
    result.record("alice_direct_grant", "ok" if not isinstance(made, AwsError) else made.code)
    if not isinstance(made, AwsError):
        world.admin.kms.revoke_grant(key_id=world.key_arn, grant_id=made.grant_id)
        out.say("(She revokes it again. To make the condition bind, leave CreateGrant out of "
                "the statements without it.)")


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
