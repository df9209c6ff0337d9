"""The optimiser on small cases with known answers; every schedule also passes the checker."""

import itertools
from dataclasses import replace

import numpy as np
import pytest

from charging.check import check
from charging.optimize import schedule
from tests.charging.scenarios import connector, night, problem, vehicle

HOURLY = {"start": "2026-11-24T00:00:00+08:00", "end": "2026-11-24T04:00:00+08:00", "slot_minutes": 60}
FOUR_PRICES = [
    {"start": "00:00", "end": "01:00", "price": 1.0},
    {"start": "01:00", "end": "02:00", "price": 0.5},
    {"start": "02:00", "end": "03:00", "price": 0.2},
    {"start": "03:00", "end": "24:00", "price": 0.8},
]


def four_slots(efficiency: float = 1.0, tariff: dict | None = None, **kw):
    """One vehicle, 4 hourly slots priced 1.0 / 0.5 / 0.2 / 0.8 CNY/kWh, needs 15 kWh at up to 10 kW."""
    v = vehicle(
        "V",
        arrival="2026-11-24T00:00:00+08:00",
        departure="2026-11-24T04:00:00+08:00",
        energy_arrival_kwh=10.0,
        energy_target_kwh=25.0,
        max_kw=10.0,
    )
    data = night([v], [connector("C", max_kw=10.0, efficiency=efficiency)], **kw)
    data["tariff"] = {"periods": FOUR_PRICES, **(tariff or {})}
    data.update(HOURLY)
    return data


def solved(data, **kw):
    p = problem(data)
    s = schedule(p, time_limit_s=20, **kw)
    report = check(p, s)
    assert report.ok, report.violations
    return p, s


def test_lp_matches_hand_computed_optimum() -> None:
    _, s = solved(four_slots())
    assert s.status == "optimal"
    assert s.vehicles[0].power_kw == pytest.approx((0.0, 5.0, 10.0, 0.0), abs=1e-6)
    assert s.cost.total == pytest.approx(10 * 0.2 + 5 * 0.5)


def test_efficiency_raises_grid_energy() -> None:
    _, s = solved(four_slots(efficiency=0.8))  # 15 kWh in the battery = 18.75 kWh from the grid
    assert s.cost.total == pytest.approx(10 * 0.2 + 8.75 * 0.5)
    assert s.vehicles[0].energy_departure_kwh == pytest.approx(25.0)


def test_demand_charge_only_above_month_peak() -> None:
    data = four_slots(tariff={"demand_charge_per_kw_month": 1.0, "month_peak_kw_so_far": 5.0})
    _, s = solved(data)
    # Hand optimum: 5 kW in the three cheapest slots (0.5 + 0.2 + 0.8) x 5 = 7.5, no peak increase.
    assert s.cost.total == pytest.approx(7.5)
    assert s.cost.demand == pytest.approx(0.0)


def test_valley_shifting() -> None:
    p, s = solved(night([vehicle("V1"), vehicle("V2", arrival="2026-11-24T17:30:00+08:00")]))
    for v in s.vehicles:
        hours = {p.slot_starts[t].hour for t, kw in enumerate(v.power_kw) if kw > 1e-6}
        assert hours and hours <= set(range(8)), hours
    assert s.baselines["uncontrolled"].savings_pct > 40


def test_site_limit_respected_and_all_served() -> None:
    vs = [vehicle(f"V{i}", departure="2026-11-25T01:00:00+08:00") for i in range(3)]
    _p, s = solved(night(vs, site={"import_limit_kw": 50.0}))
    assert max(s.site_import_kw) <= 50.0 + 1e-6
    assert not s.unmet
    # only 50 kWh fit in the 00:00-01:00 valley, the rest is bought at the flat price
    assert s.cost.energy > 120 * 0.38 * 0.68 + 1.0


def test_group_limit_respected() -> None:
    vs = [vehicle(f"V{i}", departure="2026-11-25T01:00:00+08:00") for i in range(2)]
    cs = [connector(f"C{i}", group="CAB1") for i in range(2)]
    _p, s = solved(night(vs, cs, groups=[{"id": "CAB1", "max_kw": 50.0}]))
    total = np.sum([v.power_kw for v in s.vehicles], axis=0)
    assert total.max() <= 50.0 + 1e-6 and total.max() > 49.0
    assert not s.unmet


