"""The lessor's view: metrics of one lease and of a portfolio (per lessee and in total)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .cashflows import LessorCashFlows, combine, lessor_cashflows, month_offset
from .inputs import Carbon, LeaseTerms, Loan, Usage
from .metrics import Metrics, dscr, llcr_series, metrics, pv_over_loan_life


@dataclass(frozen=True)
class Covenant:
    """DSCR and LLCR against the loan's covenants, with the months that breach them.

    Month t counts from the lease start: DSCR month t is the month whose debt service falls due at its end;
    LLCR month t is measured after month t's payment (t = 0 at drawdown).
    """

    dscr_min_required: float
    llcr_min_required: float
    dscr_breach_months: tuple[int, ...]
    llcr_breach_months: tuple[int, ...]
    llcr_min: float | None

    @property
    def met(self) -> bool:
        """True when no month breaches either covenant."""
        return not self.dscr_breach_months and not self.llcr_breach_months


@dataclass(frozen=True)
class LessorResult:
    """Lessor metrics of one lease or a group of leases. Money [CNY] as floats (round at the output boundary)."""

    label: str
    flows: LessorCashFlows
    project: Metrics
    """Unlevered: purchase at t = 0 against rent, carbon, costs, tax and residual, at the discount rate."""
    equity: Metrics
    """Levered: the lessor's down payment at t = 0 against the flows after debt service."""
    dscr_min: float | None
    dscr_avg: float | None
    llcr: float | None
    leases: int = 1
    covenant: Covenant | None = None
    """None without debt."""

    @property
    def carbon_revenue(self) -> float:
        """Carbon revenue over the horizon [CNY]."""
        return float(self.flows.carbon.sum())


def covenant_test(flows: LessorCashFlows, dscr_required: float, llcr_required: float) -> Covenant | None:
    """Every month's DSCR and LLCR against the covenants (None without debt)."""
    service = flows.debt_service
    due = np.nonzero(service > 0)[0]
    if len(due) == 0:
        return None
    cover = dscr(flows.cfads_for_cover, service)
    lives = llcr_series(flows.cfads_for_cover, service, flows.debt_balance, flows.debt_rate_monthly)
    tol = 1e-9
    return Covenant(
        dscr_min_required=dscr_required,
        llcr_min_required=llcr_required,
        dscr_breach_months=tuple(int(t) for t, c in zip(due, cover) if c < dscr_required - tol),
        llcr_breach_months=tuple(t for t, ratio in lives if ratio < llcr_required - tol),
        llcr_min=min((ratio for _, ratio in lives), default=None),
    )


def summarise(
    label: str,
    flows: LessorCashFlows,
    llcr_numerator: float,
    debt_at_start: float,
    leases: int = 1,
    covenants: tuple[float, float] | None = None,
) -> LessorResult:
    """Metrics of a set of flows; the LLCR is given as PV of CFADS over the loan life ÷ debt at drawdown.

    DSCR_t = CFADS_t / debt service_t for months with debt service, where CFADS counts each month's rent in the
    month it pays for (`cfads_for_cover`): with rent in advance the last instalment is covered by the last rent,
    received a month earlier, rather than showing a negative cover.
    """
    r = flows.discount_rate_monthly
    cover = dscr(flows.cfads_for_cover, flows.debt_service)
    return LessorResult(
        label=label,
        flows=flows,
        project=metrics(flows.project, r, r, r),
        equity=metrics(flows.equity, r, flows.debt_rate_monthly, r),
        dscr_min=float(cover.min()) if len(cover) else None,
        dscr_avg=float(cover.mean()) if len(cover) else None,
        llcr=llcr_numerator / debt_at_start if debt_at_start > 0 else None,
        leases=leases,
        covenant=covenant_test(flows, *(covenants or _DEFAULT_COVENANTS)),
    )


_DEFAULT_COVENANTS = (Loan().dscr_covenant, Loan().llcr_covenant)


def _covenants(lease: LeaseTerms) -> tuple[float, float]:
    return lease.loan.dscr_covenant, lease.loan.llcr_covenant


def evaluate_lease(lease: LeaseTerms, usage: Usage, carbon: Carbon) -> LessorResult:
    """Cash flows and metrics of one lease. NPV uses numpy-financial's convention: t = 0 undiscounted."""
    flows = lessor_cashflows(lease, usage, carbon)
    return _result(lease.lease_id or "lease", flows, _covenants(lease))


def _result(label: str, flows: LessorCashFlows, covenants: tuple[float, float]) -> LessorResult:
    numerator = pv_over_loan_life(flows.cfads_for_cover, flows.debt_service, flows.debt_rate_monthly)
    return summarise(label, flows, numerator, float(flows.debt_balance[0]), covenants=covenants)


@dataclass(frozen=True)
class PortfolioLease:
    """One lease of a portfolio with its own usage and carbon inputs."""

    lease: LeaseTerms
    usage: Usage
    carbon: Carbon


@dataclass(frozen=True)
class PortfolioResult:
    """Per-lease, per-lessee and total lessor results; month 0 is the earliest lease start."""

    leases: tuple[LessorResult, ...]
    by_lessee: tuple[LessorResult, ...]
    total: LessorResult


def evaluate_portfolio(items: list[PortfolioLease]) -> PortfolioResult:
    """Evaluate every lease, then group by lessee and in total, aligning leases on their start month.

    The group LLCR is Σ (PV of each lease's CFADS over its loan life at its own debt rate, at its own start)
    ÷ Σ debt drawn, i.e. it ignores the time between lease starts.
    """
    if not items:
        raise ValueError("a portfolio needs at least one lease")
    starts = [i.lease.start for i in items if i.lease.start is not None]
    origin = min(starts) if starts else None
    per_lease: list[LessorResult] = []
    parts: list[tuple[str, LessorCashFlows, int, float, float]] = []
    covenants: list[tuple[float, float]] = []
    for item in items:
        flows = lessor_cashflows(item.lease, item.usage, item.carbon)
        numerator = pv_over_loan_life(flows.cfads_for_cover, flows.debt_service, flows.debt_rate_monthly)
        label = item.lease.lease_id or f"lease {len(per_lease) + 1}"
        covenants.append(_covenants(item.lease))
        per_lease.append(
            summarise(label, flows, numerator, float(flows.debt_balance[0]), covenants=covenants[-1])
        )
        offset = month_offset(item.lease.start, origin)
        parts.append(
            (item.lease.lessee or "(no lessee)", flows, offset, numerator, float(flows.debt_balance[0]))
        )

    groups: dict[str, list[tuple[str, LessorCashFlows, int, float, float]]] = defaultdict(list)
    for part in parts:
        groups[part[0]].append(part)

    def group_result(
        label: str, members: list[tuple[str, LessorCashFlows, int, float, float]]
    ) -> LessorResult:
        first = min(m[2] for m in members)
        flows = combine([m[1] for m in members], [m[2] - first for m in members])
        return summarise(
            label,
            flows,
            float(np.sum([m[3] for m in members])),
            float(np.sum([m[4] for m in members])),
            leases=len(members),
            covenants=(max(c[0] for c in covenants), max(c[1] for c in covenants)),
        )

    by_lessee = tuple(group_result(name, groups[name]) for name in sorted(groups))
    return PortfolioResult(tuple(per_lease), by_lessee, group_result("total", parts))
