"""A synthetic lessor at the scale of a real one, bulk-loaded into PostgreSQL with COPY (psycopg 3).

Full size (issue 24): 1,000 depots, 80,000 trucks, 200 lessees and a year of metered days, 80,000 x 365 =
29.2 M `vehicleday` rows. `ScaleSpec.fraction(f)` keeps the shape (80 trucks per depot, 400 per lessee, a whole
year) and scales the counts, so one lessee's annual package reads as many rows as at full size while the table is
f times as large. Set-up choices (synthetic, not sourced): depots spread over `CITIES` as grid zones; every truck a
BEV of one demo model replacing one demo diesel model; km per day ~ N(110, 25) clipped to [20, 300]; kWh per km
0.20 x N(1, 0.08) at the vehicle, charger kWh = vehicle kWh / 0.92; 0.9 t average payload for tonne-km; every
depot on the demo depots' Guangdong two-part TOU tariff (`TARIFF`). Optionally (`orders=True`, or
`fleet.vpp.scale_orders.load_orders` later) a service day of orders per depot, so the nightly can route them.

Loading: the shared reference rows (tariffs, vehicle models) come from the demo's files, the database holds this
one lessor (as a deployment does); the synthetic
rows go through `COPY ... FROM STDIN` in CSV text, one stream per table, `vehicleday` in day-sized chunks. With
`defer_indexes` the table's secondary indexes and foreign keys are dropped before the COPY and restored after it
(timed apart; adding a foreign key validates every row in one join): the PostgreSQL manual's bulk-load practice.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

NULL = "\\N"  # COPY's NULL marker, so that an empty string stays an empty string
CITIES = ("Shenzhen", "Guangzhou", "Dongguan", "Foshan", "Huizhou", "Zhuhai", "Zhongshan", "Jiangmen")
LESSOR_CODE = "SYN-LESSOR"
BEV_MODEL = "BEV-H9E-81"  # data/demo/vehicle_models.csv
DIESEL_MODEL = "DSL-4.5T"
TARIFF = "GD-TOU-2021"  # data/demo/tariffs.csv: the demo depots' Guangdong two-part TOU tariff
VEHICLEDAY_COLUMNS = (
    "lessor_id",
    "lessee_id",
    "vehicle_id",
    "depot_id",
    "day",
    "km",
    "kwh_vehicle",
    "kwh_charger",
    "tonne_km",
    "source",
)


@dataclass(frozen=True)
class ScaleSpec:
    depots: int = 1000
    trucks: int = 80_000
    lessees: int = 200
    days: int = 365
    first_day: dt.date = dt.date(2025, 1, 1)
    seed: int = 0

    @property
    def rows(self) -> int:
        return self.trucks * self.days

    @property
    def service_day(self) -> dt.date:
        """The day after the metered days: the service date the synthetic orders are made for (the nightly
        then reads each truck's last metered day as tonight's return energy)."""
        return self.first_day + dt.timedelta(days=self.days)

    def fraction(self, f: float) -> ScaleSpec:
        """The same shape with f x the depots, trucks and lessees (at least one each), the whole year kept."""
        if not 0 < f <= 1:
            raise ValueError(f"fraction {f} is not in (0, 1]")
        return replace(
            self,
            depots=max(1, round(self.depots * f)),
            trucks=max(1, round(self.trucks * f)),
            lessees=max(1, round(self.lessees * f)),
        )


@dataclass(frozen=True)
class LoadReport:
    spec: ScaleSpec
    rows: int
    copy_s: float  # vehicleday COPY only
    index_s: float  # rebuilding the deferred indexes and foreign keys (0 when not deferred)
    analyze_s: float
    setup_s: float  # schema, demo reference rows, lessees/depots/vehicles/leases
    cpu_s: float  # this process (generation + CSV formatting)
    summary_s: float = (
        0.0  # rebuilding the monthly summary and the lessor's emissions tables (migration 0016)
    )
    orders: int = 0  # synthetic orders of `spec.service_day` (fleet.vpp.scale_orders), 0 when not asked for
    orders_s: float = 0.0  # their generation and COPY

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.copy_s if self.copy_s else 0.0

    @property
    def rows_per_s_with_indexes(self) -> float:
        total = self.copy_s + self.index_s
        return self.rows / total if total else 0.0


def psycopg_dsn(url: str) -> str:
    """SQLAlchemy URL -> libpq URL (`postgresql+psycopg://` -> `postgresql://`)."""
    if not url.startswith("postgresql"):
        raise ValueError(f"{url!r}: the scale database must be PostgreSQL (COPY)")
    return "postgresql://" + url.split("://", 1)[1]


def _copy_frame(cur, table: str, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, na_rep=NULL)
    with cur.copy(
        f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
    ) as copy:
        copy.write(buf.getvalue())


def _ids(cur, table: str, lessor_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    key = "plate" if table == "vehicle" else "code"
    cur.execute(f"SELECT {key}, id FROM {table} WHERE lessor_id = %s", (lessor_id,))
    return dict(cur.fetchall())


def _drop_secondary(cur, table: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Drop `table`'s foreign keys and secondary indexes; return the statements that restore them, as the
    schema (Alembic) made them. PostgreSQL manual, "Populating a Database": load first, then build indexes and
    add foreign keys (one validating join instead of a trigger call per row)."""
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        (table,),
    )
    fks = cur.fetchall()
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
        (table, f"{table}_pkey"),
    )
    indexes = cur.fetchall()
    for name, _ in fks:
        cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for name, definition in fks
    ]


