"""Who talks to whom: turning trace events into conversations between participants.

A trace event names its ``actor`` (``"EBS"``, ``"workspaces"``, a principal ARN) and an
``action`` on a ``target`` (a key ARN, a volume id, a WorkSpace id). Narration and diagrams
show it as an arrow ``actor -> callee``; the callee is read from the event's detail when a
service says it (``to=`` / ``service=``), else from the operation's service, else from the shape
of the target (``arn:aws:kms:...`` is KMS, ``vol-...`` is EBS, ``ws-...`` is WorkSpaces).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..faults import EC2_OPERATIONS, KMS_OPERATIONS
from ..trace import TraceEvent

__all__ = [
    "ADMIN",
    "CONTEXT_FIELDS",
    "CORE_PARTICIPANTS",
    "KEY_FIELDS",
    "REPLIES",
    "REPLY_STEPS",
    "ROOT_DEVICE",
    "Conversation",
    "Line",
    "callee_of",
    "caller_of",
    "context_of",
    "error_code_of",
    "is_echo",
    "participant_of",
    "principal_of",
    "short_id",
]

#: Trace detail fields that name a KMS key, and an encryption context, in the order read.
KEY_FIELDS = ("key_id", "key_arn", "kms_key_id", "kms_key", "key")
CONTEXT_FIELDS = ("encryption_context", "context")


def context_of(event: TraceEvent) -> Mapping[str, Any] | None:
    """The encryption context an event carries, if any."""
    for name in CONTEXT_FIELDS:
        value = event.detail.get(name)
        if isinstance(value, Mapping) and value:
            return value
    return None


def error_code_of(event: TraceEvent) -> str:
    """The AWS error code of a failed event: its outcome, or ``error_code=`` in its detail."""
    if event.outcome not in ("ok", "error", "failed", ""):
        return event.outcome
    value = event.detail.get("error_code")
    return value if isinstance(value, str) else ""


ADMIN = "Admin"
#: The participants of the encrypted launch, in the order diagrams declare them.
CORE_PARTICIPANTS = (ADMIN, "WorkSpaces", "EBS", "KMS")

_ALIASES = {
    "admin": ADMIN,
    "root": ADMIN,
    "workspaces": "WorkSpaces",
    "workspace": "WorkSpaces",
    "ebs": "EBS",
    "ec2": "EBS",
    "kms": "KMS",
    "iam": "IAM",
    "sts": "IAM",
    "directory": "Directory",
    "ds": "Directory",
    "faults": "Faults",
    "fault": "Faults",
    "user": "User",
}

# The operations each service hooks, as the fault model lists them (one list for both).
_KMS_OPS = frozenset(KMS_OPERATIONS) | {"RotateKey"}  # RotateKey: KMS's own scheduled rotation
_EBS_OPS = frozenset(EC2_OPERATIONS)

_CAMEL = re.compile(r"(?:^|_)([a-z0-9])")


def _camel(action: str) -> str:
    """``generate_data_key`` -> ``GenerateDataKey``; AWS-cased names pass through."""
    if "_" not in action and action[:1].isupper():
        return action
    return _CAMEL.sub(lambda m: m.group(1).upper(), action)


def participant_of(name: str) -> str:
    """The participant a name or principal ARN stands for (``"ebs"`` -> ``"EBS"``).

    IAM users appear under their user name (``arn:aws:iam::1:user/Alice`` -> ``"Alice"``); the
    account root is the ``Admin``; the service identities are their services.
    """
    text = name.strip()
    if not text:
        return "?"
    if text.startswith("arn:"):
        return _participant_of_arn(text)
    lowered = text.lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    head = re.split(r"[.:/ ]", lowered, maxsplit=1)[0]
    if head in _ALIASES:
        return _ALIASES[head]
    return text


def _participant_of_arn(arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    service, resource = parts[2], parts[5]
    if resource == "root":
        return ADMIN
    if service == "kms":
        return "KMS"
    if service in ("iam", "sts"):
        if "workspaces" in resource:
            return "WorkSpaces"
        if "ec2" in resource or resource.endswith("/ebs"):
            return "EBS"
        return resource.rsplit("/", 1)[-1] or arn
    return _ALIASES.get(service, service)


def _op(action: str) -> str:
    return _camel(action.split(":", 1)[1] if ":" in action else action)


def _is_own_kms_call(event: TraceEvent) -> bool:
    """A service's own record of a KMS call it made (EBS noting its CreateGrant)."""
    return _op(event.action) in _KMS_OPS and participant_of(event.actor) != "KMS"


#: Names services give their own record of a KMS call (EBS notes its Decrypt at attach).
_ECHO_OF = {"DecryptDataKey": "Decrypt"}


