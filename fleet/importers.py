"""CSV and XLSX import of vehicles, leases, orders and metered records, all or nothing.

Every bad cell is reported with file, row (spreadsheet numbering: the header is row 1), column, value and
reason, and *nothing* is written unless every row is valid: one import is one transaction. A file whose exact
content was imported before (same kind, same owner) is detected by its SHA-256 and not doubled; rows whose key
already exists with identical values are skipped as duplicates, and a key that exists with different values is
an error (imports never silently overwrite).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from fleet.models import (
    LOCAL_TZ,
    ChargingSession,
    Claimant,
    Connector,
    Depot,
    ImportBatch,
    Lease,
    Lessee,
    Order,
    Repayment,
    SiteMeterReading,
    Vehicle,
    VehicleDay,
    VehicleKind,
    VehicleModel,
    VehicleStatus,
)
from fleet.scope import Scope, add_rows, list_rows, select_rows
from routing.matrix import haversine_pairs_km

MAX_KM_FROM_DEPOT = 150.0  # an order farther than this from its depot is a bad coordinate, not a delivery


# ------------------------------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column!r}, value {self.value!r}: {self.reason}"


class ImportFailed(ValueError):
    """The file was rejected; `errors` lists every bad cell. Nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} error(s); nothing was imported:\n{shown}{more}")


@dataclass(frozen=True)
class ImportResult:
    kind: str
    file: str
    rows: int
    inserted: int
    skipped_duplicates: int
    batch_id: int | None
    duplicate_of_batch: int | None = None

    def summary(self) -> str:
        if self.duplicate_of_batch is not None:
            return (
                f"{self.file}: identical to import batch {self.duplicate_of_batch}; nothing imported "
                f"({self.rows} rows)"
            )
        return (
            f"{self.file}: {self.inserted} {self.kind} imported, {self.skipped_duplicates} duplicate rows "
            f"skipped (batch {self.batch_id})"
        )


# -------------------------------------------------------------------------------------------- cell parsers


class CellError(ValueError):
    """Raised by a parser with the reason the cell is bad."""


Parser = Callable[[str], Any]

# How numbers are written in the file being read: "." (1234.5, the default) or "," (1234,5: `--decimal ,`).
# Set for the duration of one import by `import_file`; a comma is never guessed at.
_DECIMAL: ContextVar[str] = ContextVar("evfleet_import_decimal", default=".")
DECIMAL_MARKS = (".", ",")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
MAX_INT = 2**31 - 1  # what every integer column holds on both backends
MAX_FEN = 10**15  # 10 trillion CNY: far above any truck, far below BIGINT


def number_text(text: str) -> str:
    """The cell as a plain `1234.5` literal, or `CellError`. Never guesses what a comma means: under the
    default decimal point a comma is refused (is "1,5" one and a half or fifteen?), under `--decimal ,` a
    point is refused. Thousands separators, spaces, underscores, full-width digits, NaN and infinities are
    refused too."""
    t = text.strip()
    if t.lower() in _NON_FINITE:
        raise CellError("not a finite number (NaN and infinity are refused)")
    mark = _DECIMAL.get()
    if mark == ".":
        if "," in t:
            raise CellError(
                "ambiguous number: a comma may be a decimal comma or a thousands separator; write 1.5 or "
                "1500 (no separators), or import the whole file with --decimal ,"
            )
    else:
        if "." in t:
            raise CellError(
                "ambiguous number: this import reads ',' as the decimal mark (--decimal ,), so '.' is "
                "refused (no thousands separators)"
            )
        if t.count(",") > 1:
            raise CellError("not a number (more than one decimal comma)")
        t = t.replace(",", ".")
    if not _NUMBER.fullmatch(t):
        raise CellError("not a number")
    return t


def p_str(max_len: int = 200) -> Parser:
    def parse(text: str) -> str:
        if len(text) > max_len:
            raise CellError(f"longer than {max_len} characters")
        return text

    return parse


def p_float(*, ge: float | None = None, gt: float | None = None, le: float | None = None) -> Parser:
    def parse(text: str) -> float:
        value = float(number_text(text))
        if not math.isfinite(value):
            raise CellError("not a finite number")
        if ge is not None and value < ge:
            raise CellError(f"must be >= {ge:g}" if ge else "must not be negative")
        if gt is not None and value <= gt:
            raise CellError(f"must be > {gt:g}")
        if le is not None and value > le:
            raise CellError(f"must be <= {le:g}")
        return value

    return parse


def p_int(*, ge: int | None = None, le: int = MAX_INT) -> Parser:
    def parse(text: str) -> int:
        try:
            exact = Decimal(number_text(text))
        except CellError as exc:
            raise CellError(f"not a whole number ({exc})") from None
        if abs(exact.adjusted()) > 18 or exact != exact.to_integral_value():
            raise CellError("not a whole number")
        value = int(exact)
        if ge is not None and value < ge:
            raise CellError(f"must be >= {ge}")
        if value > le:
            raise CellError(f"must be <= {le}")
        return value

    return parse


def p_fen(text: str) -> int:
    """An amount in CNY with at most two decimals, returned as integer fen (exact, no float)."""
    try:
        amount = Decimal(number_text(text))
    except CellError as exc:
        raise CellError(f"not an amount in CNY ({exc})") from None
    if amount < 0:
        raise CellError("must not be negative")
    if amount.adjusted() > 15:
        raise CellError(f"must be <= {MAX_FEN // 100} CNY")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise CellError("more than two decimals (fen)")
    if fen > MAX_FEN:
        raise CellError(f"must be <= {MAX_FEN // 100} CNY")
    return int(fen)


