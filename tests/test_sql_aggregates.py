"""Aggregations moved into SQL for a lessor at scale (issue 24) give what the former Python loops gave on the demo.

Each `_former_*` below is the replaced code, kept here only as the reference to compare against."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.models import Connector, Depot, Lease, Lessee, Vehicle, VehicleKind, VehicleModel
from fleet.reports import fleet_summary
from fleet.scope import Scope, list_rows, scope_for

DAYS = (dt.date(2024, 6, 1), dt.date(2026, 11, 25), dt.date.today(), dt.date(2031, 1, 1))


def _former_fleet_figures(session: Session, scope: Scope, today: dt.date) -> list[tuple]:
    """The per-depot fleet, lease and connector figures as `fleet_summary` computed them in Python before."""
    models = {m.id: m for m in session.exec(select(VehicleModel)).all()}
    vehicles = list_rows(session, scope, Vehicle)
    leases = [le for le in list_rows(session, scope, Lease) if le.start_date <= today <= le.end_date]
    connectors = list_rows(session, scope, Connector)
    vehicle_depot = {v.id: v.depot_id for v in vehicles}
    out = []
    for depot in list_rows(session, scope, Depot, order_by=Depot.code):
        fleet = [v for v in vehicles if v.depot_id == depot.id]
        ev = sum(1 for v in fleet if models[v.model_id].kind == VehicleKind.BEV)
        dl = [le for le in leases if vehicle_depot.get(le.vehicle_id) == depot.id]
        cons = [c for c in connectors if c.depot_id == depot.id]
        out.append(
            (
                depot.code,
                ev,
                len(fleet) - ev,
                len(dl),
                sum(le.monthly_rent_fen for le in dl) / 100,
                len(cons),
                sum(c.max_kw for c in cons),
            )
        )
    return out


def test_fleet_summary_in_sql_matches_the_former_loops(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        scopes = [scope_for(s)] + [scope_for(s, lessee_code=le.code) for le in s.exec(select(Lessee)).all()]
        checked = 0
        for scope in scopes:
            for day in DAYS:
                rows = fleet_summary(s, scope, day)
                new = [
                    (
                        r.depot,
                        r.electric_trucks,
                        r.diesel_trucks,
                        r.active_leases,
                        r.monthly_rent_cny,
                        r.connectors,
                        r.connector_kw,
                    )
                    for r in rows
                ]
                assert new == _former_fleet_figures(s, scope, day), (scope.describe(), day)
                checked += sum(r.active_leases for r in rows)
        assert checked > 0  # some leases were running on some of the days


def test_one_lease_reads_only_its_truck_and_gets_the_whole_scope_figures(demo_engine: Engine) -> None:
    """`load_leases(code)` aggregates only the lease's truck (vehicle filter in SQL); every lease's inputs equal
    those computed from the whole scope's context, as before."""
    from fleet.finance.from_db import _context, lease_inputs, load_leases

    with Session(demo_engine) as s:
        scope = scope_for(s)
        whole = _context(s, scope)
        leases = list_rows(s, scope, Lease)
        assert leases
        metered = 0
        for lease in leases:
            (one,) = load_leases(s, scope, lease.code)
            assert one == lease_inputs(lease, whole), lease.code
            metered += "metered" in one.sources.get("usage.ev_kwh_per_100km", "")
        assert metered > 0  # the metered figures were compared, not only defaults


def _former_emissions_avoided(session: Session, lessee_code: str | None, today: dt.date) -> tuple | None:
    """`fleet.services.emissions.emissions_avoided` before the EXISTS check: always the full report."""
    from fleet.emissions.calc import parse_period, total
    from fleet.emissions.profiles import get_profile
    from fleet.emissions.service import report_from_db
    from fleet.services.emissions import DEFAULT_PROFILE
    from fleet.services.scope import in_scope

    period = parse_period(f"{today:%Y-%m}")
    scope = in_scope(session, lessee_code)
    db = report_from_db(session, scope, lessee_code, period, get_profile(DEFAULT_PROFILE), today)
    days = [r for r in (*db.report.ex_post, *db.report.attributed_elsewhere) if r.day <= today]
    if not days:
        return None
    return total(days).reduction_t, f"{period.start:%Y-%m-%d} to {max(r.day for r in days):%Y-%m-%d}"


def test_emissions_avoided_skips_the_report_only_when_nothing_is_metered(demo_engine: Engine) -> None:
    from fleet.models import VehicleDay
    from fleet.services.emissions import emissions_avoided

    with Session(demo_engine) as s:
        last = max(d.day for d in s.exec(select(VehicleDay)).all())
        lessee = s.exec(select(Lessee).order_by(Lessee.code)).first().code
        found = 0
        for code in (None, lessee):
            for day in (last, last.replace(day=1) - dt.timedelta(days=400), dt.date(2031, 1, 1)):
                new = emissions_avoided(s, code, day)
                former = _former_emissions_avoided(s, code, day)
                # Since the month is summed in SQL (fleet.emissions.monthly) only the order of the floating-point
                # additions differs: the label exactly, the tonnes to 1e-12 of their size.
                assert (new is None) == (former is None), (code, day)
                if new is not None:
                    assert new[1] == former[1] and new[0] == pytest.approx(former[0], rel=1e-12), (code, day)
                found += new is not None
        assert found > 0  # a metered month was compared, not only empty ones


def test_lease_codes_read_as_one_column_match_the_orm_rows(demo_engine: Engine) -> None:
    from fleet.services.lease_economics import lease_codes

    with Session(demo_engine) as s:
        for code in [None] + [le.code for le in s.exec(select(Lessee)).all()]:
            scope = scope_for(s, lessee_code=code) if code else scope_for(s)
            former = [le.code for le in list_rows(s, scope, Lease, order_by=Lease.code)]
            assert former and lease_codes(s, code) == former
