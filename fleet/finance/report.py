"""Results as JSON-ready data: the output boundary where money is rounded to fen.

Amounts [CNY] are rounded half-up to fen (0.01) with `decimal.Decimal` (see `money.py`); costs per km to 0.0001
CNY; rates and ratios to 8 decimals; periods [months] to 4 decimals. Everything upstream stays in float.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .assumptions import UsedAssumption, default
from .battery import battery_dict
from .cashflows import COST_COMPONENTS
from .evaluate import ScenarioResult
from .lessee import LesseeComparison, OptionCost
from .lessor import Covenant, LessorResult, PortfolioResult
from .metrics import Metrics
from .money import to_fen
from .pricing import RentRange
from .scenario import scenario_to_dict
from .sensitivity import Tornado

#: data/reference/FINANCE.md Metrics, DSCR row: "covenants are typically >= 1.2x" (U); only used to flag, never to decide.
DSCR_COVENANT = default("dscr_covenant")

MONEY_NOTE = (
    "Amounts in CNY, computed in float and rounded half-up to fen (0.01) at output; NPV uses "
    "numpy-financial's convention (first cash flow at t = 0, undiscounted); rates are monthly r = annual/12."
)


def _money(value: float | None) -> Decimal | None:
    return None if value is None else to_fen(value)


def _ratio(value: float | None, places: int = 8) -> float | None:
    return None if value is None else round(float(value), places)


def metrics_dict(m: Metrics) -> dict[str, Any]:
    """One cash flow's metrics."""
    return {
        "npv": _money(m.npv),
        "irr_monthly": _ratio(m.irr_monthly),
        "irr_nominal_annual": _ratio(m.irr_nominal_annual),
        "irr_effective_annual": _ratio(m.irr_effective_annual),
        "mirr_monthly": _ratio(m.mirr_monthly),
        "mirr_effective_annual": _ratio(m.mirr_effective_annual),
        "payback_months": m.payback_months,
        "payback_months_interpolated": _ratio(m.payback_months_interpolated, 4),
        "discounted_payback_months": m.discounted_payback_months,
        "discounted_payback_months_interpolated": _ratio(m.discounted_payback_months_interpolated, 4),
    }


def month_ranges(months: tuple[int, ...] | list[int], start: Any = None) -> list[str]:
    """Consecutive lease months as ranges, with calendar months when the start is known: '1-12 (2026-01..2026-12)'.

    Month t of a lease is the t-th month from its start (DSCR month t pays for the calendar month start + t − 1);
    month 0 is the drawdown.
    """
    out: list[str] = []
    ordered = sorted(months)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = ordered[i], ordered[j]
        text = str(first) if first == last else f"{first}-{last}"
        if start is not None:

            def cal(t: int) -> str:
                k = start.year * 12 + start.month - 1 + max(t - 1, 0)
                return f"{k // 12}-{k % 12 + 1:02d}"

            text += f" ({cal(first)})" if first == last else f" ({cal(first)}..{cal(last)})"
        out.append(text)
        i = j + 1
    return out


def covenant_dict(c: Covenant | None, start: Any = None) -> dict[str, Any]:
    """DSCR and LLCR against the covenants, breach months named (data/reference/FINANCE.md DSCR row, U)."""
    if c is None:
        return {"applies": False, "met": True, "note": "no loan: no covenant"}
    return {
        "applies": True,
        "met": bool(c.met),
        "dscr_min_required": c.dscr_min_required,
        "llcr_min_required": c.llcr_min_required,
        "llcr_min": _ratio(c.llcr_min),
        "dscr_breach_months": len(c.dscr_breach_months),
        "dscr_breaches": month_ranges(c.dscr_breach_months, start),
        "llcr_breach_months": len(c.llcr_breach_months),
        "llcr_breaches": month_ranges(c.llcr_breach_months, start),
    }


def lessor_costs_dict(r: LessorResult) -> dict[str, Any]:
    """The running costs the lessor bears, as a mean per month of the term [CNY/month] (positive = a cost)."""
    months = max(r.flows.months, 1)
    per_month = {name: _money(-float(getattr(r.flows, name).sum()) / months) for name in COST_COMPONENTS}
    return {"per_month": per_month, "total_per_month": _money(-float(r.flows.lessor_costs.sum()) / months)}


def rent_dict(rent: RentRange) -> dict[str, Any]:
    """The rent corridor: the lessor's hurdle and covenant rents, its floor, the lessee's break-even rent."""
    return {
        "monthly_rent": _money(rent.monthly_rent),
        "lease_rate_factor": _ratio(rent.lease_rate_factor),
        "rent_at_discount_rate_pre_tax": _money(rent.rent_at_discount_rate_pre_tax),
        "lessor_min_rent_npv_zero": _money(rent.lessor_min),
        "covenant_min_rent": _money(rent.covenant_min),
        "lessor_floor_rent": _money(rent.floor),
        "lessee_max_rent_saving_zero": _money(rent.lessee_max),
        "corridor_exists": bool(rent.corridor_exists),
        "rent_change_to_floor": _ratio(rent.rent_change_to_floor, 6),
    }


