"""Issue 19 item 4: claims live in the database, unique per (vehicle, day, scheme); a second claim is refused
naming the package that holds it, also under two concurrent builds on PostgreSQL; legacy ledgers import."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.db import make_engine, session_scope
from fleet.emissions import claims
from fleet.emissions.attribution import ClaimsLedger, DoubleClaimError
from fleet.emissions.profiles import GLEC_WTW, TCSAE_235
from fleet.models import EmissionClaim
from fleet.scope import scope_for
from fleet.submission.run import make_submission


def test_second_claim_from_another_directory_is_refused(demo_copy, tmp_path: Path, monkeypatch) -> None:
    """The JSON ledger lived in the working directory; the table does not care where the command runs."""
    url = str(demo_copy.url)
    runner = CliRunner()
    common = ["submission", "--lessee", "PCX", "--year", "2026", "--as-of", "2026-11-24", "--db", url]
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    first = runner.invoke(app, [*common, "--out", "pkg"])
    assert first.exit_code == 0, first.output
    monkeypatch.chdir(tmp_path / "two")
    second = runner.invoke(app, [*common, "--profile", "ams-iii-c", "--out", "pkg"])
    assert second.exit_code == 1
    assert "double counting" in second.output and "submission:PCX:2026:tcsae-235" in second.output
    assert not (tmp_path / "two" / "pkg").exists()
    with session_scope(demo_copy) as s:
        rows = s.exec(select(EmissionClaim)).all()
        assert {r.report_id for r in rows} == {"submission:PCX:2026:tcsae-235"}
        assert all(r.package.startswith("PCX-2026-tcsae-235.json sha256:") for r in rows)
        assert len({(r.vehicle_id, r.day, r.scheme) for r in rows}) == len(rows) > 1000
    # another scheme may hold the same vehicle-days
    third = runner.invoke(app, [*common, "--profile", "ams-iii-c", "--scheme", "icma-report", "--out", "pkg"])
    assert third.exit_code == 0, third.output


def test_legacy_ledger_is_imported_and_then_enforced(demo_copy, tmp_path: Path) -> None:
    url = str(demo_copy.url)
    legacy = ClaimsLedger()
    legacy.claim(
        "submission:PCX:2026:old",
        "PCX",
        [("粤BD10001", date(2026, 11, 1) + timedelta(days=k)) for k in range(5)],
    )
    path = tmp_path / "evfleet-claims.json"
    legacy.save(path)
    runner = CliRunner()
    done = runner.invoke(app, ["claims", "import", str(path), "--db", url])
    assert done.exit_code == 0 and "5 vehicle-days imported" in done.output, done.output
    assert not path.exists() and (tmp_path / "evfleet-claims.json.imported").exists()
    listing = runner.invoke(app, ["claims", "list", "--db", url])
    assert "submission:PCX:2026:old" in listing.output
    refused = runner.invoke(
        app, ["submission", "--lessee", "PCX", "--year", "2026", "--out", str(tmp_path / "p"), "--db", url]
    )
    assert refused.exit_code == 1 and "submission:PCX:2026:old" in refused.output
    # 2026-11-01 has no metered record for that truck, so four of the five imported days collide
    assert "粤BD10001: 4 day(s) 2026-11-02 to 2026-11-05 already claimed" in " ".join(refused.output.split())


def test_submission_imports_a_legacy_ledger_automatically(demo_copy, tmp_path: Path) -> None:
    legacy = ClaimsLedger()
    legacy.claim("submission:FRESH:2026:old", "FRESH", [("粤BD10001", date(2026, 10, 3))])
    path = tmp_path / "claims.json"
    legacy.save(path)
    with pytest.raises(DoubleClaimError, match="submission:FRESH:2026:old"), session_scope(demo_copy) as s:
        make_submission(s, scope_for(s, lessee_code="PCX"), "PCX", 2026, TCSAE_235, tmp_path / "o", path)
    assert path.exists()  # rolled back: nothing imported, the file stays
    with session_scope(demo_copy) as s:
        assert s.exec(select(EmissionClaim)).all() == []


def _build(url: str, profile, out: Path, results: dict, barrier: threading.Barrier) -> None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            scope = scope_for(s, lessee_code="PCX")
            barrier.wait()
            make_submission(s, scope, "PCX", 2026, profile, out, as_of=date(2026, 11, 24))
        results[profile.profile_id] = "ok"
    except DoubleClaimError as exc:
        results[profile.profile_id] = str(exc)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_concurrent_builds_over_the_same_vehicle_days_exactly_one_wins(
    pg_url: str, tmp_path: Path
) -> None:
    from fleet.demo.load import load_demo
    from fleet.migrate import upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    load_demo(engine)
    engine.dispose()
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=_build, args=(pg_url, p, tmp_path / p.profile_id, results, barrier))
        for p in (TCSAE_235, GLEC_WTW)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(results) == ["glec-wtw", "tcsae-235"]
    winners = [k for k, v in results.items() if v == "ok"]
    assert len(winners) == 1, results
    (loser,) = [k for k in results if k not in winners]
    assert f"submission:PCX:2026:{winners[0]}" in results[loser] and "double counting" in results[loser]
    assert (tmp_path / winners[0]).is_dir() and not (tmp_path / loser).exists()
    engine = make_engine(pg_url)
    with session_scope(engine) as s:
        held = {r.report_id for r in s.exec(select(EmissionClaim)).all()}
    engine.dispose()
    assert held == {f"submission:PCX:2026:{winners[0]}"}


def test_claim_release_and_reclaim_in_the_table(demo_copy) -> None:
    days = [("粤BD10001", date(2026, 11, 1) + timedelta(days=k)) for k in range(3)]
    with session_scope(demo_copy) as s:
        scope = scope_for(s)
        assert claims.claim(s, scope, "r1", "PCX", days) == 3
        assert claims.claim(s, scope, "r1", "PCX", days[:2]) == 2  # the same report replaces its claims
    with session_scope(demo_copy) as s:
        scope = scope_for(s)
        with pytest.raises(DoubleClaimError, match="2 vehicle-day"):
            claims.claim(s, scope, "r2", "PCX", days)
    with session_scope(demo_copy) as s:
        assert claims.release(s, scope_for(s), "r1") == 2
        assert claims.claim(s, scope_for(s), "r2", "PCX", days) == 3