def test_connector_sharing_contiguous_and_exclusive() -> None:
    vs = [vehicle(f"V{i}") for i in range(3)]
    _p, s = solved(night(vs, [connector("C0")]))
    assert not s.unmet
    spans = sorted((v.plug_in_slot, v.plug_out_slot) for v in s.vehicles)
    assert all(v.connector == "C0" for v in s.vehicles)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(spans))
    assert s.gap is not None and s.gap <= 0.01 and s.lp_bound is not None


def test_too_few_connectors_reported() -> None:
    vs = [
        vehicle(f"V{i}", arrival="2026-11-24T18:00:00+08:00", departure="2026-11-24T19:00:00+08:00")
        for i in range(3)
    ]
    _p, s = solved(night(vs, [connector("C0")]))
    assert sum(u.shortfall_kwh for u in s.unmet) == pytest.approx(120 - 40, abs=1e-3)
    assert s.unmet and all(u.reason.startswith("too few connectors") for u in s.unmet)


def test_unservable_stay_too_short_and_site_limit_reasons() -> None:
    short = vehicle(
        "SHORT",
        arrival="2026-11-24T18:00:00+08:00",
        departure="2026-11-24T19:00:00+08:00",
        energy_target_kwh=80.0,
    )  # 60 kWh in 1 h at 40 kW: 40 kWh at most
    ok = vehicle("OK")
    _, s = solved(night([short, ok]))
    (u,) = s.unmet
    assert u.id == "SHORT" and u.shortfall_kwh == pytest.approx(20.0, abs=1e-4)
    assert "stay too short" in u.reason
    limited = vehicle("LIM", arrival="2026-11-24T18:00:00+08:00", departure="2026-11-24T19:00:00+08:00")
    _p, s = solved(night([limited], site={"import_limit_kw": 10.0}))
    (u,) = s.unmet
    assert u.shortfall_kwh == pytest.approx(30.0, abs=1e-4) and u.reason.startswith("site limit")


def test_stationary_battery_charges_in_valley_discharges_in_peak() -> None:
    data = night(
        [],
        [connector("C0")],
        site={
            "base_load_kw": 50.0,
            "battery": {"capacity_kwh": 100.0, "max_kw": 50.0, "efficiency": 0.95, "initial_kwh": 0.0},
        },
    )
    data.update(start="2026-11-24T06:00:00+08:00", end="2026-11-24T12:00:00+08:00")
    data["site"]["base_load_kw"] = 50.0
    p, s = solved(data)
    hours = [t.hour for t in p.slot_starts]
    charge = [kw for h, kw in zip(hours, s.battery_kw) if h < 8]
    discharge = [kw for h, kw in zip(hours, s.battery_kw) if 10 <= h < 12]
    assert max(charge) > 1.0 and min(discharge) < -1.0
    assert all(kw >= -1e-6 for kw in charge) and all(kw <= 1e-6 for kw in discharge)
    without = dict(data, site={k: v for k, v in data["site"].items() if k != "battery"})
    _, s0 = solved(without)
    assert s.cost.total < s0.cost.total - 1.0


def test_pv_lowers_bought_energy() -> None:
    v = vehicle("V", arrival="2026-11-24T08:00:00+08:00", departure="2026-11-24T16:00:00+08:00")
    data = night([v])
    data.update(start="2026-11-24T08:00:00+08:00", end="2026-11-24T16:00:00+08:00")
    _p0, s0 = solved(data)
    pv = [20.0 if 8 <= k < 24 else 0.0 for k in range(32)]  # 10:00-14:00
    data["site"]["pv_kw"] = pv
    _p1, s1 = solved(data)
    bought0 = sum(max(0.0, x) for x in s0.site_import_kw) * 0.25
    bought1 = sum(max(0.0, x) for x in s1.site_import_kw) * 0.25
    assert bought1 < bought0 - 30.0
    assert s1.cost.energy < s0.cost.energy


def test_dr_cap_lowers_import_in_window() -> None:
    _, s0 = solved(four_slots())
    event = {
        "id": "dr",
        "start": "2026-11-24T02:00:00+08:00",
        "end": "2026-11-24T03:00:00+08:00",
        "type": "cap",
        "max_import_kw": 2.0,
    }
    _, s1 = solved(four_slots(dr_events=[event]))
    assert s0.site_import_kw[2] == pytest.approx(10.0)
    assert s1.site_import_kw[2] <= 2.0 + 1e-6
    assert s1.cost.total == pytest.approx(2 * 0.2 + 10 * 0.5 + 3 * 0.8)


