"""Validation of the routing input types: every bad field is named in the message."""

from __future__ import annotations

import json

import pytest

from routing.problem import (
    Battery,
    ChargingStation,
    Job,
    Location,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)
from routing.solution import (
    Route,
    RoutingSolution,
    SolverStats,
    Stop,
    StopKind,
    UnservedJob,
    UnservedReason,
)


def _ev(**kw) -> VehicleType:
    args = {
        "id": "ev",
        "count": 2,
        "payload_kg": 1000.0,
        "start_depot": "D",
        "battery": Battery(50.0, 0.5, 0.7),
    }
    args.update(kw)
    return VehicleType(**args)


def _problem(**kw) -> RoutingProblem:
    args = {
        "locations": (Location("D", x=0, y=0), Location("A", x=3, y=4)),
        "jobs": (Job("j1", "A", demand_kg=10, time_windows=(TimeWindow(0, 100),)),),
        "vehicle_types": (_ev(),),
    }
    args.update(kw)
    return RoutingProblem(**args)


def test_valid_problem_indexes_locations_and_vehicles():
    p = _problem()
    assert p.index_of("A") == 1
    assert [v for v, _ in p.vehicle_ids()] == ["ev#1", "ev#2"]
    assert p.vehicle_count == 2


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: Job("j", "A", demand_kg=-1), "Job 'j': field 'demand_kg' = -1"),
        (lambda: Job("j", "A", service_minutes=float("nan")), "'service_minutes'"),
        (lambda: Job("j", "A", time_windows=(TimeWindow(0, 5), TimeWindow(4, 8))), "overlap"),
        (lambda: Job("j", "A", priority=0), "'priority'"),
        (lambda: TimeWindow(10, 5), "field 'end' = 5"),
        (lambda: Location("L", x=1), "both x and y"),
        (lambda: Location("L", lat=95, lon=0), "field 'lat' = 95"),
        (lambda: Location("L", x=1, y=1, lat=1, lon=1), "not both"),
        (lambda: Battery(0, 1), "'capacity_kwh' = 0"),
        (lambda: Battery(50, 1.0, 0.5), "'consumption_full_kwh_per_km' = 0.5"),
        (lambda: Battery(50, 1.0, reserve_soc=0.2, initial_soc=0.1), "'initial_soc' = 0.1"),
        (lambda: _ev(battery=None), "VehicleType 'ev': field 'battery'"),
        (lambda: _ev(count=-1), "'count' = -1"),
        (lambda: _ev(shift_start=10, shift_end=5), "'shift_end' = 5"),
        (lambda: VehicleType("d", 1, 100, "D", kind=VehicleKind.DIESEL), "'diesel_l_per_100km'"),
        (lambda: ChargingStation("S", "A", power_kw=0), "ChargingStation 'S': field 'power_kw' = 0"),
        (lambda: _problem(jobs=(Job("j", "nowhere"),)), "Job 'j': field 'location' = 'nowhere'"),
        (lambda: _problem(jobs=(Job("j", "A"), Job("j", "A"))), "duplicate id"),
        (lambda: _problem(vehicle_types=(_ev(start_depot="X"),)), "'start_depot' = 'X'"),
        (lambda: _problem(distance_km=((0, 1),)), "'distance_km'"),
        (lambda: _problem(locations=(Location("D", x=0, y=0), Location("A", lat=1, lon=1))), "mix planar"),
        (lambda: _problem(locations=(Location("D", x=0, y=0), Location("A"))), "Location 'A'"),
    ],
)
def test_bad_input_names_object_and_field(make, fragment):
    with pytest.raises(ValueError) as err:
        make()
    assert fragment in str(err.value)


def test_load_dependent_rate_is_linear_and_clamped():
    b = Battery(100, 0.5, 1.0)
    assert b.rate(0, 1000) == pytest.approx(0.5)
    assert b.rate(500, 1000) == pytest.approx(0.75)
    assert b.rate(2000, 1000) == pytest.approx(1.0)


def test_solution_json_round_trip():
    stop = Stop(StopKind.STATION, "S1", "A", 5.0, 5.0, 20.0, 0.0, 10.0, 40.0, 30.0, 15.0)
    route = Route(
        "ev#1", "ev", "D", "D", 0.0, 30.0, (stop,), 0.0, 10.0, 8.0, 0.0, 12.5, 50.0, 32.0, 30.0, 15.0
    )
    sol = RoutingSolution(
        "p",
        (route,),
        (UnservedJob("j9", UnservedReason.OUT_OF_RANGE, "far"),),
        SolverStats("partial", 1.2, 7, 5.0, 1, 123.0, ("fleet",)),
    )
    back = RoutingSolution.from_dict(json.loads(json.dumps(sol.to_dict())))
    assert back == sol
    assert back.total_energy_charged_kwh == pytest.approx(30.0)
    assert sol.to_dict()["totals"]["vehicles"] == 1
