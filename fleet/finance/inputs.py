"""Typed, frozen inputs of the lease economics, validated on construction.

Conventions: money [CNY]; rates are annual nominal fractions (0.06 = 6 %/yr) turned into monthly rates as r/12
(data/reference/FINANCE.md §Conventions); terms are whole months. Every default is a tagged assumption (see `assumptions.py`).
A nonsense value raises `FinanceInputError` naming the dotted field, e.g. ``lease.term_months``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal

from .assumptions import tagged
from .errors import FinanceInputError

RepaymentMethod = Literal["annuity", "equal_principal"]
DieselOption = Literal["keep", "buy"]


def _number(
    section: str,
    name: str,
    value: object,
    *,
    low: float | None = 0.0,
    high: float | None = None,
    high_open: bool = False,
    low_open: bool = False,
    integer: bool = False,
    what: str = "",
) -> None:
    """Check one numeric field; the message names `section.name` and the accepted range."""
    path = f"{section}.{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FinanceInputError(path, f"must be a number, got {value!r}")
    if integer and not (isinstance(value, int) or float(value).is_integer()):
        raise FinanceInputError(path, f"must be a whole number{what}, got {value!r}")
    if not math.isfinite(value):
        raise FinanceInputError(path, f"must be finite, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        bound = "greater than" if low_open else "at least"
        raise FinanceInputError(path, f"must be {bound} {low:g}{what}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        if high == 1.0 and high_open:
            raise FinanceInputError(path, f"must be below 100 % (a fraction, 0.06 = 6 %), got {value!r}")
        raise FinanceInputError(path, f"must be at most {high:g}{what}, got {value!r}")


def _rate(section: str, name: str, value: object) -> None:
    _number(section, name, value, low=0.0, high=1.0, high_open=True)


@dataclass(frozen=True)
class Usage:
    """How the electric truck is used; shared by the lessor's reserve/carbon and the lessee's running costs."""

    km_per_year: float = tagged("km_per_year")
    """Distance [km/yr]."""
    ev_kwh_per_100km: float = tagged("ev_kwh_per_100km")
    """Energy at the meter [kWh/100km] (charging losses included)."""

    def __post_init__(self) -> None:
        _number("usage", "km_per_year", self.km_per_year)
        _number("usage", "ev_kwh_per_100km", self.ev_kwh_per_100km, low_open=True)

    @property
    def km_per_month(self) -> float:
        """Distance [km/month]."""
        return self.km_per_year / 12.0

    @property
    def kwh_per_month(self) -> float:
        """Energy at the meter [kWh/month]."""
        return self.km_per_month * self.ev_kwh_per_100km / 100.0


@dataclass(frozen=True)
class Loan:
    """The lessor's purchase loan: a share of the net price, repaid monthly from month 1."""

    share_of_net_price: float = tagged("loan_share")
    """Debt / (price − subsidies) [-]; the rest is the lessor's down payment (equity)."""
    annual_rate: float = tagged("loan_rate")
    """Nominal annual rate [1/yr]; monthly rate = annual_rate / 12."""
    term_months: int = tagged("lease_term_months", integer=True)
    """Repayment term [months]; at most the lease term."""
    method: RepaymentMethod = "annuity"
    """'annuity' (level payment, npf.pmt) or 'equal_principal' (level principal, falling interest)."""
    dscr_covenant: float = tagged("dscr_covenant")
    """Minimum DSCR the loan agreement requires [-]; months below it are named as breaches."""
    llcr_covenant: float = tagged("llcr_covenant")
    """Minimum LLCR the loan agreement requires [-]; months below it are named as breaches."""

    def __post_init__(self) -> None:
        s = "lease.loan"
        _number(s, "share_of_net_price", self.share_of_net_price, high=1.0)
        _rate(s, "annual_rate", self.annual_rate)
        _number(s, "term_months", self.term_months, low=1, integer=True, what=" (months)")
        if self.method not in ("annuity", "equal_principal"):
            raise FinanceInputError(
                f"{s}.method", f"must be 'annuity' or 'equal_principal', got {self.method!r}"
            )
        _number(s, "dscr_covenant", self.dscr_covenant)
        _number(s, "llcr_covenant", self.llcr_covenant)
        object.__setattr__(self, "term_months", int(self.term_months))


