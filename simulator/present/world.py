"""The cast of the scenarios, narrated: Alice the WorkSpaces admin, her key, a directory, users.

The world is the testing kit's :class:`~simulator.testing.world.WorkspacesWorld`, built with the
same steps (the seed document's key policy making Alice the key's administrator and user and
letting her create grants for AWS resources, plus IAM policies giving her WorkSpaces and the
KMS calls WorkSpaces makes on her behalf). :class:`World` adds only the scenarios' telling of
it: a launch that narrates, reads that hand back the error to show it, and ``wait=True``
meaning "run until nothing is left to do".
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from ..errors import AwsError
from ..testing.world import (
    LaunchRefused,
    WorkspacesWorld,
    create_admin,
    create_directory,
    create_key,
)
from .narrate import Narrator
from .participants import short_id

__all__ = [
    "LaunchFailed",
    "World",
    "build_world",
]

#: The failure a refused launch raises: the kit's one failure type (the old name kept).
LaunchFailed = LaunchRefused


class World:
    """A :class:`WorkspacesWorld` told as a story; every attribute of the kit's world (``admin``,
    ``key_arn``, ``describe``, ``state``, ``grants``, ``context_of``...) reads through."""

    def __init__(self, world: WorkspacesWorld) -> None:
        self.world = world

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)

    @property
    def alice_arn(self) -> str:
        return str(self.world.admin_arn)

    def launch(
        self, out: Narrator | None, user_name: str, *, key: str | None = None,
        root: bool = True, user: bool = True, wait: bool = True,
    ) -> str:
        """Alice launches an encrypted WorkSpace for ``user_name``; returns its id.

        Raises :class:`LaunchFailed` (the kit's ``LaunchRefused``) if WorkSpaces refuses.
        """
        ws_id = self.world.launch(user_name, settle=False, key_arn=key, root=root, user=user)
        if out is not None and not out.is_brief("launch"):
            out.note(f"{user_name}'s WorkSpace {ws_id} is PENDING; provisioning runs in "
                     "virtual time")
        if wait:
            self.world.sim.run_until_idle()
        return ws_id

    def _change(self, operation: str, workspace_ids: tuple[str, ...],
                wait: bool | float) -> list[Any]:
        failed: list[Any] = getattr(self.world, operation)(
            *workspace_ids, settle=False if wait is True else wait)
        if wait is True:
            self.world.sim.run_until_idle()
        return failed

    def reboot(self, *workspace_ids: str, wait: bool | float = True) -> list[Any]:
        """Alice reboots WorkSpaces; returns the FailedRequests (wrong state, unknown id).

        ``wait``: True runs all scheduled work; a number advances that many virtual seconds
        (use it when other work is scheduled far ahead, such as a key deletion).
        """
        return self._change("reboot", workspace_ids, wait)

    def rebuild(self, *workspace_ids: str, wait: bool | float = True) -> list[Any]:
        """Alice rebuilds WorkSpaces (one per call, as the API wants)."""
        return self._change("rebuild", workspace_ids, wait)

    def terminate(self, *workspace_ids: str, wait: bool | float = True) -> list[Any]:
        """Alice terminates WorkSpaces."""
        return self._change("terminate", workspace_ids, wait)

    def read(self, workspace_id: str, length: int, offset: int = 0) -> bytes | AwsError:
        """Read back from the user volume, or the AWS error that prevents it (to narrate)."""
        try:
            return self.world.read(workspace_id, length, offset)
        except AwsError as exc:
            return exc


def build_world(
    sim: Any, out: Narrator, *, users: tuple[str, ...] = ("jdoe",),
    key_policy: str | None = None, iam_policies: bool = True,
    alias_name: str = "alias/workspaces-demo",
) -> World:
    """Create Alice, her key (seed key policy unless ``key_policy``), a directory and users,
    with the kit's building steps, saying what each is as it appears; when ``out`` keeps the
    cast brief (a later scenario), in one line and without its calls."""
    brief = out.is_brief("cast")
    out.section("The cast" + (" (as in 'launch')" if brief else ""))
    with out.quiet() if brief else nullcontext():
        alice_arn = create_admin(sim, "Alice", iam_policies=iam_policies)
        if not brief:
            out.say(f"Alice ({alice_arn}) administers WorkSpaces; her IAM policies allow "
                    "WorkSpaces and Directory Service, and kms:CreateGrant, Describe*, List*.")
        key = create_key(sim, admin_arn=alice_arn, key_policy=key_policy,
                         alias_name=alias_name, description="WorkSpaces volumes (customer managed)")
        if not brief:
            out.say(f"A customer managed KMS key {alias_name} ({key.arn}); its key policy makes "
                    "Alice its administrator and user, and lets her create grants only for AWS "
                    "resources (kms:GrantIsForAWSResource).")
        directory_id, sids = create_directory(sim, users)
    people = ", ".join(f"{n} ({s})" for n, s in list(sids.items())[:3]) + (
        " ..." if len(users) > 3 else "")
    if brief:
        out.say(f"Alice administers WorkSpaces; her key {alias_name} ({short_id(key.arn)}) "
                f"{'has the seed key policy' if key_policy is None else 'has its own policy'}; "
                f"directory corp.example.com ({directory_id})"
                + (f" with {people}." if users else "."))
    else:
        out.say(f"Directory corp.example.com ({directory_id}) with {len(users)} user(s): "
                f"{people}")
    bundle = sim.workspaces.describe_workspace_bundles().bundles[0]
    return World(WorkspacesWorld(
        sim=sim, directory_id=directory_id, key_arn=str(key.arn), bundle_id=str(bundle.bundle_id),
        users=list(users), key_id=str(key.key_id), sids=sids, admin_arn=alice_arn,
        alias_name=alias_name))