def test_dr_reduction_reward() -> None:
    event = {
        "id": "dr",
        "start": "2026-11-24T02:00:00+08:00",
        "end": "2026-11-24T03:00:00+08:00",
        "type": "reduction_reward",
        "reference_kw": 10.0,
        "rate_cny_per_kwh": 1.0,
    }
    _, s = solved(four_slots(dr_events=[event]))
    assert s.site_import_kw[2] == pytest.approx(0.0, abs=1e-6)
    assert s.cost.total == pytest.approx(10 * 0.5 + 5 * 0.8 - 10 * 1.0)


def test_v2g_discharges_for_a_dr_reward() -> None:
    v = vehicle("V", v2g=True, energy_arrival_kwh=60.0, energy_target_kwh=60.0)
    event = {
        "id": "sz",
        "start": "2026-11-24T18:00:00+08:00",
        "end": "2026-11-24T19:00:00+08:00",
        "type": "discharge_reward",
        "rate_cny_per_kwh": 4.0,
        "source": "sz_v2g_dr_2024_05_15",
    }
    data = night(
        [v], [connector("C", v2g=True, efficiency=0.95)], site={"export_limit_kw": 100.0}, dr_events=[event]
    )
    p, s = solved(data)
    window = [kw for t, kw in zip(p.slot_starts, s.vehicles[0].power_kw) if t.hour == 18]
    assert min(window) < -1.0
    assert s.cost.dr < 0
    assert s.vehicles[0].energy_departure_kwh == pytest.approx(60.0, abs=1e-3)
    # the same vehicle on a non-V2G connector cannot discharge
    data["connectors"][0]["v2g"] = False
    _, s2 = solved(data)
    assert min(s2.vehicles[0].power_kw) >= 0


def test_objectives_all_reported_and_each_wins_its_own() -> None:
    vs = [vehicle(f"V{i}", departure="2026-11-25T02:00:00+08:00") for i in range(4)]
    carbon = [0.9] * 24
    carbon[21] = 0.1  # cleanest hour 21:00-22:00 (flat price band)
    data = night(vs, carbon_kg_per_kwh=carbon)
    results = {obj: solved(data, objective=obj)[1] for obj in ("cost", "peak", "carbon")}
    for s in results.values():
        assert set(s.objectives) == {"cost", "peak_kw", "carbon_kg"}
    assert results["cost"].cost.total <= min(r.cost.total for r in results.values()) + 1e-6
    assert results["peak"].peak_kw <= min(r.peak_kw for r in results.values()) + 1e-6
    assert results["carbon"].carbon_kg <= min(r.carbon_kg for r in results.values()) + 1e-6
    assert results["carbon"].carbon_kg < results["cost"].carbon_kg


def test_taper_respected() -> None:
    v = vehicle("V", energy_arrival_kwh=40.0, energy_target_kwh=95.0, taper_soc=0.5)
    _p, s = solved(night([v]))
    power = [kw for kw in s.vehicles[0].power_kw if kw > 1e-6]
    assert not s.unmet and min(power) < 40.0 - 1.0


def test_pdlp_agrees_with_glop() -> None:
    _, s = solved(four_slots(), lp_solver="pdlp")
    assert s.cost.total == pytest.approx(4.5, rel=1e-3)


def test_bad_objective_rejected() -> None:
    with pytest.raises(ValueError, match="objective"):
        schedule(problem(four_slots()), objective="speed")


def _stepped(**kw):
    vs = [vehicle(f"V{i}", departure="2026-11-25T02:00:00+08:00", energy_target_kwh=57.3) for i in range(4)]
    cs = [connector(f"C{i}", power_step_kw=5.0, min_kw=15.0, efficiency=0.95, group="G") for i in range(4)]
    return night(vs, cs, groups=[{"id": "G", "max_kw": 70.0}], **kw)