@dataclass(frozen=True)
class Carbon:
    """Carbon revenue: tonnes avoided × a carbon price × the attribution share of each party.

    No CCER or Shenzhen carbon-inclusion methodology for electric freight vehicles has been found, so the default
    price is 0 (assumption `carbon_price_base`): the base case has no carbon revenue. A price counts as base case
    only when the lease names the `scheme` and the `price_source`; any other price is a scenario (`in_base_case`).
    """

    avoided_kg_per_km: float = tagged("avoided_kg_per_km")
    """Avoided emissions per km driven [kgCO2/km] (from the emissions module when available)."""
    price_cny_per_t: float = tagged("carbon_price_base")
    """Carbon price [CNY/t]; 0 in the base case unless a scheme and a price source are named."""
    lessor_share: float = tagged("lessor_attribution_share")
    """Share of the avoided tonnes the lessor claims [-]."""
    lessee_share: float = tagged("lessee_attribution_share")
    """Share the lessee claims [-]; lessor_share + lessee_share <= 1 (one claimant per tonne)."""
    scheme: str | None = None
    """The crediting scheme the lease names (e.g. a CCER methodology number); None = none named."""
    price_source: str | None = None
    """Where the price comes from (e.g. 'Shenzhen market 2024 average, data/reference/FINANCE.md')."""

    def __post_init__(self) -> None:
        for text in ("scheme", "price_source"):
            value = getattr(self, text)
            if value is not None and not isinstance(value, str):
                raise FinanceInputError(f"carbon.{text}", f"must be a string, got {value!r}")
        _number("carbon", "avoided_kg_per_km", self.avoided_kg_per_km)
        _number("carbon", "price_cny_per_t", self.price_cny_per_t)
        _number("carbon", "lessor_share", self.lessor_share, high=1.0)
        _number("carbon", "lessee_share", self.lessee_share, high=1.0)
        if self.lessor_share + self.lessee_share > 1.0 + 1e-12:
            raise FinanceInputError(
                "carbon.lessee_share",
                "lessor_share + lessee_share must not exceed 1 (a tonne is claimed once)",
            )

    @property
    def in_base_case(self) -> bool:
        """True when a scheme and a price source are named, so the revenue may count in the base case."""
        return bool(self.scheme and self.scheme.strip() and self.price_source and self.price_source.strip())

    @property
    def basis(self) -> str:
        """What the carbon revenue rests on, for the report."""
        if self.price_cny_per_t == 0 or (self.lessor_share == 0 and self.lessee_share == 0):
            return "none: no carbon revenue (no scheme for electric freight vehicles found)"
        if self.in_base_case:
            return f"scheme {self.scheme}, price {self.price_cny_per_t:g} CNY/t ({self.price_source})"
        return (
            f"SCENARIO ONLY: {self.price_cny_per_t:g} CNY/t with no scheme and price source named; "
            "not a base-case revenue"
        )

    def revenue_per_km(self, share: float) -> float:
        """Carbon revenue [CNY/km] for a claimant's share."""
        return self.avoided_kg_per_km / 1000.0 * self.price_cny_per_t * share


