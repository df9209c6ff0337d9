"""The checker catches each kind of violation (one tampered schedule per constraint)."""

from dataclasses import replace

import numpy as np
import pytest

from charging.check import check
from charging.optimize import schedule
from charging.result import ChargingSchedule, Unmet, VehicleSchedule
from charging.tariff import CostBreakdown
from tests.charging.scenarios import connector, night, problem, vehicle


@pytest.fixture(scope="module")
def case():
    vs = [
        vehicle("V0", v2g=True, energy_arrival_kwh=50.0, energy_target_kwh=70.0),
        vehicle("V1", taper_soc=0.5, energy_arrival_kwh=40.0, energy_target_kwh=90.0),
        vehicle("V2", arrival="2026-11-24T20:00:00+08:00"),
    ]
    cs = [connector("C0", v2g=True, group="CAB"), connector("C1", group="CAB"), connector("C2")]
    data = night(
        vs,
        cs,
        groups=[{"id": "CAB", "max_kw": 60.0}],
        site={
            "import_limit_kw": 70.0,
            "export_limit_kw": 10.0,
            "pv_kw": [5.0] * 64,
            "battery": {"capacity_kwh": 50.0, "max_kw": 20.0, "efficiency": 0.95, "initial_kwh": 10.0},
        },
        dr_events=[
            {
                "id": "cap",
                "start": "2026-11-25T02:00:00+08:00",
                "end": "2026-11-25T03:00:00+08:00",
                "type": "cap",
                "max_import_kw": 30.0,
            }
        ],
    )
    p = problem(data)
    s = schedule(p, time_limit_s=20, baselines=False)
    assert check(p, s).ok, check(p, s).violations
    return p, s


def with_power(s: ChargingSchedule, vid: str, slot: int, kw: float) -> ChargingSchedule:
    """Change one vehicle's power in one slot and keep the site balance, energies and cost consistent."""
    vehicles = []
    delta = 0.0
    for v in s.vehicles:
        if v.id == vid:
            power = list(v.power_kw)
            delta = kw - power[slot]
            power[slot] = kw
            v = replace(v, power_kw=tuple(power))
        vehicles.append(v)
    site = list(s.site_import_kw)
    site[slot] += delta
    return replace(s, vehicles=tuple(vehicles), site_import_kw=tuple(site))


def consistent(p, s: ChargingSchedule) -> ChargingSchedule:
    """Re-derive departure energies and cost so only the intended violation remains."""
    report = check(p, s)
    vehicles = tuple(
        replace(
            v,
            energy_departure_kwh=next(x.energy_arrival_kwh for x in p.vehicles if x.id == v.id)
            + report.energy_delivered_kwh[v.id],
        )
        for v in s.vehicles
    )
    from charging.accounting import site_cost

    cost = site_cost(p, np.asarray(s.site_import_kw))
    return replace(s, vehicles=vehicles, cost=cost)


def codes(p, s) -> set[str]:
    return check(p, s).codes()


def idle_slot(s: ChargingSchedule, vid: str, p) -> int:
    v = s.vehicle(vid)
    vehicle_ = next(x for x in p.vehicles if x.id == vid)
    first, last = p.usable_range(vehicle_)
    return next(
        t
        for t in range(first, last)
        if abs(v.power_kw[t]) < 1e-9 and s.site_import_kw[t] < 20.0 and not 8 <= t - 36 <= 11
    )


def test_valid_schedule_passes(case) -> None:
    p, s = case
    assert check(p, s).ok
    assert check(p, s.to_json()).ok  # JSON form too


def test_missing_and_unknown_vehicle(case) -> None:
    p, s = case
    assert "vehicle_set" in codes(p, replace(s, vehicles=s.vehicles[1:]))
    ghost = VehicleSchedule("GHOST", None, tuple([0.0] * p.n_slots), 0.0)
    assert "vehicle_set" in codes(p, replace(s, vehicles=s.vehicles + (ghost,)))


