"""A lease's carbon scenario prices its own metered kgCO2/km, not the reference truck's (issue 19 item 11)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.db import session_scope
from fleet.emissions.calc import parse_period
from fleet.emissions.per_lease import PER_LEASE_PROFILE, avoided_kg_per_km
from fleet.emissions.profiles import get_profile
from fleet.emissions.service import report_from_db
from fleet.scope import scope_for

AS_OF = dt.date(2026, 11, 24)


def test_each_lease_gets_its_own_reduction_over_its_own_km(demo_copy: Engine) -> None:
    with session_scope(demo_copy) as s:
        scope = scope_for(s)
        own = avoided_kg_per_km(s, scope, AS_OF)
        days = report_from_db(
            s, scope, None, parse_period("2026"), get_profile(PER_LEASE_PROFILE), as_of=AS_OF
        )
    lease = min(own)
    mine = [d for d in (*days.report.ex_post, *days.report.attributed_elsewhere) if d.lease_id == lease]
    assert mine, "the demo meters this lease"
    expected = sum(d.reduction_t for d in mine) * 1000 / sum(d.km for d in mine)
    assert own[lease] == pytest.approx(expected)
    assert 0.0 < own[lease] < 2.0  # kg per km of a light truck, not tonnes
    assert len({round(v, 6) for v in own.values()}) > 1  # leases differ: not one reference figure for all


def test_the_lease_report_names_the_leases_own_figure(demo_copy: Engine) -> None:
    result = CliRunner().invoke(app, ["roi", "--lease", "L-NS-001", "--json", "--db", str(demo_copy.url)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert "the lease's own" in report["sources"]["carbon"]
    assert report["carbon"]["scenario"]["avoided_kg_per_km"] > 0