def _is_internal(event: TraceEvent) -> bool:
    """EBS's record of its own work (storing a data key, I/O ready, a state change), which
    no one asked of it as an operation: shown as EBS alone, never as a call to EBS."""
    return (participant_of(event.actor) == "EBS" and _op(event.action) not in _EBS_OPS
            and _op(event.action) not in _KMS_OPS)


def is_echo(previous: TraceEvent | None, event: TraceEvent) -> bool:
    """True when ``event`` is the calling service's record of the KMS call just recorded by KMS.

    KMS records every call it receives; EBS and WorkSpaces also note the KMS calls they make.
    Narration and diagrams show such a pair once.
    """
    if previous is None or participant_of(previous.actor) != "KMS":
        return False
    op = _op(event.action)
    if not (_is_own_kms_call(event) or op in _ECHO_OF):
        return False
    if _op(previous.action) != _ECHO_OF.get(op, op):
        return False
    if previous.workspace_id != event.workspace_id:
        return False
    mine, theirs = event.detail.get("grant_id"), previous.detail.get("grant_id")
    return mine is None or theirs is None or mine == theirs


def caller_of(event: TraceEvent) -> str:
    """The participant that acted.

    A service recording a call it received (KMS does) names the caller in ``caller=`` (an
    ARN) and the service that made the call for it in ``invoked_by=`` (``ec2.amazonaws.com``);
    the participant is then that service, else the caller.
    """
    if _is_own_kms_call(event) or _is_internal(event):
        return participant_of(event.actor)
    actor = participant_of(event.actor)
    if actor == "EBS" and event.workspace_id and _op(event.action) in _EBS_OPS \
            and "caller" not in event.detail:
        # Inside a WorkSpace's lifecycle, EBS's volume operations are WorkSpaces' requests.
        return "WorkSpaces"
    who = event.detail.get("caller")
    if isinstance(who, str) and who:
        via = event.detail.get("invoked_by")
        if isinstance(via, str) and via:
            return participant_of(via)
        return participant_of(who)
    return participant_of(event.actor)


def principal_of(event: TraceEvent) -> str | None:
    """The principal a service called as, when it called for someone else (else None)."""
    who = event.detail.get("caller")
    via = event.detail.get("invoked_by")
    if isinstance(who, str) and who and _is_own_kms_call(event):
        via = event.actor  # EBS noting a KMS call it makes with WorkSpaces' permissions
    if isinstance(who, str) and who and isinstance(via, str) and via:
        principal = participant_of(who)
        return principal if principal != participant_of(via) else None
    return None


def callee_of(event: TraceEvent) -> str:
    """The participant the event's action was addressed to (the actor itself if internal)."""
    me = caller_of(event)
    if _is_internal(event):
        return me
    for field in ("to", "service", "callee"):
        value = event.detail.get(field)
        if isinstance(value, str) and value:
            return participant_of(value)
    if _is_own_kms_call(event):
        return "KMS"
    if participant_of(event.actor) == "EBS" and _op(event.action) in _EBS_OPS:
        return "EBS"
    who = event.detail.get("caller")
    if isinstance(who, str) and who:  # recorded by the service that was called
        return participant_of(event.actor)
    action = event.action
    if ":" in action:  # "kms:Decrypt"
        prefix = action.split(":", 1)[0].lower()
        if prefix in _ALIASES:
            return _ALIASES[prefix]
        action = action.split(":", 1)[1]
    op = _camel(action)
    if op in _KMS_OPS:
        return "KMS"
    if op in _EBS_OPS:
        return "EBS"
    return _participant_of_target(event.target) or me


def _participant_of_target(target: str) -> str | None:
    if target.startswith("arn:"):
        return _participant_of_arn(target)
    if target.startswith("alias/"):
        return "KMS"
    if target.startswith(("vol-", "snap-", "i-")):
        return "EBS"
    if target.startswith(("ws-", "wsb-", "wsi-")):
        return "WorkSpaces"
    if target.startswith("d-"):
        return "Directory"
    return None


def short_id(value: str) -> str:
    """A readable short form of an id or ARN: ``key/1234abcd``, ``alias/aws/workspaces``."""
    if value.startswith("arn:aws:kms:"):
        resource = value.split(":", 5)[-1]
        if resource.startswith("key/"):
            return "key/" + resource[4:12]
        return resource
    if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
        return "key/" + value[:8]
    if value.startswith("arn:aws:iam::") or value.startswith("arn:aws:sts::"):
        return _participant_of_arn(value)
    if re.fullmatch(r"[0-9a-f]{64}", value):  # grant ids
        return value[:8] + "..."
    return value


