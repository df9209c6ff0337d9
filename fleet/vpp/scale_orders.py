"""A service day of orders for the synthetic lessor (fleet.vpp.scale), so that its depots can be routed.

The synthetic lessor's depots have trucks, chargers and a year of metered days, but the nightly job needs the
orders of a service date. This module makes them, deterministically for (seed, depot, day), and COPYs them in.

Synthetic set-up (ASSUMPTIONS, chosen to be consistent with the synthetic fleet, not sourced facts):

- One tour per truck: the depot gets, for each of its trucks, a tour of `stops` orders (3, 4 or 5, equally
  likely; the demo's parcel depots have about 4 orders per truck a day: 85 orders for ~20 trucks).
- Its road length is drawn like the trucks' metered days, km ~ N(110, 25) clipped to [20, 300] (fleet.vpp.scale),
  so that the routed km per truck are about those of the metered days. The tour's stops lie in a sector towards a
  random bearing: at distances U(0.6, 1) x R from the depot and bearings within +-0.5 rad; R is then scaled so
  that depot -> stops (in bearing order) -> depot, times the routing's road detour factor (1.3), is the drawn km.
  The solver is free to regroup the orders; the tours only fix how far the customers are.
- Time windows: each stop's window is 4 h centred on its arrival time on the nominal tour (leaving the depot at
  07:30, the routing's urban speed 25 km/h, the stop's service time), rounded to the quarter hour and kept within
  the parcel courier's 07:00-20:00 shift (fleet.planning.build.PlanningPolicy; a stop on a very long tour may
  then be unreachable and is reported unserved, never dropped silently).
- Service 8-16 min per stop (uniform, whole minutes; demo orders: 8-25 min).
- Demand: a tour carries 90 % of the truck's payload (BEV-H9E-81: 1,800 kg, so 1,620 kg), split over its stops
  by a Dirichlet(2) draw. A truck leaving full and emptying along the way carries about half that on average,
  0.8 t, close to the 0.9 t average payload of the metered days' tonne-km.
- Every order is open to either kind of truck (the lessor's trucks are all BEV) and has priority 0.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fleet.models import LOCAL_TZ

KM_MEAN, KM_SD, KM_MIN, KM_MAX = 110.0, 25.0, 20.0, 300.0  # as the metered days (fleet.vpp.scale)
STOPS = (3, 4, 5)
DETOUR = 1.3  # routing.matrix.DEFAULT_DETOUR_FACTOR
SPEED_KMH = 25.0  # routing.matrix.DEFAULT_URBAN_SPEED_KMH
TOUR_START_H = 7.5
SHIFT_H = (7.0, 20.0)  # PlanningPolicy.shifts["parcel_courier"]
WINDOW_H = 4.0
LOAD_SHARE = 0.9
PAYLOAD_KG = 1800.0  # data/demo/vehicle_models.csv BEV-H9E-81
KM_PER_DEG_LAT = 111.32
ORDER_COLUMNS = (
    "lessor_id",
    "lessee_id",
    "depot_id",
    "external_ref",
    "service_date",
    "address",
    "latitude",
    "longitude",
    "demand_kg",
    "window_start",
    "window_end",
    "service_minutes",
    "priority",
    "updated_at",
)


@dataclass(frozen=True)
class SyntheticOrder:
    ref: str
    lat: float
    lon: float
    demand_kg: float
    window_start: dt.datetime
    window_end: dt.datetime
    service_minutes: float
    tour: int  # the truck's tour it was drawn for (not stored: the solver regroups freely)
    tour_km: float  # that tour's drawn road km


def _quarter(hours: float) -> float:
    return round(hours * 4) / 4


def depot_orders(
    depot_code: str,
    depot_index: int,
    lat: float,
    lon: float,
    trucks: int,
    day: dt.date,
    seed: int = 0,
    payload_kg: float = PAYLOAD_KG,
) -> list[SyntheticOrder]:
    """The orders of one depot for `day`: `trucks` tours as the module docstring says. Deterministic for
    (seed, depot_index, day) whatever else is generated."""
    rng = np.random.default_rng([seed, depot_index, day.toordinal()])
    midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=LOCAL_TZ)
    km_per_deg_lon = KM_PER_DEG_LAT * math.cos(math.radians(lat))
    out: list[SyntheticOrder] = []
    n = 0
    for t in range(trucks):
        km = float(np.clip(rng.normal(KM_MEAN, KM_SD), KM_MIN, KM_MAX))
        m = int(rng.choice(STOPS))
        bearing = rng.uniform(0, 2 * math.pi)
        phi = np.sort(rng.uniform(-0.5, 0.5, m))
        r = rng.uniform(0.6, 1.0, m)
        # Unit shape (R = 1) in a local flat km frame; its closed length scales linearly with R.
        x = r * np.cos(bearing + phi)
        y = r * np.sin(bearing + phi)
        px = np.concatenate([[0.0], x, [0.0]])
        py = np.concatenate([[0.0], y, [0.0]])
        legs = np.hypot(np.diff(px), np.diff(py))
        radius = km / (DETOUR * legs.sum())
        service = rng.integers(8, 17, m)
        shares = rng.dirichlet(np.full(m, 2.0))
        clock = TOUR_START_H
        for j in range(m):
            clock += legs[j] * radius * DETOUR / SPEED_KMH
            lo = max(SHIFT_H[0], _quarter(clock - WINDOW_H / 2))
            hi = min(SHIFT_H[1], _quarter(clock + WINDOW_H / 2))
            if hi - lo < 1.0:  # a very long tour's late stop: keep a one-hour window at the shift's end
                lo, hi = SHIFT_H[1] - 1.0, SHIFT_H[1]
            n += 1
            out.append(
                SyntheticOrder(
                    ref=f"{depot_code}-{day:%Y%m%d}-{n:04d}",
                    lat=round(lat + x[j] * radius / KM_PER_DEG_LAT, 6),
                    lon=round(lon + y[j] * radius / km_per_deg_lon, 6),
                    demand_kg=round(float(LOAD_SHARE * payload_kg * shares[j]), 1),
                    window_start=midnight + dt.timedelta(hours=lo),
                    window_end=midnight + dt.timedelta(hours=hi),
                    service_minutes=float(service[j]),
                    tour=t,
                    tour_km=round(km, 1),
                )
            )
            clock += service[j] / 60
    return out


@dataclass(frozen=True)
class DepotRow:
    """A synthetic depot as the order loader needs it."""

    id: int
    code: str
    lessor_id: int
    lessee_id: int
    lat: float
    lon: float
    trucks: int


def orders_frame(depots: Sequence[DepotRow], day: dt.date, seed: int = 0) -> pd.DataFrame:
    """The `order` table rows (COPY columns ORDER_COLUMNS) of `depots` for `day`."""
    frames = []
    stamp = dt.datetime.now(dt.UTC).isoformat()
    for d in depots:
        index = int(d.code.rsplit("D", 1)[-1]) if d.code.rsplit("D", 1)[-1].isdigit() else d.id
        orders = depot_orders(d.code, index, d.lat, d.lon, d.trucks, day, seed)
        frames.append(
            pd.DataFrame(
                {
                    "lessor_id": d.lessor_id,
                    "lessee_id": d.lessee_id,
                    "depot_id": d.id,
                    "external_ref": [o.ref for o in orders],
                    "service_date": day.isoformat(),
                    "address": "",
                    "latitude": [o.lat for o in orders],
                    "longitude": [o.lon for o in orders],
                    "demand_kg": [o.demand_kg for o in orders],
                    "window_start": [o.window_start.isoformat() for o in orders],
                    "window_end": [o.window_end.isoformat() for o in orders],
                    "service_minutes": [o.service_minutes for o in orders],
                    "priority": 0,
                    "updated_at": stamp,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(ORDER_COLUMNS))


def synthetic_depots(cur, lessor_code: str, depot_codes: Sequence[str] = ()) -> list[DepotRow]:  # type: ignore[no-untyped-def]
    """The lessor's depots (all, or those of `depot_codes`) with their truck counts, by code."""
    cur.execute(
        "SELECT d.id, d.code, d.lessor_id, d.lessee_id, d.latitude, d.longitude, count(v.id) "
        "FROM depot d JOIN lessor l ON l.id = d.lessor_id LEFT JOIN vehicle v ON v.depot_id = d.id "
        "WHERE l.code = %s GROUP BY d.id ORDER BY d.code",
        (lessor_code,),
    )
    rows = [DepotRow(*r) for r in cur.fetchall()]
    if depot_codes:
        wanted = set(depot_codes)
        rows = [r for r in rows if r.code in wanted]
    return rows


