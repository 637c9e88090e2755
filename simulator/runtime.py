"""What every service of one simulation shares: clock, entropy, ids, trace, audit, hooks, settings."""

from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass, field

from .access_keys import AccessKeyIndex
from .audit import AuditTrail, CellAudit
from .clock import Clock
from .entropy import Entropy
from .hooks import Hooks
from .ids import Ids
from .trace import Trace

__all__ = ["Runtime", "Settings"]


@dataclass
class Settings:
    """Simulation settings; passed as keywords to ``Simulation(...)``.

    Mutable on purpose: a fault may change ``grant_propagation_seconds`` mid-run.
    """

    account_id: str = "123456789012"
    region: str = "us-west-2"
    #: ``"xts"`` (what EBS does: AES-256-XTS, unauthenticated) or ``"gcm"`` (authenticated).
    volume_cipher: str = "xts"
    #: KMS grant eventual consistency: new grants need their token, and retired or revoked
    #: grants keep working, until this many virtual seconds have passed. The KMS guide (Grants
    #: in AWS KMS, "Eventual consistency"): a change is available "usually within five
    #: minutes"; 0 makes every grant change take effect at once.
    grant_propagation_seconds: float = 300.0
    #: AWS managed keys rotate yearly (KMS docs since 2022); the WorkSpaces guide says every
    #: three years (1095). Configurable because the sources disagree.
    aws_managed_rotation_days: int = 365
    #: On-demand rotations per key (current KMS docs: 25; older docs: 10).
    on_demand_rotation_limit: int = 25
    #: WorkSpaces provisioning time, and with root-volume encryption.
    provisioning_seconds: float = 20 * 60
    encrypted_root_provisioning_seconds: float = 60 * 60
    reboot_seconds: float = 5 * 60
    rebuild_seconds: float = 30 * 60
    stop_seconds: float = 3 * 60
    start_seconds: float = 3 * 60
    terminate_seconds: float = 5 * 60
    #: DescribeWorkspaces says nothing of a new WorkSpace for this long after CreateWorkspaces
    #: (the DescribeWorkspaces reference: the new id "is not immediately available").
    workspace_visible_after_seconds: float = 5.0
    #: How long a TERMINATED WorkSpace stays visible in DescribeWorkspaces: TerminateWorkspaces'
    #: reference says TERMINATED "is returned only briefly"; callers check that the id is gone.
    terminated_visible_seconds: float = 60
    #: WorkSpaces snapshots user volumes this often (AWS: every 12 hours).
    snapshot_interval_hours: float = 12.0
    #: EBS volume state changes (creating -> available and the like).
    volume_create_seconds: float = 5.0
    #: AttachVolume and DetachVolume return ``attaching`` / ``detaching``; the attachment
    #: reaches ``attached`` / is gone this many seconds later.
    volume_attach_seconds: float = 2.0
    snapshot_seconds: float = 60.0
    #: Retries of retryable KMS errors by EBS and WorkSpaces (with exponential backoff).
    max_retries: int = 4
    retry_base_seconds: float = 1.0
    extra: dict[str, object] = field(default_factory=dict)


class Runtime:
    """The shared leaves of one simulation; services receive this, never module globals.

    ``lock`` is the simulation's re-entrant lock: every service operation holds it for the whole
    call (``simulator.boundary``), and so does running the virtual clock.

    ``account_id`` and ``region`` say where the services holding this runtime live; a
    simulation of several accounts and Regions gives each of them :meth:`for_cell`'s runtime,
    which shares every leaf (one clock, one entropy, one trace, one audit trail, one index of
    access keys) but its hooks.
    """

    def __init__(self, settings: Settings, seed: int | None, clock: Clock) -> None:
        self.lock = threading.RLock()
        self.settings = settings
        self.clock = clock
        self.entropy = Entropy(seed)
        self.ids = Ids(self.entropy)
        self.trace = Trace(clock)
        #: The simulation's one trail (every account's and Region's records).
        self.trail = AuditTrail(clock, self.ids, settings.account_id, settings.region)
        #: Where this runtime's services record: the whole trail, or one cell's part of it.
        self.audit: AuditTrail | CellAudit = self.trail
        self.hooks = Hooks()
        #: Which account issued each access key id (every account's IAM and STS write it).
        self.access_keys = AccessKeyIndex()
        #: Numbers fault ids: shared by every cell, so an id names one fault of the simulation.
        self.fault_numbers = itertools.count(1)
        self.account_id = settings.account_id
        self.region = settings.region

    def for_cell(self, account_id: str, region: str) -> Runtime:
        """This runtime's leaves, for the services of ``account_id`` in ``region``."""
        cell = copy.copy(self)
        cell.account_id = account_id
        cell.region = region
        cell.audit = self.trail.for_cell(account_id, region)
        # Each cell has its own hooks: a fault plan installed through a cell's ``faults``
        # triggers on that account's calls in that Region only.
        cell.hooks = Hooks()
        return cell
