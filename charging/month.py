"""A billing month simulated night by night, for the optimiser and for each baseline, each billed as a bill would.

Every policy carries its own month-to-date peak: the optimiser prices only the increase above the peak its own
earlier nights reached (the demand charge is billed once, on the month's maximum), and each baseline runs as it
would. The month's bill then pays energy night by night and one basic charge on the policy's monthly maximum
(`charging.billing.monthly_basic_charge`): no night bears a whole month's demand charge.

Money [CNY], power [kW], energy [kWh]. Pure: the nights come in as typed problems, the bill goes out typed.

References
----------
Reporting rule and billing facts: docs/charging-economics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np

from charging.baselines import BASELINES
from charging.baselines import observed as observed_baseline
from charging.billing import (
    BillingRules,
    DemandBasis,
    MonthlyBasicCharge,
    days_in_month,
    monthly_basic_charge,
)
from charging.problem import ChargingProblem
from charging.result import ChargingSchedule
from charging.tariff import Tariff

__all__ = ["MonthBill", "MonthResult", "NightLine", "optimiser_tariff", "simulate_month"]

OPTIMISED = "optimised"


def optimiser_tariff(tariff: Tariff, rules: BillingRules, month: date, month_peak_kw: float) -> Tariff:
    """The tariff a night's optimiser sees: the maximum-demand rate and contract only where they are billed.

    Single-part tariffs, the capacity basis and the charging-facility exemption make the peak free for the
    optimiser (a capacity charge is carried as a fixed monthly amount, for the nightly share a report shows);
    energy prices are untouched. The rate is the full monthly rate on the increase above the month's
    peak so far (proration 1).
    """
    billed = rules.why_no_basic_charge(month) is None and rules.basis is DemandBasis.MAXIMUM_DEMAND
    capacity = rules.why_no_basic_charge(month) is None and rules.basis is DemandBasis.CAPACITY
    return replace(
        tariff,
        # the capacity charge no schedule changes: carried for the per-night share only
        fixed_basic_charge_cny_per_month=(
            rules.capacity_rate_cny_per_kva_month * rules.transformer_kva if capacity else 0.0
        ),
        demand_charge_per_kw_month=rules.demand_rate_cny_per_kw_month if billed else 0.0,
        contracted_demand_kw=rules.contracted_demand_kw if billed else None,
        overrun_multiplier=rules.overrun_multiplier,
        month_peak_kw_so_far=month_peak_kw,
        demand_charge_proration=1.0,
    )


@dataclass(frozen=True)
class NightLine:
    """One night of one policy: its energy bill [CNY], its site peak [kW] and the month's peak after it."""

    night: date
    energy_cny: float
    peak_kw: float
    month_peak_kw: float
    shortfall_kwh: float
    status: str


@dataclass(frozen=True)
class MonthBill:
    """One policy's month: energy over the simulated nights plus one basic charge on the month's maximum."""

    policy: str
    nights: tuple[NightLine, ...]
    basic_charge: MonthlyBasicCharge

    @property
    def energy_cny(self) -> float:
        return sum(n.energy_cny for n in self.nights)

    @property
    def demand_cny(self) -> float:
        return self.basic_charge.total_cny

    @property
    def total_cny(self) -> float:
        return self.energy_cny + self.demand_cny

    @property
    def peak_kw(self) -> float:
        return max((n.peak_kw for n in self.nights), default=0.0)

    @property
    def shortfall_kwh(self) -> float:
        return sum(n.shortfall_kwh for n in self.nights)


@dataclass(frozen=True)
class MonthResult:
    """Every policy's month over the same nights, and what the simulation covered."""

    month: date  # first day of the billing month
    days_in_month: int
    bills: dict[str, MonthBill] = field(default_factory=dict)
    observed_missing: tuple[date, ...] = ()  # nights without metered sessions (no "observed" bill then)

    @property
    def nights_simulated(self) -> int:
        return len(next(iter(self.bills.values())).nights) if self.bills else 0

    def saving(self, baseline: str) -> tuple[float, float, float | None]:
        """(energy saving, demand saving, total saving in % of the baseline) of the optimiser [CNY]."""
        opt, base = self.bills[OPTIMISED], self.bills[baseline]
        total = base.total_cny - opt.total_cny
        pct = 100.0 * total / base.total_cny if base.total_cny > 1e-9 else None
        return base.energy_cny - opt.energy_cny, base.demand_cny - opt.demand_cny, pct

    def to_json(self) -> dict[str, object]:
        return {
            "month": self.month.isoformat()[:7],
            "days_in_month": self.days_in_month,
            "nights_simulated": self.nights_simulated,
            "basis": (
                "energy: the simulated nights at the time-of-use price; demand: one basic charge for the month on "
                "each policy's maximum site peak over the simulated nights"
            ),
            "bills": {
                name: {
                    "energy_cny": round(b.energy_cny, 2),
                    "demand_cny": round(b.demand_cny, 2),
                    "total_cny": round(b.total_cny, 2),
                    "peak_kw": round(b.peak_kw, 2),
                    "shortfall_kwh": round(b.shortfall_kwh, 3),
                    "demand_basis": b.basic_charge.reason,
                    "nights": [
                        {
                            "night": n.night.isoformat(),
                            "energy_cny": round(n.energy_cny, 4),
                            "peak_kw": round(n.peak_kw, 3),
                            "month_peak_kw": round(n.month_peak_kw, 3),
                            "shortfall_kwh": round(n.shortfall_kwh, 3),
                            "status": n.status,
                        }
                        for n in b.nights
                    ],
                }
                for name, b in self.bills.items()
            },
        }


