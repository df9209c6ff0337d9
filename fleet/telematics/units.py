"""GB/T 32960.3 data units: login, real-time and re-sent data, logout, heartbeat and time sync (pure).

Values are decoded to engineering units with the standard's scaling, as publicly described:

======================  ======  ==============================================  =========================
field                   bytes   raw -> value                                    source
======================  ======  ==============================================  =========================
speed                   WORD    x 0.1 km/h (0..2200)                            EMQX data exchange guide
odometer (累计里程)      DWORD   x 0.1 km (0..9 999 999)                         EMQX data exchange guide
total voltage           WORD    x 0.1 V (0..10000)                              EMQX data exchange guide
total current           WORD    x 0.1 A - 1000 A (0..20000 -> -1000..+1000 A)   EMQX data exchange guide
state of charge         BYTE    1 % (0..100)                                    EMQX data exchange guide
insulation resistance   WORD    1 kOhm (0..60000)                               EMQX data exchange guide
longitude, latitude     DWORD   x 1e-6 degree; status bit1 south, bit2 west     EMQX guide, GB/T 32960 t.15
cell voltage (extreme)  WORD    x 0.001 V                                       CSDN GB/T 32960.3 notes
temperature (extreme)   BYTE    1 degC - 40 degC                                 CSDN GB/T 32960.3 notes
======================  ======  ==============================================  =========================

A raw value of 0xFE/0xFFFE/0xFFFFFFFE ("abnormal") or 0xFF/0xFFFF/0xFFFFFFFF ("invalid") decodes to None and
encodes back as "invalid". The 2025 revision (``$$``) keeps these fields and their order in the vehicle data
(type 0x01) but drops the two pedal bytes (18 instead of 20 bytes), adds a coordinate-system byte to the
location (0x05), moves alarms to type 0x06 (with a general-fault level list) and has no extreme-values type;
this follows the EMQX gateway's 2025 parser (apps/emqx_gateway_gbt32960/src/emqx_gbt32960_frame.erl, PR
#17013), the only public field-level description found. The scaling of 2025 fields is assumed unchanged from
2016 (unverified: the 2025 text was not available).

Times are 6 bytes (year - 2000, month, day, hour, minute, second) and are taken as Beijing time (GMT+8), as
the public GB/T 32960.3 descriptions state.

Information types this module does not interpret but whose length is known (drive motor, fuel cell, engine,
cell voltages and temperatures, 2025 stacks, super-capacitor, signature) are kept as `SkippedInfo` with their
bytes and re-encoded verbatim. A user-defined type (0x80..0xFE in 2016) carries no length: decoding stops
there and the rest of the unit is kept as `SkippedInfo(..., complete=False)`.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from fleet.telematics.gbt32960 import Command, FrameError, Version

BEIJING = ZoneInfo("Asia/Shanghai")

# Raw "no value" markers per width (abnormal and invalid).
_NONE = {1: (0xFE, 0xFF), 2: (0xFFFE, 0xFFFF), 4: (0xFFFFFFFE, 0xFFFFFFFF)}
_INVALID = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}

CURRENT_OFFSET_A = 1000.0
TEMP_OFFSET_C = 40


class Reader:
    """Big-endian cursor over a data unit; every overrun is a FrameError('bad_data')."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise FrameError("bad_data", f"needs {n} bytes at offset {self.pos}, unit has {len(self.data)}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def opt(self, n: int) -> int | None:
        value = self.uint(n)
        return None if value in _NONE[n] else value

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def rest(self) -> bytes:
        return self.take(self.left)


def _u(value: int | None, n: int) -> bytes:
    raw = _INVALID[n] if value is None else value
    if not 0 <= raw < 256**n:
        raise FrameError("bad_data", f"value {raw} does not fit {n} byte(s)")
    return raw.to_bytes(n, "big")


def _scaled(raw: int | None, scale: float, offset: float = 0.0) -> float | None:
    return None if raw is None else round(raw * scale - offset, 6)


def _unscaled(value: float | None, scale: float, offset: float = 0.0) -> int | None:
    return None if value is None else int(round((value + offset) / scale))


# ------------------------------------------------------------------------------------------------- time


def read_time(r: Reader) -> dt.datetime:
    y, mo, d, h, mi, s = r.take(6)
    try:
        return dt.datetime(2000 + y, mo, d, h, mi, s, tzinfo=BEIJING)
    except ValueError as exc:
        raise FrameError(
            "bad_data", f"time {y:02d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}: {exc}"
        ) from None


