"""Routing-checker violations and re-plan notices worded in zh-CN and English (fleet.planning.violation_text):
every rule the checker can report has words in both, and the Chinese names the rule."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from fleet.i18n import _, use_locale
from fleet.planning.violation_text import NOTICE_TEXT, RULE_NAMES, RULE_TEXT, notice_text, violation_text
from fleet.planning.violation_text import _clock as clock
from routing.check import RULES, Constraint, Violation

ORIGIN = dt.datetime(2026, 11, 26, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _violation(rule: str) -> Violation:
    constraint = Constraint(rule.split(".")[0])
    kind = rule == "vehicle_kind.wrong"
    return Violation(
        constraint,
        "the checker's English",
        vehicle="ev#1",
        stop=2,
        where="SZ-NS-001",
        quantity="soc_arrival_kwh",
        expected="electric" if kind else 630.0,
        found="diesel" if kind else 655.5,
        rule=rule,
    )


def test_every_constraint_and_rule_has_words() -> None:
    assert set(RULE_NAMES) == set(Constraint)
    assert set(RULE_TEXT) == set(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_in_chinese_names_the_rule_and_keeps_the_figures(rule: str) -> None:
    v = _violation(rule)
    with use_locale("zh_CN"):
        zh = violation_text(v, truck="粤B12345", origin=ORIGIN, jobs={"SZ-NS-001"})
        name = _(RULE_NAMES[v.constraint])
    en = violation_text(v, truck="粤B12345", origin=ORIGIN, jobs={"SZ-NS-001"})
    assert zh.startswith("粤B12345，第 3 站：") and en.startswith("粤B12345, stop 3: ")
    assert f"{name}：" in zh, (rule, zh)
    assert "{" not in zh and "{" not in en
    assert not re.search(r"\b(the|after|below|above|order|truck)\b", zh), zh  # no English left
    figures = r"\d+(?:[.,:]\d+)*"
    assert sorted(re.findall(figures, zh)) == sorted(re.findall(figures, en))  # the same figures


def test_english_words_are_what_the_page_showed() -> None:
    window = Violation(
        Constraint.TIME_WINDOW,
        "x",
        vehicle="ev#1",
        stop=4,
        where="J7",
        expected=630.0,
        found=642.0,
        rule="time_window.late",
    )
    assert (
        violation_text(window, truck="粤B1", origin=ORIGIN)
        == "粤B1, stop 5: arrives 10:42 after window end 10:30 at order J7"
    )
    home = Violation(
        Constraint.RESERVE_SOC,
        "x",
        vehicle="ev#1",
        where="D",
        expected=20.0,
        found=12.25,
        rule="reserve_soc.below_reserve",
    )
    assert violation_text(home, truck="粤B1") == (
        "粤B1: state of charge 12.2 kWh on return to the depot, below the reserve 20.0 kWh"
    )
    with use_locale("zh_CN"):
        assert (
            violation_text(home, truck="粤B1")
            == "粤B1：电量低于保留值：电量 12.2 kWh（返回场站时），低于保留值 20.0 kWh"
        )
    station = Violation(Constraint.CHARGING, "x", vehicle="ev#1", stop=0, where="S1", rule="charging.diesel")
    assert violation_text(station, jobs={"J7"}).endswith("at charging station S1")
    assert clock(ORIGIN, 630.0) == "10:30" and clock(None, 630.0) == "630 min"


def test_a_violation_without_a_rule_still_names_its_constraint() -> None:
    old = Violation(Constraint.PAYLOAD, "load on leaving the depot exceeds the payload", vehicle="ev#1")
    with use_locale("zh_CN"):
        assert violation_text(old) == "ev#1：载重: load on leaving the depot exceeds the payload"


@pytest.mark.parametrize(
    ("code", "params", "zh_has"),
    [
        ("status_changed", {"plate": "粤B1", "status": "maintenance"}, "维修"),
        ("unplanned_orders", {"n": 3}, "3 个订单"),
        ("available_after_shift", {"plate": "粤B1", "at": "19:10", "shift_end": "18:00"}, "19:10"),
        ("charge_clamped", {"plate": "粤B1", "soc": "5.0", "taken": "10.0 %"}, "10.0 %"),
        ("left_unserved", {"n": 1, "orders": "J7"}, "J7"),
    ],
)
def test_replan_notices_in_both_languages(code: str, params: dict, zh_has: str) -> None:
    assert code in NOTICE_TEXT
    en = notice_text(code, params)
    with use_locale("zh_CN"):
        zh = notice_text(code, params)
    assert zh != en and zh_has in zh and "{" not in zh
