"""Settings: nightly jobs (command line > environment EVFLEET_NIGHTLY_* > TOML file [nightly] > defaults) and the
app's default language (EVFLEET_LOCALE > TOML [app] locale > English)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = "evfleet.toml"


@dataclass(frozen=True)
class NightlySettings:
    workers: int = min(2, os.cpu_count() or 1)
    scheduler: str | None = None
    time_limit_s: float = 20.0  # routing budget per depot [s]
    charging_time_limit_s: float = 20.0
    retries: int = 1
    deadline_s: float | None = None
    seed: int = 0
    lessor: str | None = None
    # Travel matrices: "haversine" (default), "osm:PATH", "osrm:URL" or "valhalla:URL" (docs/road-networks.md);
    # EVFLEET_NIGHTLY_ROAD_NETWORK, [nightly] road_network or `evfleet nightly --road-network`.
    road_network: str | None = None


def _coerce(name: str, raw: Any) -> Any:
    kind = {f.name: f.type for f in fields(NightlySettings)}[name]
    if raw is None or raw == "":
        return None
    try:
        if "int" in str(kind):
            return int(raw)
        if "float" in str(kind):
            return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"setting {name!r}: {raw!r} is not a number") from None
    return str(raw)


def load_settings(
    config_file: str | Path | None = None, environ: dict[str, str] | None = None, **overrides: Any
) -> NightlySettings:
    """Merge the sources; unknown TOML keys are an error (a typo must not be silently ignored)."""
    environ = dict(os.environ) if environ is None else environ
    values: dict[str, Any] = {}
    path = Path(config_file) if config_file else Path(environ.get("EVFLEET_CONFIG", DEFAULT_CONFIG_FILE))
    if path.is_file():
        doc = tomllib.loads(path.read_text(encoding="utf-8")).get("nightly", {})
        names = {f.name for f in fields(NightlySettings)}
        unknown = set(doc) - names
        if unknown:
            raise ValueError(
                f"{path}: unknown [nightly] setting(s) {sorted(unknown)}; known: {sorted(names)}"
            )
        values.update({k: _coerce(k, v) for k, v in doc.items()})
    elif config_file:
        raise ValueError(f"config file {path} not found")
    for f in fields(NightlySettings):
        env = environ.get(f"EVFLEET_NIGHTLY_{f.name.upper()}")
        if env is not None:
            values[f.name] = _coerce(f.name, env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("road_network"):
        from routing.matrix import RoadNetworkSpec

        try:  # a typo must fail before any depot is planned, not in every worker
            values["road_network"] = str(RoadNetworkSpec.parse(values["road_network"]))
        except ValueError as exc:
            raise ValueError(f"setting 'road_network': {exc}") from None
    return NightlySettings(**values)


LOCALE_ENV = "EVFLEET_LOCALE"


def app_locale(config_file: str | Path | None = None, environ: dict[str, str] | None = None) -> str:
    """The app's deployment default language: EVFLEET_LOCALE > TOML file ([app] locale) > English.

    "zh-CN" (or "zh_CN") makes Chinese the default; each user can still switch in the sidebar. An unknown value is
    an error naming the source, not a silent fall-back."""
    from fleet.i18n import DEFAULT_LOCALE, normalise_locale

    environ = dict(os.environ) if environ is None else environ
    raw = environ.get(LOCALE_ENV, "").strip()
    source = LOCALE_ENV
    if not raw:
        path = Path(config_file) if config_file else Path(environ.get("EVFLEET_CONFIG", DEFAULT_CONFIG_FILE))
        if path.is_file():
            raw = str(
                tomllib.loads(path.read_text(encoding="utf-8")).get("app", {}).get("locale", "")
            ).strip()
            source = f"{path} [app] locale"
    if not raw:
        return DEFAULT_LOCALE
    try:
        return normalise_locale(raw)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
