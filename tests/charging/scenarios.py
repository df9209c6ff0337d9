"""Tiny scenario builders shared by the charging tests (JSON dicts, parsed through the public reader)."""

from __future__ import annotations

import copy
from typing import Any

from charging.problem import ChargingProblem

FLAT = 0.68  # tariffs.json price_levels illustrative_flat

# Night 17:00-09:00 Shenzhen time, 15-minute slots (64).
NIGHT = {"start": "2026-11-24T17:00:00+08:00", "end": "2026-11-25T09:00:00+08:00", "slot_minutes": 15}


def vehicle(
    vid: str,
    arrival: str = "2026-11-24T18:00:00+08:00",
    departure: str = "2026-11-25T07:00:00+08:00",
    **kw: Any,
) -> dict[str, Any]:
    out = {
        "id": vid,
        "arrival": arrival,
        "departure": departure,
        "capacity_kwh": 100.0,
        "energy_arrival_kwh": 20.0,
        "energy_target_kwh": 60.0,
        "max_kw": 40.0,
        "v2g": False,
    }
    out.update(kw)
    return out


def connector(cid: str, **kw: Any) -> dict[str, Any]:
    out = {"id": cid, "max_kw": 40.0, "efficiency": 1.0, "v2g": False}
    out.update(kw)
    return out


def night(vehicles: list[dict], connectors: list[dict] | None = None, **kw: Any) -> dict[str, Any]:
    """A night scenario on the Guangdong TOU tariff (gd_ic_tou_2021) x 0.68 CNY/kWh, no demand charge."""
    data: dict[str, Any] = {
        **NIGHT,
        "site": {"import_limit_kw": 1000.0, "export_limit_kw": 0.0},
        "tariff": {"id": "gd_ic_tou_2021", "base_price": FLAT, "demand_charge_per_kw_month": 0.0},
        "connectors": connectors
        if connectors is not None
        else [connector(f"C{i}") for i in range(len(vehicles))],
        "groups": [],
        "vehicles": vehicles,
    }
    for key, value in kw.items():
        if key == "site":
            data["site"] = {**data["site"], **value}
        elif key == "tariff":
            data["tariff"] = {**data["tariff"], **value}
        else:
            data[key] = value
    return copy.deepcopy(data)


def problem(data: dict[str, Any]) -> ChargingProblem:
    return ChargingProblem.from_json(data)
