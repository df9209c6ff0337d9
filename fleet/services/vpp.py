"""VPP page and `evfleet vpp`: flexibility per zone, an event's offer and dispatch, and its settlement.

Thin: the maths is charging.flexibility / charging.dispatch and fleet.vpp.settlement; this module reads tonight's
plans and the site meter in the scope, calls them, checks every re-planned depot with the charging checker and
returns plain tables and a JSON-able record of the dispatch (what settlement needs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from charging.check import check as check_schedule
from charging.dispatch import DispatchResult, Event, dispatch
from fleet.i18n import N_, Column
from fleet.models import ChargingPlan, Depot, PlanStatus, SiteMeterReading
from fleet.scope import select_rows
from fleet.services.scope import in_scope
from fleet.vpp.flex import depot_table, zone_summary, zone_table
from fleet.vpp.nights import V2G_FLOOR_SOC, ZonedNight, lease_terms, load_nights
from fleet.vpp.settlement import (
    BaselineMethod,
    LeaseSettlement,
    SettlementError,
    baseline_kw,
    settle_depot,
    split_totals,
)

LOCAL = ZoneInfo("Asia/Shanghai")


def plan_dates(session: Session, lessee_code: str | None, limit: int = 60) -> list[dt.date]:
    """Service dates with current charging plans in the scope, newest first (one SQL query)."""
    scope = in_scope(session, lessee_code)
    query = (
        select(ChargingPlan.service_date)
        .where(select_rows(scope, ChargingPlan).whereclause, ChargingPlan.status == PlanStatus.CURRENT)
        .distinct()
        .order_by(ChargingPlan.service_date.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return list(session.exec(query).all())


@dataclass(frozen=True)
class FlexView:
    depots: pd.DataFrame  # per depot and slot
    zones: pd.DataFrame  # per zone and slot
    summary: pd.DataFrame  # per zone: best slot


def flexibility(
    session: Session, lessee_code: str | None, service_date: dt.date, zone: str | None = None
) -> FlexView:
    """Tonight's flexibility per depot, slot and zone from the current charging plans."""
    nights = load_nights(session, in_scope(session, lessee_code), service_date, zone)
    return flex_of(nights)


def flex_of(nights: Sequence[ZonedNight]) -> FlexView:
    depots = depot_table(nights)
    zones = zone_table(depots)
    return FlexView(depots, zones, zone_summary(zones))


@dataclass(frozen=True)
class DispatchView:
    result: DispatchResult
    slots: pd.DataFrame  # per event slot: target, delivered, shortfall [kW]
    depots: pd.DataFrame  # per depot: response, V2G kWh, cost change, trucks ready / checked
    record: dict[str, Any]  # JSON: what settlement needs

    @property
    def all_ready(self) -> bool:
        """Every truck leaves at least as ready as the plan had it, and the checker passes every depot."""
        d = self.depots
        return bool((d["trucks_ready"] >= d["planned_ready"]).all()) and bool(d["check_ok"].all())