def p_rate(text: str) -> Decimal:
    """An annual interest rate as a fraction (0.042 = 4.2 %)."""
    rate = Decimal(number_text(text))
    if not (Decimal(0) <= rate < Decimal(1)):
        raise CellError("must be a fraction in [0, 1), e.g. 0.042 for 4.2 %")
    if rate.as_tuple().exponent < -6:  # type: ignore[operator]
        raise CellError("more than 6 decimals")
    return rate


# Excel (1900 date system) counts days from 1899-12-30; serials outside 1900..9999 are not dates.
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SERIAL = re.compile(r"[0-9]{1,7}(?:\.[0-9]+)?")
_SLASHED = re.compile(
    r"(?P<y>[0-9]{4})[/.](?P<m>[0-9]{1,2})[/.](?P<d>[0-9]{1,2})"
    r"(?:[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)
_TIME = re.compile(r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?")


def _from_serial(text: str) -> dt.datetime | None:
    if not _SERIAL.fullmatch(text):
        return None
    serial = Decimal(text)
    if not (Decimal(1) <= serial <= Decimal(2958465)):  # 1900-01-01 .. 9999-12-31
        return None
    seconds = int((serial * 86400).to_integral_value())
    return _EXCEL_EPOCH + dt.timedelta(seconds=seconds)


def _from_slashed(text: str) -> dt.datetime | None:
    m = _SLASHED.fullmatch(text)
    if m is None:
        return None
    try:
        return dt.datetime(
            int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0)
        )
    except ValueError:
        raise CellError("not a valid calendar date or time") from None


def p_date(text: str) -> dt.date:
    """YYYY-MM-DD (a midnight time part is allowed), Excel's 2026/12/7, or an Excel serial date (46363)."""
    t = text.strip()
    try:
        return (
            dt.date.fromisoformat(t[:10])
            if len(t) >= 10 and t[10:].strip(" T0:") == ""
            else dt.date.fromisoformat(t)
        )
    except ValueError:
        pass
    value = _from_slashed(t) or _from_serial(t)
    if value is None or value.time() != dt.time(0):
        raise CellError("not a date (YYYY-MM-DD, 2026/12/7 or an Excel date)")
    return value.date()


def p_datetime(text: str) -> dt.datetime:
    """ISO 8601 date-time, Excel's `2026/12/7 9:00` or an Excel serial date-time (46363.375); a value without an
    offset is taken as Asia/Shanghai local time."""
    t = text.strip()
    try:
        value = dt.datetime.fromisoformat(t.replace(" ", "T"))
    except ValueError:
        value = _from_slashed(t) or _from_serial(t)  # type: ignore[assignment]
        if value is None:
            raise CellError("not a date-time (YYYY-MM-DDTHH:MM[:SS][+08:00] or 2026/12/7 9:00)") from None
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def p_time_or_datetime(text: str) -> dt.datetime | dt.time:
    """A full date-time (see `p_datetime`) or a time of day alone (9:00, 09:00:00) that the row builder puts
    on the row's service date."""
    m = _TIME.fullmatch(text.strip())
    if m is None:
        return p_datetime(text)
    try:
        return dt.time(int(m["H"]), int(m["M"]), int(m["S"] or 0))
    except ValueError:
        raise CellError("not a valid time of day") from None


def p_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"true", "yes", "1", "y", "t"}:
        return True
    if lowered in {"false", "no", "0", "n", "f"}:
        return False
    raise CellError("not a yes/no value (true/false)")


def p_enum(enum_cls: type) -> Parser:
    values = [m.value for m in enum_cls]

    def parse(text: str) -> Any:
        try:
            return enum_cls(text.strip().lower())
        except ValueError:
            raise CellError(f"must be one of {', '.join(values)}") from None

    return parse


def p_optional(max_len: int) -> Parser:
    """Free text stored as NULL when blank (a cell of spaces is no customer name)."""

    def parse(text: str) -> str | None:
        text = text.strip()
        if len(text) > max_len:
            raise CellError(f"longer than {max_len} characters")
        return text or None

    return parse


_PHONE = re.compile(r"\+?[0-9][0-9 ()/*-]{2,38}(?:(?:ext\.?|x|转|分机)\s*[0-9]{1,6})?")


def p_phone(text: str) -> str | None:
    """A telephone number as written (138 0013 8000, +86 755 1234 5678, 0755-12345678 转 801, a platform's masked 138****8000); anything else
    (a formula, words) is refused at the door, and every sheet neutralises cells as well."""
    text = text.strip()
    if not _PHONE.fullmatch(text):
        raise CellError("not a telephone number (digits, spaces, + ( ) - / * and an extension only)")
    return text


p_lat = p_float(ge=-90, le=90)
p_lon = p_float(ge=-180, le=180)


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    required: bool = True
    default: Any = None
    # Other header names read as this column (Chinese headers of a dispatcher's own spreadsheet, e.g. 备注 for
    # notes). A file naming the same column twice, under any two of its names, is refused.
    aliases: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------- reading


ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fail_file(path: Path, value: str, reason: str) -> ImportFailed:
    return ImportFailed([RowError(path.name, 0, "", value, reason)])


