"""Battery state of health (SoH) from charging sessions, the fallback age and throughput curve, and their ranges.

**SoH from data.** A charging session that reports the state of charge (SoC) at its start and end gives the
battery's usable capacity: ``capacity = kWh at the charger × charging efficiency ÷ (ΔSoC / 100)`` [kWh], and
``SoH = capacity ÷ reference kWh``, where the reference is the model's nominal pack × its usable fraction (a
vehicle's SoC spans the usable window, so a new pack reads 100 %, not the usable fraction). A least-squares line
through SoH against time gives the fade per year and its standard error.

Sessions are refused, with the reason counted, when:

- SoC is missing at either end, or the kWh is not positive;
- ΔSoC < `MIN_DELTA_SOC_PCT` (20 percentage points). Vehicles report SoC in whole percent, so each reading is
  ±0.5 pp and ΔSoC ±1 pp: at 20 pp that is ±5 % of the capacity estimate, already as large as two or three years of
  fade; a shorter session says more about rounding than about the battery. The threshold is an evfleet choice
  (unverified), not a published figure;
- the estimate falls outside `PLAUSIBLE_SOH` (50-120 %): a meter, SoC or pairing error rather than a battery.

A trend needs `MIN_TREND_SESSIONS` (3) accepted sessions spanning at least `MIN_TREND_DAYS` (180 days): a few weeks
of data cannot separate a 2 %/yr fade from estimation noise. With fewer, the measured SoH level is used and the
curve carries it forward.

**Fallback curve.** ``fade = calendar_fade × years + cycle_fade × equivalent full cycles`` with the graded defaults
of `assumptions.py` (data/reference/CHARGING.md 'Chargers and batteries'; weak) and the range low-high given there.

**Residual.** `LeaseTerms.residual_factor`: f(SoH) = 1 − b + b × clamp((SoH − SoH_eol) / (1 − SoH_eol), 0, 1),
b = pack kWh × pack price ÷ the truck's price. No published relation between SoH and a used e-truck's price was
found in data/reference: the rule is an evfleet assumption, graded unverified, and every report says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .assumptions import default
from .inputs import Battery, LeaseTerms, Usage

#: Smallest state-of-charge swing [percentage points] a session needs to count (see the module docstring).
MIN_DELTA_SOC_PCT = 20.0
#: SoH estimates outside this range [-] are refused as data errors.
PLAUSIBLE_SOH = (0.5, 1.2)
#: A fade trend needs at least this many accepted sessions ...
MIN_TREND_SESSIONS = 3
#: ... spanning at least this many days.
MIN_TREND_DAYS = 180.0
#: Days per year for the trend's time axis (Julian year).
DAYS_PER_YEAR = 365.25

RESIDUAL_RULE = (
    "residual = base residual x f(SoH at lease end), f = 1 - b + b x clamp((SoH - SoH_eol)/(1 - SoH_eol), 0, 1), "
    "b = pack kWh x pack price / truck price (evfleet rule, unverified: no published SoH-to-resale relation)"
)


@dataclass(frozen=True)
class SocSession:
    """One charging session as the SoH estimate needs it."""

    at: dt.datetime
    """When it ended."""
    kwh: float
    """Energy at the charger [kWh]."""
    soc_start_pct: float | None
    soc_end_pct: float | None
    efficiency: float
    """Charger-to-battery efficiency [-]."""


@dataclass(frozen=True)
class SohPoint:
    """One accepted session's estimate."""

    at: dt.datetime
    capacity_kwh: float
    soh: float