def write_time(t: dt.datetime) -> bytes:
    local = t.astimezone(BEIJING) if t.tzinfo else t
    if not 2000 <= local.year <= 2255:
        raise FrameError("bad_data", f"year {local.year} outside 2000..2255")
    return bytes((local.year - 2000, local.month, local.day, local.hour, local.minute, local.second))


# ------------------------------------------------------------------------------------------ information types


@dataclass(frozen=True)
class VehicleData:
    """Whole-vehicle data (整车数据, type 0x01). status: 1 started, 2 off, 3 other; charging: 1 parked
    charging, 2 driving charging, 3 not charging, 4 charge complete; mode: 1 electric, 2 hybrid, 3 fuel;
    speed [km/h]; odometer [km]; voltage [V]; current [A] (sign: positive = discharging, taken from
    platform practice, see docs/telematics.md); soc [%]; insulation [kOhm]; pedals [%] (2016 only)."""

    status: int | None = 1
    charging: int | None = 3
    mode: int | None = 1
    speed_kmh: float | None = 0.0
    odometer_km: float | None = 0.0
    voltage_v: float | None = 0.0
    current_a: float | None = 0.0
    soc_pct: int | None = 0
    dcdc: int | None = 1
    gear: int | None = 0
    insulation_kohm: int | None = 0
    accelerator_pct: int | None = None
    brake_pct: int | None = None

    TYPE = 0x01


@dataclass(frozen=True)
class Location:
    """Vehicle position (车辆位置数据, type 0x05): degrees, negative south/west; `valid` from status bit 0.
    `coordinate_system` is a 2025 byte (None in 2016)."""

    longitude: float
    latitude: float
    valid: bool = True
    coordinate_system: int | None = None

    TYPE = 0x05


@dataclass(frozen=True)
class ExtremeValues:
    """Extreme values (极值数据, type 0x06, 2016 only): cell voltages [V], probe temperatures [degC]."""

    max_voltage_subsystem: int | None
    max_voltage_cell: int | None
    max_cell_voltage_v: float | None
    min_voltage_subsystem: int | None
    min_voltage_cell: int | None
    min_cell_voltage_v: float | None
    max_temp_subsystem: int | None
    max_temp_probe: int | None
    max_temp_c: int | None
    min_temp_subsystem: int | None
    min_temp_probe: int | None
    min_temp_c: int | None

    TYPE = 0x06


@dataclass(frozen=True)
class Alarm:
    """Alarm data (报警数据: type 0x07 in 2016, 0x06 in 2025). `general_flags` is the 32-bit general alarm
    bit field; fault lists hold 4-byte fault codes; `general_fault_levels` (2025) 2-byte entries."""

    max_level: int | None
    general_flags: int
    battery_faults: tuple[int, ...] = ()
    motor_faults: tuple[int, ...] = ()
    engine_faults: tuple[int, ...] = ()
    other_faults: tuple[int, ...] = ()
    general_fault_levels: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SkippedInfo:
    """An information type kept as bytes: known length but not interpreted, or (complete=False) the
    undecodable remainder from a type without a length field."""

    type: int
    body: bytes
    complete: bool = True


Info = VehicleData | Location | ExtremeValues | Alarm | SkippedInfo


_VEHICLE = {Version.V2016: struct.Struct(">BBBHIHHBBBHBB"), Version.V2025: struct.Struct(">BBBHIHHBBBH")}


def _read_vehicle(r: Reader, version: Version) -> VehicleData:
    layout = _VEHICLE[version]
    raw = layout.unpack(r.take(layout.size))  # one struct call: this is the hot path of ingestion
    sizes = (1, 1, 1, 2, 4, 2, 2, 1, 1, 1, 2, 1, 1)
    status, charging, mode, speed, odo, volt, cur, soc, dcdc, gear, ins, *pedals = (
        None if value in _NONE[n] and i != 9 else value for i, (value, n) in enumerate(zip(raw, sizes))
    )
    acc, brake = pedals or (None, None)
    return VehicleData(
        status=status,
        charging=charging,
        mode=mode,
        speed_kmh=_scaled(speed, 0.1),
        odometer_km=_scaled(odo, 0.1),
        voltage_v=_scaled(volt, 0.1),
        current_a=_scaled(cur, 0.1, CURRENT_OFFSET_A),
        soc_pct=soc,
        dcdc=dcdc,
        gear=gear,
        insulation_kohm=ins,
        accelerator_pct=acc,
        brake_pct=brake,
    )


