"""The CloudTrail-shaped audit trail of every KMS call, successful or failed.

A structlog processor chain, built per simulation (nothing is configured at import time or in
structlog's global configuration):

    envelope -> redact -> [user processors] -> sinks (memory, subscribers, JSON-lines files)

``envelope`` turns what a service reports about a call into a CloudTrail event (the fields in
CloudTrail's order, ids from the simulation's ids, the virtual time); ``redact`` then replaces
each section that holds what a caller sent or a service returned (identity, request, response,
additional data, error message) by a redacted copy (:mod:`simulator.redact`: no plaintext,
ciphertext, data key or grant token), before anything else sees the record. User processors
have structlog's signature ``(logger, method_name, event_dict) -> event_dict`` and may raise
``structlog.DropEvent`` to filter; structlog's own processors plug in. The JSON-lines sink
renders with structlog's ``JSONRenderer``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import structlog

from .clock import Clock
from .errors import ValidationException
from .ids import Ids
from .redact import redact

__all__ = ["AuditTrail", "CellAudit", "Processor"]

Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]

#: What every event carries that no call chooses.
_EVENT_VERSION = "1.08"
_DEFAULT_SOURCE_IP = "192.0.2.10"  # TEST-NET-1: a documentation address, never a real one
_DEFAULT_USER_AGENT = "envelope-sim"


class _Sinks:
    """The end of the chain: structlog hands it each finished record.

    ``sinks`` is a tuple, replaced (never changed in place) when a sink comes or goes, so a
    sink may unsubscribe while a record is being handed out without a copy on every record.
    """

    def __init__(self) -> None:
        self.sinks: tuple[Callable[[dict[str, Any]], None], ...] = ()

    def record(self, event: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink(event)

    def add(self, sink: Callable[[dict[str, Any]], None]) -> None:
        self.sinks = (*self.sinks, sink)

    def replace(self, old: Callable[[dict[str, Any]], None],
                new: Callable[[dict[str, Any]], None] | None) -> None:
        """``old`` (its first occurrence) swapped for ``new``, or removed when ``new`` is None."""
        sinks = self.sinks
        i = sinks.index(old)
        self.sinks = (*sinks[:i], *((new,) if new is not None else ()), *sinks[i + 1:])


class _AuditLogger(structlog.BoundLoggerBase):
    """A structlog bound logger with one method: ``record`` runs the chain on one call's
    report (``_process_event`` is structlog's documented hook for custom wrapper classes)."""

    def record(self, call: dict[str, Any]) -> None:
        try:
            args, kwargs = self._process_event("record", None, call)
        except structlog.DropEvent:
            return
        self._logger.record(*args, **kwargs)


class AuditTrail:
    """Records KMS calls as CloudTrail events; ``events()`` queries them."""

    def __init__(self, clock: Clock, ids: Ids, account_id: str, region: str) -> None:
        self._clock = clock
        self._ids = ids
        self._account_id = account_id
        self._region = region
        self._records: deque[dict[str, Any]] = deque()
        self._files: list[IO[str]] = []
        self._sinks = _Sinks()
        self._sinks.add(self._records.append)
        self._user_processors: list[Processor] = []
        self._logger = self._chain()

    def _chain(self) -> _AuditLogger:
        processors: list[Any] = [self._envelope, _redact_step, *self._user_processors,
                                 _hand_over]
        return _AuditLogger(self._sinks, processors=processors, context={})

    # -- recording -------------------------------------------------------------------------

    def record(
        self,
        event_name: str,
        *,
        user_identity: Mapping[str, Any] | None,
        request_parameters: Mapping[str, Any] | None = None,
        response_elements: Mapping[str, Any] | None = None,
        additional_event_data: Mapping[str, Any] | None = None,
        resources: Iterable[str] = (),
        read_only: bool = False,
        error_code: str | None = None,
        error_message: str | None = None,
        event_type: str = "AwsApiCall",
        event_source: str = "kms.amazonaws.com",
        source_ip: str | None = None,
        user_agent: str | None = None,
        recipient_account_id: str | None = None,
        aws_region: str | None = None,
        shared_event_id: str | None = None,
    ) -> None:
        """Append one event: the chain adds the envelope and redacts it before it is kept.

        ``user_identity`` None is AWS itself (``invokedBy: "AWS Internal"``); ``resources``
        are the key ARNs the call touched. Nothing given is kept by reference.
        ``recipient_account_id`` and ``aws_region`` say whose trail the event belongs to
        (default: the simulation's account and Region); ``shared_event_id`` ties the copies
        of one cross-account event, as CloudTrail's ``sharedEventID`` does.
        """
        self._logger.record({
            "eventName": event_name, "userIdentity": user_identity,
            "requestParameters": request_parameters, "responseElements": response_elements,
            "additionalEventData": additional_event_data, "resources": resources,
            "readOnly": read_only, "errorCode": error_code, "errorMessage": error_message,
            "eventType": event_type, "eventSource": event_source, "sourceIPAddress": source_ip,
            "userAgent": user_agent, "recipientAccountId": recipient_account_id,
            "awsRegion": aws_region, "sharedEventID": shared_event_id})

    def _envelope(self, _logger: Any, _method: str,
                  call: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """Processor: a CloudTrail event, in CloudTrail's field order, from what a call reported."""
        recipient = call["recipientAccountId"] or self._account_id
        identity = call["userIdentity"]
        if identity is None:
            identity = {"accountId": recipient, "invokedBy": "AWS Internal"}
        invoked_by = identity.get("invokedBy")
        event: dict[str, Any] = {
            "eventVersion": _EVENT_VERSION,
            "userIdentity": identity,
            "eventTime": _event_time(self._clock.now()),
            "eventSource": call["eventSource"],
            "eventName": call["eventName"],
            "awsRegion": call["awsRegion"] or self._region,
            "sourceIPAddress": call["sourceIPAddress"] or invoked_by or _DEFAULT_SOURCE_IP,
            "userAgent": call["userAgent"] or invoked_by or _DEFAULT_USER_AGENT,
        }
        if call["errorCode"] is not None:
            event["errorCode"] = call["errorCode"]
            event["errorMessage"] = call["errorMessage"] or ""
        event["requestParameters"] = call["requestParameters"]
        event["responseElements"] = call["responseElements"]
        if call["additionalEventData"] is not None:
            event["additionalEventData"] = call["additionalEventData"]
        event["requestID"] = self._ids.request_id()
        event["eventID"] = self._ids.event_id()
        event["readOnly"] = call["readOnly"]
        event["resources"] = [self._resource(arn) for arn in call["resources"]]
        event["eventType"] = call["eventType"]
        event["managementEvent"] = True
        event["recipientAccountId"] = recipient
        if call["sharedEventID"] is not None:
            event["sharedEventID"] = call["sharedEventID"]
        event["eventCategory"] = "Management"
        return event

    def _resource(self, arn: object) -> dict[str, Any]:
        """A ``resources`` entry: the key's account comes from its ARN."""
        if not isinstance(arn, str):
            return {"accountId": self._account_id, "type": "AWS::KMS::Key", "ARN": redact(arn)}
        return {"accountId": _account_in(arn) or self._account_id, "type": "AWS::KMS::Key",
                "ARN": arn}

    # -- configuration ---------------------------------------------------------------------

    def add_processor(self, processor: Processor) -> None:
        """Add a structlog processor after the redaction step (e.g. to enrich or filter)."""
        _check_callable(processor, "processor")
        self._user_processors.append(processor)
        self._logger = self._chain()

    def subscribe(self, sink: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``sink`` with every finished record; returns a function that unsubscribes."""
        _check_callable(sink, "sink")
        self._sinks.add(sink)
        return lambda: self._sinks.replace(sink, None)

    def keep_last(self, limit: int | None) -> None:
        """Keep only the ``limit`` most recent records in memory (``None``: all), so a
        long-running server does not grow without bound; sinks still see every record."""
        if limit is not None and (type(limit) is not int or limit < 0):
            raise ValidationException(
                f"keep_last takes a non-negative int or None, not {limit!r}"
            )
        old = self._records
        self._records = deque(old, maxlen=limit)
        self._sinks.replace(old.append, self._records.append)

    def write_jsonl(self, path: str | Path) -> None:
        """Also append every record from now on to ``path`` as JSON lines (closed by ``close``)."""
        if not isinstance(path, str | Path):
            raise ValidationException(
                f"write_jsonl takes a str or Path, not {type(path).__name__}"
            )
        handle = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._files.append(handle)
        render = structlog.processors.JSONRenderer()

        def write(rec: dict[str, Any]) -> None:
            handle.write(str(render(None, "", dict(rec))) + "\n")

        self._sinks.add(write)

    def close(self) -> None:
        """Flush and close any JSON-lines files."""
        for handle in self._files:
            handle.close()
        self._files.clear()

    # -- querying --------------------------------------------------------------------------

    def events(
        self,
        event_name: str | None = None,
        *,
        error_code: str | None = None,
        key_arn: str | None = None,
        principal_arn: str | None = None,
        event_source: str | None = None,
    ) -> list[dict[str, Any]]:
        """Records in order, filtered by name, error code, resource key ARN, caller or source."""
        out = []
        for rec in self._records:
            if event_name is not None and rec["eventName"] != event_name:
                continue
            if error_code is not None and rec.get("errorCode") != error_code:
                continue
            if key_arn is not None and all(r["ARN"] != key_arn for r in rec["resources"]):
                continue
            if principal_arn is not None and rec["userIdentity"].get("arn") != principal_arn:
                continue
            if event_source is not None and rec["eventSource"] != event_source:
                continue
            out.append(rec)
        return out

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        """Forget stored records (file sinks keep what they wrote)."""
        self._records.clear()

    def to_jsonl(self) -> str:
        """Every stored record as JSON lines."""
        return "".join(json.dumps(r) + "\n" for r in self._records)

    def for_cell(self, account_id: str, region: str) -> CellAudit:
        """The trail of one account in one Region (see :class:`CellAudit`)."""
        return CellAudit(self, account_id, region)


class CellAudit:
    """One account's trail in one Region, as CloudTrail's event history shows it there.

    Records go to the simulation's one :class:`AuditTrail` (which keeps showing everything),
    stamped with this account as ``recipientAccountId`` and this Region as ``awsRegion``;
    queries see only those records. A cross-account KMS call is recorded in both the caller's
    and the key owner's trail, as CloudTrail does.
    """

    def __init__(self, trail: AuditTrail, account_id: str, region: str) -> None:
        self.trail = trail
        self.account_id = account_id
        self.region = region

    def record(self, event_name: str, **fields: Any) -> None:
        """:meth:`AuditTrail.record` into this account's trail in this Region."""
        fields.setdefault("recipient_account_id", self.account_id)
        fields.setdefault("aws_region", self.region)
        self.trail.record(event_name, **fields)

    def _mine(self, rec: Mapping[str, Any]) -> bool:
        return bool(rec["recipientAccountId"] == self.account_id
                    and rec["awsRegion"] == self.region)

    def events(self, event_name: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """:meth:`AuditTrail.events`, of this account and Region only."""
        return [r for r in self.trail.events(event_name, **filters) if self._mine(r)]

    def subscribe(self, sink: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``sink`` with every new record of this account and Region."""
        return self.trail.subscribe(lambda rec: sink(rec) if self._mine(rec) else None)

    def __len__(self) -> int:
        return len(self.events())

    def to_jsonl(self) -> str:
        """This account's records in this Region as JSON lines."""
        return "".join(json.dumps(r) + "\n" for r in self.events())


#: The sections that hold what callers sent and services returned; the rest of an event is
#: built by the envelope step from the simulation's own ids, clock and ARNs.
_REPORTED = ("userIdentity", "requestParameters", "responseElements", "additionalEventData",
             "errorMessage")


def _redact_step(_logger: Any, _method: str,
                 event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Processor: every reported section replaced by a redacted copy (nothing a caller holds
    is shared with the record, and no secret reaches it)."""
    for name in _REPORTED:
        value = event.get(name)
        if value is not None:
            event[name] = redact(value)
    return event


def _hand_over(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """The last processor: the finished record, as the one argument of the sinks' call."""
    return (event if type(event) is dict else dict(event),), {}


@lru_cache(maxsize=1024)
def _account_in(arn: str) -> str | None:
    """The account field of an ARN (None if it has none); memoised, as keys recur."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


@lru_cache(maxsize=1)
def _event_time(now: datetime) -> str:
    """CloudTrail's ``eventTime`` (memoised: the virtual clock often stands still)."""
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_callable(value: object, what: str) -> None:
    # Refused when added: a non-callable in the chain would fail every later KMS call instead.
    if not callable(value):
        raise ValidationException(f"an audit {what} must be callable, not {type(value).__name__}")
