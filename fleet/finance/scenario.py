"""The JSON scenario file: read, validate and write named finance scenarios.

Format ``evfleet.finance.scenario/1`` (documented in docs/finance.md)::

    {
      "format": "evfleet.finance.scenario/1",
      "name": "4.5 t truck, Shenzhen",  "description": "...",
      "usage":  {"km_per_year": 40000, "ev_kwh_per_100km": 35},
      "lease":  {"price": 200000, "term_months": 60, "monthly_rent": 3900, "residual_value": 40000,
                 "loan": {"share_of_net_price": 0.7, "annual_rate": 0.05, "term_months": 48},
                 "battery": {"pack_kwh": 81}},
      "carbon": {"price_scenario": "shenzhen_2024"},
      "lessee": {"diesel_price_cny_per_l": 7.75, "electricity_cny_per_kwh": 0.45},
      "sensitivity": {"swing": 0.25, "drivers": [{"name": "rent", "path": "lease.monthly_rent"}]},
      "variants": [{"name": "high carbon", "set": {"carbon.price_cny_per_t": 97.49}}]
    }

Every section and field is optional; a missing one takes its sourced default and is listed in the report's
assumptions. `lease.battery` is the exception: without it the residual value is taken as given; with it the residual
follows the battery's projected state of health (docs/finance.md). Unknown fields are errors (a typo must not silently fall back to a default). Variants are named
scenarios: the base with some dotted fields replaced.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assumptions import default
from .carbon_prices import CARBON_PRICE_SCENARIOS
from .errors import FinanceInputError
from .inputs import Battery, Carbon, LeaseTerms, LesseeInputs, Loan, Scenario, Usage, get_path, replace_path
from .sensitivity import DEFAULT_DRIVERS, Driver

FORMAT = "evfleet.finance.scenario/1"
_TOP = {"format", "name", "description", "usage", "lease", "carbon", "lessee", "sensitivity", "variants"}


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file: the base scenario, its named variants and the tornado set-up."""

    base: Scenario
    variants: tuple[Scenario, ...]
    drivers: tuple[Driver, ...]
    swing: float


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FinanceInputError(path, f"must be a JSON object, got {type(value).__name__}")
    return value