def _write_vehicle(v: VehicleData, version: Version) -> bytes:
    out = (
        _u(v.status, 1)
        + _u(v.charging, 1)
        + _u(v.mode, 1)
        + _u(_unscaled(v.speed_kmh, 0.1), 2)
        + _u(_unscaled(v.odometer_km, 0.1), 4)
        + _u(_unscaled(v.voltage_v, 0.1), 2)
        + _u(_unscaled(v.current_a, 0.1, CURRENT_OFFSET_A), 2)
        + _u(v.soc_pct, 1)
        + _u(v.dcdc, 1)
        + _u(v.gear or 0, 1)
        + _u(v.insulation_kohm, 2)
    )
    if version is Version.V2016:
        out += _u(v.accelerator_pct, 1) + _u(v.brake_pct, 1)
    return out


def _read_location(r: Reader, version: Version) -> Location:
    status = r.uint(1)
    system = r.uint(1) if version is Version.V2025 else None
    lon, lat = r.uint(4), r.uint(4)
    return Location(
        longitude=(-1 if status & 0b100 else 1) * lon / 1e6,
        latitude=(-1 if status & 0b010 else 1) * lat / 1e6,
        valid=not status & 0b001,
        coordinate_system=system,
    )


def _write_location(loc: Location, version: Version) -> bytes:
    status = (
        (0 if loc.valid else 1) | (0b010 if loc.latitude < 0 else 0) | (0b100 if loc.longitude < 0 else 0)
    )
    out = bytes((status,))
    if version is Version.V2025:
        out += _u(loc.coordinate_system or 0, 1)
    return out + _u(round(abs(loc.longitude) * 1e6), 4) + _u(round(abs(loc.latitude) * 1e6), 4)


def _read_extreme(r: Reader) -> ExtremeValues:
    def temp(raw: int | None) -> int | None:
        return None if raw is None else raw - TEMP_OFFSET_C

    return ExtremeValues(
        r.opt(1),
        r.opt(1),
        _scaled(r.opt(2), 0.001),
        r.opt(1),
        r.opt(1),
        _scaled(r.opt(2), 0.001),
        r.opt(1),
        r.opt(1),
        temp(r.opt(1)),
        r.opt(1),
        r.opt(1),
        temp(r.opt(1)),
    )


def _write_extreme(e: ExtremeValues) -> bytes:
    def temp(value: int | None) -> int | None:
        return None if value is None else value + TEMP_OFFSET_C

    return (
        _u(e.max_voltage_subsystem, 1)
        + _u(e.max_voltage_cell, 1)
        + _u(_unscaled(e.max_cell_voltage_v, 0.001), 2)
        + _u(e.min_voltage_subsystem, 1)
        + _u(e.min_voltage_cell, 1)
        + _u(_unscaled(e.min_cell_voltage_v, 0.001), 2)
        + _u(e.max_temp_subsystem, 1)
        + _u(e.max_temp_probe, 1)
        + _u(temp(e.max_temp_c), 1)
        + _u(e.min_temp_subsystem, 1)
        + _u(e.min_temp_probe, 1)
        + _u(temp(e.min_temp_c), 1)
    )


def _read_alarm(r: Reader, version: Version) -> Alarm:
    level, flags = r.opt(1), r.uint(4)
    lists = []
    for _ in range(4):
        n = r.uint(1)
        lists.append(tuple(r.uint(4) for _ in range(n)))
    levels = None
    if version is Version.V2025:
        n = r.uint(1)
        levels = tuple(r.uint(2) for _ in range(n))
    return Alarm(level, flags, *lists, general_fault_levels=levels)


def _write_alarm(a: Alarm, version: Version) -> bytes:
    out = _u(a.max_level, 1) + _u(a.general_flags, 4)
    for faults in (a.battery_faults, a.motor_faults, a.engine_faults, a.other_faults):
        out += _u(len(faults), 1) + b"".join(_u(f, 4) for f in faults)
    if version is Version.V2025:
        levels = a.general_fault_levels or ()
        out += _u(len(levels), 1) + b"".join(_u(x, 2) for x in levels)
    return out


