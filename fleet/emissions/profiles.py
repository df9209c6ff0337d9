"""Methodology profiles: the formulas of `data/reference/METHODOLOGY.md` as pure functions, and the presets.

Every formula below is graded U (unverified) in data/reference/METHODOLOGY.md unless said otherwise: it is what the secondary
sources say the methodology computes, and each docstring lists what must still be checked in the primary text.
Units: fuel [t], energy [kWh], emissions [tCO2] (or [tCO2e] for the GLEC well-to-wheel view).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from fleet.factors import FactorRegistry, VintageChoice, VintageRule

KG_PER_T = 1000.0
TDL_FORMS = ("multiply", "divide")
BASELINE_METHODS = ("distance", "fuel", "auto")


# --------------------------------------------------------------------------------------------------- formulas
def improvement_factor(ir_per_year: float, year_index: int, exponent_offset: int = 1) -> float:
    """IR_t = IR^(t − offset) [-], t = 1 in the first service year.

    Source: CDM AMS-III.C v16.0 (data/reference/METHODOLOGY.md §2.1, U); default IR = 0.99 is registry key
    `ams_iii_c.ir_default` (unverified). To confirm: whether the exponent is t − t0 with t0 = 1 (offset 1,
    giving 1.0 in year 1, the reading used by the reference case) or t (offset 0).
    """
    if year_index < 1:
        raise ValueError(f"year_index must be >= 1 (first service year is t = 1), got {year_index}")
    return ir_per_year ** (year_index - exponent_offset)


def baseline_distance_t(
    km: float, l_per_100km: float, density_kg_per_l: float, ef_t_per_t: float, ir_t: float = 1.0
) -> float:
    """Distance-based baseline BE = D × SFC/100 × ρ × EF_CO2 × IR_t [tCO2].

    Source: CDM AMS-III.C (EF_BL,km = SFC × NCV × EF_CO2 × IR_t, data/reference/METHODOLOGY.md §2.1, U) in the mass form of
    the evfleet calculator (§2.6); T/CSAE 235-2021 has the same shape without IR (§2.4, S). km [km],
    l_per_100km [L/100 km], density [kg/L], ef [tCO2/t fuel]. To confirm: AMS-III.C indices and units, whether
    SFC may come from the lease's replaced-model figure (OEM/test/fleet records) and the comparability evidence.
    """
    fuel_t = km * l_per_100km / 100.0 * density_kg_per_l / KG_PER_T
    return fuel_t * ef_t_per_t * ir_t


def baseline_fuel_t(diesel_litres: float, density_kg_per_l: float, ef_t_per_t: float) -> float:
    """Fuel-record baseline BE = litres × ρ × EF_CO2 [tCO2] (no IR: the records are the baseline's own).

    Source: AMS-III.C fuel-record variant (data/reference/METHODOLOGY.md §2.1, U). To confirm: which diesel records the
    methodology accepts (the displaced truck's historical fuel cards, a retained diesel control fleet).
    """
    return diesel_litres * density_kg_per_l / KG_PER_T * ef_t_per_t


def grid_energy_kwh(
    kwh_charger: float | None, kwh_vehicle: float | None, charging_efficiency: float | None
) -> float:
    """Grid-side energy EC_PJ [kWh]: the charger meter, else vehicle-side kWh ÷ charging efficiency.

    Source: data/reference/METHODOLOGY.md §2.6 (evfleet design). The charger reading wins because it is the one a verifier
    can match to an electricity bill (AMS-III.C monitoring, U).
    """
    if kwh_charger is not None:
        return kwh_charger
    if kwh_vehicle is None:
        raise ValueError("no energy reading: neither kwh_charger nor kwh_vehicle is given")
    if charging_efficiency is None or not 0 < charging_efficiency <= 1:
        raise ValueError(
            f"vehicle-side kWh needs a charging efficiency in (0, 1], got {charging_efficiency!r}"
        )
    return kwh_vehicle / charging_efficiency


def transmission_loss_multiplier(tdl: float, form: str = "multiply") -> float:
    """(1 + TDL) (TOOL05 form) or 1/(1 − TDL) (older texts) [-].

    Source: CDM TOOL05 v03.0 generic form PE = EC × EF × (1 + TDL) (data/reference/METHODOLOGY.md §2.2, U); the 1/(1 − TDL)
    alternative is noted in §2.1. To confirm: which form AMS-III.C v16.0 prescribes.
    """
    if form not in TDL_FORMS:
        raise ValueError(f"TDL form must be one of {TDL_FORMS}, got {form!r}")
    if not 0 <= tdl < 1:
        raise ValueError(f"TDL must be in [0, 1), got {tdl}")
    return 1.0 + tdl if form == "multiply" else 1.0 / (1.0 - tdl)


def project_t(grid_kwh: float, grid_ef_kg_per_kwh: float, tdl_multiplier: float = 1.0) -> float:
    """Project emissions PE = EC × EF_EL × TDL multiplier [tCO2] (kgCO2/kWh × kWh / 1000).

    Source: AMS-III.C PE_y and TOOL05 (data/reference/METHODOLOGY.md §2.1–2.2, U); T/CSAE 235 project = km × energy per km ×
    EF (§2.4, S), which equals metered kWh × EF.
    """
    return grid_kwh * grid_ef_kg_per_kwh * tdl_multiplier / KG_PER_T


def leakage_t(baseline_t: float, leakage_fraction: float) -> float:
    """LE [tCO2] as a fraction of the baseline; 0 when displaced trucks are scrapped or not transferred.

    Source: AMS-III.C leakage (data/reference/METHODOLOGY.md §2.1, U): avoided upstream diesel is not credited and battery
    manufacture is outside the boundary. To confirm: the leakage table of v16.0.
    """
    return baseline_t * leakage_fraction


def reduction_t(baseline: float, project: float, leakage: float) -> float:
    """ER = BE − PE − LE [tCO2], signed.

    Source: AMS-III.C / T/CSAE 235 (data/reference/METHODOLOGY.md §2.1, §2.4). data/reference/METHODOLOGY.md §2.6 writes max(0, ·); evfleet
    keeps the sign so that a vehicle-period that emits more than its baseline is reported, not hidden (issue 5).
    """
    return baseline - project - leakage


def intensity_g_per_tkm(emissions_t: float, tonne_km: float) -> float | None:
    """GHG intensity [gCO2e/t·km] = emissions / Σ tkm (ISO 14083 Intensity_TOC, data/reference/METHODOLOGY.md §2.5, U)."""
    if tonne_km <= 0:
        return None
    return emissions_t * 1e6 / tonne_km


# --------------------------------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class Profile:
    """A named methodology with its factor keys, losses, improvement factor and boundary (data/reference/METHODOLOGY.md §1).

    `grid_series` is chosen through the vintage rule; `grid_key` fixes one key instead (e.g. the TOOL05
    conservative default). `tdl_key` None means no T&D losses. `wtw` switches on the GLEC well-to-wheel view:
    the diesel factor is then kgCO2e/kg WTW and the tank-to-wheel figures use `ttw_diesel_ef_key`.
    """

    profile_id: str
    name: str
    version: str
    source: str
    boundary: str
    diesel_ef_key: str
    density_key: str = "diesel.density.planning"
    grid_series: str = "grid.cn.mee.national"
    grid_key: str | None = None
    grid_basis: str = ""
    tdl_key: str | None = None
    tdl_form: str = "multiply"
    ir_key: str | None = None
    ir_exponent_offset: int = 1
    baseline_method: str = "auto"
    vintage: VintageRule = field(default_factory=VintageRule)
    wtw: bool = False
    ttw_diesel_ef_key: str = "diesel.ipcc2006.ef_co2_per_t"
    electricity_wtw_key: str | None = None
    baseline_option: str = ""
    gases: str = (
        "CO2 only: CH4 and N2O (about 1 % of diesel CO2e, registry key diesel.road.ch4_n2o_share, "
        "unverified) are excluded; figures labelled tCO2e are tCO2"
    )
    to_confirm: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.tdl_form not in TDL_FORMS:
            raise ValueError(f"profile {self.profile_id}: tdl_form must be one of {TDL_FORMS}")
        if self.baseline_method not in BASELINE_METHODS:
            raise ValueError(f"profile {self.profile_id}: baseline_method must be one of {BASELINE_METHODS}")

    def with_options(self, **changes: object) -> Profile:
        """A copy with some options changed (e.g. `tdl_key=None`, `grid_series=...`)."""
        return replace(self, **changes)


AMS_III_C = Profile(
    profile_id="ams-iii-c",
    name="CDM AMS-III.C Emission reductions by electric and hybrid vehicles (distance-based, fuel records where held)",
    version="v16.0 (valid from 2022-09-08); equations from secondary sources, unconfirmed",
    source="UNFCCC cdm.unfccc.int/methodologies/DB/HLOH5R7J6M96A23TFECTQ1BVIE24CK (data/reference/METHODOLOGY.md §2.1)",
    boundary="TTW CO2; no upstream diesel credit; battery manufacture outside",
    diesel_ef_key="diesel.ipcc2006.ef_co2_per_t",
    grid_key="grid.cdm_tool05.conservative_default",
    grid_basis=(
        "CDM TOOL05 v03.0 conservative default 1.3 tCO2/MWh, the option AMS-III.C leaves when no grid emission "
        "factor is calculated: the TOOL07 combined margin of the Southern grid (the other prescribed option) was "
        "not located (data/reference/METHODOLOGY.md §1, §2.2). The MEE grid average is not an AMS-III.C option"
    ),
    tdl_key="tdl.cdm_tool05.project_default",
    ir_key="ams_iii_c.ir_default",
    baseline_option=(
        "AMS-III.C distance-based baseline option: BE = Σ EF_BL,km × DD, EF_BL,km = SFC × NCV × EF_CO2 × IR_t, "
        "SFC = the L/100 km of the diesel model each lease replaced; the fuel-record option (litres × density × "
        "EF_CO2) on vehicle-days where diesel records are held"
    ),
    to_confirm=(
        "AMS-III.C v16.0 equations, indices and units (data/reference/METHODOLOGY.md §6 item 1)",
        "IR_t exponent base: 0.99^(t-1) used",
        "TDL form: (1 + TDL) used; older texts 1/(1 - TDL)",
        "TDL value: TOOL05 project-side default 20 % (unverified)",
        (
            "grid factor: TOOL05 conservative default 1.3 tCO2/MWh used (value unverified, TOOL05 text not read); "
            "the TOOL07 combined margin of the Southern grid was not located (data/reference/METHODOLOGY.md §6 item 5)"
        ),
        "leakage table (displaced vehicles scrapped or not transferred)",
    ),
)

TCSAE_235 = Profile(
    profile_id="tcsae-235",
    name="T/CSAE 235-2021 电动汽车出行碳减排核算方法 (EV trip carbon-reduction accounting)",
    version="2021 (group standard, China SAE, Dec 2021)",
    source="m.fpigeon.com/car/2021/12/20/46312.html (data/reference/METHODOLOGY.md §2.4)",
    boundary="per standard (baseline and project per km; factors not stated in the sources read)",
    diesel_ef_key="diesel.cn_guideline.ef_co2_per_t",
    grid_series="grid.cn.mee.national",
    grid_basis="MEE national grid average, reporting year Y uses data year Y-2",
    to_confirm=(
        "which diesel factor, grid factor, TDL and vintage T/CSAE 235-2021 prescribes (data/reference/METHODOLOGY.md §2.4)",
        "China diesel guideline parameters 42.652 GJ/t, 20.20 tC/TJ, 98 % (data/reference/METHODOLOGY.md §6 item 4)",
    ),
)

GLEC_WTW = Profile(
    profile_id="glec-wtw",
    name="GLEC Framework v3 / ISO 14083:2023 well-to-wheel disclosure",
    version="ISO 14083:2023; GLEC Framework v3.2 default factors",
    source="ISO 14083:2023 (standards.iteh.ai); Smart Freight Centre GLEC v3 (data/reference/METHODOLOGY.md §2.5)",
    boundary="WTW (reported with TTW beside it); BEV TTW = 0",
    diesel_ef_key="diesel.glec_v3_2.wtw_per_kg",
    grid_series="grid.cn.mee.national",
    grid_basis=(
        "no China well-to-wheel electricity factor (generation, fuel supply, grid losses) is sourced: the MEE "
        "national grid-average CO2 factor with the TOOL05 20 % TDL gives only a partial, generation-CO2 figure; "
        "the WTW reduction is withheld"
    ),
    tdl_key="tdl.cdm_tool05.project_default",
    wtw=True,
    electricity_wtw_key=None,
    gases="CO2e for the diesel WTW factor; the partial electricity figure is CO2 only (generation)",
    baseline_method="distance",
    baseline_option="distance-based: metered km × the replaced diesel model's L/100 km × GLEC WTW diesel factor",
    to_confirm=(
        (
            "China WTW electricity factor incl. fuel supply upstream and T&D (not located, "
            "data/reference/METHODOLOGY.md §6 item 8): until it is sourced the WTW reduction is withheld"
        ),
        "GLEC primary fuel table: 3.87 kgCO2e/kg diesel WTW (data/reference/METHODOLOGY.md §6 item 8)",
        "distance adjustment factor (DAF) not applied: actual km used",
    ),
)

PROFILES: dict[str, Profile] = {p.profile_id: p for p in (AMS_III_C, TCSAE_235, GLEC_WTW)}
ALIASES = {"t-csae-235": "tcsae-235"}  # data/reference/METHODOLOGY.md §1 spells the profile t-csae-235


def get_profile(profile_id: str) -> Profile:
    try:
        return PROFILES[ALIASES.get(profile_id, profile_id)]
    except KeyError:
        raise ValueError(f"unknown profile {profile_id!r}; choose one of {sorted(PROFILES)}") from None


# ----------------------------------------------------------------------------------------- resolved parameters
@dataclass(frozen=True)
class Parameter:
    """A parameter value as used in a calculation, with its registry key and source."""

    name: str
    value: float
    unit: str
    key: str
    data_year: int | None
    source: str
    confidence: str

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "key": self.key,
            "data_year": self.data_year,
            "source": self.source,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class ResolvedProfile:
    """A profile's factors fixed for one reporting year: every value, its key and the vintage record."""

    profile: Profile
    reporting_year: int
    diesel_ef: Parameter
    density: Parameter
    grid_ef: Parameter
    vintage: VintageChoice | None
    tdl: Parameter | None
    tdl_multiplier: float
    ir_per_year: Parameter | None
    ttw_diesel_ef: Parameter | None
    withheld: str | None = None

    @property
    def reduction_withheld(self) -> bool:
        """True when the profile's reduction cannot be stated (a factor the boundary needs is not sourced)."""
        return self.withheld is not None

    def parameters(self) -> list[Parameter]:
        found = [self.diesel_ef, self.density, self.grid_ef, self.tdl, self.ir_per_year, self.ttw_diesel_ef]
        return [p for p in found if p is not None]


def _parameter(registry: FactorRegistry, name: str, key: str) -> Parameter:
    factor = registry.get(key)
    return Parameter(
        name=name,
        value=factor.value,
        unit=factor.unit,
        key=factor.key,
        data_year=factor.data_year,
        source=factor.source,
        confidence=factor.confidence,
    )


def resolve_profile(profile: Profile, registry: FactorRegistry, reporting_year: int) -> ResolvedProfile:
    """Look up every factor the profile needs for `reporting_year`, applying the vintage rule explicitly.

    A WTW profile uses its WTW electricity factor when the registry has it; otherwise the grid factor below is a
    partial (generation CO2) figure and `withheld` states the data gap.
    """
    withheld = None
    if profile.wtw and profile.electricity_wtw_key and profile.electricity_wtw_key in registry:
        profile = profile.with_options(grid_key=profile.electricity_wtw_key)
    elif profile.wtw:
        withheld = (
            "WTW reduction withheld: no well-to-wheel electricity factor for China (generation, fuel supply and "
            "grid losses) is in data/reference/emission-factors.csv (data/reference/METHODOLOGY.md §2.5, §6 item 8); "
            "pairing the WTW diesel factor with a CO2-only grid factor would overstate the reduction. Intensities "
            "[gCO2e/t·km] are reported instead; the electricity figure is partial (generation CO2 only)"
        )
    if profile.grid_key is not None:
        grid = _parameter(registry, "grid emission factor", profile.grid_key)
        vintage = None
    else:
        vintage = registry.grid_factor_for(profile.grid_series, reporting_year, profile.vintage)
        grid = _parameter(registry, "grid emission factor", vintage.key)
    tdl = (
        _parameter(registry, "transmission and distribution losses", profile.tdl_key)
        if profile.tdl_key
        else None
    )
    return ResolvedProfile(
        profile=profile,
        reporting_year=reporting_year,
        diesel_ef=_parameter(
            registry,
            "diesel emission factor (WTW)" if profile.wtw else "diesel emission factor",
            profile.diesel_ef_key,
        ),
        density=_parameter(registry, "diesel density", profile.density_key),
        grid_ef=grid,
        vintage=vintage,
        tdl=tdl,
        tdl_multiplier=transmission_loss_multiplier(tdl.value if tdl else 0.0, profile.tdl_form),
        ir_per_year=_parameter(registry, "technology improvement factor", profile.ir_key)
        if profile.ir_key
        else None,
        ttw_diesel_ef=_parameter(registry, "diesel emission factor (TTW)", profile.ttw_diesel_ef_key)
        if profile.wtw
        else None,
        withheld=withheld,
    )
