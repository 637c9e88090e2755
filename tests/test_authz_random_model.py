"""Random policy worlds and requests through the real services, against an independent model.

Each world is a simulation with a key (tagged, with an alias), users and a role (tagged or
not), a random key policy and random IAM policies over KMS and EC2 actions, with conditions on
the KMS, EC2 and global keys. Each request is a real KMS or EBS call as one of the principals,
directly or through EC2; its outcome (refused as AccessDenied / UnauthorizedOperation, or not)
must be the model's decision.

The model shares no code with the simulator: it computes each request's condition keys from
the AWS documentation's description of the operation and evaluates the few condition forms it
uses itself, with ``fnmatch`` for wildcards.

Short form in the default suite (5,000 requests, seeded, about a second). The long form:
``ENVELOPE_SIM_AUTHZ_WORLDS=8000 python -m pytest tests/test_authz_random_model.py`` (or
``HYPOTHESIS_PROFILE=long``, which runs 8,000 worlds: 200,000 requests).
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from simulator import Simulation
from simulator.errors import AccessDeniedException, AwsError, UnauthorizedOperation
from simulator.iam.principals import Caller

ACCOUNT = "123456789012"
REGION = "us-west-2"
EC2_VIA = f"ec2.{REGION}.amazonaws.com"
INSTANCES = ("i-0aaaaaaaaaaaaaaaa", "i-0bbbbbbbbbbbbbbbb")
REQUESTS_PER_WORLD = 25
WORLDS = int(os.environ.get("ENVELOPE_SIM_AUTHZ_WORLDS") or (
    8000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 200))

# --- the random space ------------------------------------------------------------------------

KEY_PRINCIPALS = ("account", "*", "Bob", "Carol", "role")
KMS_PATTERNS = ("kms:*", "*", "kms:Encrypt", "kms:De*", "kms:GenerateDataKey*", "kms:Describe*",
                "kms:?ncrypt")
EC2_PATTERNS = ("ec2:*", "*", "ec2:CreateVolume", "ec2:*Volume*", "ec2:Describe*",
                "ec2:AttachVolume", "ec2:*Snapshot", "ec2:*EbsDefaultKmsKeyId")
RESOURCES = ("*", "arn:aws:kms:*:123456789012:key/*",
             f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/*",
             f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{INSTANCES[0]}",
             "arn:aws:ec2:*:*:snapshot/*", f"arn:aws:ec2:{REGION}:{ACCOUNT}:*")
#: (key, operator, value): the condition forms worlds draw from (None: no condition).
CONDITIONS: tuple[tuple[str, str, Any] | None, ...] = (
    None, None, None,
    ("kms:ViaService", "StringEquals", EC2_VIA),
    ("kms:ViaService", "StringEqualsIfExists", EC2_VIA),
    ("kms:CallerAccount", "StringEquals", ACCOUNT),
    ("kms:EncryptionContext:dept", "StringEquals", "hr"),
    ("kms:EncryptionAlgorithm", "StringEquals", "SYMMETRIC_DEFAULT"),
    ("kms:RequestAlias", "StringEquals", "alias/app"),
    ("kms:ResourceAliases", "ForAnyValue:StringEquals", "alias/app"),
    ("kms:GrantIsForAWSResource", "Bool", "true"),
    ("kms:NoSuchKey", "StringEquals", "x"),
    ("kms:NoSuchKey", "StringNotEquals", "x"),
    ("aws:ResourceTag/Project", "StringEquals", "alpha"),
    ("aws:PrincipalTag/team", "StringEquals", "blue"),
    ("aws:username", "StringEquals", "Bob"),
    ("aws:PrincipalType", "StringEquals", "AssumedRole"),
    ("ec2:Encrypted", "Bool", "true"),
    ("ec2:Encrypted", "Bool", "false"),
    ("ec2:VolumeSize", "NumericLessThanEquals", 4),
    ("ec2:Region", "StringEquals", REGION),
    ("ec2:ParentSnapshot", "Null", "true"),
)
KMS_ACTIONS = ("Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey")
EBS_ACTIONS = ("CreateVolume", "DeleteVolume", "AttachVolume", "CreateSnapshot",
               "DescribeVolumes", "ModifyEbsDefaultKmsKeyId", "GetEbsEncryptionByDefault")


@dataclass
class Stmt:
    effect: str
    actions: tuple[str, ...]
    condition: tuple[str, str, Any] | None
    principal: str = ""
    resource: str = "*"

    def json(self, arns: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"Effect": self.effect, "Action": list(self.actions),
                               "Resource": self.resource}
        if self.principal:
            out["Principal"] = "*" if self.principal == "*" else {"AWS": arns[self.principal]}
        if self.condition is not None:
            key, op, value = self.condition
            out["Condition"] = {op: {key: value}}
        return out


@dataclass
class World:
    key_stmts: list[Stmt]
    iam: dict[str, list[Stmt]]  # "Bob" / "Carol" / "role" -> statements
    key_tag: str
    tags: dict[str, str | None]  # principal -> team tag
    requests: list[dict[str, Any]] = field(default_factory=list)


def _stmt(rng: random.Random, *, principal: bool) -> Stmt:
    patterns = KMS_PATTERNS if principal else rng.choice((KMS_PATTERNS, EC2_PATTERNS))
    return Stmt(effect=rng.choice(("Allow", "Allow", "Deny")),
                actions=tuple(rng.sample(patterns, rng.randint(1, 2))),
                condition=rng.choice(CONDITIONS),
                principal=rng.choice(KEY_PRINCIPALS) if principal else "",
                resource="*" if principal else rng.choice(RESOURCES))


def random_world(rng: random.Random) -> World:
    world = World(
        key_stmts=[_stmt(rng, principal=True) for _ in range(rng.randint(1, 4))],
        iam={who: [_stmt(rng, principal=False) for _ in range(rng.randint(0, 3))]
             for who in ("Bob", "Carol", "role")},
        key_tag=rng.choice(("alpha", "beta")),
        tags={"Bob": rng.choice(("blue", "red", None)), "Carol": None,
              "role": rng.choice(("blue", None))})
    for _ in range(REQUESTS_PER_WORLD):
        kms = rng.random() < 0.5
        world.requests.append({
            "caller": rng.choice(("root", "Bob", "Carol", "role")),
            "via": kms and rng.random() < 0.3,
            "action": rng.choice(KMS_ACTIONS if kms else EBS_ACTIONS),
            "kms": kms,
            "by_alias": rng.random() < 0.5,
            "context": rng.choice(({}, {"dept": "hr"}, {"dept": "it"})),
            "encrypted": rng.random() < 0.5,
            "size": rng.randint(1, 8),
            "instance": rng.choice(INSTANCES),
        })
    return world


# --- the model -------------------------------------------------------------------------------


def model_facts(world: World, req: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The request's condition keys (lower-case), from the AWS documentation's description."""
    who = req["caller"]
    facts: dict[str, tuple[str, ...]] = {}
    if who != "root" and world.tags.get(who):
        facts["aws:principaltag/team"] = (str(world.tags[who]),)
    if who in ("Bob", "Carol"):
        facts["aws:username"] = (who,)
    facts["aws:principaltype"] = ({"root": "Account", "role": "AssumedRole"}.get(who, "User"),)
    action = req["action"]
    if req["kms"]:
        facts["kms:calleraccount"] = (ACCOUNT,)
        if req["via"]:
            facts["kms:viaservice"] = (EC2_VIA,)
        facts["kms:resourcealiases"] = ("alias/app",)
        facts["aws:resourcetag/project"] = (world.key_tag,)
        if action != "DescribeKey":
            facts["kms:encryptionalgorithm"] = ("SYMMETRIC_DEFAULT",)
            if "dept" in req["context"]:
                facts["kms:encryptioncontext:dept"] = (req["context"]["dept"],)
        if req["by_alias"] and action != "Decrypt":
            facts["kms:requestalias"] = ("alias/app",)
        return facts
    facts["ec2:region"] = (REGION,)
    if action in ("CreateVolume", "DeleteVolume", "AttachVolume", "CreateSnapshot"):
        facts["ec2:encrypted"] = ("true" if req["encrypted"] else "false",)
        facts["ec2:volumesize"] = (str(req["size"]),)
    return facts