def test_power_steps_and_minimum_power_on_cp_sat() -> None:
    _p, s = solved(_stepped(tariff={"demand_charge_per_kw_month": 32.0, "demand_charge_proration": 1 / 30}))
    powers = {kw for v in s.vehicles for kw in v.power_kw}
    assert all(abs(kw / 5.0 - round(kw / 5.0)) < 1e-9 for kw in powers)
    assert all(kw == 0.0 or kw >= 15.0 for kw in powers)
    assert not s.unmet
    assert "power steps" in s.solver and s.lp_bound is not None and s.gap is not None and s.gap >= 0
    assert s.objective_value >= s.lp_bound - 1e-6  # the LP is a bound on the discrete plan


def test_checker_flags_broken_steps_and_minimum() -> None:
    p = problem(_stepped())
    s = schedule(p, time_limit_s=10, baselines=False)
    assert check(p, s).ok
    v = s.vehicles[0]
    t = next(t for t, kw in enumerate(v.power_kw) if kw > 0)
    power = list(v.power_kw)
    power[t] = 17.0  # not a multiple of 5 kW
    power[t + 1 if power[t + 1] == 0 else t - 1] = 10.0  # on, but below the 15 kW minimum
    bad = replace(s, vehicles=(replace(v, power_kw=tuple(power)),) + s.vehicles[1:])
    assert {"power_step", "min_power"} <= check(p, bad).codes()


def _full_demand_depot():
    from charging.synthetic import synthetic_depot

    p = synthetic_depot(6, n_connectors=2, seed=4)
    return replace(p, tariff=replace(p.tariff, demand_charge_proration=1.0))


def test_sharing_reprices_greedy_to_the_bound() -> None:
    # Demand charge at the full monthly rate: the best plan spreads charging thinly over the night, which needs
    # long plug-in intervals; the first greedy placement misses, re-pricing at the plan's duals closes the gap.
    p = _full_demand_depot()
    s = schedule(p, time_limit_s=30, seed=1)
    assert check(p, s).ok
    assert s.status == "optimal" and s.gap <= 1e-6 and not s.unmet


def test_sharing_mip_reaches_the_bound_when_demand_charge_dominates(monkeypatch) -> None:
    from charging import optimize
    from charging.synthetic import synthetic_depot

    monkeypatch.setattr(optimize, "PRICE_ROUNDS", 0)  # leave the work to the MIP
    monkeypatch.setattr(optimize, "GREEDY_ORDERS", ("slack",))
    p = synthetic_depot(6, n_connectors=2, seed=4)
    p = replace(p, tariff=replace(p.tariff, demand_charge_proration=1.0))
    s = schedule(p, time_limit_s=30, seed=1)
    assert check(p, s).ok
    assert "MIP" in s.solver
    assert s.status == "optimal" and s.gap <= 1e-6
    assert not s.unmet


def test_sharing_cp_sat_path_when_mip_too_big(monkeypatch) -> None:
    from charging import optimize
    from charging.synthetic import synthetic_depot

    monkeypatch.setattr(optimize, "MIP_MAX_BINARIES", 0)  # large-depot path: CP-SAT places the intervals
    monkeypatch.setattr(optimize, "USE_COLUMNS", False)  # as where column generation does not apply
    monkeypatch.setattr(optimize, "PRICE_ROUNDS", 0)
    monkeypatch.setattr(optimize, "GREEDY_ORDERS", ("slack",))
    p = synthetic_depot(6, n_connectors=2, seed=4)
    p = replace(p, tariff=replace(p.tariff, demand_charge_proration=1.0))
    s = schedule(p, time_limit_s=10, seed=1, num_workers=1)
    assert "cp-sat intervals (1 workers" in s.solver
    assert check(p, s).ok and not s.unmet
    assert s.gap is not None and s.gap >= 0


def test_contract_overrun_is_priced_and_checked() -> None:
    """15 kWh in 1 h forces 15 kW: with 10 kW contracted and 5 kW already metered, the increase costs
    5 kW × 2 + 5 kW × 2 × 2 = 30 CNY at 2 CNY/kW·month; the night's share is (10 × 2 + 5 × 4) / 30 days."""
    data = four_slots(
        tariff={"demand_charge_per_kw_month": 2.0, "month_peak_kw_so_far": 5.0, "contracted_demand_kw": 10.0}
    )
    data["vehicles"][0]["max_kw"] = 20.0
    data["connectors"][0]["max_kw"] = 20.0
    data["vehicles"][0]["departure"] = "2026-11-24T01:00:00+08:00"
    p, s = solved(data)
    assert s.peak_kw == pytest.approx(15.0, abs=1e-6)
    assert s.cost.demand == pytest.approx(5 * 2.0 + 5 * 4.0, abs=1e-6)
    assert s.cost.demand_night == pytest.approx((10 * 2.0 + 5 * 4.0) / 30, abs=1e-6)
    tampered = replace(s, cost=replace(s.cost, demand_night=s.cost.demand_night / 2))
    assert any(v.code == "cost" for v in check(p, tampered).violations)