def dispatch_nights(
    nights: Sequence[ZonedNight],
    event: Event,
    *,
    wear_cny_per_kwh: float,
    time_limit_s: float = 120.0,
    seed: int = 0,
    zone: str | None = None,
) -> DispatchView:
    """Dispatch `event` over `nights`, check each depot's new night with the charging checker."""
    if not nights:
        raise ValueError(
            f"no current charging plans{' in zone ' + zone if zone else ''} to dispatch the event on"
        )
    result = dispatch(
        [z.night for z in nights],
        event,
        wear_cny_per_kwh=wear_cny_per_kwh,
        time_limit_s=time_limit_s,
        seed=seed,
    )
    if result.status not in ("optimal", "time_limit") or not result.depots:
        raise RuntimeError(f"dispatch {result.status}: {result.message}")
    rows = []
    for z, d in zip(nights, result.depots, strict=True):
        report = check_schedule(z.night.problem, d.schedule)
        targets = {v.id: v.energy_target_kwh for v in z.night.problem.vehicles}
        ready = sum(1 for v in d.schedule.vehicles if v.energy_departure_kwh >= targets[v.id] - 1e-2)
        rows.append(
            {
                "depot": d.id,
                "zone": z.zone,
                "response_kwh": float(d.response_kw.sum()) * event_hours(result),
                "v2g_kwh": d.discharge_kwh,
                "cost_change_cny": d.cost_delta_cny,
                "trucks": len(d.schedule.vehicles),
                "trucks_ready": ready,
                "planned_ready": sum(
                    1 for v in z.night.plan.vehicles if v.energy_departure_kwh >= targets[v.id] - 1e-2
                ),
                "check_ok": report.ok,
                "violations": "; ".join(v.message for v in report.violations[:3]),
            }
        )
    slots = pd.DataFrame(
        {
            "slot_start": [t.isoformat() for t in result.slot_starts],
            "target_kw": result.target_kw,
            "delivered_kw": result.delivered_kw,
            "shortfall_kw": result.shortfall_kw,
        }
    )
    return DispatchView(result, slots, pd.DataFrame(rows), _record(nights, result, zone))


def event_hours(result: DispatchResult) -> float:
    if len(result.slot_starts) < 2:
        return (result.event.end - result.event.start).total_seconds() / 3600
    return (result.slot_starts[1] - result.slot_starts[0]).total_seconds() / 3600


def _record(nights: Sequence[ZonedNight], result: DispatchResult, zone: str | None) -> dict[str, Any]:
    e = result.event
    return {
        "event": {
            "zone": zone,
            "start": e.start.isoformat(),
            "end": e.end.isoformat(),
            "direction": e.direction,
            "target_kw": e.target_kw,
            "price_cny_per_kwh": e.price_cny_per_kwh,
        },
        "wear_cny_per_kwh": result.wear_cny_per_kwh,
        "status": result.status,
        "solve_s": round(result.solve_s, 3),
        "slot_starts": [t.isoformat() for t in result.slot_starts],
        "target_kw": [round(float(x), 3) for x in result.target_kw],
        "delivered_kw": [round(float(x), 3) for x in result.delivered_kw],
        "depots": [
            {
                "depot": d.id,
                "response_kw": [round(float(x), 3) for x in d.response_kw],
                "site_import_kw": _window(
                    d.schedule.site_import_kw, d.schedule.slot_starts, result.slot_starts
                ),
                "vehicle_response_kwh": {k: round(v, 4) for k, v in d.vehicle_response_kwh.items()},
                "v2g_kwh": round(d.discharge_kwh, 4),
                "cost_change_cny": round(d.cost_delta_cny, 2),
            }
            for d in result.depots
        ],
    }


def _window(
    values: Sequence[float], starts: Sequence[str], window: Sequence[dt.datetime]
) -> list[float | None]:
    index = {dt.datetime.fromisoformat(s): k for k, s in enumerate(starts)}
    return [None if t not in index else round(float(values[index[t]]), 3) for t in window]


def dispatch_event(
    session: Session,
    lessee_code: str | None,
    service_date: dt.date,
    event: Event,
    *,
    zone: str | None = None,
    wear_cny_per_kwh: float,
    floor_soc: float = V2G_FLOOR_SOC,
    time_limit_s: float = 120.0,
    seed: int = 0,
) -> DispatchView:
    nights = load_nights(session, in_scope(session, lessee_code), service_date, zone, floor_soc)
    return dispatch_nights(
        nights, event, wear_cny_per_kwh=wear_cny_per_kwh, time_limit_s=time_limit_s, seed=seed, zone=zone
    )


# ------------------------------------------------------------------------------------------------ settlement


@dataclass(frozen=True)
class SettlementView:
    method: str
    depots: pd.DataFrame  # per depot: baseline days, baseline/measured kWh, response, revenue
    leases: pd.DataFrame  # per truck: lease, lessee, weight, revenue, lessee / lessor parts
    totals: dict[str, float]