def lessor_dict(r: LessorResult, *, flows: bool = False, start: Any = None) -> dict[str, Any]:
    """Lessor metrics, its costs, the covenant test, component totals and (optionally) the monthly flows."""
    covenant = r.covenant.dscr_min_required if r.covenant is not None else DSCR_COVENANT
    out: dict[str, Any] = {
        "label": r.label,
        "leases": r.leases,
        "months": r.flows.months,
        "project": metrics_dict(r.project),
        "equity": metrics_dict(r.equity),
        "dscr_min": _ratio(r.dscr_min),
        "dscr_avg": _ratio(r.dscr_avg),
        "llcr": _ratio(r.llcr),
        "dscr_covenant": covenant,
        "dscr_below_covenant": bool(r.dscr_min is not None and r.dscr_min < covenant),
        "covenant": covenant_dict(r.covenant, start),
        "lessor_costs": lessor_costs_dict(r),
        "totals": {name: _money(value) for name, value in r.flows.totals().items()},
    }
    if flows:
        out["monthly"] = {
            "project": [_money(v) for v in r.flows.project],
            "equity": [_money(v) for v in r.flows.equity],
            "cfads": [_money(v) for v in r.flows.cfads],
            "cfads_for_cover": [_money(v) for v in r.flows.cfads_for_cover],
            "debt_service": [_money(v) for v in r.flows.debt_service],
        }
    return out


def _option(o: OptionCost) -> dict[str, Any]:
    return {
        "name": o.name,
        "pv_cost": _money(o.pv_cost),
        "cost_per_km": _ratio(o.cost_per_km, 4),
        "cost_per_month": _money(o.cost_per_month),
        "components_pv": {k: _money(v) for k, v in o.components_pv.items()},
    }


def lessee_dict(c: LesseeComparison) -> dict[str, Any]:
    """Electric lease vs diesel, saving and break-even distance."""
    return {
        "electric": _option(c.electric),
        "diesel": _option(c.diesel),
        "saving_per_month": _money(c.saving_per_month),
        "saving_per_km": _ratio(c.saving_per_km, 4),
        "saving_pv": _money(c.saving_pv),
        "break_even_km_per_year": None
        if c.break_even.km_per_year is None
        else round(c.break_even.km_per_year, 1),
        "break_even_note": c.break_even.note,
    }


def tornado_dict(t: Tornado) -> dict[str, Any]:
    """Tornado rows, largest NPV swing first."""
    return {
        "base_npv": _money(t.base_npv),
        "base_equity_npv": _money(t.base_equity_npv),
        "base_saving_per_month": _money(t.base_saving_per_month),
        "rows": [
            {
                "driver": r.driver,
                "path": r.path,
                "base": r.base_value,
                "low": _ratio(r.low_value, 6),
                "high": _ratio(r.high_value, 6),
                "range_source": r.range_source,
                "npv_low": _money(r.npv_low),
                "npv_high": _money(r.npv_high),
                "npv_delta_low": _money(r.npv_low - t.base_npv),
                "npv_delta_high": _money(r.npv_high - t.base_npv),
                "equity_npv_low": _money(r.equity_npv_low),
                "equity_npv_high": _money(r.equity_npv_high),
                "saving_low": _money(r.saving_low),
                "saving_high": _money(r.saving_high),
                "saving_delta_low": _money(r.saving_low - t.base_saving_per_month),
                "saving_delta_high": _money(r.saving_high - t.base_saving_per_month),
            }
            for r in t.rows
        ],
    }


def assumptions_list(used: tuple[UsedAssumption, ...] | list[UsedAssumption]) -> list[dict[str, Any]]:
    """Inputs still at a sourced default, with grade and flag."""
    return [
        {
            "field": u.field,
            "key": u.assumption.key,
            "value": u.assumption.value,
            "unit": u.assumption.unit,
            "grade": u.assumption.grade,
            "flag": u.assumption.flag,
            "source": u.assumption.source,
        }
        for u in used
    ]


