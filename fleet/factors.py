"""The sourced emission-factor registry and the explicit vintage rule.

Every number that turns activity data into CO2 comes from `data/reference/emission-factors.csv` and is cited by
its `key` (see `data/reference/README.md`). A registry is append-only: a key, once registered, keeps its value
for ever; a corrected value needs a new key. That keeps every past submission reproducible.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evfleet_data import EMISSION_FACTORS_CSV

CONFIDENCE_GRADES = ("verified", "secondary", "secondary-derived", "weak", "unverified")
"""Grades of `data/reference/README.md`, best first."""

GRID_SERIES_PREFIX = "grid.cn.mee."


class FactorError(ValueError):
    """A factor is missing, malformed or would be edited in place."""


@dataclass(frozen=True)
class Factor:
    """One registry row. `value` is in `unit`; `data_year` is None for year-independent defaults."""

    key: str
    value: float
    unit: str
    data_year: int | None
    scope: str
    region: str
    source: str
    confidence: str
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "data_year": self.data_year,
            "scope": self.scope,
            "region": self.region,
            "source": self.source,
            "confidence": self.confidence,
            "note": self.note,
        }


@dataclass(frozen=True)
class VintageRule:
    """Which data year of a grid factor a reporting year uses.

    Default: reporting year Y uses data year Y−2 (MEE practice, graded secondary; szcbn.com, quoted in the
    `note` of `grid.cn.mee.national.2021`). `fallback` says what happens when that year is not in the registry:
    "latest-earlier" takes the newest data year before it and records that it did; "strict" refuses.
    """

    lag_years: int = 2
    fallback: str = "latest-earlier"

    def __post_init__(self) -> None:
        if self.lag_years < 0:
            raise FactorError(f"VintageRule.lag_years must be >= 0, got {self.lag_years}")
        if self.fallback not in ("latest-earlier", "strict"):
            raise FactorError(
                f"VintageRule.fallback must be 'latest-earlier' or 'strict', got {self.fallback!r}"
            )


@dataclass(frozen=True)
class VintageChoice:
    """The grid factor chosen for a reporting year and the record of the rule that chose it."""

    key: str
    factor: Factor
    series: str
    reporting_year: int
    rule_lag_years: int
    requested_data_year: int
    used_data_year: int
    fallback_applied: bool
    explanation: str

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "series": self.series,
            "reporting_year": self.reporting_year,
            "rule": f"reporting year Y uses data year Y-{self.rule_lag_years}",
            "requested_data_year": self.requested_data_year,
            "used_data_year": self.used_data_year,
            "fallback_applied": self.fallback_applied,
            "explanation": self.explanation,
        }


class FactorRegistry:
    """Append-only set of factors, looked up by key."""

    def __init__(self, factors: Iterable[Factor] = ()) -> None:
        self._by_key: dict[str, Factor] = {}
        for factor in factors:
            self.add(factor)

    def add(self, factor: Factor) -> None:
        """Register a factor; re-adding an identical row is a no-op, a different value for a known key is refused."""
        known = self._by_key.get(factor.key)
        if known is not None:
            if known == factor:
                return
            raise FactorError(
                f"factor {factor.key!r} is already registered with value {known.value} {known.unit}; "
                f"refusing {factor.value} {factor.unit}: factors are never edited in place, add a new key"
            )
        self._by_key[factor.key] = factor

    def get(self, key: str) -> Factor:
        try:
            return self._by_key[key]
        except KeyError:
            raise FactorError(f"unknown emission factor key {key!r} (not in the registry)") from None

    def value(self, key: str) -> float:
        return self.get(key).value

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Factor]:
        return iter(sorted(self._by_key.values(), key=lambda f: f.key))

    def __len__(self) -> int:
        return len(self._by_key)

    def grid_series_years(self, series: str) -> list[int]:
        """Data years available for a grid series such as `grid.cn.mee.southern`."""
        years = []
        for factor in self._by_key.values():
            head, _, tail = factor.key.rpartition(".")
            if head == series and tail.isdigit() and factor.data_year == int(tail):
                years.append(factor.data_year)
        return sorted(years)

    def grid_factor_for(
        self, series: str, reporting_year: int, rule: VintageRule = VintageRule()
    ) -> VintageChoice:
        """Apply the vintage rule to a grid series, returning the key and a record of what was done."""
        requested = reporting_year - rule.lag_years
        years = self.grid_series_years(series)
        if not years:
            raise FactorError(f"no grid factors for series {series!r} in the registry")
        if requested in years:
            used, fallback = requested, False
            explanation = f"reporting year {reporting_year} uses data year {requested} (Y-{rule.lag_years})"
        else:
            earlier = [y for y in years if y < requested]
            if rule.fallback == "strict" or not earlier:
                raise FactorError(
                    f"grid series {series!r} has no data year {requested} for reporting year {reporting_year} "
                    f"(Y-{rule.lag_years}); available: {years}"
                )
            used, fallback = earlier[-1], True
            explanation = (
                f"reporting year {reporting_year} calls for data year {requested} (Y-{rule.lag_years}), "
                f"which is not in the registry; the latest earlier data year {used} is used instead"
            )
        key = f"{series}.{used}"
        return VintageChoice(
            key=key,
            factor=self.get(key),
            series=series,
            reporting_year=reporting_year,
            rule_lag_years=rule.lag_years,
            requested_data_year=requested,
            used_data_year=used,
            fallback_applied=fallback,
            explanation=explanation,
        )


def parse_factor_row(row: dict[str, str], where: str) -> Factor:
    """One CSV row to a Factor; `where` names the file and line in errors."""
    try:
        key = row["key"].strip()
        if not key:
            raise FactorError(f"{where}: empty key")
        try:
            value = float(row["value"])
        except ValueError:
            raise FactorError(
                f"{where}: field 'value' of {key!r} is not a number: {row['value']!r}"
            ) from None
        year_text = (row.get("data_year") or "").strip()
        data_year = int(year_text) if year_text else None
        confidence = row["confidence"].strip()
        if confidence not in CONFIDENCE_GRADES:
            raise FactorError(
                f"{where}: field 'confidence' of {key!r} is {confidence!r}, not one of {CONFIDENCE_GRADES}"
            )
        return Factor(
            key=key,
            value=value,
            unit=row["unit"].strip(),
            data_year=data_year,
            scope=row["scope"].strip(),
            region=row["region"].strip(),
            source=row["source"].strip(),
            confidence=confidence,
            note=(row.get("note") or "").strip(),
        )
    except KeyError as missing:
        raise FactorError(f"{where}: missing column {missing}") from None


def read_factor_csv(path: Path = EMISSION_FACTORS_CSV) -> list[Factor]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            parse_factor_row(row, f"{path.name} line {n}")
            for n, row in enumerate(csv.DictReader(handle), start=2)
        ]


def load_registry(path: Path = EMISSION_FACTORS_CSV) -> FactorRegistry:
    """The registry of the shipped reference CSV (or another file with the same columns)."""
    return FactorRegistry(read_factor_csv(path))