def meter_history(
    session: Session,
    lessee_code: str | None,
    depot_codes: Sequence[str],
    window: Sequence[dt.datetime],
    days_back: int,
) -> dict[str, dict[dt.date, np.ndarray]]:
    """Per depot and local day: the meter [kW] in the event window's time of day, days with every slot only.

    One query over [event day - days_back, event end); SQL filters by depot and date range, Python by time of day.
    """
    scope = in_scope(session, lessee_code)
    depots = {
        d.id: d.code for d in session.exec(select_rows(scope, Depot, Depot.code.in_(depot_codes))).all()
    }  # type: ignore[attr-defined]
    first = window[0] - dt.timedelta(days=days_back)
    rows = session.exec(
        select(SiteMeterReading.depot_id, SiteMeterReading.interval_start, SiteMeterReading.kw).where(
            SiteMeterReading.depot_id.in_(list(depots)),  # type: ignore[attr-defined]
            SiteMeterReading.interval_start >= first,
            SiteMeterReading.interval_start < window[-1] + dt.timedelta(minutes=15),
        )
    ).all()
    offsets = {(t - window[0]).total_seconds() % 86400: k for k, t in enumerate(window)}
    event_day = window[0].astimezone(LOCAL).date()
    out: dict[str, dict[dt.date, np.ndarray]] = {code: {} for code in depots.values()}
    for depot_id, start, kw in rows:
        k = offsets.get((start - window[0]).total_seconds() % 86400)
        if k is None:
            continue
        day = event_day + dt.timedelta(days=round((start - window[k]).total_seconds() / 86400))
        out[depots[depot_id]].setdefault(day, np.full(len(window), np.nan))[k] = kw
    for days in out.values():
        for day in [d for d, a in days.items() if np.isnan(a).any()]:
            del days[day]
    return out


def settle(
    session: Session,
    lessee_code: str | None,
    record: dict[str, Any],
    method: BaselineMethod,
    *,
    measured: str = "meter",
    service_date: dt.date | None = None,
) -> SettlementView:
    """Settle a dispatched event (`record` from `dispatch_event`): baseline from the meter's history, measured
    from the meter on the event day (`measured="meter"`) or, for a what-if before the meter data exists, the
    dispatched site import (`measured="dispatch"`, labelled as such)."""
    method.validate()
    if measured not in ("meter", "dispatch"):
        raise SettlementError(f"measured: {measured!r}, expected meter or dispatch")
    event = record["event"]
    window = [dt.datetime.fromisoformat(s) for s in record["slot_starts"]]
    event_day = window[0].astimezone(LOCAL).date()
    codes = [d["depot"] for d in record["depots"]]
    history = meter_history(session, lessee_code, codes, window, days_back=7 * method.previous_days + 14)
    scope = in_scope(session, lessee_code)
    day = service_date or (window[0].astimezone(LOCAL) + dt.timedelta(hours=12)).date()
    terms = lease_terms(session, scope, day)
    slot_h = (window[1] - window[0]).total_seconds() / 3600 if len(window) > 1 else 0.25
    depot_rows, lease_rows = [], []
    for d in record["depots"]:
        code = d["depot"]
        past = {k: v for k, v in history.get(code, {}).items() if k < event_day}
        base, days = baseline_kw(past, event_day, method, subject=f"depot {code}")
        if measured == "meter":
            if event_day not in history.get(code, {}):
                raise SettlementError(
                    f"depot {code}: no complete site meter in the event window on {event_day} "
                    "(import the meter, or settle with measured=dispatch for a what-if)"
                )
            meas = history[code][event_day]
        else:
            meas = np.asarray([np.nan if x is None else x for x in d["site_import_kw"]], dtype=float)
        head, rows = settle_depot(
            code,
            base,
            days,
            meas,
            direction=event["direction"],
            price_cny_per_kwh=float(event["price_cny_per_kwh"]),
            slot_hours=slot_h,
            weights_kwh=d["vehicle_response_kwh"],
            leases=terms,
        )
        depot_rows.append(
            {
                "depot": code,
                "baseline_days": ", ".join(map(str, head.baseline_days)),
                "baseline_kwh": float(head.baseline_kw.sum()) * slot_h,
                "measured_kwh": float(head.measured_kw.sum()) * slot_h,
                "response_kwh": head.response_kwh,
                "revenue_cny": head.revenue_cny,
            }
        )
        lease_rows.extend(r.__dict__ for r in rows)
    leases = pd.DataFrame(lease_rows)
    totals = split_totals(_rows_back(lease_rows))
    label = method.describe() + ("; measured = dispatched plan (what-if)" if measured == "dispatch" else "")
    return SettlementView(label, pd.DataFrame(depot_rows), leases, totals)


