"""Electricity tariff for depot charging: energy price per slot, demand charge, export price, DR events.

Numbers enter from `data/reference/tariffs.json` (`evfleet_data.TARIFFS_JSON`; sources and grades per row, see
`data/reference/README.md`):

- time-of-use periods and critical-peak overrides: `tariffs[id="gd_ic_tou_2021"]` (Guangdong 1.7 / 1 / 0.38,
  critical 2.125) and `tariffs[id="sz_market_tou_2024"]` (Shenzhen market users 1.53 / 1 / 0.32);
  price = multiplier x base (flat) price [CNY/kWh] + unscaled adder (funds, surcharges);
- demand charge: `tariffs[id="sz_market_tou_2024"].demand_charge_per_kw_month` (42, weak) or
  `demand_charges[id="benchmark_demand"]` (32, illustrative) — always given explicitly in the scenario;
- V2G export price: `export_prices[id="gd_v2g_discharge_2025"]` = 0.453 CNY/kWh x the period's coefficient.

Demand charges are billed on the month's highest demand, so a nightly optimiser prices only the increase of the
site peak over the month-to-date peak and never credits cutting below it (data/reference/tariffs.md "Demand charges";
acnportal#31, spice_ev#200).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from charging.billing import (
    BillingRules,
    DemandBasis,
    DemandSegment,
    TariffStructure,
    days_in_month,
    demand_segments,
    increase_cost,
    nightly_share,
)
from evfleet_data import TARIFFS_JSON

DEFAULT_TIMEZONE = "Asia/Shanghai"  # tariffs.json "timezone"
MINUTES_PER_DAY = 24 * 60


class TariffError(ValueError):
    """A tariff definition that cannot be priced (names the field)."""


def _parse_hhmm(text: str, where: str) -> int:
    """'HH:MM' -> minutes after midnight; '24:00' is the end of the day."""
    try:
        hours, minutes = (int(part) for part in str(text).split(":"))
    except ValueError as exc:
        raise TariffError(f"{where}: time {text!r} is not HH:MM") from exc
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise TariffError(f"{where}: time {text!r} is out of range 00:00-24:00")
    return hours * 60 + minutes


@dataclass(frozen=True)
class TariffPeriod:
    """One time-of-use band [start_min, end_min) in local minutes; price or multiplier x base price."""

    name: str
    start_min: int
    end_min: int
    price: float | None = None  # absolute [CNY/kWh]
    multiplier: float | None = None  # x base price
    months: tuple[int, ...] = ()  # empty: all year
    condition: str | None = None  # overrides only: named day flag (e.g. guangzhou_daily_max_ge_35C)

    def covers(self, minute: int, month: int) -> bool:
        in_hours = (
            self.start_min <= minute < self.end_min
            if self.start_min < self.end_min
            else (minute >= self.start_min or minute < self.end_min)  # wraps midnight
        )
        return in_hours and (not self.months or month in self.months)


@dataclass(frozen=True)
class Tariff:
    """Site tariff. All money in [CNY], energy in [kWh], power in [kW]."""

    periods: tuple[TariffPeriod, ...]
    overrides: tuple[TariffPeriod, ...] = ()
    base_price: float = 0.0  # [CNY/kWh] flat price that multipliers scale
    adder: float = 0.0  # [CNY/kWh] unscaled funds and surcharges
    conditions: Mapping[str, tuple[date, ...]] = field(default_factory=dict)  # flag -> local dates it holds
    demand_charge_per_kw_month: float = 0.0  # [CNY/kW/month]
    month_peak_kw_so_far: float = 0.0  # [kW] already billed this month
    demand_charge_proration: float = (
        1.0  # share of the monthly charge this horizon bears (1.0 = full increase)
    )
    contracted_demand_kw: float | None = (
        None  # [kW] contracted maximum demand; above it the overrun rate applies
    )
    overrun_multiplier: float = 2.0  # demand above the contract is billed at this multiple of the rate
    # [CNY/month] a basic charge that no schedule changes (capacity basis: rate x transformer kVA); only its
    # nightly share (÷ days in the month) enters the per-night figures, never the optimiser's objective
    fixed_basic_charge_cny_per_month: float = 0.0
    export_price: float = 0.0  # [CNY/kWh] flat export price when no export rule/periods
    export_periods: tuple[TariffPeriod, ...] = ()
    export_rule: str | None = None  # tariffs.json export_prices id
    timezone: str = DEFAULT_TIMEZONE
    source_id: str | None = None  # tariffs.json tariffs id, if loaded from there

    # ---- evaluation ------------------------------------------------------------------------------------------
    def _period_at(self, local: datetime) -> TariffPeriod:
        minute = local.hour * 60 + local.minute
        for override in self.overrides:
            if override.covers(minute, local.month) and (
                override.condition is None or local.date() in self.conditions.get(override.condition, ())
            ):
                return override
        for period in self.periods:
            if period.covers(minute, local.month):
                return period
        raise TariffError(f"tariff.periods: no period covers local time {local:%Y-%m-%d %H:%M}")

    def _base_period_at(self, local: datetime) -> TariffPeriod:
        minute = local.hour * 60 + local.minute
        for period in self.periods:
            if period.covers(minute, local.month):
                return period
        raise TariffError(f"tariff.periods: no period covers local time {local:%Y-%m-%d %H:%M}")

    def _price_of(self, period: TariffPeriod) -> float:
        if period.price is not None:
            return period.price
        return float(period.multiplier) * self.base_price + self.adder

    def _minute_samples(self, slot_starts: Sequence[datetime], slot_minutes: int) -> list[list[datetime]]:
        zone = ZoneInfo(self.timezone)
        return [
            [(start + timedelta(minutes=k)).astimezone(zone) for k in range(slot_minutes)]
            for start in slot_starts
        ]

    def energy_prices(self, slot_starts: Sequence[datetime], slot_minutes: int) -> np.ndarray:
        """Import price per slot [CNY/kWh], time-weighted where a slot straddles a period boundary."""
        out = np.empty(len(slot_starts))
        for i, minutes in enumerate(self._minute_samples(slot_starts, slot_minutes)):
            out[i] = float(np.mean([self._price_of(self._period_at(t)) for t in minutes]))
        return out

    def period_names(self, slot_starts: Sequence[datetime], slot_minutes: int) -> list[str]:
        """Name of the period in force at each slot start (override names win)."""
        zone = ZoneInfo(self.timezone)
        return [self._period_at(start.astimezone(zone)).name for start in slot_starts]

    def export_prices(self, slot_starts: Sequence[datetime], slot_minutes: int) -> np.ndarray:
        """Export (V2G discharge) price per slot [CNY/kWh].

        With `export_rule="gd_v2g_discharge_2025"` the price is 0.453 x the base period's coefficient
        (tariffs.json export_prices; the critical-peak coefficient is not applied to discharge: data/reference/tariffs.md "Open").
        """
        out = np.zeros(len(slot_starts))
        samples = self._minute_samples(slot_starts, slot_minutes)
        if self.export_rule is not None:
            rule = export_rule(self.export_rule)
            for i, minutes in enumerate(samples):
                vals = []
                for t in minutes:
                    name = self._base_period_at(t).name
                    if name not in rule["coefficients"]:
                        raise TariffError(
                            f"tariff.export_rule {self.export_rule}: no coefficient for period name {name!r}"
                        )
                    vals.append(rule["base_price"] * rule["coefficients"][name])
                out[i] = float(np.mean(vals))
        elif self.export_periods:
            for i, minutes in enumerate(samples):
                vals = []
                for t in minutes:
                    minute = t.hour * 60 + t.minute
                    hit = [p for p in self.export_periods if p.covers(minute, t.month)]
                    if not hit:
                        raise TariffError(f"tariff.export_periods: no period covers {t:%Y-%m-%d %H:%M}")
                    vals.append(self._price_of(hit[0]))
                out[i] = float(np.mean(vals))
        else:
            out[:] = self.export_price
        return out

    def demand_rules(self) -> BillingRules:
        """The maximum-demand charge this tariff prices, as `charging.billing` rules (single-part when no rate).

        Capacity-basis charges and the charging-facility exemption are resolved by the caller: neither depends on
        the schedule, so the optimiser sees a zero demand rate for them.
        """
        if self.demand_charge_per_kw_month <= 0:
            return BillingRules()
        return BillingRules(
            structure=TariffStructure.TWO_PART,
            basis=DemandBasis.MAXIMUM_DEMAND,
            demand_rate_cny_per_kw_month=self.demand_charge_per_kw_month,
            contracted_demand_kw=self.contracted_demand_kw,
            overrun_multiplier=self.overrun_multiplier,
        )

    def demand_segments(self) -> tuple[DemandSegment, ...]:
        """Peak increase above the month-to-date peak as convex pieces [kW] at [CNY/kW] for this horizon.

        Rates are scaled by `demand_charge_proration`; the first piece reaches up to the contracted demand, the
        last (overrun) piece is unbounded.
        """
        rules = self.demand_rules()
        pieces = demand_segments(rules, date(2000, 1, 1), self.month_peak_kw_so_far)
        return tuple(DemandSegment(s.width_kw, s.cny_per_kw * self.demand_charge_proration) for s in pieces)

    def demand_charge(self, peak_kw: float) -> float:
        """Charge [CNY] for raising the month's peak to `peak_kw`; zero at or below the peak already paid."""
        return increase_cost(self.demand_segments(), peak_kw - self.month_peak_kw_so_far)

    def demand_night_share(self, peak_kw: float, night: date) -> float:
        """The night's share [CNY] of a month billed on `peak_kw`: monthly charge ÷ days in the month.

        What a per-night report shows, never a whole month's charge booked on one night
        (docs/charging-economics.md, "Reporting rule").
        """
        fixed = self.fixed_basic_charge_cny_per_month / days_in_month(night)
        return nightly_share(self.demand_rules(), night, peak_kw) + fixed

    @property
    def demand_rate(self) -> float:
        """Charge per kW of peak increase [CNY/kW] for this horizon below any contracted demand."""
        return self.demand_charge_per_kw_month * self.demand_charge_proration

    # ---- JSON ------------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        def period(p: TariffPeriod) -> dict[str, Any]:
            d: dict[str, Any] = {"name": p.name, "start": _fmt(p.start_min), "end": _fmt(p.end_min)}
            if p.price is not None:
                d["price"] = p.price
            if p.multiplier is not None:
                d["multiplier"] = p.multiplier
            if p.months:
                d["months"] = list(p.months)
            if p.condition is not None:
                d["condition"] = p.condition
            return d

        out: dict[str, Any] = {
            "periods": [period(p) for p in self.periods],
            "overrides": [period(p) for p in self.overrides],
            "base_price": self.base_price,
            "adder": self.adder,
            "conditions": {k: [d.isoformat() for d in v] for k, v in self.conditions.items()},
            "demand_charge_per_kw_month": self.demand_charge_per_kw_month,
            "month_peak_kw_so_far": self.month_peak_kw_so_far,
            "demand_charge_proration": self.demand_charge_proration,
            "contracted_demand_kw": self.contracted_demand_kw,
            "overrun_multiplier": self.overrun_multiplier,
            "fixed_basic_charge_cny_per_month": self.fixed_basic_charge_cny_per_month,
            "export_price": self.export_price,
            "export_periods": [period(p) for p in self.export_periods],
            "timezone": self.timezone,
        }
        if self.export_rule is not None:
            out["export_rule"] = self.export_rule
        if self.source_id is not None:
            out["source_id"] = self.source_id
        return out


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _periods_from_json(items: Any, where: str, *, overrides: bool = False) -> tuple[TariffPeriod, ...]:
    if not isinstance(items, list):
        raise TariffError(f"{where}: expected a list of periods")
    out = []
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise TariffError(f"{w}: expected an object")
        for key in ("start", "end"):
            if key not in item:
                raise TariffError(f"{w}: missing field {key!r}")
        price = item.get("price")
        multiplier = item.get("multiplier")
        if (price is None) == (multiplier is None):
            raise TariffError(f"{w}: give exactly one of 'price' [CNY/kWh] or 'multiplier'")
        value = price if price is not None else multiplier
        if not isinstance(value, (int, float)) or value < 0:
            raise TariffError(f"{w}: price/multiplier must be a number >= 0, got {value!r}")
        start, end = _parse_hhmm(item["start"], w + ".start"), _parse_hhmm(item["end"], w + ".end")
        if start == end:
            raise TariffError(f"{w}: empty period {item['start']}-{item['end']}")
        months = tuple(int(m) for m in item.get("months") or ())
        if any(not 1 <= m <= 12 for m in months):
            raise TariffError(f"{w}.months: month numbers must be 1-12")
        out.append(
            TariffPeriod(
                name=str(item.get("name", f"period{i}")),
                start_min=start,
                end_min=end,
                price=None if price is None else float(price),
                multiplier=None if multiplier is None else float(multiplier),
                months=months,
                condition=item.get("condition") if overrides else None,
            )
        )
    return tuple(out)


