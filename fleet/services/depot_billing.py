"""Charging page, billing panel: how a depot's electricity is billed and what its chargers can run, read and edited.

The rules themselves live in `charging.billing` (docs/charging-economics.md); this module turns a form's strings
into them, naming each refused field, and writes the depot row in the caller's unit of work.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from charging.billing import BillingError, BillingRules, DemandBasis, TariffStructure, monthly_basic_charge
from fleet.models import Depot, Tariff
from fleet.planning.inputs import billing_rules
from fleet.scope import update_row
from fleet.services.fleet_leases import FieldError, FormRejected
from fleet.services.scope import depot_in_scope, in_scope

__all__ = [
    "BASIS_LABELS",
    "SHORTFALL_LABELS",
    "STRUCTURE_LABELS",
    "BillingSettings",
    "billing_settings",
    "update_billing",
]

# A Chinese-speaking planner reads the tariff by its Chinese name; both are shown.
STRUCTURE_LABELS = {
    TariffStructure.SINGLE_PART.value: "single-part (单一制): energy only",
    TariffStructure.TWO_PART.value: "two-part (两部制): energy + basic charge",
}
BASIS_LABELS = {
    DemandBasis.MAXIMUM_DEMAND.value: "maximum demand (需量): CNY/kW·month on the month's metered peak",
    DemandBasis.CAPACITY.value: "capacity (容量): CNY/kVA·month on the transformer",
}
SHORTFALL_LABELS = {
    "max_ready": "most trucks ready for their first route first, then cost",
    "min_largest_share": "spread the shortage: smallest largest share short",
}


@dataclass(frozen=True)
class BillingSettings:
    """A depot's billing and operability settings as the form shows them, and what they mean this month."""

    depot_code: str
    tariff_structure: str
    demand_basis: str
    demand_rate_cny_per_kw_month: float  # the tariff's, read-only here
    contracted_demand_kw: float | None
    transformer_kva: float | None
    capacity_rate_cny_per_kva_month: float | None
    centralised_charging_facility: bool
    charging_metered_separately: bool
    charging_max_power_changes: int | None
    charging_min_kw: float | None
    charging_shortfall_policy: str  # when not every truck can be charged (charging.fairness)
    funds_cny_per_kwh: float  # government funds and surcharges on every kWh, unscaled (tariffs.md step 4)
    base_load_kw: tuple[float, ...]  # 24 hourly or 96 quarter-hourly values by local time of day; empty: none
    this_month: str  # one line: what the month's basic charge is based on


def billing_settings(
    session: Session, lessee_code: str | None, depot_code: str, today: dt.date
) -> BillingSettings:
    depot = depot_in_scope(session, in_scope(session, lessee_code), depot_code)
    tariff = session.get(Tariff, depot.tariff_id) if depot.tariff_id else None
    rate = float(tariff.demand_charge_cny_per_kw_month or 0) if tariff else 0.0
    try:
        rules = billing_rules(depot, tariff) if tariff is not None else None
    except ValueError as exc:
        rules, meaning = None, f"the stored rules are invalid: {exc}"
    if rules is not None:
        if rules.why_no_basic_charge(today) is not None or rules.basis is DemandBasis.CAPACITY:
            # Neither depends on the load: the bill's own wording (charging.billing) says it.
            meaning = monthly_basic_charge(rules, today, 0.0).reason
        else:
            contract = (
                "" if rules.contracted_demand_kw is None else f", above {rules.contracted_demand_kw:g} kW ×2"
            )
            meaning = f"maximum demand: {rate:g} CNY/kW·month on the site's monthly peak{contract}"
    elif tariff is None:
        meaning = "no tariff set for this depot"
    return BillingSettings(
        depot_code=depot.code,
        tariff_structure=str(getattr(depot.tariff_structure, "value", depot.tariff_structure)),
        demand_basis=str(getattr(depot.demand_basis, "value", depot.demand_basis)),
        demand_rate_cny_per_kw_month=rate,
        contracted_demand_kw=depot.contracted_demand_kw,
        transformer_kva=depot.transformer_kva,
        capacity_rate_cny_per_kva_month=(
            None
            if depot.capacity_rate_cny_per_kva_month is None
            else float(depot.capacity_rate_cny_per_kva_month)
        ),
        centralised_charging_facility=bool(depot.centralised_charging_facility),
        charging_metered_separately=bool(depot.charging_metered_separately),
        charging_max_power_changes=depot.charging_max_power_changes,
        charging_min_kw=depot.charging_min_kw,
        charging_shortfall_policy=depot.charging_shortfall_policy or "max_ready",
        funds_cny_per_kwh=float(depot.funds_cny_per_kwh or 0),
        base_load_kw=tuple(float(x) for x in (depot.base_load_kw or ())),
        this_month=meaning,
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(
    values: Mapping[str, Any], field: str, errors: list[FieldError], *, positive: bool
) -> float | None:
    raw = values.get(field)
    if _blank(raw):
        return None
    text = str(raw).strip()
    if "," in text:
        errors.append(FieldError(field, text, "write the number with a decimal point, no comma"))
        return None
    try:
        number = float(text)
    except ValueError:
        errors.append(FieldError(field, text, "not a number"))
        return None
    if not math.isfinite(number) or (number <= 0 if positive else number < 0):
        errors.append(
            FieldError(field, text, "must be a number > 0" if positive else "must be a number >= 0")
        )
        return None
    return number


def parse_profile(text: str) -> list[float]:
    """24 or 96 numbers [kW] separated by spaces, tabs, new lines, semicolons or commas (a row pasted from Excel);
    empty text is no profile. Raises ValueError saying what is wrong."""
    parts = [p for p in re.split(r"[\s;,，；]+", text.strip()) if p]
    if not parts:
        return []
    values = []
    for k, part in enumerate(parts, start=1):
        try:
            number = float(part)
        except ValueError:
            raise ValueError(f"value {k} ({part!r}) is not a number; use a decimal point") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"value {k} ({part!r}) must be a number >= 0 [kW]")
        values.append(number)
    if len(values) not in (24, 96):
        raise ValueError(f"give 24 hourly or 96 quarter-hourly values from 00:00, got {len(values)}")
    return values


