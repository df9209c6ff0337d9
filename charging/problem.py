"""Depot charging scenario: typed, validated, JSON round-trip.

Conventions: power in [kW] on the grid side of a connector (positive = charging, negative = V2G discharge),
energy in [kWh] inside the vehicle battery; a connector's `efficiency` converts grid kWh into battery kWh when
charging (battery gets eff x grid) and battery kWh into grid kWh when discharging (grid gets eff x battery).
A slot [t, t + slot_minutes) is usable by a vehicle only if it lies wholly inside [arrival, departure).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from charging.tariff import Tariff, TariffError, tariff_from_json
from evfleet_data import EMISSION_FACTORS_CSV

DEFAULT_CARBON_KEY = (
    "grid.cn.mee.southern.2023"  # emission-factors.csv: Southern grid (Shenzhen), 2023 factors
)


class ScenarioError(ValueError):
    """Invalid scenario; the message names the vehicle/connector/field."""


def default_carbon_intensity() -> float:
    """Flat grid factor [kgCO2/kWh] from emission-factors.csv row `grid.cn.mee.southern.2023`.

    Used when the scenario gives no hourly profile; a flat factor makes the carbon objective minimise bought kWh.
    """
    with EMISSION_FACTORS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["key"] == DEFAULT_CARBON_KEY:
                return float(row["value"])
    raise ScenarioError(f"emission-factors.csv has no row {DEFAULT_CARBON_KEY}")  # pragma: no cover


@dataclass(frozen=True)
class Vehicle:
    """A truck staying at the depot. Energies [kWh], power [kW]."""

    id: str
    arrival: datetime
    departure: datetime
    capacity_kwh: float
    energy_arrival_kwh: float
    energy_target_kwh: float
    max_kw: float
    v2g: bool = False
    max_discharge_kw: float | None = None  # default max_kw
    min_energy_kwh: float = 0.0  # floor while discharging (V2G)
    taper_soc: float | None = None  # above this state of charge the power limit falls linearly to 0 at full
    connector: str | None = None  # fixed connector id, if the depot assigns it

    @property
    def need_kwh(self) -> float:
        return max(0.0, self.energy_target_kwh - self.energy_arrival_kwh)

    @property
    def discharge_kw(self) -> float:
        return self.max_kw if self.max_discharge_kw is None else self.max_discharge_kw

    def taper_limit(self, energy_kwh: float) -> float:
        """Grid-side power limit [kW] at a battery energy; max_kw below the taper SoC."""
        if self.taper_soc is None:
            return self.max_kw
        a, b = taper_coefficients(self)
        return max(0.0, min(self.max_kw, a - b * energy_kwh))


def taper_coefficients(vehicle: Vehicle) -> tuple[float, float]:
    """Limit p <= a - b x E [kW] with E the energy at the start of the slot (linear CC-CV taper to 0 at full)."""
    if vehicle.taper_soc is None:
        raise ValueError(
            f"taper_coefficients: vehicle {vehicle.id!r} has no taper_soc (it charges at max_kw to full)"
        )
    span = vehicle.capacity_kwh * (1.0 - vehicle.taper_soc)
    return vehicle.max_kw * vehicle.capacity_kwh / span, vehicle.max_kw / span


@dataclass(frozen=True)
class Connector:
    id: str
    max_kw: float
    efficiency: float = 1.0
    v2g: bool = False
    group: str | None = None
    power_step_kw: float | None = None  # discrete control: power in whole steps (e.g. 5 kW modules)
    min_kw: float | None = None  # discrete control: off, or at least this much while charging

    @property
    def discrete(self) -> bool:
        """Power steps or a minimum power make this connector's power a discrete (CP-SAT) decision."""
        return self.power_step_kw is not None or self.min_kw is not None

    def class_key(self) -> tuple[Any, ...]:
        """Connectors with the same key are interchangeable."""
        return (self.max_kw, self.efficiency, self.v2g, self.group, self.power_step_kw, self.min_kw)