def scenario_dict(
    result: ScenarioResult,
    tornado: Tornado | None = None,
    variants: list[ScenarioResult] | None = None,
    *,
    flows: bool = False,
) -> dict[str, Any]:
    """The full `evfleet roi --scenario` report."""
    out: dict[str, Any] = {
        "scenario": result.scenario.name,
        "description": result.scenario.description,
        "note": MONEY_NOTE,
        "view": "lessor",
        "lessor": lessor_dict(result.lessor, flows=flows, start=result.scenario.lease.start),
        "lessee": lessee_dict(result.lessee),
        "rent": rent_dict(result.rent),
        "carbon": {
            "basis": result.scenario.carbon.basis,
            "in_base_case": result.scenario.carbon.in_base_case,
        },
    }
    battery = battery_dict(result.scenario.lease, result.scenario.usage)
    if battery is not None:
        out["battery"] = battery
    if tornado is not None:
        out["tornado"] = tornado_dict(tornado)
    if variants:
        out["variants"] = [
            {
                "name": v.scenario.name,
                "description": v.scenario.description,
                "project_npv": _money(v.lessor.project.npv),
                "equity_npv": _money(v.lessor.equity.npv),
                "project_irr_effective_annual": _ratio(v.lessor.project.irr_effective_annual),
                "lessee_saving_per_month": _money(v.lessee.saving_per_month),
                "break_even_km_per_year": None
                if v.lessee.break_even.km_per_year is None
                else round(v.lessee.break_even.km_per_year, 1),
            }
            for v in variants
        ]
    out["assumptions"] = assumptions_list(result.assumptions)
    out["inputs"] = scenario_to_dict(result.scenario)
    return out


def portfolio_dict(result: PortfolioResult, *, per_lease: bool = False) -> dict[str, Any]:
    """The `evfleet roi --portfolio` report: per lessee and in total."""
    out: dict[str, Any] = {
        "note": MONEY_NOTE,
        "by_lessee": [lessor_dict(r) for r in result.by_lessee],
        "total": lessor_dict(result.total),
    }
    if per_lease:
        out["leases"] = [lessor_dict(r) for r in result.leases]
    return out


#: Report keys a lessee may see of its own lease: never the lessor's NPV, IRR, DSCR, LLCR, costs or floor rent.
_LESSEE_RENT_KEYS = ("monthly_rent", "lessee_max_rent_saving_zero")
_LESSOR_ONLY_INPUTS = (
    "loan",
    "discount_rate",
    "tax_rate",
    "residual_value",
    "battery",
    "overhead_per_month",
    "bad_debt_share",
    "battery_degradation_cny_per_kwh",
    "battery_replacement_month",
    "battery_replacement_cost",
    "subsidies",
    "price",
)


def lessee_view(report: dict[str, Any]) -> dict[str, Any]:
    """A lease or scenario report as its lessee may see it: its own cost against diesel, the rent and its
    break-even rent, the electricity basis; none of the lessor's NPV, IRR, DSCR, LLCR, costs, floor rent or
    financing."""
    out: dict[str, Any] = {
        k: v
        for k, v in report.items()
        if k not in ("lessor", "rent", "tornado", "variants", "inputs", "assumptions", "carbon", "battery")
    }
    out["view"] = "lessee"
    out["note"] = (
        "Amounts in CNY, rounded half-up to fen; costs are present values at your discount rate (first flow at "
        "t = 0 undiscounted), levelised per month and per km over the lease term."
    )
    out["rent"] = {k: report["rent"][k] for k in _LESSEE_RENT_KEYS if k in report.get("rent", {})}
    if "tornado" in report:
        out["tornado"] = {
            "base_saving_per_month": report["tornado"]["base_saving_per_month"],
            "rows": [
                {k: v for k, v in row.items() if k.startswith("saving") or k in _TORNADO_INPUT_KEYS}
                for row in report["tornado"]["rows"]
                if not row["path"].startswith(("lease.loan", "lease.battery"))
                and row["path"] != "lease.residual_value"
            ],
        }
    if "variants" in report:
        out["variants"] = [
            {k: v for k, v in row.items() if k.startswith("lessee") or k in ("name", "description")}
            | {"break_even_km_per_year": row.get("break_even_km_per_year")}
            for row in report["variants"]
        ]
    if "inputs" in report:
        inputs = dict(report["inputs"])
        inputs["lease"] = {k: v for k, v in inputs["lease"].items() if k not in _LESSOR_ONLY_INPUTS}
        out["inputs"] = inputs
    if "assumptions" in report:
        out["assumptions"] = [
            a for a in report["assumptions"] if not set(a["field"].split(".")) & set(_LESSOR_ONLY_INPUTS)
        ]
    if "carbon" in report:
        out["carbon"] = {k: v for k, v in report["carbon"].items() if k != "scenario"}
        scenario = report["carbon"].get("scenario")
        if scenario:
            out["carbon"]["scenario"] = {
                k: v
                for k, v in scenario.items()
                if k.startswith("lessee") or k in ("price_cny_per_t", "note")
            }
    return out


_TORNADO_INPUT_KEYS = ("driver", "path", "base", "low", "high", "range_source")


def to_json(data: Any) -> str:
    """JSON text; Decimals become numbers with exactly their two decimals' value."""

    def encode(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    return json.dumps(data, indent=2, ensure_ascii=False, default=encode)