@dataclass(frozen=True)
class SohEstimate:
    """SoH of one battery from its charging sessions."""

    reference_kwh: float
    """Nominal pack × usable fraction [kWh]: a new battery's usable capacity."""
    points: tuple[SohPoint, ...]
    refused: dict[str, int]
    """Refused sessions by reason."""
    level: float | None
    """Mean SoH of the accepted sessions [-]; None without any."""
    level_at: dt.datetime | None
    """Mean time of the accepted sessions (where `level` applies)."""
    fade_per_year: float | None
    """−slope of the least-squares trend [SoH/yr], None without a trend (never below 0 when reported)."""
    fade_se_per_year: float | None
    """Standard error of the slope [SoH/yr] (None with fewer than 3 points or no trend)."""
    intercept_at: dt.datetime | None = None
    intercept: float | None = None
    """Trend value at `intercept_at` (the first accepted session)."""
    fitted_fade_per_year: float | None = None
    """−slope before clamping at 0 (negative when the estimates rise) [SoH/yr]."""

    @property
    def has_trend(self) -> bool:
        """True when enough sessions over a long enough span gave a least-squares fade."""
        return self.fade_per_year is not None

    def soh_at(self, when: dt.datetime) -> float | None:
        """The fitted line's SoH at `when` (None without a trend)."""
        if self.intercept is None or self.intercept_at is None or self.fitted_fade_per_year is None:
            return None
        return self.intercept - self.fitted_fade_per_year * _years(self.intercept_at, when)

    def describe(self) -> str:
        """One line for the report."""
        refused = ", ".join(f"{n} {why}" for why, n in sorted(self.refused.items())) or "none"
        if self.level is None:
            return f"no usable session (refused: {refused})"
        text = (
            f"{len(self.points)} charging sessions with state of charge (kWh x efficiency / dSoC over "
            f"{self.reference_kwh:g} kWh usable): mean SoH {self.level:.1%}"
        )
        if self.fade_per_year is not None:
            se = f" +/- {self.fade_se_per_year:.2%}" if self.fade_se_per_year is not None else ""
            text += f", least-squares fade {self.fade_per_year:.2%}/yr{se}"
        else:
            text += (
                f", no trend (needs {MIN_TREND_SESSIONS} sessions over {MIN_TREND_DAYS:g} days; "
                "the curve carries the level forward)"
            )
        return text + f"; refused: {refused}"


def _utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _years(start: dt.datetime, end: dt.datetime) -> float:
    """Years [Julian] from `start` to `end` (naive times are read as UTC)."""
    return (_utc(end) - _utc(start)).total_seconds() / 86400.0 / DAYS_PER_YEAR


def session_soh(session: SocSession, reference_kwh: float) -> tuple[float, float] | str:
    """(usable capacity [kWh], SoH [-]) of one session, or the reason it is refused."""
    if session.soc_start_pct is None or session.soc_end_pct is None:
        return "without state of charge"
    if not session.kwh > 0:
        return "without energy"
    delta = session.soc_end_pct - session.soc_start_pct
    if delta < MIN_DELTA_SOC_PCT:
        return f"with dSoC below {MIN_DELTA_SOC_PCT:g} pp"
    capacity = session.kwh * session.efficiency / (delta / 100.0)
    soh = capacity / reference_kwh
    if not PLAUSIBLE_SOH[0] <= soh <= PLAUSIBLE_SOH[1]:
        return f"with SoH outside {PLAUSIBLE_SOH[0]:.0%}-{PLAUSIBLE_SOH[1]:.0%}"
    return capacity, soh


def estimate_soh(sessions: Iterable[SocSession], reference_kwh: float) -> SohEstimate:
    """SoH level and least-squares trend of one battery from its sessions (see the module docstring)."""
    if not reference_kwh > 0:
        raise ValueError(f"reference_kwh must be positive, got {reference_kwh!r}")
    points: list[SohPoint] = []
    refused: Counter[str] = Counter()
    for s in sorted(sessions, key=lambda s: s.at):
        found = session_soh(s, reference_kwh)
        if isinstance(found, str):
            refused[found] += 1
        else:
            points.append(SohPoint(s.at, found[0], found[1]))
    if not points:
        return SohEstimate(reference_kwh, (), dict(refused), None, None, None, None)
    origin = points[0].at
    xs = [_years(origin, p.at) for p in points]
    ys = [p.soh for p in points]
    n = len(points)
    x_mean, y_mean = sum(xs) / n, sum(ys) / n
    level_at = origin + dt.timedelta(days=x_mean * DAYS_PER_YEAR)
    span_days = xs[-1] * DAYS_PER_YEAR
    if n < MIN_TREND_SESSIONS or span_days < MIN_TREND_DAYS:
        return SohEstimate(reference_kwh, tuple(points), dict(refused), y_mean, level_at, None, None)
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys)) / sxx
    intercept = y_mean - slope * x_mean
    ssr = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    se = math.sqrt(ssr / (n - 2) / sxx) if n > 2 else None
    return SohEstimate(
        reference_kwh,
        tuple(points),
        dict(refused),
        y_mean,
        level_at,
        max(0.0, -slope),
        se,
        origin,
        intercept,
        -slope,
    )