@dataclass(frozen=True)
class Battery:
    """The traction battery at the lease's end: its state of health (SoH) projects the residual value.

    SoH at lease end = `soh_at_start` − the fade over the term, where the fade is, in order of precedence:
    `fade_override` (set by the tornado), `measured_fade_per_year` × years (a least-squares trend of SoH estimated
    from charging sessions, see `fleet.finance.battery.estimate_soh`), or the age and throughput curve
    `calendar_fade_per_year` × years + `cycle_fade_per_efc` × equivalent full cycles, the cycles being the term's
    kWh at the meter ÷ `pack_kwh` (charging losses included, so they err high). The residual value then follows
    `fleet.finance.battery.residual_factor` (an evfleet rule, graded unverified).
    """

    pack_kwh: float = tagged("battery_pack_kwh")
    """Nominal pack capacity [kWh]."""
    pack_price_cny_per_kwh: float = tagged("battery_pack_price")
    """Pack price [CNY/kWh]; pack_kwh × this ÷ the truck's price is the battery's share of its value."""
    soh_end_of_life: float = tagged("battery_soh_end_of_life")
    """SoH [-] at which the battery adds nothing more to the truck's resale value."""
    soh_at_start: float = 1.0
    """SoH [-] at the lease start (1 = new; lower for a used truck or a measured pack)."""
    calendar_fade_per_year: float = tagged("battery_calendar_fade_per_year")
    """Calendar fade [SoH/yr] of the age and throughput curve."""
    cycle_fade_per_efc: float = tagged("battery_cycle_fade_per_efc")
    """Cycle fade [SoH per equivalent full cycle] of the curve."""
    measured_fade_per_year: float | None = None
    """Fade [SoH/yr] from the charging-session trend; None = use the curve."""
    measured_fade_se_per_year: float | None = None
    """Standard error of the measured fade [SoH/yr]; the tornado moves the fade by ± 2 of them."""
    fade_override: float | None = None
    """Fade over the whole term [SoH], replacing the others (a sensitivity, never a default)."""
    basis: str = "age and throughput curve (no charging sessions with state of charge)"
    """What the SoH rests on, for the report."""

    def __post_init__(self) -> None:
        s = "lease.battery"
        _number(s, "pack_kwh", self.pack_kwh, low_open=True)
        _number(s, "pack_price_cny_per_kwh", self.pack_price_cny_per_kwh)
        _number(s, "soh_end_of_life", self.soh_end_of_life, high=1.0, high_open=True)
        _number(s, "soh_at_start", self.soh_at_start, high=1.0)
        _number(s, "calendar_fade_per_year", self.calendar_fade_per_year, high=1.0)
        _number(s, "cycle_fade_per_efc", self.cycle_fade_per_efc, high=1.0)
        for name in ("measured_fade_per_year", "measured_fade_se_per_year", "fade_override"):
            if getattr(self, name) is not None:
                _number(s, name, getattr(self, name), high=1.0)
        if not isinstance(self.basis, str):
            raise FinanceInputError(f"{s}.basis", f"must be a string, got {self.basis!r}")

    @property
    def measured(self) -> bool:
        """True when the fade comes from a charging-session trend."""
        return self.measured_fade_per_year is not None

    def efc(self, usage: Usage, months: int) -> float:
        """Equivalent full cycles over `months` [-]: kWh at the meter ÷ nominal pack kWh."""
        return usage.kwh_per_month * months / self.pack_kwh

    def fade_over(self, usage: Usage, months: int) -> float:
        """SoH lost over `months` [-] (see the class docstring for which fade applies)."""
        if self.fade_override is not None:
            return self.fade_override
        years = months / 12.0
        if self.measured_fade_per_year is not None:
            return self.measured_fade_per_year * years
        return self.calendar_fade_per_year * years + self.cycle_fade_per_efc * self.efc(usage, months)

    def soh_at_end(self, usage: Usage, months: int) -> float:
        """Projected SoH at the end of `months` [-], at least 0."""
        return max(0.0, self.soh_at_start - self.fade_over(usage, months))


