"""Scenario parsing, validation and JSON round trip."""

import pytest

from charging.problem import ChargingProblem, ScenarioError
from charging.synthetic import synthetic_depot
from tests.charging.scenarios import connector, night, problem, vehicle


def test_round_trip_keeps_every_field() -> None:
    data = night(
        [vehicle("粤B·D12345", v2g=True, min_energy_kwh=10.0, taper_soc=0.8, connector="C0"), vehicle("V2")],
        [connector("C0", v2g=True, group="CAB1"), connector("C1", group="CAB1")],
        groups=[{"id": "CAB1", "max_kw": 60.0}],
        site={
            "export_limit_kw": 50.0,
            "base_load_kw": 5.0,
            "pv_kw": [0.0] * 64,
            "battery": {"capacity_kwh": 100, "max_kw": 50, "efficiency": 0.95, "initial_kwh": 50},
        },
        tariff={
            "month_peak_kw_so_far": 30.0,
            "demand_charge_per_kw_month": 32.0,
            "export_rule": "gd_v2g_discharge_2025",
            "conditions": {"guangzhou_daily_max_ge_35C": ["2026-11-25"]},
        },
        dr_events=[
            {
                "id": "e1",
                "start": "2026-11-25T02:00:00+08:00",
                "end": "2026-11-25T03:00:00+08:00",
                "type": "cap",
                "max_import_kw": 10.0,
            }
        ],
        carbon_kg_per_kwh=[0.5] * 24,
    )
    p = problem(data)
    again = ChargingProblem.from_json(p.to_json())
    assert again == p
    assert again.vehicles[0].id == "粤B·D12345" and again.vehicles[0].taper_soc == 0.8


def test_synthetic_round_trip() -> None:
    p = synthetic_depot(5, seed=3)
    assert ChargingProblem.from_json(p.to_json()) == p
    assert p.n_slots == 64


def test_legacy_battery_kwh_key_is_read_and_written_as_capacity_kwh() -> None:
    """Plans stored before the rename hold `battery_kwh`; they still load, and are written back renamed."""
    legacy = vehicle("V1")
    legacy["battery_kwh"] = legacy.pop("capacity_kwh")
    p = problem(night([legacy], [connector("C0")]))
    assert p.vehicles[0].capacity_kwh == 100.0
    assert p == problem(night([vehicle("V1")], [connector("C0")]))
    written = p.to_json()["vehicles"][0]
    assert written["capacity_kwh"] == 100.0 and "battery_kwh" not in written


def test_capacity_given_under_both_names_is_rejected() -> None:
    both = vehicle("V1", battery_kwh=100.0)
    with pytest.raises(ScenarioError) as info:
        problem(night([both], [connector("C0")]))
    assert "vehicle V1" in str(info.value) and "battery_kwh" in str(info.value)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d["vehicles"][0].update(energy_target_kwh=120.0), ["vehicle V1", "energy_target_kwh"]),
        (
            lambda d: d["vehicles"][0].update(arrival="2026-11-24T18:00:00"),
            ["vehicle V1", "arrival", "time zone"],
        ),
        (
            lambda d: d["vehicles"][0].update(departure="2026-11-24T17:30:00+08:00"),
            ["vehicle V1", "departure"],
        ),
        (lambda d: d["vehicles"][0].update(max_kw="fast"), ["vehicle V1", "max_kw"]),
        (lambda d: d["connectors"][0].update(group="NOPE"), ["connector C0", "NOPE"]),
        (lambda d: d["connectors"][0].update(efficiency=1.5), ["connector C0", "efficiency"]),
        (lambda d: d["vehicles"][0].update(connector="C9"), ["vehicle V1", "C9"]),
        (lambda d: d["site"].update(base_load_kw=[1.0, 2.0]), ["site.base_load_kw", "64"]),
        (lambda d: d.update(end="2026-11-25T09:05:00+08:00"), ["end", "whole number"]),
        (lambda d: d["tariff"].update(id="nope"), ["tariff.id", "nope"]),
        (lambda d: d["tariff"].pop("base_price"), ["tariff.base_price"]),
        (
            lambda d: d.update(
                dr_events=[
                    {
                        "id": "x",
                        "start": "2026-11-25T02:00:00+08:00",
                        "end": "2026-11-25T03:00:00+08:00",
                        "type": "cap",
                    }
                ]
            ),
            ["dr_events[x]", "max_import_kw"],
        ),
        (lambda d: d.update(vehicles=d["vehicles"] * 2), ["duplicate vehicle id", "V1"]),
    ],
)
def test_validation_names_the_field(mutate, words) -> None:
    data = night([vehicle("V1")], [connector("C0")])
    mutate(data)
    with pytest.raises(ScenarioError) as info:
        problem(data)
    for word in words:
        assert word in str(info.value)


def test_slot_usable_only_wholly_inside_stay() -> None:
    p = problem(
        night([vehicle("V1", arrival="2026-11-24T17:05:00+08:00", departure="2026-11-24T18:10:00+08:00")])
    )
    first, last = p.usable_range(p.vehicles[0])
    assert (first, last) == (1, 4)  # 17:15-18:00 usable; 17:00 and 18:00 slots are partial


def test_sharing_detected_when_fewer_connectors() -> None:
    assert problem(night([vehicle("A"), vehicle("B")], [connector("C0")])).sharing
    assert not problem(night([vehicle("A")], [connector("C0"), connector("C1")])).sharing
