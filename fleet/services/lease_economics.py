"""Lease economics page: a lease's or a scenario's finance report (`fleet.finance`), adjusted and saved scenarios
in the scope, and the headline figures, tornado and lessee TCO as tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlmodel import Session

from fleet.i18n import N_
from fleet.models import FinanceScenario, Lease
from fleet.scope import ScopeError, select_rows
from fleet.services.scope import in_scope


def lease_codes(
    session: Session, lessee_code: str | None, contains: str = "", limit: int | None = None
) -> list[str]:
    """Codes of the leases in scope, sorted (one column, not ORM rows: a lessor at scale has 80,000 leases);
    `contains`: only codes containing it (case-insensitive), `limit`: at most that many (the picker's search)."""
    query = select_rows(in_scope(session, lessee_code), Lease).with_only_columns(Lease.code)
    if contains.strip():
        query = query.where(_contains(contains))
    query = query.order_by(Lease.code, Lease.id)
    return list(session.scalars(query.limit(limit) if limit else query).all())


def lease_count(session: Session, lessee_code: str | None, contains: str = "") -> int:
    """How many leases in scope (whose code contains `contains`): one COUNT."""
    import sqlalchemy as sa

    query = select_rows(in_scope(session, lessee_code), Lease).with_only_columns(Lease.id)
    if contains.strip():
        query = query.where(_contains(contains))
    return int(session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())


def _contains(text: str) -> Any:
    import sqlalchemy as sa

    needle = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(Lease.code).like(f"%{needle}%", escape="\\")


def lease_economics(session: Session, lessee_code: str | None, lease_code: str) -> dict[str, Any]:
    """`fleet.finance.from_db.lease_report` with the tornado: lessor metrics, lessee TCO vs diesel, sources."""
    from fleet.finance.from_db import lease_report

    view = "lessee" if lessee_code else "lessor"
    return lease_report(session, in_scope(session, lessee_code), lease_code, tornado=True, view=view)


def for_role(report: dict[str, Any], lessee_code: str | None) -> dict[str, Any]:
    """The report as the viewer may see it: a lessee never sees the lessor's NPV, IRR, DSCR, LLCR, costs or floor
    rent (`fleet.finance.report.lessee_view`); the lessor sees everything."""
    if not lessee_code or report.get("view") == "lessee":
        return report
    from fleet.finance.report import lessee_view

    return lessee_view(report)


def scenario_economics(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario-file payload evaluated in memory, as `evfleet roi --scenario FILE` does (with its tornado)."""
    from fleet.finance import report as rep
    from fleet.finance.evaluate import evaluate
    from fleet.finance.scenario import scenario_file_from_dict
    from fleet.finance.sensitivity import tornado

    loaded = scenario_file_from_dict(dict(payload))
    return rep.scenario_dict(
        evaluate(loaded.base),
        tornado(loaded.base, loaded.drivers, loaded.swing),
        [evaluate(v) for v in loaded.variants],
    )


def edited_scenario(
    payload: Mapping[str, Any],
    changes: Mapping[str, Any],
    name: str | None = None,
) -> dict[str, Any]:
    """A copy of a scenario payload with `changes` ({"lease.monthly_rent": 3100.0, ...}) applied."""
    import copy

    out = copy.deepcopy(dict(payload))
    for path, value in changes.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    if name:
        out["name"] = name
    return out


def saved_scenarios(session: Session, lessee_code: str | None) -> list[str]:
    from fleet.finance.from_db import list_scenarios

    return list_scenarios(session, in_scope(session, lessee_code))


def saved_scenario_payload(session: Session, lessee_code: str | None, name: str) -> dict[str, Any]:
    """The stored payload of a saved scenario in scope (validated again on evaluation)."""
    row = session.exec(
        select_rows(in_scope(session, lessee_code), FinanceScenario, FinanceScenario.name == name)
    ).first()
    if row is None:
        raise ScopeError(f"no saved scenario {name!r} in this scope")
    return dict(row.payload)


def save_scenario(session: Session, lessee_code: str | None, name: str, payload: Mapping[str, Any]) -> None:
    """`fleet.finance.from_db.save_scenario`: validated, stored under `name` in the scope (replaces its own)."""
    from fleet.finance.from_db import save_scenario as store

    store(session, in_scope(session, lessee_code), name.strip(), dict(payload))
    session.flush()


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


KEY_FIGURES = (  # English msgids: the page shows them translated
    N_("project NPV [CNY]"),
    N_("equity NPV [CNY]"),
    N_("project IRR (effective annual)"),
    N_("equity IRR (effective annual)"),
    N_("payback [months]"),
    N_("discounted payback [months]"),
    N_("DSCR min"),
    N_("DSCR average"),
    N_("LLCR"),
    N_("monthly rent [CNY]"),
    N_("lessor minimum rent (NPV 0) [CNY]"),
    N_("lessee maximum rent (saving 0) [CNY]"),
    N_("electric lease [CNY/km]"),
    N_("diesel [CNY/km]"),
    N_("lessee saving [CNY/month]"),
    N_("lessee saving, PV [CNY]"),
    N_("break-even [km/year]"),
)


def key_figures(report: Mapping[str, Any]) -> dict[str, float | None]:
    """The headline numbers of a finance report (lease or scenario), as floats, in `KEY_FIGURES` order (the
    lessor's figures are None in a lessee view)."""
    lessor = report.get("lessor") or {"project": {}, "equity": {}}
    lessee, rent = report["lessee"], report["rent"]
    values = (
        lessor["project"].get("npv"),
        lessor["equity"].get("npv"),
        lessor["project"].get("irr_effective_annual"),
        lessor["equity"].get("irr_effective_annual"),
        lessor["project"].get("payback_months_interpolated"),
        lessor["project"].get("discounted_payback_months_interpolated"),
        lessor.get("dscr_min"),
        lessor.get("dscr_avg"),
        lessor.get("llcr"),
        rent["monthly_rent"],
        rent.get("lessor_min_rent_npv_zero"),
        rent["lessee_max_rent_saving_zero"],
        lessee["electric"]["cost_per_km"],
        lessee["diesel"]["cost_per_km"],
        lessee["saving_per_month"],
        lessee["saving_pv"],
        lessee.get("break_even_km_per_year"),
    )
    return dict(zip(KEY_FIGURES, (_num(v) for v in values)))


def tornado_frame(report: Mapping[str, Any]) -> pd.DataFrame:
    """One row per driver and side (low/high): the project NPV change [CNY] when the driver moves there."""
    rows = []
    for r in report.get("tornado", {}).get("rows", []):
        if "npv_delta_low" not in r:  # a lessee view carries no NPV
            continue
        for side in ("low", "high"):
            rows.append(
                {
                    "driver": r["driver"],
                    "side": side,
                    "value": r[side],
                    "base": r["base"],
                    "npv change [CNY]": float(r[f"npv_delta_{side}"]),
                    "npv [CNY]": float(r[f"npv_{side}"]),
                    "range": r.get("range_source", ""),
                }
            )
    frame = pd.DataFrame(
        rows, columns=["driver", "side", "value", "base", "npv change [CNY]", "npv [CNY]", "range"]
    )
    if not frame.empty:
        swing = frame.groupby("driver")["npv change [CNY]"].apply(lambda s: s.abs().max())
        frame["swing"] = frame["driver"].map(swing)
        frame = frame.sort_values(["swing", "side"], ascending=[False, True]).drop(columns="swing")
    return frame


def tco_frame(report: Mapping[str, Any]) -> pd.DataFrame:
    """Lessee cost components, present value [CNY], electric lease beside the diesel option."""
    electric, diesel = report["lessee"]["electric"], report["lessee"]["diesel"]
    names = list(dict.fromkeys([*electric["components_pv"], *diesel["components_pv"]]))
    frame = pd.DataFrame(
        {
            electric["name"]: [_num(electric["components_pv"].get(n)) for n in names],
            diesel["name"]: [_num(diesel["components_pv"].get(n)) for n in names],
        },
        index=names,
    )
    frame.loc[N_("total (PV)")] = [_num(electric["pv_cost"]), _num(diesel["pv_cost"])]
    frame.loc[N_("per month")] = [_num(electric["cost_per_month"]), _num(diesel["cost_per_month"])]
    return frame