def load_reference(path: Path = TARIFFS_JSON) -> dict[str, Any]:
    """The shipped tariffs.json as a dict."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def reference_tariff(tariff_id: str) -> dict[str, Any]:
    """One entry of tariffs.json `tariffs` by id (e.g. gd_ic_tou_2021, sz_market_tou_2024)."""
    ref = load_reference()
    for item in ref["tariffs"]:
        if item["id"] == tariff_id:
            return item
    known = ", ".join(t["id"] for t in ref["tariffs"])
    raise TariffError(f"tariff.id: unknown tariff {tariff_id!r} (known: {known})")


def export_rule(rule_id: str) -> dict[str, Any]:
    """One entry of tariffs.json `export_prices` (e.g. gd_v2g_discharge_2025)."""
    for item in load_reference()["export_prices"]:
        if item["id"] == rule_id:
            return item
    raise TariffError(f"tariff.export_rule: unknown export price rule {rule_id!r}")


def tariff_from_json(data: Mapping[str, Any]) -> Tariff:
    """Build a Tariff from the scenario's `tariff` object.

    Either explicit `periods` (each with `price` [CNY/kWh] or `multiplier` x `base_price`), or `id` naming a
    tariffs.json tariff whose periods and overrides are used (explicit `periods` still win).
    """
    if not isinstance(data, Mapping):
        raise TariffError("tariff: expected an object")
    source_id = data.get("id") or data.get("source_id")
    periods: tuple[TariffPeriod, ...] = ()
    overrides: tuple[TariffPeriod, ...] = ()
    timezone = data.get("timezone", DEFAULT_TIMEZONE)
    if source_id:
        ref = reference_tariff(str(source_id))
        periods = _periods_from_json(ref["periods"], f"tariffs.json {source_id}.periods")
        overrides = _periods_from_json(
            ref.get("overrides", []), f"tariffs.json {source_id}.overrides", overrides=True
        )
        timezone = data.get("timezone", load_reference().get("timezone", DEFAULT_TIMEZONE))
    if "periods" in data:
        periods = _periods_from_json(data["periods"], "tariff.periods")
    if "overrides" in data:
        overrides = _periods_from_json(data["overrides"], "tariff.overrides", overrides=True)
    if not periods:
        raise TariffError("tariff: give 'periods' or an 'id' from tariffs.json")
    uses_multiplier = any(p.multiplier is not None for p in periods + overrides)
    base_price = float(data.get("base_price", 0.0))
    if uses_multiplier and base_price <= 0:
        raise TariffError("tariff.base_price: multiplier periods need a base (flat) price > 0 [CNY/kWh]")
    conditions_raw = data.get("conditions") or {}
    if not isinstance(conditions_raw, Mapping):
        raise TariffError("tariff.conditions: expected {flag: [YYYY-MM-DD, ...]}")
    try:
        conditions = {str(k): tuple(date.fromisoformat(d) for d in v) for k, v in conditions_raw.items()}
    except (TypeError, ValueError) as exc:
        raise TariffError(f"tariff.conditions: dates must be YYYY-MM-DD ({exc})") from exc
    try:
        ZoneInfo(timezone)
    except Exception as exc:
        raise TariffError(f"tariff.timezone: unknown time zone {timezone!r}") from exc
    numbers = {}
    for key, default in (
        ("demand_charge_per_kw_month", 0.0),
        ("month_peak_kw_so_far", 0.0),
        ("demand_charge_proration", 1.0),
        ("export_price", 0.0),
        ("adder", 0.0),
        ("fixed_basic_charge_cny_per_month", 0.0),
    ):
        value = data.get(key, default)
        if value is None:
            value = default
        if not isinstance(value, (int, float)) or value < 0:
            raise TariffError(f"tariff.{key}: must be a number >= 0, got {value!r}")
        numbers[key] = float(value)
    contract = data.get("contracted_demand_kw")
    if contract is not None and (not isinstance(contract, (int, float)) or not contract > 0):
        raise TariffError(f"tariff.contracted_demand_kw: must be a number > 0 or null, got {contract!r}")
    overrun = data.get("overrun_multiplier", 2.0)
    if not isinstance(overrun, (int, float)) or overrun < 1:
        raise TariffError(f"tariff.overrun_multiplier: must be a number >= 1, got {overrun!r}")
    rule = data.get("export_rule")
    if rule is not None:
        export_rule(str(rule))  # validates the id
    return Tariff(
        periods=periods,
        overrides=overrides,
        base_price=base_price,
        adder=numbers["adder"],
        conditions=conditions,
        demand_charge_per_kw_month=numbers["demand_charge_per_kw_month"],
        month_peak_kw_so_far=numbers["month_peak_kw_so_far"],
        demand_charge_proration=numbers["demand_charge_proration"],
        contracted_demand_kw=None if contract is None else float(contract),
        overrun_multiplier=float(overrun),
        fixed_basic_charge_cny_per_month=numbers["fixed_basic_charge_cny_per_month"],
        export_price=numbers["export_price"],
        export_periods=_periods_from_json(data.get("export_periods", []), "tariff.export_periods"),
        export_rule=None if rule is None else str(rule),
        timezone=str(timezone),
        source_id=None if not source_id else str(source_id),
    )


@dataclass(frozen=True)
class CostBreakdown:
    """Cost of one site import profile [CNY]; export and dr are credits (<= 0).

    `demand` is what the optimiser prices: the monthly charge on the increase of the site peak above the
    month-to-date peak, which a whole month pays for. `demand_night` is the night's pro-rated share of a month
    billed on this horizon's peak (monthly charge ÷ days in the month): the figure a per-night report shows.
    `total` is the optimiser's objective; `night_bill` (energy + demand_night + export + dr) is the per-night
    figure savings are stated on.
    """

    energy: float
    demand: float
    export: float
    dr: float
    demand_night: float | None = None  # None: not computed (plans stored before it existed)

    @property
    def total(self) -> float:
        return self.energy + self.demand + self.export + self.dr

    @property
    def night_bill(self) -> float | None:
        if self.demand_night is None:
            return None
        return self.energy + self.demand_night + self.export + self.dr

    def to_json(self) -> dict[str, float | None]:
        night = self.night_bill
        return {
            "energy": round(self.energy, 4),
            "demand": round(self.demand, 4),
            "export": round(self.export, 4),
            "dr": round(self.dr, 4),
            "total": round(self.total, 4),
            "demand_night": None if self.demand_night is None else round(self.demand_night, 4),
            "night_bill": None if night is None else round(night, 4),
        }