#: What KMS hands back, for the reply of the calls that matter to the story.
REPLIES: dict[str, str] = {
    "GenerateDataKeyWithoutPlaintext": "encrypted data key only",
    "GenerateDataKey": "plaintext and encrypted data key",
    "Decrypt": "plaintext data key",
    "Encrypt": "ciphertext",
    "ReEncrypt": "data key re-encrypted",
}

#: The guide's steps that are KMS answering (4, 6), and the step of the request they answer.
REPLY_STEPS: dict[int, int] = {4: 3, 6: 5}

#: The device WorkSpaces attaches a root volume as (the EC2 root device name); others are
#: the user volume.
ROOT_DEVICE = "/dev/sda1"


@dataclass(frozen=True)
class Line:
    """One thing said in a run: a ``"call"`` from ``caller`` to ``callee``, KMS's ``"reply"``
    to it, or a service's own work (``"self"``, caller and callee the same).

    ``step`` is the guide's step the line belongs to (None outside an encrypted lifecycle).
    A call with ``replied`` has its outcome on the reply line that follows it.
    """

    event: TraceEvent
    kind: str
    caller: str
    callee: str
    step: int | None
    replied: bool = False

    @property
    def reply_text(self) -> str:
        """What KMS returned, in words (for reply lines and diagram reply arrows)."""
        if self.event.outcome != "ok":
            return "refused"
        return REPLIES.get(_op(self.event.action), "done")


class Conversation:
    """Reads a run's trace events in order and says who said what to whom, in which step.

    One reader for narration and diagrams, so both tell a run the same way:

    - a service's note of a KMS call that KMS itself just recorded is said once;
    - KMS's answer in steps 4 and 6 is a reply from KMS to EBS (the request is step 3 or 5);
    - step labels follow what happened: step 9 only while a WorkSpace is terminating (a
      rebuild also deletes volumes and retires grants, but that is not step 9), and none for
      an unencrypted WorkSpace or volume (the nine steps are the encrypted launch).
    """

    def __init__(self) -> None:
        self._previous: TraceEvent | None = None
        self._announced: TraceEvent | None = None
        self._terminating: set[str] = set()
        self._plain_workspaces: set[str] = set()
        self._plain_volumes: set[str] = set()

    def read(self, event: TraceEvent) -> list[Line]:
        """The lines ``event`` adds to the conversation (none for an echo)."""
        self._track(event)
        echo = is_echo(self._previous, event)
        self._previous = event
        if echo:
            return []
        step = self._step(event)
        caller, callee = caller_of(event), callee_of(event)
        announced, self._announced = self._announced, None
        if announced is not None and _answers(announced, event):
            return [Line(event, "reply", "KMS", caller_of(announced), step)]
        if _is_own_kms_call(event):
            self._announced = event
            return [Line(event, "call", caller, callee, step, replied=event.outcome == "ok")]
        if caller == callee:
            return [Line(event, "self", caller, callee, step)]
        if (step in REPLY_STEPS and participant_of(event.actor) == "KMS"
                and _op(event.action) in REPLIES):
            return [Line(event, "call", caller, callee, REPLY_STEPS[step], replied=True),
                    Line(event, "reply", callee, caller, step)]
        return [Line(event, "call", caller, callee, step)]

    def skip(self, event: TraceEvent) -> None:
        """Take note of ``event`` without saying it (what a quiet stretch needs, cheaply)."""
        self._track(event)
        self._previous, self._announced = event, None

    def _track(self, event: TraceEvent) -> None:
        ws, detail = event.workspace_id, event.detail
        if event.action == "CreateWorkspaces" and ws and not (
                detail.get("root_volume_encryption_enabled")
                or detail.get("user_volume_encryption_enabled")):
            self._plain_workspaces.add(ws)
        elif event.action == "CreateVolume" and detail.get("encrypted") is False:
            self._plain_volumes.add(event.target)
        elif event.action == "TerminateWorkspaces" and ws:
            self._terminating.add(ws)
        elif event.action == "StateChange" and ws:
            if detail.get("new_state") == "TERMINATING":
                self._terminating.add(ws)
            elif detail.get("old_state") == "TERMINATING":
                self._terminating.discard(ws)

    def _step(self, event: TraceEvent) -> int | None:
        step = event.step
        if step is None:
            return None
        if event.workspace_id in self._plain_workspaces or event.target in self._plain_volumes:
            return None
        if step == 9 and event.workspace_id not in self._terminating:
            return None
        return step


def _answers(request: TraceEvent, event: TraceEvent) -> bool:
    """``event`` is KMS's record of the call that ``request`` (the caller's note) announced."""
    return (participant_of(event.actor) == "KMS" and event.action == request.action
            and event.workspace_id == request.workspace_id)