@dataclass(frozen=True)
class LeaseTerms:
    """One lease from the lessor's side: the truck, its financing, the rent and who bears which cost."""

    price: float = tagged("ev_price")
    """Purchase price of the truck [CNY]."""
    subsidies: float = tagged("subsidies")
    """Purchase subsidies received [CNY]; net price = price − subsidies."""
    term_months: int = tagged("lease_term_months", integer=True)
    """Lease term [months]."""
    monthly_rent: float = tagged("monthly_rent")
    """Rent [CNY/month]."""
    rent_in_advance: bool = True
    """True: rent at the start of each month (t = 0..N−1, npf when='begin'); False: at the end (t = 1..N)."""
    deposit: float = tagged("deposit")
    """Security deposit [CNY], received at t = 0 and refunded at t = N."""
    residual_value: float = tagged("residual_value")
    """Value of the truck to the lessor at the end of the term [CNY], received at t = N. With a `battery` it is the
    base value with a battery as good as new, and the flow at t = N is `residual_at_end` (it follows the SoH)."""
    battery: Battery | None = None
    """The battery whose projected SoH the residual follows; None = the residual value is taken as given."""
    lessor_bears_maintenance: bool = True
    """Who pays maintenance (per km and fixed): the lessor (full-service lease) or the lessee."""
    lessor_bears_insurance: bool = True
    lessor_bears_tyres: bool = True
    lessor_bears_telematics: bool = True
    ev_maintenance_per_km: float = tagged("ev_maintenance_per_km")
    """Maintenance of the electric truck [CNY/km]; paid by the lessor if it bears maintenance, else the lessee."""
    ev_maintenance_fixed_per_month: float = tagged("ev_maintenance_fixed_per_month")
    """Fixed maintenance fee [CNY/month]; paid by whoever bears maintenance."""
    ev_insurance_per_month: float = tagged("ev_insurance_per_month")
    """Insurance of the electric truck [CNY/month]; paid by whoever bears it."""
    tyres_per_km: float = tagged("tyres_per_km")
    """Tyres [CNY/km]; paid by whoever bears them."""
    telematics_per_month: float = tagged("telematics_per_month")
    """Telematics and platform fees [CNY/month]; paid by whoever bears them."""
    battery_degradation_cny_per_kwh: float = tagged("battery_degradation_cny_per_kwh")
    """Battery warranty reserve the lessor (the battery's owner) sets aside per kWh charged [CNY/kWh]."""
    overhead_per_month: float = tagged("overhead_per_month")
    """The lessor's management overhead per truck [CNY/month]; always the lessor's."""
    bad_debt_share: float = tagged("bad_debt_share")
    """Allowance for unpaid rent [share of each rent]; always the lessor's."""
    battery_replacement_month: int | None = None
    """Month of a planned battery replacement (1..N), or None."""
    battery_replacement_cost: float = 0.0
    """Cost of that replacement [CNY]."""
    tax_rate: float = tagged("tax_rate")
    """Simple profit tax rate [-] on rent + carbon − costs − straight-line depreciation − interest."""
    discount_rate: float = tagged("discount_rate")
    """Lessor's discount rate, nominal annual [1/yr] (monthly r/12); also the MIRR reinvestment rate."""
    loan: Loan = field(default_factory=Loan)
    lease_id: str | None = None
    lessee: str | None = None
    """Lessee name, for portfolio grouping."""
    start: dt.date | None = None
    """First month of the lease, for aligning a portfolio (None = portfolio month 0)."""

    def __post_init__(self) -> None:
        s = "lease"
        _number(s, "price", self.price, low_open=True)
        _number(s, "subsidies", self.subsidies)
        if self.subsidies >= self.price:
            raise FinanceInputError(
                f"{s}.subsidies", f"must be below the price ({self.price:g}), got {self.subsidies!r}"
            )
        _number(s, "term_months", self.term_months, low=1, integer=True, what=" (months)")
        object.__setattr__(self, "term_months", int(self.term_months))
        _number(s, "monthly_rent", self.monthly_rent)
        _number(s, "deposit", self.deposit)
        _number(s, "residual_value", self.residual_value)
        if self.residual_value > self.price:
            raise FinanceInputError(
                f"{s}.residual_value",
                f"must not exceed the price ({self.price:g}), got {self.residual_value!r}",
            )
        _number(s, "ev_maintenance_per_km", self.ev_maintenance_per_km)
        _number(s, "ev_insurance_per_month", self.ev_insurance_per_month)
        _number(s, "ev_maintenance_fixed_per_month", self.ev_maintenance_fixed_per_month)
        _number(s, "tyres_per_km", self.tyres_per_km)
        _number(s, "telematics_per_month", self.telematics_per_month)
        _number(s, "overhead_per_month", self.overhead_per_month)
        _number(s, "bad_debt_share", self.bad_debt_share, high=1.0, high_open=True)
        _number(s, "battery_degradation_cny_per_kwh", self.battery_degradation_cny_per_kwh)
        _number(s, "battery_replacement_cost", self.battery_replacement_cost)
        if self.battery_replacement_month is not None:
            _number(
                s,
                "battery_replacement_month",
                self.battery_replacement_month,
                low=1,
                high=self.term_months,
                integer=True,
                what=" (a month of the term)",
            )
        _rate(s, "tax_rate", self.tax_rate)
        _rate(s, "discount_rate", self.discount_rate)
        if self.battery is not None and not isinstance(self.battery, Battery):
            raise FinanceInputError(f"{s}.battery", f"must be a Battery, got {type(self.battery).__name__}")
        if not isinstance(self.loan, Loan):
            raise FinanceInputError(f"{s}.loan", f"must be a Loan, got {type(self.loan).__name__}")
        if self.loan.share_of_net_price > 0 and self.loan.term_months > self.term_months:
            raise FinanceInputError(
                f"{s}.loan.term_months",
                f"must not exceed the lease term ({self.term_months} months), got {self.loan.term_months}",
            )
        for flag in (
            "rent_in_advance",
            "lessor_bears_maintenance",
            "lessor_bears_insurance",
            "lessor_bears_tyres",
            "lessor_bears_telematics",
        ):
            if not isinstance(getattr(self, flag), bool):
                raise FinanceInputError(f"{s}.{flag}", f"must be true or false, got {getattr(self, flag)!r}")
        for text in ("lease_id", "lessee"):
            if getattr(self, text) is not None and not isinstance(getattr(self, text), str):
                raise FinanceInputError(f"{s}.{text}", f"must be a string, got {getattr(self, text)!r}")
        if self.start is not None and not isinstance(self.start, dt.date):
            raise FinanceInputError(f"{s}.start", f"must be a date, got {self.start!r}")

    def battery_value_share(self) -> float:
        """The battery's share of the truck's value [-]: pack kWh × pack price ÷ price, at most 1 (0 without one)."""
        if self.battery is None:
            return 0.0
        return min(1.0, self.battery.pack_kwh * self.battery.pack_price_cny_per_kwh / self.price)

    def residual_factor(self, usage: Usage) -> float:
        """f(SoH at lease end) applied to the residual value [-]; 1 without a battery.

        f = 1 − b + b × clamp((SoH − SoH_eol) / (1 − SoH_eol), 0, 1), b = `battery_value_share`: the battery keeps
        the share of the truck's value it had new, scaled by its remaining life to end of life (evfleet rule, U).
        """
        if self.battery is None:
            return 1.0
        b = self.battery_value_share()
        eol = self.battery.soh_end_of_life
        life = (self.battery.soh_at_end(usage, self.term_months) - eol) / (1.0 - eol)
        return 1.0 - b + b * min(1.0, max(0.0, life))

    def residual_at_end(self, usage: Usage) -> float:
        """The residual value received at t = N [CNY]: `residual_value` × `residual_factor` (as given without a
        battery)."""
        return self.residual_value * self.residual_factor(usage)

    @property
    def net_price(self) -> float:
        """Price net of subsidies [CNY]."""
        return self.price - self.subsidies

    @property
    def loan_amount(self) -> float:
        """Debt drawn at t = 0 [CNY]."""
        return self.net_price * self.loan.share_of_net_price

    @property
    def down_payment(self) -> float:
        """Lessor's own funds at t = 0 [CNY]."""
        return self.net_price - self.loan_amount


