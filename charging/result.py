"""The charging schedule: what `schedule()` and the baselines return, and its JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from charging.tariff import CostBreakdown


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class VehicleSchedule:
    """One vehicle's plan. `power_kw` is grid-side per slot (negative = discharge)."""

    id: str
    connector: str | None
    power_kw: tuple[float, ...]
    energy_departure_kwh: float
    plug_in_slot: int | None = None  # plugged-in interval [plug_in_slot, plug_out_slot)
    plug_out_slot: int | None = None
    shortfall_kwh: float = 0.0


@dataclass(frozen=True)
class Unmet:
    """A vehicle that will leave below its target: by how much [kWh] and why."""

    id: str
    shortfall_kwh: float
    reason: str


@dataclass(frozen=True)
class BaselineSummary:
    """A baseline's objective values and the optimiser's savings against it.

    `savings_cny`/`savings_pct` compare objective totals (energy + the demand charge on the peak increase, which
    a whole month pays for): what the optimiser minimises, never a headline. A report states `energy_savings_cny`
    and `night_savings_cny` (energy + the night's pro-rated demand share) on their own lines.
    """

    name: str
    cost: CostBreakdown
    peak_kw: float
    carbon_kg: float
    shortfall_kwh: float
    unmet_vehicles: int
    savings_cny: float | None = None
    savings_pct: float | None = None
    energy_savings_cny: float | None = None
    night_savings_cny: float | None = None
    night_savings_pct: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "cost": self.cost.to_json(),
            "peak_kw": round(self.peak_kw, 3),
            "carbon_kg": round(self.carbon_kg, 3),
            "shortfall_kwh": round(self.shortfall_kwh, 3),
            "unmet_vehicles": self.unmet_vehicles,
            "savings_cny": None if self.savings_cny is None else round(self.savings_cny, 2),
            "savings_pct": None if self.savings_pct is None else round(self.savings_pct, 2),
            "energy_savings_cny": _r(self.energy_savings_cny, 2),
            "night_savings_cny": _r(self.night_savings_cny, 2),
            "night_savings_pct": _r(self.night_savings_pct, 2),
        }

    def bill(self) -> dict[str, float | None]:
        """The baseline's night as billed and the plan's savings against it, flat for tables and reports
        (nightly, bench): energy and the pro-rated demand apart, energy saving and night-bill saving."""
        return {
            "energy_cny": round(self.cost.energy, 2),
            "demand_night_cny": _r(self.cost.demand_night, 2),
            "peak_kw": round(self.peak_kw, 1),
            "shortfall_kwh": round(self.shortfall_kwh, 3),
            "energy_saving_cny": _r(self.energy_savings_cny, 2),
            "night_saving_cny": _r(self.night_savings_cny, 2),
            "night_saving_pct": _r(self.night_savings_pct, 2),
        }


