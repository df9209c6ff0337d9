"""VPP page (AppTest): the offer per zone, an event dispatched with every truck ready, settlement's clear error."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.app.conftest import AppRunner, url_of

pytestmark = pytest.mark.slow


def test_offer_dispatch_and_settlement(run_app: AppRunner, planned_engine: Engine) -> None:
    at = run_app(url_of(planned_engine), "vpp")
    assert not at.exception, [e.value for e in at.exception]
    summary = at.dataframe[0].value
    assert summary["Zone"].tolist() == ["Nanshan"]  # the one planned depot, SZ-NS
    at.number_input(key="vpp_target").set_value(0.0)
    at.button(key="vpp_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success and "trucks ready" in at.success[0].value, [e.value for e in at.error]
    depots = at.dataframe[2].value
    # human labels (fleet.services.vpp.DISPATCH_DEPOT_DISPLAY), not the frame's names
    assert (depots["Trucks ready"] == depots["Trucks"]).all() and depots["Charging checker passed"].all()
    at.button(key="vpp_settle").click().run()
    assert not at.exception
    assert any("needs 5 days" in e.value for e in at.error)  # the demo has no site meter history
