"""The submission document: one JSON-ready dict that the XLSX and the PDF render, so all three agree.

No timestamps and no machine-dependent values go in here; floats are rounded to ROUND_DIGITS, lists are
sorted, so re-running the same report gives byte-identical JSON.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from fleet.emissions.calc import (
    ENERGY_VEHICLE,
    DayResult,
    by_depot,
    by_lessee,
    by_period,
    by_vehicle_period,
    intensities,
    total,
)
from fleet.emissions.claims import DEFAULT_SCHEME
from fleet.emissions.conformance import Facts, requirements
from fleet.emissions.quality import QualityThresholds
from fleet.emissions.records import LeaseBook
from fleet.emissions.report import GAP_BEFORE_MONITORING, GAP_FUTURE, GAP_KINDS, GAP_MISSING, EmissionsReport
from fleet.emissions.uncertainty import uncertainty
from fleet.factors import FactorRegistry
from fleet.submission.fields import SCHEMA_ID, SCHEMA_VERSION
from fleet.submission.inputs import ReplacedTruck, SubmissionInputs

ROUND_DIGITS = 6
CATEGORY_EN = "Low-carbon transport / new-energy logistics vehicles (leased battery-electric trucks)"
CATEGORY_ZH = "低碳交通 / 新能源物流车（纯电动货车租赁）"


@dataclass(frozen=True)
class ProjectInfo:
    """Descriptive fields that are not in the metered data."""

    name: str
    location: str = "Shenzhen, Guangdong, China"
    description: str = ""


def rnd(value: float | None) -> float | None:
    """Round for the document; -0.0 becomes 0.0 so the text never shows '-0'."""
    if value is None:
        return None
    out = round(float(value), ROUND_DIGITS)
    return 0.0 if out == 0 else out


def _totals_dict(results: list[DayResult], withheld: bool = False) -> dict[str, object]:
    """Totals; when the reduction is withheld (no WTW electricity factor) project emissions and the reduction
    are null and the partial electricity figure is named as such."""
    out = _totals_raw(results)
    if withheld:
        out["project_partial_generation_co2_tco2"] = out["project_tco2e"]
        out["project_tco2e"] = None
        out["reduction_tco2e"] = None
        out["intensity_project_g_per_tkm"] = None
    return out


def _totals_raw(results: list[DayResult]) -> dict[str, object]:
    t = total(results)
    return {
        "vehicle_days": t.vehicle_days,
        "km": rnd(t.km),
        "grid_kwh": rnd(t.grid_kwh),
        "tonne_km": rnd(t.tonne_km),
        "baseline_litres": rnd(t.baseline_litres),
        "baseline_tco2e": rnd(t.baseline_t),
        "project_tco2e": rnd(t.project_t),
        "leakage_tco2e": rnd(t.leakage_t),
        "reduction_tco2e": rnd(t.reduction_t),
        "intensity_baseline_g_per_tkm": rnd(t.baseline_t * 1e6 / t.tonne_km) if t.tonne_km > 0 else None,
        "intensity_project_g_per_tkm": rnd(t.project_t * 1e6 / t.tonne_km) if t.tonne_km > 0 else None,
    }


def _ttw(results: list[DayResult]) -> dict[str, object] | None:
    if not results or results[0].baseline_ttw_t is None:
        return None
    return {
        "baseline_ttw_tco2": rnd(sum(r.baseline_ttw_t or 0.0 for r in results)),
        "project_ttw_tco2": rnd(sum(r.project_ttw_t or 0.0 for r in results)),
    }


MONITORING_PLAN = (
    {
        "parameter": "vehicle identity",
        "how": "plate and VIN per lease; every record carries the vehicle id",
        "frequency": "per record",
        "source": "AMS-III.C monitoring (data/reference/METHODOLOGY.md §2.1, U)",
    },
    {
        "parameter": "distance [km]",
        "how": "odometer / GPS / telematics per vehicle-day (trip import)",
        "frequency": "daily",
        "source": "AMS-III.C monitoring (U)",
    },
    {
        "parameter": "electricity [kWh]",
        "how": "daily trip import: the kWh_charger column of the vehicle-day record; where it is empty, the "
        "sessions of the charging import ending that local day; otherwise vehicle-side kWh divided by the depot's "
        "charging efficiency (vehicle-days per source in the section 'monitoring')",
        "frequency": "daily",
        "source": "AMS-III.C monitoring (U); data/reference/METHODOLOGY.md §2.6",
    },
    {
        "parameter": "grid emission factor",
        "how": "MEE published factor, vintage rule Y-2, key stored per result",
        "frequency": "annual",
        "source": "data/reference/emission-factors.csv",
    },
    {
        "parameter": "baseline diesel consumption [L/100 km]",
        "how": "replaced diesel model per lease; diesel records where held (fuel-based baseline)",
        "frequency": "per lease",
        "source": "lease records",
    },
    {
        "parameter": "data quality",
        "how": "every row screened (negative km or energy, energy above battery, "
        "vehicle not on lease, duplicate days, missing energy); flagged rows excluded and listed",
        "frequency": "every report",
        "source": "evfleet fleet/emissions/quality.py",
    },
    {
        "parameter": "double counting",
        "how": "claims table emissionclaim, unique per (vehicle, day, scheme), written in the package's "
        "transaction; one claimant per lease",
        "frequency": "every submission",
        "source": "data/reference/METHODOLOGY.md §3",
    },
)


def build_document(
    report: EmissionsReport,
    book: LeaseBook,
    project: ProjectInfo,
    registry: FactorRegistry,
    thresholds: QualityThresholds = QualityThresholds(),
    factor_source: str = "",
    lease_problems: list[dict[str, str]] | None = None,
    as_of: date | None = None,
    inputs: SubmissionInputs | None = None,
    scheme: str = DEFAULT_SCHEME,
) -> dict[str, object]:
    """Assemble the submission for `report.party_id` and `report.period` (a year)."""
    inputs = inputs or SubmissionInputs()
    withheld = report.resolved.reduction_withheld
    post, ante = list(report.ex_post), list(report.ex_ante)
    leases = claimed_leases(report, book)
    lessor_ids = sorted({lease.lessor_id for lease in leases}) or sorted(
        {lease.lessor_id for lease in book.leases_of(report.party_id)}
    )
    lessee_ids = sorted({lease.lessee_id for lease in leases}) or [report.party_id]
    investments = [lease.investment_cny for lease in leases]
    resolved = report.resolved
    profile = report.profile

    post_by_vehicle = by_vehicle_period(post, "year")
    ante_by_vehicle = by_vehicle_period(ante, "year")
    year = str(report.period.year)
    vehicles = []
    for lease in leases:
        p = post_by_vehicle.get((lease.vehicle_id, year))
        a = ante_by_vehicle.get((lease.vehicle_id, year))
        vehicles.append(
            {
                "vehicle_id": lease.vehicle_id,
                "plate": lease.plate,
                "vin": lease.vin,
                "model": lease.ev_model,
                "lease_id": lease.lease_id,
                "lease_start": lease.start.isoformat(),
                "lease_end": lease.end.isoformat() if lease.end else None,
                "depot_id": lease.depot_id,
                "baseline_diesel_model": lease.baseline_model,
                "baseline_l_per_100km": lease.baseline_l_per_100km,
                "claimant": lease.claimant,
                "claimant_id": lease.claimant_id,
                "investment_cny": lease.investment_cny,
                "charging_efficiency": lease.charging_efficiency,
                "battery_kwh": lease.battery_kwh,
                "ex_post_vehicle_days": p.vehicle_days if p else 0,
                "ex_post_km": rnd(p.km if p else 0.0),
                "ex_post_grid_kwh": rnd(p.grid_kwh if p else 0.0),
                "ex_post_baseline_tco2e": rnd(p.baseline_t if p else 0.0),
                "ex_post_project_tco2e": rnd(p.project_t if p else 0.0),
                "ex_post_leakage_tco2e": rnd(p.leakage_t if p else 0.0),
                "ex_post_reduction_tco2e": None if withheld else rnd(p.reduction_t if p else 0.0),
                "ex_ante_reduction_tco2e": rnd(a.reduction_t) if a and not withheld else None,
                **_replaced_truck(inputs.replaced_trucks.get(lease.lease_id), lease.lease_id),
            }
        )

    post_months, ante_months = by_period(post, "month"), by_period(ante, "month")
    monthly = []
    for month in range(1, 13):
        label = f"{report.period.year:04d}-{month:02d}"
        p, a = post_months.get(label), ante_months.get(label)
        monthly.append(
            {
                "month": label,
                "ex_post_vehicle_days": p.vehicle_days if p else 0,
                "ex_post_km": rnd(p.km if p else 0.0),
                "ex_post_grid_kwh": rnd(p.grid_kwh if p else 0.0),
                "ex_post_baseline_tco2e": rnd(p.baseline_t if p else 0.0),
                "ex_post_project_tco2e": rnd(p.project_t if p else 0.0),
                "ex_post_reduction_tco2e": None if withheld else rnd(p.reduction_t if p else 0.0),
                "ex_ante_reduction_tco2e": rnd(a.reduction_t) if a and not withheld else None,
            }
        )

    parameters = [p.as_dict() for p in resolved.parameters()]
    parameters.append(
        {
            "name": "TDL form",
            "value": None,
            "unit": profile.tdl_form,
            "key": None,
            "data_year": None,
            "source": "profile option (data/reference/METHODOLOGY.md §2.1-2.2)",
            "confidence": "unverified",
        }
    )
    parameters.append(
        {
            "name": "TDL multiplier",
            "value": rnd(resolved.tdl_multiplier),
            "unit": "-",
            "key": None,
            "data_year": None,
            "source": "computed from the TDL parameter and form",
            "confidence": resolved.tdl.confidence if resolved.tdl else "n/a",
        }
    )
    for lease in leases:
        parameters.append(
            {
                "name": f"baseline diesel consumption, {lease.vehicle_id}",
                "value": lease.baseline_l_per_100km,
                "unit": "L/100 km",
                "key": None,
                "data_year": None,
                "source": f"lease {lease.lease_id}: replaced model {lease.baseline_model}",
                "confidence": "lease record",
            }
        )
        if lease.charging_efficiency is not None:
            parameters.append(
                {
                    "name": f"charging efficiency, {lease.vehicle_id}",
                    "value": lease.charging_efficiency,
                    "unit": "-",
                    "key": None,
                    "data_year": None,
                    "source": f"lease {lease.lease_id}",
                    "confidence": "lease record",
                }
            )
    parameters.append(
        {
            "name": "quality limit: daily energy / battery",
            "value": thresholds.max_battery_multiple,
            "unit": "-",
            "key": None,
            "data_year": None,
            "source": "evfleet screening assumption",
            "confidence": "unverified",
        }
    )
    parameters.append(
        {
            "name": "quality limit: daily distance",
            "value": thresholds.max_km_per_day,
            "unit": "km",
            "key": None,
            "data_year": None,
            "source": "evfleet screening assumption",
            "confidence": "unverified",
        }
    )
    cited = sorted({p["key"] for p in parameters if p["key"]})

    elsewhere: dict[tuple[str, str], list[DayResult]] = defaultdict(list)
    for r in report.attributed_elsewhere:
        elsewhere[(r.vehicle_id, r.claimant_id)].append(r)
    registrations = sorted({reg for lease in leases for reg in lease.other_registrations})

    post_totals = _totals_dict(post, withheld)
    ante_totals = _totals_dict(ante, withheld) if ante else None
    flags = [f.as_dict() for f in report.flags]
    gaps = [g.as_dict() for g in report.gaps]
    ante_basis = _ante_basis(ante)
    missing_days = report.gap_days(GAP_MISSING)
    identity = {k: inputs.identity.get(k, "") for k in ("lessor_uscc", "lessee_uscc")}
    trucks = [inputs.replaced_trucks.get(lease.lease_id) for lease in leases]
    facts = Facts(
        vehicles=len(leases),
        vehicles_with_plate_and_vin=sum(1 for lease in leases if lease.plate and lease.vin),
        replaced_trucks_identified=sum(1 for t in trucks if t and (t.plate or t.vin)),
        replaced_trucks_with_disposal_record=sum(1 for t in trucks if t and t.disposal and t.evidence),
        replaced_trucks_sold_or_transferred=sum(
            1 for t in trucks if t and t.disposal in ("sold", "transferred")
        ),
        sfc_from_fuel_records_days=sum(1 for r in post if r.baseline_method == "fuel"),
        comparability_evidence=False,
        gap_days_missing_monitored=missing_days,
        double_counting_control=f"claims table emissionclaim: unique per (vehicle, day, scheme '{scheme}')",
    )
    efficiencies = sorted({lease.charging_efficiency for lease in leases if lease.charging_efficiency})
    run_rate = None if withheld else annualise(post, leases, report)
    annualised = rnd(run_rate["annualised_tco2e"]) if run_rate and run_rate["monitored_lease_days"] else None
    start = min((lease.start for lease in leases), default=report.period.start)
    ends = [lease.end for lease in leases]
    end = None if (not ends or None in ends) else max(e for e in ends if e)

    document = {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "report_id": f"submission:{report.party_id}:{report.period.label}:{profile.profile_id}",
        "project": {
            "name": project.name,
            "category_en": CATEGORY_EN,
            "category_zh": CATEGORY_ZH,
            "location": project.location,
            "description": project.description,
            "vehicle_count": len(leases),
            "investment_cny": rnd(sum(investments)) if investments and None not in investments else None,
            "investment_basis": "sum of the vehicles' investment amounts on their leases"
            + ("" if None not in investments else "; missing on some leases, so not totalled"),
            "implementation_period": {"start": start.isoformat(), "end": end.isoformat() if end else None},
        },
        "parties": {
            "lessee": _party(book, lessee_ids[0])
            if len(lessee_ids) == 1
            else {
                "id": "several",
                "name": ", ".join(book.party(i).name for i in lessee_ids),
                "location": "",
                "registration_code": "",
            },
            "lessor": _party(book, lessor_ids[0])
            if len(lessor_ids) == 1
            else {
                "id": "several",
                "name": ", ".join(book.party(i).name for i in lessor_ids),
                "location": "",
                "registration_code": "",
            },
            "claimant": _party(book, report.party_id),
        },
        "reporting_period": {
            "year": report.period.year,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
        },
        "vehicles": vehicles,
        "methodology": {
            "profile_id": profile.profile_id,
            "name": profile.name,
            "version": profile.version,
            "source": profile.source,
            "boundary": profile.boundary,
            "gases": profile.gases,
            "baseline_method": profile.baseline_method,
            "grid_basis": profile.grid_basis,
            "grid_factor": {
                "key": resolved.grid_ef.key,
                "value": resolved.grid_ef.value,
                "used_data_year": resolved.grid_ef.data_year,
                "vintage": resolved.vintage.as_dict() if resolved.vintage else None,
            },
            "reduction_sign": "signed: BE - PE - LE per vehicle-day, negative values reported, never clipped",
            "formulas": [
                "BE (distance) = km x L/100km / 100 x density x EF_diesel x IR_t",
                "BE (fuel records) = litres x density x EF_diesel",
                "PE = kWh_grid x EF_grid x TDL multiplier; kWh_grid = charger kWh, else vehicle kWh / efficiency",
                "LE = BE x leakage fraction (0 unless the displaced diesel truck stays in service)",
                "ER = BE - PE - LE",
            ],
            "to_confirm": list(profile.to_confirm),
            "factor_registry": factor_source or "data/reference/emission-factors.csv",
            "baseline_option": profile.baseline_option or "distance-based, fuel records where held",
            "reduction_withheld": resolved.withheld,
            "requirements": requirements(
                resolved, post, facts, None if withheld else total(post).reduction_t
            ),
        },
        "parameters": parameters,
        "factors": [registry.get(k).as_dict() for k in cited],
        "results": {
            "ex_ante_basis": ante_basis,
            "ex_ante_label": _ante_label(ante_basis),
            "intensity": intensities(post, withheld),
            "ex_post": post_totals,
            "ex_ante": ante_totals
            or {"reduction_tco2e": None, "note": "no planned routes or charging in the period"},
            "ttw": _ttw(post),
            "monthly": monthly,
            "per_depot": [{"depot_id": k, **_flat(v)} for k, v in by_depot(post).items()],
            "per_lessee": [{"lessee_id": k, **_flat(v)} for k, v in by_lessee(post).items()],
        },
        "impact_indicators": {
            "icma_annual_ghg_avoided_tco2e": annualised,
            "icma_basis": (
                ANNUALISATION_METHOD + f" ({run_rate['lease_days_in_year']} lease-days in the year / "
                f"{run_rate['monitored_lease_days']} monitored lease-days over {len(run_rate['per_lease'])} leases)"
                if annualised is not None
                else "not stated: " + ("the reduction is withheld" if withheld else "no monitored days")
            ),
            "monitored_days": report.monitored_days,
            "monitored_lease_days": run_rate["monitored_lease_days"] if run_rate else None,
            "lease_days_in_year": run_rate["lease_days_in_year"] if run_rate else None,
            "annualisation": run_rate["per_lease"] if run_rate else [],
            "monitored_vehicle_days": len(post),
            "monitoring_start": report.monitoring_start.isoformat() if report.monitoring_start else None,
            "monitored_until": report.checked_until.isoformat() if report.checked_until else None,
            "ex_post_reduction_tco2e": post_totals["reduction_tco2e"],
            "full_year_expectation_tco2e": ante_totals["reduction_tco2e"] if ante_totals else None,
            "full_year_expectation_basis": _ante_label(ante_basis),
            "clean_vehicles_deployed": len(leases),
            "tonne_km": post_totals["tonne_km"],
        },
        "monitoring_plan": list(MONITORING_PLAN),
        "monitoring_data": [_day(r) for r in post],
        "data_quality": {
            "rows_checked": report.rows_checked,
            "rows_excluded": report.rows_excluded,
            "gap_days": sum(g["days"] for g in gaps),
            "gap_days_before_monitoring": report.gap_days(GAP_BEFORE_MONITORING),
            "gap_days_missing_monitored": missing_days,
            "future_days": report.gap_days(GAP_FUTURE),
            "gap_kinds": dict(GAP_KINDS),
            "gaps_checked_until": (min(as_of, report.period.end) if as_of else report.period.end).isoformat(),
            "lease_problems": list(lease_problems or []),
            "flags": flags,
            "plan_flags": [f.as_dict() for f in report.plan_flags],
            "gaps": gaps,
            "negative_reductions": []
            if withheld
            else [
                {"vehicle_id": r.vehicle_id, "day": r.day.isoformat(), "reduction_tco2e": rnd(r.reduction_t)}
                for r in report.negative_days
            ],
        },
        "attribution": {
            "claimant": report.party_id,
            "rule": "each vehicle-day is claimed by exactly one party: the lessee unless the lease names the lessor",
            "attributed_elsewhere": [
                {
                    "vehicle_id": v,
                    "claimant_id": c,
                    "vehicle_days": len(rs),
                    "reduction_tco2e": None if withheld else rnd(total(rs).reduction_t),
                }
                for (v, c), rs in sorted(elsewhere.items())
            ],
            "other_registrations": registrations,
            "double_counting_statement": (
                "The vehicle-days in this submission are recorded in the evfleet claims table (unique per vehicle, "
                f"day and scheme '{scheme}') under this report id, in the same transaction as the package; any "
                "other report claiming them under the scheme is refused, naming the package that holds them. "
                + (
                    "Other registrations of these vehicles: " + "; ".join(registrations) + "."
                    if registrations
                    else "No other registration (CCER, VCS, STTCER, manufacturer) is recorded on the leases."
                )
            ),
        },
        "identity": {
            "signatory": {
                "name": inputs.identity.get("signatory_name", ""),
                "title": inputs.identity.get("signatory_title", ""),
            },
            "verifier": {
                "name": inputs.identity.get("verifier_name", ""),
                "accreditation": inputs.identity.get("verifier_accreditation", ""),
            },
            "missing": sorted(
                k
                for k in ("lessor_uscc", "signatory_name", "signatory_title", "verifier_name")
                if not inputs.identity.get(k)
            ),
        },
        "baseline": _baseline_section(profile, leases, inputs),
        "uncertainty": {"withheld": resolved.withheld}
        if withheld
        else uncertainty(
            post,
            resolved,
            registry,
            missing_days,
            efficiencies[0] if efficiencies else None,
            "unverified",
        ),
        "monitoring": _monitoring_section(post, report, efficiencies),
    }
    parties = document["parties"]
    for role, key in (("lessor", "lessor_uscc"), ("lessee", "lessee_uscc")):
        if identity[key]:
            parties[role]["registration_code"] = identity[key]
    return document


ANNUALISATION_METHOD = (
    "annualised run rate, per lease: each lease's ex-post reduction x its lease-days in the year / its "
    "monitored lease-days (lease-days from monitoring start to the check date); leases without monitored "
    "lease-days add nothing"
)


def annualise(post: list[DayResult], leases: list, report: EmissionsReport) -> dict[str, object]:
    """ICMA run rate (issue 19 item 3): a lease monitored d of its D lease-days in the year contributes its
    ex-post reduction x D / d. Scaling the whole fleet by days-in-year / monitored days would assume that vehicles
    whose leases began during the year ran all year."""
    period, start, stop = report.period, report.monitoring_start, report.checked_until
    by_lease: dict[str, list[DayResult]] = defaultdict(list)
    for r in post:
        by_lease[r.lease_id].append(r)
    rows, total_t, big_d, small_d = [], 0.0, 0, 0
    for lease in leases:
        days = [d for d in period.days() if lease.covers(d)]
        monitored = [d for d in days if start and stop and start <= d <= stop]
        reduction = total(by_lease.pop(lease.lease_id, [])).reduction_t
        scaled = reduction * len(days) / len(monitored) if monitored else 0.0
        total_t += scaled
        big_d += len(days) if monitored else 0
        small_d += len(monitored)
        rows.append(
            {
                "lease_id": lease.lease_id,
                "vehicle_id": lease.vehicle_id,
                "lease_days_in_year": len(days),
                "monitored_lease_days": len(monitored),
                "ex_post_reduction_tco2e": rnd(reduction),
                "annualised_tco2e": rnd(scaled) if monitored else None,
            }
        )
    for rs in by_lease.values():  # not expected: every claimed day lies on one of the claimant's leases
        total_t += total(rs).reduction_t
    return {
        "annualised_tco2e": total_t,
        "lease_days_in_year": big_d,
        "monitored_lease_days": small_d,
        "per_lease": rows,
    }


REGULATORY_CONTEXT = (
    "Shenzhen's green-logistics zones have barred light diesel trucks since 2018 (as stated in issue 19; the "
    "regulation is not in data/reference, grade unverified). A verifier will ask whether a diesel truck was a "
    "realistic alternative for the routes served: the baseline holds only where the replaced diesel truck is "
    "identified and its operation outside the zones (or before the restriction bound it) is shown."
)


def _baseline_section(profile, leases, inputs: SubmissionInputs) -> dict[str, object]:
    per_lease = []
    for lease in leases:
        truck = inputs.replaced_trucks.get(lease.lease_id)
        entry = _replaced_truck(truck, lease.lease_id)
        per_lease.append(
            {
                "lease_id": lease.lease_id,
                "vehicle_id": lease.vehicle_id,
                "baseline_diesel_model": lease.baseline_model,
                "baseline_l_per_100km": lease.baseline_l_per_100km,
                **entry,
            }
        )
    flagged = [e for e in per_lease if e["replaced_truck_flags"]]
    return {
        "scenario": (
            "Without the project each lessee would run the diesel truck its lease replaced, the same metered "
            "distance, at the replaced model's L/100 km ("
            + (profile.baseline_option or "distance-based")
            + ")."
        ),
        "regulatory_context": REGULATORY_CONTEXT,
        "replaced_trucks": per_lease,
        "leases_flagged": len(flagged),
        "flag_summary": (
            f"{len(flagged)} of {len(per_lease)} leases lack the replaced diesel truck's identity or its "
            "scrapping or sale record (--baseline-trucks CSV)"
            if flagged
            else "every lease carries the replaced diesel truck and its scrapping or sale record"
        ),
    }


def _replaced_truck(truck: ReplacedTruck | None, lease_id: str) -> dict[str, object]:
    flags = []
    if truck is None or not (truck.plate or truck.vin):
        flags.append("replaced diesel truck not identified (plate/VIN missing)")
    if truck is None or not truck.disposal or not truck.evidence:
        flags.append("no scrapping or sale record")
    elif truck.disposal in ("sold", "transferred"):
        flags.append(f"replaced truck {truck.disposal}: may still be in service (leakage, AMS-III.C)")
    return {
        "replaced_truck_plate": truck.plate if truck else "",
        "replaced_truck_vin": truck.vin if truck else "",
        "replaced_truck_disposal": truck.disposal if truck else "",
        "replaced_truck_disposal_date": truck.disposal_date if truck else "",
        "replaced_truck_evidence": truck.evidence if truck else "",
        "replaced_truck_flags": "; ".join(flags),
    }


def _monitoring_section(post: list[DayResult], report: EmissionsReport, efficiencies: list[float]) -> dict:
    """Where each figure actually comes from, who holds it and what checks it (issue 19 item 7)."""
    imported = sum(1 for r in post if "(import batch" in r.row_ref)
    sessions = sum(1 for r in post if "chargingsession#" in r.row_ref)
    vehicle = sum(1 for r in post if r.energy_source == ENERGY_VEHICLE)
    charger_column = len(post) - sessions - vehicle
    sources = [
        {
            "source": "daily trip import (vehicle-day records: km, kWh, t·km)",
            "custody": "exported by the lessee's telematics/odometer records, imported by the lessor with "
            "`evfleet import trips`; each file is kept as an import batch with its SHA-256",
            "quality_controls": "form checks per row at import (one transaction, row-level errors); plausibility "
            "screening per vehicle-day (negative or implausible km, energy above the battery, duplicates, "
            "vehicle not on lease), flagged rows excluded and listed",
            "vehicle_days": len(post),
            "vehicle_days_from_import_batches": imported,
            "vehicle_days_loaded_without_batch": len(post) - imported,
        },
        {
            "source": "energy: kWh_charger column of the daily trip import",
            "custody": "as the trip import: the figure is reported in the trip file, not read from the charger's "
            "own meter export; it is not reconciled with electricity bills",
            "quality_controls": "energy above twice the battery flagged; negative energy flagged",
            "vehicle_days": charger_column,
        },
        {
            "source": "energy: charging-session import (charger meter per session)",
            "custody": "charger or depot operator session export, imported with `evfleet import charging`; used "
            "only where the trip record has no charger kWh, counted on the local day the session ends",
            "quality_controls": "form checks at import; sessions on a day without a trip record are flagged and "
            "not counted; never added to a trip's own charger kWh",
            "vehicle_days": sessions,
        },
        {
            "source": "energy: vehicle-side kWh divided by the charging efficiency",
            "custody": "vehicle telemetry in the trip import; efficiency = the depot's lowest connector "
            "efficiency (" + (", ".join(f"{e:g}" for e in efficiencies) or "n/a") + "), no sourced value",
            "quality_controls": "missing efficiency flagged; the efficiency is a parameter in the uncertainty "
            "section",
            "vehicle_days": vehicle,
        },
    ]
    return {
        "statement": (
            f"Distance comes from the daily trip imports ({len(post)} vehicle-days). Electricity comes from the "
            f"kWh_charger column of the same trip imports on {charger_column} vehicle-days, from charging-session "
            f"imports on {sessions} and from vehicle-side kWh divided by the charging efficiency on {vehicle}; "
            "it is not read from the chargers' own meters unless a charging-session import supplies it."
        ),
        "sources": sources,
        "monitoring_start": report.monitoring_start.isoformat() if report.monitoring_start else None,
    }


def claimed_leases(report: EmissionsReport, book: LeaseBook) -> list:
    """The leases whose reductions this report claims in its period, on vehicles with metered or planned days."""
    vehicle_ids = {r.vehicle_id for r in report.ex_post} | {r.vehicle_id for r in report.ex_ante}
    return [
        lease
        for lease in book.leases_of(report.party_id)
        if lease.claimant_id == report.party_id
        and lease.vehicle_id in vehicle_ids
        and lease.start <= report.period.end
        and (lease.end is None or lease.end >= report.period.start)
    ]


def ante_label(ante: list[DayResult]) -> str:
    """What an ex-ante figure was computed from: route plans, the leases' expected km, other records."""
    return _ante_label(_ante_basis(ante))


