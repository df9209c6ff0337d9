"""Settlement of an event: measured response against a baseline, revenue split per lease.

Baseline (configurable; the Guangdong formula for aggregated EV load is open, data/reference/GRID-PROGRAMMES.md):
the average, slot by slot over the event window, of the site meter on the previous N similar days (by default
workdays with workdays, weekends with weekends; every earlier day with `similar="any"`). A depot's response
[kWh] = max(0, sum over the window of sign x (baseline - measured) x dt), sign +1 for a "down" event and -1 for
"up"; its revenue = price [CNY/kWh] x response. The revenue goes to the trucks pro rata to their share of the
dispatched response (their re-planned power against the plan in the window, charging.dispatch); a leased truck's
part is split lessee / lessor by `Lease.vpp_lessee_share`; a truck without a lease, or revenue no truck earned
(e.g. measured beyond what was dispatched), is the lessor's. Money in CNY, power in kW, energy in kWh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from fleet.vpp.nights import LeaseTerms

SIMILAR = ("day_type", "any")


class SettlementError(ValueError):
    """Not enough history for the baseline, or inconsistent inputs; the message says which depot and days."""


@dataclass(frozen=True)
class BaselineMethod:
    previous_days: int = 5
    similar: str = "day_type"

    def validate(self) -> None:
        if not isinstance(self.previous_days, int) or self.previous_days < 1:
            raise SettlementError(f"baseline previous_days: {self.previous_days!r}, need an integer >= 1")
        if self.similar not in SIMILAR:
            raise SettlementError(f"baseline similar: {self.similar!r}, expected one of {SIMILAR}")

    def describe(self) -> str:
        kind = "similar (workday/weekend)" if self.similar == "day_type" else "any"
        return f"average of the previous {self.previous_days} {kind} days"


def similar_days(event_day: dt.date, available: Iterable[dt.date], method: BaselineMethod) -> list[dt.date]:
    """The `method.previous_days` latest days before `event_day` of its type, newest first."""
    method.validate()
    weekend = event_day.weekday() >= 5
    days = sorted(
        (
            d
            for d in set(available)
            if d < event_day and (method.similar == "any" or (d.weekday() >= 5) == weekend)
        ),
        reverse=True,
    )
    return days[: method.previous_days]


def baseline_kw(
    history: Mapping[dt.date, np.ndarray], event_day: dt.date, method: BaselineMethod, subject: str = ""
) -> tuple[np.ndarray, list[dt.date]]:
    """Average per slot of the similar days' meter in the event window [kW], and the days used."""
    days = similar_days(event_day, history, method)
    if len(days) < method.previous_days:
        raise SettlementError(
            f"{subject or 'baseline'}: {method.describe()} needs {method.previous_days} days with a complete meter "
            f"in the event window before {event_day}; found {len(days)} ({', '.join(map(str, days)) or 'none'})"
        )
    return np.mean([np.asarray(history[d], dtype=float) for d in days], axis=0), days


@dataclass(frozen=True)
class DepotSettlement:
    depot: str
    baseline_days: tuple[dt.date, ...]
    baseline_kw: np.ndarray
    measured_kw: np.ndarray
    response_kw: np.ndarray  # sign x (baseline - measured) per slot
    response_kwh: float  # paid energy (>= 0)
    revenue_cny: float


@dataclass(frozen=True)
class LeaseSettlement:
    depot: str
    plate: str
    lease_code: str | None  # None: the lessor's own truck or unallocated revenue
    lessee_code: str | None
    weight_kwh: float  # the truck's dispatched response
    revenue_cny: float
    lessee_cny: float
    lessor_cny: float


def settle_depot(
    depot: str,
    baseline: np.ndarray,
    baseline_days: Iterable[dt.date],
    measured: np.ndarray,
    *,
    direction: str,
    price_cny_per_kwh: float,
    slot_hours: float,
    weights_kwh: Mapping[str, float],
    leases: Mapping[str, LeaseTerms],
) -> tuple[DepotSettlement, list[LeaseSettlement]]:
    """One depot's response, revenue and its split per truck and lease."""
    if direction not in ("down", "up"):
        raise SettlementError(f"direction: {direction!r}, expected down or up")
    baseline, measured = np.asarray(baseline, dtype=float), np.asarray(measured, dtype=float)
    if baseline.shape != measured.shape:
        raise SettlementError(
            f"depot {depot}: baseline has {baseline.size} slots, the meter {measured.size} in the event window"
        )
    sign = 1.0 if direction == "down" else -1.0
    response = sign * (baseline - measured)
    kwh = max(0.0, float(response.sum()) * slot_hours)
    revenue = price_cny_per_kwh * kwh
    head = DepotSettlement(depot, tuple(baseline_days), baseline, measured, response, kwh, revenue)
    positive = {plate: w for plate, w in weights_kwh.items() if w > 0}
    total = sum(positive.values())
    rows = []
    allocated = 0.0
    if total > 0:
        for plate, w in sorted(positive.items()):
            part = revenue * w / total
            allocated += part
            terms = leases.get(plate)
            share = float(terms.lessee_share) if terms else 0.0
            rows.append(
                LeaseSettlement(
                    depot,
                    plate,
                    terms.lease_code if terms else None,
                    terms.lessee_code if terms else None,
                    w,
                    part,
                    part * share,
                    part * (1 - share),
                )
            )
    if revenue - allocated > 1e-9:
        rows.append(
            LeaseSettlement(
                depot, "(unallocated)", None, None, 0.0, revenue - allocated, 0.0, revenue - allocated
            )
        )
    return head, rows


def split_totals(rows: Iterable[LeaseSettlement]) -> dict[str, float]:
    """Revenue, lessee and lessor totals [CNY]."""
    rows = list(rows)
    return {
        "revenue_cny": sum(r.revenue_cny for r in rows),
        "lessee_cny": sum(r.lessee_cny for r in rows),
        "lessor_cny": sum(r.lessor_cny for r in rows),
    }


def decimal_share(value: object) -> Decimal:
    share = Decimal(str(value))
    if not Decimal(0) <= share <= Decimal(1):
        raise SettlementError(f"lessee share {value!r} is not within [0, 1]")
    return share


__all__ = [
    "BaselineMethod",
    "DepotSettlement",
    "LeaseSettlement",
    "SettlementError",
    "baseline_kw",
    "settle_depot",
    "similar_days",
    "split_totals",
]
