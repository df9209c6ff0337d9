"""Factor registry: loading, append-only versioning, the vintage rule and its record."""

from __future__ import annotations

import csv

import pytest

from evfleet_data import EMISSION_FACTORS_CSV
from fleet.factors import Factor, FactorError, FactorRegistry, VintageRule, load_registry


def test_every_shipped_row_loads_with_its_source(registry: FactorRegistry) -> None:
    with open(EMISSION_FACTORS_CSV, newline="", encoding="utf-8") as handle:
        keys = [row["key"] for row in csv.DictReader(handle)]
    assert sorted(f.key for f in registry) == sorted(keys)
    factor = registry.get("grid.cn.mee.southern.2022")
    assert (factor.value, factor.unit, factor.data_year) == (0.3869, "kgCO2/kWh", 2022)
    assert factor.region == "Southern regional grid" and factor.confidence == "secondary"
    assert "MEE 2022" in factor.source
    assert registry.get("diesel.ipcc2006.ef_co2_per_t").data_year is None


def test_a_second_value_for_a_key_is_refused_and_identical_rows_are_idempotent(
    registry: FactorRegistry,
) -> None:
    fresh = FactorRegistry(registry)
    original = fresh.get("grid.cn.mee.national.2022")
    fresh.add(original)
    with pytest.raises(FactorError, match="never edited in place"):
        fresh.add(Factor(**{**original.as_dict(), "value": 0.6}))
    assert fresh.value("grid.cn.mee.national.2022") == 0.5366


def test_unknown_key_names_the_key(registry: FactorRegistry) -> None:
    with pytest.raises(FactorError, match=r"grid\.cn\.mee\.mars\.2022"):
        registry.get("grid.cn.mee.mars.2022")


@pytest.mark.parametrize(
    "year, key",
    [
        (2023, "grid.cn.mee.national.2021"),
        (2024, "grid.cn.mee.national.2022"),
        (2025, "grid.cn.mee.national.2023"),
    ],
)
def test_vintage_rule_uses_data_year_y_minus_2(registry: FactorRegistry, year: int, key: str) -> None:
    choice = registry.grid_factor_for("grid.cn.mee.national", year)
    assert choice.key == key and not choice.fallback_applied
    assert choice.as_dict()["rule"] == "reporting year Y uses data year Y-2"


def test_vintage_rule_fallback_is_recorded_and_strict_refuses(registry: FactorRegistry) -> None:
    choice = registry.grid_factor_for("grid.cn.mee.southern", 2026)
    assert (choice.requested_data_year, choice.used_data_year, choice.key) == (
        2024,
        2023,
        "grid.cn.mee.southern.2023",
    )
    assert choice.fallback_applied and "not in the registry" in choice.explanation
    with pytest.raises(FactorError, match="no data year 2024"):
        registry.grid_factor_for("grid.cn.mee.southern", 2026, VintageRule(fallback="strict"))


def test_vintage_lag_is_configurable(registry: FactorRegistry) -> None:
    assert (
        registry.grid_factor_for("grid.cn.mee.national", 2023, VintageRule(lag_years=1)).key
        == "grid.cn.mee.national.2022"
    )
    with pytest.raises(FactorError, match="available"):
        registry.grid_factor_for("grid.cn.mee.national", 2022)  # Y-2 = 2020, nothing earlier


def test_malformed_csv_row_names_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "key,value,unit,data_year,scope,region,source,confidence,note\n"
        "a.b,0.5,kg,2022,s,r,src,secondary,\nc.d,abc,kg,,s,r,src,secondary,\n",
        encoding="utf-8",
    )
    with pytest.raises(FactorError, match=r"f.csv line 3: field 'value'"):
        load_registry(path)