def _known(data: dict[str, Any], cls: type, path: str, extra: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    names = {f.name for f in dataclasses.fields(cls)} | set(extra)
    for key in data:
        if key not in names:
            raise FinanceInputError(
                f"{path}.{key}" if path else key, f"unknown field; known fields: {', '.join(sorted(names))}"
            )


def _build(cls: type, data: dict[str, Any], path: str) -> Any:
    try:
        return cls(**data)
    except TypeError as error:  # e.g. a wrong type reaching a comparison before validation
        raise FinanceInputError(path, str(error)) from None


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """A validated Scenario from the parsed JSON of one scenario (sections optional)."""
    _object(data, "scenario")
    usage = _object(data.get("usage", {}), "usage")
    _known(usage, Usage, "usage")
    lease = dict(_object(data.get("lease", {}), "lease"))
    _known(lease, LeaseTerms, "lease")
    loan = dict(_object(lease.pop("loan", {}), "lease.loan"))
    _known(loan, Loan, "lease.loan")
    battery = lease.pop("battery", None)
    if battery is not None:
        battery = dict(_object(battery, "lease.battery"))
        _known(battery, Battery, "lease.battery")
        lease["battery"] = _build(Battery, battery, "lease.battery")
    term = lease.get("term_months")
    if "term_months" not in loan and isinstance(term, int) and not isinstance(term, bool) and term >= 1:
        loan["term_months"] = lease["term_months"]  # a loan without its own term runs over the lease
    if "start" in lease and lease["start"] is not None:
        try:
            lease["start"] = dt.date.fromisoformat(str(lease["start"]))
        except ValueError:
            raise FinanceInputError(
                "lease.start", f"must be an ISO date (YYYY-MM-DD), got {lease['start']!r}"
            ) from None
    carbon = dict(_object(data.get("carbon", {}), "carbon"))
    _known(carbon, Carbon, "carbon", {"price_scenario"})
    if "price_scenario" in carbon:
        name = carbon.pop("price_scenario")
        if "price_cny_per_t" in carbon:
            raise FinanceInputError("carbon.price_scenario", "give either price_scenario or price_cny_per_t")
        if name not in CARBON_PRICE_SCENARIOS:
            raise FinanceInputError(
                "carbon.price_scenario",
                f"unknown scenario {name!r}; known: {', '.join(CARBON_PRICE_SCENARIOS)}",
            )
        carbon["price_cny_per_t"] = CARBON_PRICE_SCENARIOS[name].price_cny_per_t
    lessee = _object(data.get("lessee", {}), "lessee")
    _known(lessee, LesseeInputs, "lessee")
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise FinanceInputError(key, f"must be a string, got {data[key]!r}")
    return Scenario(
        name=data.get("name", "default"),
        description=data.get("description", ""),
        usage=_build(Usage, usage, "usage"),
        lease=_build(LeaseTerms, {**lease, "loan": _build(Loan, loan, "lease.loan")}, "lease"),
        carbon=_build(Carbon, carbon, "carbon"),
        lessee=_build(LesseeInputs, lessee, "lessee"),
    )


def scenario_file_from_dict(data: Any) -> ScenarioFile:
    """Base scenario, variants and tornado drivers from a parsed scenario file."""
    data = _object(data, "scenario file")
    for key in data:
        if key not in _TOP:
            raise FinanceInputError(key, f"unknown top-level field; known fields: {', '.join(sorted(_TOP))}")
    if data.get("format", FORMAT) != FORMAT:
        raise FinanceInputError("format", f"must be {FORMAT!r}, got {data['format']!r}")
    base = scenario_from_dict(
        {k: v for k, v in data.items() if k not in ("format", "sensitivity", "variants")}
    )

    variants = []
    raw_variants = data.get("variants", [])
    if not isinstance(raw_variants, list):
        raise FinanceInputError("variants", "must be a list of {name, description, set}")
    for i, raw in enumerate(raw_variants):
        path = f"variants[{i}]"
        raw = _object(raw, path)
        unknown = set(raw) - {"name", "description", "set"}
        if unknown:
            raise FinanceInputError(
                f"{path}.{min(unknown)}", "unknown field; known fields: description, name, set"
            )
        if not isinstance(raw.get("name"), str) or not raw["name"]:
            raise FinanceInputError(f"{path}.name", "a variant needs a non-empty name")
        variant = dataclasses.replace(base, name=raw["name"], description=raw.get("description", ""))
        for field_path, value in _object(raw.get("set", {}), f"{path}.set").items():
            try:
                variant = replace_path(variant, field_path, value)  # type: ignore[assignment]
            except FinanceInputError as error:
                raise error.under(path) from None
        variants.append(variant)

    sensitivity = _object(data.get("sensitivity", {}), "sensitivity")
    unknown = set(sensitivity) - {"swing", "drivers"}
    if unknown:
        raise FinanceInputError(f"sensitivity.{min(unknown)}", "unknown field; known fields: drivers, swing")
    swing = sensitivity.get("swing", default("sensitivity_swing"))
    if isinstance(swing, bool) or not isinstance(swing, (int, float)) or not 0 < swing < 1:
        raise FinanceInputError("sensitivity.swing", f"must be a fraction between 0 and 1, got {swing!r}")
    drivers = DEFAULT_DRIVERS
    if "drivers" in sensitivity:
        drivers = tuple(
            _driver(raw, f"sensitivity.drivers[{i}]", base)
            for i, raw in enumerate(
                sensitivity["drivers"] if isinstance(sensitivity["drivers"], list) else [None]
            )
        )
    return ScenarioFile(base, tuple(variants), drivers, float(swing))


def _driver(raw: Any, path: str, base: Scenario) -> Driver:
    raw = _object(raw, path)
    unknown = set(raw) - {"name", "path", "low", "high"}
    if unknown:
        raise FinanceInputError(
            f"{path}.{min(unknown)}", "unknown field; known fields: high, low, name, path"
        )
    if not isinstance(raw.get("path"), str):
        raise FinanceInputError(f"{path}.path", "must name an input field, e.g. 'lease.monthly_rent'")
    try:
        get_path(base, raw["path"])
    except FinanceInputError:
        raise FinanceInputError(f"{path}.path", f"no such input field: {raw['path']!r}") from None
    low, high = raw.get("low"), raw.get("high")
    if (low is None) != (high is None):
        raise FinanceInputError(
            f"{path}.high" if high is None else f"{path}.low", "give both low and high, or neither"
        )
    return Driver(
        raw.get("name", raw["path"]), raw["path"], low, high, "scenario file" if low is not None else ""
    )


def read_scenario_file(path: Path | str) -> ScenarioFile:
    """Parse and validate a scenario JSON file; errors name the file and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FinanceInputError(str(path), f"cannot read: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FinanceInputError(
            str(path), f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    return scenario_file_from_dict(data)


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """All fields of a scenario as JSON-ready data (explicit values, no defaults left implicit)."""

    def plain(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        if isinstance(obj, dt.date):
            return obj.isoformat()
        return obj

    return {"format": FORMAT, **plain(scenario)}
