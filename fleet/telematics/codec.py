"""One call each way: a data unit and a VIN to frame bytes, frame bytes to the envelope and its data unit."""

from __future__ import annotations

from fleet.telematics.gbt32960 import (
    Answer,
    Encryption,
    Frame,
    FrameError,
    Version,
    decode_frame,
    encode_frame,
)
from fleet.telematics.units import Unit, decode_unit, encode_unit


def encode(vin: str, unit: Unit, version: Version = Version.V2016, answer: int = Answer.COMMAND) -> bytes:
    """Frame bytes for `unit` sent by (or to) the vehicle `vin`, unencrypted."""
    command, data = encode_unit(unit, version)
    return encode_frame(Frame(version, int(command), int(answer), vin, Encryption.NONE, data))


def decode(raw: bytes) -> tuple[Frame, Unit]:
    """Envelope and data unit of one frame. Raises only FrameError: an encrypted unit (RSA/AES/SM2/SM4) cannot
    be read without the keys and is refused as 'encrypted'."""
    frame = decode_frame(raw)
    if frame.encryption != Encryption.NONE:
        raise FrameError("encrypted", f"data unit encrypted with scheme {frame.encryption:#04x}")
    return frame, decode_unit(frame.command, frame.data, frame.version)
