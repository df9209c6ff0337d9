"""Tornado table: one driver at a time to its low and high value, effect on lessor NPV and lessee saving."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .assumptions import ASSUMPTIONS, default
from .errors import FinanceInputError
from .evaluate import evaluate
from .inputs import Scenario, get_path, replace_path
from .lessee import compare
from .lessor import evaluate_lease


@dataclass(frozen=True)
class Driver:
    """A tornado driver: the input at `path`, moved to `low` and `high` (None = base × (1 ∓ swing))."""

    name: str
    path: str
    low: float | None = None
    high: float | None = None
    source: str = ""
    resolve: Callable[[Scenario], tuple[float, float, float, str] | None] | None = None
    """(base, low, high, source) computed from the scenario itself, or None to leave the driver out (e.g. the battery
    fade of a lease whose residual does not follow a battery)."""


def _battery_fade(scenario: Scenario) -> tuple[float, float, float, str] | None:
    from .battery import fade_range

    return fade_range(scenario.lease, scenario.usage)


#: The six drivers of issue 6, and the battery's fade over the term (issue 19 item 12; only for a lease whose residual
#: follows a battery, moved over its measured ± 2 standard errors or the curve's sourced range). Sourced ranges where
#: the reference files give one, else ±25 % of the base value (assumption `sensitivity_swing`, unsourced).
DEFAULT_DRIVERS: tuple[Driver, ...] = (
    Driver(
        "diesel price",
        "lessee.diesel_price_cny_per_l",
        default("diesel_price_low"),
        default("diesel_price_high"),
        ASSUMPTIONS["diesel_price_low"].source,
    ),
    Driver(
        "electricity price",
        "lessee.electricity_cny_per_kwh",
        default("electricity_price_low"),
        default("electricity_price_high"),
        "data/reference/tariffs.md example levels: CSG valley 0.293 to Shenzhen 2023 flat 0.7556 (weak)",
    ),
    Driver("utilisation", "usage.km_per_year"),
    Driver("residual value", "lease.residual_value"),
    Driver(
        "battery fade over the term (SoH)",
        "lease.battery.fade_override",
        resolve=_battery_fade,
    ),
    Driver("interest rate", "lease.loan.annual_rate"),
    Driver(
        "carbon price",
        "carbon.price_cny_per_t",
        default("carbon_price_low"),
        default("carbon_price_high"),
        "data/reference/FINANCE.md Carbon prices: SZA auction 2022 average to CEA 2024 year-end",
    ),
)


@dataclass(frozen=True)
class TornadoRow:
    """Effect of one driver [CNY]: the lessor's project and equity NPV, the lessee's levelised monthly saving."""

    driver: str
    path: str
    base_value: float
    low_value: float
    high_value: float
    npv_low: float
    npv_high: float
    equity_npv_low: float
    equity_npv_high: float
    saving_low: float
    saving_high: float
    range_source: str

    @property
    def npv_swing(self) -> float:
        """Largest of the project and equity |NPV(high) − NPV(low)| [CNY]."""
        return max(abs(self.npv_high - self.npv_low), abs(self.equity_npv_high - self.equity_npv_low))

    @property
    def saving_swing(self) -> float:
        """|saving(high) − saving(low)| [CNY/month]."""
        return abs(self.saving_high - self.saving_low)


@dataclass(frozen=True)
class Tornado:
    """Base values and rows sorted by NPV swing (project or equity), then lessee-saving swing (largest first)."""

    base_npv: float
    base_equity_npv: float
    base_saving_per_month: float
    rows: tuple[TornadoRow, ...]


def _bounds(driver: Driver, base: float, swing: float) -> tuple[float, float, str]:
    if driver.low is not None and driver.high is not None and driver.low <= base <= driver.high:
        return driver.low, driver.high, driver.source
    return base * (1.0 - swing), base * (1.0 + swing), f"base ±{swing:.0%} (no sourced range)"


def _clamp(scenario: Scenario, path: str, value: float) -> float:
    """Keep a moved value legal: residual at most the price, rates below 100 %."""
    if path == "lease.residual_value":
        return min(value, scenario.lease.price)
    if path.endswith("rate"):
        return min(value, 0.999)
    return value


def _outcome(scenario: Scenario) -> tuple[float, float, float]:
    lessor = evaluate_lease(scenario.lease, scenario.usage, scenario.carbon)
    saving = compare(scenario.lease, scenario.usage, scenario.carbon, scenario.lessee).saving_per_month
    return lessor.project.npv, lessor.equity.npv, saving


def tornado(
    scenario: Scenario,
    drivers: Iterable[Driver] = DEFAULT_DRIVERS,
    swing: float = default("sensitivity_swing"),
) -> Tornado:
    """One-at-a-time sensitivity of the lessor's project NPV and the lessee's monthly saving.

    A sourced range is used when it contains the scenario's base value, otherwise base ±`swing`.
    """
    base = evaluate(scenario)
    rows = []
    for driver in drivers:
        if driver.resolve is not None:
            resolved = driver.resolve(scenario)
            if resolved is None:
                continue
            value, low, high, source = resolved
        else:
            value = get_path(scenario, driver.path)  # type: ignore[assignment]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FinanceInputError(driver.path, "a tornado driver must be a number")
            low, high, source = _bounds(driver, float(value), swing)
            low, high = _clamp(scenario, driver.path, low), _clamp(scenario, driver.path, high)
        npv_low, equity_low, saving_low = _outcome(replace_path(scenario, driver.path, low))  # type: ignore[arg-type]
        npv_high, equity_high, saving_high = _outcome(replace_path(scenario, driver.path, high))  # type: ignore[arg-type]
        rows.append(
            TornadoRow(
                driver.name,
                driver.path,
                float(value),
                low,
                high,
                npv_low,
                npv_high,
                equity_low,
                equity_high,
                saving_low,
                saving_high,
                source,
            )
        )
    rows.sort(key=lambda r: (-r.npv_swing, -r.saving_swing))
    return Tornado(base.lessor.project.npv, base.lessor.equity.npv, base.lessee.saving_per_month, tuple(rows))