@dataclass(frozen=True)
class ChargingSchedule:
    """A site plan for one horizon, with its cost, peak, carbon, unmet vehicles and baselines."""

    status: str  # optimal | feasible | time_limit | infeasible | baseline | error
    objective: str  # cost | peak | carbon | baseline name
    slot_starts: tuple[str, ...]
    slot_minutes: int
    vehicles: tuple[VehicleSchedule, ...]
    site_import_kw: tuple[float, ...]  # net, negative = export
    cost: CostBreakdown
    peak_kw: float
    carbon_kg: float
    pv_curtailed_kw: tuple[float, ...] = ()
    battery_kw: tuple[float, ...] = ()  # stationary battery, grid side, + = charging
    battery_energy_kwh: tuple[float, ...] = ()  # at the end of each slot
    unmet: tuple[Unmet, ...] = ()
    baselines: Mapping[str, BaselineSummary] = field(default_factory=dict)
    solver: str = ""
    lp_bound: float | None = None  # discrete model: objective of the LP relaxation
    gap: float | None = None  # (objective - lp_bound) / |lp_bound|
    objective_value: float | None = None
    best_bound: float | None = (
        None  # sharing MIP or column generation: proven bound, when stronger than the LP bound
    )
    timings_s: Mapping[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    infeasible_slots: tuple[
        int, ...
    ] = ()  # status infeasible: slots where the base load alone breaks a limit

    @property
    def gap_to_best_bound(self) -> float | None:
        """Gap of the objective to the strongest proven bound (MIP or column bound if any, else the LP bound)."""
        bound = self.best_bound if self.best_bound is not None else self.lp_bound
        if bound is None or self.objective_value is None:
            return None
        return max(0.0, (self.objective_value - bound) / max(abs(bound), 1e-9))

    @property
    def objectives(self) -> dict[str, float]:
        return {"cost": self.cost.total, "peak_kw": self.peak_kw, "carbon_kg": self.carbon_kg}

    def vehicle(self, vehicle_id: str) -> VehicleSchedule:
        for v in self.vehicles:
            if v.id == vehicle_id:
                return v
        raise KeyError(vehicle_id)

    def to_json(self) -> dict[str, Any]:
        def r(values: tuple[float, ...]) -> list[float]:
            return [round(float(x), 4) for x in values]

        return {
            "status": self.status,
            "objective": self.objective,
            "objectives": {k: round(v, 4) for k, v in self.objectives.items()},
            "solver": self.solver,
            "lp_bound": self.lp_bound,
            "gap": self.gap,
            "objective_value": self.objective_value,
            "best_bound": self.best_bound,
            "gap_to_best_bound": self.gap_to_best_bound,
            "slot_minutes": self.slot_minutes,
            "slot_starts": list(self.slot_starts),
            "vehicles": [
                {
                    "id": v.id,
                    "connector": v.connector,
                    "power_kw": r(v.power_kw),
                    "energy_departure_kwh": round(v.energy_departure_kwh, 4),
                    "plug_in_slot": v.plug_in_slot,
                    "plug_out_slot": v.plug_out_slot,
                    "shortfall_kwh": round(v.shortfall_kwh, 4),
                }
                for v in self.vehicles
            ],
            "site_import_kw": r(self.site_import_kw),
            "pv_curtailed_kw": r(self.pv_curtailed_kw),
            "battery_kw": r(self.battery_kw),
            "battery_energy_kwh": r(self.battery_energy_kwh),
            "peak_kw": round(self.peak_kw, 4),
            "carbon_kg": round(self.carbon_kg, 4),
            "cost": self.cost.to_json(),
            "unmet": [
                {"id": u.id, "shortfall_kwh": round(u.shortfall_kwh, 4), "reason": u.reason}
                for u in self.unmet
            ],
            "baselines": {name: b.to_json() for name, b in self.baselines.items()},
            "timings_s": {k: round(v, 4) for k, v in self.timings_s.items()},
            "warnings": list(self.warnings),
            "infeasible_slots": list(self.infeasible_slots),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChargingSchedule:
        def cost(d: Mapping[str, Any]) -> CostBreakdown:
            return CostBreakdown(
                energy=float(d.get("energy", 0.0)),
                demand=float(d.get("demand", 0.0)),
                export=float(d.get("export", 0.0)),
                dr=float(d.get("dr", 0.0)),
                demand_night=None if d.get("demand_night") is None else float(d["demand_night"]),
            )

        return cls(
            status=str(data["status"]),
            objective=str(data["objective"]),
            slot_starts=tuple(data.get("slot_starts", ())),
            slot_minutes=int(data.get("slot_minutes", 15)),
            vehicles=tuple(
                VehicleSchedule(
                    id=str(v["id"]),
                    connector=v.get("connector"),
                    power_kw=tuple(float(x) for x in v["power_kw"]),
                    energy_departure_kwh=float(v["energy_departure_kwh"]),
                    plug_in_slot=v.get("plug_in_slot"),
                    plug_out_slot=v.get("plug_out_slot"),
                    shortfall_kwh=float(v.get("shortfall_kwh", 0.0)),
                )
                for v in data["vehicles"]
            ),
            site_import_kw=tuple(float(x) for x in data["site_import_kw"]),
            cost=cost(data["cost"]),
            peak_kw=float(data.get("peak_kw", max(data["site_import_kw"], default=0.0))),
            carbon_kg=float(data.get("carbon_kg", 0.0)),
            pv_curtailed_kw=tuple(float(x) for x in data.get("pv_curtailed_kw", ())),
            battery_kw=tuple(float(x) for x in data.get("battery_kw", ())),
            battery_energy_kwh=tuple(float(x) for x in data.get("battery_energy_kwh", ())),
            unmet=tuple(
                Unmet(str(u["id"]), float(u["shortfall_kwh"]), str(u["reason"]))
                for u in data.get("unmet", ())
            ),
            baselines={
                name: BaselineSummary(
                    name=name,
                    cost=cost(b["cost"]),
                    peak_kw=float(b["peak_kw"]),
                    carbon_kg=float(b["carbon_kg"]),
                    shortfall_kwh=float(b["shortfall_kwh"]),
                    unmet_vehicles=int(b["unmet_vehicles"]),
                    savings_cny=b.get("savings_cny"),
                    savings_pct=b.get("savings_pct"),
                    energy_savings_cny=b.get("energy_savings_cny"),
                    night_savings_cny=b.get("night_savings_cny"),
                    night_savings_pct=b.get("night_savings_pct"),
                )
                for name, b in (data.get("baselines") or {}).items()
            },
            solver=str(data.get("solver", "")),
            lp_bound=data.get("lp_bound"),
            gap=data.get("gap"),
            objective_value=data.get("objective_value"),
            best_bound=data.get("best_bound"),
            timings_s=dict(data.get("timings_s") or {}),
            warnings=tuple(data.get("warnings") or ()),
            infeasible_slots=tuple(int(t) for t in data.get("infeasible_slots") or ()),
        )
