"""Random problems that once broke the solver (`evfleet bench routing-fuzz`), kept as regressions.

- seeds 1, 23, 34: mixed EV + diesel fleet, hierarchical objective: the fleet loop dropped every electric
  vehicle, the model then had station copies but no energy dimension (AssertionError in routing.model).
- seed 2: three consecutive copies of one station; the charge-time side constraint was only bounded by
  propagation, so the search accepted a route whose charging could not be fitted before a time window.
"""

import pytest

from routing.check import check_solution
from routing.scenarios import random_problem
from routing.solve import solve


@pytest.mark.parametrize("seed", [1, 2, 23, 34])
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