def test_wrong_length(case) -> None:
    p, s = case
    v = replace(s.vehicles[0], power_kw=s.vehicles[0].power_kw[:-1])
    assert "length" in codes(p, replace(s, vehicles=(v,) + s.vehicles[1:]))


def test_power_outside_stay(case) -> None:
    p, s = case
    bad = consistent(p, with_power(s, "V2", 0, 5.0))  # V2 arrives at 20:00 (slot 12)
    assert "outside_stay" in codes(p, bad)


def test_power_outside_plug_interval(case) -> None:
    p, s = case
    v = s.vehicle("V2")
    active = [t for t, kw in enumerate(v.power_kw) if kw > 1e-6]
    narrowed = replace(v, plug_in_slot=active[-1], plug_out_slot=active[-1] + 1)
    bad = replace(s, vehicles=tuple(narrowed if x.id == "V2" else x for x in s.vehicles))
    assert codes(p, bad) == {"plug_interval"}


def test_vehicle_power_limit(case) -> None:
    p, s = case
    v = next(x for x in p.vehicles if x.id == "V2")
    bad = consistent(p, with_power(s, "V2", p.usable_range(v)[0], 45.0))
    assert "vehicle_power" in codes(p, bad)


def test_connector_power_limit(case) -> None:
    p, s = case
    # Tighten the connector V2 really uses to below V2's real peak: the fixture must exceed the limit, or the
    # first assertion would pass vacuously (it once tightened C2 while V2 charged on C1).
    v2 = s.vehicle("V2")
    peak = max(v2.power_kw)
    assert peak > 1.0, "fixture: V2 must charge"
    limit = peak / 2
    data = p.to_json()
    index = next(i for i, c in enumerate(data["connectors"]) if c["id"] == v2.connector)
    data["connectors"][index]["max_kw"] = limit
    tighter = problem(data)
    assert any(kw > limit + 1e-6 for kw in v2.power_kw), "fixture never exceeds the tightened limit"
    assert "connector_power" in codes(tighter, s)
    v = next(x for x in p.vehicles if x.id == "V2")
    bad = consistent(tighter, with_power(s, "V2", p.usable_range(v)[0], 30.0))
    assert "connector_power" in codes(tighter, bad)


def test_discharge_without_v2g(case) -> None:
    p, s = case
    v = next(x for x in p.vehicles if x.id == "V2")
    bad = consistent(p, with_power(s, "V2", p.usable_range(v)[0] + 1, -5.0))
    assert "v2g" in codes(p, bad)


def test_taper_limit(case) -> None:
    p, s = case
    v1 = s.vehicle("V1")
    last_active = max(t for t, kw in enumerate(v1.power_kw) if kw > 1e-6)
    bad = consistent(p, with_power(s, "V1", last_active, 40.0))
    assert "taper" in codes(p, bad)


def test_battery_overfilled(case) -> None:
    p, s = case
    v = s.vehicle("V2")
    power = [40.0 if kw > 1e-6 or t in range(20, 30) else kw for t, kw in enumerate(v.power_kw)]
    tampered = replace(
        s, vehicles=tuple(replace(x, power_kw=tuple(power)) if x.id == "V2" else x for x in s.vehicles)
    )
    tampered = replace(
        tampered,
        site_import_kw=tuple(np.asarray(s.site_import_kw) + np.asarray(power) - np.asarray(v.power_kw)),
    )
    assert "vehicle_energy" in codes(p, consistent(p, tampered))


def test_target_missed_without_unmet_entry(case) -> None:
    p, s = case
    v = s.vehicle("V2")
    t = max(t for t, kw in enumerate(v.power_kw) if kw > 1e-6)
    bad = consistent(p, with_power(s, "V2", t, 0.0))
    assert "energy" in codes(p, bad)
    declared = replace(bad, unmet=(Unmet("V2", 10.0, "test"),))
    assert "energy" not in codes(p, declared)


