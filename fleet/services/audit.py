"""Who changed what (issue 21 item 8): the audit trail as a table for the app, and the app's acting user.

Changes are recorded where they are written (`fleet.scope.update_row`, plan events); this module only reads them,
in the caller's scope, so a lessee sees the changes to its own rows and the lessor sees all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlmodel import Session, col

from fleet.audit import current_actor, set_actor
from fleet.i18n import N_, Column
from fleet.models import AuditEvent
from fleet.scope import select_rows
from fleet.services.scope import in_scope

__all__ = ["APP_DEVELOPER_ENV", "acting_user", "app_actor", "audit_frame", "developer_mode", "set_app_actor"]

APP_DEVELOPER_ENV = "EVFLEET_APP_DEVELOPER"
_LABELS = {
    "lease": "lease",
    "vehicle": "vehicle",
    "depot": "depot",
    "routeplan": "route plan",
    "chargingplan": "charging plan",
}


def developer_mode(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the app shows the database address and Streamlit's developer menu: only when
    `EVFLEET_APP_DEVELOPER=1` (a developer machine), never to users of a deployment."""
    return env.get(APP_DEVELOPER_ENV, "").strip().lower() in ("1", "true", "yes")


def app_actor(user: Mapping[str, Any] | None, lessee_code: str | None) -> str:
    """The name changes made in the app are recorded under: the signed-in user's e-mail, else who the
    deployment says the visitor is ('planner' of a lessee, or 'lessor')."""
    if user:
        for claim in ("email", "preferred_username", "name", "sub"):
            if user.get(claim):
                return f"app:{user[claim]}"
    return f"app:planner {lessee_code}" if lessee_code else "app:lessor"


def acting_user() -> str:
    """Who this rerun acts as, to hand to work run in another process (it does not inherit it)."""
    return current_actor()


def set_app_actor(actor: str) -> None:
    """Attribute the writes of this app rerun to `actor` (see fleet.audit)."""
    set_actor(actor)


def _change_text(changes: Mapping[str, Any]) -> str:
    parts = []
    for name, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{name}: {value[0]} → {value[1]}")
        else:
            parts.append(f"{name}: {value}")
    return "; ".join(parts)


AUDIT_DISPLAY: dict[str, Column] = {
    "when": Column(N_("When")),
    "who": Column(N_("Who")),
    "what": Column(N_("What")),
    "action": Column(N_("Action")),
    "change": Column(N_("Change")),
    "reason": Column(N_("Reason")),
}


def audit_frame(session: Session, lessee_code: str | None, limit: int = 500) -> pd.DataFrame:
    """The latest changes in scope, newest first: when, who, what (entity and key), action, the change, why."""
    scope = in_scope(session, lessee_code)
    query = select_rows(scope, AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    rows = session.exec(query).all()
    return pd.DataFrame(
        [
            {
                "when": r.at,
                "who": r.actor,
                "what": f"{_LABELS.get(r.entity, r.entity)} {r.entity_key}",
                "action": r.action,
                "change": _change_text(r.changes),
                "reason": r.reason,
            }
            for r in rows
        ],
        columns=["when", "who", "what", "action", "change", "reason"],
    )
