"""Who changed what, when (issue 21 item 8): an append-only record of changes to audited rows and plan events.

The acting user is carried in a context variable that each face sets once per unit of work: the app from the
signed-in user (or 'planner' on an internal deployment), the CLI as 'cli:<os user>', the nightly job as 'nightly',
the API as 'api:<key name>'. `fleet.scope.update_row` records every change to an audited table through
`record_update`, so no write path can forget it; plan events are recorded by the code that makes them.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlmodel import Session, SQLModel

from fleet.models import AuditEvent, ChargingPlan, Depot, Lease, RoutePlan, Vehicle

_ACTOR: ContextVar[str | None] = ContextVar("evfleet_actor", default=None)

# Table -> the column that names a row to a person (a lease by its code, a vehicle by its plate).
AUDITED: dict[type[SQLModel], str] = {Lease: "code", Vehicle: "plate", Depot: "code"}
PLAN_TABLES: tuple[type[SQLModel], ...] = (RoutePlan, ChargingPlan)


def current_actor() -> str:
    """The user acting now; outside any face (scripts, tests) the OS user."""
    actor = _ACTOR.get()
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container
        return "cli:unknown"


def explicit_actor() -> str | None:
    """The actor a face has set, or None (then `current_actor` falls back to the OS user)."""
    return _ACTOR.get()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute every change made inside the block to `actor`."""
    token = _ACTOR.set(actor.strip()[:200] or None)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def set_actor(actor: str | None) -> None:
    """Set the actor for the rest of this thread's run (the app sets it once per rerun)."""
    _ACTOR.set((actor or "").strip()[:200] or None)


def _plain(value: Any) -> Any:
    """A JSON-safe form of a column value (dates as ISO text, money as text, enums by value)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record_update(session: Session, row: SQLModel, before: Mapping[str, Any], reason: str = "") -> None:
    """Record the fields of an audited `row` that differ from `before` (field -> value before the change)."""
    key_column = AUDITED.get(type(row))
    if key_column is None:
        return
    changes = {
        name: [_plain(old), _plain(getattr(row, name))]
        for name, old in before.items()
        if _plain(old) != _plain(getattr(row, name))
    }
    if not changes:
        return
    session.add(
        AuditEvent(
            lessor_id=row.lessor_id,  # type: ignore[attr-defined]
            lessee_id=row.lessee_id,  # type: ignore[attr-defined]
            actor=current_actor(),
            entity=type(row).__tablename__,  # type: ignore[attr-defined]
            entity_key=str(getattr(row, key_column)),
            action="update",
            changes=changes,
            reason=reason[:500],
        )
    )


def record_event(
    session: Session,
    row: SQLModel,
    action: str,
    *,
    key: str,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
) -> None:
    """Record an event on an owned row (a plan stored, published or restored), attributed to the current actor."""
    session.add(
        AuditEvent(
            lessor_id=row.lessor_id,  # type: ignore[attr-defined]
            lessee_id=row.lessee_id,  # type: ignore[attr-defined]
            actor=current_actor(),
            entity=type(row).__tablename__,  # type: ignore[attr-defined]
            entity_key=key[:120],
            action=action[:30],
            changes={k: _plain(v) for k, v in (changes or {}).items()},
            reason=reason[:500],
        )
    )
