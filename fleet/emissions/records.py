"""Plain typed inputs of the emissions calculation: metered or planned vehicle-days, leases, parties.

These are deliberately independent of the database tables so that the maths can be tested on hand-made
records; `fleet.emissions.sources` converts table rows into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

CLAIMANT_ROLES = ("lessee", "lessor")


@dataclass(frozen=True)
class VehicleDay:
    """One vehicle's activity on one day, metered (ex-post) or planned (ex-ante).

    km [km]; kwh_charger [kWh] metered at the charger (grid side); kwh_vehicle [kWh] measured by the vehicle
    (battery side, divided by the lease's charging efficiency when no charger reading exists); tonne_km [t·km];
    diesel_litres [L] diesel the replaced truck would have burnt (fuel records), for the fuel-based baseline.
    `row_ref` says where the record came from (file:line, table id) so a data-quality flag can point at it.
    """

    vehicle_id: str
    lessee_id: str
    depot_id: str
    day: date
    km: float
    kwh_charger: float | None = None
    kwh_vehicle: float | None = None
    tonne_km: float | None = None
    diesel_litres: float | None = None
    row_ref: str = ""


@dataclass(frozen=True)
class Lease:
    """A vehicle leased to a lessee, with the diesel truck it replaced and who claims its reduction.

    baseline_l_per_100km [L/100 km] of the replaced diesel model; battery_kwh [kWh] usable pack size (for the
    "kWh far above the battery" check); charging_efficiency [-] battery-side kWh / grid-side kWh (no sourced
    default exists in data/reference, so it must come with the lease when vehicle-side kWh is used);
    investment_cny [CNY] the lessor's outlay for the vehicle; leakage_fraction [-] of the baseline counted as
    leakage (0 when the displaced diesel truck is shown scrapped or not transferred, AMS-III.C LE, U).
    `service_start_year` is the year t = 1 of the technology-improvement factor IR_t (default: lease start).
    """

    lease_id: str
    vehicle_id: str
    lessee_id: str
    lessor_id: str
    start: date
    end: date | None
    baseline_model: str
    baseline_l_per_100km: float
    claimant: str = "lessee"
    depot_id: str = ""
    plate: str = ""
    vin: str = ""
    ev_model: str = ""
    battery_kwh: float | None = None
    charging_efficiency: float | None = None
    investment_cny: float | None = None
    service_start_year: int | None = None
    leakage_fraction: float = 0.0
    other_registrations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.claimant not in CLAIMANT_ROLES:
            raise ValueError(
                f"lease {self.lease_id}: field 'claimant' must be one of {CLAIMANT_ROLES}, got {self.claimant!r}"
            )
        if self.baseline_l_per_100km <= 0:
            raise ValueError(f"lease {self.lease_id}: field 'baseline_l_per_100km' must be > 0 [L/100 km]")
        if self.charging_efficiency is not None and not 0 < self.charging_efficiency <= 1:
            raise ValueError(f"lease {self.lease_id}: field 'charging_efficiency' must be in (0, 1]")
        if not 0 <= self.leakage_fraction <= 1:
            raise ValueError(f"lease {self.lease_id}: field 'leakage_fraction' must be in [0, 1]")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"lease {self.lease_id}: 'end' {self.end} is before 'start' {self.start}")

    @property
    def claimant_id(self) -> str:
        """The one party that claims this vehicle's reductions during the lease."""
        return self.lessee_id if self.claimant == "lessee" else self.lessor_id

    @property
    def first_service_year(self) -> int:
        return self.service_start_year if self.service_start_year is not None else self.start.year

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Party:
    """A lessee or lessor as named in a submission."""

    party_id: str
    name: str
    location: str = ""
    registration_code: str = ""  # e.g. the USCC (统一社会信用代码)


@dataclass(frozen=True)
class LeaseBook:
    """All leases, with lookup of the lease covering a vehicle on a day."""

    leases: tuple[Lease, ...]
    parties: dict[str, Party] = field(default_factory=dict)

    def lease_on(self, vehicle_id: str, day: date) -> Lease | None:
        for lease in self.leases:
            if lease.vehicle_id == vehicle_id and lease.covers(day):
                return lease
        return None

    def leases_of(self, party_id: str) -> list[Lease]:
        """Leases where the party is lessee or lessor, in a stable order."""
        found = [lease for lease in self.leases if party_id in (lease.lessee_id, lease.lessor_id)]
        return sorted(found, key=lambda lease: (lease.vehicle_id, lease.start, lease.lease_id))

    def party(self, party_id: str) -> Party:
        return self.parties.get(party_id, Party(party_id=party_id, name=party_id))
