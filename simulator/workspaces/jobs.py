"""Lifecycle operations as jobs on the virtual clock.

A job is a list of named stages run in order inside the WorkSpace's trace scope. A stage
returns ``None`` (go on at once) or a number of seconds to wait before the next stage, or raises
:class:`NotReady` to be run again later (a volume still being created). A *retryable* AWS error
(``KMSInternalException``, ``DependencyTimeoutException``... anything with ``.retryable``)
re-runs the same stage after an exponential backoff on the virtual clock
(``retry_base_seconds * 2**(attempt-1)``), up to ``max_retries`` times; any other error, or the
last retry failing, ends the job through ``on_error`` -- unless the stage is *best effort*
(clean-up such as deleting a volume that is no longer needed), in which case the failure is
traced and the job goes on. Stages record their progress on the WorkSpace, so a retry never
redoes what already succeeded.

A job's ``args`` are passed to every stage and to ``on_done``/``on_error``: the stages of an
operation can then be built once and shared by every WorkSpace (``Stage(label, f)`` with
``f(service, workspace)``) instead of closures per WorkSpace. A fleet keeps one job per
WorkSpace alive until the clock runs it, and every object a job holds is one more for the
cyclic garbage collector to walk on each full collection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import ScheduledCall
from ..errors import AwsError
from ..runtime import Runtime
from .lifecycle import STEP_OF_PHASE

__all__ = ["Job", "NotReady", "Stage"]


class NotReady(Exception):
    """Raised by a stage that must wait for something (a volume still ``creating``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(frozen=True)
class Stage:
    """One step of a job: ``label`` names it in traces and error messages."""

    label: str
    #: Called with the job's ``args``.
    run: Callable[..., float | None]
    #: A failure is traced and the job goes on (clean-up that must not stop the operation).
    best_effort: bool = False


class Job:
    """One lifecycle operation of one WorkSpace (launch, reboot, rebuild, stop, start, ...)."""

    __slots__ = ("_args", "_call", "_index", "_on_done", "_on_error", "_runtime", "_stages",
                 "attempts", "done", "name", "workspace_id")

    def __init__(
        self, runtime: Runtime, workspace_id: str, name: str, stages: Sequence[Stage],
        on_done: Callable[..., None], on_error: Callable[..., None],
        args: tuple[Any, ...] = (),
    ) -> None:
        """``on_done(*args)`` once every stage ran; ``on_error(*args, error, stage)``."""
        self._runtime = runtime
        self.workspace_id = workspace_id
        self.name = name
        self._stages = stages if isinstance(stages, tuple) else tuple(stages)
        self._on_done = on_done
        self._on_error = on_error
        self._args = args
        self._index = 0
        self.attempts = 0
        self.done = False
        self._call: ScheduledCall | None = None

    @property
    def stage(self) -> Stage | None:
        """The stage that runs next (None once done)."""
        return self._stages[self._index] if self._index < len(self._stages) else None

    def start(self, delay_seconds: float = 0.0) -> None:
        """Schedule the next stage on the clock."""
        # The job itself is the callback (a bound method would be one more object per job).
        self._call = self._runtime.clock.schedule(
            delay_seconds, f"workspaces.{self.name}:{self.workspace_id}", self)

    def skip_stage(self) -> None:
        """Mark the current stage done without running it (the caller already ran it)."""
        self._index += 1
        self.attempts = 0

    def retry_later(self, err: AwsError) -> bool:
        """Schedule the current stage again after backoff; False when retries are used up."""
        settings = self._runtime.settings
        if not err.retryable or self.attempts >= settings.max_retries:
            return False
        self.attempts += 1
        delay = settings.retry_base_seconds * 2 ** (self.attempts - 1)
        stage = self.stage
        self._runtime.trace.record(
            "WorkSpaces", "Retry", self.workspace_id, workspace_id=self.workspace_id,
            outcome=err.code, operation=self.name, stage=stage.label if stage else None,
            attempt=self.attempts, max_retries=settings.max_retries, delay_seconds=delay,
            error=err.message)
        self.start(delay)
        return True

    def cancel(self) -> None:
        """Stop the job (another operation, such as terminate, takes over the WorkSpace)."""
        if self._call is not None:
            self._call.cancel()
        self.done = True

    def __call__(self) -> None:
        """Run stages from the current one (the clock calls this)."""
        self._call = None
        if self.done:
            return
        trace = self._runtime.trace
        with trace.scope(workspace_id=self.workspace_id, steps=STEP_OF_PHASE):
            while self._index < len(self._stages):
                stage = self._stages[self._index]
                try:
                    wait = stage.run(*self._args)
                except NotReady as pause:
                    self.start(pause.seconds)
                    return
                except AwsError as err:
                    if self.retry_later(err):
                        return
                    if not stage.best_effort:
                        self.done = True
                        self._on_error(*self._args, err, stage)
                        return
                    trace.record("WorkSpaces", "CleanupFailed", self.workspace_id,
                                 outcome=err.code, operation=self.name, stage=stage.label,
                                 error=err.message)
                    wait = None
                self._index += 1
                self.attempts = 0
                if wait:
                    self.start(wait)
                    return
            self.done = True
            self._on_done(*self._args)
