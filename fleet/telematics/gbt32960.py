"""GB/T 32960.3 frames: the envelope of every message between a vehicle terminal and a platform (pure, no I/O).

A frame is: start bytes, command flag, answer flag, VIN (17 bytes), encryption flag, data unit length (WORD),
data unit, BCC. Words are big-endian; the BCC is the XOR of every byte from the command flag to the last data
byte. The 2016 edition starts with ``##`` (0x23 0x23), the 2025 revision with ``$$`` (0x24 0x24); the envelope
is the same in both, what differs is inside the data unit (`fleet.telematics.units`).

References (public descriptions; the standard's text itself is not open):
- GB/T 32960.3-2016 reading notes, CSDN (XiuHua_Wu, 2021): packet structure table, command and answer codes,
  "the server's answer changes the answer flag, keeps the data unit's time, drops the rest, recomputes the BCC".
  https://blog.csdn.net/XiuHua_Wu/article/details/113732636
- EMQX GB/T 32960 gateway, data exchange format (2016 and 2025, ``##``/``$$`` detection):
  https://docs.emqx.com/en/emqx/latest/gateway/gbt32960_data_exchange.html
- EMQX source ``apps/emqx_gateway_gbt32960`` (Erlang; read for field order, not copied): header of 22 bytes
  after the start bytes, answer codes 0x01-0x07 (0x04-0x07 added by 2025), encryption codes 0x04 SM2 and 0x05
  SM4 (2025).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

START_2016 = b"##"
START_2025 = b"$$"
HEADER_LEN = 24  # start (2) + command (1) + answer (1) + VIN (17) + encryption (1) + length (2)
MAX_DATA_LEN = 65531  # "valid range 0~65531" of the data unit length (CSDN notes on GB/T 32960.3-2016)
VIN_LEN = 17


class Version(str, enum.Enum):
    V2016 = "2016"
    V2025 = "2025"

    @property
    def start(self) -> bytes:
        return START_2016 if self is Version.V2016 else START_2025


class Command(enum.IntEnum):
    """Command flags (GB/T 32960.3 table "命令标识定义"; 0x09-0x0B are 2025 additions per EMQX)."""

    LOGIN = 0x01
    REALTIME = 0x02
    RESEND = 0x03  # re-sent (补发) real-time data, same layout as REALTIME
    LOGOUT = 0x04
    PLATFORM_LOGIN = 0x05
    PLATFORM_LOGOUT = 0x06
    HEARTBEAT = 0x07
    TIME_SYNC = 0x08
    ACTIVATION = 0x09
    ACTIVATION_ANSWER = 0x0A
    KEY_EXCHANGE = 0x0B


class Answer(enum.IntEnum):
    """Answer flags. 0xFE marks a command (a packet that expects an answer)."""

    SUCCESS = 0x01
    ERROR = 0x02
    VIN_REPEAT = 0x03
    VIN_UNKNOWN = 0x04  # 2025
    SIGNATURE_ERROR = 0x05  # 2025
    STRUCTURE_ERROR = 0x06  # 2025
    DECRYPT_ERROR = 0x07  # 2025
    COMMAND = 0xFE


class Encryption(enum.IntEnum):
    NONE = 0x01
    RSA = 0x02
    AES128 = 0x03
    SM2 = 0x04  # 2025
    SM4 = 0x05  # 2025
    ABNORMAL = 0xFE
    INVALID = 0xFF


class FrameError(ValueError):
    """A frame or data unit that cannot be decoded; `reason` is a short code the ingestion server counts by.

    Reasons: bad_start, truncated, bad_length, bad_bcc, bad_vin, bad_data, trailing_bytes.
    """

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Frame:
    """One decoded envelope; `data` is the (still encoded) data unit, decoded by `fleet.telematics.units`."""

    version: Version
    command: int
    answer: int
    vin: str
    encryption: int
    data: bytes

    @property
    def is_command(self) -> bool:
        return self.answer == Answer.COMMAND


def bcc(data: bytes) -> int:
    """Block check character: XOR of all bytes (GB/T 32960.3: from the command flag to the byte before it).

    Computed by folding the bytes as one integer in halves (XOR of the high and the low half keeps the XOR of
    all bytes): a few big-integer operations instead of a Python loop over every byte."""
    x = int.from_bytes(data, "big")
    width = len(data)
    while width > 1:
        half = (width + 1) // 2
        x = (x >> (8 * half)) ^ (x & ((1 << (8 * half)) - 1))
        width = half
    return x


def encode_frame(frame: Frame) -> bytes:
    """The bytes of `frame`, BCC appended. Raises FrameError for a VIN that is not 17 ASCII bytes."""
    vin = frame.vin.encode("ascii", errors="replace")
    if not 0 < len(vin) <= VIN_LEN:
        raise FrameError("bad_vin", f"VIN must be 1..{VIN_LEN} ASCII characters, got {frame.vin!r}")
    vin = vin.ljust(VIN_LEN, b"\x00")  # other unique codes are NUL-padded to 17 bytes
    if len(frame.data) > MAX_DATA_LEN:
        raise FrameError("bad_length", f"data unit of {len(frame.data)} bytes exceeds {MAX_DATA_LEN}")
    body = (
        bytes((frame.command & 0xFF, frame.answer & 0xFF))
        + vin
        + bytes((frame.encryption & 0xFF,))
        + len(frame.data).to_bytes(2, "big")
        + frame.data
    )
    return frame.version.start + body + bytes((bcc(body),))


def _version_of(start: bytes) -> Version:
    if start == START_2016:
        return Version.V2016
    if start == START_2025:
        return Version.V2025
    raise FrameError("bad_start", f"start bytes {start.hex()} are neither '##' nor '$$'")


def frame_length(buf: bytes | memoryview) -> int | None:
    """Total length of the frame at the start of `buf` from its header, or None while the header is incomplete.

    Raises FrameError for wrong start bytes or a length above the standard's maximum."""
    if len(buf) < 2:
        return None
    _version_of(bytes(buf[:2]))
    if len(buf) < HEADER_LEN:
        return None
    length = int.from_bytes(buf[22:24], "big")
    if length > MAX_DATA_LEN:
        raise FrameError("bad_length", f"data unit length {length} exceeds {MAX_DATA_LEN}")
    return HEADER_LEN + length + 1