def load(
    url: str,
    spec: ScaleSpec,
    *,
    defer_indexes: bool = True,
    progress: Callable[[int, int], None] | None = None,
    orders: bool = False,
) -> LoadReport:
    """Create the schema (Alembic), the demo reference rows and the synthetic lessor; COPY its year of rows.
    With `orders`, also the orders of `spec.service_day` at every depot (fleet.vpp.scale_orders), so that the
    nightly job can route them; the big load leaves them out (they can be added later with `load_orders`)."""
    import psycopg
    from sqlmodel import select

    from fleet.db import make_engine, session_scope
    from fleet.demo.load import ensure_reference
    from fleet.migrate import upgrade
    from fleet.models import Lessor
    from fleet.scope import Scope

    c0, t0 = time.process_time(), time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        if session.exec(select(Lessor).where(Lessor.code == LESSOR_CODE)).first() is not None:
            raise ValueError(
                f"{url}: the synthetic lessor {LESSOR_CODE} is already loaded (use a fresh database)"
            )
        lessor = Lessor(code=LESSOR_CODE, name="Synthetic lessor")
        session.add(lessor)
        session.flush()
        lessor_id = int(lessor.id)  # type: ignore[arg-type]
        ensure_reference(session, Scope.lessor(lessor_id))
    engine.dispose()
    rng = np.random.default_rng(spec.seed)
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, id FROM vehiclemodel WHERE code IN (%s, %s)", (BEV_MODEL, DIESEL_MODEL))
        models = dict(cur.fetchall())
        cur.execute("SELECT id FROM tariff WHERE code = %s", (TARIFF,))
        tariff_id = cur.fetchone()[0]  # type: ignore[index]
        lessee_codes = [f"SYN-LE-{i + 1:03d}" for i in range(spec.lessees)]
        _copy_frame(
            cur,
            "lessee",
            pd.DataFrame(
                {
                    "lessor_id": lessor_id,
                    "code": lessee_codes,
                    "name": [f"Synthetic logistics {i + 1}" for i in range(spec.lessees)],
                    "kind": "parcel_courier",
                }
            ),
        )
        lessees = _ids(cur, "lessee", lessor_id)
        depot_codes = [f"SYN-D{i + 1:04d}" for i in range(spec.depots)]
        # Each depot belongs to one lessee (its operator), as the demo's do.
        depot_lessee = [lessees[lessee_codes[i % spec.lessees]] for i in range(spec.depots)]
        city = [CITIES[i % len(CITIES)] for i in range(spec.depots)]
        per_depot = max(1, spec.trucks // spec.depots)
        _copy_frame(
            cur,
            "depot",
            pd.DataFrame(
                {
                    "lessor_id": lessor_id,
                    "lessee_id": depot_lessee,
                    "code": depot_codes,
                    "name": [f"synthetic depot {i + 1}" for i in range(spec.depots)],
                    "address": "",
                    "district": city,
                    "grid_zone": city,
                    "latitude": 22.5 + rng.uniform(0, 0.6, spec.depots),
                    "longitude": 113.5 + rng.uniform(0, 1.0, spec.depots),
                    "grid_import_limit_kw": 0.5 * per_depot * 60.0,
                    "tariff_id": tariff_id,
                    "timezone": "Asia/Shanghai",
                }
            ),
        )
        depots = _ids(cur, "depot", lessor_id)
        depot_of = np.minimum(np.arange(spec.trucks) // per_depot, spec.depots - 1)
        truck_depot_id = np.array([depots[depot_codes[k]] for k in depot_of])
        truck_lessee_id = np.array([depot_lessee[k] for k in depot_of])
        plates = [f"粤S·{i:06d}" for i in range(spec.trucks)]
        _copy_frame(
            cur,
            "connector",
            pd.DataFrame(
                {
                    "lessor_id": lessor_id,
                    "lessee_id": truck_lessee_id,
                    "depot_id": truck_depot_id,
                    "code": [
                        f"DC{i % per_depot + 1:03d}" if i < per_depot * spec.depots else f"DX{i:06d}"
                        for i in range(spec.trucks)
                    ],
                    "max_kw": 60.0,
                    "efficiency": 0.95,
                    "v2g": (np.arange(spec.trucks) % 4) == 0,
                }
            ),
        )
        _copy_frame(
            cur,
            "vehicle",
            pd.DataFrame(
                {
                    "lessor_id": lessor_id,
                    "lessee_id": truck_lessee_id,
                    "plate": plates,
                    "vin": [f"LSYN{i:013d}" for i in range(spec.trucks)],
                    "model_id": models[BEV_MODEL],
                    "depot_id": truck_depot_id,
                    "status": "leased",
                    "commissioned_on": spec.first_day - dt.timedelta(days=90),
                }
            ),
        )
        vehicles = _ids(cur, "vehicle", lessor_id)
        vehicle_id = np.array([vehicles[p] for p in plates])
        _copy_frame(
            cur,
            "lease",
            pd.DataFrame(
                {
                    "lessor_id": lessor_id,
                    "lessee_id": truck_lessee_id,
                    "code": [f"SYN-L{i:06d}" for i in range(spec.trucks)],
                    "vehicle_id": vehicle_id,
                    "start_date": spec.first_day - dt.timedelta(days=90),
                    "end_date": spec.first_day + dt.timedelta(days=3 * 365),
                    "monthly_rent_fen": 750_000,
                    "deposit_fen": 0,
                    "replaced_diesel_model_id": models[DIESEL_MODEL],
                    "purchase_price_fen": 30_000_000,
                    "subsidy_fen": 0,
                    "down_payment_fen": 0,
                    "loan_annual_rate": 0.042,
                    "loan_term_months": 36,
                    "repayment": "annuity",
                    "residual_value_fen": 6_000_000,
                    "maintenance_by_lessor": True,
                    "emissions_claimant": "lessee",
                    "v2g_consent": rng.random(spec.trucks) < 0.5,
                }
            ),
        )
        n_orders, orders_s = 0, 0.0
        if orders:
            from fleet.vpp.scale_orders import copy_orders, synthetic_depots

            t_orders = time.perf_counter()
            n_orders = copy_orders(cur, synthetic_depots(cur, LESSOR_CODE), spec.service_day, spec.seed)
            orders_s = time.perf_counter() - t_orders
        deferred = _drop_secondary(cur, "vehicleday") if defer_indexes else []
        conn.commit()
        setup_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        consumption = 0.20 * np.clip(rng.normal(1.0, 0.08, spec.trucks), 0.7, 1.3)
        with cur.copy(
            f"COPY vehicleday ({', '.join(VEHICLEDAY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            for d in range(spec.days):
                day = spec.first_day + dt.timedelta(days=d)
                km = np.clip(rng.normal(110.0, 25.0, spec.trucks), 20.0, 300.0).round(1)
                kwh = (km * consumption).round(2)
                frame = pd.DataFrame(
                    {
                        "lessor_id": lessor_id,
                        "lessee_id": truck_lessee_id,
                        "vehicle_id": vehicle_id,
                        "depot_id": truck_depot_id,
                        "day": day.isoformat(),
                        "km": km,
                        "kwh_vehicle": kwh,
                        "kwh_charger": (kwh / 0.92).round(2),
                        "tonne_km": (km * 0.9).round(1),
                        "source": "synthetic",
                    }
                )
                buf = io.StringIO()
                frame.to_csv(buf, index=False, header=False)
                copy.write(buf.getvalue())
                if progress:
                    progress(d + 1, spec.days)
        conn.commit()
        copy_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        for statement in deferred:
            cur.execute(statement)
        conn.commit()
        index_s = time.perf_counter() - t2
        t3 = time.perf_counter()
        cur.execute("ANALYZE")
        conn.commit()
        analyze_s = time.perf_counter() - t3
    t4 = time.perf_counter()
    from fleet.emissions.monthly import refresh

    engine = make_engine(url)
    with session_scope(engine) as session:
        refresh(session)  # the lessor's pages read the summary, not 29 M rows (docs/scale.md)
    engine.dispose()
    summary_s = time.perf_counter() - t4
    return LoadReport(
        spec,
        spec.rows,
        copy_s,
        index_s,
        analyze_s,
        setup_s,
        time.process_time() - c0,
        summary_s,
        orders=n_orders,
        orders_s=orders_s,
    )


__all__ = ["CITIES", "LESSOR_CODE", "TARIFF", "LoadReport", "ScaleSpec", "load", "psycopg_dsn"]
