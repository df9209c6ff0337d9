"""Load the Shenzhen demo data set (`data/demo/*.csv`) into a database, in one transaction.

Reference rows (lessor, lessees, tariffs, vehicle models, depots, cabinets, connectors) are inserted directly;
vehicles, leases, orders and metered days go through `fleet.importers`, the same validated path users take, so
the demo exercises the importers on every run. Loading twice is refused (the demo lessor already exists) unless
`replace=True`, which deletes the demo lessor's rows first.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, delete, select

from evfleet_data import DEMO_DIR, TARIFFS_JSON
from fleet.db import session_scope
from fleet.demo.build import LESSOR
from fleet.importers import import_file
from fleet.models import (
    OWNED_TABLES,
    ApiKey,
    Connector,
    Depot,
    IdempotencyRecord,
    Lessee,
    LesseeKind,
    Lessor,
    PowerGroup,
    Tariff,
    TelematicsDay,
    TelematicsFrame,
    VehicleKind,
    VehicleModel,
)
from fleet.scope import Scope, add_rows


class DemoAlreadyLoaded(RuntimeError):
    pass


def _rows(name: str, demo_dir: Path) -> list[dict[str, str]]:
    with (demo_dir / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _opt_float(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def _tariff_periods(reference_id: str) -> list[dict[str, Any]]:
    """The base periods and overrides of a tariff in the shipped `tariffs.json`, copied onto the Tariff row."""
    doc = json.loads(TARIFFS_JSON.read_text(encoding="utf-8"))
    for tariff in doc["tariffs"]:
        if tariff["id"] == reference_id:
            return [{**p, "kind": "base"} for p in tariff["periods"]] + [
                {**o, "kind": "override"} for o in tariff.get("overrides", [])
            ]
    raise KeyError(f"tariff {reference_id!r} not in {TARIFFS_JSON}")


def _ensure_shared(
    session: Session, scope: Scope, demo_dir: Path
) -> tuple[dict[str, Tariff], dict[str, VehicleModel]]:
    """Tariffs and vehicle models are shared reference rows: reuse existing codes, add the missing ones."""
    tariffs = {t.code: t for t in session.exec(select(Tariff)).all()}
    for r in _rows("tariffs.csv", demo_dir):
        if r["code"] in tariffs:
            continue
        t = Tariff(
            code=r["code"],
            name=r["name"],
            reference_id=r["reference_id"],
            base_price_cny_per_kwh=Decimal(r["base_price_cny_per_kwh"]),
            base_price_source=r["base_price_source"],
            demand_charge_cny_per_kw_month=Decimal(r["demand_charge_cny_per_kw_month"]),
            demand_charge_source=r["demand_charge_source"],
            periods=_tariff_periods(r["reference_id"]),
            confidence=r["confidence"],
        )
        add_rows(session, scope, [t])
        tariffs[t.code] = t
    models = {m.code: m for m in session.exec(select(VehicleModel)).all()}
    for r in _rows("vehicle_models.csv", demo_dir):
        if r["code"] in models:
            continue
        m = VehicleModel(
            code=r["code"],
            kind=VehicleKind(r["kind"]),
            maker=r["maker"],
            name=r["name"],
            vehicle_class=r["vehicle_class"],
            gvw_kg=_opt_float(r["gvw_kg"]),
            payload_kg=float(r["payload_kg"]),
            price_fen=int(Decimal(r["price_cny"]) * 100),
            battery_kwh=_opt_float(r["battery_kwh"]),
            usable_fraction=_opt_float(r["usable_fraction"]),
            consumption_kwh_per_km_empty=_opt_float(r["consumption_kwh_per_km_empty"]),
            consumption_kwh_per_km_full=_opt_float(r["consumption_kwh_per_km_full"]),
            max_charge_kw=_opt_float(r["max_charge_kw"]),
            diesel_l_per_100km=_opt_float(r["diesel_l_per_100km"]),
            source_refs=r["source_refs"],
            confidence=r["confidence"],
        )
        add_rows(session, scope, [m])
        models[m.code] = m
    session.flush()
    return tariffs, models


def delete_lessor(session: Session, lessor_id: int) -> None:
    """Delete every row of one lessor, children first (plans before stops' parents, etc.)."""
    order = list(reversed(OWNED_TABLES))
    # Children reference parents within OWNED_TABLES; delete in dependency-safe order.
    priority = [
        "ChargingAlert",
        "ConnectorLiveState",
        "RouteStop",
        "ChargingSlot",
        "RoutePlan",
        "ChargingPlan",
        "JobRun",
        "VehicleDay",
        "ChargingSession",
        "Order",
        "Lease",
        "FinanceScenario",
        "Vehicle",
        "Connector",
        "PowerGroup",
        "ImportBatch",
        "Depot",
    ]
    order.sort(key=lambda m: priority.index(m.__name__) if m.__name__ in priority else len(priority))
    # Tables outside OWNED_TABLES that point at the lessor's rows: API credentials and telematics.
    keys = select(ApiKey.id).where(ApiKey.lessor_id == lessor_id)
    session.exec(delete(IdempotencyRecord).where(IdempotencyRecord.api_key_id.in_(keys)))  # type: ignore[attr-defined]
    session.exec(delete(ApiKey).where(ApiKey.lessor_id == lessor_id))
    session.exec(delete(TelematicsDay).where(TelematicsDay.lessor_id == lessor_id))
    session.exec(delete(TelematicsFrame).where(TelematicsFrame.lessor_id == lessor_id))
    for model in order:
        session.exec(delete(model).where(model.lessor_id == lessor_id))  # type: ignore[attr-defined]
    session.exec(delete(Lessee).where(Lessee.lessor_id == lessor_id))
    session.exec(delete(Lessor).where(Lessor.id == lessor_id))
    session.flush()


def load_demo(engine: Engine, *, demo_dir: Path = DEMO_DIR, replace: bool = False) -> dict[str, int]:
    """Load the demo into `engine`'s database (schema must exist); returns row counts per kind."""
    counts: dict[str, int] = {}
    with session_scope(engine) as session:
        existing = session.exec(select(Lessor).where(Lessor.code == LESSOR["code"])).first()
        if existing is not None:
            if not replace:
                raise DemoAlreadyLoaded(f"demo lessor {LESSOR['code']} is already in the database")
            delete_lessor(session, existing.id)  # type: ignore[arg-type]
        lessor = Lessor(code=LESSOR["code"], name=LESSOR["name"])
        session.add(lessor)
        session.flush()
        scope = Scope.lessor(lessor.id)  # type: ignore[arg-type]
        tariffs, _models = _ensure_shared(session, scope, demo_dir)
        lessees = {}
        for r in _rows("lessees.csv", demo_dir):
            le = Lessee(lessor_id=lessor.id, code=r["code"], name=r["name"], kind=LesseeKind(r["kind"]))
            add_rows(session, scope, [le])
            lessees[le.code] = le
        session.flush()
        depots = {}
        for r in _rows("depots.csv", demo_dir):
            d = Depot(
                lessor_id=lessor.id,
                lessee_id=lessees[r["lessee_code"]].id,
                code=r["code"],
                name=r["name"],
                address=r["address"],
                district=r["district"],
                latitude=float(r["latitude"]),
                longitude=float(r["longitude"]),
                grid_import_limit_kw=float(r["grid_import_limit_kw"]),
                tariff_id=tariffs[r["tariff_code"]].id,
            )
            add_rows(session, scope, [d])
            depots[d.code] = d
        session.flush()
        groups = {}
        for r in _rows("power_groups.csv", demo_dir):
            d = depots[r["depot_code"]]
            g = PowerGroup(
                lessor_id=lessor.id,
                lessee_id=d.lessee_id,
                depot_id=d.id,
                code=r["code"],
                max_kw=float(r["max_kw"]),
            )
            add_rows(session, scope, [g])
            groups[(d.code, g.code)] = g
        session.flush()
        connectors = []
        for r in _rows("connectors.csv", demo_dir):
            d = depots[r["depot_code"]]
            connectors.append(
                Connector(
                    lessor_id=lessor.id,
                    lessee_id=d.lessee_id,
                    depot_id=d.id,
                    code=r["code"],
                    max_kw=float(r["max_kw"]),
                    efficiency=float(r["efficiency"]),
                    v2g=r["v2g"] == "true",
                    power_group_id=groups[(d.code, r["power_group"])].id if r["power_group"] else None,
                )
            )
        add_rows(session, scope, connectors)
        session.flush()
        counts.update(lessees=len(lessees), depots=len(depots), connectors=len(connectors))
        for kind, file in (
            ("vehicles", "vehicles.csv"),
            ("leases", "leases.csv"),
            ("trips", "vehicle_days.csv"),
        ):
            counts[kind] = import_file(session, scope, kind, demo_dir / file).inserted
        counts["orders"] = 0
        for code in sorted(lessees):
            path = demo_dir / "orders" / f"{code}.csv"
            if path.exists():
                counts["orders"] += import_file(session, scope, "orders", path, lessee_code=code).inserted
    return counts


def ensure_schema(engine: Engine) -> None:
    """Create missing tables directly (tests, throw-away databases). Real databases use `evfleet db upgrade`."""
    import fleet.models  # noqa: F401

    SQLModel.metadata.create_all(engine)