def update_billing(
    session: Session, lessee_code: str | None, depot_code: str, values: Mapping[str, Any]
) -> None:
    """Validate the form and store it on the depot; `FormRejected` names every refused field, nothing written."""
    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    errors: list[FieldError] = []
    structure = str(values.get("tariff_structure", "")).strip()
    if structure not in STRUCTURE_LABELS:
        errors.append(FieldError("tariff_structure", structure, f"one of {', '.join(STRUCTURE_LABELS)}"))
    basis = str(values.get("demand_basis", "")).strip()
    if basis not in BASIS_LABELS:
        errors.append(FieldError("demand_basis", basis, f"one of {', '.join(BASIS_LABELS)}"))
    contract = _number(values, "contracted_demand_kw", errors, positive=True)
    kva = _number(values, "transformer_kva", errors, positive=True)
    capacity_rate = _number(values, "capacity_rate_cny_per_kva_month", errors, positive=False)
    min_kw = _number(values, "charging_min_kw", errors, positive=True)
    funds = _number(values, "funds_cny_per_kwh", errors, positive=False)
    policy = str(values.get("charging_shortfall_policy") or depot.charging_shortfall_policy or "max_ready")
    if policy not in SHORTFALL_LABELS:
        errors.append(
            FieldError("charging_shortfall_policy", policy, f"one of {', '.join(SHORTFALL_LABELS)}")
        )
    if funds is not None and funds > 1.0:
        errors.append(
            FieldError("funds_cny_per_kwh", f"{funds:g}", "above 1 CNY/kWh: a price, not an adder?")
        )
    changes_raw = values.get("charging_max_power_changes")
    changes: int | None = None
    if not _blank(changes_raw):
        try:
            changes = int(str(changes_raw).strip())
        except ValueError:
            errors.append(FieldError("charging_max_power_changes", str(changes_raw), "a whole number >= 2"))
        else:
            if changes < 2:
                errors.append(
                    FieldError(
                        "charging_max_power_changes", str(changes_raw), ">= 2: switching on and off count"
                    )
                )
    profile: list[float] = []
    try:
        profile = parse_profile(str(values.get("base_load_kw") or ""))
    except ValueError as exc:
        errors.append(FieldError("base_load_kw", "", str(exc)))
    if not errors:
        try:
            BillingRules(
                structure=TariffStructure(structure),
                basis=DemandBasis(basis),
                capacity_rate_cny_per_kva_month=capacity_rate or 0.0,
                transformer_kva=kva or 0.0,
                contracted_demand_kw=contract,
                centralised_charging_facility=bool(values.get("centralised_charging_facility")),
                charging_metered_separately=bool(values.get("charging_metered_separately")),
            )
        except BillingError as exc:
            field = str(exc).split(":", 1)[0].removeprefix("billing.")
            errors.append(FieldError(field, str(values.get(field, "")), str(exc).split(":", 1)[-1].strip()))
    if errors:
        raise FormRejected(errors)
    update_row(
        session,
        scope,
        Depot,
        depot.id,
        tariff_structure=TariffStructure(structure),
        demand_basis=DemandBasis(basis),
        contracted_demand_kw=contract,
        transformer_kva=kva,
        capacity_rate_cny_per_kva_month=None if capacity_rate is None else Decimal(str(capacity_rate)),
        centralised_charging_facility=bool(values.get("centralised_charging_facility")),
        charging_metered_separately=bool(values.get("charging_metered_separately")),
        charging_max_power_changes=changes,
        charging_min_kw=min_kw,
        # blank keeps the stored value (0 if the energy price already holds the funds)
        charging_shortfall_policy=policy,
        funds_cny_per_kwh=depot.funds_cny_per_kwh if funds is None else Decimal(str(funds)),
        base_load_kw=profile or None,
    )
    session.flush()
