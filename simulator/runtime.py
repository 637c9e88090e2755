"""What every service of one simulation shares: clock, entropy, ids, trace, audit, hooks, settings."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .audit import AuditTrail
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
    #: grants keep working, until this many virtual seconds have passed.
    grant_propagation_seconds: float = 0.0
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
    #: How long a TERMINATED WorkSpace stays visible in DescribeWorkspaces.
    terminated_visible_seconds: float = 60 * 60
    #: WorkSpaces snapshots user volumes this often (AWS: every 12 hours).
    snapshot_interval_hours: float = 12.0
    #: EBS volume state changes (creating -> available and the like).
    volume_create_seconds: float = 5.0
    snapshot_seconds: float = 60.0
    #: Retries of retryable KMS errors by EBS and WorkSpaces (with exponential backoff).
    max_retries: int = 4
    retry_base_seconds: float = 1.0
    extra: dict[str, object] = field(default_factory=dict)


class Runtime:
    """The shared leaves of one simulation; services receive this, never module globals.

    ``lock`` is the simulation's re-entrant lock: every service operation holds it for the whole
    call (``simulator.boundary``), and so does running the virtual clock.
    """

    def __init__(self, settings: Settings, seed: int | None, clock: Clock) -> None:
        self.lock = threading.RLock()
        self.settings = settings
        self.clock = clock
        self.entropy = Entropy(seed)
        self.ids = Ids(self.entropy)
        self.trace = Trace(clock)
        self.audit = AuditTrail(clock, self.ids, settings.account_id, settings.region)
        self.hooks = Hooks()

    @property
    def account_id(self) -> str:
        return self.settings.account_id

    @property
    def region(self) -> str:
        return self.settings.region
