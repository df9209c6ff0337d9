"""The nightly with the flexibility reduce step survives a worker killed mid-run: the dead worker's depot is missing
from the offer, every other depot is in it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from fleet.nightly import NightlyConfig
from fleet.pipeline import RunOptions
from fleet.vpp.nightly_flex import nightly_with_flex

pytestmark = pytest.mark.slow


def test_reduce_after_a_killed_worker(demo_copy: Engine) -> None:
    url = demo_copy.url.render_as_string(hide_password=False)
    config = NightlyConfig(
        service_date=dt.date(2026, 11, 26),
        db_url=url,
        depot_codes=("SZ-BA", "SZ-NS"),
        workers=2,
        retries=0,
        options=RunOptions(time_limit_s=1.0, charging_time_limit_s=1.0, seed=1),
        faults={"SZ-NS": "exit"},  # os._exit in the worker: Dask reports KilledWorker for that depot only
    )
    result = nightly_with_flex(config)
    status = {o.depot_code: o.status for o in result.summary.outcomes}
    assert status == {"SZ-BA": "succeeded", "SZ-NS": "failed"}
    assert result.missing == ("SZ-NS",)
    assert set(result.depots["depot"]) == {"SZ-BA"}
    assert set(result.zones["zone"]) == {"Bao'an"} and result.offer["zone"].tolist() == ["Bao'an"]
    assert (result.zones["add_kw"] > 0).any()
