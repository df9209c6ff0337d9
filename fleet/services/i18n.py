"""The pages' door to `fleet.i18n` (pages reach `fleet` only through `fleet.services`): translation, local number
and date formats, display labels for the services' frames, and the deployment's default language."""

from __future__ import annotations

from fleet.i18n import (
    DEFAULT_LOCALE,
    LOCALE_NAMES,
    LOCALES,
    N_,
    Column,
    _,
    column_labels,
    fmt_currency,
    fmt_date,
    fmt_datetime,
    fmt_number,
    fmt_percent,
    get_locale,
    localised,
    ngettext,
    set_locale,
)

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_NAMES",
    "N_",
    "Column",
    "_",
    "column_labels",
    "default_locale",
    "fmt_currency",
    "fmt_date",
    "fmt_datetime",
    "fmt_number",
    "fmt_percent",
    "get_locale",
    "localised",
    "ngettext",
    "set_locale",
]


def default_locale() -> str:
    """EVFLEET_LOCALE or evfleet.toml [app] locale, else English (`fleet.settings.app_locale`)."""
    from fleet.settings import app_locale

    return app_locale()
