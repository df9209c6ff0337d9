"""Honest statuses (issue 18 item 6): `optimal` only when proven, `infeasible` when the base load alone breaks a
limit; the large-LP solver agrees with an independent one."""

import itertools
from dataclasses import replace

import pytest

from charging.check import check
from charging.optimize import _own_connectors, schedule
from tests.charging.scenarios import connector, night, problem, vehicle


def _heterogeneous(**kw):
    """A 60 kW and a 20 kW connector. Greedy gives the big 60 kW connector to V1 (the larger need, a long stay
    that the valley 00:00-08:00 serves at 20 kW anyway), so V2 (23:00-02:00, 50 kWh) must buy 10 kWh at the flat
    price before midnight; V2 on 60 kW and V1 on 20 kW buys everything in the valley."""
    vs = [
        vehicle("V1", energy_arrival_kwh=10.0, energy_target_kwh=80.0, max_kw=60.0),
        vehicle(
            "V2",
            arrival="2026-11-24T23:00:00+08:00",
            departure="2026-11-25T02:00:00+08:00",
            energy_arrival_kwh=20.0,
            energy_target_kwh=70.0,
            max_kw=60.0,
        ),
    ]
    cs = [connector("BIG", max_kw=60.0), connector("SMALL", max_kw=20.0)]
    return problem(night(vs, cs, **kw))


def _fixed(p, ids):
    return replace(p, vehicles=tuple(replace(v, connector=c) for v, c in zip(p.vehicles, ids)))


def _brute_force(p) -> float:
    """The exact optimum: every assignment of connectors to vehicles, each one a plain LP."""
    best = float("inf")
    for ids in itertools.permutations([c.id for c in p.connectors], len(p.vehicles)):
        s = schedule(_fixed(p, ids), time_limit_s=20, baselines=False)
        assert s.status == "optimal" and check(_fixed(p, ids), s).ok
        best = min(best, s.objective_value)
    return best


def test_heterogeneous_connectors_never_optimal_without_proof() -> None:
    p = _heterogeneous()
    exact = _brute_force(p)
    greedy = _own_connectors(p)
    greedy_ids = [p.connectors[k].id for k in greedy.connector]
    s_greedy = schedule(_fixed(p, greedy_ids), time_limit_s=20, baselines=False)
    assert s_greedy.objective_value > exact + 1.0  # the case is built so that greedy is suboptimal
    s = schedule(p, time_limit_s=20, baselines=False)
    assert check(p, s).ok, check(p, s).violations
    assert s.lp_bound is not None and s.lp_bound <= exact + 1e-6
    if s.status == "optimal":
        assert s.objective_value <= exact + 1e-6 * abs(exact)
    else:
        assert s.status == "feasible" and s.gap is not None and s.gap > 0
    assert s.objective_value <= exact + 1e-6 * abs(exact)  # the search finds the exact optimum here


def test_heterogeneous_connectors_with_sharing_off_are_not_claimed_optimal() -> None:
    p = _heterogeneous()
    p = replace(p, connector_sharing=False)
    s = schedule(p, time_limit_s=20, baselines=False)
    assert check(p, s).ok
    assert s.status == "feasible"
    assert any("unproven" in w for w in s.warnings)


def test_dominant_connector_assignment_is_optimal() -> None:
    # Both vehicles fit on the big connectors; the small one is left over: greedy is provably best.
    p = _heterogeneous()
    p = replace(p, connectors=(*p.connectors, replace(p.connectors[0], id="BIG2")))
    s = schedule(p, time_limit_s=20, baselines=False)
    assert check(p, s).ok
    assert s.status == "optimal"
    assert s.objective_value == pytest.approx(_brute_force(p), rel=1e-9)


@pytest.mark.parametrize(
    "limit",
    [
        {"site": {"import_limit_kw": 30.0, "base_load_kw": [10.0] * 20 + [45.0] * 4 + [10.0] * 40}},
        {
            "site": {"base_load_kw": 25.0},
            "dr_events": [
                {
                    "id": "cap",
                    "start": "2026-11-25T02:00:00+08:00",
                    "end": "2026-11-25T02:30:00+08:00",
                    "type": "cap",
                    "max_import_kw": 20.0,
                }
            ],
        },
    ],
    ids=["site_limit", "dr_cap"],
)
def test_base_load_over_a_limit_is_infeasible_and_names_the_slots(limit) -> None:
    vs = [vehicle("V1")]
    p = problem(night(vs, **limit))
    s = schedule(p, time_limit_s=20, baselines=False)
    caps = p.import_caps()
    base = p.profile(p.site.base_load_kw)
    expected = tuple(int(t) for t in range(p.n_slots) if base[t] > caps[t] + 1e-9)
    assert expected and s.status == "infeasible"
    assert s.infeasible_slots == expected
    assert any("infeasible" in w and f"slot {expected[0]} " in w for w in s.warnings)
    assert type(s).from_json(s.to_json()).infeasible_slots == expected
    codes = {v.code for v in check(p, s).violations}
    assert codes == {"site_import"}  # nothing but the base load's own excess


def test_interior_point_agrees_with_simplex(monkeypatch) -> None:
    """The large-LP path (HiGHS IPM + crossover, picked by "auto") against GLOP's simplex, to 1e-8."""
    from charging import lp
    from charging.synthetic import synthetic_depot

    p = synthetic_depot(120, seed=3)
    monkeypatch.setattr(lp, "AUTO_IPM_COLUMNS", 1_000)  # "auto" takes the large-LP path at this size
    ipm = schedule(p, time_limit_s=60, baselines=False)
    glop = schedule(p, time_limit_s=60, baselines=False, lp_solver="glop")
    assert ipm.solver == "highs-ipm" and glop.solver == "glop"
    assert ipm.status == glop.status == "optimal"
    assert ipm.objective_value == pytest.approx(glop.objective_value, rel=1e-8)
    assert check(p, ipm).ok, check(p, ipm).violations


def test_unknown_lp_solver_rejected() -> None:
    with pytest.raises(ValueError, match="lp_solver"):
        schedule(_heterogeneous(), lp_solver="simplex")
