"""Scope decisions: which tenant a visitor sees (`decide_scope`), the selector's options, and resolving a lessee
code to a `fleet.scope.Scope` inside the caller's session, so no service reads or writes outside it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from fleet.i18n import _
from fleet.models import Depot, Lessee, Lessor
from fleet.scope import Scope, ScopeError, list_rows, scope_for, select_rows

__all__ = [
    "APP_AUTH_ENV",
    "APP_LESSEE_CLAIM_ENV",
    "APP_LESSEE_ENV",
    "APP_LESSOR_EMAILS_ENV",
    "ScopeDecision",
    "ScopeError",
    "ScopeOption",
    "decide_scope",
    "depot_in_scope",
    "describe_scope",
    "in_scope",
    "scope_options",
]


@dataclass(frozen=True)
class ScopeOption:
    """One entry of the app's scope selector; `lessee_code=None` is the lessor's whole view."""

    lessee_code: str | None
    label: str


@dataclass(frozen=True)
class ScopeDecision:
    """How the app's scope is chosen: pinned to one lessee, or selectable (lessor users), or refused."""

    pinned_lessee: str | None = None
    selectable: bool = True
    refused: str | None = None
    source: str = "default"


APP_LESSEE_ENV = "EVFLEET_APP_LESSEE"
APP_AUTH_ENV = "EVFLEET_APP_AUTH"
APP_LESSEE_CLAIM_ENV = "EVFLEET_APP_LESSEE_CLAIM"
APP_LESSOR_EMAILS_ENV = "EVFLEET_APP_LESSOR_EMAILS"


def decide_scope(env: Mapping[str, str], user: Mapping[str, Any] | None = None) -> ScopeDecision:
    """The scope rule of a deployment, from configuration and (with OIDC sign-in) the signed-in user's claims.

    - `EVFLEET_APP_LESSEE=CODE`: every visitor is that lessee; no selector.
    - `EVFLEET_APP_AUTH=oidc`: the user's claim named by `EVFLEET_APP_LESSEE_CLAIM` (default `evfleet_lessee`)
      pins the lessee; users whose e-mail is in `EVFLEET_APP_LESSOR_EMAILS` (comma-separated) get the lessor's
      view with the selector; anyone else is refused.
    - neither: the lessor's view with a selector (a trusted internal deployment or a developer machine).
    """
    pinned = env.get(APP_LESSEE_ENV, "").strip()
    if pinned:
        return ScopeDecision(
            pinned_lessee=pinned, selectable=False, source=f"configuration ({APP_LESSEE_ENV})"
        )
    if env.get(APP_AUTH_ENV, "").strip().lower() == "oidc":
        if not user:
            return ScopeDecision(selectable=False, refused="sign in to continue", source="oidc")
        claim = env.get(APP_LESSEE_CLAIM_ENV, "").strip() or "evfleet_lessee"
        code = str(user.get(claim) or "").strip()
        if code:
            return ScopeDecision(pinned_lessee=code, selectable=False, source=f"sign-in claim {claim!r}")
        lessor_emails = {
            e.strip().lower() for e in env.get(APP_LESSOR_EMAILS_ENV, "").split(",") if e.strip()
        }
        if str(user.get("email") or "").strip().lower() in lessor_emails:
            return ScopeDecision(selectable=True, source="sign-in (lessor user)")
        return ScopeDecision(
            selectable=False,
            source="oidc",
            refused=f"your account has no lessee assigned (claim {claim!r}); ask the lessor",
        )
    return ScopeDecision(selectable=True, source="default")


def scope_options(session: Session) -> list[ScopeOption]:
    """The lessor's view followed by each of its lessees, for the selector (labels in the current language)."""
    scope = scope_for(session)
    lessor = session.get(Lessor, scope.lessor_id)
    lessees = list_rows(session, scope, Lessee, order_by=Lessee.code)
    everything = _("All lessees (lessor {code})").format(code=lessor.code) if lessor else _("All lessees")
    options = [ScopeOption(None, everything)]
    options += [ScopeOption(le.code, f"{le.code} · {le.name}") for le in lessees]
    return options


def describe_scope(session: Session, lessee_code: str | None) -> str:
    """A one-line statement of the scope a page runs in, e.g. `Lessee PCX (Pengcheng Express) only`, in the
    current language."""
    scope = scope_for(session, lessee_code=lessee_code)
    if scope.is_lessor:
        lessor = session.get(Lessor, scope.lessor_id)
        n = len(list_rows(session, scope, Lessee))
        if lessor is None:
            return _("Lessor view")
        return _("Lessor {code} ({name}): all {n} lessees").format(code=lessor.code, name=lessor.name, n=n)
    lessee = session.get(Lessee, scope.lessee_id)
    if lessee is None:
        return _("one lessee")
    return _("Lessee {code} ({name}) only").format(code=lessee.code, name=lessee.name)


def in_scope(session: Session, lessee_code: str | None) -> Scope:
    """The scope of a lessee code (`None`: the lessor's whole view); raises `ScopeError` for an unknown code."""
    return scope_for(session, lessee_code=lessee_code)


def depot_in_scope(session: Session, scope: Scope, depot_code: str) -> Depot:
    """The scope's depot of that code; a depot outside the scope is "not found" (`ScopeError`)."""
    depot = session.exec(select_rows(scope, Depot, Depot.code == depot_code)).first()
    if depot is None:
        raise ScopeError(f"depot {depot_code!r} not found in the scope of {scope.describe()}")
    return depot
