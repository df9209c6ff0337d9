"""Lease economics: the lessor's cash flows and returns, the lessee's cost against diesel, and sensitivity.

Pure functions on frozen, validated dataclasses (``inputs``); numpy-financial for NPV/IRR/MIRR/PMT with its
convention that the first cash flow is at t = 0 and undiscounted. Money is float inside and rounded to fen with
Decimal only at the output boundary (``report``, ``money``). Every default number is a sourced, graded
assumption (``assumptions``). Modules: ``cashflows`` (lessor monthly flows), ``debt`` (loan schedule),
``metrics`` (NPV, IRR, MIRR, payback, DSCR, LLCR), ``lessor`` (lease and portfolio), ``lessee`` (TCO and
break-even km), ``sensitivity`` (tornado), ``scenario`` (JSON files), ``evaluate`` (one scenario end to end).
"""

from .errors import FinanceInputError
from .evaluate import ScenarioResult, evaluate
from .inputs import Carbon, LeaseTerms, LesseeInputs, Loan, Scenario, Usage
from .lessee import LesseeComparison, break_even_km, compare
from .lessor import LessorResult, PortfolioLease, PortfolioResult, evaluate_lease, evaluate_portfolio
from .sensitivity import DEFAULT_DRIVERS, Driver, Tornado, tornado

__all__ = [
    "DEFAULT_DRIVERS",
    "Carbon",
    "Driver",
    "FinanceInputError",
    "LeaseTerms",
    "LesseeComparison",
    "LesseeInputs",
    "LessorResult",
    "Loan",
    "PortfolioLease",
    "PortfolioResult",
    "Scenario",
    "ScenarioResult",
    "Tornado",
    "Usage",
    "break_even_km",
    "compare",
    "evaluate",
    "evaluate_lease",
    "evaluate_portfolio",
    "tornado",
]