def decode_csv(path: Path, data: bytes, encoding: str | None = None) -> str:
    """The text of a CSV file. With `encoding` exactly that; otherwise a BOM decides (UTF-8, UTF-16), else
    strict UTF-8, else GB18030 (a superset of GBK: what Excel writes on a Chinese-locale Windows)."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise _fail_file(path, encoding, "unknown encoding (try utf-8, gb18030, utf-16)") from None
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise _fail_file(
                path, encoding, f"not {encoding} text (byte {exc.start}); give the right --encoding"
            ) from None
        return text.removeprefix("\ufeff")
    if data.startswith(codecs.BOM_UTF8):
        guesses = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        guesses = ("utf-16",)
    else:
        guesses = ("utf-8", "gb18030")
    for codec in guesses:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise _fail_file(
        path, "", "cannot tell the text encoding: save as UTF-8 or give --encoding (e.g. gb18030)"
    )


def _check_header(path: Path, header: list[str]) -> None:
    errors = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if _CONTROL.search(name):
            errors.append(RowError(path.name, 1, name, repr(name), "control character in the header"))
        if name and name in seen:
            errors.append(
                RowError(path.name, 1, name, name, f"duplicate column (also column {seen[name]}): which one?")
            )
        seen.setdefault(name, i)
    if errors:
        raise ImportFailed(errors)


def read_table(path: Path, encoding: str | None = None) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows (with spreadsheet row numbers) of a CSV or XLSX file; cells as text.

    CSV encodings: see `decode_csv`. A duplicate header name is refused (never "the last one wins")."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        header, rows = _read_xlsx(path)
        _check_header(path, header)
        return header, rows
    if suffix not in {".csv", ".txt"}:
        raise ImportFailed([RowError(path.name, 0, "", suffix, "unsupported file type: use .csv or .xlsx")])
    text = decode_csv(path, path.read_bytes(), encoding)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [h.strip() for h in next(reader, [])]
        _check_header(path, header)
        rows = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            rows.append(
                (number, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)})
            )
    except csv.Error as exc:
        raise _fail_file(path, "", f"not a readable CSV file ({exc})") from None
    return header, rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError) as exc:
        raise _fail_file(path, "", f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    except Exception as exc:  # openpyxl raises its own types for damaged parts
        raise _fail_file(path, "", f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        if not wb.worksheets:
            raise _fail_file(path, "", "the workbook has no sheet")
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [_cell_text(h) for h in next(it, ())]
        rows = []
        for number, cells in enumerate(it, start=2):
            texts = [_cell_text(c) for c in cells]
            if not any(texts):
                continue
            rows.append(
                (number, {h: (texts[i] if i < len(texts) else "") for i, h in enumerate(header) if h})
            )
    except ImportFailed:
        raise
    except Exception as exc:
        raise _fail_file(path, "", f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    finally:
        wb.close()
    return header, rows


# ------------------------------------------------------------------------------------------------ the specs


@dataclass
class Context:
    """What row builders may look up: the scope's depots, vehicles, lessees and the shared vehicle models."""

    session: Session
    scope: Scope
    lessee: Lessee | None
    depots: dict[str, Depot] = field(default_factory=dict)
    models: dict[str, VehicleModel] = field(default_factory=dict)
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    lessees: dict[str, Lessee] = field(default_factory=dict)
    connectors: dict[tuple[int, str], Connector] = field(default_factory=dict)
    lessees_by_id: dict[int, Lessee] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, scope: Scope, lessee: Lessee | None) -> Context:
        ctx = cls(session, scope, lessee)
        ctx.depots = {d.code: d for d in list_rows(session, scope, Depot)}
        ctx.models = {m.code: m for m in list_rows(session, scope, VehicleModel)}
        ctx.vehicles = {v.plate: v for v in list_rows(session, scope, Vehicle)}
        ctx.lessees = {le.code: le for le in list_rows(session, scope, Lessee)}
        ctx.connectors = {(c.depot_id, c.code): c for c in list_rows(session, scope, Connector)}
        ctx.lessees_by_id = {le.id: le for le in ctx.lessees.values()}  # type: ignore[misc]
        return ctx


