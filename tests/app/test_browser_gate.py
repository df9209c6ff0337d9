"""The browser test's gate: without Chromium it skips on a developer machine and fails under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app import conftest


def test_missing_chromium_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing"):
        conftest._require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set but the browser test cannot run"):
        conftest._require_browser()