# Lengths of the types kept as bytes: a function of the reader that consumes exactly the type's body.
def _counted(count_bytes: int, item: Callable[[Reader], None]) -> Callable[[Reader], None]:
    def skip(r: Reader) -> None:
        for _ in range(r.uint(count_bytes)):
            item(r)

    return skip


def _fixed(n: int) -> Callable[[Reader], None]:
    return lambda r: r.take(n) and None


def _cells_2016(
    r: Reader,
) -> None:  # 0x08 one subsystem: no, V, I, cells total, start index, count, count x WORD
    r.take(1 + 2 + 2 + 2 + 2)
    r.take(2 * r.uint(1))


def _probes(r: Reader) -> None:  # 0x09 (2016) / 0x08 (2025): no, probe count WORD, count x BYTE
    r.take(1)
    r.take(r.uint(2))


def _cells_2025(r: Reader) -> None:  # 0x07: pack no, V, I, unit count WORD, count x WORD
    r.take(1 + 2 + 2)
    r.take(2 * r.uint(2))


def _fuel_cell_2016(r: Reader) -> None:
    r.take(6)
    r.take(r.uint(2))
    r.take(10)


def _stack_2025(r: Reader) -> None:
    r.take(1 + 2 + 2 + 2 + 2 + 1)
    r.take(r.uint(2))


def _super_cap(r: Reader) -> None:
    r.take(1 + 2 + 2)
    r.take(2 * r.uint(2))
    r.take(r.uint(2))


def _signature(r: Reader) -> None:
    r.take(1)
    r.take(r.uint(2))
    r.take(r.uint(2))


SKIPPABLE: dict[Version, dict[int, Callable[[Reader], None]]] = {
    Version.V2016: {
        0x02: _counted(1, _fixed(12)),
        0x03: _fuel_cell_2016,
        0x04: _fixed(5),
        0x08: _counted(1, _cells_2016),
        0x09: _counted(1, _probes),
    },
    Version.V2025: {
        0x02: _counted(1, _fixed(10)),
        0x03: _fixed(12),
        0x04: _fixed(2),
        0x07: _counted(1, _cells_2025),
        0x08: _counted(1, _probes),
        0x30: _counted(1, _stack_2025),
        0x31: _super_cap,
        0x32: _fixed(20),
        0xFF: _signature,
    },
}
ALARM_TYPE = {Version.V2016: 0x07, Version.V2025: 0x06}


def read_infos(r: Reader, version: Version) -> tuple[Info, ...]:
    infos: list[Info] = []
    while r.left:
        kind = r.uint(1)
        if kind == VehicleData.TYPE:
            infos.append(_read_vehicle(r, version))
        elif kind == Location.TYPE:
            infos.append(_read_location(r, version))
        elif kind == ALARM_TYPE[version]:
            infos.append(_read_alarm(r, version))
        elif kind == ExtremeValues.TYPE and version is Version.V2016:
            infos.append(_read_extreme(r))
        elif kind in SKIPPABLE[version]:
            start = r.pos
            SKIPPABLE[version][kind](r)
            infos.append(SkippedInfo(kind, r.data[start : r.pos]))
        else:
            infos.append(SkippedInfo(kind, r.rest(), complete=False))
    return tuple(infos)


def write_infos(infos: tuple[Info, ...], version: Version) -> bytes:
    out = b""
    for info in infos:
        if isinstance(info, VehicleData):
            out += bytes((VehicleData.TYPE,)) + _write_vehicle(info, version)
        elif isinstance(info, Location):
            out += bytes((Location.TYPE,)) + _write_location(info, version)
        elif isinstance(info, Alarm):
            out += bytes((ALARM_TYPE[version],)) + _write_alarm(info, version)
        elif isinstance(info, ExtremeValues):
            if version is not Version.V2016:
                raise FrameError("bad_data", "extreme values (0x06) exist only in the 2016 edition")
            out += bytes((ExtremeValues.TYPE,)) + _write_extreme(info)
        else:
            out += bytes((info.type,)) + info.body
    return out


# ------------------------------------------------------------------------------------------------ data units


@dataclass(frozen=True)
class Login:
    """Vehicle login (车辆登入, 0x01). 2016: energy-storage subsystem count and code length with the codes;
    2025: per battery management system the number of packs, each pack code 24 bytes (EMQX 2025 parser)."""

    time: dt.datetime
    seq: int
    iccid: str
    subsystem_codes: tuple[bytes, ...] = ()  # 2016; all of one length
    pack_codes: tuple[tuple[bytes, ...], ...] = ()  # 2025; one tuple per BMS


