"""Carbon price scenarios [CNY/t] and the market arithmetic behind them (data/reference/FINANCE.md 'Carbon prices').

Carbon revenue per truck is small (data/reference/FINANCE.md: 250-700 CNY a year); the scenarios exist so that the lessor can
see how much of a lease's return depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass


def mean_price(value_cny: float, tonnes: float) -> float:
    """Volume-weighted mean price [CNY/t] of a market's turnover [CNY] over its volume [t]."""
    if tonnes <= 0:
        raise ValueError("tonnes: must be positive")
    return value_cny / tonnes


def tonnes_sold(value_cny: float, average_price: float) -> float:
    """Volume [t] implied by a turnover [CNY] at an average price [CNY/t] (auction consistency check)."""
    if average_price <= 0:
        raise ValueError("average_price: must be positive")
    return value_cny / average_price


@dataclass(frozen=True)
class CarbonPriceScenario:
    """A named carbon price [CNY/t] with its source and grade."""

    name: str
    price_cny_per_t: float
    source: str
    grade: str


#: data/reference/FINANCE.md 'Carbon prices' (S). CEA 2024 mean is derived (D): 181.14亿 CNY / 1.89亿 t (test vector T6).
CARBON_PRICE_SCENARIOS: dict[str, CarbonPriceScenario] = {
    s.name: s
    for s in (
        CarbonPriceScenario("sza_auction_2022", 43.49, "Shenzhen SZA auction 12 Aug 2022, average", "S"),
        CarbonPriceScenario("shenzhen_2024", 51.33, "Shenzhen market 2024 average", "S"),
        CarbonPriceScenario("ccer_2025_low", 60.0, "CCER 2025, low end of 60-80", "S"),
        CarbonPriceScenario("ccer_2025_high", 80.0, "CCER 2025, high end of 60-80", "S"),
        CarbonPriceScenario(
            "cea_2024_mean", mean_price(181.14e8, 1.89e8), "national CEA 2024: 181.14亿 CNY / 1.89亿 t", "D"
        ),
        CarbonPriceScenario("cea_2024_year_end", 97.49, "national CEA 2024 year-end close", "S"),
    )
}


def carbon_price(name: str) -> float:
    """Price [CNY/t] of a named scenario; raises KeyError listing the known names."""
    try:
        return CARBON_PRICE_SCENARIOS[name].price_cny_per_t
    except KeyError:
        raise KeyError(
            f"unknown carbon price scenario {name!r}; known: {', '.join(CARBON_PRICE_SCENARIOS)}"
        ) from None