def _ante_label(basis: dict[str, int]) -> str:
    """What the ex-ante figure was computed from (issue 19 item 3)."""
    parts = []
    if basis["route_plan_days"]:
        parts.append(f"stored route plans ({basis['route_plan_days']} vehicle-days)")
    if basis["lease_expectation_days"]:
        parts.append(f"the leases' expected km per year ({basis['lease_expectation_days']} vehicle-days)")
    if basis["other_days"]:
        parts.append(f"other planned records ({basis['other_days']} vehicle-days)")
    return "ex-ante from " + (" and ".join(parts) if parts else "nothing planned in the period")


def _ante_basis(ante: list[DayResult]) -> dict[str, int]:
    """How many planned vehicle-days came from route plans and how many from the leases' expected km."""
    return {
        "route_plan_days": sum(1 for r in ante if r.row_ref.startswith("routeplan")),
        "lease_expectation_days": sum(1 for r in ante if r.row_ref.startswith("lease")),
        "other_days": sum(1 for r in ante if not r.row_ref.startswith(("routeplan", "lease"))),
    }


def _party(book: LeaseBook, party_id: str) -> dict[str, str]:
    p = book.party(party_id)
    return {
        "id": p.party_id,
        "name": p.name,
        "location": p.location,
        "registration_code": p.registration_code,
    }


def _flat(t) -> dict[str, object]:
    return {
        "vehicle_days": t.vehicle_days,
        "km": rnd(t.km),
        "grid_kwh": rnd(t.grid_kwh),
        "reduction_tco2e": rnd(t.reduction_t),
    }


def _day(r: DayResult) -> dict[str, object]:
    return {
        "vehicle_id": r.vehicle_id,
        "day": r.day.isoformat(),
        "km": rnd(r.km),
        "grid_kwh": rnd(r.grid_kwh),
        "tonne_km": rnd(r.tonne_km),
        "baseline_method": r.baseline_method,
        "ir_t": rnd(r.ir_t),
        "baseline_tco2e": rnd(r.baseline_t),
        "project_tco2e": rnd(r.project_t),
        "leakage_tco2e": rnd(r.leakage_t),
        "reduction_tco2e": rnd(r.reduction_t),
        "grid_key": r.grid_key,
        "row_ref": r.row_ref,
    }


def to_json_bytes(document: dict[str, object]) -> bytes:
    """Canonical bytes: fixed key order as built, two-space indent, UTF-8, trailing newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")
