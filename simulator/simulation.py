"""The composition root: one ``Simulation`` of one or many accounts and Regions.

Its services (``sim.kms`` and the like) are its own account's in its own Region; ``sim.view``
gives any other account's and Region's (:mod:`simulator.cells` wires each).

No module globals: two simulations never share anything. ``Simulation(seed=N)`` replays a run
byte for byte (ids, data keys, nonces, times); ``Simulation()`` draws from the OS.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from .cells import Cell, Cells, PrincipalView, check_account_id, check_region
from .clock import DEFAULT_EPOCH, Clock
from .crypto.volume import VOLUME_CIPHERS
from .errors import ValidationException
from .iam.principals import Caller
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
    """One simulated cloud: IAM, STS, KMS, EBS, Directory Service, WorkSpaces of one account in
    one Region (``sim.kms`` and the like), and of any other account and Region through
    :meth:`view`.

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
        self.audit = self.runtime.trail
        self.root = Caller.root(account_id)

        self.trail = self.runtime.trail
        #: The directory of account/Region cells; the default cell is this simulation's own.
        self.cells = Cells(self.runtime)
        cell = self.cells.cell(account_id, region)
        self.iam = cell.iam
        self._kms_state = cell.kms_state
        self.kms = cell.kms
        self._sts_state = cell.sts_state
        self.sts = cell.sts
        self._ebs_state = cell.ebs_state
        self.ebs = cell.ebs
        self._directory_state = cell.directory_state
        self.directory = cell.directory
        self._workspaces_state = cell.workspaces_state
        self.workspaces = cell.workspaces
        self.faults = cell.faults

    def view(self, account_id: str | None = None, region: str | None = None) -> Cell:
        """The services of another account and/or Region, made on first use: ``.iam`` and
        ``.sts`` (the account's: they are global), ``.kms``, ``.ebs``, ``.directory``,
        ``.workspaces``, ``.faults``, ``.audit`` (that account's trail in that Region),
        ``.root`` and ``.as_principal(arn)``. All share this simulation's clock, entropy, trace
        and trail.

        ``account_id``: 12 digits (default: this simulation's); ``region``: a Region of the
        ``aws`` partition (:mod:`simulator.regions`; default: this simulation's).
        """
        acct = self.account_id if account_id is None else check_account_id(account_id)
        reg = self.region if region is None else region
        if reg != self.region:
            check_region(reg)
        with self.runtime.lock:
            return self.cells.cell(acct, reg)

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
        return self.cells.cell(self.account_id, self.region).as_principal(arn)
