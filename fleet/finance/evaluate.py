"""One scenario end to end: lessor metrics, lessee comparison and the defaults it still relies on."""

from __future__ import annotations

from dataclasses import dataclass

from .assumptions import UsedAssumption, assumptions_in
from .inputs import Scenario
from .lessee import LesseeComparison, compare
from .lessor import LessorResult, evaluate_lease
from .pricing import RentRange, rent_range


@dataclass(frozen=True)
class ScenarioResult:
    """Everything `evfleet roi` reports for one scenario."""

    scenario: Scenario
    lessor: LessorResult
    lessee: LesseeComparison
    rent: RentRange
    assumptions: tuple[UsedAssumption, ...]
    """Inputs still at their sourced default, with grade (flag 'unverified'/'weak' where applicable)."""


def evaluate(scenario: Scenario) -> ScenarioResult:
    """Lessor and lessee economics of a scenario (pure; no I/O)."""
    lessor = evaluate_lease(scenario.lease, scenario.usage, scenario.carbon)
    lessee = compare(scenario.lease, scenario.usage, scenario.carbon, scenario.lessee)
    rent = rent_range(scenario.lease, scenario.usage, scenario.carbon, scenario.lessee)
    return ScenarioResult(scenario, lessor, lessee, rent, tuple(assumptions_in(scenario)))
