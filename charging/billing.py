"""How a depot's electricity is billed beyond the energy price: single- or two-part, the basic charge, the exemption.

The energy price per slot (time-of-use periods, critical peak, hot-day flag, market factors, unscaled funds) lives in
`charging.tariff.Tariff`. This module adds the monthly basic charge (基本电价) of a two-part tariff and the rules
that decide who pays it and on what:

- basis: transformer capacity [CNY/kVA·month × kVA], independent of the load, or maximum demand
  [CNY/kW·month × the month's highest metered 15-minute average of the whole site, base load included];
- overrun: metered demand above the contracted maximum demand is billed at twice the rate;
- exemption: centralised charging facilities on two-part pricing pay no demand (capacity) charge until 2030, where
  the charging facility is metered separately; chargers behind the warehouse meter still pay on the site's peak.

All money in [CNY], power in [kW], capacity in [kVA]. Pure functions, no I/O.

References
----------
- NDRC et al. (2023), 《关于促进汽车消费的若干措施》: "到2030年前，对实行两部制电价的集中式充换电设施用电免收需量
  （容量）电费".
- 惠州供电局 notice on two-part tariff bases (2016-12-16): capacity or maximum demand, chosen by the user.
- Overrun above the contracted demand at twice the rate: suoa.com.cn/newsInfo/20.html.
- Reporting rule (per night pro-rated, per month one charge on the monthly maximum): docs/charging-economics.md.
"""

from __future__ import annotations

import calendar
import enum
import math
from dataclasses import dataclass
from datetime import date

__all__ = [
    "CHARGING_EXEMPTION_ENDS",
    "BillingError",
    "BillingRules",
    "DemandBasis",
    "DemandSegment",
    "MonthlyBasicCharge",
    "TariffStructure",
    "days_in_month",
    "demand_segments",
    "increase_cost",
    "monthly_basic_charge",
    "nightly_share",
]

# "到2030年前": the exemption holds for billing months before 2030-01-01.
CHARGING_EXEMPTION_ENDS = date(2030, 1, 1)


class BillingError(ValueError):
    """Billing rules that cannot be applied (the message names the field)."""


class TariffStructure(str, enum.Enum):
    SINGLE_PART = "single_part"  # energy only (单一制)
    TWO_PART = "two_part"  # energy + basic charge (两部制)


class DemandBasis(str, enum.Enum):
    CAPACITY = "capacity"  # 容量: CNY/kVA·month on the transformer's kVA
    MAXIMUM_DEMAND = "maximum_demand"  # 需量: CNY/kW·month on the month's highest metered 15-min demand