def _pulsing_night(operability: dict | None = None):  # type: ignore[no-untyped-def]
    """One truck, 8 hourly slots priced 0.2 / 1.0 alternately, needing 4 kWh at up to 4 kW, with a demand charge
    of 1 CNY/kW·month. The LP optimum is unique: 1 kW in each of the four cheap slots (energy 0.8 CNY, peak 1 kW),
    i.e. it switches on and off four times: 8 power changes."""
    prices = [
        {"start": f"{h:02d}:00", "end": f"{h + 1:02d}:00", "price": 0.2 if h % 2 == 0 else 1.0}
        for h in range(8)
    ] + [{"start": "08:00", "end": "24:00", "price": 1.0}]
    v = vehicle(
        "V",
        arrival="2026-11-24T00:00:00+08:00",
        departure="2026-11-24T08:00:00+08:00",
        energy_arrival_kwh=10.0,
        energy_target_kwh=14.0,
        max_kw=4.0,
    )
    data = night([v], [connector("C", max_kw=4.0)])
    data["tariff"] = {"periods": prices, "demand_charge_per_kw_month": 1.0}
    data.update(
        {"start": "2026-11-24T00:00:00+08:00", "end": "2026-11-24T08:00:00+08:00", "slot_minutes": 60}
    )
    if operability:
        data["operability"] = operability
    return data


def _changes(power) -> int:  # type: ignore[no-untyped-def]
    padded = np.concatenate(([0.0], np.asarray(power), [0.0]))
    return int(np.count_nonzero(np.abs(np.diff(padded)) > 1e-3))


def test_a_pulsing_lp_optimum_is_replaced_by_an_operable_schedule() -> None:
    _, lp = solved(_pulsing_night())
    assert lp.vehicles[0].power_kw == pytest.approx((1, 0, 1, 0, 1, 0, 1, 0), abs=1e-6)
    assert _changes(lp.vehicles[0].power_kw) == 8  # the pulsing the operable model must remove
    _, s = solved(_pulsing_night({"max_power_changes": 2, "min_charge_kw": 0.5}))
    power = s.vehicles[0].power_kw
    assert _changes(power) <= 2 and all(kw == 0 or kw >= 0.5 - 1e-9 for kw in power)
    assert not s.unmet and 14.0 - 1e-6 <= s.vehicles[0].energy_departure_kwh <= 14.1
    # Best single session by hand: 4 kW in one cheap hour (0.8 energy + 4.0 demand = 4.8 CNY) against the seven
    # hours 00-07 at 4/7 kW (4/7 × (4 × 0.2 + 3 × 1.0) + 4/7 = 2.743 CNY). The discrete model works in 0.01 kW
    # and never under-delivers, so it holds 0.58 kW: 0.58 × 3.8 + 0.58 = 2.784 CNY. The LP bound is 0.8 + 1.0.
    assert power == pytest.approx((0.58,) * 7 + (0.0,), abs=1e-9)
    assert s.cost.total == pytest.approx(0.58 * 3.8 + 0.58, abs=1e-6)
    assert s.lp_bound == pytest.approx(1.8, abs=1e-3)  # energy + demand, plus the tiny tie-break on the peak
    assert s.gap == pytest.approx((s.cost.total - 1.8) / 1.8, abs=1e-3)
    assert s.status == "feasible"  # above its bound: never called optimal


def test_the_checker_counts_power_changes_and_the_minimum_independently() -> None:
    p, s = solved(_pulsing_night({"max_power_changes": 2, "min_charge_kw": 0.5}))
    pulsing = replace(s, vehicles=(replace(s.vehicles[0], power_kw=(1.0, 0, 1.0, 0, 1.0, 0, 1.0, 0)),))
    codes = {v.code for v in check(p, pulsing).violations}
    assert "power_changes" in codes
    trickle = replace(s, vehicles=(replace(s.vehicles[0], power_kw=(0.25,) * 8 + ()),))
    assert "min_power" in {v.code for v in check(p, trickle).violations}