@dataclass(frozen=True)
class PowerGroup:
    """A cabinet whose connectors share a power limit [kW] (sum of |grid-side power|)."""

    id: str
    max_kw: float


@dataclass(frozen=True)
class StationaryBattery:
    """Site battery. `efficiency` is one-way (applied on charge and on discharge)."""

    capacity_kwh: float
    max_kw: float
    efficiency: float = 1.0
    initial_kwh: float = 0.0
    min_kwh: float = 0.0
    final_min_kwh: float | None = None  # default initial_kwh: no free energy from draining the battery

    @property
    def final_floor(self) -> float:
        return self.initial_kwh if self.final_min_kwh is None else self.final_min_kwh


@dataclass(frozen=True)
class Site:
    import_limit_kw: float
    export_limit_kw: float = 0.0
    base_load_kw: tuple[float, ...] = ()  # per slot; empty = 0
    pv_kw: tuple[float, ...] = ()  # per slot; empty = 0
    battery: StationaryBattery | None = None


DR_KINDS = ("cap", "reduction", "reduction_reward", "discharge_reward")


@dataclass(frozen=True)
class DemandResponseEvent:
    """A demand-response event over [start, end).

    kinds: `cap` (site import <= max_import_kw), `reduction` (import <= reference_kw - reduction_kw),
    `reduction_reward` (rate x kWh of import below reference_kw), `discharge_reward` (rate x kWh exported).
    """

    id: str
    start: datetime
    end: datetime
    kind: str
    max_import_kw: float | None = None
    reduction_kw: float | None = None
    reference_kw: float | None = None
    rate_cny_per_kwh: float = 0.0
    source: str | None = None  # e.g. tariffs.json demand_response id

    @property
    def cap_kw(self) -> float | None:
        if self.kind == "cap":
            return self.max_import_kw
        if self.kind == "reduction":
            return max(0.0, float(self.reference_kw) - float(self.reduction_kw))  # type: ignore[arg-type]
        return None


@dataclass(frozen=True)
class Operability:
    """Limits that make a schedule runnable on real chargers.

    A truck's power changes at most `max_power_changes` times over the night (switching on and off count; a
    session at one power is 2 changes), and while it charges it draws at least `min_charge_kw` [kW]. The LP
    optimum is a bound; the operable schedule comes from the discrete model and reports its gap to that bound.
    """

    max_power_changes: int | None = None
    min_charge_kw: float | None = None

    @property
    def active(self) -> bool:
        return self.max_power_changes is not None or self.min_charge_kw is not None


