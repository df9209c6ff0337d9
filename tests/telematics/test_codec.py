"""GB/T 32960 codec: round trips on generated frames (both editions), public byte examples, and a fuzz test."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.telematics import (
    Alarm,
    Answer,
    Command,
    ExtremeValues,
    FrameError,
    FrameScanner,
    Heartbeat,
    Location,
    Login,
    Logout,
    Realtime,
    SkippedInfo,
    TimeSync,
    VehicleData,
    Version,
    answer_frame,
    bcc,
    decode,
    decode_frame,
    encode,
    encode_frame,
)
from fleet.telematics.units import BEIJING

VIN = "LGHC4V1D9PJ000123"
T = dt.datetime(2026, 12, 5, 8, 30, 15, tzinfo=BEIJING)


def _units(version: Version) -> list:
    vehicle = VehicleData(
        status=1,
        charging=3,
        mode=1,
        speed_kmh=61.7,
        odometer_km=123456.7,
        voltage_v=612.3,
        current_a=-87.5,
        soc_pct=64,
        dcdc=1,
        gear=14,
        insulation_kohm=5000,
        accelerator_pct=22 if version is Version.V2016 else None,
        brake_pct=0 if version is Version.V2016 else None,
    )
    location = Location(114.057868, -22.543099, coordinate_system=1 if version is Version.V2025 else None)
    alarm = Alarm(
        1,
        0b101,
        (0x11223344,),
        (),
        (7,),
        (),
        general_fault_levels=(3, 2) if version is Version.V2025 else None,
    )
    infos: tuple = (
        vehicle,
        location,
        alarm,
        SkippedInfo(0x02, bytes([1]) + bytes(range(10 if version is Version.V2025 else 12))),
    )
    if version is Version.V2016:
        infos += (ExtremeValues(1, 12, 3.412, 1, 40, 3.301, 1, 3, 35, 1, 7, -5),)
    logins = (
        Login(T, 7, "89860012345678901234", subsystem_codes=(b"PACK-A", b"PACK-B"))
        if version is Version.V2016
        else Login(T, 7, "89860012345678901234", pack_codes=((b"A" * 24,), (b"B" * 24, b"C" * 24)))
    )
    return [
        logins,
        Realtime(T, infos),
        Realtime(T, infos[:1], resent=True),
        Logout(T, 7),
        Heartbeat(),
        TimeSync(),
        TimeSync(T),
        Realtime(T, (vehicle, SkippedInfo(0x90, b"\x01\x02\x03", complete=False))),
    ]


@pytest.mark.parametrize("version", list(Version))
def test_every_unit_round_trips(version: Version) -> None:
    for unit in _units(version):
        raw = encode(VIN, unit, version)
        assert raw[:2] == (b"##" if version is Version.V2016 else b"$$")
        frame, back = decode(raw)
        assert (frame.vin, frame.version, frame.is_command) == (VIN, version, True)
        assert back == unit
        assert encode(VIN, back, version) == raw


def test_scaling_of_the_vehicle_data() -> None:
    """Raw values as in the EMQX gateway's parser test (case02_realtime_report_0x01, emqx/emqx
    apps/emqx_gateway_gbt32960/test/emqx_gbt32960_parser_SUITE.erl): speed 2000, mileage 999999, voltage 5000,
    current 15000, SOC 50 -> 200.0 km/h, 99999.9 km, 500.0 V, +500.0 A (offset 1000 A at 0.1 A), 50 %."""
    body = bytes.fromhex("100101023b00") + bytes.fromhex("0101010107d0000f423f13883a9832010517705a00")
    raw = encode_frame(decode_frame(encode(VIN, Heartbeat())).__class__(Version.V2016, 2, 0xFE, VIN, 1, body))
    _, unit = decode(raw)
    v = unit.vehicle()
    assert (v.speed_kmh, v.odometer_km, v.voltage_v, v.current_a, v.soc_pct) == (
        200.0,
        99999.9,
        500.0,
        500.0,
        50,
    )
    assert (v.gear, v.insulation_kohm, v.accelerator_pct, v.brake_pct) == (5, 6000, 90, 0)
    assert unit.time == dt.datetime(2016, 1, 1, 2, 59, 0, tzinfo=BEIJING)


def test_login_example_from_the_emqx_gateway_tests() -> None:
    """case01_login of the EMQX parser suite: time 12-12-29 12:19:20, seq 1, ICCID, 1 subsystem, code 'C'."""
    data = bytes([12, 12, 29, 12, 19, 20]) + (1).to_bytes(2, "big") + b"12345678901234567890" + b"\x01\x01C"
    body = bytes([1, 0xFE]) + b"1G1BL52P7TR115520" + b"\x01" + len(data).to_bytes(2, "big") + data
    raw = b"##" + body + bytes([bcc(body)])
    frame, unit = decode(raw)
    assert frame.command == Command.LOGIN and frame.vin == "1G1BL52P7TR115520"
    assert unit == Login(
        dt.datetime(2012, 12, 29, 12, 19, 20, tzinfo=BEIJING), 1, "12345678901234567890", (b"C",)
    )


def test_captured_location_frame_decodes_and_reencodes_byte_exact() -> None:
    """A captured 2016 real-time frame quoted in a public Python log-extraction script (GitHub code search,
    docstring of get_hex_data: '23 23 02 FE 31 37 ... 5A'): location only, 2017-07-21 17:31:39."""
    raw = bytes.fromhex("232302FE31373036303647423036435A4830303435010010110715111F270500069BD42001F13C685A")
    frame, unit = decode(raw)
    assert frame.vin == "170606GB06CZH0045"
    assert unit.time == dt.datetime(2017, 7, 21, 17, 31, 39, tzinfo=BEIJING)
    assert unit.location() == Location(110.87568, 32.586856)
    assert encode(frame.vin, unit) == raw


def test_golden_frame_with_cell_types_is_skipped_by_length() -> None:
    """Golden frame of a public Go GB/T 32960 parser's tests (goldenFrameHex, GitHub code search): 2016 types
    0x08 (cell voltages) and 0x09 (probe temperatures), NUL-padded 10-character code instead of a VIN."""
    raw = bytes.fromhex(
        "232302fe4f56323032363030303100000000000000010021"
        "1a09110c1e00080101025a26dd00040001040ccc0cd00cc10cc70901010002474b65"
    )
    frame, unit = decode(raw)
    assert frame.vin == "OV20260001"
    assert [i.type for i in unit.infos] == [0x08, 0x09] and all(i.complete for i in unit.infos)
    assert encode(frame.vin, unit) == raw


def test_answer_keeps_the_time_and_recomputes_the_bcc() -> None:
    raw = encode(VIN, Realtime(T, _units(Version.V2016)[1].infos))
    reply = encode_frame(answer_frame(decode_frame(raw), Answer.SUCCESS))
    frame = decode_frame(reply)
    assert (frame.command, frame.answer, frame.data) == (Command.REALTIME, Answer.SUCCESS, raw[24:30])


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "bad_bcc"),
        (lambda b: b[:-5], "truncated"),
        (lambda b: b"#!" + b[2:], "bad_start"),
        (lambda b: b + b"\x00", "trailing_bytes"),
    ],
)
def test_defects_raise_frame_error_with_a_reason(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    raw = encode(VIN, Realtime(T, _units(Version.V2016)[1].infos))
    with pytest.raises(FrameError) as info:
        decode(mutate(raw))
    assert info.value.reason == reason


def test_scanner_recovers_good_frames_around_garbage_and_a_truncated_frame() -> None:
    good = [
        encode(VIN, Realtime(T + dt.timedelta(seconds=i), _units(Version.V2016)[1].infos[:2]))
        for i in range(3)
    ]
    stream = (
        b"xx"
        + good[0]
        + good[1][:30]
        + good[1]
        + b"\x00##"
        + good[2][:-1]
        + bytes([good[2][-1] ^ 0xFF])
        + good[2]
    )
    scanner = FrameScanner()
    found = []
    for i in range(0, len(stream), 7):  # arbitrary TCP segmentation
        found += scanner.feed(stream[i : i + 7])
    found += scanner.close()
    assert [s.raw for s in found if s.frame] == [good[0], good[1], good[2]]
    assert {s.error.reason for s in found if s.error} >= {"bad_start", "truncated", "bad_bcc"}
    assert b"".join(s.raw for s in found) == stream  # every byte accounted for exactly once


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decoder_raises_only_frame_error_on_random_bytes(data: bytes) -> None:
    for raw in (data, b"##" + data, b"$$" + data):
        with contextlib.suppress(FrameError):
            decode(raw)
    scanner = FrameScanner()
    scanner.feed(data)
    scanner.close()


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=1, max_size=200), st.sampled_from([2, 3, 1, 4, 7, 8]), st.sampled_from(list(Version))
)
def test_random_data_units_in_a_valid_envelope_raise_only_frame_error(
    data: bytes, command: int, version: Version
) -> None:
    body = bytes([command, 0xFE]) + VIN.encode() + b"\x01" + len(data).to_bytes(2, "big") + data
    with contextlib.suppress(FrameError):
        decode(version.start + body + bytes([bcc(body)]))


def test_2025_layout_as_the_emqx_gateway_parses_it() -> None:
    """No captured '$$' frame was found in public sources; this builds one field by field from the layout of
    EMQX's 2025 parser (emqx/emqx apps/emqx_gateway_gbt32960/src/emqx_gbt32960_frame.erl, PR #17013): vehicle
    data of 18 bytes (no pedals), location with a coordinate-system byte, alarms as type 0x06 with a general
    fault level list."""
    data = (
        bytes([26, 3, 1, 8, 0, 0])
        + bytes.fromhex("0101010107d0000f423f13883a983201051770")
        + bytes.fromhex("05000206cc5ef80157e8e0")
        + bytes.fromhex("06020000000100000000010003")
    )
    body = bytes([2, 0xFE]) + b"1G1BL52P7TR115520" + b"\x01" + len(data).to_bytes(2, "big") + data
    raw = b"$$" + body + bytes([bcc(body)])
    frame, unit = decode(raw)
    assert frame.version is Version.V2025
    v, loc, alarm = unit.infos
    assert (v.speed_kmh, v.odometer_km, v.voltage_v, v.current_a, v.soc_pct, v.accelerator_pct) == (
        200.0,
        99999.9,
        500.0,
        500.0,
        50,
        None,
    )
    assert loc == Location(114.056952, 22.538464, coordinate_system=2)
    assert alarm == Alarm(2, 1, general_fault_levels=(3,))
    assert encode(frame.vin, unit, Version.V2025) == raw
