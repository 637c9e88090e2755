"""The composition root: one ``Simulation`` of one or many accounts and Regions.

Its services (``sim.kms`` and the like) are its own account's in its own Region; ``sim.view``
gives any other account's and Region's (:mod:`simulator.cells` wires each).

No module globals: two simulations never share anything. ``Simulation(seed=N)`` replays a run
byte for byte (ids, data keys, nonces, times); ``Simulation()`` draws from the OS.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .boundary import is_operation
from .cells import Cell, Cells, PrincipalView, check_account_id, check_region
from .clock import DEFAULT_EPOCH, Clock
from .crypto.volume import VOLUME_CIPHERS
from .errors import AwsError, ValidationException
from .iam.principals import Caller
from .persist import Journal, StateFile, open_state
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

    ``state="path.db"`` keeps the simulation in that file (:mod:`simulator.persist`): every
    call is saved before it returns, and a later ``Simulation(state="path.db")`` reopens it
    with its saved seed and settings; :meth:`close` commits and releases the file.

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
        state: str | os.PathLike[str] | None = None,
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
        self._journal: Journal | None = None
        file: StateFile | None = None
        if state is not None:
            file, seed, account_id, region, start_time, settings = open_state(
                state, seed, account_id, region, start_time, settings)
        self.seed = seed
        self.settings = Settings(account_id=account_id, region=region, **settings)
        self.clock = Clock(start_time)
        self.runtime = Runtime(self.settings, seed, self.clock)
        self.trace = self.runtime.trace
        self.audit = self.runtime.trail
        self.root = Caller.root(account_id)
        journal = None if file is None else Journal(file)
        if journal is not None:
            # The journal is the lock from the start, so every cell's runtime (a copy) and
            # every view made from here on shares it; it saves nothing until bound.
            self.runtime.lock = journal  # type: ignore[assignment]

        self.trail = self.runtime.trail
        #: The directory of account/Region cells; the default cell is this simulation's own.
        self.cells = Cells(self.runtime)
        try:
            cell = self.cells.cell(account_id, region)
        except BaseException:
            if file is not None:
                file.abandon()
            raise
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
        if journal is not None:
            self._attach_state(journal)

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
        journal = self._journal
        if journal is None:
            with self.runtime.lock:
                return self.cells.cell(acct, reg)

        # With a state file the view is saved: a new cell draws from the shared entropy, so
        # replay must make it at the same point.
        def invoke(sim: Simulation, a: tuple[Any, ...], k: dict[str, Any]) -> Cell:
            return sim.cells.cell(*a)

        made: Cell = journal.run(invoke, self, "view", (acct, reg), {})
        return made

    def _attach_state(self, journal: Journal) -> None:
        """Bind the journal (this simulation's lock) to the services, replay the file, and
        recover the attachments a restart lost."""
        from .ebs.service import BlockDevice

        default = self.cells.cell(self.account_id, self.region)
        # The services a call can reach (the public attributes of a cell wearing the
        # operation boundary), found rather than listed, so a new service is saved too.
        kinds = ["tamper"] + [name for name, value in vars(default).items()
                              if not name.startswith("_") and any(
                                  is_operation(v) for v in vars(type(value)).values())]

        def service(where: Any, kind: str) -> Any:
            if kind == "sim":
                return self
            return where.ebs.tamper if kind == "tamper" else getattr(where, kind)

        names: dict[type, str] = {Simulation: "sim", BlockDevice: "device"}
        # A service's view for another caller may be another class (IAM's IamAsCaller).
        probe = Caller(arn=f"arn:aws:iam::{self.account_id}:user/probe",
                       account_id=self.account_id, type="IAMUser")
        for kind in kinds:
            found = service(default, kind)
            names[type(found)] = kind
            if hasattr(found, "with_caller"):
                names.setdefault(type(found.with_caller(probe)), kind)
        views: dict[tuple[str, Any, Any], Any] = {}

        def resolve(kind: str, caller: Any, where: tuple[str, str] | None) -> Any:
            view = views.get((kind, caller, where))
            if view is None:
                cell = default if where is None else self.cells.cell(*where)
                view = service(cell, kind)
                if caller is not None:
                    view = view.with_caller(caller)
                views[kind, caller, where] = view
            return view

        def locate(target: Any) -> tuple[str, str] | None:
            """The (account, Region) of the cell a service object belongs to (None: the
            simulation's own), found by the cell's objects the service holds."""
            if target is self or len(self.cells) == 1:
                return None
            near = list(getattr(target, "__dict__", {}).values())
            far = [w for v in near for w in getattr(v, "__dict__", {}).values()]
            # The target itself, then what it holds (a view's state), then what that holds (a
            # block device's or tamper seam's service view): the nearest match decides.
            for held in ({id(target)}, {id(v) for v in near}, {id(w) for w in far}):
                for cell in self.cells:
                    if held & {id(v) for v in vars(cell).values()}:
                        where = (cell.account_id, cell.region)
                        return None if where == (self.account_id, self.region) else where
            return None

        def volume(volume_id: str) -> Any:
            for cell in self.cells:
                found = cell.ebs_state.volumes.get(volume_id)
                if found is not None:
                    return found
            raise KeyError(volume_id)

        journal.bind(names=names, resolve=resolve, locate=locate, volume=volume,
                     draw=self.runtime.entropy.token_bytes, default_caller=self.root)
        try:
            journal.replay()
            self._journal = journal
            # The process that held the attachments is gone, and their plaintext data keys
            # with it: a restart is a host recovery (saved like any call, so replays redo it).
            if any(v.attachment is not None for cell in self.cells
                   for v in cell.ebs_state.volumes.values()):
                self.recover_attachments()
        except BaseException:
            self._journal = None
            journal.abandon()
            raise
        self._finalizer: weakref.finalize[Any, Any] | None = weakref.finalize(self, journal.close)

    def recover_attachments(self) -> int:
        """A host recovery: every attached volume (of every account and Region) loses its
        plaintext data key (the host holding it restarted) and is attached again to the same
        instance and device, which decrypts its data key through KMS. As after any
        AttachVolume, the device is usable once that attach completes, ``volume_attach_seconds``
        later on the virtual clock (``sim.advance``). A key disabled, pending deletion or a
        grant revoked meanwhile fails that attach, and the volume stays detached (the trace
        says why). Reopening a state file does this. Returns how many volumes were attached
        again."""
        return self._clocked("recover_attachments")

    def _recover(self) -> int:
        recovered = 0
        for cell in self.cells:
            # A detaching volume's key is already wiped and its detach completes on the clock;
            # an attaching or attached one loses its host and is attached again, which is
            # ``attaching`` until ``volume_attach_seconds`` later, as any attach.
            attached = [(v.volume_id, v.attachment.instance_id, v.attachment.device)
                        for v in cell.ebs_state.volumes.values()
                        if v.attachment is not None and v.attachment.state != "detaching"]
            for volume_id, instance_id, device in attached:
                self.trace.record("EBS", "HostRecovery", volume_id, instance_id=instance_id)
                cell.ebs.tamper.fail_host(volume_id)
                try:
                    cell.ebs.attach_volume(volume_id=volume_id, instance_id=instance_id,
                                           device=device)
                    recovered += 1
                except AwsError as err:
                    self.trace.record("EBS", "HostRecovery", volume_id, outcome=err.code,
                                      instance_id=instance_id, cause=err.message)
        return recovered

    @property
    def state_file(self) -> str | None:
        """The state file's path, or None for a simulation held in memory only."""
        return None if self._journal is None else self._journal.path

    def close(self) -> None:
        """Commit pending block writes and close the state file (nothing to do in memory).
        The simulation takes no more calls afterwards."""
        if self._journal is not None:
            self._journal.close()
            if self._finalizer is not None:
                self._finalizer.detach()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        return self._clocked("advance", seconds)

    def run_until_idle(self) -> int:
        """Run all scheduled work (provisioning, reboots, deletions), in time order."""
        return self._clocked("run_until_idle")

    def _clocked(self, name: str, *args: float) -> int:
        """Run the clock (or a host recovery) under the simulation's lock, as scheduled work
        calls services; with a state file, the journal saves the call."""
        run: Callable[..., int] = (self._recover if name == "recover_attachments"
                                   else getattr(self.clock, name))
        journal = self._journal
        if journal is None:
            with self.runtime.lock:
                return run(*args)

        def invoke(sim: Simulation, a: tuple[Any, ...], k: dict[str, Any]) -> int:
            return run(*a)

        result: int = journal.run(invoke, self, name, args, {})
        return result

    def as_principal(self, arn: str | Credentials) -> PrincipalView:
        """Views of the services that call as ``arn`` (a user, role, role session or the root),
        or as the session behind temporary credentials from ``sim.sts.assume_role``.

        The principal must exist first (``sim.iam.create_user`` / ``create_role``): an unknown
        ARN is refused, as AWS refuses credentials of a principal that does not exist; expired
        or unknown temporary credentials are STS's ``ExpiredToken`` / ``InvalidClientTokenId``."""
        return self.cells.cell(self.account_id, self.region).as_principal(arn)