def test_reported_departure_energy_must_match(case) -> None:
    p, s = case
    v = replace(s.vehicle("V0"), energy_departure_kwh=99.0)
    assert "energy" in codes(p, replace(s, vehicles=tuple(v if x.id == "V0" else x for x in s.vehicles)))


def test_two_vehicles_on_one_connector(case) -> None:
    p, s = case
    target = s.vehicle("V2").connector
    assert target != s.vehicle("V1").connector
    moved = tuple(replace(x, connector=target) if x.id == "V1" else x for x in s.vehicles)
    assert "connector_conflict" in codes(p, replace(s, vehicles=moved))


def test_power_without_connector(case) -> None:
    p, s = case
    moved = tuple(replace(x, connector=None) if x.id == "V1" else x for x in s.vehicles)
    assert "no_connector" in codes(p, replace(s, vehicles=moved))


def test_group_limit(case) -> None:
    p, s = case
    data = p.to_json()
    data["groups"][0]["max_kw"] = 1.0
    assert "group" in codes(problem(data), s)


def test_site_import_limit_and_dr_cap(case) -> None:
    p, s = case
    data = p.to_json()
    data["site"]["import_limit_kw"] = 1.0
    assert "site_import" in codes(problem(data), s)
    slot = 37  # 02:15, inside the DR cap window (30 kW)
    bad = consistent(p, with_power(s, "V2", slot, s.vehicle("V2").power_kw[slot] + 35.0))
    assert "site_import" in codes(p, bad)


def test_site_export_limit(case) -> None:
    p, s = case
    site = list(s.site_import_kw)
    curt = list(s.pv_curtailed_kw)
    t = 2  # 17:30, only PV on site
    site[t] -= curt[t]
    curt[t] = 0.0
    data = p.to_json()
    data["site"]["pv_kw"] = [5.0] * 64
    data["site"]["pv_kw"][t] = 40.0
    bigger = problem(data)
    site[t] -= 35.0
    bad = consistent(bigger, replace(s, site_import_kw=tuple(site), pv_curtailed_kw=tuple(curt)))
    assert "site_export" in codes(bigger, bad)


def test_site_balance_must_match(case) -> None:
    p, s = case
    site = list(s.site_import_kw)
    site[5] += 3.0
    assert "site_balance" in codes(p, replace(s, site_import_kw=tuple(site)))


def test_curtailment_bounds(case) -> None:
    p, s = case
    curt = list(s.pv_curtailed_kw)
    curt[3] = 9.0  # more than the 5 kW of PV
    site = list(s.site_import_kw)
    site[3] += 9.0 - s.pv_curtailed_kw[3]
    assert "curtailment" in codes(
        p, consistent(p, replace(s, pv_curtailed_kw=tuple(curt), site_import_kw=tuple(site)))
    )


def test_stationary_battery_bounds(case) -> None:
    p, s = case
    bkw = list(s.battery_kw)
    site = list(s.site_import_kw)
    site[4] += 25.0 - bkw[4]
    bkw[4] = 25.0  # beyond 20 kW, whatever the optimum (alternative optima differ in the battery's slot 4)
    bad = consistent(p, replace(s, battery_kw=tuple(bkw), site_import_kw=tuple(site)))
    assert "stationary_battery" in codes(p, bad)
    drained = [-20.0 if t < 5 else 0.0 for t in range(p.n_slots)]
    site2 = np.asarray(s.site_import_kw) - np.asarray(s.battery_kw) + np.asarray(drained)
    bad2 = consistent(p, replace(s, battery_kw=tuple(drained), site_import_kw=tuple(site2)))
    assert "stationary_battery" in codes(p, bad2)


def test_cost_recomputed(case) -> None:
    p, s = case
    cheaper = replace(
        s,
        cost=CostBreakdown(
            energy=s.cost.energy - 5.0, demand=s.cost.demand, export=s.cost.export, dr=s.cost.dr
        ),
    )
    assert codes(p, cheaper) == {"cost"}
    assert check(p, s).cost_total == pytest.approx(s.cost.total)