def battery_from_estimate(
    estimate: SohEstimate | None,
    lease_start: dt.date,
    *,
    pack_kwh: float,
    usage: Usage,
    age_years_at_start: float = 0.0,
    pack_source: str = "",
) -> Battery:
    """The lease's `Battery`: the measured trend, else the measured level carried by the curve, else the curve
    from the truck's age at the lease start (assuming it ran at the lease's usage before)."""
    start = dt.datetime.combine(lease_start, dt.time(), tzinfo=dt.UTC)
    curve = Battery(pack_kwh=pack_kwh)
    per_year = curve.fade_over(usage, 12)  # curve fade of one year at the lease's usage
    suffix = f"; pack {pack_kwh:g} kWh{f' ({pack_source})' if pack_source else ''}"
    if estimate is not None and estimate.has_trend:
        fitted = estimate.soh_at(start)
        soh_start = min(1.0, max(0.0, fitted if fitted is not None else 1.0))
        return Battery(
            pack_kwh=pack_kwh,
            soh_at_start=soh_start,
            measured_fade_per_year=estimate.fade_per_year,
            measured_fade_se_per_year=estimate.fade_se_per_year,
            basis=f"measured trend: {estimate.describe()}{suffix}",
        )
    if estimate is not None and estimate.level is not None and estimate.level_at is not None:
        years = _years(start, estimate.level_at)
        soh_start = min(1.0, max(0.0, estimate.level + per_year * years))
        return Battery(
            pack_kwh=pack_kwh,
            soh_at_start=soh_start,
            basis=f"measured level, curve fade from it: {estimate.describe()}{suffix}",
        )
    soh_start = max(0.0, 1.0 - per_year * max(0.0, age_years_at_start))
    why = estimate.describe() if estimate is not None else "no charging sessions with state of charge"
    age = f", truck {age_years_at_start:.1f} y old at the lease start" if age_years_at_start > 0 else ""
    return Battery(
        pack_kwh=pack_kwh,
        soh_at_start=soh_start,
        basis=f"age and throughput curve ({why}){age}{suffix}",
    )


def fade_range(lease: LeaseTerms, usage: Usage) -> tuple[float, float, float, str] | None:
    """(base, low, high) fade over the term [SoH] and the range's source, for the tornado; None without a battery.

    Measured: the trend ± 2 standard errors (at least 0). Curve: calendar and cycle fade both at their low, then
    both at their high value (data/reference/CHARGING.md, see `assumptions.py`).
    """
    battery = lease.battery
    if battery is None:
        return None
    months = lease.term_months
    base = battery.fade_over(usage, months)
    years = months / 12.0
    if battery.measured_fade_per_year is not None:
        se = battery.measured_fade_se_per_year or 0.0
        low = max(0.0, (battery.measured_fade_per_year - 2 * se) * years)
        high = (battery.measured_fade_per_year + 2 * se) * years
        source = f"measured fade +/- 2 standard errors ({se:.2%}/yr)"
        if se == 0.0:
            # An exact fit (or 3 points on a line) has no spread to report: fall back to the curve's range.
            low, high, source = _curve_range(battery, usage, months)
        return base, min(low, base), max(high, base), source
    low, high, source = _curve_range(battery, usage, months)
    return base, min(low, base), max(high, base), source


def _curve_range(battery: Battery, usage: Usage, months: int) -> tuple[float, float, str]:
    years, efc = months / 12.0, battery.efc(usage, months)
    low = (
        default("battery_calendar_fade_per_year_low") * years
        + default("battery_cycle_fade_per_efc_low") * efc
    )
    high = (
        default("battery_calendar_fade_per_year_high") * years
        + default("battery_cycle_fade_per_efc_high") * efc
    )
    return (
        low,
        high,
        (
            "data/reference/CHARGING.md: calendar 1.2-2.52 %/yr (12-18 % in 10 y, x1.4 hot climate), "
            "3,000-6,000 cycles to 80 % (weak)"
        ),
    )


def battery_dict(lease: LeaseTerms, usage: Usage) -> dict[str, object] | None:
    """The battery and the residual that follows it, JSON-ready; None without a battery."""
    battery = lease.battery
    if battery is None:
        return None
    months = lease.term_months
    soh_end = battery.soh_at_end(usage, months)
    return {
        "basis": battery.basis,
        "soh_at_start": round(battery.soh_at_start, 6),
        "soh_at_end": round(soh_end, 6),
        "fade_over_term": round(battery.fade_over(usage, months), 6),
        "equivalent_full_cycles": round(battery.efc(usage, months), 1),
        "below_end_of_life": bool(soh_end < battery.soh_end_of_life),
        "battery_value_share": round(lease.battery_value_share(), 6),
        "residual_factor": round(lease.residual_factor(usage), 6),
        "base_residual_value": round(lease.residual_value, 2),
        "residual_value_at_end": round(lease.residual_at_end(usage), 2),
        "rule": RESIDUAL_RULE,
    }
