"""The simulation's cells: one per account and Region, each with its own services.

A :class:`Cell` is one account in one Region: KMS, EBS, Directory Service and WorkSpaces of
that account there, and the account's IAM and STS (global: one per account, shared by the
account's cells). :class:`Cells` is the directory of them, owned by the ``Simulation``; every
cell shares the simulation's clock, entropy, ids, trace, audit trail and lock
(:meth:`~simulator.runtime.Runtime.for_cell`), so one seed replays every account and Region.

KMS receives the directory through its :class:`~simulator.kms.seams.KmsDirectory` Protocol
(another account's key used by ARN, a blob of another account's key, multi-Region replicas);
EBS through :class:`~simulator.ebs.seams.EbsRegions` (a snapshot copied from another Region).
Every lookup is a dict lookup: no call scans accounts or Regions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .audit import CellAudit
from .errors import ValidationException
from .iam.principals import Caller
from .iam.service import IdentityAndAccessManagement
from .kms.service import KeyManagementService
from .kms.state import KmsState
from .regions import known_regions, regions_source
from .runtime import Runtime
from .sts import Credentials, SecurityTokenService, StsState

if TYPE_CHECKING:
    from .ebs.service import ElasticBlockStore
    from .ebs.state import EbsState
    from .faults import FaultInjector
    from .workspaces.directory import DirectoryService, DirectoryState
    from .workspaces.service import WorkSpacesService, WorkSpacesState

__all__ = ["Cell", "Cells", "check_account_id", "check_region"]


def check_account_id(account_id: object) -> str:
    """A 12-digit account id, or ValidationException."""
    if not (isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()
            and account_id.isascii()):
        raise ValidationException(f"account_id must be 12 digits; got {account_id!r}")
    return account_id


def check_region(region: object) -> str:
    """A Region of the ``aws`` partition (:mod:`simulator.regions`), or ValidationException."""
    if not isinstance(region, str) or region not in known_regions():
        raise ValidationException(
            f"region must be a Region of the aws partition (from {regions_source()} data), "
            f"such as 'us-west-2'; got {region!r}")
    return region


class Cell:
    """One account in one Region: ``iam``, ``sts``, ``kms``, ``ebs``, ``directory``,
    ``workspaces``, ``faults``, ``audit`` (this account's trail in this Region), ``root`` and
    :meth:`as_principal`, as on the ``Simulation`` itself."""

    def __init__(self, runtime: Runtime, iam: IdentityAndAccessManagement, sts_state: StsState,
                 cells: Cells) -> None:
        from .ebs.service import ElasticBlockStore
        from .ebs.state import EbsState
        from .faults import FaultInjector
        from .workspaces.auth import IamAuthorizer
        from .workspaces.directory import DirectoryService, DirectoryState
        from .workspaces.service import WorkSpacesService, WorkSpacesState

        self.runtime = runtime
        self.account_id = runtime.account_id
        self.region = runtime.region
        self.root = Caller.root(runtime.account_id)
        self.iam = iam
        self.audit: CellAudit = runtime.trail.for_cell(runtime.account_id, runtime.region)
        self.kms_state = KmsState(runtime, iam, cells)
        self.kms = KeyManagementService(self.kms_state, self.root)
        self.sts_state = sts_state
        self.sts = SecurityTokenService(sts_state, iam, self.root)
        self.ebs_state: EbsState = EbsState(runtime, iam)
        self.ebs: ElasticBlockStore = ElasticBlockStore(self.ebs_state, self.kms, self.root,
                                                        regions=cells.ebs_regions(self))
        self.directory_state: DirectoryState = DirectoryState(runtime)
        self.directory: DirectoryService = DirectoryService(
            self.directory_state, self.root, IamAuthorizer(iam, runtime.clock.now))
        self.workspaces_state: WorkSpacesState = WorkSpacesState(runtime, self.directory_state)
        self.workspaces: WorkSpacesService = WorkSpacesService(
            self.workspaces_state, self.kms, self.ebs, iam, self.root)
        self.faults: FaultInjector = FaultInjector(runtime, self.kms, self.ebs, self.workspaces,
                                                   cells.faults_in)

    def as_principal(self, arn: str | Credentials) -> PrincipalView:
        """Views of this cell's services calling as ``arn`` (a principal of this account), or
        as the session behind temporary credentials from this account's ``sts.assume_role``."""
        if isinstance(arn, Credentials):
            return PrincipalView(self, self.sts.caller_for_session(
                access_key_id=arn.access_key_id, session_token=arn.session_token))
        return PrincipalView(self, self.iam.caller_for(arn))

    def __repr__(self) -> str:
        return f"<Cell account {self.account_id} in {self.region}>"


class PrincipalView:
    """``sim.as_principal(arn)``: ``.kms``, ``.iam``, ``.sts``, ``.ebs``, ``.directory`` and
    ``.workspaces`` calling as one principal."""

    def __init__(self, services: Any, caller: Caller) -> None:
        self.caller = caller
        self.kms = services.kms.with_caller(caller)
        for name in ("iam", "sts", "ebs", "directory", "workspaces"):
            service = getattr(services, name, None)
            if service is not None:
                setattr(self, name, service.with_caller(caller))


class Cells:
    """The directory of a simulation's cells, by (account, Region); made on first use."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._cells: dict[tuple[str, str], Cell] = {}
        self._iam: dict[str, IdentityAndAccessManagement] = {}
        self._sts: dict[str, StsState] = {}
        self._key_homes: dict[tuple[str, str], KmsState] = {}
        #: Each account's first cell: it holds the account's IAM and STS (global services).
        self._homes: dict[str, Cell] = {}

    def cell(self, account_id: str, region: str) -> Cell:
        """The cell of ``account_id`` in ``region``, made (with its account's IAM) if new."""
        found = self._cells.get((account_id, region))
        if found is not None:
            return found
        base = self._runtime
        rt = base if (account_id, region) == (base.account_id, base.region) else \
            base.for_cell(account_id, region)
        iam = self._iam.get(account_id)
        if iam is None:
            account_rt = rt if account_id == base.account_id else base.for_cell(account_id, region)
            iam = self._iam[account_id] = IdentityAndAccessManagement(account_rt)
            self._sts[account_id] = StsState(account_rt)
        made = self._cells[(account_id, region)] = Cell(rt, iam, self._sts[account_id], self)
        self._homes.setdefault(account_id, made)
        return made

    def home(self, account_id: str) -> Cell | None:
        """A cell of ``account_id`` (its first), for its global services (IAM, STS), if the
        account was ever used; no cell is made."""
        return self._homes.get(account_id)

    def faults_in(self, account_id: str, region: str) -> FaultInjector:
        """The fault injector of that account and Region (checked; made on first use)."""
        check_account_id(account_id)
        if region != self._runtime.region:
            check_region(region)
        return self.cell(account_id, region).faults

    def find(self, account_id: str, region: str) -> Cell | None:
        """The cell, if it was ever used."""
        return self._cells.get((account_id, region))

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Any:
        return iter(list(self._cells.values()))

    def account_of_access_key(self, access_key_id: str) -> str | None:
        """The account whose IAM or STS issued an access key (None: none did), for a wire layer
        routing a request by its credentials: one lookup in the index IAM and STS keep as
        they issue and forget keys (:class:`~simulator.access_keys.AccessKeyIndex`), whatever
        the number of accounts."""
        return self._runtime.access_keys.account_of(access_key_id)

    # --- simulator.kms.seams.KmsDirectory ----------------------------------------------------

    def kms_state(self, account_id: str, region: str, *, create: bool = False) -> KmsState | None:
        found = self._cells.get((account_id, region))
        if found is None and create:
            found = self.cell(account_id, region)
        return found.kms_state if found is not None else None

    def key_home(self, region: str, key_id: str) -> KmsState | None:
        return self._key_homes.get((region, key_id))

    def add_key(self, region: str, key_id: str, home: KmsState) -> None:
        self._key_homes.setdefault((region, key_id), home)

    # --- simulator.ebs.seams.EbsRegions ------------------------------------------------------

    def ebs_regions(self, cell: Cell) -> _EbsRegions:
        return _EbsRegions(self, cell.account_id)


class _EbsRegions:
    """One account's EBS in its other Regions (``simulator.ebs.seams.EbsRegions``)."""

    def __init__(self, cells: Cells, account_id: str) -> None:
        self._cells = cells
        self._account_id = account_id

    def ebs_in(self, region: str) -> ElasticBlockStore | None:
        found = self._cells.find(self._account_id, region)
        return found.ebs if found is not None else None