@dataclass(frozen=True)
class LesseeInputs:
    """The lessee's alternative (its diesel truck) and its running-cost prices."""

    diesel_option: DieselOption = "buy"
    """'keep' the diesel truck it has (diesel_truck_value = its market value today, an opportunity cost) or
    'buy' a new one (diesel_truck_value = the purchase price). Both enter as an outflow at t = 0."""
    diesel_truck_value: float = tagged("diesel_truck_value")
    """[CNY] at t = 0."""
    diesel_residual_value: float = tagged("diesel_residual_value")
    """Value of the diesel truck at the end of the horizon [CNY], an inflow at t = N."""
    diesel_price_cny_per_l: float = tagged("diesel_price")
    """Diesel price [CNY/L]."""
    diesel_l_per_100km: float = tagged("diesel_l_per_100km")
    """Diesel consumption [L/100km]."""
    diesel_maintenance_per_km: float = tagged("diesel_maintenance_per_km")
    """[CNY/km]."""
    diesel_insurance_per_month: float = tagged("diesel_insurance_per_month")
    """[CNY/month]."""
    electricity_cny_per_kwh: float = tagged("electricity_price")
    """Charging cost at the meter [CNY/kWh] (later: the depot's scheduled cost from the charging module)."""
    charging_hours_per_1000km: float = tagged("charging_hours_per_1000km")
    """Driver time lost to charging stops [h/1000km] (later: from routing)."""
    driver_cost_per_hour: float = tagged("driver_cost_per_hour")
    """Cost of driver time [CNY/h]."""
    discount_rate: float = tagged("discount_rate")
    """Lessee's discount rate, nominal annual [1/yr]."""

    def __post_init__(self) -> None:
        s = "lessee"
        if self.diesel_option not in ("keep", "buy"):
            raise FinanceInputError(
                f"{s}.diesel_option", f"must be 'keep' or 'buy', got {self.diesel_option!r}"
            )
        _number(s, "diesel_truck_value", self.diesel_truck_value)
        _number(s, "diesel_residual_value", self.diesel_residual_value)
        if self.diesel_residual_value > self.diesel_truck_value:
            raise FinanceInputError(
                f"{s}.diesel_residual_value",
                "must not exceed diesel_truck_value "
                f"({self.diesel_truck_value:g}), got {self.diesel_residual_value!r}",
            )
        _number(s, "diesel_price_cny_per_l", self.diesel_price_cny_per_l)
        _number(s, "diesel_l_per_100km", self.diesel_l_per_100km, low_open=True)
        _number(s, "diesel_maintenance_per_km", self.diesel_maintenance_per_km)
        _number(s, "diesel_insurance_per_month", self.diesel_insurance_per_month)
        _number(s, "electricity_cny_per_kwh", self.electricity_cny_per_kwh)
        _number(s, "charging_hours_per_1000km", self.charging_hours_per_1000km)
        _number(s, "driver_cost_per_hour", self.driver_cost_per_hour)
        _rate(s, "discount_rate", self.discount_rate)


