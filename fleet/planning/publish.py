"""Publish one version of a depot-day's plans: exactly one published route plan (and its charging plan) per depot
and service date, flipped in the caller's transaction.

The published version is stored with status 'current' (`PlanStatus.PUBLISHED` is `PlanStatus.CURRENT`), so every
reader of "the plan" (charging, emissions, finance, tonight's returns, route sheets) reads the published one, and
the partial unique index uq_*_one_current refuses a second published version even between racing writers.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from fleet.audit import record_event
from fleet.models import ChargingPlan, Depot, PlanStatus, RoutePlan, utcnow


class VersionNotFound(LookupError):
    """No route plan with that version for the depot-day."""


def lock_depot(session: Session, depot_id: int) -> None:
    """Serialise writers of one depot's plans (a PostgreSQL row lock; SQLite has one writer anyway)."""
    session.exec(select(Depot.id).where(Depot.id == depot_id).with_for_update()).first()


def published_version(session: Session, depot_id: int, service_date: dt.date) -> int | None:
    """The published route plan version of the depot-day, or None (unscoped: callers check the depot's scope)."""
    return session.exec(
        select(RoutePlan.version).where(
            RoutePlan.depot_id == depot_id,
            RoutePlan.service_date == service_date,
            RoutePlan.status == PlanStatus.PUBLISHED,
        )
    ).first()


def publish_version(
    session: Session, depot_id: int, service_date: dt.date, version: int, by: str = "planner"
) -> RoutePlan:
    """Make `version` the published plan of the depot-day: the published route and charging plans become
    superseded, the version's route plan (and its charging plan of the same version, when one was stored)
    published. A version without a charging plan leaves the depot-day with none published (never one that
    belongs to other routes). Flushes, never commits: the caller's transaction makes it all or nothing."""
    lock_depot(session, depot_id)
    route = session.exec(
        select(RoutePlan).where(
            RoutePlan.depot_id == depot_id,
            RoutePlan.service_date == service_date,
            RoutePlan.version == version,
        )
    ).first()
    if route is None:
        raise VersionNotFound(f"no route plan version {version} for depot {depot_id} on {service_date}")
    charging = session.exec(
        select(ChargingPlan).where(
            ChargingPlan.depot_id == depot_id,
            ChargingPlan.service_date == service_date,
            ChargingPlan.version == version,
        )
    ).first()
    for model in (RoutePlan, ChargingPlan):
        for old in session.exec(
            select(model).where(
                model.depot_id == depot_id,
                model.service_date == service_date,
                model.status == PlanStatus.PUBLISHED,
            )
        ).all():
            if old.version != version:
                old.status = PlanStatus.SUPERSEDED
                session.add(old)
    session.flush()  # demote first: the partial unique index allows one published row at any moment
    route.status = PlanStatus.PUBLISHED
    route.published_at = utcnow()
    route.published_by = by
    session.add(route)
    if charging is not None:
        charging.status = PlanStatus.PUBLISHED
        session.add(charging)
    depot = session.get(Depot, depot_id)
    record_event(
        session,
        route,
        "publish",
        key=f"{depot.code if depot else depot_id} {service_date.isoformat()} v{version}",
        changes={"published_by": by, "km": round(route.total_km, 1)},
        reason=route.reason or "",
    )
    session.flush()
    return route
