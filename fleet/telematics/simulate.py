"""A frame generator for tests and demos: one day of a truck's GB/T 32960 traffic and the truth behind it.

Each truck charges overnight at the depot (parked charging, constant power), logs in, drives a tour of
segments at constant speed with stops between them, and logs out. Power while driving is the truck's
consumption [kWh/km] x speed; the pack voltage follows the state of charge linearly. The truth (km and kWh)
is integrated from the same piecewise-constant profile at full precision, so what the ingestion derives from
the quantised frames (0.1 km, 0.1 V, 0.1 A) can be checked against it. Synthetic: not a driving-cycle model.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from fleet.telematics.codec import encode
from fleet.telematics.gbt32960 import Version
from fleet.telematics.units import BEIJING, Location, Login, Logout, Realtime, VehicleData

PACK_KWH = 280.0  # [kWh] a 31 t urban e-truck's pack, order of magnitude only
V_EMPTY, V_FULL = 540.0, 640.0  # [V] pack voltage at 0 % and 100 % SoC (linear, synthetic)


@dataclass(frozen=True)
class Truth:
    vin: str
    day: dt.date
    km: float
    kwh_charged: float
    kwh_driven: float
    frames: int


def simulate_day(
    vin: str,
    day: dt.date,
    *,
    seed: int = 0,
    interval_s: int = 60,
    version: Version = Version.V2016,
    odometer_km: float = 20_000.0,
) -> tuple[list[bytes], Truth]:
    """Frames (in send order) of `vin` on local `day` and the truth they encode."""
    rng = random.Random(f"{vin}-{day.isoformat()}-{seed}")
    soc = rng.uniform(0.25, 0.45)
    odo = odometer_km + rng.uniform(0, 50_000)
    kwh_per_km = rng.uniform(0.9, 1.3)
    lon, lat = 114.0 + rng.uniform(-0.2, 0.2), 22.6 + rng.uniform(-0.1, 0.1)
    t = dt.datetime.combine(day, dt.time(0, 30), tzinfo=BEIJING)
    frames: list[bytes] = []
    km = charged = driven = 0.0
    seq = rng.randrange(1, 60000)

    def emit(speed: float, current: float, charging: int, status: int) -> None:
        volt = V_EMPTY + (V_FULL - V_EMPTY) * soc
        vd = VehicleData(
            status=status,
            charging=charging,
            mode=1,
            speed_kmh=round(speed, 1),
            odometer_km=round(odo, 1),
            voltage_v=round(volt, 1),
            current_a=round(current, 1),
            soc_pct=round(soc * 100),
            dcdc=1,
            gear=14 if speed else 0,
            insulation_kohm=8000,
            accelerator_pct=20
            if speed and version is Version.V2016
            else (0 if version is Version.V2016 else None),
            brake_pct=0 if version is Version.V2016 else None,
        )
        frames.append(encode(vin, Realtime(t, (vd, Location(round(lon, 6), round(lat, 6)))), version))

    def step(power_kw: float, speed: float, charging: int, status: int, seconds: int) -> None:
        """Hold one state for `seconds`, one frame per interval, integrating the truth exactly as reported."""
        nonlocal t, soc, odo, km, charged, driven
        for _ in range(max(1, seconds // interval_s)):
            volt = V_EMPTY + (V_FULL - V_EMPTY) * soc
            current = power_kw * 1000 / volt
            emit(speed, current, charging, status)
            kwh = power_kw * interval_s / 3600  # the truth: unquantised
            if charging == 1:
                charged += -kwh
            else:
                driven += kwh
            soc = min(1.0, max(0.0, soc - kwh / PACK_KWH))
            dist = speed * interval_s / 3600
            odo += dist
            km += dist
            t += dt.timedelta(seconds=interval_s)

    # Night: parked charging to ~95 %.
    frames.append(encode(vin, Login(t, seq, "8986" + vin[-16:].rjust(16, "0")[:16]), version))
    charge_kw = rng.choice([60.0, 90.0, 120.0])
    hours = (0.95 - soc) * PACK_KWH / charge_kw
    step(-charge_kw, 0.0, 1, 2, int(hours * 3600) // interval_s * interval_s)
    step(0.0, 0.0, 4, 2, 600)
    # Day: a tour from 08:00 of 10..16 legs with stops.
    t = max(t, dt.datetime.combine(day, dt.time(8, 0), tzinfo=BEIJING))
    for _ in range(rng.randint(10, 16)):
        speed = rng.uniform(18.0, 55.0)
        step(kwh_per_km * speed, speed, 3, 1, rng.randrange(8, 25) * 60)
        step(2.0, 0.0, 3, 1, rng.randrange(5, 15) * 60)  # stop: auxiliaries only
    emit(0.0, 0.0, 3, 2)  # parked, closes the last interval
    frames.append(encode(vin, Logout(t, seq), version))
    return frames, Truth(vin, day, km, charged, driven, len(frames))
