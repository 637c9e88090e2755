"""The CloudTrail-shaped audit trail of every KMS call, successful or failed.

Built as a structlog processor chain, configured per simulation (nothing at import time):

    envelope -> redact -> [user processors] -> sinks (memory, optional JSON-lines file)

The redaction step runs before anything is stored, so no plaintext, ciphertext, data key or grant
token reaches a record, whatever a caller passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import IO, Any

import structlog

from .clock import Clock
from .ids import Ids
from .redact import redact

__all__ = ["AuditTrail", "Processor"]

Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]

_ENVELOPE_ORDER = (
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
)


class _Sink:
    """The structlog 'logger' at the end of the chain: fans a finished record out to sinks."""

    def __init__(self) -> None:
        self.sinks: list[Callable[[dict[str, Any]], None]] = []

    def msg(self, **record: Any) -> None:
        for sink in self.sinks:
            sink(record)


class AuditTrail:
    """Records KMS calls as CloudTrail events; ``events()`` queries them."""

    def __init__(self, clock: Clock, ids: Ids, account_id: str, region: str) -> None:
        self._clock = clock
        self._ids = ids
        self._account_id = account_id
        self._region = region
        self._records: list[dict[str, Any]] = []
        self._files: list[IO[str]] = []
        self._sink = _Sink()
        self._sink.sinks.append(self._records.append)
        self._user_processors: list[Processor] = []
        self._stamp_for: Any = None
        self._stamp = ""
        self._logger = self._build()

    def _build(self) -> Any:
        processors: list[Any] = [self._envelope, _redact_processor, *self._user_processors,
                                 _order_fields]
        return structlog.wrap_logger(
            self._sink, processors=processors, wrapper_class=structlog.BoundLogger,
            cache_logger_on_first_use=True,
        )

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
    ) -> None:
        """Append one event; the processor chain adds the envelope and redacts it."""
        identity = dict(user_identity) if user_identity is not None else {
            "accountId": self._account_id, "invokedBy": "AWS Internal"}
        invoked_by = identity.get("invokedBy")
        fields: dict[str, Any] = {
            "userIdentity": identity,
            "eventName": event_name,
            "eventSource": event_source,
            "requestParameters": dict(request_parameters) if request_parameters is not None else None,
            "responseElements": dict(response_elements) if response_elements is not None else None,
            "resources": [
                {"accountId": _arn_account(arn) or self._account_id, "type": "AWS::KMS::Key",
                 "ARN": arn}
                for arn in resources
            ],
            "readOnly": read_only,
            "eventType": event_type,
            "sourceIPAddress": source_ip or (invoked_by if invoked_by else "192.0.2.10"),
            "userAgent": user_agent or (invoked_by if invoked_by else "envelope-sim"),
        }
        if additional_event_data is not None:
            fields["additionalEventData"] = dict(additional_event_data)
        if error_code is not None:
            fields["errorCode"] = error_code
            fields["errorMessage"] = error_message or ""
        self._logger.msg(**fields)

    def _envelope(self, _logger: Any, _name: str, ev: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        ev.pop("event", None)
        ev["eventVersion"] = "1.08"
        now = self._clock.now()
        if now != self._stamp_for:  # strftime is slow; the clock often stands still
            self._stamp_for, self._stamp = now, now.strftime("%Y-%m-%dT%H:%M:%SZ")
        ev["eventTime"] = self._stamp
        ev["awsRegion"] = self._region
        ev["requestID"] = self._ids.uuid()
        ev["eventID"] = self._ids.uuid()
        ev["managementEvent"] = True
        ev["eventCategory"] = "Management"
        ev["recipientAccountId"] = self._account_id
        return ev

    # -- configuration ---------------------------------------------------------------------

    def add_processor(self, processor: Processor) -> None:
        """Add a structlog processor after the redaction step (e.g. to enrich or filter)."""
        self._user_processors.append(processor)
        self._logger = self._build()

    def subscribe(self, sink: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``sink`` with every finished record; returns a function that unsubscribes."""
        self._sink.sinks.append(sink)
        return lambda: self._sink.sinks.remove(sink)

    def write_jsonl(self, path: str | Path) -> None:
        """Also append every record from now on to ``path`` as JSON lines (closed by ``close``)."""
        handle = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._files.append(handle)

        def write(rec: dict[str, Any]) -> None:
            handle.write(json.dumps(rec) + "\n")

        self._sink.sinks.append(write)

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


def _redact_processor(_logger: Any, _name: str, ev: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    redacted: MutableMapping[str, Any] = redact(ev)
    return redacted


def _order_fields(_logger: Any, _name: str, ev: MutableMapping[str, Any]) -> dict[str, Any]:
    ordered = {k: ev[k] for k in _ENVELOPE_ORDER if k in ev}
    ordered.update((k, v) for k, v in ev.items() if k not in ordered)
    return ordered


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None
