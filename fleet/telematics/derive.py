"""Per vehicle and local day: distance, energy charged and driven, and the state-of-charge trace (pure).

- km [km]: the sum of positive odometer steps between consecutive samples, booked on the day of the later
  sample (a trip over midnight is split where the samples split it). A step backwards (odometer reset, a
  re-sent old frame out of order after sorting cannot cause one) is ignored and counted in `odometer_resets`.
- Energy [kWh]: voltage x current integrated over time with the left-rectangle rule: sample i's power holds
  until sample i+1. Intervals longer than `max_gap_s` are not integrated (the data do not say what happened) and
  their length is reported as `gap_s`. Sign: positive current = the pack discharges (see docs/telematics.md).
  `kwh_charged` is the energy into the pack while the vehicle reports parked charging (charging state 1);
  `kwh_driven` is the net energy out of the pack at every other time (regeneration included, netted).
- SoC trace: (local time, %) of every sample whose SoC changed, first and last sample always kept.

Duplicates (the same collection time twice, e.g. a real-time frame and its re-sent copy) count once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from fleet.telematics.units import BEIJING, VehicleData

PARKED_CHARGING = 1
DEFAULT_MAX_GAP_S = 300.0


@dataclass(frozen=True)
class Sample:
    time: dt.datetime
    odometer_km: float | None
    voltage_v: float | None
    current_a: float | None
    soc_pct: int | None
    charging: int | None

    @classmethod
    def of(cls, time: dt.datetime, v: VehicleData) -> Sample:
        return cls(time, v.odometer_km, v.voltage_v, v.current_a, v.soc_pct, v.charging)


@dataclass
class DayMetrics:
    day: dt.date
    km: float = 0.0
    kwh_charged: float = 0.0
    kwh_driven: float = 0.0
    samples: int = 0
    gap_s: float = 0.0
    odometer_resets: int = 0
    soc_trace: list[tuple[str, int]] = field(default_factory=list)


def derive_days(samples: Iterable[Sample], max_gap_s: float = DEFAULT_MAX_GAP_S) -> dict[dt.date, DayMetrics]:
    """Daily metrics of one vehicle from its samples (any order; duplicates by time dropped)."""
    by_time: dict[dt.datetime, Sample] = {}
    for s in samples:
        by_time.setdefault(s.time, s)
    ordered = [by_time[t] for t in sorted(by_time)]
    days: dict[dt.date, DayMetrics] = {}

    def day_of(s: Sample) -> DayMetrics:
        d = s.time.astimezone(BEIJING).date()
        return days.setdefault(d, DayMetrics(d))

    last_odo: float | None = None
    last_soc: dict[dt.date, int | None] = defaultdict(lambda: None)
    last_sample: dict[dt.date, Sample] = {}
    for i, s in enumerate(ordered):
        m = day_of(s)
        m.samples += 1
        if s.soc_pct is not None:
            last_sample[m.day] = s
        if s.odometer_km is not None:
            if last_odo is not None:
                step = s.odometer_km - last_odo
                if step >= 0:
                    m.km += step
                else:
                    m.odometer_resets += 1
            last_odo = s.odometer_km
        if s.soc_pct is not None and s.soc_pct != last_soc[m.day]:
            m.soc_trace.append((s.time.astimezone(BEIJING).isoformat(timespec="seconds"), s.soc_pct))
            last_soc[m.day] = s.soc_pct
        if i + 1 < len(ordered):
            dt_s = (ordered[i + 1].time - s.time).total_seconds()
            if dt_s > max_gap_s:
                m.gap_s += dt_s
            elif s.voltage_v is not None and s.current_a is not None:
                kwh = s.voltage_v * s.current_a * dt_s / 3.6e6
                if s.charging == PARKED_CHARGING:
                    m.kwh_charged += max(-kwh, 0.0)
                else:
                    m.kwh_driven += kwh
    for m in days.values():  # the day's last sample closes the trace
        last = last_sample.get(m.day)
        if last is not None and last.soc_pct is not None:
            stamp = (last.time.astimezone(BEIJING).isoformat(timespec="seconds"), last.soc_pct)
            if not m.soc_trace or m.soc_trace[-1] != stamp:
                m.soc_trace.append(stamp)
        m.km, m.kwh_charged, m.kwh_driven = round(m.km, 3), round(m.kwh_charged, 4), round(m.kwh_driven, 4)
    return days