def copy_orders(cur, depots: Sequence[DepotRow], day: dt.date, seed: int = 0) -> int:  # type: ignore[no-untyped-def]
    """COPY the orders of `depots` for `day` on the cursor's connection (not committed); returns the count.
    Refuses a day that already has orders at those depots (a second load would double them)."""
    from fleet.vpp.scale import NULL

    cur.execute(
        'SELECT count(*) FROM "order" WHERE service_date = %s AND depot_id = ANY(%s)',
        (day, [d.id for d in depots]),
    )
    if cur.fetchone()[0]:
        raise ValueError(f"the synthetic depots already have orders on {day}")
    frame = orders_frame(depots, day, seed)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, na_rep=NULL)
    with cur.copy(
        f"COPY \"order\" ({', '.join(ORDER_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
    ) as copy:
        copy.write(buf.getvalue())
    return len(frame)


def load_orders(
    url: str, day: dt.date, seed: int = 0, depot_codes: Sequence[str] = (), lessor_code: str | None = None
) -> int:
    """COPY the synthetic lessor's orders of `day` (every depot, or `depot_codes`) into the PostgreSQL database
    at `url`, for a lessor loaded without them (`fleet.vpp.scale.load(..., orders=False)`). Depots loaded before
    they had a tariff get `fleet.vpp.scale.TARIFF` (the nightly refuses a depot without one)."""
    import psycopg

    from fleet.vpp.scale import LESSOR_CODE, TARIFF, psycopg_dsn

    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        depots = synthetic_depots(cur, lessor_code or LESSOR_CODE, depot_codes)
        if not depots:
            raise ValueError(f"{url}: no depots of the synthetic lessor to give orders to")
        cur.execute(
            "UPDATE depot SET tariff_id = (SELECT id FROM tariff WHERE code = %s) "
            "WHERE id = ANY(%s) AND tariff_id IS NULL",
            (TARIFF, [d.id for d in depots]),
        )
        n = copy_orders(cur, depots, day, seed)
        cur.execute('ANALYZE "order"')
        conn.commit()
    return n


__all__ = [
    "DepotRow",
    "SyntheticOrder",
    "copy_orders",
    "depot_orders",
    "load_orders",
    "orders_frame",
    "synthetic_depots",
]
