"""Chinese and English for the app: gettext message catalogues (through Babel) and local number and date formats.

Usage in a page or service::

    from fleet.i18n import N_, _, fmt_date, fmt_number, localised

    st.metric(_("Distance [km]"), fmt_number(view.km, 1))
    LABELS = {"km": Column(N_("Distance [km]"), digits=1)}  # marked at import, translated at display time
    st.dataframe(localised(frame, LABELS))

Why gettext catalogues read with Babel: `.po` files are the standard translators' format (Poedit, Weblate,
Transifex), `pybabel extract/update` keeps them in step with the code, and Babel carries the CLDR data for
zh_CN and en number, currency and date formats, so neither is hand-rolled. The `.po` sources are package data and
are compiled in memory on first use (`babel.messages.mofile.write_mo`): a wheel needs no build step and can never
ship a stale `.mo`.

The current locale is per thread of execution (a `ContextVar`): Streamlit runs each browser session's script in
its own thread and the app shell sets the locale at the start of every rerun (`set_locale`). Cached services
return untranslated frames; pages translate at display time, so one cache serves both languages.

References: GNU gettext manual (PO files); Babel documentation, babel.pocode.org (`babel.numbers`,
`babel.dates`, `babel.messages`); Unicode CLDR (locale data).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_NAMES",
    "N_",
    "Column",
    "_",
    "catalogue_path",
    "column_labels",
    "fmt_currency",
    "fmt_date",
    "fmt_datetime",
    "fmt_number",
    "fmt_percent",
    "get_locale",
    "localised",
    "ngettext",
    "normalise_locale",
    "rounded",
    "set_locale",
    "use_locale",
]

DOMAIN = "evfleet"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALES: tuple[str, ...] = ("en", "zh_CN")  # catalogue names (POSIX form)
DEFAULT_LOCALE = "en"  # the source language: msgids are English
LOCALE_NAMES: dict[str, str] = {"en": "English", "zh_CN": "中文（简体）"}
MISSING = "–"  # shown for a missing number or date

_ALIASES = {"en": "en", "zh": "zh_CN", "zh_cn": "zh_CN", "zh_hans": "zh_CN", "zh_hans_cn": "zh_CN"}
_current: ContextVar[str] = ContextVar("evfleet_locale", default=DEFAULT_LOCALE)


def normalise_locale(tag: str) -> str:
    """A supported catalogue name for a locale tag: "zh-CN", "zh_CN", "zh-Hans" -> "zh_CN"; "en-GB" -> "en".

    Raises ValueError naming the supported locales for anything else (a typo in EVFLEET_LOCALE must not silently
    fall back to English)."""
    key = str(tag).strip().replace("-", "_").lower()
    if key.startswith("en_") or key == "en":
        return "en"
    found = _ALIASES.get(key)
    if found is None:
        raise ValueError(f"unsupported locale {tag!r}; supported: zh-CN, en")
    return found


def catalogue_path(locale: str) -> Path:
    """The `.po` source of a locale's catalogue (package data)."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LOCALES))
def _translations(locale: str) -> Any:
    """The locale's catalogue as gettext translations, compiled in memory from the shipped `.po`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with catalogue_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def set_locale(tag: str) -> str:
    """Make `tag` the current locale of this thread of execution; returns the catalogue name."""
    locale = normalise_locale(tag)
    _current.set(locale)
    return locale


def get_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(tag: str) -> Iterator[str]:
    """The locale `tag` inside the block (exports, tests), the previous one after it."""
    token = _current.set(normalise_locale(tag))
    try:
        yield token.var.get()
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """`message` (an English msgid) in the current locale; the msgid itself when the catalogue lacks it."""
    return str(_translations(get_locale()).gettext(message))


def ngettext(singular: str, plural: str, n: int) -> str:
    return str(_translations(get_locale()).ngettext(singular, plural, n))


def N_(message: str) -> str:
    """Marks a msgid for extraction without translating it (labels defined at import, shown later)."""
    return message


# ----------------------------------------------------------------------------------------------- formats


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def fmt_number(value: float | int | None, digits: int = 1, locale: str | None = None) -> str:
    """Grouped decimal with exactly `digits` decimals in the locale's symbols (CLDR); "–" for a missing value."""
    from babel.numbers import format_decimal

    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return str(format_decimal(value, format=pattern, locale=locale or get_locale()))


def fmt_currency(
    value: float | None, currency: str = "CNY", digits: int = 2, locale: str | None = None
) -> str:
    """Money with the locale's currency sign ("¥1,234.50" in zh_CN, "CN¥1,234.50" in en) [currency units]."""
    from babel.numbers import format_currency

    if _missing(value):
        return MISSING
    pattern = "¤#,##0" + ("." + "0" * digits if digits > 0 else "")
    return str(
        format_currency(value, currency, format=pattern, locale=locale or get_locale(), currency_digits=False)
    )


def fmt_percent(value: float | None, digits: int = 1, locale: str | None = None) -> str:
    """A fraction (0.123) as a percentage ("12.3%")."""
    from babel.numbers import format_percent

    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return str(format_percent(value, format=pattern, locale=locale or get_locale()))


def fmt_date(value: dt.date | None, format: str = "medium", locale: str | None = None) -> str:
    """A date in the locale's form: "Nov 26, 2026" (en), "2026年11月26日" (zh_CN)."""
    from babel.dates import format_date

    if _missing(value):
        return MISSING
    return str(format_date(value, format=format, locale=locale or get_locale()))


def fmt_datetime(value: dt.datetime | None, format: str = "short", locale: str | None = None) -> str:
    """A local clock date-time (no zone conversion: plan times are already in the depot's zone)."""
    from babel.dates import format_datetime

    if _missing(value):
        return MISSING
    return str(format_datetime(value, format=format, locale=locale or get_locale()))


# ------------------------------------------------------------------------------------------ table labels


@dataclass(frozen=True)
class Column:
    """How a service's frame column is shown: a human label with its unit (an English msgid) and the decimals
    numbers are rounded to (None: left as they are, e.g. counts, text, times)."""

    label: str
    digits: int | None = None


def column_labels(columns: Mapping[str, Column | str]) -> dict[str, str]:
    """{frame column: translated label} in the current locale."""
    return {k: _(c.label if isinstance(c, Column) else c) for k, c in columns.items()}


def localised(
    frame: pd.DataFrame, columns: Mapping[str, Column | str], keep_others: bool = False
) -> pd.DataFrame:
    """The frame for display: columns in the map's order with translated labels, numbers rounded to each
    column's digits (no 15-digit floats). Columns missing from the map are dropped unless `keep_others`."""
    present = [c for c in columns if c in frame.columns]
    others = [c for c in frame.columns if c not in columns] if keep_others else []
    out = rounded(frame[present + others], columns)
    return out.rename(columns=column_labels({c: columns[c] for c in present}))


def rounded(frame: pd.DataFrame, columns: Mapping[str, Column | str]) -> pd.DataFrame:
    """A copy with each listed numeric column rounded to its `Column.digits` (others unchanged)."""
    out = frame.copy()
    for name, spec in columns.items():
        if name in out.columns and isinstance(spec, Column) and spec.digits is not None:
            out[name] = pd.to_numeric(out[name], errors="coerce").round(spec.digits)
    return out
