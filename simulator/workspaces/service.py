"""Amazon WorkSpaces: encrypted launch, reboot, rebuild, stop/start and terminate.

WorkSpaces never encrypts anything itself (seed, "WorkSpaces encryption context"): it creates
the step-1 grant and drives EBS, which does the KMS calls of steps 2-8. When the work happens:

* **At CreateWorkspaces** each item is validated completely (IAM ``workspaces:CreateWorkspaces``,
  directory, user, bundle, properties, one WorkSpace per user and directory, a key when
  encryption is asked) and then **step 1 runs synchronously**: the caller, through WorkSpaces,
  resolves an alias with DescribeKey (CreateGrant takes no aliases; ``alias/aws/workspaces``
  gets its AWS managed key this way) and calls CreateGrant for the WorkSpaces identity. KMS
  decides: an unknown, disabled, pending-deletion, asymmetric or unauthorised key fails that
  item alone, with the KMS error in ``error_code``/``error_message`` and nothing created. A
  *retryable* KMS error does not fail the item: the WorkSpace is PENDING and step 1 is retried
  on the clock.
* **Provisioning** starts on the clock right away: EBS creates the volumes (steps 2-4 and 8,
  called as the WorkSpaces identity with the step-1 grant's token); after the provisioning time
  (``encrypted_root_provisioning_seconds`` with root-volume encryption) EBS attaches them
  (steps 5-7; WorkSpaces polls each attachment until EBS reports it ``attached``) and the
  WorkSpace is AVAILABLE. A failure here (a key disabled meanwhile, retries
  of a retryable error exhausted) leaves the WorkSpace in ERROR.
* **Reboot / start** detach (EBS drops the plaintext keys) and attach again (steps 5-7);
  **rebuild** makes new volumes (root from the bundle image, user from the latest 12-hourly
  snapshot) and swaps them in only once they are attached; **terminate** detaches and deletes
  the volumes and retires the grants (step 9).

A running WorkSpace keeps working when its key becomes unusable (EBS holds the key in memory);
the next reboot, rebuild or start fails and leaves it UNHEALTHY (see
:mod:`simulator.workspaces.lifecycle` for why UNHEALTHY) with the KMS error named. Making the
key usable again and rebooting brings it back with all its data (a failed rebuild keeps the old
volumes, so a reboot also recovers everything; a successful rebuild restores the user volume to
its last snapshot).

Authorization: ``workspaces:CreateWorkspaces`` is checked per item (a denied item fails alone,
like the other per-item causes); every other operation is checked for all the WorkSpaces it
names before anything happens, and a denial is an ``AccessDeniedException`` for the whole call.
"""

from __future__ import annotations

from ..boundary import operation_boundary
from .create import KEY_NOT_AVAILABLE_MESSAGE, KEY_NOT_FOUND_MESSAGE, CreateDescribeOps
from .images import ImageOps
from .power import PowerOps
from .properties import PropertiesOps
from .records import WorkSpacesState
from .terminate import TerminateOps

__all__ = [
    "KEY_NOT_AVAILABLE_MESSAGE",
    "KEY_NOT_FOUND_MESSAGE",
    "WorkSpacesService",
    "WorkSpacesState",
]


@operation_boundary(lambda ws: ws._rt.lock)
class WorkSpacesService(CreateDescribeOps, PowerOps, TerminateOps, PropertiesOps, ImageOps):
    """Amazon WorkSpaces for one account and Region, as seen by one caller.

    ``kms`` and ``ebs`` are the KMS and EBS service views (any caller: WorkSpaces makes its own
    views for the admin and for the WorkSpaces identity); ``iam`` decides who may call. Each
    operation family lives in its own module (:mod:`.create`, :mod:`.power`,
    :mod:`.terminate`, :mod:`.properties`, :mod:`.images`) on the shared :mod:`.core` and
    :mod:`.volumes` stages; this class composes them.
    """
