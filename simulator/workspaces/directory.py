"""AWS Directory Service, as much of it as WorkSpaces needs: directories and their users.

A directory has an id (``d-`` + 10 hex), a domain SID (``S-1-5-21-<a>-<b>-<c>``) and users; each
user's SID is the domain SID plus a relative id (RID) counting up from 1104, as in a fresh
Simple AD. User names (``sAMAccountName``) are unique per directory, case-insensitively, and
WorkSpaces finds users by name the same way. The SID and the directory id together are what the
EBS encryption context of a WorkSpace's volumes names: ``"[<SID>]@[<directory id>]"``.

Directory operations are ``ds:*`` actions and user operations ``ds-data:*`` actions for IAM.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..boundary import operation_boundary
from ..errors import (
    AccessDeniedException,
    DsEntityAlreadyExistsException,
    EntityDoesNotExistException,
    InvalidParameterException,
)
from ..iam.principals import Caller
from ..runtime import Runtime
from .auth import Authorizer, allow_all

__all__ = [
    "DescribeDirectoriesResult",
    "Directory",
    "DirectoryService",
    "DirectoryState",
    "DirectoryUser",
    "ListUsersResult",
]

_DIRECTORY_ID = re.compile(r"^d-[0-9a-f]{10}$")
# ds model DirectoryName: dot-separated labels of letters and digits (hyphens inside).
_DIRECTORY_NAME = re.compile(r"^([a-zA-Z0-9]+[.-])+([a-zA-Z0-9])+$")
_SHORT_NAME = re.compile(r'^[^\\/:*?"<>|.]+[^\\/:*?"<>|]*$')
# sAMAccountName as the ds-data model allows it: word characters, dot and hyphen, 1-20 long,
# not ending with a dot.
_SAM_ACCOUNT_NAME = re.compile(r"^[\w\-.]*[\w\-]$")
_SIZES = ("Small", "Large")
# ds model Password: 8-64 characters from three of: lower case, upper case, digits, symbols
# (and always a lower-case letter, as the model's pattern requires).
_PASSWORD = re.compile(
    r"(?=^.{8,64}$)((?=.*\d)(?=.*[A-Z])(?=.*[a-z])|(?=.*\d)(?=.*[^A-Za-z0-9\s])(?=.*[a-z])|"
    r"(?=.*[^A-Za-z0-9\s])(?=.*[A-Z])(?=.*[a-z])|(?=.*\d)(?=.*[A-Z])(?=.*[^A-Za-z0-9\s]))^.*")
#: The first RID a new Simple AD hands to a user (the built-in accounts take the ones before).
FIRST_RID = 1104


@dataclass(frozen=True)
class Directory:
    """One directory (DescribeDirectories' DirectoryDescription, trimmed)."""

    directory_id: str
    name: str
    short_name: str
    description: str | None
    size: str
    type: str
    stage: str
    launch_time: datetime
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class DirectoryUser:
    """A directory user: ``user_name`` is the sAMAccountName, ``sid`` its security identifier."""

    directory_id: str
    user_name: str
    sid: str
    given_name: str | None = None
    surname: str | None = None
    email_address: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class DescribeDirectoriesResult:
    directory_descriptions: tuple[Directory, ...]


@dataclass(frozen=True)
class ListUsersResult:
    directory_id: str
    users: tuple[DirectoryUser, ...]


@dataclass(eq=False)
class _DirectoryRecord:
    directory: Directory
    domain_sid: str
    next_rid: int = FIRST_RID
    users: dict[str, DirectoryUser] = field(default_factory=dict)  # by lower-case user name


class DirectoryState:
    """All directories of one simulation; shared by every :class:`DirectoryService` view."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._directories: dict[str, _DirectoryRecord] = {}

    # Lookups for WorkSpaces (no authorization: WorkSpaces reads the directory as a service).

    def directory(self, directory_id: str) -> Directory | None:
        record = self._directories.get(directory_id)
        return record.directory if record is not None else None

    def find_user(self, directory_id: str, user_name: str) -> DirectoryUser | None:
        """The user named ``user_name`` (any case) in the directory, or None."""
        record = self._directories.get(directory_id)
        return record.users.get(user_name.lower()) if record is not None else None

    def _record(self, directory_id: str) -> _DirectoryRecord:
        record = self._directories.get(directory_id)
        if record is None:
            raise EntityDoesNotExistException(f"Directory {directory_id} does not exist.")
        return record


@operation_boundary(lambda ds: ds.state.runtime.lock)
class DirectoryService:
    """Directory Service operations, as one caller (``with_caller`` gives another view)."""

    def __init__(
        self, state: DirectoryState, caller: Caller | None = None,
        authorizer: Authorizer = allow_all,
    ) -> None:
        self.state = state
        runtime = state.runtime
        self.caller = caller if caller is not None else Caller.root(runtime.account_id)
        self._authorize = authorizer

    def with_caller(self, caller: Caller) -> DirectoryService:
        """The same directories, seen by ``caller``."""
        return DirectoryService(self.state, caller, self._authorize)

    # -- directories --------------------------------------------------------------------------

    def create_directory(
        self, *, name: str, short_name: str | None = None, description: str | None = None,
        size: str = "Small", password: str | None = None,
    ) -> Directory:
        """Create a Simple AD directory (active at once) with a fresh domain SID.

        ``password`` (the directory administrator's, which the AWS API requires) is checked
        against AWS's rules and then forgotten: no simulated call signs in with it.
        """
        _require_str("name", name)
        if password is not None:
            _require_str("password", password)
            if not _PASSWORD.match(password):
                raise InvalidParameterException(
                    "Invalid directory administrator password: 8 to 64 characters with three "
                    "of lower case letters, upper case letters, digits and symbols.")
        if not 1 <= len(name) <= 255 or not _DIRECTORY_NAME.match(name):
            raise InvalidParameterException(
                f"Invalid directory name '{name}': use a fully qualified domain name such as "
                "corp.example.com.")
        if short_name is not None:
            _require_str("short_name", short_name)
            if not 1 <= len(short_name) <= 15 or not _SHORT_NAME.match(short_name):
                raise InvalidParameterException(
                    f"Invalid short name '{short_name}': 1 to 15 characters, without "
                    '\\ / : * ? " < > | and not starting with a dot.')
        if description is not None:
            _require_str("description", description)
            if len(description) > 128:
                raise InvalidParameterException(
                    "The directory description must be at most 128 characters long.")
        if size not in _SIZES:
            raise InvalidParameterException(
                f"Invalid size '{size}': must be one of {', '.join(_SIZES)}.")
        self._check("ds:CreateDirectory", "*")
        runtime = self.state.runtime
        directory_id = runtime.ids.directory_id()
        while directory_id in self.state._directories:  # vanishingly rare; ids must stay unique
            directory_id = runtime.ids.directory_id()
        directory = Directory(
            directory_id=directory_id,
            name=name,
            short_name=short_name if short_name is not None else name.split(".")[0].upper()[:15],
            description=description,
            size=size,
            type="SimpleAD",
            stage="Active",
            launch_time=runtime.clock.now(),
            subnet_ids=(runtime.ids.subnet_id(), runtime.ids.subnet_id()),
        )
        record = _DirectoryRecord(directory, runtime.ids.domain_sid())
        self.state._directories[directory_id] = record
        runtime.trace.record("ds", "CreateDirectory", directory_id, name=name)
        return directory

    def describe_directories(
        self, *, directory_ids: Sequence[str] | None = None,
    ) -> DescribeDirectoriesResult:
        """The directories named (all of them when ``directory_ids`` is None)."""
        if directory_ids is None:
            self._check("ds:DescribeDirectories", "*")
            return DescribeDirectoriesResult(
                tuple(r.directory for r in self.state._directories.values()))
        ids = _id_list(directory_ids)
        for directory_id in ids:
            self._check("ds:DescribeDirectories", self._arn(directory_id))
        return DescribeDirectoriesResult(tuple(self.state._record(d).directory for d in ids))

    # -- users (ds-data) ----------------------------------------------------------------------

    def create_user(
        self, *, directory_id: str, user_name: str, given_name: str | None = None,
        surname: str | None = None, email_address: str | None = None,
    ) -> DirectoryUser:
        """Create a user; its SID is the directory's domain SID plus the next RID."""
        _check_directory_id(directory_id)
        _require_str("user_name", user_name)
        if not 1 <= len(user_name) <= 20 or not _SAM_ACCOUNT_NAME.match(user_name):
            raise InvalidParameterException(
                f"Invalid user name '{user_name}': 1 to 20 letters, digits, '_', '-' or '.', "
                "not ending with '.'.")
        for label, value in (("given_name", given_name), ("surname", surname),
                             ("email_address", email_address)):
            if value is not None:
                _require_str(label, value)
                if not 1 <= len(value) <= 256:
                    raise InvalidParameterException(f"{label} must be 1 to 256 characters long.")
        self._check("ds-data:CreateUser", self._arn(directory_id))
        record = self.state._record(directory_id)
        if user_name.lower() in record.users:
            raise DsEntityAlreadyExistsException(
                f"User {user_name} already exists in directory {directory_id}.")
        user = DirectoryUser(
            directory_id=directory_id,
            user_name=user_name,
            sid=f"{record.domain_sid}-{record.next_rid}",
            given_name=given_name,
            surname=surname,
            email_address=email_address,
        )
        record.next_rid += 1
        record.users[user_name.lower()] = user
        self.state.runtime.trace.record("ds", "CreateUser", directory_id, user_name=user_name,
                                        sid=user.sid)
        return user

    def describe_user(self, *, directory_id: str, user_name: str) -> DirectoryUser:
        """One user, found by name in any case."""
        _check_directory_id(directory_id)
        _require_str("user_name", user_name)
        self._check("ds-data:DescribeUser", self._arn(directory_id))
        user = self.state._record(directory_id).users.get(user_name.lower())
        if user is None:
            raise EntityDoesNotExistException(
                f"User {user_name} does not exist in directory {directory_id}.")
        return user

    def list_users(self, *, directory_id: str) -> ListUsersResult:
        """Every user of a directory, in creation order."""
        _check_directory_id(directory_id)
        self._check("ds-data:ListUsers", self._arn(directory_id))
        record = self.state._record(directory_id)
        return ListUsersResult(directory_id, tuple(record.users.values()))

    # -- helpers ------------------------------------------------------------------------------

    def _arn(self, directory_id: str) -> str:
        runtime = self.state.runtime
        return f"arn:aws:ds:{runtime.region}:{runtime.account_id}:directory/{directory_id}"

    def _check(self, action: str, resource: str) -> None:
        message = self._authorize(self.caller, action, resource)
        if message is not None:
            raise AccessDeniedException(message)


def _require_str(label: str, value: object) -> None:
    if not isinstance(value, str):
        raise InvalidParameterException(f"{label} must be a string, not {type(value).__name__}.")


def _check_directory_id(directory_id: object) -> None:
    if not isinstance(directory_id, str):
        raise InvalidParameterException(
            f"directory_id must be a string, not {type(directory_id).__name__}.")
    if not _DIRECTORY_ID.match(directory_id):
        raise InvalidParameterException(
            f"Invalid directory id '{directory_id}': expected 'd-' followed by 10 hex digits.")


def _id_list(directory_ids: object) -> list[str]:
    if isinstance(directory_ids, str) or not isinstance(directory_ids, list | tuple):
        raise InvalidParameterException("directory_ids must be a list of directory ids.")
    ids = list(directory_ids)
    for directory_id in ids:
        _check_directory_id(directory_id)
    return ids