PACK_CODE_LEN = 24


@dataclass(frozen=True)
class Logout:
    """Vehicle logout (车辆登出, 0x04): time and the login's serial number."""

    time: dt.datetime
    seq: int


@dataclass(frozen=True)
class Realtime:
    """Real-time (0x02) or re-sent (0x03, `resent=True`) information: collection time and information items."""

    time: dt.datetime
    infos: tuple[Info, ...] = field(default_factory=tuple)
    resent: bool = False

    def vehicle(self) -> VehicleData | None:
        return next((i for i in self.infos if isinstance(i, VehicleData)), None)

    def location(self) -> Location | None:
        return next((i for i in self.infos if isinstance(i, Location)), None)


@dataclass(frozen=True)
class Heartbeat:
    """Heartbeat (0x07): empty data unit."""


@dataclass(frozen=True)
class TimeSync:
    """Time sync (校时, 0x08): empty from the vehicle; the platform's answer carries its time."""

    time: dt.datetime | None = None


Unit = Login | Logout | Realtime | Heartbeat | TimeSync


def decode_unit(command: int, data: bytes, version: Version) -> Unit:
    """Decode a data unit; every defect raises FrameError('bad_data') (unknown commands too)."""
    r = Reader(data)
    unit: Unit
    if command == Command.LOGIN:
        time, seq = read_time(r), r.uint(2)
        iccid = r.take(20).decode("ascii", errors="replace")
        if version is Version.V2016:
            n, length = r.uint(1), r.uint(1)
            codes = tuple(r.take(length) for _ in range(n))
            unit = Login(time, seq, iccid, subsystem_codes=codes)
        else:
            counts = [r.uint(1) for _ in range(r.uint(1))]
            packs = tuple(tuple(r.take(PACK_CODE_LEN) for _ in range(m)) for m in counts)
            unit = Login(time, seq, iccid, pack_codes=packs)
    elif command in (Command.REALTIME, Command.RESEND):
        time = read_time(r)
        unit = Realtime(time, read_infos(r, version), resent=command == Command.RESEND)
    elif command == Command.LOGOUT:
        unit = Logout(read_time(r), r.uint(2))
    elif command == Command.HEARTBEAT:
        unit = Heartbeat()
    elif command == Command.TIME_SYNC:
        unit = TimeSync(read_time(r) if r.left else None)
    else:
        raise FrameError("bad_data", f"command {command:#04x} is not decoded here")
    if r.left:
        raise FrameError("bad_data", f"{r.left} bytes left over in the data unit of command {command:#04x}")
    return unit


def encode_unit(unit: Unit, version: Version) -> tuple[int, bytes]:
    """(command flag, data unit bytes) of `unit`."""
    if isinstance(unit, Login):
        head = write_time(unit.time) + _u(unit.seq, 2) + unit.iccid.encode("ascii").ljust(20, b"0")[:20]
        if version is Version.V2016:
            lengths = {len(c) for c in unit.subsystem_codes}
            if len(lengths) > 1:
                raise FrameError("bad_data", "energy-storage subsystem codes must share one length")
            length = lengths.pop() if lengths else 0
            return Command.LOGIN, head + _u(len(unit.subsystem_codes), 1) + _u(length, 1) + b"".join(
                unit.subsystem_codes
            )
        body = _u(len(unit.pack_codes), 1) + b"".join(_u(len(p), 1) for p in unit.pack_codes)
        for packs in unit.pack_codes:
            for code in packs:
                if len(code) != PACK_CODE_LEN:
                    raise FrameError("bad_data", f"battery pack codes are {PACK_CODE_LEN} bytes")
                body += code
        return Command.LOGIN, head + body
    if isinstance(unit, Realtime):
        command = Command.RESEND if unit.resent else Command.REALTIME
        return command, write_time(unit.time) + write_infos(unit.infos, version)
    if isinstance(unit, Logout):
        return Command.LOGOUT, write_time(unit.time) + _u(unit.seq, 2)
    if isinstance(unit, Heartbeat):
        return Command.HEARTBEAT, b""
    if isinstance(unit, TimeSync):
        return Command.TIME_SYNC, write_time(unit.time) if unit.time else b""
    raise TypeError(f"not a GB/T 32960 data unit: {type(unit).__name__}")
