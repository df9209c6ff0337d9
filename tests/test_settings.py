"""Nightly settings: command line > environment > TOML file > defaults; typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.settings import NightlySettings, load_settings


def test_precedence(tmp_path: Path) -> None:
    toml = tmp_path / "evfleet.toml"
    toml.write_text(
        '[nightly]\nworkers = 3\ntime_limit_s = 45\nscheduler = "tcp://h:8786"\n', encoding="utf-8"
    )
    assert load_settings(toml, environ={}) == NightlySettings(
        workers=3, time_limit_s=45.0, scheduler="tcp://h:8786"
    )
    env = {"EVFLEET_NIGHTLY_WORKERS": "4", "EVFLEET_NIGHTLY_DEADLINE_S": "900"}
    s = load_settings(toml, environ=env, time_limit_s=12.0)
    assert (s.workers, s.deadline_s, s.time_limit_s, s.scheduler) == (4, 900.0, 12.0, "tcp://h:8786")


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}) == NightlySettings()


def test_errors_name_the_setting(tmp_path: Path) -> None:
    toml = tmp_path / "evfleet.toml"
    toml.write_text("[nightly]\nworkrs = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown \[nightly\] setting.*workrs"):
        load_settings(toml, environ={})
    with pytest.raises(ValueError, match="setting 'workers': 'two' is not a number"):
        load_settings(
            None, environ={"EVFLEET_NIGHTLY_WORKERS": "two", "EVFLEET_CONFIG": str(tmp_path / "none")}
        )
    with pytest.raises(ValueError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})
