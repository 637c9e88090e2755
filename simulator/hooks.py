"""Named events that services emit around their operations, for fault plans and observers.

In the spirit of botocore's event system: a service emits ``before-call.kms.Decrypt`` when an
operation starts (after its audit record has been opened); an orchestrator emits
``before-step.5`` / ``after-step.5`` around lifecycle steps. Handlers
receive keyword arguments and may raise an AWS error, which the calling operation then fails
with, exactly as if the service had raised it. With no handler registered, emitting costs one
dict lookup, so the hot path stays fast.

This is how faults stay out of the services: a fault plan registers handlers here (or schedules
real admin actions on the clock); no service contains a fault-specific branch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Handler", "Hooks"]

Handler = Callable[..., None]


class Hooks:
    """A registry of handlers by exact event name, run in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def register(self, event: str, handler: Handler) -> Callable[[], None]:
        """Run ``handler(**kwargs)`` whenever ``event`` is emitted; returns an unregister function."""
        self._handlers.setdefault(event, []).append(handler)

        def unregister() -> None:
            handlers = self._handlers.get(event, [])
            if handler in handlers:
                handlers.remove(handler)
            if not handlers:
                self._handlers.pop(event, None)

        return unregister

    def emit(self, event: str, **kwargs: Any) -> None:
        """Call the handlers of ``event``; an exception from one propagates to the emitter."""
        handlers = self._handlers.get(event)
        if handlers:
            for handler in list(handlers):
                handler(event=event, **kwargs)

    def __contains__(self, event: str) -> bool:
        return event in self._handlers
