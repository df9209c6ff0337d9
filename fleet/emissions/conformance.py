"""What a methodology requires and whether the project's data meet it, requirement by requirement.

The lists restate data/reference/METHODOLOGY.md (AMS-III.C §2.1 monitoring and clarifications, TOOL05/TOOL07 §2.2,
GLEC/ISO 14083 §2.5; all graded U there). A requirement the data cannot meet is said so in the package, never
papered over: status is "met", "partly met" or "not met", with the evidence that decided it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fleet.emissions.calc import ENERGY_VEHICLE, DayResult
from fleet.emissions.profiles import ResolvedProfile

MET, PARTLY, NOT_MET = "met", "partly met", "not met"
SMALL_SCALE_CAP_T = 60_000.0  # AMS-III.C Type III small-scale cap, tCO2e/yr (METHODOLOGY.md §2.1, U)


@dataclass(frozen=True)
class Facts:
    """What the project's data hold, counted over the package's vehicles and metered vehicle-days."""

    vehicles: int
    vehicles_with_plate_and_vin: int
    replaced_trucks_identified: int
    replaced_trucks_with_disposal_record: int
    replaced_trucks_sold_or_transferred: int
    sfc_from_fuel_records_days: int
    comparability_evidence: bool
    gap_days_missing_monitored: int
    double_counting_control: str


def _req(requirement: str, source: str, status: str, evidence: str) -> dict[str, str]:
    return {"requirement": requirement, "source": source, "status": status, "evidence": evidence}


def requirements(
    resolved: ResolvedProfile, results: Sequence[DayResult], facts: Facts, annual_t: float | None
) -> list[dict[str, str]]:
    """The profile's requirements with a status each (empty list for profiles without a requirement list)."""
    profile = resolved.profile
    days = len(results)
    vehicle_side = sum(1 for r in results if r.energy_source == ENERGY_VEHICLE)
    common_identity = _req(
        "per-vehicle identity (plate and VIN) on every record",
        "AMS-III.C monitoring (METHODOLOGY.md §2.1, U)",
        MET if facts.vehicles_with_plate_and_vin == facts.vehicles else PARTLY,
        f"{facts.vehicles_with_plate_and_vin} of {facts.vehicles} vehicles carry plate and VIN",
    )
    if profile.profile_id == "ams-iii-c":
        grid_key = resolved.grid_ef.key
        if grid_key.startswith("grid.cdm_tool07"):
            grid = _req(
                "grid emission factor per TOOL07 (combined margin) or TOOL05", "§1, §2.2", MET, grid_key
            )
        elif grid_key.startswith("grid.cdm_tool05"):
            grid = _req(
                "grid emission factor per TOOL07 (combined margin) or TOOL05",
                "AMS-III.C via TOOL05/TOOL07 (METHODOLOGY.md §1, §2.2, U)",
                PARTLY,
                f"TOOL05 conservative default {grid_key} = {resolved.grid_ef.value} kgCO2/kWh "
                f"({resolved.grid_ef.confidence}); the Southern-grid TOOL07 combined margin was not located",
            )
        else:
            grid = _req(
                "grid emission factor per TOOL07 (combined margin) or TOOL05",
                "AMS-III.C via TOOL05/TOOL07 (METHODOLOGY.md §1, §2.2, U)",
                NOT_MET,
                f"{grid_key} is a grid-average factor, not an option of AMS-III.C (chosen on the command line)",
            )
        tdl = resolved.tdl
        return [
            grid,
            _req(
                "transmission and distribution losses on project electricity",
                "TOOL05 (METHODOLOGY.md §2.2, U)",
                PARTLY if tdl else NOT_MET,
                f"{tdl.key} = {tdl.value} ({tdl.confidence}; no local loss data)"
                if tdl
                else "no TDL applied",
            ),
            _req(
                "baseline specific fuel consumption from OEM, test or fleet records",
                "AMS-III.C EF_BL,km (METHODOLOGY.md §2.1, U)",
                MET if days and facts.sfc_from_fuel_records_days == days else NOT_MET,
                f"{facts.sfc_from_fuel_records_days} of {days} vehicle-days have diesel fuel records; the others "
                "use the L/100 km of the replaced model on the lease (a planning value, not OEM/test/fleet records)",
            ),
            _req(
                "comparable baseline and project vehicles (payload class, service)",
                "SSC_815 (METHODOLOGY.md §2.1)",
                MET if facts.comparability_evidence else NOT_MET,
                "comparability evidence is held"
                if facts.comparability_evidence
                else "no comparability evidence is recorded (the lease names a replaced model only)",
            ),
            _req(
                "displaced diesel trucks scrapped or shown not transferred (leakage)",
                "AMS-III.C leakage; SSC_817 (METHODOLOGY.md §2.1, U)",
                MET
                if facts.vehicles
                and facts.replaced_trucks_with_disposal_record == facts.vehicles
                and facts.replaced_trucks_sold_or_transferred == 0
                else NOT_MET,
                f"{facts.replaced_trucks_identified} of {facts.vehicles} replaced trucks identified, "
                f"{facts.replaced_trucks_with_disposal_record} with a scrapping or sale record, "
                f"{facts.replaced_trucks_sold_or_transferred} sold or transferred",
            ),
            common_identity,
            _req(
                "distance per vehicle from odometer, GPS or telematics",
                "AMS-III.C monitoring (METHODOLOGY.md §2.1, U)",
                MET if facts.gap_days_missing_monitored == 0 else PARTLY,
                f"{days} metered vehicle-days from the daily trip imports; {facts.gap_days_missing_monitored} "
                "monitored lease days have no accepted record (not counted)",
            ),
            _req(
                "metered electricity per vehicle or charger",
                "AMS-III.C monitoring (METHODOLOGY.md §2.1, U)",
                MET if vehicle_side == 0 else PARTLY,
                f"{days - vehicle_side} vehicle-days with charger-metered kWh, {vehicle_side} with vehicle-side "
                "kWh divided by the depot's charging efficiency",
            ),
            _req(
                "double-counting controls",
                "SSC_784 (METHODOLOGY.md §2.1, §3)",
                MET,
                facts.double_counting_control,
            ),
            _req(
                "small-scale cap 60 ktCO2e/yr per Type III activity",
                "AMS-III.C (METHODOLOGY.md §2.1, U)",
                MET if annual_t is None or annual_t <= SMALL_SCALE_CAP_T else NOT_MET,
                "n/a" if annual_t is None else f"{annual_t:,.1f} tCO2e in the period",
            ),
        ]
    if profile.wtw:
        return [
            _req(
                "well-to-wheel electricity factor incl. generation, fuel supply and grid losses",
                "ISO 14083 / GLEC v3 (METHODOLOGY.md §2.5, U)",
                NOT_MET if resolved.reduction_withheld else MET,
                "none sourced in data/reference/emission-factors.csv: the reduction is withheld"
                if resolved.reduction_withheld
                else resolved.grid_ef.key,
            ),
            _req(
                "charging losses in the electricity",
                "ISO 14083 / GLEC v3 (METHODOLOGY.md §2.5, U)",
                MET if vehicle_side == 0 else PARTLY,
                f"{days - vehicle_side} vehicle-days at the charger meter (losses included), {vehicle_side} "
                "from vehicle-side kWh divided by the charging efficiency",
            ),
            _req(
                "t·km from mass and distance (distance adjustment factor where shortest distance is used)",
                "ISO 14083 (METHODOLOGY.md §2.5, U)",
                MET if days and all(r.tonne_km > 0 for r in results) else PARTLY,
                f"{sum(1 for r in results if r.tonne_km > 0)} of {days} vehicle-days carry t·km; actual km, "
                "no DAF",
            ),
            common_identity,
        ]
    return [
        _req(
            "the standard's own factors, TDL and vintage",
            "T/CSAE 235-2021 (METHODOLOGY.md §2.4, S)",
            NOT_MET,
            "not known from the sources read; MEE national average Y-2 and the CN guideline diesel factor used",
        ),
        common_identity,
    ]
