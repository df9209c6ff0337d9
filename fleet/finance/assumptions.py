"""Every default number of the finance package, with its source and grade.

Grades follow `data/reference/README.md`: V verified, S secondary, D secondary-derived, W weak, U unverified,
plus ``none`` for a placeholder with no source at all (enter your own figure). Vehicle and fuel numbers are read
from the shipped copy of `vehicles.csv` (`data/reference/vehicles.csv`, row id cited); data/reference/FINANCE.md, data/reference/METHODOLOGY.md,
data/reference/CHARGING.md and data/reference/tariffs.md are not shipped as data, so their numbers are written here with section and row cited.

Input dataclasses tag each field with ``metadata={"assumption": key}``; `assumptions_in` walks an input and lists
which defaults it still uses, so every report can say which of its numbers are unverified.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from evfleet_data import VEHICLES_CSV

GRADES = ("V", "S", "D", "W", "U", "none")
_CSV_GRADE = {"verified": "V", "secondary": "S", "derived": "D", "weak": "W", "unverified": "U"}


@dataclasses.dataclass(frozen=True)
class Assumption:
    """One default input: its value, unit, where it comes from and how far to trust it."""

    key: str
    value: float
    unit: str
    source: str
    grade: str
    note: str = ""

    @property
    def flag(self) -> str:
        """'unverified' for U and unsourced placeholders, 'weak' for W, '' otherwise."""
        return {"U": "unverified", "none": "unverified", "W": "weak"}.get(self.grade, "")


@lru_cache(maxsize=1)
def vehicle_rows() -> dict[str, dict[str, str]]:
    """Rows of the shipped vehicles.csv by id."""
    with VEHICLES_CSV.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def _csv(row_id: str, column: str) -> tuple[float, str, str]:
    row = vehicle_rows()[row_id]
    return float(row[column]), f"vehicles.csv row {row_id} ({row['source']})", _CSV_GRADE[row["confidence"]]


def _csv_mid(row_id: str, low: str, high: str) -> tuple[float, str, str]:
    lo, source, grade = _csv(row_id, low)
    hi, _, _ = _csv(row_id, high)
    return (lo + hi) / 2.0, f"{source}, midpoint of {lo:g}-{hi:g}", grade


def _build() -> dict[str, Assumption]:
    items: list[Assumption] = []

    def add(key: str, value: float, unit: str, source: str, grade: str, note: str = "") -> None:
        if grade not in GRADES:
            raise ValueError(f"assumption {key!r}: grade {grade!r} is not one of {GRADES}")
        items.append(Assumption(key, float(value), unit, source, grade, note))

    def add_csv(key: str, unit: str, found: tuple[float, str, str], note: str = "") -> None:
        add(key, found[0], unit, found[1], found[2], note)

    # --- vehicle and usage (vehicles.csv, data/reference/METHODOLOGY.md §4 reference truck) ---
    add_csv(
        "ev_price",
        "CNY",
        _csv_mid("plan_bev_truck_4_5t", "price_low", "price_high"),
        "4.5 t electric light truck planning price",
    )
    add_csv(
        "ev_kwh_per_100km",
        "kWh/100km",
        _csv("refcase_bev_4_5t", "energy_per_100km_low"),
        "at the meter, reference case",
    )
    add_csv("diesel_l_per_100km", "L/100km", _csv("refcase_diesel_4_5t", "energy_per_100km_low"))
    add_csv("diesel_price", "CNY/L", _csv_mid("fuel_diesel_0_guangdong", "price_low", "price_high"))
    add_csv("diesel_price_low", "CNY/L", _csv("fuel_diesel_0_guangdong", "price_low"))
    add_csv("diesel_price_high", "CNY/L", _csv("fuel_diesel_0_guangdong", "price_high"))
    add_csv(
        "diesel_truck_value",
        "CNY",
        _csv_mid("diesel_4_5t_light_truck", "price_low", "price_high"),
        "purchase price of a new diesel truck; for 'keep' enter the truck's market value today",
    )
    add(
        "km_per_year",
        40_000,
        "km/yr",
        "data/reference/METHODOLOGY.md §4 reference truck case (D = 40,000 km/yr); vehicles.csv row refcase_bev_4_5t",
        "U",
    )

    # --- lease terms (data/reference/FINANCE.md test vectors L2/L4: 200k truck, 5 y, 6 %, RV 40k — assumed inputs) ---
    add(
        "lease_term_months",
        60,
        "months",
        "data/reference/FINANCE.md test vector L2 (5 y; assumed input, not published)",
        "U",
    )
    add(
        "lease_yield",
        0.06,
        "1/yr nominal",
        "data/reference/FINANCE.md test vector L2 (6 %; assumed input)",
        "U",
    )
    add(
        "residual_share",
        0.20,
        "of price",
        "data/reference/FINANCE.md test vector L2 (RV 40k of 200k; assumed input)",
        "U",
        "also used for the diesel truck's value at the end of the horizon",
    )
    add(
        "residual_value",
        0.20 * 200_000,
        "CNY",
        "data/reference/FINANCE.md test vector L2 (RV 40,000 on a 200,000 truck; assumed input)",
        "U",
    )
    add(
        "diesel_residual_value",
        0.20 * next(a.value for a in items if a.key == "diesel_truck_value"),
        "CNY",
        "residual_share (data/reference/FINANCE.md L2, assumed) x diesel_truck_value",
        "U",
        "diesel truck's value at the end of the horizon",
    )
    add(
        "monthly_rent",
        3276.8639250831075,
        "CNY/month",
        "data/reference/FINANCE.md test vector L4: npf.pmt(0.005, 60, -200000, fv=40000, when='begin')",
        "U",
        "rent that yields 6 % on the default truck, paid in advance",
    )
    add(
        "loan_rate",
        0.06,
        "1/yr nominal",
        "data/reference/FINANCE.md test vector L2 rate (assumed input)",
        "U",
    )
    add(
        "discount_rate",
        0.06,
        "1/yr nominal",
        "data/reference/FINANCE.md test vector L2 rate (assumed input)",
        "U",
        "lessor's and lessee's discount rate and MIRR reinvestment rate",
    )
    add("loan_share", 0.0, "of net price", "no source: all-equity purchase unless a loan is entered", "none")
    add(
        "subsidies", 0.0, "CNY", "no source: enter the purchase subsidies the truck actually receives", "none"
    )
    add("deposit", 0.0, "CNY", "no source: enter the lease's security deposit", "none")
    # --- costs of the electric truck during the lease (issue 19 item 8). No figure for any of them is in
    # data/reference: every default below is an evfleet planning value, graded U (unverified), and is listed as such
    # in every report. Enter the lease's own quotes (scenario file, or the Lease columns in the database). ---
    add(
        "ev_insurance_per_month",
        400.0,
        "CNY/month",
        "no published source in data/reference: evfleet planning value (issue 19 'modest value')",
        "U",
        "commercial-vehicle insurance of a light e-truck; enter the premium",
    )
    add(
        "ev_maintenance_per_km",
        0.08,
        "CNY/km",
        "no published source in data/reference: evfleet planning value (issue 19 'modest value')",
        "U",
        "variable servicing of the electric truck; enter the service quote",
    )
    add(
        "ev_maintenance_fixed_per_month",
        0.0,
        "CNY/month",
        "no published source: assumed included in the per-km figure unless the service contract has a fixed fee",
        "U",
    )
    add(
        "tyres_per_km",
        0.03,
        "CNY/km",
        "no published source: evfleet planning arithmetic, 6 tyres x about 600 CNY replaced every "
        "about 120,000 km",
        "U",
    )
    add(
        "telematics_per_month",
        50.0,
        "CNY/month",
        "no published source: evfleet planning value for telematics SIM + fleet-platform fees",
        "U",
    )
    add(
        "overhead_per_month",
        100.0,
        "CNY/month",
        "no published source: evfleet planning value for the lessor's management overhead per truck",
        "U",
        "lessor's own cost; never passed to the lessee",
    )
    add(
        "bad_debt_share",
        0.02,
        "of rent",
        "no published source: evfleet planning value (expected loss of 2 % of rent)",
        "U",
        "allowance for unpaid rent, deducted from each rent as it falls due",
    )
    add(
        "diesel_maintenance_per_km",
        0.0,
        "CNY/km",
        "no published source: enter the lessee's cost",
        "none",
    )
    add(
        "diesel_insurance_per_month",
        0.0,
        "CNY/month",
        "no published source: enter the premium",
        "none",
    )
    add(
        "tax_rate",
        0.25,
        "of taxable profit",
        "PRC Enterprise Income Tax Law art. 4 statutory rate (not in the shipped reference data)",
        "U",
        "simple rate on profit after straight-line depreciation and interest, losses carried forward in the lease",
    )
    add(
        "battery_degradation_cny_per_kwh",
        0.0625,
        "CNY/kWh",
        "data/reference/CHARGING.md 'Chargers and batteries': 500 CNY/kWh (U) / (2 x 4,000 cycles)",
        "U",
        "battery warranty reserve per kWh of throughput at the meter (the lessor owns the battery)",
    )

    # --- battery state of health and the residual value that follows it (issue 19 item 12). data/reference holds no
    # LFP calendar-fade figure and no published relation between SoH and a truck's resale value: the curve below is
    # built from the two battery-life notes of data/reference/CHARGING.md 'Chargers and batteries', and the
    # residual rule (fleet/finance/battery.py `residual_factor`) is an evfleet assumption, graded U. ---
    add_csv(
        "battery_pack_kwh",
        "kWh",
        _csv("farizon_h8e_h9e", "battery_kwh_min"),
        "nominal pack of the 4.5 t reference truck (smallest H8E/H9E pack); a lease from the database uses its "
        "model's battery_kwh",
    )
    add(
        "battery_pack_price",
        500.0,
        "CNY/kWh",
        "data/reference/CHARGING.md 'Chargers and batteries', Degradation cost: 500 CNY/kWh (U)",
        "U",
        "sets the battery's share of the truck's value: pack kWh x this / price",
    )
    add(
        "battery_soh_end_of_life",
        0.80,
        "SoH",
        "data/reference/CHARGING.md 'Chargers and batteries', Battery life (W; plugorpump.app): cycle lives are "
        "counted 'to 80 % SoH'",
        "W",
        "below it the battery adds nothing to the truck's resale value (second-life value not counted)",
    )
    add(
        "battery_cycle_fade_per_efc",
        0.20 / 4500,
        "SoH/EFC",
        "data/reference/CHARGING.md Battery life (W): LFP 3,000-6,000+ full cycles to 80 % SoH; 20 pp / 4,500 "
        "(midpoint)",
        "W",
        "per equivalent full cycle (kWh charged / nominal pack kWh)",
    )
    add(
        "battery_cycle_fade_per_efc_low",
        0.20 / 6000,
        "SoH/EFC",
        "data/reference/CHARGING.md Battery life (W): 20 pp / 6,000 cycles",
        "W",
    )
    add(
        "battery_cycle_fade_per_efc_high",
        0.20 / 3000,
        "SoH/EFC",
        "data/reference/CHARGING.md Battery life (W): 20 pp / 3,000 cycles",
        "W",
    )
    add(
        "battery_calendar_fade_per_year",
        0.012 * 1.4,
        "SoH/yr",
        "data/reference/CHARGING.md 'Chargers and batteries': 10-year lab ageing about 12 % in all with managed "
        "charging (S; Mobility House + RWTH) / 10 y x 1.4 for a hot climate (W; plugorpump.app) = 1.68 %/yr",
        "W",
        "no LFP calendar figure in data/reference; the lab figure is a car's total loss including its light "
        "cycling, so as a pure calendar term it errs high (conservative)",
    )
    add(
        "battery_calendar_fade_per_year_low",
        0.012,
        "SoH/yr",
        "data/reference/CHARGING.md: 12 % in 10 years (S), no hot-climate factor",
        "S",
    )
    add(
        "battery_calendar_fade_per_year_high",
        0.018 * 1.4,
        "SoH/yr",
        "data/reference/CHARGING.md: up to 18 % in 10 years with immediate charging (S) x 1.4 hot climate (W)",
        "W",
    )
    add(
        "charging_efficiency",
        0.95,
        "kWh in / kWh metered",
        "no published source in data/reference: evfleet planning value (the demo connectors' efficiency)",
        "U",
        "charger-to-battery efficiency of a charging session at no known connector, for the SoH estimate",
    )

    # --- carbon (data/reference/FINANCE.md 'Carbon prices', data/reference/METHODOLOGY.md §3-4) ---
    add(
        "carbon_price",
        51.33,
        "CNY/t",
        "data/reference/FINANCE.md Carbon prices: Shenzhen market 2024 average",
        "S",
    )
    add(
        "carbon_price_low",
        43.49,
        "CNY/t",
        "data/reference/FINANCE.md Carbon prices: Shenzhen SZA auction 2022 average",
        "S",
    )
    add(
        "carbon_price_high",
        97.49,
        "CNY/t",
        "data/reference/FINANCE.md Carbon prices: national CEA 2024 year-end",
        "S",
    )
    add(
        "carbon_price_base",
        0.0,
        "CNY/t",
        "no CCER or Shenzhen carbon-inclusion methodology for electric freight vehicles found "
        "(data/reference/METHODOLOGY.md, FINANCE.md): the base case has no carbon revenue",
        "U",
        "a lease that names a scheme and a price source may count it; otherwise carbon is a scenario only",
    )
    add(
        "avoided_kg_per_km",
        4.9703e3 / 40_000,
        "kgCO2/km",
        "data/reference/METHODOLOGY.md §4 reference truck: ER 4.9703 t/yr (CN guideline + national 2022) / 40,000 km",
        "U",
        "replace with the emissions module's per-lease figure",
    )
    add(
        "lessor_attribution_share",
        1.0,
        "share",
        "evfleet default: the lessor is the single claimant "
        "(data/reference/METHODOLOGY.md §3 one claimant per vehicle-period)",
        "U",
    )
    add(
        "lessee_attribution_share",
        0.0,
        "share",
        "evfleet default: the lessee claims nothing when the lessor claims all (data/reference/METHODOLOGY.md §3)",
        "U",
    )

    # --- electricity and driver time (data/reference/tariffs.md; later from charging and routing) ---
    add(
        "electricity_price",
        0.3116,
        "CNY/kWh",
        "data/reference/tariffs.md example levels: Shenzhen 2023 table, valley",
        "W",
        "replace with the depot's scheduled charging cost from the charging module",
    )
    add(
        "electricity_price_low",
        0.293,
        "CNY/kWh",
        "data/reference/tariffs.md example levels: CSG example, valley",
        "W",
    )
    add(
        "electricity_price_high",
        0.7556,
        "CNY/kWh",
        "data/reference/tariffs.md example levels: Shenzhen 2023 table, flat",
        "W",
    )
    add(
        "charging_hours_per_1000km",
        0.0,
        "h/1000km",
        "no source: depot charging off shift; later from routing (charging stops en route)",
        "none",
    )
    add(
        "driver_cost_per_hour",
        0.0,
        "CNY/h",
        "no published source: enter the lessee's wage cost",
        "none",
    )
    add(
        "dscr_covenant",
        1.2,
        "x",
        "data/reference/FINANCE.md Metrics, DSCR row: covenants typically >= 1.2x",
        "U",
        "reports name the months with DSCR below it",
    )
    add(
        "llcr_covenant",
        1.2,
        "x",
        "no LLCR covenant in data/reference/FINANCE.md: set equal to the DSCR covenant (FINANCE.md DSCR row, U)",
        "U",
        "reports name the months with LLCR below it",
    )
    add(
        "sensitivity_swing",
        0.25,
        "relative",
        "evfleet default: +/-25 % where no sourced range exists",
        "none",
    )
    return {item.key: item for item in items}


ASSUMPTIONS: dict[str, Assumption] = _build()


def default(key: str) -> float:
    """The default value of an assumption key."""
    return ASSUMPTIONS[key].value


def tagged(key: str, *, integer: bool = False) -> Any:
    """A dataclass field defaulting to the assumption `key` and tagged with it."""
    value: Any = round(default(key)) if integer else default(key)
    return dataclasses.field(default=value, metadata={"assumption": key})


@dataclasses.dataclass(frozen=True)
class UsedAssumption:
    """An input field that still holds its sourced default."""

    field: str
    assumption: Assumption


def assumptions_in(obj: Any, prefix: str = "") -> list[UsedAssumption]:
    """Fields of a (nested) input dataclass that still equal their tagged default."""
    return list(_walk(obj, prefix))


def _walk(obj: Any, prefix: str) -> Iterator[UsedAssumption]:
    if not dataclasses.is_dataclass(obj):
        return
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        key = f.metadata.get("assumption")
        if key is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            if float(value) == float(f.default):  # type: ignore[arg-type]
                yield UsedAssumption(path, ASSUMPTIONS[key])
        elif dataclasses.is_dataclass(value):
            yield from _walk(value, f"{path}.")