@dataclass(frozen=True)
class ChargingProblem:
    """One depot, one horizon. Build with `ChargingProblem.from_json` or directly (then call `validate`)."""

    start: datetime
    end: datetime
    site: Site
    tariff: Tariff
    connectors: tuple[Connector, ...]
    vehicles: tuple[Vehicle, ...]
    slot_minutes: int = 15
    groups: tuple[PowerGroup, ...] = ()
    dr_events: tuple[DemandResponseEvent, ...] = ()
    carbon_kg_per_kwh: tuple[
        float, ...
    ] = ()  # per slot, or 24 hourly values (local hour); empty = flat default
    v2g_degradation_cny_per_kwh: float = 0.0  # cost per kWh discharged from a vehicle
    connector_sharing: bool | None = None  # None: share iff fewer connectors than vehicles
    name: str = ""
    operability: Operability = Operability()
    # When not every truck can be served: "min_largest_share" spreads the shortage, "max_ready" gets as many
    # trucks as possible the whole energy for their first route first (charging.fairness).
    shortfall_policy: str = "min_largest_share"
    # Set by the optimiser for "max_ready": vehicle id -> multiplier of its shortfall penalty (not in the JSON).
    shortfall_weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ---- time ------------------------------------------------------------------------------------------------
    @property
    def billing_night(self) -> date:
        """The local date the horizon starts on: its month is the billing month the night's peak belongs to."""
        return self.start.astimezone(ZoneInfo(self.tariff.timezone)).date()

    @property
    def n_slots(self) -> int:
        return int(round((self.end - self.start) / timedelta(minutes=self.slot_minutes)))

    @property
    def dt_h(self) -> float:
        return self.slot_minutes / 60.0

    @cached_property
    def slot_starts(self) -> tuple[datetime, ...]:
        step = timedelta(minutes=self.slot_minutes)
        return tuple(self.start + k * step for k in range(self.n_slots))

    def usable_range(self, vehicle: Vehicle) -> tuple[int, int]:
        """Slots [first, last) lying wholly inside the vehicle's stay (clipped to the horizon)."""
        step = timedelta(minutes=self.slot_minutes)
        first = max(0, math.ceil((vehicle.arrival - self.start) / step - 1e-9))
        last = min(self.n_slots, math.floor((vehicle.departure - self.start) / step + 1e-9))
        return first, max(first, last)

    def profile(self, values: tuple[float, ...]) -> np.ndarray:
        return np.zeros(self.n_slots) if not values else np.asarray(values, dtype=float)

    def carbon_profile(self) -> np.ndarray:
        """Carbon intensity per slot [kgCO2/kWh]."""
        if not self.carbon_kg_per_kwh:
            return np.full(self.n_slots, default_carbon_intensity())
        values = np.asarray(self.carbon_kg_per_kwh, dtype=float)
        if len(values) == self.n_slots:
            return values
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.tariff.timezone)
        return np.array([values[t.astimezone(zone).hour] for t in self.slot_starts])

    def import_caps(self) -> np.ndarray:
        """Site import limit per slot [kW], with DR caps applied over their windows."""
        caps = np.full(self.n_slots, float(self.site.import_limit_kw))
        for event in self.dr_events:
            cap = event.cap_kw
            if cap is not None:
                caps[self.event_mask(event)] = np.minimum(caps[self.event_mask(event)], cap)
        return caps

    def event_mask(self, event: DemandResponseEvent) -> np.ndarray:
        """Slots overlapping the event window."""
        step = timedelta(minutes=self.slot_minutes)
        return np.array([(t < event.end) and (t + step > event.start) for t in self.slot_starts], dtype=bool)

    def event_overlap(self, event: DemandResponseEvent) -> np.ndarray:
        """Fraction of each slot inside the event window (rewards are paid on the overlap only)."""
        step = timedelta(minutes=self.slot_minutes)
        out = np.zeros(self.n_slots)
        for k, t in enumerate(self.slot_starts):
            lo, hi = max(t, event.start), min(t + step, event.end)
            out[k] = max(0.0, (hi - lo) / step)
        return out

    @property
    def sharing(self) -> bool:
        """Whether connectors are shared (discrete assignment model)."""
        if self.connector_sharing is not None:
            return self.connector_sharing
        return len(self.connectors) < len(self.vehicles)

    def connector_by_id(self) -> dict[str, Connector]:
        return {c.id: c for c in self.connectors}

    # ---- validation ------------------------------------------------------------------------------------------
    def validate(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ScenarioError(message)

        for name in ("start", "end"):
            need(getattr(self, name).tzinfo is not None, f"{name}: timestamp must carry a time zone offset")
        need(
            isinstance(self.slot_minutes, int) and self.slot_minutes > 0,
            "slot_minutes: must be an integer > 0",
        )
        need(self.end > self.start, "end: must be after start")
        ops = self.operability
        need(
            ops.max_power_changes is None
            or (isinstance(ops.max_power_changes, int) and ops.max_power_changes >= 2),
            "operability.max_power_changes: an integer >= 2 (on and off), or empty",
        )
        need(
            ops.min_charge_kw is None or (math.isfinite(ops.min_charge_kw) and ops.min_charge_kw > 0),
            "operability.min_charge_kw: a number > 0 [kW], or empty",
        )
        need(
            self.shortfall_policy in ("min_largest_share", "max_ready"),
            "shortfall_policy: 'min_largest_share' or 'max_ready'",
        )
        span = (self.end - self.start) / timedelta(minutes=self.slot_minutes)
        need(abs(span - round(span)) < 1e-9, "end: horizon must be a whole number of slots")
        n = self.n_slots
        site = self.site
        need(site.import_limit_kw >= 0, "site.import_limit_kw: must be >= 0")
        need(site.export_limit_kw >= 0, "site.export_limit_kw: must be >= 0")
        for key in ("base_load_kw", "pv_kw"):
            values = getattr(site, key)
            need(len(values) in (0, n), f"site.{key}: needs {n} values (one per slot), got {len(values)}")
            need(
                all(v >= 0 and math.isfinite(v) for v in values),
                f"site.{key}: values must be finite and >= 0",
            )
        if site.battery is not None:
            b = site.battery
            need(b.capacity_kwh > 0, "site.battery.capacity_kwh: must be > 0")
            need(b.max_kw >= 0, "site.battery.max_kw: must be >= 0")
            need(0 < b.efficiency <= 1, "site.battery.efficiency: must be in (0, 1]")
            need(
                0 <= b.min_kwh <= b.initial_kwh <= b.capacity_kwh,
                "site.battery: need 0 <= min_kwh <= initial_kwh <= capacity_kwh",
            )
            need(
                b.min_kwh <= b.final_floor <= b.capacity_kwh,
                "site.battery.final_min_kwh: must be within [min_kwh, capacity_kwh]",
            )
        group_ids = [g.id for g in self.groups]
        need(len(set(group_ids)) == len(group_ids), "groups: duplicate group id")
        for g in self.groups:
            need(g.max_kw >= 0, f"groups[{g.id}].max_kw: must be >= 0")
        ids = [c.id for c in self.connectors]
        connector_ids = set(ids)
        need(not _duplicates(ids), "connectors: duplicate connector id " + ", ".join(_duplicates(ids)))
        need(
            len(self.connectors) > 0 or not self.vehicles,
            "connectors: a depot with vehicles needs connectors",
        )
        for c in self.connectors:
            need(c.max_kw > 0, f"connector {c.id}: max_kw must be > 0")
            need(0 < c.efficiency <= 1, f"connector {c.id}: efficiency must be in (0, 1]")
            need(c.group is None or c.group in group_ids, f"connector {c.id}: unknown group {c.group!r}")
            need(
                c.power_step_kw is None or 0 < c.power_step_kw <= c.max_kw,
                f"connector {c.id}: power_step_kw must be in (0, max_kw]",
            )
            need(
                c.min_kw is None or 0 <= c.min_kw <= c.max_kw,
                f"connector {c.id}: min_kw must be in [0, max_kw]",
            )
        vids = [v.id for v in self.vehicles]
        need(not _duplicates(vids), "vehicles: duplicate vehicle id " + ", ".join(_duplicates(vids)))
        fixed: dict[str, str] = {}
        for v in self.vehicles:
            where = f"vehicle {v.id}"
            for name in ("arrival", "departure"):
                need(getattr(v, name).tzinfo is not None, f"{where}: {name} must carry a time zone offset")
            need(v.departure > v.arrival, f"{where}: departure must be after arrival")
            need(v.capacity_kwh > 0, f"{where}: capacity_kwh must be > 0")
            need(
                0 <= v.energy_arrival_kwh <= v.capacity_kwh,
                f"{where}: energy_arrival_kwh must be within [0, capacity_kwh={v.capacity_kwh}]",
            )
            need(
                0 <= v.energy_target_kwh <= v.capacity_kwh,
                f"{where}: energy_target_kwh must be within [0, capacity_kwh={v.capacity_kwh}]",
            )
            need(v.max_kw > 0, f"{where}: max_kw must be > 0")
            need(v.discharge_kw >= 0, f"{where}: max_discharge_kw must be >= 0")
            need(
                0 <= v.min_energy_kwh <= v.capacity_kwh,
                f"{where}: min_energy_kwh must be within [0, capacity_kwh]",
            )
            need(v.taper_soc is None or 0 <= v.taper_soc < 1, f"{where}: taper_soc must be in [0, 1)")
            if v.connector is not None:
                need(v.connector in connector_ids, f"{where}: unknown connector {v.connector!r}")
                if v.connector in fixed:
                    other = next(x for x in self.vehicles if x.id == fixed[v.connector])
                    need(
                        other.departure <= v.arrival or v.departure <= other.arrival,
                        f"{where}: connector {v.connector} is also fixed for {other.id} with an overlapping stay",
                    )
                fixed[v.connector] = v.id
        need(
            len(self.carbon_kg_per_kwh) in (0, 24, n),
            f"carbon_kg_per_kwh: give 24 hourly values or {n} per-slot values, got {len(self.carbon_kg_per_kwh)}",
        )
        need(all(c >= 0 for c in self.carbon_kg_per_kwh), "carbon_kg_per_kwh: values must be >= 0")
        need(self.v2g_degradation_cny_per_kwh >= 0, "v2g_degradation_cny_per_kwh: must be >= 0")
        for e in self.dr_events:
            where = f"dr_events[{e.id}]"
            need(e.kind in DR_KINDS, f"{where}.type: must be one of {', '.join(DR_KINDS)}")
            need(e.end > e.start, f"{where}: end must be after start")
            if e.kind == "cap":
                need(
                    e.max_import_kw is not None and e.max_import_kw >= 0,
                    f"{where}.max_import_kw: needs a number >= 0",
                )
            if e.kind == "reduction":
                need(
                    e.reduction_kw is not None and e.reduction_kw >= 0,
                    f"{where}.reduction_kw: needs a number >= 0",
                )
                need(
                    e.reference_kw is not None and e.reference_kw >= 0,
                    f"{where}.reference_kw: needs a number >= 0",
                )
            if e.kind == "reduction_reward":
                need(
                    e.reference_kw is not None and e.reference_kw >= 0,
                    f"{where}.reference_kw: needs a number >= 0",
                )
            if e.kind in ("reduction_reward", "discharge_reward"):
                need(e.rate_cny_per_kwh >= 0, f"{where}.rate_cny_per_kwh: must be >= 0")
        try:
            self.tariff.energy_prices(self.slot_starts, self.slot_minutes)
            self.tariff.export_prices(self.slot_starts, self.slot_minutes)
        except TariffError as exc:
            raise ScenarioError(str(exc)) from exc

    # ---- JSON ------------------------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChargingProblem:
        return problem_from_json(data)

    def to_json(self) -> dict[str, Any]:
        return problem_to_json(self)


# ---- JSON helpers ------------------------------------------------------------------------------------------------
def _duplicates(ids: Sequence[str]) -> list[str]:
    """Ids given more than once, sorted (O(n): validation of 5,000 trucks was ~1 s with list.count)."""
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def _time(value: Any, where: str) -> datetime:
    try:
        out = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {value!r} is not an ISO 8601 timestamp") from exc
    if out.tzinfo is None:
        raise ScenarioError(f"{where}: {value!r} has no time zone offset (e.g. +08:00)")
    return out


def _num(obj: Mapping[str, Any], key: str, where: str, default: Any = ...) -> float:
    if key not in obj or obj[key] is None:
        if default is ...:
            raise ScenarioError(f"{where}: missing field {key!r}")
        return default
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScenarioError(f"{where}.{key}: expected a number, got {value!r}")
    return float(value)


def _opt(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    return None if obj.get(key) is None else _num(obj, key, where)


def _bool(obj: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}.{key}: expected true/false, got {value!r}")
    return value


def _series(obj: Mapping[str, Any], key: str, where: str, n: int) -> tuple[float, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return tuple([float(value)] * n)
    if not isinstance(value, list) or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in value
    ):
        raise ScenarioError(f"{where}.{key}: expected a number or a list of numbers")
    return tuple(float(x) for x in value)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key}: expected a list")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ScenarioError(f"{key}[{i}]: expected an object")
    return value


def _id(item: Mapping[str, Any], where: str) -> str:
    if "id" not in item or item["id"] in (None, ""):
        raise ScenarioError(f"{where}: missing field 'id'")
    return str(item["id"])


LEGACY_CAPACITY_KEY = "battery_kwh"
"""A vehicle's capacity before it was named `capacity_kwh` like routing's `Battery`; stored plans still hold it."""


def _capacity(v: Mapping[str, Any], where: str) -> float:
    """`capacity_kwh`, or the legacy key `battery_kwh` of older files; both at once is ambiguous."""
    if v.get(LEGACY_CAPACITY_KEY) is None:
        return _num(v, "capacity_kwh", where)
    if v.get("capacity_kwh") is not None:
        raise ScenarioError(f"{where}: give capacity_kwh or its legacy name {LEGACY_CAPACITY_KEY}, not both")
    return _num(v, LEGACY_CAPACITY_KEY, where)


def problem_from_json(data: Mapping[str, Any]) -> ChargingProblem:
    """Parse the scenario JSON (see docs/charging.md); raises ScenarioError naming the field."""
    if not isinstance(data, Mapping):
        raise ScenarioError("scenario: expected a JSON object")
    for key in ("start", "end", "site", "tariff", "connectors", "vehicles"):
        if key not in data:
            raise ScenarioError(f"scenario: missing field {key!r}")
    start, end = _time(data["start"], "start"), _time(data["end"], "end")
    slot_minutes = data.get("slot_minutes", 15)
    if not isinstance(slot_minutes, int) or isinstance(slot_minutes, bool) or slot_minutes <= 0:
        raise ScenarioError(f"slot_minutes: expected an integer > 0, got {slot_minutes!r}")
    n = int(round((end - start) / timedelta(minutes=slot_minutes))) if end > start else 0
    s = data["site"]
    if not isinstance(s, dict):
        raise ScenarioError("site: expected an object")
    battery = None
    if s.get("battery") is not None:
        b = s["battery"]
        if not isinstance(b, dict):
            raise ScenarioError("site.battery: expected an object")
        w = "site.battery"
        battery = StationaryBattery(
            capacity_kwh=_num(b, "capacity_kwh", w),
            max_kw=_num(b, "max_kw", w),
            efficiency=_num(b, "efficiency", w, 1.0),
            initial_kwh=_num(b, "initial_kwh", w, 0.0),
            min_kwh=_num(b, "min_kwh", w, 0.0),
            final_min_kwh=_opt(b, "final_min_kwh", w),
        )
    site = Site(
        import_limit_kw=_num(s, "import_limit_kw", "site"),
        export_limit_kw=_num(s, "export_limit_kw", "site", 0.0),
        base_load_kw=_series(s, "base_load_kw", "site", n),
        pv_kw=_series(s, "pv_kw", "site", n),
        battery=battery,
    )
    try:
        tariff = tariff_from_json(data["tariff"])
    except TariffError as exc:
        raise ScenarioError(str(exc)) from exc
    connectors = []
    for i, c in enumerate(_list(data, "connectors")):
        cid = _id(c, f"connectors[{i}]")
        w = f"connector {cid}"
        connectors.append(
            Connector(
                id=cid,
                max_kw=_num(c, "max_kw", w),
                efficiency=_num(c, "efficiency", w, 1.0),
                v2g=_bool(c, "v2g", w),
                group=None if c.get("group") in (None, "") else str(c["group"]),
                power_step_kw=_opt(c, "power_step_kw", w),
                min_kw=_opt(c, "min_kw", w),
            )
        )
    groups = [
        PowerGroup(id=_id(g, f"groups[{i}]"), max_kw=_num(g, "max_kw", f"group {g.get('id')}"))
        for i, g in enumerate(_list(data, "groups"))
    ]
    vehicles = []
    for i, v in enumerate(_list(data, "vehicles")):
        vid = _id(v, f"vehicles[{i}]")
        w = f"vehicle {vid}"
        for key in ("arrival", "departure"):
            if key not in v:
                raise ScenarioError(f"{w}: missing field {key!r}")
        vehicles.append(
            Vehicle(
                id=vid,
                arrival=_time(v["arrival"], f"{w}.arrival"),
                departure=_time(v["departure"], f"{w}.departure"),
                capacity_kwh=_capacity(v, w),
                energy_arrival_kwh=_num(v, "energy_arrival_kwh", w),
                energy_target_kwh=_num(v, "energy_target_kwh", w),
                max_kw=_num(v, "max_kw", w),
                v2g=_bool(v, "v2g", w),
                max_discharge_kw=_opt(v, "max_discharge_kw", w),
                min_energy_kwh=_num(v, "min_energy_kwh", w, 0.0),
                taper_soc=_opt(v, "taper_soc", w),
                connector=None if v.get("connector") in (None, "") else str(v["connector"]),
            )
        )
    events = []
    for i, e in enumerate(_list(data, "dr_events")):
        eid = str(e.get("id", f"dr{i}"))
        w = f"dr_events[{eid}]"
        for key in ("start", "end", "type"):
            if key not in e:
                raise ScenarioError(f"{w}: missing field {key!r}")
        events.append(
            DemandResponseEvent(
                id=eid,
                start=_time(e["start"], f"{w}.start"),
                end=_time(e["end"], f"{w}.end"),
                kind=str(e["type"]),
                max_import_kw=_opt(e, "max_import_kw", w),
                reduction_kw=_opt(e, "reduction_kw", w),
                reference_kw=_opt(e, "reference_kw", w),
                rate_cny_per_kwh=_num(e, "rate_cny_per_kwh", w, 0.0),
                source=e.get("source"),
            )
        )
    sharing = data.get("connector_sharing")
    if sharing is not None and not isinstance(sharing, bool):
        raise ScenarioError("connector_sharing: expected true, false or null")
    ops = data.get("operability") or {}
    if not isinstance(ops, Mapping):
        raise ScenarioError("operability: expected an object {max_power_changes, min_charge_kw}")
    changes = ops.get("max_power_changes")
    if changes is not None and (isinstance(changes, bool) or not isinstance(changes, int)):
        raise ScenarioError(f"operability.max_power_changes: expected an integer, got {changes!r}")
    operability = Operability(
        max_power_changes=changes, min_charge_kw=_opt(ops, "min_charge_kw", "operability")
    )
    return ChargingProblem(
        start=start,
        end=end,
        slot_minutes=slot_minutes,
        site=site,
        tariff=tariff,
        connectors=tuple(connectors),
        groups=tuple(groups),
        vehicles=tuple(vehicles),
        dr_events=tuple(events),
        carbon_kg_per_kwh=_series(data, "carbon_kg_per_kwh", "scenario", n),
        v2g_degradation_cny_per_kwh=_num(data, "v2g_degradation_cny_per_kwh", "scenario", 0.0),
        connector_sharing=sharing,
        name=str(data.get("name", "")),
        operability=operability,
        shortfall_policy=str(data.get("shortfall_policy") or "min_largest_share"),
    )


def problem_to_json(p: ChargingProblem) -> dict[str, Any]:
    """Scenario JSON that `problem_from_json` reads back to an equal problem."""
    site: dict[str, Any] = {
        "import_limit_kw": p.site.import_limit_kw,
        "export_limit_kw": p.site.export_limit_kw,
    }
    if p.site.base_load_kw:
        site["base_load_kw"] = list(p.site.base_load_kw)
    if p.site.pv_kw:
        site["pv_kw"] = list(p.site.pv_kw)
    if p.site.battery is not None:
        b = p.site.battery
        site["battery"] = {
            "capacity_kwh": b.capacity_kwh,
            "max_kw": b.max_kw,
            "efficiency": b.efficiency,
            "initial_kwh": b.initial_kwh,
            "min_kwh": b.min_kwh,
            "final_min_kwh": b.final_min_kwh,
        }
    out: dict[str, Any] = {
        "name": p.name,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "slot_minutes": p.slot_minutes,
        "site": site,
        "tariff": p.tariff.to_json(),
        "connectors": [
            {
                "id": c.id,
                "max_kw": c.max_kw,
                "efficiency": c.efficiency,
                "group": c.group,
                "v2g": c.v2g,
                "power_step_kw": c.power_step_kw,
                "min_kw": c.min_kw,
            }
            for c in p.connectors
        ],
        "groups": [{"id": g.id, "max_kw": g.max_kw} for g in p.groups],
        "vehicles": [
            {
                "id": v.id,
                "arrival": v.arrival.isoformat(),
                "departure": v.departure.isoformat(),
                "capacity_kwh": v.capacity_kwh,
                "energy_arrival_kwh": v.energy_arrival_kwh,
                "energy_target_kwh": v.energy_target_kwh,
                "max_kw": v.max_kw,
                "v2g": v.v2g,
                "max_discharge_kw": v.max_discharge_kw,
                "min_energy_kwh": v.min_energy_kwh,
                "taper_soc": v.taper_soc,
                "connector": v.connector,
            }
            for v in p.vehicles
        ],
        "dr_events": [
            {
                "id": e.id,
                "start": e.start.isoformat(),
                "end": e.end.isoformat(),
                "type": e.kind,
                "max_import_kw": e.max_import_kw,
                "reduction_kw": e.reduction_kw,
                "reference_kw": e.reference_kw,
                "rate_cny_per_kwh": e.rate_cny_per_kwh,
                "source": e.source,
            }
            for e in p.dr_events
        ],
        "v2g_degradation_cny_per_kwh": p.v2g_degradation_cny_per_kwh,
        "connector_sharing": p.connector_sharing,
    }
    if p.carbon_kg_per_kwh:
        out["carbon_kg_per_kwh"] = list(p.carbon_kg_per_kwh)
    if p.shortfall_policy != "min_largest_share":
        out["shortfall_policy"] = p.shortfall_policy
    if p.operability.active:
        out["operability"] = {
            "max_power_changes": p.operability.max_power_changes,
            "min_charge_kw": p.operability.min_charge_kw,
        }
    return out


def usable_mask(problem: ChargingProblem, vehicle: Vehicle) -> np.ndarray:
    first, last = problem.usable_range(vehicle)
    mask = np.zeros(problem.n_slots, dtype=bool)
    mask[first:last] = True
    return mask


def max_deliverable_kwh(
    problem: ChargingProblem,
    vehicle: Vehicle,
    connector_kw: float,
    efficiency: float,
    slots: Sequence[int] | None = None,
) -> float:
    """Battery kWh a vehicle could get alone at full power over its usable slots (taper included)."""
    first, last = problem.usable_range(vehicle)
    indices = range(first, last) if slots is None else slots
    energy = vehicle.energy_arrival_kwh
    for _ in indices:
        p = min(connector_kw, vehicle.taper_limit(energy))
        energy = min(vehicle.capacity_kwh, energy + efficiency * p * problem.dt_h)
    return energy - vehicle.energy_arrival_kwh