def decode_frame(buf: bytes) -> Frame:
    """Decode exactly one frame; any defect raises FrameError (never another exception)."""
    buf = bytes(buf)
    total = frame_length(buf)
    if total is None or len(buf) < total:
        raise FrameError("truncated", f"{len(buf)} bytes, frame needs {total or HEADER_LEN + 1}")
    if len(buf) > total:
        raise FrameError("trailing_bytes", f"{len(buf) - total} bytes after the frame")
    body = buf[2:-1]
    if bcc(body) != buf[-1]:
        raise FrameError("bad_bcc", f"BCC {buf[-1]:#04x}, computed {bcc(body):#04x}")
    vin_bytes = buf[4:21]
    try:
        vin = vin_bytes.rstrip(b"\x00").decode("ascii")
    except UnicodeDecodeError:
        raise FrameError("bad_vin", f"VIN bytes {vin_bytes.hex()} are not ASCII") from None
    if not vin or not vin.isprintable():
        raise FrameError("bad_vin", f"VIN {vin!r} has control characters")
    return Frame(
        version=_version_of(buf[:2]),
        command=buf[2],
        answer=buf[3],
        vin=vin,
        encryption=buf[21],
        data=buf[HEADER_LEN:-1],
    )


def answer_frame(frame: Frame, code: Answer, data: bytes | None = None) -> Frame:
    """The platform's answer to `frame`: same version, command and VIN, the answer code, unencrypted, and by
    default only the data unit's 6-byte time kept ("keep the time, drop the rest", GB/T 32960.3 notes)."""
    kept = frame.data[:6] if data is None else data
    return Frame(frame.version, frame.command, int(code), frame.vin, Encryption.NONE, kept)


def _swallows_a_frame(raw: bytes) -> bool:
    """A frame whose data unit holds start bytes followed by a header with its own VIN is a truncated frame
    that ran into the next one and passed the BCC by chance (1 in 256): no real data unit repeats its header."""
    header = raw[4:21]
    at = raw.find(raw[:2], 2)
    while 0 < at < len(raw) - 21:
        if raw[at + 4 : at + 21] == header:
            return True
        at = raw.find(raw[:2], at + 1)
    return False