class RowReject(Exception):
    def __init__(self, column: str, value: str, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


Builder = Callable[[dict[str, Any], dict[str, str], Context], SQLModel]


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    model: type[SQLModel]
    columns: tuple[Column, ...]
    build: Builder
    key: Callable[[SQLModel], tuple[Any, ...]] | None  # natural key for duplicate detection; None = whole row
    needs_lessee: bool
    # Side effects of accepted rows on other tables, applied only once the whole file is valid.
    after_insert: Callable[[Session, Scope, list[SQLModel]], None] | None = None

    def existing(self, ctx: Context) -> dict[tuple[Any, ...], SQLModel]:
        rows = ctx.session.exec(select_rows(ctx.scope, self.model)).all()
        return {self.key_of(r): r for r in rows}

    def key_of(self, row: SQLModel) -> tuple[Any, ...]:
        if self.key is not None:
            return self.key(row)
        return tuple(v for k, v in sorted(_comparable(row).items()))


def _comparable(row: SQLModel) -> dict[str, Any]:
    """The row's business values: bookkeeping columns (id, batch, when it was last changed) never make a
    re-imported row 'different'."""
    data = row.model_dump(exclude={"id", "import_batch_id", "updated_at"})
    return {k: (v.value if hasattr(v, "value") else v) for k, v in data.items()}


def _owner(ctx: Context, values: dict[str, Any], raw: dict[str, str]) -> Lessee | None:
    """The lessee owning a row: the import's lessee, or the row's `lessee_code` in a lessor import."""
    code = raw.get("lessee_code", "")
    if ctx.lessee is not None:
        if code and code != ctx.lessee.code:
            raise RowReject("lessee_code", code, f"this import is for lessee {ctx.lessee.code}")
        return ctx.lessee
    if not code:
        return None
    if code not in ctx.lessees:
        raise RowReject("lessee_code", code, "unknown lessee")
    return ctx.lessees[code]


def _depot(ctx: Context, code: str, owner: Lessee | None) -> Depot:
    depot = ctx.depots.get(code)
    if depot is None or (owner is not None and depot.lessee_id not in (None, owner.id)):
        raise RowReject("depot_code", code, "unknown depot" + (f" for lessee {owner.code}" if owner else ""))
    return depot


def _vehicle(ctx: Context, plate: str, owner: Lessee | None) -> Vehicle:
    vehicle = ctx.vehicles.get(plate)
    if vehicle is None or (owner is not None and vehicle.lessee_id not in (None, owner.id)):
        raise RowReject("plate", plate, "unknown vehicle")
    return vehicle


def _build_vehicle(v: dict[str, Any], raw: dict[str, str], ctx: Context) -> Vehicle:
    owner = _owner(ctx, v, raw)
    model = ctx.models.get(v["model_code"])
    if model is None:
        raise RowReject("model_code", raw["model_code"], "unknown vehicle model")
    depot = _depot(ctx, v["depot_code"], owner) if v["depot_code"] else None
    return Vehicle(
        lessor_id=ctx.scope.lessor_id,
        lessee_id=owner.id if owner else None,
        plate=v["plate"],
        vin=v["vin"],
        model_id=model.id,
        depot_id=depot.id if depot else None,
        status=v["status"],
        commissioned_on=v["commissioned_on"],
    )


def _vin(text: str) -> str:
    vin = text.strip().upper()
    if len(vin) != 17 or any(c in "IOQ" for c in vin) or not vin.isalnum():
        raise CellError("a VIN has 17 letters/digits without I, O or Q")
    return vin


VEHICLES = ImportSpec(
    kind="vehicles",
    model=Vehicle,
    columns=(
        Column("plate", p_str(20)),
        Column("vin", _vin),
        Column("model_code", p_str(60)),
        Column("depot_code", p_str(40), required=False, default=""),
        Column("status", p_enum(VehicleStatus), required=False, default=VehicleStatus.AVAILABLE),
        Column("commissioned_on", p_date, required=False),
    ),
    build=_build_vehicle,
    key=lambda r: (r.plate,),  # type: ignore[attr-defined]
    needs_lessee=False,
)


def _build_lease(v: dict[str, Any], raw: dict[str, str], ctx: Context) -> Lease:
    owner = _owner(ctx, v, raw)
    if owner is None:
        raise RowReject(
            "lessee_code", raw.get("lessee_code", ""), "a lease needs a lessee (column or --lessee)"
        )
    vehicle = _vehicle(ctx, v["plate"], None)
    if vehicle.lessee_id not in (None, owner.id):
        raise RowReject("plate", v["plate"], "vehicle is operated by another lessee")
    if v["end_date"] <= v["start_date"]:
        raise RowReject("end_date", raw["end_date"], "must be after start_date")
    # One truck, one lessee at a time. The vehicle row is locked (PostgreSQL) so that two imports of
    # overlapping leases for the same truck serialise here and the second sees the first's lease.
    ctx.session.exec(select(Vehicle.id).where(Vehicle.id == vehicle.id).with_for_update()).first()
    clash = ctx.session.exec(
        select(Lease).where(
            Lease.vehicle_id == vehicle.id,
            Lease.code != v["code"],
            Lease.start_date < v["end_date"],
            Lease.end_date > v["start_date"],
        )
    ).first()
    if clash is not None:
        raise RowReject(
            "start_date",
            raw["start_date"],
            "the truck is already on lease in this period"
            + (f" (lease {clash.code})" if ctx.scope.is_lessor else ""),
        )
    if v["residual_value_cny"] > v["purchase_price_cny"]:
        raise RowReject("residual_value_cny", raw["residual_value_cny"], "must not exceed purchase_price_cny")
    diesel = None
    if v["replaced_diesel_model_code"]:
        diesel = ctx.models.get(v["replaced_diesel_model_code"])
        if diesel is None or diesel.kind != VehicleKind.DIESEL:
            raise RowReject(
                "replaced_diesel_model_code", raw["replaced_diesel_model_code"], "unknown diesel model"
            )
    return Lease(
        lessor_id=ctx.scope.lessor_id,
        lessee_id=owner.id,
        code=v["code"],
        vehicle_id=vehicle.id,
        start_date=v["start_date"],
        end_date=v["end_date"],
        monthly_rent_fen=v["monthly_rent_cny"],
        deposit_fen=v["deposit_cny"],
        replaced_diesel_model_id=diesel.id if diesel else None,
        purchase_price_fen=v["purchase_price_cny"],
        subsidy_fen=v["subsidy_cny"],
        down_payment_fen=v["down_payment_cny"],
        loan_annual_rate=v["loan_annual_rate"],
        loan_term_months=v["loan_term_months"],
        repayment=v["repayment"],
        residual_value_fen=v["residual_value_cny"],
        maintenance_by_lessor=v["maintenance_by_lessor"],
        expected_km_per_year=v["expected_km_per_year"],
        emissions_claimant=v["emissions_claimant"],
    )


def _hand_over_leased_vehicles(session: Session, scope: Scope, leases: list[SQLModel]) -> None:
    """A new lease puts an unassigned truck into the lessee's fleet (its scope then sees the truck)."""
    for lease in leases:
        vehicle = session.get(Vehicle, lease.vehicle_id)  # type: ignore[attr-defined]
        if vehicle is not None and vehicle.lessee_id is None:
            vehicle.lessee_id = lease.lessee_id  # type: ignore[attr-defined]
            vehicle.status = VehicleStatus.LEASED
            session.add(vehicle)


LEASES = ImportSpec(
    kind="leases",
    model=Lease,
    columns=(
        Column("code", p_str(40)),
        Column("plate", p_str(20)),
        Column("start_date", p_date),
        Column("end_date", p_date),
        Column("monthly_rent_cny", p_fen),
        Column("deposit_cny", p_fen, required=False, default=0),
        Column("replaced_diesel_model_code", p_str(60), required=False, default=""),
        Column("purchase_price_cny", p_fen),
        Column("subsidy_cny", p_fen, required=False, default=0),
        Column("down_payment_cny", p_fen, required=False, default=0),
        Column("loan_annual_rate", p_rate, required=False, default=Decimal(0)),
        Column("loan_term_months", p_int(ge=0), required=False, default=0),
        Column("repayment", p_enum(Repayment), required=False, default=Repayment.ANNUITY),
        Column("residual_value_cny", p_fen, required=False, default=0),
        Column("maintenance_by_lessor", p_bool, required=False, default=True),
        Column("expected_km_per_year", p_float(ge=0), required=False),
        Column("emissions_claimant", p_enum(Claimant), required=False, default=Claimant.LESSEE),
    ),
    build=_build_lease,
    key=lambda r: (r.code,),  # type: ignore[attr-defined]
    needs_lessee=False,
    after_insert=_hand_over_leased_vehicles,
)


def _build_order(v: dict[str, Any], raw: dict[str, str], ctx: Context) -> Order:
    owner = ctx.lessee
    if owner is None:
        raise RuntimeError("orders import: no lessee in the context (ORDERS has needs_lessee=True)")
    depot = _depot(ctx, v["depot_code"], owner)
    for name in ("window_start", "window_end"):  # a time of day alone is on the service date
        if isinstance(v[name], dt.time):
            v[name] = dt.datetime.combine(v["service_date"], v[name], tzinfo=LOCAL_TZ)
    if v["window_end"] <= v["window_start"]:
        raise RowReject("window_end", raw["window_end"], "time window ends before it starts")
    if (
        v["window_start"].astimezone(LOCAL_TZ).date() != v["service_date"]
        and v["window_end"].astimezone(LOCAL_TZ).date() != v["service_date"]
    ):
        raise RowReject("window_start", raw["window_start"], "time window is not on the service date")
    km = float(haversine_pairs_km(depot.latitude, depot.longitude, v["latitude"], v["longitude"]))
    if km > MAX_KM_FROM_DEPOT:
        raise RowReject(
            "latitude",
            raw["latitude"],
            f"location is {km:.0f} km from depot {depot.code} "
            f"(more than {MAX_KM_FROM_DEPOT:.0f} km): check latitude/longitude order and sign",
        )
    return Order(
        lessor_id=ctx.scope.lessor_id,
        lessee_id=owner.id,
        depot_id=depot.id,
        external_ref=v["external_ref"],
        service_date=v["service_date"],
        address=v["address"],
        latitude=v["latitude"],
        longitude=v["longitude"],
        demand_kg=v["demand_kg"],
        window_start=v["window_start"],
        window_end=v["window_end"],
        service_minutes=v["service_minutes"],
        required_kind=v["required_kind"],
        priority=v["priority"],
        customer_name=v["customer_name"],
        customer_phone=v["customer_phone"],
        notes=v["notes"],
    )


ORDERS = ImportSpec(
    kind="orders",
    model=Order,
    # Chinese aliases: the headers a Shenzhen dispatcher's own order sheet uses (ASSUMPTION: common wording,
    # not a standard; the English names stay the documented ones).
    columns=(
        Column("external_ref", p_str(60), aliases=("订单号", "单号")),
        Column("depot_code", p_str(40), aliases=("场站代码", "场站")),
        Column("service_date", p_date, aliases=("配送日期",)),
        Column("address", p_str(300), required=False, default="", aliases=("地址", "收货地址")),
        Column("latitude", p_lat, aliases=("纬度",)),
        Column("longitude", p_lon, aliases=("经度",)),
        Column("demand_kg", p_float(ge=0, le=1e6), aliases=("重量(kg)", "重量（kg）", "重量")),
        Column("window_start", p_time_or_datetime, aliases=("最早送达", "时间窗开始")),
        Column("window_end", p_time_or_datetime, aliases=("最晚送达", "时间窗结束")),
        Column("service_minutes", p_float(ge=0, le=24 * 60), aliases=("服务时长(分钟)", "服务时长（分钟）")),
        Column("required_kind", p_enum(VehicleKind), required=False, aliases=("车型要求",)),
        Column("priority", p_int(ge=0, le=1_000_000), required=False, default=0, aliases=("优先级",)),
        Column("customer_name", p_optional(200), required=False, aliases=("客户名称", "客户", "收货人")),
        Column("customer_phone", p_phone, required=False, aliases=("联系电话", "电话", "手机")),
        Column("notes", p_optional(500), required=False, aliases=("备注",)),
    ),
    build=_build_order,
    key=lambda r: (r.lessee_id, r.external_ref),  # type: ignore[attr-defined]
    needs_lessee=True,
)


def _build_trip(v: dict[str, Any], raw: dict[str, str], ctx: Context) -> VehicleDay:
    vehicle = _vehicle(ctx, v["plate"], ctx.lessee)
    return VehicleDay(
        lessor_id=ctx.scope.lessor_id,
        lessee_id=vehicle.lessee_id,
        vehicle_id=vehicle.id,
        depot_id=vehicle.depot_id,
        day=v["day"],
        km=v["km"],
        kwh_vehicle=v["kwh_vehicle"],
        kwh_charger=v["kwh_charger"],
        tonne_km=v["tonne_km"],
        diesel_litres=v["diesel_litres"],
        source=v["source"] or "import",
    )


# Metered values are parsed for form only (a number); plausibility (negative km, kWh above the battery,
# duplicates, not on lease) is the emissions data-quality check's job, which flags rather than rejects.
TRIPS = ImportSpec(
    kind="trips",
    model=VehicleDay,
    columns=(
        Column("plate", p_str(20)),
        Column("day", p_date),
        Column("km", p_float()),
        Column("kwh_vehicle", p_float(), required=False),
        Column("kwh_charger", p_float(), required=False),
        Column("tonne_km", p_float(), required=False),
        Column("diesel_litres", p_float(), required=False),
        Column("source", p_str(40), required=False, default=""),
    ),
    build=_build_trip,
    key=None,
    needs_lessee=False,
)


def _build_session(v: dict[str, Any], raw: dict[str, str], ctx: Context) -> ChargingSession:
    vehicle = _vehicle(ctx, v["plate"], ctx.lessee)
    if v["ended_at"] <= v["started_at"]:
        raise RowReject("ended_at", raw["ended_at"], "session ends before it starts")
    soc_start, soc_end = v.get("soc_start_pct"), v.get("soc_end_pct")
    if soc_start is not None and soc_end is not None and soc_end < soc_start:
        raise RowReject("soc_end_pct", raw["soc_end_pct"], "state of charge falls during a charging session")
    owner = ctx.lessees_by_id.get(vehicle.lessee_id) if vehicle.lessee_id is not None else None
    owner = owner or ctx.lessee
    # The session's depot and connector must be the vehicle operator's (or the lessor's shared ones): a session
    # is never booked at another lessee's depot, whoever runs the import.
    depot = _depot(ctx, v["depot_code"], owner) if v["depot_code"] else None
    if (
        depot is not None
        and vehicle.lessee_id is not None
        and depot.lessee_id not in (None, vehicle.lessee_id)
    ):
        raise RowReject("depot_code", v["depot_code"], "unknown depot")
    connector = None
    if v["connector_code"]:
        connector = ctx.connectors.get((depot.id, v["connector_code"])) if depot is not None else None
        if connector is None or (
            vehicle.lessee_id is not None and connector.lessee_id not in (None, vehicle.lessee_id)
        ):
            raise RowReject("connector_code", raw["connector_code"], "unknown connector at this depot")
    return ChargingSession(
        lessor_id=ctx.scope.lessor_id,
        lessee_id=vehicle.lessee_id,
        vehicle_id=vehicle.id,
        depot_id=depot.id if depot else None,
        connector_id=connector.id if connector else None,
        started_at=v["started_at"],
        ended_at=v["ended_at"],
        kwh=v["kwh"],
        cost_fen=v["cost_cny"],
        soc_start_pct=soc_start,
        soc_end_pct=soc_end,
    )


CHARGING = ImportSpec(
    kind="charging",
    model=ChargingSession,
    columns=(
        Column("plate", p_str(20)),
        Column("depot_code", p_str(40), required=False, default=""),
        Column("connector_code", p_str(40), required=False, default=""),
        Column("started_at", p_datetime),
        Column("ended_at", p_datetime),
        Column("kwh", p_float()),
        Column("cost_cny", p_fen, required=False),
        # State of charge reported at the start and end [%]: optional; with kWh they give the battery's state of
        # health (fleet/finance/battery.py).
        Column("soc_start_pct", p_float(ge=0, le=100), required=False),
        Column("soc_end_pct", p_float(ge=0, le=100), required=False),
    ),
    build=_build_session,
    key=None,
    needs_lessee=False,
)


def _build_meter(v: dict[str, Any], raw: dict[str, str], ctx: Context) -> SiteMeterReading:
    depot = _depot(ctx, v["depot_code"], ctx.lessee)
    start = v["interval_start"]
    local = start.astimezone(LOCAL_TZ)
    if local.minute % 15 or local.second or local.microsecond:
        raise RowReject(
            "interval_start", raw["interval_start"], "not the start of a 15-minute interval (:00/:15/:30/:45)"
        )
    return SiteMeterReading(
        lessor_id=ctx.scope.lessor_id,
        lessee_id=depot.lessee_id,
        depot_id=depot.id,
        interval_start=start,
        kw=v["kw"],
    )


# The site meter's 15-minute average import [kW], base load and charging together: the maximum-demand charge is
# billed on its monthly maximum (docs/charging-economics.md). A 10 MW ceiling catches a unit mix-up (W for kW).
SITE_METER = ImportSpec(
    kind="site_meter",
    model=SiteMeterReading,
    columns=(
        Column("depot_code", p_str(40)),
        Column("interval_start", p_datetime),
        Column("kw", p_float(ge=0.0, le=10_000.0)),
    ),
    build=_build_meter,
    key=lambda r: (r.depot_id, r.interval_start),  # type: ignore[attr-defined]
    needs_lessee=False,
)

SPECS: dict[str, ImportSpec] = {s.kind: s for s in (VEHICLES, LEASES, ORDERS, TRIPS, CHARGING, SITE_METER)}


# ------------------------------------------------------------------------------------------------- running


def parse_rows(
    spec: ImportSpec, file: str, header: list[str], rows: Iterable[tuple[int, dict[str, str]]], ctx: Context
) -> tuple[list[tuple[int, SQLModel]], list[RowError]]:
    """Parse and build every row, collecting all errors (not just the first)."""
    header, rows, errors = _canonical_header(spec, file, header, rows)
    if errors:
        return [], errors
    missing = [c.name for c in spec.columns if c.required and c.name not in header]
    if missing:
        return [], [RowError(file, 1, m, "", "required column is missing") for m in missing]
    built: list[tuple[int, SQLModel]] = []
    for number, raw in rows:
        values: dict[str, Any] = {}
        row_ok = True
        for col in spec.columns:
            text = raw.get(col.name, "")
            if _CONTROL.search(text):
                errors.append(
                    RowError(
                        file, number, col.name, repr(text), "control character (NUL, escape ...) refused"
                    )
                )
                row_ok = False
                continue
            if text == "":
                if col.required:
                    errors.append(RowError(file, number, col.name, text, "required value is empty"))
                    row_ok = False
                values[col.name] = col.default
                continue
            try:
                values[col.name] = col.parse(text)
            except CellError as exc:
                errors.append(RowError(file, number, col.name, text, str(exc)))
                row_ok = False
        if not row_ok:
            continue
        try:
            built.append((number, spec.build(values, raw, ctx)))
        except RowReject as rej:
            errors.append(RowError(file, number, rej.column, rej.value, rej.reason))
    return built, errors


def _canonical_header(
    spec: ImportSpec, file: str, header: list[str], rows: Iterable[tuple[int, dict[str, str]]]
) -> tuple[list[str], Iterable[tuple[int, dict[str, str]]], list[RowError]]:
    """The header and rows with every column alias (`Column.aliases`) renamed to the column's own name.

    A column present under two of its names (``notes`` and ``备注``) is an error: which one is meant?"""
    rename: dict[str, str] = {}
    errors: list[RowError] = []
    for col in spec.columns:
        present = [n for n in (col.name, *col.aliases) if n in header]
        if len(present) > 1:
            errors.append(
                RowError(
                    file, 1, col.name, ", ".join(present), "the same column twice under two names: which one?"
                )
            )
        elif present and present[0] != col.name:
            rename[present[0]] = col.name
    if errors or not rename:
        return header, rows, errors
    return (
        [rename.get(h, h) for h in header],
        ((n, {rename.get(k, k): v for k, v in raw.items()}) for n, raw in rows),
        [],
    )


CONCURRENT = (
    "another import wrote conflicting rows at the same time; nothing was imported from this file: run it again "
    "to see which rows are already there"
)
FOREIGN_KEY = "already registered with the lessor (plate or VIN in use): ask the lessor"


def import_file(
    session: Session,
    scope: Scope,
    kind: str,
    path: Path,
    *,
    lessee_code: str | None = None,
    decimal: str = ".",
    encoding: str | None = None,
) -> ImportResult:
    """Import `path` as `kind` in `scope` within the caller's transaction; raise `ImportFailed` on any bad row.

    The caller owns the transaction (use `fleet.db.session_scope`): on `ImportFailed` nothing has been added.
    `decimal` is the file's decimal mark ("." or ","; a comma is never guessed), `encoding` a CSV's text
    encoding (default: detected, see `decode_csv`).

    Duplicates are refused by the database as well as by the checks here (unique file per owner, unique row
    keys): when a simultaneous import wins the race, this one is re-checked against what it wrote and gets
    the same answer as if it had run second (an identical file: "nothing imported").
    """
    if kind not in SPECS:
        raise ImportFailed(
            [RowError(Path(path).name, 0, "", kind, f"unknown import kind; one of {', '.join(SPECS)}")]
        )
    if decimal not in DECIMAL_MARKS:
        raise ImportFailed([RowError(Path(path).name, 0, "", decimal, "decimal mark must be '.' or ','")])
    token = _DECIMAL.set(decimal)
    try:
        try:
            with session.begin_nested():
                return _import_once(session, scope, kind, Path(path), lessee_code, encoding)
        except IntegrityError:
            pass  # a concurrent import committed first: look again, now that its rows are visible
        try:
            with session.begin_nested():
                return _import_once(session, scope, kind, Path(path), lessee_code, encoding)
        except IntegrityError:
            raise ImportFailed([RowError(Path(path).name, 0, "", "", CONCURRENT)]) from None
    finally:
        _DECIMAL.reset(token)


def _import_once(
    session: Session, scope: Scope, kind: str, path: Path, lessee_code: str | None, encoding: str | None
) -> ImportResult:
    spec = SPECS[kind]
    name = path.name
    if not path.is_file():
        raise ImportFailed([RowError(name, 0, "", str(path), "file not found")])
    if spec is LEASES and not scope.is_lessor:
        raise ImportFailed(
            [RowError(name, 0, "", kind, "leases are the lessor's contracts: import as the lessor")]
        )
    lessee = _resolve_lessee(session, scope, lessee_code, name)
    if spec.needs_lessee and lessee is None:
        raise ImportFailed([RowError(name, 0, "", "", f"importing {kind} needs a lessee (--lessee CODE)")])
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    owner_id = lessee.id if lessee else None
    previous = session.exec(
        select_rows(
            scope,
            ImportBatch,
            ImportBatch.kind == kind,
            ImportBatch.sha256 == digest,
            ImportBatch.lessee_id == owner_id if owner_id is not None else ImportBatch.lessee_id.is_(None),
        )
    ).first()
    header, rows = read_table(path, encoding)
    if previous is not None:
        return ImportResult(kind, name, len(rows), 0, len(rows), None, duplicate_of_batch=previous.id)
    # The batch row goes first: its unique index is where two simultaneous imports of one file meet.
    batch = ImportBatch(
        lessor_id=scope.lessor_id, lessee_id=owner_id, kind=kind, filename=name, sha256=digest, rows=len(rows)
    )
    add_rows(session, scope, [batch])
    session.flush()
    ctx = Context.load(session, scope, lessee)
    built, errors = parse_rows(spec, name, header, rows, ctx)
    existing = spec.existing(ctx)
    seen: dict[tuple[Any, ...], int] = {}
    fresh: list[SQLModel] = []
    skipped = 0
    for number, row in built:
        key = spec.key_of(row)
        if key in seen:
            if spec.key is not None:
                errors.append(
                    RowError(
                        name,
                        number,
                        spec.columns[0].name,
                        str(key[-1]),
                        f"duplicate of row {seen[key]} in this file",
                    )
                )
            else:
                skipped += 1
            continue
        seen[key] = number
        old = existing.get(key)
        if old is not None:
            if _comparable(old) == _comparable(row) or spec.key is None:
                skipped += 1
                continue
            errors.append(
                RowError(
                    name,
                    number,
                    spec.columns[0].name,
                    str(key[-1]),
                    "already exists with different values (imports never overwrite)",
                )
            )
            continue
        fresh.append(row)
    errors.extend(_unique_within(spec, built, name))
    errors.extend(_registered_elsewhere(session, spec, fresh, built, name))
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: (e.row, e.column)))
    for row in fresh:
        if hasattr(row, "import_batch_id"):
            row.import_batch_id = batch.id  # type: ignore[attr-defined]
    add_rows(session, scope, fresh)
    session.flush()
    if spec is TRIPS and fresh:  # metered days: summarise their vehicle-months once the caller commits
        from fleet.emissions.monthly import refresh_after_commit

        refresh_after_commit(session)
    if spec.after_insert is not None:
        spec.after_insert(session, scope, fresh)
        session.flush()
    return ImportResult(kind, name, len(rows), len(fresh), skipped, batch.id)


