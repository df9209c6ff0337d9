"""Time-dependent travel times: the model of Ichoua, Gendreau & Potvin (2003), pure maths.

Ichoua, S., Gendreau, M., Potvin, J.-Y. (2003). Vehicle dispatching with time-dependent travel times.
European Journal of Operational Research 144(2):379-396. The day is cut into periods with a constant speed each;
a vehicle's travel time on an arc follows from integrating its speed over the periods it crosses, so leaving
later never means arriving earlier (first-in-first-out, FIFO), unlike a travel time that merely jumps with the
departure period.

Here a period carries a speed FACTOR applied to the arc's free-flow travel time ``tau`` [min] (the constant
travel time of ``routing.problem``): at factor ``f`` the vehicle covers ``f`` free-flow minutes per minute.
Clock: problem minute ``t`` is the time of day ``(clock0 + t) mod 1440`` (``clock_origin``). Units [min], [km],
[km/h]. The semantics are written in the ``routing.problem`` docstring; ``routing.check`` re-implements them.
"""

from __future__ import annotations

import math
from datetime import datetime

from routing.problem import DAY_MINUTES, SpeedProfile

SHENZHEN_RUSH_HOUR = SpeedProfile(
    periods=(
        (0.0, 1.0),
        (420.0, 0.80),
        (540.0, 0.90),
        (1020.0, 0.63),
        (1140.0, 1.0),
    ),
    name="shenzhen-rush-hour",
)
"""Default Shenzhen profile, factors on a vehicle's free-flow (off-peak) speed. ASSUMPTION until sourced.

What is sourced (grade ``secondary``, Shenzhen Daily 2020-08-11, "Fewer cars on roads as restrictions
reimposed", quoting the traffic police): average car speed on major roads 36.22 km/h in the morning peak and
28.15 km/h in the evening peak; the evening peak is 17:00-19:00 (Shenzhen Daily 2020-03-05). ASSUMPTIONS: a
free-flow urban speed of 45 km/h (so 36.22/45 = 0.80 and 28.15/45 = 0.63), a morning peak 07:00-09:00, a
day-time factor of 0.90 between the peaks and free flow at night; trucks are taken to slow down in the same
proportion as cars. Replace by measured link speeds (e.g. from a road-network provider) when available."""


def clock_origin(time_origin: datetime | None) -> float:
    """Time of day of problem minute 0 [min]: the hour and minute of ``time_origin``, 0 (midnight) if None."""
    if time_origin is None:
        return 0.0
    return time_origin.hour * 60.0 + time_origin.minute + time_origin.second / 60.0


def _period(profile: SpeedProfile, clock: float) -> tuple[float, float, float]:
    """(start, end, factor) of the period holding ``clock`` in [0, 1440) [min of the day]."""
    periods = profile.periods
    k = len(periods) - 1
    while periods[k][0] > clock:
        k -= 1
    end = periods[k + 1][0] if k + 1 < len(periods) else DAY_MINUTES
    return periods[k][0], end, periods[k][1]


def arrival_after(
    depart_min: float, freeflow_min: float, profile: SpeedProfile, clock0: float = 0.0
) -> float:
    """Arrival [min] when leaving at ``depart_min`` on an arc of free-flow travel time ``freeflow_min`` [min]."""
    left = freeflow_min
    if left <= 0.0:
        return depart_min
    day = math.floor((clock0 + depart_min) / DAY_MINUTES) * DAY_MINUTES
    # Time of day, kept exact at period ends; at least 0 (floor(-5e-324 / 1440) is -0.0: a negative clock, no period).
    clock = max(0.0, clock0 + depart_min - day)
    for _ in range(1_000_000):
        _, end, f = _period(profile, clock)
        room = (end - clock) * f  # free-flow minutes coverable before the period ends
        if room >= left:
            return day + clock + left / f - clock0
        left -= room
        clock = end
        if clock >= DAY_MINUTES:
            day, clock = day + DAY_MINUTES, 0.0
    raise RuntimeError("arrival_after: more than a million periods crossed")  # pragma: no cover


def arrival_time(
    depart_min: float, distance_km: float, base_speed_kmh: float, profile: SpeedProfile
) -> float:
    """Arrival [min] on an arc of ``distance_km`` at free-flow speed ``base_speed_kmh``, leaving at ``depart_min``
    (clock at minute 0 = midnight)."""
    return arrival_after(depart_min, distance_km / base_speed_kmh * 60.0, profile)


def latest_departure(
    arrive_by: float, freeflow_min: float, profile: SpeedProfile, clock0: float = 0.0
) -> float:
    """Latest departure [min] that arrives no later than ``arrive_by`` (the inverse of ``arrival_after``; exact
    because arrival is continuous and strictly increasing in the departure time)."""
    left = freeflow_min
    if left <= 0.0:
        return arrive_by
    day = math.floor((clock0 + arrive_by) / DAY_MINUTES) * DAY_MINUTES
    clock = clock0 + arrive_by - day
    for _ in range(1_000_000):
        if clock <= 0.0:  # a period start belongs to the period it opens: step back into the previous day
            day, clock = day - DAY_MINUTES, DAY_MINUTES
        start, _, f = _period(profile, math.nextafter(clock, -math.inf))
        room = (clock - start) * f
        if room >= left:
            return day + clock - left / f - clock0
        left -= room
        clock = start
    raise RuntimeError("latest_departure: more than a million periods crossed")  # pragma: no cover


def conservative_factor(
    profile: SpeedProfile, start: float | None = None, end: float | None = None, clock0: float = 0.0
) -> float:
    """The slowest factor met between problem minutes ``start`` and ``end`` (the whole day when either is None
    or they span a day): ``freeflow / factor`` bounds every travel time within that span from above. Used by
    the OR-Tools model and the search with a vehicle type's shift, so that every route they accept is feasible
    exactly: its exact arrivals are no later than the bounded ones, hence inside the shift too (FIFO)."""
    if start is None or end is None or end - start >= DAY_MINUTES:
        return profile.slowest
    lo = clock0 + start - math.floor((clock0 + start) / DAY_MINUTES) * DAY_MINUTES
    hi = lo + (end - start)
    slow = math.inf
    for day in (0.0, DAY_MINUTES):  # the span may run past midnight into the next day
        for k, (a, f) in enumerate(profile.periods):
            b = profile.periods[k + 1][0] if k + 1 < len(profile.periods) else DAY_MINUTES
            if day + a <= hi and day + b > lo:
                slow = min(slow, f)
    return slow
