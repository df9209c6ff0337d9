"""The demo data set is deterministic, realistic in size and shape, and round-trips through both databases."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from evfleet_data import DEMO_DIR
from fleet.db import make_engine
from fleet.demo.build import build
from fleet.demo.load import DemoAlreadyLoaded, load_demo
from fleet.migrate import upgrade
from fleet.models import (
    Connector,
    Depot,
    Lease,
    Lessee,
    Order,
    Vehicle,
    VehicleDay,
    VehicleKind,
    VehicleModel,
)


def _csv(name: str) -> list[dict[str, str]]:
    with (DEMO_DIR / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _all_orders() -> list[dict[str, str]]:
    return [r for p in sorted((DEMO_DIR / "orders").glob("*.csv")) for r in _csv(f"orders/{p.name}")]


def test_rebuild_reproduces_committed_files(tmp_path: Path) -> None:
    build(tmp_path)
    committed = sorted(p.relative_to(DEMO_DIR) for p in DEMO_DIR.rglob("*.csv"))
    rebuilt = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv"))
    assert committed == rebuilt
    for rel in committed:
        assert (tmp_path / rel).read_bytes() == (DEMO_DIR / rel).read_bytes(), f"{rel} differs from a rebuild"


def test_demo_shape_matches_the_brief() -> None:
    lessees = _csv("lessees.csv")
    assert len(lessees) == 3 and len({r["kind"] for r in lessees}) == 3
    depots = _csv("depots.csv")
    assert len(depots) == 4
    for d in depots:  # real Shenzhen industrial areas
        assert 22.45 < float(d["latitude"]) < 22.85 and 113.75 < float(d["longitude"]) < 114.40
    models = {m["code"]: m for m in _csv("vehicle_models.csv")}
    vehicles = _csv("vehicles.csv")
    ev = [v for v in vehicles if models[v["model_code"]]["kind"] == "bev"]
    assert 60 <= len(ev) <= 100
    assert 2 <= len({v["model_code"] for v in ev}) <= 3
    leases = _csv("leases.csv")
    assert {r["plate"] for r in leases} == {v["plate"] for v in ev}
    for lease in leases:  # every lease names the diesel model it replaces
        assert models[lease["replaced_diesel_model_code"]]["kind"] == "diesel"
    per_depot_day = Counter((r["depot_code"], r["service_date"]) for r in _all_orders())
    days = {d for _, d in per_depot_day}
    assert len(days) == 14
    assert len(per_depot_day) == 14 * 4
    assert all(40 <= n <= 150 for n in per_depot_day.values()), per_depot_day
    for r in _all_orders():
        start, end = dt.datetime.fromisoformat(r["window_start"]), dt.datetime.fromisoformat(r["window_end"])
        assert start < end and start.utcoffset() == dt.timedelta(hours=8)
        assert 5 <= float(r["demand_kg"]) <= 900


def test_demo_load_refuses_twice_and_replaces(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    load_demo(engine)
    with pytest.raises(DemoAlreadyLoaded):
        load_demo(engine)
    counts = load_demo(engine, replace=True)
    assert counts["orders"] == len(_all_orders())
    with Session(engine) as s:
        assert len(s.exec(select(Order)).all()) == len(_all_orders())


def test_schema_round_trips_the_demo(any_url: str) -> None:
    """Load on SQLite and PostgreSQL; every CSV value comes back equal (money exact, times aware)."""
    upgrade(any_url)
    engine = make_engine(any_url)
    counts = load_demo(engine)
    assert counts["vehicles"] == len(_csv("vehicles.csv"))
    assert counts["leases"] == len(_csv("leases.csv"))
    assert counts["trips"] == len(_csv("vehicle_days.csv"))
    with Session(engine) as s:
        depots = {d.id: d for d in s.exec(select(Depot)).all()}
        lessees = {le.id: le for le in s.exec(select(Lessee)).all()}
        models = {m.id: m for m in s.exec(select(VehicleModel)).all()}
        vehicles = {v.id: v for v in s.exec(select(Vehicle)).all()}
        by_plate = {v.plate: v for v in vehicles.values()}
        for row in _csv("vehicles.csv"):
            v = by_plate[row["plate"]]
            assert (v.vin, models[v.model_id].code, depots[v.depot_id].code, lessees[v.lessee_id].code) == (
                row["vin"],
                row["model_code"],
                row["depot_code"],
                row["lessee_code"],
            )
        leases = {le.code: le for le in s.exec(select(Lease)).all()}
        for row in _csv("leases.csv"):
            le = leases[row["code"]]
            assert le.monthly_rent_fen == int(Decimal(row["monthly_rent_cny"]) * 100)
            assert le.purchase_price_fen == int(Decimal(row["purchase_price_cny"]) * 100)
            assert le.loan_annual_rate == Decimal(row["loan_annual_rate"])
            assert le.start_date.isoformat() == row["start_date"]
            assert vehicles[le.vehicle_id].plate == row["plate"]
            assert models[le.replaced_diesel_model_id].code == row["replaced_diesel_model_code"]
        orders = {o.external_ref: o for o in s.exec(select(Order)).all()}
        assert len(orders) == len(_all_orders())
        for row in _all_orders()[::37]:
            o = orders[row["external_ref"]]
            assert o.window_start == dt.datetime.fromisoformat(row["window_start"])
            assert o.window_end == dt.datetime.fromisoformat(row["window_end"])
            assert (o.latitude, o.longitude, o.demand_kg) == (
                float(row["latitude"]),
                float(row["longitude"]),
                float(row["demand_kg"]),
            )
            assert depots[o.depot_id].code == row["depot_code"]
        connectors = s.exec(select(Connector)).all()
        assert len(connectors) == len(_csv("connectors.csv"))
        ev_models = {m.id for m in models.values() if m.kind == VehicleKind.BEV}
        assert all(vehicles[d.vehicle_id].model_id in ev_models for d in s.exec(select(VehicleDay)).all())
    engine.dispose()
