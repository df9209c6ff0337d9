"""Column generation for shared connectors (charging/columns.py): exact pricing and a valid, tighter bound."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from charging import optimize
from charging.check import check
from charging.columns import Truck, Windows, price_truck
from charging.optimize import schedule

from .scenarios import connector, night, problem, vehicle


def _scarce():
    """Three trucks, one 40 kW connector, 23:00-01:00: each needs 12.5 kWh (1.25 slots at full power). The LP
    relaxation puts all 37.5 kWh in the four valley slots after midnight; on one connector each truck holds whole
    slots, so some energy must be bought at the flat price before midnight."""
    a, d = "2026-11-24T23:00:00+08:00", "2026-11-25T01:00:00+08:00"
    vs = [vehicle(f"V{i}", arrival=a, departure=d, energy_target_kwh=32.5) for i in range(3)]
    return problem(night(vs, [connector("C0")]))


@pytest.fixture(scope="module")
def exact():
    p = _scarce()
    s = schedule(p, time_limit_s=20, baselines=False)  # small: the exact sharing MIP proves its optimum
    assert s.status == "optimal" and "MIP" in s.solver
    return p, s


def test_column_bound_is_valid_and_tighter_than_the_lp(exact, monkeypatch) -> None:
    p, s = exact
    seen = []
    original = optimize.column_bound

    def spy(*args, **kwargs):
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(optimize, "column_bound", spy)
    monkeypatch.setattr(optimize, "MIP_MAX_BINARIES", 0)  # large-depot path: column generation
    c = schedule(p, time_limit_s=20, baselines=False)
    assert check(p, c).ok and "column bound" in c.solver
    bound = seen[0].bound
    optimum = s.objective_value
    assert c.lp_bound < optimum - 1.0  # the plain relaxation is 5 CNY below the optimum here
    assert c.lp_bound < bound <= optimum + 1e-9 * abs(optimum)  # valid, and it closes the gap
    assert c.best_bound == pytest.approx(bound)
    assert c.objective_value == pytest.approx(optimum, rel=1e-9)
    assert c.status == "optimal"  # proven by the column bound, not by the LP


def test_pricing_is_exact_against_an_lp_per_interval() -> None:
    rng = np.random.default_rng(3)
    n, dt, penalty = 8, 0.25, 1000.0
    pi = rng.uniform(0.0, 0.5, n)
    mu = rng.uniform(0.0, 0.3, (1, n))
    truck = Truck(0, 1, 7, need_kwh=22.0, room_kwh=30.0, kinds=((0, 40.0, 0.95),))
    value, col = price_truck(truck, Windows(pi), mu, dt, penalty)
    best = penalty * truck.need_kwh  # not plugged in
    for s, e in itertools.combinations(range(truck.first, truck.last + 1), 2):
        m = e - s
        # variables: power in each slot [kW], shortfall [kWh]; delivered + shortfall >= need, delivered <= room
        cost = np.concatenate((pi[s:e], [penalty]))
        a_ub = np.array(
            [
                np.concatenate((-0.95 * dt * np.ones(m), [-1.0])),
                np.concatenate((0.95 * dt * np.ones(m), [0.0])),
            ]
        )
        res = linprog(
            cost, A_ub=a_ub, b_ub=[-truck.need_kwh, truck.room_kwh], bounds=[(0, 40.0)] * m + [(0, None)]
        )
        best = min(best, res.fun + mu[0, s:e].sum())
    assert value == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert col is not None
    assert float(
        pi[col.start : col.end] @ col.power + penalty * col.shortfall_kwh + mu[0, col.start : col.end].sum()
    ) == (pytest.approx(value, rel=1e-9))
