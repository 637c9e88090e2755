"""The composition root: one ``Simulation`` wires every service of one account and Region.

No module globals: two simulations never share anything. ``Simulation(seed=N)`` replays a run
byte for byte (ids, data keys, nonces, times); ``Simulation()`` draws from the OS.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from .clock import DEFAULT_EPOCH, Clock
from .crypto.volume import VOLUME_CIPHERS
from .errors import ValidationException
from .iam.principals import Caller
from .iam.service import IdentityAndAccessManagement
from .kms.service import KeyManagementService
from .kms.state import KmsState
from .runtime import Runtime, Settings
from .sts import Credentials

__all__ = ["PrincipalView", "Simulation"]


#: Settings whose zero would schedule work at the same instant forever.
_POSITIVE_SETTINGS = frozenset({"snapshot_interval_hours", "aws_managed_rotation_days"})


def _check_setting(name: str, value: Any) -> None:
    """A numeric setting gets a finite, non-negative number of its default's kind (ints stay
    ints), so a bad value fails here and not later inside a KMS or EBS call."""
    default = Settings.__dataclass_fields__[name].default
    if isinstance(default, bool) or not isinstance(default, int | float):
        return  # volume_cipher (checked above) and extra (free-form)
    integer = isinstance(default, int)
    number = isinstance(value, int) if integer else isinstance(value, int | float)
    if (isinstance(value, bool) or not number or not math.isfinite(value)
            or value < 0 or (value == 0 and name in _POSITIVE_SETTINGS)):
        what = "an integer" if integer else "a number"
        bound = "greater than 0" if name in _POSITIVE_SETTINGS else "0 or more"
        raise ValidationException(f"{name} must be {what}, {bound}; got {value!r}")


class Simulation:
    """One simulated AWS account in one Region: IAM, KMS, EBS, Directory Service, WorkSpaces.

    Settings (see :class:`~simulator.runtime.Settings`) are keywords:
    ``Simulation(seed=7, volume_cipher="gcm", grant_propagation_seconds=60)``.

    Thread-safe: every service operation (and block-device read or write) holds this
    simulation's re-entrant lock for the whole call, and so do :meth:`advance` and
    :meth:`run_until_idle`; calls from several threads run one at a time.
    """

    def __init__(
        self,
        seed: int | None = None,
        account_id: str = "123456789012",
        region: str = "us-west-2",
        *,
        start_time: datetime = DEFAULT_EPOCH,
        **settings: Any,
    ) -> None:
        # Python's random.Random(-5) is random.Random(5): a negative seed would silently replay
        # another run, so it is refused.
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValidationException(f"seed must be an integer, 0 or more, or None; got {seed!r}")
        if not (isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()):
            raise ValidationException("account_id must be 12 digits")
        if not isinstance(region, str) or not region:
            raise ValidationException("region must be a Region name such as 'us-west-2'")
        known = set(Settings.__dataclass_fields__) - {"account_id", "region"}
        unknown = set(settings) - known
        if unknown:
            raise ValidationException(
                f"Unknown Simulation setting(s) {sorted(unknown)}; known: {sorted(known)}")
        if settings.get("volume_cipher", "xts") not in VOLUME_CIPHERS:
            raise ValidationException("volume_cipher must be 'xts' or 'gcm'")
        for name, value in settings.items():
            _check_setting(name, value)
        if not isinstance(start_time, datetime) or start_time.tzinfo is None:
            raise ValidationException("start_time must be a timezone-aware datetime")
        self.seed = seed
        self.settings = Settings(account_id=account_id, region=region, **settings)
        self.clock = Clock(start_time)
        self.runtime = Runtime(self.settings, seed, self.clock)
        self.trace = self.runtime.trace
        self.audit = self.runtime.audit
        self.root = Caller.root(account_id)

        self.iam = IdentityAndAccessManagement(self.runtime)
        self._kms_state = KmsState(self.runtime, self.iam)
        self.kms = KeyManagementService(self._kms_state, self.root)
        self._wire_sts()
        self._wire_ebs()
        self._wire_workspaces()
        self._wire_faults()

    # Each service package wires itself here, so the composition stays in one place.

    def _wire_sts(self) -> None:
        from .sts import SecurityTokenService, StsState

        self._sts_state = StsState(self.runtime)
        self.sts = SecurityTokenService(self._sts_state, self.iam, self.root)

    def _wire_ebs(self) -> None:
        from .ebs.service import ElasticBlockStore
        from .ebs.state import EbsState

        self._ebs_state = EbsState(self.runtime)
        self.ebs = ElasticBlockStore(self._ebs_state, self.kms, self.root)

    def _wire_workspaces(self) -> None:
        from .workspaces.auth import IamAuthorizer
        from .workspaces.directory import DirectoryService, DirectoryState
        from .workspaces.service import WorkSpacesService, WorkSpacesState

        self._directory_state = DirectoryState(self.runtime)
        self.directory = DirectoryService(self._directory_state, self.root,
                                          IamAuthorizer(self.iam, self.clock.now))
        self._workspaces_state = WorkSpacesState(self.runtime, self._directory_state)
        self.workspaces = WorkSpacesService(self._workspaces_state, self.kms, self.ebs,
                                            self.iam, self.root)

    def _wire_faults(self) -> None:
        from .faults import FaultInjector

        self.faults = FaultInjector(self.runtime, self.kms, self.ebs, self.workspaces)

    @property
    def account_id(self) -> str:
        return self.settings.account_id

    @property
    def region(self) -> str:
        return self.settings.region

    def advance(self, seconds: float | timedelta) -> int:
        """Run the work due within the next ``seconds`` of virtual time (a number of seconds or
        a :class:`datetime.timedelta`); returns the number of scheduled calls run."""
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValidationException("advance() takes a number of seconds or a "
                                      f"datetime.timedelta, not {type(seconds).__name__}")
        # The upper bound keeps the virtual clock inside datetime's range (and rejects nan).
        limit = (datetime.max.replace(tzinfo=UTC) - self.clock.now()).total_seconds()
        if not 0 <= seconds <= limit:
            raise ValidationException(f"advance() needs 0 seconds or more, keeping the virtual "
                                      f"clock before the year 10000; got {seconds!r}")
        with self.runtime.lock:  # scheduled work calls services
            return self.clock.advance(seconds)

    def run_until_idle(self) -> int:
        """Run all scheduled work (provisioning, reboots, deletions), in time order."""
        with self.runtime.lock:
            return self.clock.run_until_idle()

    def as_principal(self, arn: str | Credentials) -> PrincipalView:
        """Views of the services that call as ``arn`` (a user, role, role session or the root),
        or as the session behind temporary credentials from ``sim.sts.assume_role``.

        The principal must exist first (``sim.iam.create_user`` / ``create_role``): an unknown
        ARN is refused, as AWS refuses credentials of a principal that does not exist; expired
        or unknown temporary credentials are STS's ``ExpiredToken`` / ``InvalidClientTokenId``."""
        if isinstance(arn, Credentials):
            return PrincipalView(self, self.sts.caller_for_session(
                access_key_id=arn.access_key_id, session_token=arn.session_token))
        return PrincipalView(self, self.iam.caller_for(arn))


class PrincipalView:
    """``sim.as_principal(arn)``: ``.kms``, ``.iam``, ``.sts``, ``.ebs``, ``.directory`` and
    ``.workspaces`` calling as one principal."""

    def __init__(self, sim: Simulation, caller: Caller) -> None:
        self.caller = caller
        self.kms = sim.kms.with_caller(caller)
        # Optional services attach their views here (see Simulation._wire_*).
        for name in ("iam", "sts", "ebs", "directory", "workspaces"):
            service = getattr(sim, name, None)
            if service is not None:
                setattr(self, name, service.with_caller(caller))
