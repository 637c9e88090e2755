"""The CloudTrail-shaped audit trail of every KMS call, successful or failed.

A chain of structlog processors, configured per simulation (nothing at import time):

    envelope -> redact -> [user processors] -> sinks (memory, optional JSON-lines file)

The redaction step runs before anything is stored, so no plaintext, ciphertext, data key or grant
token reaches a record, whatever a caller passes. Processors have structlog's signature
``(logger, method_name, event_dict) -> event_dict``, so structlog's own processors plug in; the
chain is run by a plain loop rather than a structlog ``BoundLogger``, whose dict copying cost
about 4 us per record (a fifth of a GenerateDataKey+Decrypt pair, measured in bench/kms_bench.py).
The envelope and redaction steps are fixed, so they run inline while the record is built (one
dict display in CloudTrail's field order); user processors and sinks then see the finished
record, exactly as if the two steps were processors.
The JSON-lines sink renders with ``structlog.processors.JSONRenderer``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from .clock import Clock
from .ids import Ids
from .redact import redact, redact_owned

__all__ = ["AuditTrail", "Processor"]

Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]

#: The last two hex digits of 2 * count and of 2 * count + 1, by count % 128.
_EVEN_BYTE = tuple(f"{2 * i:02x}" for i in range(128))
_ODD_BYTE = tuple(f"{2 * i + 1:02x}" for i in range(128))


class AuditTrail:
    """Records KMS calls as CloudTrail events; ``events()`` queries them."""

    def __init__(self, clock: Clock, ids: Ids, account_id: str, region: str) -> None:
        self._clock = clock
        self._ids = ids
        self._account_id = account_id
        self._region = region
        self._records: deque[dict[str, Any]] = deque()
        self._files: list[IO[str]] = []
        self._sinks: list[Callable[[dict[str, Any]], None]] = [self._records.append]
        self._user_processors: list[Processor] = []
        self._stamp_for: datetime | None = None
        self._stamp = ""
        self._entries: dict[str, dict[str, str]] = {}
        first = ids.uuid()
        self._id_prefix = first[:24]  # "xxxxxxxx-xxxx-4xxx-8xxx-": the counter fills the rest
        self._count = 0
        self._id_block = 0
        self._id_head = f"{self._id_prefix}{0:010x}"

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
        owned: bool = False,
    ) -> None:
        """Append one event; the processor chain adds the envelope and redacts it.

        A ``user_identity`` given as a ``dict`` becomes part of the record (pass a fresh one).
        ``owned=True`` hands ``request_parameters`` over too (a fresh dict the caller never
        uses again): it is then redacted in place rather than copied.
        """
        identity = user_identity
        if type(identity) is not dict:
            identity = dict(identity) if identity is not None else {
                "accountId": self._account_id, "invokedBy": "AWS Internal"}
        invoked_by = identity.get("invokedBy")
        # The envelope and redaction steps, inlined (they are the first two processors of the
        # chain; running them as calls over a half-built dict cost a fifth of the record):
        # the envelope's fields, then only the sections that carry what callers sent or
        # services returned are redacted (the rest is built here from ids and ARNs).
        now = self._clock.now()
        if now is not self._stamp_for:
            self._restamp(now)
        # UUID-shaped ids from one random prefix and a counter: unique and replayable, and
        # cheaper than drawing two random UUIDs per record (this is on every KMS call). The
        # requestID ends in 2 * count as 12 hex digits, the eventID in 2 * count + 1. Those are
        # the digits of count >> 7 (at least 10, formatted once per 128 records) followed by
        # two digits from a table: a format spec per record cost more than the rest of the ids.
        self._count = count = self._count + 1
        if count >> 7 != self._id_block:
            self._id_block = count >> 7
            self._id_head = f"{self._id_prefix}{count >> 7:010x}"
        request_id = self._id_head + _EVEN_BYTE[count & 127]
        event_id = self._id_head + _ODD_BYTE[count & 127]
        if request_parameters is not None:
            request_parameters = (redact_owned(request_parameters)  # type: ignore[arg-type]
                                  if owned else redact(request_parameters))
        if response_elements is not None:
            response_elements = redact(response_elements)
        entry = None
        if type(resources) is list and len(resources) == 1 and type(resources[0]) is str:
            entry = self._entries.get(resources[0])
        entries = [entry.copy()] if entry is not None else [self._resource(a) for a in resources]
        # One dict display in CloudTrail's field order (a presized dict; no resizing).
        if error_code is None and additional_event_data is None:
            event: MutableMapping[str, Any] = {
                "eventVersion": "1.08",
                "userIdentity": identity,
                "eventTime": self._stamp,
                "eventSource": event_source,
                "eventName": event_name,
                "awsRegion": self._region,
                "sourceIPAddress": source_ip or (invoked_by if invoked_by else "192.0.2.10"),
                "userAgent": user_agent or (invoked_by if invoked_by else "envelope-sim"),
                "requestParameters": request_parameters,
                "responseElements": response_elements,
                "requestID": request_id,
                "eventID": event_id,
                "readOnly": read_only,
                "resources": entries,
                "eventType": event_type,
                "managementEvent": True,
                "recipientAccountId": self._account_id,
                "eventCategory": "Management",
            }
        else:
            event = {
                "eventVersion": "1.08",
                "userIdentity": identity,
                "eventTime": self._stamp,
                "eventSource": event_source,
                "eventName": event_name,
                "awsRegion": self._region,
                "sourceIPAddress": source_ip or (invoked_by if invoked_by else "192.0.2.10"),
                "userAgent": user_agent or (invoked_by if invoked_by else "envelope-sim"),
            }
            if error_code is not None:
                event["errorCode"] = error_code
                event["errorMessage"] = redact(error_message or "")
            event["requestParameters"] = request_parameters
            event["responseElements"] = response_elements
            if additional_event_data is not None:
                event["additionalEventData"] = redact(additional_event_data)
            event["requestID"] = request_id
            event["eventID"] = event_id
            event["readOnly"] = read_only
            event["resources"] = entries
            event["eventType"] = event_type
            event["managementEvent"] = True
            event["recipientAccountId"] = self._account_id
            event["eventCategory"] = "Management"
        for processor in self._user_processors:
            event = processor(None, event_name, event)
        record = event if type(event) is dict else dict(event)
        for sink in self._sinks:
            sink(record)

    def _restamp(self, now: datetime) -> None:
        if now != self._stamp_for:  # strftime is slow; the clock often stands still
            self._stamp_for, self._stamp = now, now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _resource(self, arn: str) -> dict[str, str]:
        """A ``resources`` entry for a key ARN: a fresh copy of a memoised one."""
        entry = self._entries.get(arn)
        if entry is None:
            parts = arn.split(":") if isinstance(arn, str) else []
            account = parts[4] if len(parts) > 5 and parts[4] else self._account_id
            entry = {"accountId": account, "type": "AWS::KMS::Key", "ARN": arn}
            if len(self._entries) >= 100_000:
                self._entries.clear()
            self._entries[arn] = entry
        return entry.copy()

    # -- configuration ---------------------------------------------------------------------

    def add_processor(self, processor: Processor) -> None:
        """Add a structlog processor after the redaction step (e.g. to enrich or filter)."""
        self._user_processors.append(processor)

    def subscribe(self, sink: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``sink`` with every finished record; returns a function that unsubscribes."""
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink)

    def keep_last(self, limit: int | None) -> None:
        """Keep only the ``limit`` most recent records in memory (``None``: all), so a
        long-running server does not grow without bound; sinks still see every record."""
        old = self._records
        self._records = deque(old, maxlen=limit)
        self._sinks[self._sinks.index(old.append)] = self._records.append

    def write_jsonl(self, path: str | Path) -> None:
        """Also append every record from now on to ``path`` as JSON lines (closed by ``close``)."""
        # Imported here, not at module level: structlog brings ~8,000 objects that every full
        # garbage collection of the process would otherwise traverse, and only this sink uses it.
        import structlog

        handle = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._files.append(handle)
        render = structlog.processors.JSONRenderer()

        def write(rec: dict[str, Any]) -> None:
            handle.write(str(render(None, "", dict(rec))) + "\n")

        self._sinks.append(write)

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