def _rows_back(rows: list[dict[str, Any]]) -> list[LeaseSettlement]:
    return [LeaseSettlement(**r) for r in rows]


# How the page shows the frames above: labels with units (English msgids) and decimals (fleet.i18n.Column).
SUMMARY_DISPLAY: dict[str, Column] = {
    "zone": Column(N_("Zone")),
    "max_shed_kw": Column(N_("Most to shed [kW]"), 1),
    "at": Column(N_("At")),
    "max_add_kw": Column(N_("Most to add [kW]"), 1),
    "max_v2g_kw": Column(N_("Most V2G [kW]"), 1),
}
SLOT_DISPLAY: dict[str, Column] = {
    "slot_start": Column(N_("Slot start")),
    "target_kw": Column(N_("Target [kW]"), 1),
    "delivered_kw": Column(N_("Delivered [kW]"), 1),
    "shortfall_kw": Column(N_("Shortfall [kW]"), 1),
}
DISPATCH_DEPOT_DISPLAY: dict[str, Column] = {
    "depot": Column(N_("Depot")),
    "zone": Column(N_("Zone")),
    "response_kwh": Column(N_("Response [kWh]"), 1),
    "v2g_kwh": Column(N_("V2G [kWh]"), 1),
    "cost_change_cny": Column(N_("Charging cost change [CNY]"), 2),
    "trucks": Column(N_("Trucks")),
    "trucks_ready": Column(N_("Trucks ready")),
    "planned_ready": Column(N_("Ready as planned")),
    "check_ok": Column(N_("Charging checker passed")),
    "violations": Column(N_("Violations")),
}
SETTLE_DEPOT_DISPLAY: dict[str, Column] = {
    "depot": Column(N_("Depot")),
    "baseline_days": Column(N_("Baseline days")),
    "baseline_kwh": Column(N_("Baseline [kWh]"), 1),
    "measured_kwh": Column(N_("Measured [kWh]"), 1),
    "response_kwh": Column(N_("Response [kWh]"), 1),
    "revenue_cny": Column(N_("Revenue [CNY]"), 2),
}
SETTLE_LEASE_DISPLAY: dict[str, Column] = {
    "depot": Column(N_("Depot")),
    "plate": Column(N_("Truck")),
    "lease_code": Column(N_("Lease")),
    "lessee_code": Column(N_("Lessee")),
    "weight_kwh": Column(N_("Dispatched response [kWh]"), 1),
    "revenue_cny": Column(N_("Revenue [CNY]"), 2),
    "lessee_cny": Column(N_("Lessee's part [CNY]"), 2),
    "lessor_cny": Column(N_("Lessor's part [CNY]"), 2),
}

__all__ = [
    "DISPATCH_DEPOT_DISPLAY",
    "SETTLE_DEPOT_DISPLAY",
    "SETTLE_LEASE_DISPLAY",
    "SLOT_DISPLAY",
    "SUMMARY_DISPLAY",
    "BaselineMethod",
    "DispatchView",
    "Event",
    "FlexView",
    "SettlementView",
    "dispatch_event",
    "dispatch_nights",
    "flex_of",
    "flexibility",
    "meter_history",
    "plan_dates",
    "settle",
]
