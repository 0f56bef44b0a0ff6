"""The name of the caller whose request is being handled, for records written on its behalf
(``createdBy`` of events). Requests set it after authentication; elsewhere (the monitor) it is
None. A context variable, so the storage layer need not thread a caller through every step;
the server runs each request in a task of its own, so a value never outlives its request."""

from __future__ import annotations

from contextvars import ContextVar

_actor: ContextVar[str | None] = ContextVar("ml_platform_actor", default=None)


def set_actor(name: str | None) -> None:
    """Record ``name`` as the actor of the current request."""
    _actor.set(name)


def current_actor() -> str | None:
    """The actor of the current request, or None outside one."""
    return _actor.get()
