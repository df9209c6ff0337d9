"""charging.replan: the rest of the night from the state at time t, on the day-ahead model and checker."""

from __future__ import annotations

import datetime as dt

import pytest

import charging
from charging import NightState, TruckState, check_schedule, replan, synthetic_depot
from charging.problem import ScenarioError
from charging.replan import remaining_problem


@pytest.fixture(scope="module")
def night():  # type: ignore[no-untyped-def]
    return synthetic_depot(12, seed=4)


def test_replan_is_the_function_even_after_importing_its_module() -> None:
    import importlib
    import sys

    importlib.import_module("charging.replan")
    assert callable(charging.replan) and charging.replan is sys.modules["charging.replan"].replan


def test_state_at_t_cuts_the_horizon_and_updates_trucks(night) -> None:  # type: ignore[no-untyped-def]
    problem = night
    at = problem.start + dt.timedelta(hours=3, minutes=7)
    plugged, late, gone = problem.vehicles[0], problem.vehicles[1], problem.vehicles[2]
    state = NightState(
        at=at,
        trucks={
            plugged.id: TruckState(energy_kwh=plugged.energy_arrival_kwh + 10.0, connector="DC0003"),
            late.id: TruckState(arrival=at + dt.timedelta(hours=2)),
            gone.id: TruckState(missing=True),
        },
        peak_kw_so_far=123.0,
    )
    rest, first, dropped = remaining_problem(problem, state)
    assert first == 13 and rest.start == problem.start + dt.timedelta(minutes=15 * 13)
    assert rest.n_slots == problem.n_slots - 13 and rest.end == problem.end
    assert dropped == (gone.id,)
    by_id = {v.id: v for v in rest.vehicles}
    assert by_id[plugged.id].energy_arrival_kwh == pytest.approx(plugged.energy_arrival_kwh + 10.0)
    assert by_id[plugged.id].connector == "DC0003" and by_id[plugged.id].arrival == rest.start
    assert by_id[late.id].arrival == at + dt.timedelta(hours=2)
    assert rest.tariff.month_peak_kw_so_far == 123.0
    result = replan(problem, state, time_limit_s=2.0)
    assert check_schedule(result.problem, result.schedule).ok
    assert result.schedule.vehicle(plugged.id).connector == "DC0003"
    assert not result.schedule.unmet  # a 2-hour-late truck still gets its energy on this depot
    assert result.schedule.vehicle(late.id).power_kw[: (2 * 60 - 7) // 15] == pytest.approx([0.0] * 7)


def test_bad_state_is_refused_with_the_truck_named(night) -> None:  # type: ignore[no-untyped-def]
    problem = night
    with pytest.raises(ScenarioError, match="not in the scenario: nobody"):
        remaining_problem(problem, NightState(at=problem.start, trucks={"nobody": TruckState()}))
    with pytest.raises(ScenarioError, match="unknown connector 'XX'"):
        remaining_problem(
            problem, NightState(at=problem.start, trucks={problem.vehicles[0].id: TruckState(connector="XX")})
        )
    with pytest.raises(ScenarioError, match="after the end of the night"):
        remaining_problem(problem, NightState(at=problem.end))


def test_two_hundred_trucks_replan_by_the_optimiser() -> None:
    # The 1 s figure is measured by `evfleet bench charging-rolling` (docs/ocpp.md), not here: timings on a
    # loaded CI machine say nothing. Here the optimiser (not the EDF fallback) re-plans 200 trucks correctly.
    problem = synthetic_depot(200, seed=1)
    at = problem.start + dt.timedelta(hours=4)
    result = replan(problem, NightState(at=at), time_limit_s=20.0)
    assert result.fallback is None and result.schedule.status in ("optimal", "feasible")
    assert check_schedule(result.problem, result.schedule).ok
    assert len(result.problem.vehicles) == 200 and result.first_slot == 16


def test_out_of_time_falls_back_to_edf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The optimiser gives up (as it does when its time runs out before any solution): EDF goes out. Forced, so
    the test does not depend on how fast this machine solves the LP."""
    import charging.optimize

    def out_of_time(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("charging LP ended with status not_solved (time limit)")

    monkeypatch.setattr(charging.optimize, "schedule", out_of_time)
    problem = synthetic_depot(20, seed=1)
    result = replan(problem, NightState(at=problem.start + dt.timedelta(hours=4)), time_limit_s=1.0)
    assert result.fallback == "edf" and result.schedule.status == "baseline"
    assert check_schedule(result.problem, result.schedule).ok