def model_condition(cond: tuple[str, str, Any] | None, facts: dict[str, tuple[str, ...]]) -> bool:
    if cond is None:
        return True
    key, op, value = cond
    got = facts.get(key.lower())
    if op == "StringEquals":
        return got is not None and str(value) in got
    if op == "StringNotEquals":
        return got is None or str(value) not in got
    if op == "StringEqualsIfExists":
        return got is None or str(value) in got
    if op == "ForAnyValue:StringEquals":
        return bool(got) and str(value) in got
    if op == "Bool":
        return got is not None and any(v.lower() == value for v in got)
    if op == "NumericLessThanEquals":
        return got is not None and any(float(v) <= value for v in got)
    if op == "Null":
        return (got is None) == (value == "true")
    raise AssertionError(op)


def _covers(patterns: tuple[str, ...], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _resources(world: World, req: dict[str, Any], key_arn: str) -> list[str]:
    action = req["action"]
    if req["kms"]:
        return [key_arn]
    vol = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/"
    return {
        "CreateVolume": [vol + "*"],
        "DeleteVolume": [vol + "VOL"],
        "AttachVolume": [vol + "VOL", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{req['instance']}"],
        "CreateSnapshot": [vol + "VOL", f"arn:aws:ec2:{REGION}::snapshot/*"],
    }.get(action, ["*"])


def model_allows(world: World, req: dict[str, Any], key_arn: str, volume_id: str) -> bool:
    who = req["caller"]
    facts = model_facts(world, req)
    service = "kms" if req["kms"] else "ec2"
    action = f"{service}:{req['action']}"
    resources = [r.replace("VOL", volume_id) for r in _resources(world, req, key_arn)]
    iam = [] if who == "root" else world.iam[who]

    def iam_effects(resource: str) -> set[str]:
        return {s.effect for s in iam
                if _covers(s.actions, action) and fnmatch.fnmatchcase(resource, s.resource)
                and model_condition(s.condition, facts)}

    if not req["kms"]:  # EC2: identity policies alone; the root may do anything
        if who == "root":
            return True
        return all((e := iam_effects(r)) and "Deny" not in e for r in resources)
    deny = direct = account = False
    for s in world.key_stmts:
        if not (_covers(s.actions, action) and model_condition(s.condition, facts)):
            continue
        if s.principal == "*" or s.principal == who or (s.principal == "account"
                                                        and who == "root"):
            how = "direct"
        elif s.principal == "account":
            how = "account"
        else:
            continue
        if s.effect == "Deny":
            deny = True
        elif how == "direct":
            direct = True
        else:
            account = True
    effects = iam_effects(key_arn)
    if "Deny" in effects:
        deny = True
    return not deny and (direct or (account and (who == "root" or "Allow" in effects)))


# --- the simulator ---------------------------------------------------------------------------


def build(world: World, seed: int) -> tuple[Simulation, dict[str, Caller], str, dict[str, bytes]]:
    sim = Simulation(seed=seed)
    callers: dict[str, Caller] = {"root": sim.root}
    arns = {"account": f"arn:aws:iam::{ACCOUNT}:root"}
    for name in ("Bob", "Carol"):
        tag = world.tags[name]
        user = sim.iam.create_user(user_name=name, tags=[{"key": "team", "value": tag}]
                                   if tag else None)
        arns[name] = user.arn
        callers[name] = sim.iam.caller_for(user.arn)
        if world.iam[name]:
            sim.iam.put_user_policy(user_name=name, policy_name="p", policy_document=json.dumps(
                {"Version": "2012-10-17", "Statement": [s.json(arns) for s in world.iam[name]]}))
    tag = world.tags["role"]
    role = sim.iam.create_role(role_name="App", tags=[{"key": "team", "value": tag}]
                               if tag else None)
    arns["role"] = role.arn
    callers["role"] = sim.iam.caller_for(role.arn)
    if world.iam["role"]:
        sim.iam.put_role_policy(role_name="App", policy_name="p", policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [s.json(arns) for s in world.iam["role"]]}))
    key = sim.kms.create_key(tags=[{"tag_key": "Project", "tag_value": world.key_tag}])
    sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)
    blobs = {ctx: sim.kms.encrypt(key_id=key.key_id, plaintext=b"x",
                                  encryption_context=dict([ctx]) if ctx else None).ciphertext_blob
             for ctx in ((), ("dept", "hr"), ("dept", "it"))}
    sim.kms.put_key_policy(key_id=key.key_id, bypass_policy_lockout_safety_check=True,
                           policy=json.dumps({"Version": "2012-10-17", "Statement": [
                               s.json(arns) for s in world.key_stmts]}))
    return sim, callers, key.arn, {k[1] if k else "": v for k, v in blobs.items()}


