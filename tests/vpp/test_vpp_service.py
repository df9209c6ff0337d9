"""VPP on the demo database: tonight's plans -> flexibility per zone, an event dispatched with every truck ready
(charging checker per depot), V2G only where a lease consents, settlement from the site meter."""

from __future__ import annotations

import datetime as dt
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from charging.dispatch import Event
from fleet.db import make_engine
from fleet.models import Depot, Lease, SiteMeterReading, Vehicle
from fleet.pipeline import RunOptions, run_depot_day
from fleet.scope import scope_for
from fleet.services import vpp as svc
from fleet.vpp.settlement import BaselineMethod, SettlementError

DAY = dt.date(2026, 11, 26)
FAST = RunOptions(time_limit_s=1.0, charging_time_limit_s=1.0, seed=1)
DEPOTS = ("SZ-NS", "SZ-BA")


@pytest.fixture(scope="module")
def planned(demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The demo with tonight's plans for two depots, V2G consent on the even-numbered Nanshan leases and a 40 kW
    base load at Nanshan."""
    dst = Path(tmp_path_factory.mktemp("vpp")) / "vpp.db"
    with sqlite3.connect(demo_engine.url.database) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    engine = make_engine(f"sqlite:///{dst}")
    with Session(engine) as s:
        scope = scope_for(s)
        ids = [s.exec(select(Depot).where(Depot.code == c)).one().id for c in DEPOTS]
        for lease in s.exec(select(Lease).where(Lease.code.like("L-NS-%"))).all():  # type: ignore[attr-defined]
            lease.v2g_consent = int(lease.code[-1]) % 2 == 0
            lease.vpp_lessee_share = Decimal("0.4")
            s.add(lease)
        ns = s.exec(select(Depot).where(Depot.code == "SZ-NS")).one()
        ns.base_load_kw = [40.0] * 24  # cold rooms: what V2G can offset (the site may not export)
        s.add(ns)
        s.commit()
    for depot_id in ids:
        run_depot_day(engine, scope, depot_id, DAY, FAST)
    return engine


def _busiest_window(view: svc.FlexView, slots: int = 2) -> tuple[dt.datetime, float]:
    z = view.zones.groupby("slot_start", as_index=False)["shed_kw"].sum().sort_values("slot_start")
    shed = z["shed_kw"].to_numpy()
    best = max(range(len(shed) - slots + 1), key=lambda k: shed[k : k + slots].min())
    return z["slot_start"].iloc[best].to_pydatetime(), float(shed[best : best + slots].min())


def test_flexibility_per_zone(planned: Engine) -> None:
    with Session(planned) as s:
        view = svc.flexibility(s, None, DAY)
    assert set(view.depots["depot"]) == set(DEPOTS)
    assert set(view.zones["zone"]) == {"Nanshan", "Bao'an"}
    assert (view.depots[["shed_kw", "add_kw", "v2g_kw"]] >= -1e-9).all().all()
    # Bao'an has no V2G connector and no consent: it can shed only charging it planned.
    ba = view.depots[view.depots["depot"] == "SZ-BA"]
    assert (ba["v2g_kw"] == 0).all()
    assert (ba["shed_kw"] <= ba["planned_kw"].clip(lower=0) + 1e-6).all()
    summed = view.depots.groupby(["zone", "slot_start"])["shed_kw"].sum()
    assert np.allclose(
        summed.sort_index().to_numpy(), view.zones.set_index(["zone", "slot_start"])["shed_kw"].sort_index()
    )


def test_dispatch_keeps_every_truck_ready_and_settles(planned: Engine) -> None:
    with Session(planned) as s:
        start, shed = _busiest_window(svc.flexibility(s, None, DAY))
        assert shed > 1.0
        event = Event(
            start, start + timedelta(minutes=30), "down", target_kw=0.5 * shed, price_cny_per_kwh=4.0
        )
        view = svc.dispatch_event(s, None, DAY, event, wear_cny_per_kwh=0.3, time_limit_s=30)
    assert view.result.status == "optimal"
    assert view.all_ready, view.depots.to_dict("records")
    assert (view.depots["trucks_ready"] == view.depots["trucks"]).all()  # the demo's plans leave none short
    assert (view.slots["delivered_kw"] >= 0.5 * shed - 1e-3).all()
    # Settlement: no meter yet -> a clear error; with five workdays of history, settle on the dispatched import.
    with Session(planned) as s:
        with pytest.raises(SettlementError, match="needs 5 days"):
            svc.settle(s, None, view.record, BaselineMethod(5), measured="dispatch")
        ids = {d.code: d.id for d in s.exec(select(Depot)).all()}
        window = [dt.datetime.fromisoformat(t) for t in view.record["slot_starts"]]
        back = 1
        for _ in range(5):
            while (window[0] - timedelta(days=back)).date().weekday() >= 5:
                back += 1
            for d in view.record["depots"]:
                for k, t in enumerate(window):
                    planned_kw = d["site_import_kw"][k] + d["response_kw"][k]
                    s.add(
                        SiteMeterReading(
                            lessor_id=1,
                            depot_id=ids[d["depot"]],
                            interval_start=t - timedelta(days=back),
                            kw=planned_kw,
                        )
                    )
            back += 1
        s.commit()
        result = svc.settle(s, None, view.record, BaselineMethod(5), measured="dispatch")
    delivered_kwh = float(np.sum(view.result.delivered_kw)) * 0.25
    # The record rounds kW to 3 decimals: 4 values a slot -> at most 0.002 kW x 0.25 h per slot and depot.
    assert result.depots["response_kwh"].sum() == pytest.approx(delivered_kwh, rel=1e-4, abs=0.01)
    assert result.totals["revenue_cny"] == pytest.approx(4.0 * delivered_kwh, rel=1e-4, abs=0.04)
    assert result.totals["lessee_cny"] + result.totals["lessor_cny"] == pytest.approx(
        result.totals["revenue_cny"]
    )


def test_no_v2g_without_consent(planned: Engine) -> None:
    """A price-only event pays 4 CNY/kWh: discharge pays, but only consenting trucks on V2G connectors may."""
    with Session(planned) as s:
        flex = svc.flexibility(s, None, DAY)
        ns = flex.depots[flex.depots["depot"] == "SZ-NS"].reset_index(drop=True)
        k = int(ns["v2g_kw"].rolling(2).min().shift(-1).fillna(0).idxmax())  # best 2-slot window for V2G
        start = ns["slot_start"].iloc[k].to_pydatetime()
        v2g_possible = float(ns["v2g_kw"].iloc[k : k + 2].min()) > 1e-6
        event = Event(start, start + timedelta(minutes=30), "down", price_cny_per_kwh=4.0)
        view = svc.dispatch_event(s, None, DAY, event, wear_cny_per_kwh=0.0, time_limit_s=30)
        consent = {
            plate: lease.v2g_consent
            for lease, plate in s.exec(
                select(Lease, Vehicle.plate).join(Vehicle, Vehicle.id == Lease.vehicle_id)
            ).all()
        }
    assert view.all_ready
    discharged = [v.id for d in view.result.depots for v in d.schedule.vehicles if min(v.power_kw) < -1e-6]
    # Where the plan put consenting trucks on V2G connectors, discharge at 4 CNY/kWh with no wear pays.
    if v2g_possible:
        assert discharged, "the event pays for discharge: some consenting truck should discharge"
    assert all(consent.get(plate) for plate in discharged), f"discharged without consent: {discharged}"


def test_cli_flex_dispatch_settle(planned: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from fleet.cli.main import app

    db = ["--db", planned.url.render_as_string(hide_password=False)]
    runner = CliRunner()
    flex = runner.invoke(app, ["vpp", "flex", "--date", DAY.isoformat(), *db])
    assert flex.exit_code == 0, flex.output
    assert "Nanshan" in flex.output and "Bao'an" in flex.output
    bad = runner.invoke(
        app,
        [
            "vpp",
            "dispatch",
            "--date",
            DAY.isoformat(),
            "--start",
            "2026-11-26T01:00",
            "--end",
            "x",
            "--wear",
            "0",
            *db,
        ],
    )
    assert bad.exit_code == 1 and "has no time zone offset" in bad.output
    out = tmp_path / "dispatch.json"
    ok = runner.invoke(
        app,
        ["vpp", "dispatch", "--date", DAY.isoformat(), "--start", "2026-11-26T01:00+08:00",
         "--end", "2026-11-26T01:30+08:00", "--direction", "up", "--target-kw", "5", "--price", "0.4",
         "--wear", "0.3", "--out", str(out), *db],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "ok" in ok.output and out.exists()
    settle = runner.invoke(app, ["vpp", "settle", "--dispatch", str(out), "--previous-days", "30", *db])
    assert settle.exit_code == 1 and "needs 30 days" in settle.output
