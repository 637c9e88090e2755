"""The operation boundary: what every AWS operation of every service does on entry.

``@operation_boundary(lock_of)`` on a service class wraps each public method, its own and the
ones it inherits (a service composed of operation-family mixins is covered by decorating the
composed class once):

* The call holds its simulation's lock (``Runtime.lock``, a re-entrant lock; ``lock_of(self)``
  finds it) from entry to return, so a ``Simulation`` may be called from several threads: calls
  run one at a time, each seeing and leaving consistent state, and a service calling another
  (EBS calling KMS) re-enters the lock it already holds. Running the virtual clock takes the same
  lock, because scheduled work calls services.
* Arguments that do not bind to the operation's signature (boto3's CamelCase names, a missing
  required parameter, positional arguments where the operation takes keywords) are a
  :class:`~simulator.errors.ValidationException` naming the snake_case parameter to use, not a
  bare ``TypeError``. Only binding errors are translated: the signature is checked after a
  ``TypeError``, so a ``TypeError`` raised inside an operation stays what it is, and a call that
  binds pays nothing for the check.

A simulation with a state file (``Simulation(state=...)``) has a
:class:`~simulator.persist.journal.Journal` as its lock instead of a bare ``RLock``: the wrapper
then hands the call to its ``run``, which takes the lock and saves the outermost calls.

The wrappers keep ``__wrapped__``, names and docstrings (``functools.wraps``), so
``inspect.signature`` shows each operation's own parameters.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Final, TypeVar

from .errors import ValidationException

__all__ = ["SavingLock", "binding_hint", "is_operation", "operation_boundary"]

_C = TypeVar("_C", bound=type)
_MARK: Final = "__operation_boundary__"
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NAMED: Final = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_PLAIN_LOCK: Final = type(threading.RLock())


class SavingLock:
    """A simulation lock that also saves the operations run under it (a state file's
    journal): the boundary hands each call to :meth:`run` instead of entering the lock."""

    def run(self, invoke: Callable[[Any, tuple[Any, ...], dict[str, Any]], Any], target: Any,
            name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``invoke(target, args, kwargs)`` (operation ``name``) under the lock."""
        raise NotImplementedError

    def __enter__(self) -> object:
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:
        raise NotImplementedError


def operation_boundary(lock_of: Callable[[Any], AbstractContextManager[Any]]) -> Callable[[_C], _C]:
    """Class decorator: every public method of the class (own and inherited) runs under
    ``lock_of(self)`` and reports argument-binding errors as ValidationException."""

    def decorate(cls: _C) -> _C:
        seen: set[str] = set()
        for klass in cls.__mro__:
            if klass is object:
                continue
            for name, value in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)  # the first class in the MRO that defines a name wins
                if name.startswith("_") or not inspect.isfunction(value):
                    continue  # private helpers, properties, static and class methods
                if is_operation(value):
                    continue  # already wrapped (a decorated base class, or decorated twice)
                setattr(cls, name, _wrap(value, lock_of))
        return cls

    return decorate


def is_operation(method: object) -> bool:
    """Whether ``method`` (taken from a class) is wrapped by :func:`operation_boundary`."""
    return getattr(method, _MARK, None) is not None


def _wrap(fn: Callable[..., Any], lock_of: Callable[[Any], AbstractContextManager[Any]]
          ) -> Callable[..., Any]:
    name = fn.__name__

    def invoke(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except TypeError:
            hint = binding_hint(fn, args, kwargs)
            if hint is None:
                raise  # raised inside the operation: not the caller's arguments
            raise ValidationException(hint) from None

    @functools.wraps(fn)
    def operation(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        lock = lock_of(self)
        if lock.__class__ is not _PLAIN_LOCK and isinstance(lock, SavingLock):
            return lock.run(invoke, self, name, args, kwargs)
        with lock:
            return invoke(self, args, kwargs)

    setattr(operation, _MARK, lock_of)
    return operation


def binding_hint(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """What is wrong with calling method ``fn`` with ``args`` and ``kwargs`` (after ``self``),
    naming the snake_case parameters to use; None when the arguments bind."""
    signature = inspect.signature(fn)
    try:
        signature.bind(None, *args, **kwargs)
    except TypeError:
        pass
    else:
        return None
    params = list(signature.parameters.values())[1:]
    names = [p.name for p in params if p.kind in _NAMED]
    free_keywords = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    problems: list[str] = []
    suggested: set[str] = set()
    for key in kwargs:
        if key in names or free_keywords:
            continue
        guess = _suggest(key, names)
        if guess is not None:
            suggested.add(guess)
            problems.append(f"unknown parameter {key!r}: did you mean {guess!r}?")
        else:
            problems.append(f"unknown parameter {key!r}")
    positional = [p for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    if args and not any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params) \
            and len(args) > len(positional):
        keywords = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
        problems.append(f"takes its parameters by keyword ({', '.join(keywords) or 'none'}), "
                        f"got {len(args)} positional")
    given = set(kwargs) | {p.name for p in positional[:len(args)]}
    for p in params:
        if (p.kind in _NAMED and p.default is inspect.Parameter.empty and p.name not in given
                and p.name not in suggested):
            problems.append(f"missing required parameter {p.name!r}")
    for p in positional[:len(args)]:
        if p.name in kwargs:
            problems.append(f"parameter {p.name!r} given twice")
    if not problems:  # a binding error none of the above names; say what binds
        problems.append("the arguments do not match the operation")
    valid = ", ".join(names) or "none"
    return f"{fn.__name__}(): {'; '.join(problems)} (parameters: {valid})"


def _suggest(key: str, names: list[str]) -> str | None:
    """The snake_case parameter a boto3-style (or misspelt) keyword most likely means."""
    snake = _CAMEL.sub("_", key).lower()
    if snake in names:
        return snake
    flat = key.replace("_", "").lower()
    for name in names:
        if name.replace("_", "") == flat:
            return name
    close = difflib.get_close_matches(snake, names, n=1, cutoff=0.75)
    return close[0] if close else None