@dataclass(frozen=True)
class Scanned:
    """One item found in a byte stream: a good frame (with its exact bytes) or an error with the bytes it
    spans (as far as known)."""

    raw: bytes
    frame: Frame | None = None
    error: FrameError | None = None


class FrameScanner:
    """Split a TCP byte stream into frames, resynchronising on the next start bytes after any defect.

    A defective candidate (bad length, bad BCC) costs only its two start bytes: scanning resumes right after
    them, so a good frame that follows a truncated one is still found. Bytes before a start marker are reported
    once as `bad_start` garbage. `close()` flushes what remains at the end of the stream.
    """

    def __init__(self, max_buffer: int = 4 * (HEADER_LEN + MAX_DATA_LEN + 1)):
        self._buf = bytearray()
        self._max = max_buffer

    def feed(self, chunk: bytes) -> list[Scanned]:
        self._buf += chunk
        out: list[Scanned] = []
        while True:
            item = self._next(final=False)
            if item is None:
                break
            out.append(item)
        if len(self._buf) > self._max:  # a never-ending candidate: give it up
            out.append(Scanned(bytes(self._buf), error=FrameError("truncated", "buffer limit reached")))
            self._buf.clear()
        return out

    def close(self) -> list[Scanned]:
        out: list[Scanned] = []
        while self._buf:
            item = self._next(final=True)
            if item is None:
                break
            out.append(item)
        return out

    def _start_at(self, offset: int) -> int:
        """Position of the first start marker at or after `offset` (-1: none); the second marker is searched
        only up to the first one's position, so a long buffer of one edition is not scanned to its end."""
        if self._buf[offset : offset + 2] in (START_2016, START_2025):
            return offset
        first = self._buf.find(START_2016, offset)
        end = first + 1 if first >= 0 else len(self._buf)
        second = self._buf.find(START_2025, offset, end)
        return second if second >= 0 else first

    def _next(self, *, final: bool) -> Scanned | None:
        buf = self._buf
        start = self._start_at(0)
        if start != 0:
            keep = 1 if (start < 0 and buf[-1:] in (b"#", b"$") and not final) else 0
            cut = start if start > 0 else len(buf) - keep
            if cut <= 0:
                return None
            garbage = bytes(buf[:cut])
            del buf[:cut]
            return Scanned(
                garbage, error=FrameError("bad_start", f"{len(garbage)} bytes before a start marker")
            )
        try:
            total = frame_length(buf)
        except FrameError as exc:
            return self._skip(exc, final)
        if total is None or len(buf) < total:
            if final:
                return self._skip(
                    FrameError("truncated", f"stream ended after {len(buf)} bytes of a frame"), True
                )
            if self._complete_frame_after_start():
                return self._skip(FrameError("truncated", "a complete frame starts inside this one"), False)
            return None
        raw = bytes(buf[:total])
        try:
            frame = decode_frame(raw)
        except FrameError as exc:
            return self._skip(exc, final)
        if _swallows_a_frame(raw):
            return self._skip(
                FrameError("truncated", "a frame of the same VIN starts inside this one"), final
            )
        del buf[:total]
        return Scanned(raw, frame=frame)

    def _complete_frame_after_start(self, tries: int = 4) -> bool:
        """While a candidate waits for bytes, is there a later start marker with a whole, valid frame? Then the
        candidate was cut short (a truncated frame followed by a good one) and must not hold the good one back."""
        offset = 2
        for _ in range(tries):
            nxt = self._start_at(offset)
            if nxt < 0:
                return False
            try:
                total = frame_length(self._buf[nxt:])
                if total is not None and len(self._buf) - nxt >= total:
                    decode_frame(bytes(self._buf[nxt : nxt + total]))
                    return True
            except FrameError:
                pass
            offset = nxt + 1
        return False

    def _skip(self, error: FrameError, final: bool) -> Scanned:
        """Drop the defective candidate up to the next start marker after its own start bytes (a lone trailing
        '#' or '$' may begin the next frame and is kept until more bytes arrive)."""
        nxt = self._start_at(2)
        if nxt > 0:
            cut = nxt
        else:
            cut = len(self._buf) - (0 if final or self._buf[-1:] not in (b"#", b"$") else 1)
            cut = max(cut, 2)
        raw = bytes(self._buf[:cut])
        del self._buf[:cut]
        return Scanned(raw, error=error)