def test_scarce_power_is_shared_fairly_not_one_truck_left_empty() -> None:
    """Two trucks each need 40 kWh in one hour, but the site imports 40 kW: 40 kWh for both. The shortage is spread,
    20 kWh short each (half of each need), never one truck full and the other empty."""
    trucks = [
        vehicle(
            vid,
            arrival="2026-11-24T00:00:00+08:00",
            departure="2026-11-24T01:00:00+08:00",
            energy_arrival_kwh=10.0,
            energy_target_kwh=50.0,
        )
        for vid in ("A", "B")
    ]
    data = night(trucks, site={"import_limit_kw": 40.0})
    data.update(HOURLY)
    data.update({"end": "2026-11-24T01:00:00+08:00"})
    data["tariff"] = {"periods": FOUR_PRICES}
    _, s = solved(data)
    assert sorted(u.shortfall_kwh for u in s.unmet) == pytest.approx([20.0, 20.0], abs=1e-4)
    assert all("site limit" in u.reason for u in s.unmet)


def test_max_ready_gets_the_most_trucks_out_in_full_then_shares_the_rest() -> None:
    """Three trucks, one hour, the site imports 100 kW (100 kWh in all). Needs: A 60, B 30, C 30 kWh.

    Sharing (the default) spreads the 20 kWh shortage as one share for all: 1/6 of each need short (A 10, B 5,
    C 5), so no truck is ready. `max_ready`: B and C fit together with A's 40 kWh left (2 ready trucks; A alone
    with either leaves 10 kWh, still only 1 ready; all three need 120 > 100), so B and C get 30 kWh each and A the
    remaining 40 (20 short), its reason naming the policy. The checker passes both schedules."""
    trucks = [
        vehicle(
            vid,
            arrival="2026-11-24T00:00:00+08:00",
            departure="2026-11-24T01:00:00+08:00",
            energy_arrival_kwh=10.0,
            energy_target_kwh=10.0 + need,
            max_kw=100.0,
        )
        for vid, need in (("A", 60.0), ("B", 30.0), ("C", 30.0))
    ]
    data = night(
        trucks, [connector(f"C{k}", max_kw=100.0) for k in range(3)], site={"import_limit_kw": 100.0}
    )
    data.update(HOURLY)
    data.update({"end": "2026-11-24T01:00:00+08:00"})
    data["tariff"] = {"periods": FOUR_PRICES}
    p, shared = solved(data)
    assert {u.id: round(u.shortfall_kwh, 3) for u in shared.unmet} == {"A": 10.0, "B": 5.0, "C": 5.0}
    p_ready, ready = solved({**data, "shortfall_policy": "max_ready"})
    assert p_ready.shortfall_policy == "max_ready"
    assert {u.id: round(u.shortfall_kwh, 3) for u in ready.unmet} == {"A": 20.0}
    assert "max_ready" in ready.unmet[0].reason
    assert any("2 of 3 chosen" in w for w in ready.warnings)
    assert check(p_ready, ready).ok and check(p, shared).ok


def test_discrete_search_without_a_plan_keeps_the_trucks_charging(monkeypatch) -> None:
    """CP-SAT ending with no solution (a short limit on a loaded machine: 18 of 100 synthetic depots at 3 s) used to
    leave its vehicles idle with a declared shortfall; now they take the LP's power rounded down to the steps."""
    from ortools.sat.python import cp_model

    import charging.discrete as discrete

    class NoPlan(cp_model.CpSolver):
        def Solve(self, model, *args, **kwargs):
            return cp_model.UNKNOWN

    p = problem(_stepped())
    monkeypatch.setattr(discrete.cp_model, "CpSolver", NoPlan)
    s = schedule(p, time_limit_s=5, baselines=False)
    assert check(p, s).ok  # steps, minimum and the 70 kW group limit all hold
    assert "no CP-SAT plan in time" in s.solver
    assert all(sum(v.power_kw) > 0 for v in s.vehicles)  # no truck left idle
    need = sum(v.energy_target_kwh - v.energy_arrival_kwh for v in p.vehicles)
    assert sum(u.shortfall_kwh for u in s.unmet) < 0.2 * need