Optimiser = Callable[[ChargingProblem], ChargingSchedule]


def _line(problem: ChargingProblem, s: ChargingSchedule, month_peak_kw: float) -> NightLine:
    peak = float(np.maximum(np.asarray(s.site_import_kw, dtype=float), 0.0).max(initial=0.0))
    return NightLine(
        night=problem.billing_night,
        energy_cny=s.cost.energy,
        peak_kw=peak,
        month_peak_kw=max(month_peak_kw, peak),
        shortfall_kwh=float(sum(u.shortfall_kwh for u in s.unmet)),
        status=s.status,
    )


def simulate_month(
    nights: Sequence[ChargingProblem],
    rules: BillingRules,
    optimise: Optimiser,
    *,
    metered_peak_kw: float = 0.0,
    baselines: Sequence[str] = tuple(BASELINES),
    observed: Mapping[date, Sequence[tuple[str, datetime, datetime, float]]] | None = None,
) -> MonthResult:
    """Simulate the nights of one billing month in date order for the optimiser and each baseline.

    Parameters
    ----------
    nights : one problem per night, all starting in the same billing month (local date of `start`).
    rules : how the depot's basic charge is billed.
    optimise : the optimiser for one night (e.g. `lambda p: schedule(p, time_limit_s=20, seed=0,
        baselines=False)`); it receives the night with the tariff `optimiser_tariff` gives it.
    metered_peak_kw : the site's metered peak in the month before the first simulated night [kW].
    baselines : names in `charging.baselines.BASELINES`.
    observed : metered sessions (vehicle id, start, end, grid kWh) per billing night: adds the "observed" bill,
        what the depot really did, when every simulated night has sessions (otherwise it would not be the same
        nights; `MonthResult.observed_missing` then names the nights without).
    """
    if not nights:
        raise ValueError("nights: give at least one night of the month")
    ordered = sorted(nights, key=lambda p: p.start)
    first = ordered[0].billing_night
    month = date(first.year, first.month, 1)
    for p in ordered:
        night = p.billing_night
        if (night.year, night.month) != (month.year, month.month):
            raise ValueError(
                f"nights: {night.isoformat()} is not in the billing month {month.isoformat()[:7]}"
            )
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise ValueError(f"baselines: unknown {', '.join(unknown)} (known: {', '.join(BASELINES)})")
    bills: dict[str, MonthBill] = {}
    peak = metered_peak_kw
    lines = []
    for p in ordered:
        night_problem = replace(p, tariff=optimiser_tariff(p.tariff, rules, month, peak))
        line = _line(night_problem, optimise(night_problem), peak)
        peak = line.month_peak_kw
        lines.append(line)
    bills[OPTIMISED] = MonthBill(OPTIMISED, tuple(lines), monthly_basic_charge(rules, month, peak))
    for name in baselines:
        peak, lines = metered_peak_kw, []
        for p in ordered:
            line = _line(p, BASELINES[name](p), peak)
            peak = line.month_peak_kw
            lines.append(line)
        bills[name] = MonthBill(name, tuple(lines), monthly_basic_charge(rules, month, peak))
    missing: tuple[date, ...] = ()
    if observed:
        missing = tuple(p.billing_night for p in ordered if p.billing_night not in observed)
        if not missing:
            peak, lines = metered_peak_kw, []
            for p in ordered:
                line = _line(p, observed_baseline(p, observed[p.billing_night]), peak)
                peak = line.month_peak_kw
                lines.append(line)
            bills["observed"] = MonthBill("observed", tuple(lines), monthly_basic_charge(rules, month, peak))
    return MonthResult(month=month, days_in_month=days_in_month(month), bills=bills, observed_missing=missing)
