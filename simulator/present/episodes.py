"""Episodes: a WorkSpace's launch, reboot, rebuild or terminate, told in one line.

The first scenarios show these call by call; later scenarios repeat them only as the backdrop
of something else. A narrator told to keep an episode kind brief collects the episode's trace
events and, when the WorkSpace leaves the episode's state, prints one line saying what
happened (volumes, grants, data keys, the state reached), counted from the events themselves.
Failures and injected faults inside an episode are still printed in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..trace import TraceEvent
from .participants import ROOT_DEVICE, Line, error_code_of, participant_of, short_id

__all__ = ["EPISODE_KINDS", "TAUGHT_IN", "Episode", "episode_start"]

#: Episode kinds, and the WorkSpace state each lasts for.
EPISODE_KINDS: dict[str, str] = {
    "launch": "PENDING",
    "reboot": "REBOOTING",
    "rebuild": "REBUILDING",
    "terminate": "TERMINATING",
}
#: The scenario that shows each episode kind call by call.
TAUGHT_IN: dict[str, str] = {
    "launch": "launch", "terminate": "launch", "reboot": "reboot-rebuild",
    "rebuild": "reboot-rebuild",
}
_BY_STATE = {state: kind for kind, state in EPISODE_KINDS.items()}


def episode_start(event: TraceEvent) -> str | None:
    """The kind of episode ``event`` starts, if it starts one."""
    if not event.workspace_id or event.outcome != "ok":
        return None
    if event.action == "CreateWorkspaces":
        return "launch"
    if event.action == "StateChange":
        return _BY_STATE.get(str(event.detail.get("new_state")))
    return None


@dataclass
class Episode:
    """The events of one episode of one WorkSpace, collected until it ends."""

    kind: str
    workspace_id: str
    start: TraceEvent
    events: list[TraceEvent] = field(default_factory=list)
    steps: set[int] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)
    failure_shown: bool = False
    first_error: str = ""

    def owns(self, event: TraceEvent) -> bool:
        """True when ``event`` belongs to this episode."""
        if event.workspace_id is not None:
            return event.workspace_id == self.workspace_id
        return event.target in self.resources

    def add(self, event: TraceEvent, lines: list[Line]) -> None:
        """Collect ``event`` (read as ``lines``)."""
        self.events.append(event)
        self.steps.update(line.step for line in lines if line.step is not None)
        if event.action in ("CreateVolume", "CreateSnapshot"):
            self.resources.add(event.target)
        if event.outcome != "ok" and not self.first_error:
            self.first_error = error_code_of(event)

    def ends_with(self, event: TraceEvent) -> bool:
        """True when ``event`` is the WorkSpace leaving the episode's state."""
        return (event.action == "StateChange" and event.workspace_id == self.workspace_id
                and event.detail.get("old_state") == EPISODE_KINDS[self.kind])

    # -- the one line ----------------------------------------------------------------------

    def _grants(self) -> str:
        made = [short_id(str(e.detail["grant_id"])) for e in self.events
                if participant_of(e.actor) == "KMS" and e.action == "CreateGrant"
                and e.outcome == "ok" and "grant_id" in e.detail]
        return (_count(len(made), "grant") + (f" ({', '.join(made)})" if made else ""))

    def _kms(self, action: str) -> int:
        return sum(1 for e in self.events if participant_of(e.actor) == "KMS"
                   and e.action == action and e.outcome == "ok")

    def _ebs(self, action: str) -> list[TraceEvent]:
        return [e for e in self.events if participant_of(e.actor) == "EBS"
                and e.action == action and e.outcome == "ok"]

    def _volumes(self) -> str:
        devices = {e.target: e.detail.get("device") for e in self._ebs("AttachVolume")}
        named = []
        for n, e in enumerate(self._ebs("CreateVolume")):
            device = devices.get(e.target)
            root = device == ROOT_DEVICE if device else n == 0  # WorkSpaces makes root first
            kind = "root" if root else "user"
            text = f"{kind} {e.target}"
            snapshot = e.detail.get("snapshot_id")
            if snapshot:
                text += f" from {snapshot}"
            named.append(text)
        return ", ".join(named) or "no volumes"

    def _state(self) -> str:
        end = self.events[-1] if self.events else self.start
        state = end.detail.get("new_state") if end.action == "StateChange" else None
        if not isinstance(state, str):
            return "still in progress"
        return state + (f" ({self.first_error})" if self.first_error
                        and state not in ("AVAILABLE", "TERMINATED") else "")

    def summary(self) -> str:
        """The episode in one line."""
        ws, taught = self.workspace_id, f"as in '{TAUGHT_IN[self.kind]}'"
        made = self._kms("GenerateDataKeyWithoutPlaintext")
        decrypted, retired = self._kms("Decrypt"), self._kms("RetireGrant")
        steps = f"steps {min(self.steps)}-{max(self.steps)}" if self.steps else "no steps"
        if self.kind == "launch":
            user = self.start.detail.get("user_name", "?")
            if not self.steps:
                return (f"{ws} for {user} launched unencrypted: {self._volumes()}; no grants, "
                        f"no data keys -> {self._state()}")
            key = short_id(str(self.start.detail.get("volume_encryption_key", "?")))
            return (f"{ws} for {user} launched under {key} {taught}, {steps}: "
                    f"{self._volumes()}; {self._grants()}, "
                    f"{_count(made, 'data key')} made, {decrypted} decrypted -> {self._state()}")
        if self.kind == "reboot":
            detached = len(self._ebs("DetachVolume"))
            attaches = len({e.target for e in self.events if e.action == "AttachVolume"})
            wiped = f"{detached} volumes detached (keys wiped from memory), " if detached else ""
            keys = (f"steps 5-7 again: {decrypted} of {attaches} data keys decrypted"
                    if self.steps else f"{attaches} unencrypted volumes attached")
            return f"{ws} rebooted {taught}: {wiped}{keys} -> {self._state()}"
        if self.kind == "rebuild":
            old = len(self._ebs("DeleteVolume"))
            return (f"{ws} rebuilt {taught}: new volumes {self._volumes()}, "
                    f"{self._grants()}; {_count(made, 'data key')} made, "
                    f"{self._kms('ReEncrypt')} re-encrypted from the snapshot; "
                    f"{_count(old, 'old volume')} deleted, {_count(retired, 'grant')} "
                    f"retired -> {self._state()}")
        deleted = (f"{_count(len(self._ebs('DeleteVolume')), 'volume')} and "
                   f"{_count(len(self._ebs('DeleteSnapshot')), 'snapshot')} deleted")
        if not retired and not self.steps:
            return f"{ws} terminated: {deleted}, no grants to retire -> {self._state()}"
        return (f"{ws} terminated {taught} (step 9): {deleted}, "
                f"{_count(retired, 'grant')} retired -> {self._state()}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
