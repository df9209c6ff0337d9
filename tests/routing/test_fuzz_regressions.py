"""Random problems that once broke the solver (`evfleet bench routing-fuzz`), kept as regressions.

- seeds 1, 23, 34: mixed EV + diesel fleet, hierarchical objective: the fleet loop dropped every electric
  vehicle, the model then had station copies but no energy dimension (AssertionError in routing.model).
- seed 2: three consecutive copies of one station; the charge-time side constraint was only bounded by
  propagation, so the search accepted a route whose charging could not be fitted before a time window.
- seed 17: partial recharging; the reported charges ("just enough to the next station", or the model's slack
  values, which are only bounds) made a van late at j7 although the model's route was schedulable: the van
  has to charge at S1 during a 3 h wait, not at S2 just before a tight window (``routing.evaluate.lp_charges``).
- seed 72: partial recharging, distance objective; started from a construction that placed every job, the
  model returned j11 j12 S1 S2 S1 S2 ... j3 j4 S2 (zero-charge ping-pong between two stations) that no charge
  plan makes punctual at j4: the route is now re-stationed by the builder when the float check fails.
"""

import pytest

from routing.check import check_solution
from routing.evaluate import Geometry, evaluate_route, lp_charges
from routing.scenarios import random_problem
from routing.solve import solve


@pytest.mark.parametrize("seed", [1, 2, 17, 23, 34, 72])
def test_fuzz_seed_solves_without_violation(seed: int) -> None:
    problem = random_problem(seed)
    solution = solve(problem, time_limit_s=1.0, seed=0)
    report = check_solution(problem, solution)
    assert report.feasible, report.summary(5)
    assert not solution.extra.get("violations"), solution.extra
    served = {j for r in solution.routes for j in r.job_ids}
    unserved = {u.job_id for u in solution.unserved}
    assert served | unserved == {j.id for j in problem.jobs}
    assert not served & unserved


def test_least_charge_plan_fits_where_charging_just_enough_arrives_late() -> None:
    """The seed-17 route as the model returned it: the greedy rule is late at j7; the LP plan is on time,
    within the battery, and takes no more than the greedy rule's energy."""
    problem = random_problem(17)
    geo = Geometry.of(problem)
    vt = next(vt for vt in problem.vehicle_types if vt.id == "ev")
    by_id = {j.id: j for j in problem.jobs} | {s.id: s for s in problem.stations}
    visits = [by_id[x] for x in ("S1", "j8", "j6", "S1", "j5", "S2", "j7", "j9", "S2", "j10")]
    greedy = evaluate_route(geo, "ev#1", vt, visits, 0.0)
    assert any("after its last window" in v for v in greedy.violations), greedy.violations
    charges = lp_charges(geo, vt, visits, 0.0)
    assert charges is not None and len(charges) == 4
    planned = evaluate_route(geo, "ev#1", vt, visits, 0.0, charges)
    assert planned.feasible, planned.violations
    assert planned.route.energy_charged_kwh <= greedy.route.energy_charged_kwh + 1e-6
    assert charges[1] > greedy.route.stops[3].energy_charged_kwh  # more at S1, during the wait


def test_least_charge_plan_is_none_when_no_charging_fits() -> None:
    """Same route with the battery drained to nothing at departure: no charging plan reaches the first
    station, and the LP says so instead of returning charges."""
    import dataclasses

    problem = random_problem(17)
    vt = next(vt for vt in problem.vehicle_types if vt.id == "ev")
    assert vt.battery is not None
    flat = dataclasses.replace(vt, battery=dataclasses.replace(vt.battery, initial_soc=0.0))
    problem = dataclasses.replace(
        problem, vehicle_types=tuple(flat if t.id == "ev" else t for t in problem.vehicle_types)
    )
    geo = Geometry.of(problem)
    by_id = {j.id: j for j in problem.jobs} | {s.id: s for s in problem.stations}
    visits = [by_id[x] for x in ("S1", "j8", "j6", "S1", "j5", "S2", "j7", "j9", "S2", "j10")]
    assert lp_charges(geo, flat, visits, 0.0) is None