def run_request(sim: Simulation, caller: Caller, key_arn: str, blobs: dict[str, bytes],
                req: dict[str, Any]) -> tuple[bool, str]:
    """(allowed, volume id the request named)."""
    action = req["action"]
    volume_id = ""
    try:
        if req["kms"]:
            kms = sim.kms.with_caller(caller.through("ec2", REGION) if req["via"] else caller)
            ref = "alias/app" if req["by_alias"] else key_arn
            ctx = req["context"] or None
            if action == "Encrypt":
                kms.encrypt(key_id=ref, plaintext=b"x", encryption_context=ctx)
            elif action == "GenerateDataKey":
                kms.generate_data_key(key_id=ref, number_of_bytes=32, encryption_context=ctx)
            elif action == "DescribeKey":
                kms.describe_key(key_id=ref)
            else:
                kms.decrypt(ciphertext_blob=blobs[req["context"].get("dept", "")],
                            encryption_context=ctx)
            return True, volume_id
        ebs = sim.ebs.with_caller(caller)
        if action == "CreateVolume":
            ebs.create_volume(size=req["size"], encrypted=req["encrypted"])
        elif action in ("DeleteVolume", "AttachVolume", "CreateSnapshot"):
            # A fresh volume, still creating: authorization comes before the state check.
            volume_id = sim.ebs.create_volume(size=req["size"],
                                              encrypted=req["encrypted"]).volume_id
            if action == "DeleteVolume":
                ebs.delete_volume(volume_id=volume_id)
            elif action == "AttachVolume":
                ebs.attach_volume(volume_id=volume_id, instance_id=req["instance"],
                                  device="/dev/sdf")
            else:
                ebs.create_snapshot(volume_id=volume_id)
        elif action == "DescribeVolumes":
            ebs.describe_volumes()
        elif action == "ModifyEbsDefaultKmsKeyId":
            ebs.modify_ebs_default_kms_key_id(kms_key_id="alias/app")
        else:
            ebs.get_ebs_encryption_by_default()
    except (AccessDeniedException, UnauthorizedOperation):
        return False, volume_id
    except AwsError:
        pass  # refused for another reason, after authorization allowed it
    return True, volume_id


@pytest.mark.parametrize("seed", range(4))
def test_services_agree_with_the_independent_model(seed: int) -> None:
    rng = random.Random(seed)
    disagreements = []
    decided = {True: 0, False: 0}
    for n in range(WORLDS // 4):
        world = random_world(rng)
        sim, callers, key_arn, blobs = build(world, seed * 100_000 + n)
        for req in world.requests:
            got, volume_id = run_request(sim, callers[req["caller"]], key_arn, blobs, req)
            want = model_allows(world, req, key_arn, volume_id)
            decided[got] += 1
            if got != want:
                disagreements.append((n, req, got, want, world))
    assert not disagreements, disagreements[:3]
    # The space is not degenerate: both outcomes occur often.
    assert min(decided.values()) > 0.1 * sum(decided.values()), decided