def _registered_elsewhere(
    session: Session, spec: ImportSpec, fresh: list[SQLModel], built: list[tuple[int, SQLModel]], name: str
) -> list[RowError]:
    """Vehicles: a new plate or VIN that exists anywhere (another lessee's truck, the lessor's pool, another
    plate's VIN) is refused with one message that names no owner, instead of a raw uniqueness error."""
    if spec is not VEHICLES or not fresh:
        return []
    numbers = {id(row): number for number, row in built}
    plates = {r.plate for r in fresh}  # type: ignore[attr-defined]
    vins = {r.vin for r in fresh}  # type: ignore[attr-defined]
    taken = session.exec(
        select(Vehicle.plate, Vehicle.vin).where(sa.or_(Vehicle.plate.in_(plates), Vehicle.vin.in_(vins)))
    ).all()  # type: ignore[attr-defined]
    taken_plates = {p for p, _ in taken}
    taken_vins = {v for _, v in taken}
    errors = []
    for row in fresh:
        if row.plate in taken_plates:  # type: ignore[attr-defined]
            errors.append(RowError(name, numbers[id(row)], "plate", row.plate, FOREIGN_KEY))  # type: ignore[attr-defined]
        elif row.vin in taken_vins:  # type: ignore[attr-defined]
            errors.append(RowError(name, numbers[id(row)], "vin", row.vin, FOREIGN_KEY))  # type: ignore[attr-defined]
    return errors


