"""One claimant per vehicle-day; the ledger refuses a second claim and names it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fleet.emissions.attribution import ClaimsLedger, DoubleClaimError
from fleet.emissions.calc import parse_period, total
from fleet.emissions.profiles import TCSAE_235
from fleet.emissions.report import build_report
from fleet.factors import FactorRegistry

from .conftest import reference_book, reference_days, reference_lease


def days(vehicle: str, first: date, n: int) -> list[tuple[str, date]]:
    return [(vehicle, first + timedelta(days=k)) for k in range(n)]


def test_second_report_over_the_same_vehicle_days_is_refused_with_the_runs_named() -> None:
    ledger = ClaimsLedger()
    assert ledger.claim("submission:lessee-a:2026", "lessee-a", days("V1", date(2026, 1, 1), 365)) == 365
    with pytest.raises(DoubleClaimError) as refused:
        ledger.claim(
            "monthly:lessor:2026-11",
            "lessor",
            days("V1", date(2026, 11, 1), 30) + days("V2", date(2026, 11, 1), 30),
        )
    (conflict,) = refused.value.conflicts
    assert (conflict.vehicle_id, conflict.first_day, conflict.last_day, conflict.days) == (
        "V1",
        date(2026, 11, 1),
        date(2026, 11, 30),
        30,
    )
    assert "already claimed by lessee-a in report submission:lessee-a:2026" in str(refused.value)
    assert ledger.holder("V2", date(2026, 11, 1)) is None  # all-or-nothing


def test_rerunning_the_same_report_replaces_its_own_claims(tmp_path) -> None:
    ledger = ClaimsLedger()
    ledger.claim("r1", "lessee-a", days("V1", date(2026, 1, 1), 10))
    ledger.claim("r1", "lessee-a", days("V1", date(2026, 1, 5), 3))
    assert len(ledger) == 3 and ledger.holder("V1", date(2026, 1, 1)) is None
    path = tmp_path / "claims.json"
    ledger.save(path)
    again = ClaimsLedger.load(path)
    assert again.holder("V1", date(2026, 1, 6)) == ("r1", "lessee-a") and len(again) == 3
    assert again.to_json() == ledger.to_json()


def test_lessor_claimant_moves_the_reduction_out_of_the_lessee_report(registry: FactorRegistry) -> None:
    book = reference_book(reference_lease(claimant="lessor"))
    period = parse_period("2024")
    lessee = build_report("lessee-a", period, reference_days(2024), [], book, TCSAE_235, registry)
    lessor = build_report("lessor", period, reference_days(2024), [], book, TCSAE_235, registry)
    assert lessee.ex_post == () and len(lessee.attributed_elsewhere) == 200
    assert len(lessor.ex_post) == 200 and lessor.attributed_elsewhere == ()
    assert total(lessor.ex_post).reduction_t == pytest.approx(total(lessee.attributed_elsewhere).reduction_t)