@dataclass(frozen=True)
class Scenario:
    """One complete, named set of inputs: what `evfleet roi --scenario` evaluates."""

    name: str = "default"
    description: str = ""
    usage: Usage = field(default_factory=Usage)
    lease: LeaseTerms = field(default_factory=LeaseTerms)
    carbon: Carbon = field(default_factory=Carbon)
    lessee: LesseeInputs = field(default_factory=LesseeInputs)


def replace_path(obj: object, path: str, value: object) -> object:
    """A copy of a nested frozen dataclass with the field at dotted `path` replaced (validation re-runs)."""
    return _replace(obj, path.split("."), value, path)


def _replace(obj: object, parts: list[str], value: object, path: str) -> object:
    head, rest = parts[0], parts[1:]
    if not dataclasses.is_dataclass(obj) or head not in {f.name for f in dataclasses.fields(obj)}:
        raise FinanceInputError(path, "no such input field")
    new = _replace(getattr(obj, head), rest, value, path) if rest else value
    return dataclasses.replace(obj, **{head: new})  # type: ignore[arg-type]


def get_path(obj: object, path: str) -> object:
    """The value at dotted `path` of a nested dataclass."""
    for part in path.split("."):
        if not dataclasses.is_dataclass(obj) or not hasattr(obj, part):
            raise FinanceInputError(path, "no such input field")
        obj = getattr(obj, part)
    return obj