def _unique_within(spec: ImportSpec, built: list[tuple[int, SQLModel]], name: str) -> list[RowError]:
    """Vehicles: a VIN must be unique too (the plate is the key). Leases: no two in the file overlap on a
    truck."""
    if spec is LEASES:
        errors = []
        for i, (number, a) in enumerate(built):
            for other, b in built[:i]:
                if (
                    a.vehicle_id == b.vehicle_id  # type: ignore[attr-defined]
                    and a.code != b.code  # type: ignore[attr-defined]
                    and a.start_date < b.end_date  # type: ignore[attr-defined]
                    and b.start_date < a.end_date  # type: ignore[attr-defined]
                ):
                    errors.append(
                        RowError(
                            name,
                            number,
                            "start_date",
                            str(a.start_date),
                            f"overlaps the lease in row {other}",
                        )  # type: ignore[attr-defined]
                    )
                    break
        return errors
    if spec is not VEHICLES:
        return []
    seen: dict[str, int] = {}
    errors = []
    for number, row in built:
        vin = row.vin  # type: ignore[attr-defined]
        if vin in seen:
            errors.append(RowError(name, number, "vin", vin, f"same VIN as row {seen[vin]}"))
        seen.setdefault(vin, number)
    return errors


def _resolve_lessee(session: Session, scope: Scope, code: str | None, file: str) -> Lessee | None:
    if scope.lessee_id is not None:
        lessee = session.get(Lessee, scope.lessee_id)
        if code and lessee is not None and lessee.code != code:
            raise ImportFailed([RowError(file, 0, "", code, f"scope is lessee {lessee.code}")])
        return lessee
    if not code:
        return None
    lessee = session.exec(
        select(Lessee).where(Lessee.code == code, Lessee.lessor_id == scope.lessor_id)
    ).first()
    if lessee is None:
        raise ImportFailed([RowError(file, 0, "", code, "unknown lessee")])
    return lessee