@dataclass(frozen=True)
class BillingRules:
    """The basic-charge side of a depot's tariff, as the bill applies it."""

    structure: TariffStructure = TariffStructure.SINGLE_PART
    basis: DemandBasis = DemandBasis.MAXIMUM_DEMAND
    demand_rate_cny_per_kw_month: float = 0.0
    capacity_rate_cny_per_kva_month: float = 0.0
    transformer_kva: float = 0.0
    contracted_demand_kw: float | None = None  # None: no contract declared, no overrun
    overrun_multiplier: float = 2.0  # above the contract at twice the rate
    centralised_charging_facility: bool = False  # a 集中式充换电设施 on two-part pricing
    charging_metered_separately: bool = False  # its own meter, not the warehouse's
    exemption_ends: date = CHARGING_EXEMPTION_ENDS

    def __post_init__(self) -> None:
        for name in (
            "demand_rate_cny_per_kw_month",
            "capacity_rate_cny_per_kva_month",
            "transformer_kva",
            "overrun_multiplier",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise BillingError(f"billing.{name}: must be a finite number >= 0, got {value!r}")
        if self.overrun_multiplier < 1:
            raise BillingError(f"billing.overrun_multiplier: must be >= 1, got {self.overrun_multiplier}")
        if self.contracted_demand_kw is not None and not (
            math.isfinite(self.contracted_demand_kw) and self.contracted_demand_kw > 0
        ):
            raise BillingError(
                f"billing.contracted_demand_kw: must be > 0 or empty, got {self.contracted_demand_kw!r}"
            )
        if self.structure is TariffStructure.TWO_PART:
            if self.basis is DemandBasis.CAPACITY and self.transformer_kva <= 0:
                raise BillingError(
                    "billing.transformer_kva: the capacity basis needs the transformer's kVA > 0"
                )
            if self.basis is DemandBasis.CAPACITY and self.contracted_demand_kw is not None:
                raise BillingError(
                    "billing.contracted_demand_kw: a contract applies to the maximum-demand basis only"
                )

    def exempt_in(self, month: date) -> bool:
        """True when the charging-facility exemption removes the basic charge for the month of `month`."""
        return (
            self.structure is TariffStructure.TWO_PART
            and self.centralised_charging_facility
            and self.charging_metered_separately
            and date(month.year, month.month, 1) < self.exemption_ends
        )

    def why_no_basic_charge(self, month: date) -> str | None:
        """Plain reason when the month bears no basic charge, else None."""
        if self.structure is TariffStructure.SINGLE_PART:
            return "single-part tariff: energy only, no basic charge"
        if self.exempt_in(month):
            return (
                "separately metered centralised charging facility: no demand (capacity) charge before "
                f"{self.exemption_ends.isoformat()} (NDRC 2023 consumption measures)"
            )
        return None


@dataclass(frozen=True)
class MonthlyBasicCharge:
    """One month's basic charge as the bill shows it [CNY]."""

    basis: str  # "none" | "capacity" | "maximum_demand"
    billed_quantity: float  # [kVA] on capacity, [kW] metered maximum on demand, 0 when none
    within_contract_cny: float
    overrun_cny: float
    reason: str  # why the charge is what it is, in one line

    @property
    def total_cny(self) -> float:
        return self.within_contract_cny + self.overrun_cny


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def monthly_basic_charge(rules: BillingRules, month: date, site_peak_kw: float) -> MonthlyBasicCharge:
    """The basic charge for the month holding `month`, given the site's metered monthly maximum [kW].

    `site_peak_kw` is the whole site's highest 15-minute average import, base load included.
    """
    if not math.isfinite(site_peak_kw) or site_peak_kw < 0:
        raise BillingError(f"site_peak_kw: must be a finite number >= 0, got {site_peak_kw!r}")
    reason = rules.why_no_basic_charge(month)
    if reason is not None:
        return MonthlyBasicCharge("none", 0.0, 0.0, 0.0, reason)
    if rules.basis is DemandBasis.CAPACITY:
        kva = rules.transformer_kva
        return MonthlyBasicCharge(
            "capacity",
            kva,
            rules.capacity_rate_cny_per_kva_month * kva,
            0.0,
            f"capacity basis: {rules.capacity_rate_cny_per_kva_month:g} CNY/kVA·month × {kva:g} kVA",
        )
    rate = rules.demand_rate_cny_per_kw_month
    contract = rules.contracted_demand_kw
    if contract is None or site_peak_kw <= contract:
        return MonthlyBasicCharge(
            "maximum_demand",
            site_peak_kw,
            rate * site_peak_kw,
            0.0,
            f"maximum-demand basis: {rate:g} CNY/kW·month × {site_peak_kw:.1f} kW",
        )
    over = site_peak_kw - contract
    return MonthlyBasicCharge(
        "maximum_demand",
        site_peak_kw,
        rate * contract,
        rate * rules.overrun_multiplier * over,
        f"maximum-demand basis: {rate:g} CNY/kW·month × {contract:.1f} kW contracted + "
        f"{rules.overrun_multiplier:g} × {rate:g} × {over:.1f} kW overrun",
    )


def nightly_share(rules: BillingRules, night: date, site_peak_kw: float) -> float:
    """One night's share of the month's basic charge [CNY]: the monthly charge on `site_peak_kw` ÷ days in month.

    This is the per-night figure a report may show; it never books a whole month's charge on one night.
    """
    return monthly_basic_charge(rules, night, site_peak_kw).total_cny / days_in_month(night)


@dataclass(frozen=True)
class DemandSegment:
    """A stretch of peak increase priced at one rate: `width_kw` (inf for the last) at `cny_per_kw`."""

    width_kw: float
    cny_per_kw: float


def demand_segments(
    rules: BillingRules, month: date, month_to_date_peak_kw: float
) -> tuple[DemandSegment, ...]:
    """What raising the site's peak above the month-to-date metered peak costs, as convex linear pieces.

    An optimiser prices the increase above the peak already reached (it gains nothing below it); the pieces are
    the rate up to the contracted demand and the overrun rate above it. Empty when no demand charge applies.
    """
    if rules.why_no_basic_charge(month) is not None or rules.basis is DemandBasis.CAPACITY:
        return ()
    rate = rules.demand_rate_cny_per_kw_month
    if rate == 0:
        return ()
    contract = rules.contracted_demand_kw
    over_rate = rate * rules.overrun_multiplier
    if contract is None:
        return (DemandSegment(math.inf, rate),)
    if month_to_date_peak_kw >= contract:
        return (DemandSegment(math.inf, over_rate),)
    return (DemandSegment(contract - month_to_date_peak_kw, rate), DemandSegment(math.inf, over_rate))


def increase_cost(segments: tuple[DemandSegment, ...], increase_kw: float) -> float:
    """Cost [CNY] of raising the peak by `increase_kw` (<= 0 costs nothing) along `segments`."""
    left, cost = max(0.0, increase_kw), 0.0
    for seg in segments:
        used = min(left, seg.width_kw)
        cost += used * seg.cny_per_kw
        left -= used
        if left <= 0:
            break
    return cost
