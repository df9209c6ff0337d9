"""Chinese and English (issue 21 item 6): complete catalogues, local formats, the deployment default."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from fleet.i18n import (
    Column,
    _,
    catalogue_path,
    fmt_currency,
    fmt_date,
    fmt_number,
    fmt_percent,
    get_locale,
    localised,
    normalise_locale,
    use_locale,
)
from fleet.i18n.catalogue import ROOT, SOURCES, extract_msgids, problems, read_catalogue
from fleet.settings import app_locale

PLACEHOLDER = re.compile(r"\{(\w*)[^}]*\}")


@pytest.fixture(scope="module")
def used() -> dict[str, list[str]]:
    return extract_msgids()


def test_every_msgid_in_the_code_is_in_both_catalogues_and_translated_in_chinese(used) -> None:  # type: ignore[no-untyped-def]
    assert len(used) > 200, "the extraction found too little: is it looking at the pages?"
    assert problems() == []


def test_the_completeness_check_fails_on_a_missing_translation(tmp_path: Path) -> None:
    page = tmp_path / "app_pages" / "new_page.py"
    page.parent.mkdir()
    page.write_text('from fleet.services.i18n import _\n\nst.title(_("A label nobody translated"))\n')
    found = problems(tmp_path)
    assert any("zh_CN: missing msgid 'A label nobody translated'" in p for p in found)
    assert any("en: missing msgid 'A label nobody translated'" in p for p in found)


def test_translation_calls_take_literals_so_extraction_sees_them() -> None:
    """`_(f"...")` or `_(name)` would escape extraction (and the catalogue check): every call to `_`, `N_` takes
    one string literal; values go in with .format()."""
    bad = []
    files = [ROOT / s for s in SOURCES if (ROOT / s).is_file()]
    files += [p for s in SOURCES if (ROOT / s).is_dir() for p in (ROOT / s).rglob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
                literal = len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
                if node.func.id == "N_" and not literal:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if node.func.id == "_" and not literal and not _translates_a_marked_label(node):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, f"translation calls without a string literal: {bad}"


def _translates_a_marked_label(node: ast.Call) -> bool:
    """`_(spec.label)`, `_(LABELS[k])`, `_(x)` over N_-marked values are fine: the msgid was marked where it was
    defined. Only f-strings and string concatenation inside `_()` lose the msgid."""
    (arg,) = node.args
    return not isinstance(arg, (ast.JoinedStr, ast.BinOp))


def test_chinese_translations_keep_the_placeholders() -> None:
    zh = read_catalogue("zh_CN")
    wrong = [
        m.id
        for m in zh
        if m.id and m.string and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, f"zh_CN translations with other {{placeholders}} than their msgid: {wrong}"


def test_switching_locale_translates_and_english_is_the_msgid() -> None:
    assert get_locale() == "en"
    assert _("Charging") == "Charging"
    with use_locale("zh-CN"):
        assert _("Charging") == "充电"
        assert _("Distance [km]") == "里程 [km]"
        assert _("a msgid that is not in any catalogue") == "a msgid that is not in any catalogue"
    assert get_locale() == "en"


def test_local_number_date_and_money_formats() -> None:
    day = dt.date(2026, 11, 26)
    assert fmt_date(day, locale="en") == "Nov 26, 2026"
    assert fmt_date(day, locale="zh_CN") == "2026年11月26日"
    assert fmt_number(12345.678, 1, locale="zh_CN") == "12,345.7"
    assert fmt_number(0.1 + 0.2, 2, locale="en") == "0.30"  # no 15-digit floats
    assert fmt_number(None) == fmt_number(float("nan")) == "–"
    assert fmt_currency(1234.5, locale="zh_CN") == "¥1,234.50"
    assert fmt_currency(1234.5, locale="en") == "CN¥1,234.50"
    assert fmt_percent(0.1234, 1, locale="en") == "12.3%"


def test_localised_frames_have_human_labels_and_rounding() -> None:
    frame = pd.DataFrame({"km": [12.345678901234], "vehicle": ["粤B1"], "internal": [1]})
    spec = {"vehicle": Column("Truck"), "km": Column("Distance [km]", 1)}
    with use_locale("zh_CN"):
        shown = localised(frame, spec)
    assert list(shown.columns) == ["车辆", "里程 [km]"]
    assert shown["里程 [km]"].iloc[0] == 12.3


def test_deployment_default_locale(tmp_path: Path) -> None:
    assert app_locale(environ={}) == "en"
    assert app_locale(environ={"EVFLEET_LOCALE": "zh-CN"}) == "zh_CN"
    toml = tmp_path / "evfleet.toml"
    toml.write_text('[app]\nlocale = "zh_CN"\n', encoding="utf-8")
    assert app_locale(toml, environ={}) == "zh_CN"
    assert app_locale(toml, environ={"EVFLEET_LOCALE": "en"}) == "en"  # environment over file
    with pytest.raises(ValueError, match=r"EVFLEET_LOCALE.*unsupported locale 'fr'"):
        app_locale(environ={"EVFLEET_LOCALE": "fr"})
    assert normalise_locale("zh_Hans_CN") == "zh_CN" and normalise_locale("en-GB") == "en"


def test_catalogues_are_package_data() -> None:
    """The .po sources ship in the wheel (tests/test_wheel.py checks the wheel holds every tracked file)."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "i18n/locale/*/LC_MESSAGES/*.po" in data["package-data"]["fleet"]
    assert {"fleet.i18n", "fleet.geo"} <= set(data["packages"])
    for locale in ("en", "zh_CN"):
        assert catalogue_path(locale).is_file()
